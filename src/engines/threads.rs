//! Real threads sharing one memory. Natively these are `std::thread`s; in the browser each is a
//! Web Worker running the same wasm module on the same shared memory (`thread_worker.js`).
//! `std::sync` locks, condition variables, channels and `std::thread::sleep` work in both.
//!
//! Starting a Web Worker and instantiating the module costs tens of milliseconds, against tens
//! of microseconds for a native thread. So threads are pooled, on both platforms alike (as
//! Emscripten's pthread pool and any thread-pool runtime do): a thread whose work has ended
//! waits on a condition variable in shared memory for the next [`spawn`], and [`warm`] starts
//! idle threads ahead of time (the engine asks when the page shows a topic). The hand-over is
//! synchronous, in shared memory, so a spawn right after a join finds the joined threads idle.
//! A reused thread keeps its stack and thread-locals. [`spawn_new`] always starts a new one.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use futures::channel::oneshot;

use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// A thread's work: runs it and returns what hands its result to the joiner, which the thread
/// calls once it counts itself idle (so a spawn right after the join finds it waiting).
type Body = Box<dyn FnOnce() -> Deliver + Send + 'static>;
type Deliver = Box<dyn FnOnce() + Send + 'static>;

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
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    live().push(ThreadInfo { id, name: name.clone(), asked: crate::clock::now_ms(), begun: None });
    let body: Body = Box::new(move || {
        if let Some(me) = live().iter_mut().find(|t| t.id == id) {
            me.begun = Some(crate::clock::now_ms());
        }
        crate::thread_id::set(Some(id));
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|p| panic_message(&*p));
        crate::thread_id::set(None); // the thread waits for other work next
        live().retain(|t| t.id != id);
        Box::new(move || drop(send.send(outcome))) as Deliver
    });
    if !fresh {
        let mut idle = idle();
        // More threads waiting (or about to) than work already handed over: one will take this.
        if idle.waiting > idle.queue.len() {
            idle.queue.push_back(body);
            WORK.notify_one();
            return Ok(JoinHandle { name, result });
        }
    }
    if let Err(e) = imp::start_thread(&name, Entry { body, counted: false }) {
        live().retain(|t| t.id != id);
        return Err(RunError::Failed(e));
    }
    Ok(JoinHandle { name, result })
}

/// Work handed to [`spawn`] whose closure has not returned: for the stall watchdog.
#[derive(Clone, Debug)]
pub struct ThreadInfo {
    pub id: usize,
    pub name: String,
    /// When it was asked for, and when its closure began ([`crate::clock::now_ms`]).
    pub asked: f64,
    pub begun: Option<f64>,
}

static LIVE: Mutex<Vec<ThreadInfo>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

fn live() -> MutexGuard<'static, Vec<ThreadInfo>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The threads asked for whose closures have not returned, oldest first.
pub fn live_threads() -> Vec<ThreadInfo> {
    live().clone()
}

/// Makes sure `n` threads (at most [`MAX_IDLE`]) wait for work, starting the missing ones in the
/// background, so that the next `n` spawns find a thread ready; idle threads beyond `n` retire
/// after a while.
pub fn warm(n: usize) -> RunResult<()> {
    let n = n.min(MAX_IDLE);
    let mut state = idle();
    state.keep = n;
    let missing = n.saturating_sub(state.waiting - state.queue.len());
    // Counted as waiting from now on, so that spawns queue work for them while they load.
    state.waiting += missing;
    state.starting += missing;
    drop(state);
    for k in 0..missing {
        if let Err(e) = imp::start_thread(
            &format!("idle {}", k + 1),
            Entry { body: Box::new(|| Box::new(|| ()) as Deliver), counted: true },
        ) {
            let mut state = idle();
            state.waiting -= missing - k;
            state.starting -= missing - k;
            return Err(RunError::Failed(e));
        }
    }
    Ok(())
}

/// Idle threads kept at most; a thread finishing its work beyond that ends.
const MAX_IDLE: usize = 32;
/// How long an idle thread beyond the kept ones waits for work before it ends.
#[cfg_attr(all(target_arch = "wasm32", not(feature = "threads")), allow(dead_code))] // no threads in the plain build
const IDLE_FOR: Duration = Duration::from_secs(30);

