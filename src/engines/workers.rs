//! Isolated workers: this playground's processes. Each has its own memory (in the browser, a Web
//! Worker with its own wasm instance) and runs named jobs: JSON goes in and out by message, copied
//! like a pickle. Natively each worker is a thread that shares nothing with the caller but messages.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures::future::{select, Either};
use serde::Deserialize;

use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// What one job did, as measured by the worker that ran it.
#[derive(Clone, Debug, Deserialize)]
pub struct JobDone {
    /// The job's JSON output, or its error message.
    pub output: Result<String, String>,
    /// Absolute clock times (ms since the Unix epoch) when the message was sent, when the worker
    /// had it (and began its pause, if any), when it started the job, when it ended, and when
    /// the answer was back.
    pub sent: f64,
    pub paused: f64,
    pub start: f64,
    pub end: f64,
    pub received: f64,
    pub bytes_in: usize,
    pub bytes_out: usize,
}

/// Bytes and time spent moving messages, for the "what crossed" line of pool topics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Traffic {
    pub messages: usize,
    pub bytes: usize,
    pub copy_ms: f64,
    pub compute_ms: f64,
    /// Time workers spent in the pauses asked with [`Pool::run_job_after`].
    pub sleep_ms: f64,
}

/// A pool of isolated workers, started for one run and stopped when dropped.
pub struct Pool {
    handle: imp::Handle,
    size: usize,
    traffic: Mutex<Traffic>,
}

impl Pool {
    /// Starts `size` workers, each drawn on its own lane with its start-up span.
    pub async fn start(run: &Run, size: usize) -> RunResult<Pool> {
        run.check()?;
        let (handle, spawned) = imp::start(size).await.map_err(RunError::Failed)?;
        for (i, (start, end)) in spawned.into_iter().enumerate() {
            run.span(Pool::lane(i), "start worker", SpanKind::Spawn, run.since_start(start), run.since_start(end));
        }
        Ok(Pool { handle, size, traffic: Mutex::new(Traffic::default()) })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn lane(worker: usize) -> String {
        format!("worker {}", worker + 1)
    }

    pub fn traffic(&self) -> Traffic {
        *self.traffic.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `job` on worker `worker` and records its copy and compute spans labelled `label`.
    pub async fn run_job(&self, run: &Run, worker: usize, job: &str, input: String, label: &str) -> RunResult<JobDone> {
        self.run_job_after(run, worker, 0.0, job, input, label).await
    }

    /// Like [`Pool::run_job`], but the worker first sleeps `pause_ms` (like `time.sleep` in a
    /// process: it waits on a timer and leaves its core free), drawn as a sleeping span.
    pub async fn run_job_after(
        &self,
        run: &Run,
        worker: usize,
        pause_ms: f64,
        job: &str,
        input: String,
        label: &str,
    ) -> RunResult<JobDone> {
        let work = imp::run_job(&self.handle, worker, job, input, pause_ms.max(0.0));
        let done = match select(Box::pin(work), Box::pin(run.stopped())).await {
            Either::Left((done, _)) => done.map_err(RunError::Failed)?,
            Either::Right(_) => return Err(RunError::Stopped),
        };
        let lane = Pool::lane(worker);
        let span =
            |what: String, kind, from, to| run.span(&lane, what, kind, run.since_start(from), run.since_start(to));
        span(format!("{label} (message in)"), SpanKind::Copy, done.sent, done.paused);
        if done.start > done.paused {
            span(format!("{label} (sleep)"), SpanKind::Io, done.paused, done.start);
        }
        span(label.to_string(), SpanKind::Run, done.start, done.end);
        span(format!("{label} (message out)"), SpanKind::Copy, done.end, done.received);
        let mut traffic = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        traffic.messages += 2;
        traffic.bytes += done.bytes_in + done.bytes_out;
        traffic.copy_ms += (done.paused - done.sent) + (done.received - done.end);
        traffic.compute_ms += done.end - done.start;
        traffic.sleep_ms += done.start - done.paused;
        Ok(done)
    }

    /// Maps `job` over `inputs` through one shared queue: every idle worker takes the next input,
    /// like `Pool.map` in Python. Results come back in input order.
    pub async fn map(
        &self,
        run: &Run,
        job: &str,
        inputs: Vec<String>,
        label: impl Fn(usize) -> String,
    ) -> RunResult<Vec<Result<String, String>>> {
        let count = inputs.len();
        let queue = Mutex::new(inputs.into_iter().enumerate().collect::<VecDeque<_>>());
        let results = Mutex::new(vec![None; count]);
        let worker_loop = |worker: usize| {
            let (queue, results, label) = (&queue, &results, &label);
            async move {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some((index, input)) = next else { return Ok::<(), RunError>(()) };
                    let done = self.run_job(run, worker, job, input, &label(index)).await?;
                    results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(done.output);
                    let finished = results.lock().unwrap_or_else(|e| e.into_inner()).iter().flatten().count();
                    run.progress(finished as f64, count as f64, "jobs done");
                }
            }
        };
        let loops = (0..self.size.min(count.max(1))).map(worker_loop);
        for outcome in futures::future::join_all(loops).await {
            outcome?;
        }
        Ok(results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|r| r.expect("every input ran"))
            .collect())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        imp::stop(&self.handle);
    }
}

