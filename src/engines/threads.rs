//! Real threads sharing one memory. Natively these are `std::thread`s; in the browser each is a
//! Web Worker running the same wasm module on the same shared memory (`thread_worker.js`).
//! `std::sync` locks, condition variables, channels and `std::thread::sleep` work in both.

use std::panic::AssertUnwindSafe;

use futures::channel::oneshot;

use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

type Body = Box<dyn FnOnce() + Send + 'static>;

/// A thread to wait for. `join` is async, so the engine's event loop stays free while it waits.
pub struct JoinHandle<T> {
    name: String,
    result: oneshot::Receiver<Result<T, String>>,
}

impl<T> JoinHandle<T> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits for the thread to finish; a panic in the thread becomes an error naming it.
    pub async fn join(self) -> RunResult<T> {
        match self.result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(RunError::Failed(format!("{} panicked: {panic}", self.name))),
            Err(_) => Err(RunError::Failed(format!("{} ended without a result", self.name))),
        }
    }
}

/// Starts a real thread running `work`. In the browser it may run on a thread whose earlier work
/// has finished (see thread_worker.js): starting a Web Worker is slow, reusing one is not.
pub fn spawn<T, F>(name: impl Into<String>, work: F) -> RunResult<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    start(name.into(), work, false)
}

/// Like [`spawn`], but never reuses a finished thread: in the browser always a new Web Worker.
/// For measuring what a new thread costs.
pub fn spawn_new<T, F>(name: impl Into<String>, work: F) -> RunResult<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    start(name.into(), work, true)
}

fn start<T, F>(name: String, work: F, fresh: bool) -> RunResult<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (send, result) = oneshot::channel();
    let body: Body = Box::new(move || {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|p| panic_message(&*p));
        let _ = send.send(outcome);
    });
    imp::spawn(&name, body, fresh).map_err(RunError::Failed)?;
    Ok(JoinHandle { name, result })
}

/// Makes sure `n` idle threads wait for work, so that the next `n` spawns find a thread ready (in
/// the browser: Web Workers already running the module, started in the background), as a
/// runtime's pool of threads would. Natively threads start in microseconds: nothing to do.
pub fn warm(n: usize) -> RunResult<()> {
    imp::warm(n).map_err(RunError::Failed)
}

/// Like [`spawn`], and draws the thread's start-up (from this call until its code runs) as a
/// `Spawn` span on `lane`: in the browser a new thread is a new Web Worker, which takes a while.
pub fn spawn_traced<T, F>(run: &Run, lane: impl Into<String>, work: F) -> RunResult<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let lane = lane.into();
    let (run, asked, span_lane) = (run.clone(), run.now(), lane.clone());
    spawn(lane, move || {
        run.span(span_lane, "start thread", SpanKind::Spawn, asked, run.now());
        work()
    })
}

/// Waits for every handle, in order; the first error wins (the others still finish).
pub async fn join_all<T>(handles: Vec<JoinHandle<T>>) -> RunResult<Vec<T>> {
    let results = futures::future::join_all(handles.into_iter().map(JoinHandle::join)).await;
    results.into_iter().collect()
}

/// Blocks this thread for `ms` milliseconds, waking early (with `Stopped`) when Stop is pressed.
pub fn sleep(run: &Run, ms: f64) -> RunResult<()> {
    const SLICE_MS: f64 = 10.0;
    let end = run.now() + ms;
    loop {
        run.check()?;
        let left = end - run.now();
        if left <= 0.0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs_f64(left.min(SLICE_MS) / 1000.0));
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub fn warm(_n: usize) -> Result<(), String> {
        Ok(())
    }

    /// Native threads are cheap to start: always a new one.
    pub fn spawn(name: &str, body: super::Body, _fresh: bool) -> Result<(), String> {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(body)
            .map(drop)
            .map_err(|e| format!("could not start {name}: {e}"))
    }
}

#[cfg(all(target_arch = "wasm32", feature = "threads"))]
mod imp {
    use js_sys::JsString;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/engines/thread_worker.js")]
    extern "C" {
        #[wasm_bindgen(js_name = spawnThread, catch)]
        fn spawn_thread(
            module: JsValue,
            memory: JsValue,
            main_js: JsString,
            entry: u32,
            name: &str,
            fresh: bool,
        ) -> Result<(), JsValue>;
        #[wasm_bindgen(js_name = warmThreads, catch)]
        fn warm_threads(module: JsValue, memory: JsValue, main_js: JsString, n: u32) -> Result<(), JsValue>;
    }

    #[wasm_bindgen]
    extern "C" {
        // The URL of wasm-bindgen's JS glue, which a new thread imports (as wasm-bindgen-rayon does).
        #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
        static GLUE_URL: JsString;
    }

    pub fn warm(n: usize) -> Result<(), String> {
        let glue = GLUE_URL.with(Clone::clone);
        warm_threads(wasm_bindgen::module(), wasm_bindgen::memory(), glue, n as u32)
            .map_err(|e| format!("could not start idle threads: {e:?}"))
    }

    pub fn spawn(name: &str, body: super::Body, fresh: bool) -> Result<(), String> {
        let entry = Box::into_raw(Box::new(body)) as u32;
        let glue = GLUE_URL.with(Clone::clone);
        spawn_thread(wasm_bindgen::module(), wasm_bindgen::memory(), glue, entry, name, fresh).map_err(|e| {
            // The thread never started: take the closure back so it is dropped.
            drop(unsafe { Box::from_raw(entry as *mut super::Body) });
            format!("could not start {name}: {e:?}")
        })
    }

    /// Runs a closure handed over by [`spawn`]; called by `thread_worker.js` in the new thread.
    ///
    /// # Safety
    /// `entry` must come from `spawn` and be used once.
    pub unsafe fn run_entry(entry: u32) {
        let body = unsafe { Box::from_raw(entry as *mut super::Body) };
        body();
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "threads")))]
mod imp {
    pub fn warm(_n: usize) -> Result<(), String> {
        Ok(())
    }

    pub fn spawn(name: &str, _body: super::Body, _fresh: bool) -> Result<(), String> {
        Err(format!("cannot start {name}: this build has no shared-memory threads"))
    }
}

#[cfg(all(target_arch = "wasm32", feature = "threads"))]
pub use imp::run_entry;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn threads_overlap_and_return_values() {
        let barrier = Arc::new(Barrier::new(3));
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let barrier = barrier.clone();
                // Each waits at the barrier: this only finishes if all three run at once.
                spawn(format!("t{i}"), move || {
                    barrier.wait();
                    i * 10
                })
                .unwrap()
            })
            .collect();
        let values = futures::executor::block_on(join_all(handles)).unwrap();
        assert_eq!(values, vec![0, 10, 20]);
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let handle = spawn("boom", || -> u32 { panic!("bad input") }).unwrap();
        let err = futures::executor::block_on(handle.join()).unwrap_err();
        assert_eq!(err, RunError::Failed("boom panicked: bad input".into()));
    }
}