/// Threads started by [`warm`] whose code does not run yet (a Web Worker still loading).
pub fn starting() -> usize {
    idle().starting
}

/// Threads waiting for work (or starting, counted ahead), and work handed over to them.
struct Idle {
    waiting: usize,
    starting: usize,
    keep: usize,
    queue: VecDeque<Body>,
}

static IDLE: Mutex<Idle> = Mutex::new(Idle { waiting: 0, starting: 0, keep: 0, queue: VecDeque::new() });
static WORK: Condvar = Condvar::new();

fn idle() -> MutexGuard<'static, Idle> {
    IDLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a new thread runs: its first work (nothing, for a thread started by [`warm`], which is
/// already `counted` as waiting), then the work handed to it while idle, until it retires.
#[cfg_attr(all(target_arch = "wasm32", not(feature = "threads")), allow(dead_code))] // no threads in the plain build
struct Entry {
    body: Body,
    counted: bool,
}

#[cfg_attr(all(target_arch = "wasm32", not(feature = "threads")), allow(dead_code))] // no threads in the plain build
fn thread_main(entry: Entry) {
    if entry.counted {
        idle().starting -= 1;
    }
    let deliver = (entry.body)();
    let mut state = idle();
    if !entry.counted {
        if state.waiting >= MAX_IDLE {
            drop(state);
            return deliver();
        }
        state.waiting += 1;
    }
    drop(state);
    deliver();
    state = idle();
    loop {
        if let Some(body) = state.queue.pop_front() {
            state.waiting -= 1;
            drop(state);
            let deliver = body();
            idle().waiting += 1; // idle before the joiner hears: its next spawn finds this thread
            deliver();
            state = idle();
            continue;
        }
        let (guard, wait) = WORK.wait_timeout(state, IDLE_FOR).unwrap_or_else(|e| e.into_inner());
        state = guard;
        if wait.timed_out() && state.queue.is_empty() && state.waiting > state.keep {
            state.waiting -= 1;
            return;
        }
    }
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
    pub fn start_thread(name: &str, entry: super::Entry) -> Result<(), String> {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || super::thread_main(entry))
            .map(drop)
            .map_err(|e| format!("could not start {name}: {e}"))
    }
}

#[cfg(all(target_arch = "wasm32", feature = "threads"))]
mod imp {
    /// Starts a Web Worker that instantiates this module on this memory and runs `entry`.
    pub fn start_thread(name: &str, entry: super::Entry) -> Result<(), String> {
        let entry = Box::into_raw(Box::new(entry)) as u32;
        crate::host::start_thread(entry, name).map_err(|e| {
            // The thread never started: take the entry back so it is dropped.
            drop(unsafe { Box::from_raw(entry as *mut super::Entry) });
            format!("could not start {name}: {e}")
        })
    }

    /// Runs an entry handed over by [`start_thread`]; called by `thread_worker.js` in the new
    /// thread, and returns when the thread retires.
    ///
    /// # Safety
    /// `entry` must come from `start_thread` and be used once.
    pub unsafe fn run_entry(entry: u32) {
        super::thread_main(*unsafe { Box::from_raw(entry as *mut super::Entry) });
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "threads")))]
mod imp {
    pub fn start_thread(name: &str, _entry: super::Entry) -> Result<(), String> {
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
    fn a_joined_thread_takes_the_next_spawn_and_warm_threads_are_ready() {
        let first = spawn("first", || std::thread::current().id()).unwrap();
        let id = futures::executor::block_on(first.join()).unwrap();
        // No pause: the thread counted itself idle before `join` heard (other tests share the
        // pool, so one of the next spawns, not surely the first, gets it).
        let ids: Vec<_> = (0..20)
            .map(|_| {
                futures::executor::block_on(spawn("again", || std::thread::current().id()).unwrap().join()).unwrap()
            })
            .collect();
        assert!(ids.contains(&id), "no spawn reused the finished thread");
        warm(3).unwrap();
        assert!(idle().waiting >= 3);
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let handle = spawn("boom", || -> u32 { panic!("bad input") }).unwrap();
        let err = futures::executor::block_on(handle.join()).unwrap_err();
        assert_eq!(err, RunError::Failed("boom panicked: bad input".into()));
    }
}