/// Runs a named job from the topic registry: what an isolated worker does with each message.
pub fn run_named_job(job: &str, input: &str) -> Result<String, String> {
    match crate::topics::job(job) {
        Some(function) => function(input),
        None => Err(format!("no job named {job}")),
    }
}

/// Who is running this job: a number that stays the same for one isolated worker (one wasm
/// instance in the browser, one worker thread natively) and differs between workers, like a pid.
pub fn instance_id() -> u32 {
    use std::cell::OnceCell;
    thread_local! {
        static ID: OnceCell<u32> = const { OnceCell::new() };
    }
    ID.with(|id| *id.get_or_init(new_instance_id))
}

#[cfg(not(target_arch = "wasm32"))]
fn new_instance_id() -> u32 {
    // Native workers are threads of one process: number them in the order they first ask.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1001);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[cfg(target_arch = "wasm32")]
fn new_instance_id() -> u32 {
    // Every wasm instance has its own statics, so a counter would say 1 everywhere: draw a number
    // below Linux's largest process id (2^22), so that two instances practically never match.
    1 + (js_sys::Math::random() * 4_194_303.0) as u32
}

/// The size of this instance's wasm linear memory in bytes (64 KiB pages); `None` natively.
pub fn instance_memory_bytes() -> Option<u64> {
    #[cfg(target_arch = "wasm32")]
    {
        Some(core::arch::wasm32::memory_size(0) as u64 * 65_536)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        None
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::sync::mpsc;

    use futures::channel::oneshot;

    use super::JobDone;
    use crate::clock::now_ms;

    /// (job, input, pause in ms, when it was sent, where to answer)
    type Request = (String, String, f64, f64, oneshot::Sender<JobDone>);

    pub struct Handle(Vec<mpsc::Sender<Request>>);

    pub async fn start(size: usize) -> Result<(Handle, Vec<(f64, f64)>), String> {
        let mut senders = Vec::new();
        let mut spawned = Vec::new();
        for i in 0..size {
            let start = now_ms();
            let (send, receive) = mpsc::channel::<Request>();
            std::thread::Builder::new()
                .name(format!("worker {}", i + 1))
                .spawn(move || {
                    for (job, input, pause_ms, sent, reply) in receive {
                        let paused = now_ms();
                        std::thread::sleep(std::time::Duration::from_secs_f64(pause_ms / 1000.0));
                        let start = now_ms();
                        let output = super::run_named_job(&job, &input);
                        let end = now_ms();
                        let bytes_out = output.as_ref().map_or_else(String::len, String::len);
                        let bytes_in = input.len();
                        let done = JobDone { output, sent, paused, start, end, received: 0.0, bytes_in, bytes_out };
                        let _ = reply.send(done);
                    }
                })
                .map_err(|e| format!("could not start worker: {e}"))?;
            senders.push(send);
            spawned.push((start, now_ms()));
        }
        Ok((Handle(senders), spawned))
    }

    pub async fn run_job(
        handle: &Handle,
        worker: usize,
        job: &str,
        input: String,
        pause_ms: f64,
    ) -> Result<JobDone, String> {
        let (reply, answer) = oneshot::channel();
        let request = (job.to_string(), input, pause_ms, now_ms(), reply);
        handle.0[worker].send(request).map_err(|_| "worker is gone".to_string())?;
        let mut done = answer.await.map_err(|_| format!("worker {} crashed", worker + 1))?;
        done.received = now_ms();
        Ok(done)
    }

    pub fn stop(_handle: &Handle) {
        // Dropping the senders ends each worker's loop.
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use serde::Deserialize;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    use super::JobDone;

    // Implemented by the engine worker (www/engine/isolated-pool.js), which owns the Web Workers.
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = playgroundHost, js_name = poolStart)]
        fn pool_start(size: u32) -> js_sys::Promise;
        #[wasm_bindgen(js_namespace = playgroundHost, js_name = poolRun)]
        fn pool_run(pool: u32, worker: u32, job: &str, input: String, pause_ms: f64) -> js_sys::Promise;
        #[wasm_bindgen(js_namespace = playgroundHost, js_name = poolStop)]
        fn pool_stop(pool: u32);
    }

    pub struct Handle(u32);

    #[derive(Deserialize)]
    struct Started {
        id: u32,
        spawned: Vec<(f64, f64)>,
    }

    async fn call(promise: js_sys::Promise) -> Result<String, String> {
        let value = JsFuture::from(promise).await.map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))?;
        value.as_string().ok_or_else(|| "the worker host answered with no text".to_string())
    }

    pub async fn start(size: usize) -> Result<(Handle, Vec<(f64, f64)>), String> {
        let text = call(pool_start(size as u32)).await?;
        let started: Started = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        Ok((Handle(started.id), started.spawned))
    }

    pub async fn run_job(
        handle: &Handle,
        worker: usize,
        job: &str,
        input: String,
        pause_ms: f64,
    ) -> Result<JobDone, String> {
        let text = call(pool_run(handle.0, worker as u32, job, input, pause_ms)).await?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }

    pub fn stop(handle: &Handle) {
        pool_stop(handle.0);
    }
}
