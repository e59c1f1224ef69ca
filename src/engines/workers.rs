//! Isolated workers: this playground's processes. Each has its own memory (in the browser, a Web
//! Worker with its own wasm instance) and runs jobs sent by message: a job's input and output are
//! serde types that cross as compact bytes (postcard), copied like a pickle. Natively each worker
//! is a thread that shares nothing with the caller but messages.
//!
//! Like a long-lived `ProcessPoolExecutor`, the workers outlive a run: [`Pool::start`] takes
//! warm ones (module instantiated, hot code already run once) and starts more only when needed;
//! [`Pool::start_cold`] always starts new ones, for topics whose lesson is the start-up cost.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures::future::{select, Either};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// A function an isolated worker can run, found by `name` in the worker's own instance. Topics
/// declare theirs as statics and register them with the catalog.
pub struct Job<I, O> {
    pub name: &'static str,
    pub run: fn(I) -> Result<O, String>,
    /// A small input that exercises the job's hot code: every worker runs each job once on it
    /// when it starts, because browsers compile a wasm function's optimized code only after some
    /// calls (and use it from the next call on), so a first timed job would otherwise run slow.
    pub warm_up: fn() -> I,
}

/// A [`Job`] with its types erased: bytes in, bytes out (what crosses between instances).
pub trait AnyJob: Sync {
    fn name(&self) -> &'static str;
    /// Decodes the input, runs the job, encodes its `Result` (a bad input is an `Err` too).
    fn call(&self, input: &[u8]) -> Vec<u8>;
    fn warm_up(&self);
}

impl<I: Serialize + DeserializeOwned, O: Serialize + DeserializeOwned> AnyJob for Job<I, O> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn call(&self, input: &[u8]) -> Vec<u8> {
        let output = match postcard::take_from_bytes::<I>(input) {
            Ok((input, [])) => (self.run)(input),
            Ok(_) => Err(format!("{}: unreadable input: bytes left over", self.name)),
            Err(e) => Err(format!("{}: unreadable input: {e}", self.name)),
        };
        encode(&output)
    }

    fn warm_up(&self) {
        let _ = (self.run)((self.warm_up)());
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("serde types of jobs encode")
}

/// Runs job `name` from `jobs` on `input`, as an isolated worker does with each message.
pub fn run_named_job(jobs: &[&dyn AnyJob], name: &str, input: &[u8]) -> Vec<u8> {
    match jobs.iter().find(|job| job.name() == name) {
        Some(job) => job.call(input),
        None => encode(&Err::<(), String>(format!("no job named {}", crate::params::shorten(name)))),
    }
}

/// What one job did, as measured by the worker that ran it.
#[derive(Clone, Debug)]
pub struct JobDone<O> {
    /// The job's output, or its error (or the worker's crash) as a message.
    pub output: Result<O, String>,
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

/// A job's answer as it crosses back: encoded output (or the worker's crash) and timings.
struct RawDone {
    output: Result<Vec<u8>, String>,
    sent: f64,
    paused: f64,
    start: f64,
    end: f64,
    received: f64,
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

/// Isolated workers lent to one run, given back (or, if busy, replaced) when dropped.
pub struct Pool {
    handle: imp::Handle,
    size: usize,
    traffic: Mutex<Traffic>,
}

/// Starts `n` workers in the background (if fewer are warm), so that a later [`Pool::start`]
/// finds them ready: what the page asks for when it shows a topic.
pub fn warm(n: usize) {
    imp::warm(n);
}

impl Pool {
    /// Takes `size` warm workers (starting any that are missing, drawn with their start-up span).
    pub async fn start(run: &Run, size: usize) -> RunResult<Pool> {
        Pool::open(run, size, false).await
    }

    /// Starts `size` new workers, each drawn on its own lane with its start-up span: for
    /// measuring what starting a worker costs.
    pub async fn start_cold(run: &Run, size: usize) -> RunResult<Pool> {
        Pool::open(run, size, true).await
    }

    async fn open(run: &Run, size: usize, cold: bool) -> RunResult<Pool> {
        run.check()?;
        let (handle, spawned) = imp::start(size, cold).await.map_err(RunError::Failed)?;
        for (i, started) in spawned.into_iter().enumerate() {
            if let Some((start, end)) = started {
                run.span(Pool::lane(i), "start worker", SpanKind::Spawn, run.since_start(start), run.since_start(end));
            }
        }
        Ok(Pool { handle, size, traffic: Mutex::new(Traffic::default()) })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Terminates worker `worker` at once, like killing a process mid-task: a job it was running
    /// answers with an error (its output is lost), and the next job sent to `worker` starts a new
    /// worker in its place. In the browser the Web Worker is terminated; natively (threads cannot
    /// be killed) the thread is abandoned: its answer is dropped and a new thread takes its place.
    pub fn kill(&self, run: &Run, worker: usize) {
        let at = run.now();
        imp::kill(&self.handle, worker);
        run.span(Pool::lane(worker), "killed", SpanKind::Spawn, at, run.now().max(at + 1.0));
        run.log(Pool::lane(worker), "terminated");
    }

    pub fn lane(worker: usize) -> String {
        format!("worker {}", worker + 1)
    }

    pub fn traffic(&self) -> Traffic {
        *self.traffic.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `job` on worker `worker` and records its copy and compute spans labelled `label`.
    pub async fn run_job<I, O>(
        &self,
        run: &Run,
        worker: usize,
        job: &'static Job<I, O>,
        input: &I,
        label: &str,
    ) -> RunResult<JobDone<O>>
    where
        I: Serialize + DeserializeOwned + 'static,
        O: Serialize + DeserializeOwned + 'static,
    {
        self.run_job_after(run, worker, 0.0, job, input, label).await
    }

    /// Like [`Pool::run_job`], but the worker first sleeps `pause_ms` (like `time.sleep` in a
    /// process: it waits on a timer and leaves its core free), drawn as a sleeping span.
    pub async fn run_job_after<I, O>(
        &self,
        run: &Run,
        worker: usize,
        pause_ms: f64,
        job: &'static Job<I, O>,
        input: &I,
        label: &str,
    ) -> RunResult<JobDone<O>>
    where
        I: Serialize + DeserializeOwned + 'static,
        O: Serialize + DeserializeOwned + 'static,
    {
        let input = encode(input);
        let bytes_in = input.len();
        let work = imp::run_job(&self.handle, worker, job as &'static dyn AnyJob, input, pause_ms.max(0.0));
        let raw = match select(Box::pin(work), Box::pin(run.stopped())).await {
            Either::Left((done, _)) => done.map_err(RunError::Failed)?,
            Either::Right(_) => return Err(RunError::Stopped),
        };
        let lane = Pool::lane(worker);
        let span =
            |what: String, kind, from, to| run.span(&lane, what, kind, run.since_start(from), run.since_start(to));
        span(format!("{label} (message in)"), SpanKind::Copy, raw.sent, raw.paused);
        if raw.start > raw.paused {
            span(format!("{label} (sleep)"), SpanKind::Io, raw.paused, raw.start);
        }
        span(label.to_string(), SpanKind::Run, raw.start, raw.end);
        span(format!("{label} (message out)"), SpanKind::Copy, raw.end, raw.received);
        let bytes_out = raw.output.as_ref().map_or(0, Vec::len);
        let mut traffic = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        traffic.messages += 2;
        traffic.bytes += bytes_in + bytes_out;
        traffic.copy_ms += (raw.paused - raw.sent) + (raw.received - raw.end);
        traffic.compute_ms += raw.end - raw.start;
        traffic.sleep_ms += raw.start - raw.paused;
        drop(traffic);
        let output = raw.output.and_then(|bytes| {
            postcard::from_bytes::<Result<O, String>>(&bytes)
                .map_err(|e| format!("{}: unreadable answer: {e}", job.name))?
        });
        let RawDone { sent, paused, start, end, received, .. } = raw;
        Ok(JobDone { output, sent, paused, start, end, received, bytes_in, bytes_out })
    }

    /// Maps `job` over `inputs` through one shared queue: every idle worker takes the next input,
    /// like `Pool.map` in Python. Results come back in input order.
    pub async fn map<I, O>(
        &self,
        run: &Run,
        job: &'static Job<I, O>,
        inputs: Vec<I>,
        label: impl Fn(usize) -> String,
    ) -> RunResult<Vec<Result<O, String>>>
    where
        I: Serialize + DeserializeOwned + 'static,
        O: Serialize + DeserializeOwned + 'static,
    {
        self.map_queued(run, job, inputs.into_iter().enumerate().collect(), label).await
    }

    /// [`map`](Self::map) with the largest inputs (by `cost`) queued first, so the small ones fill
    /// the gaps at the end: in input order a big input taken last keeps one worker busy alone while
    /// the others idle (the longest-processing-time-first rule). Results still come back in input order.
    pub async fn map_largest_first<I, O>(
        &self,
        run: &Run,
        job: &'static Job<I, O>,
        inputs: Vec<I>,
        cost: impl Fn(&I) -> u64,
        label: impl Fn(usize) -> String,
    ) -> RunResult<Vec<Result<O, String>>>
    where
        I: Serialize + DeserializeOwned + 'static,
        O: Serialize + DeserializeOwned + 'static,
    {
        let mut queue: VecDeque<(usize, I)> = inputs.into_iter().enumerate().collect();
        queue.make_contiguous().sort_by_key(|(_, input)| std::cmp::Reverse(cost(input)));
        self.map_queued(run, job, queue, label).await
    }

    /// Runs the queued (input index, input) pairs: every idle worker takes the front one.
    async fn map_queued<I, O>(
        &self,
        run: &Run,
        job: &'static Job<I, O>,
        queue: VecDeque<(usize, I)>,
        label: impl Fn(usize) -> String,
    ) -> RunResult<Vec<Result<O, String>>>
    where
        I: Serialize + DeserializeOwned + 'static,
        O: Serialize + DeserializeOwned + 'static,
    {
        let count = queue.len();
        let queue = Mutex::new(queue);
        let results: Mutex<Vec<Option<Result<O, String>>>> = Mutex::new((0..count).map(|_| None).collect());
        let worker_loop = |worker: usize| {
            let (queue, results, label) = (&queue, &results, &label);
            async move {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some((index, input)) = next else { return Ok::<(), RunError>(()) };
                    let done = self.run_job(run, worker, job, &input, &label(index)).await?;
                    let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
                    results[index] = Some(done.output);
                    let finished = results.iter().flatten().count();
                    drop(results);
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
    1 + (crate::host::random() * 4_194_303.0) as u32
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
    use std::sync::{mpsc, Mutex};

    use futures::channel::oneshot;

    use super::{AnyJob, RawDone};
    use crate::clock::now_ms;

    /// (job, input, pause in ms, when it was sent, where to answer)
    type Request = (&'static dyn AnyJob, Vec<u8>, f64, f64, oneshot::Sender<RawDone>);

    /// Per worker: where to send jobs, and how to tell the jobs waiting on it that it was killed.
    pub struct Handle(Vec<Mutex<Slot>>);

    pub struct Slot {
        send: mpsc::Sender<Request>,
        killed: Vec<oneshot::Sender<()>>,
    }

    /// Native threads start in microseconds: nothing to keep warm.
    pub fn warm(_n: usize) {}

    fn start_one(i: usize) -> Result<mpsc::Sender<Request>, String> {
        let (send, receive) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name(format!("worker {}", i + 1))
            .spawn(move || {
                for (job, input, pause_ms, sent, reply) in receive {
                    let paused = now_ms();
                    std::thread::sleep(std::time::Duration::from_secs_f64(pause_ms / 1000.0));
                    let start = now_ms();
                    let output = Ok(job.call(&input));
                    let end = now_ms();
                    let _ = reply.send(RawDone { output, sent, paused, start, end, received: 0.0 });
                }
            })
            .map_err(|e| format!("could not start worker: {e}"))?;
        Ok(send)
    }

    pub async fn start(size: usize, _cold: bool) -> Result<(Handle, Vec<Option<(f64, f64)>>), String> {
        let mut slots = Vec::new();
        let mut spawned = Vec::new();
        for i in 0..size {
            let start = now_ms();
            slots.push(Mutex::new(Slot { send: start_one(i)?, killed: Vec::new() }));
            spawned.push(Some((start, now_ms())));
        }
        Ok((Handle(slots), spawned))
    }

    fn slot(handle: &Handle, worker: usize) -> std::sync::MutexGuard<'_, Slot> {
        handle.0[worker].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn kill(handle: &Handle, worker: usize) {
        let mut slot = slot(handle, worker);
        // Waiting jobs hear it at once; the old thread's answer will find no one listening.
        slot.killed.clear();
        if let Ok(send) = start_one(worker) {
            slot.send = send;
        }
    }

    pub async fn run_job(
        handle: &Handle,
        worker: usize,
        job: &'static dyn AnyJob,
        input: Vec<u8>,
        pause_ms: f64,
    ) -> Result<RawDone, String> {
        let (reply, answer) = oneshot::channel();
        let (killed, kill) = oneshot::channel();
        let sent = now_ms();
        {
            let mut slot = slot(handle, worker);
            slot.killed.retain(|k| !k.is_canceled());
            slot.killed.push(killed);
            slot.send.send((job, input, pause_ms, sent, reply)).map_err(|_| "worker is gone".to_string())?;
        }
        match futures::future::select(answer, kill).await {
            futures::future::Either::Left((answer, _)) => {
                let mut done = answer.map_err(|_| format!("worker {} crashed", worker + 1))?;
                done.received = now_ms();
                Ok(done)
            }
            futures::future::Either::Right(_) => {
                let at = now_ms();
                let output = Err("crashed: terminated".to_string());
                Ok(RawDone { output, sent, paused: sent, start: sent, end: at, received: at })
            }
        }
    }

    pub fn stop(_handle: &Handle) {
        // Dropping the senders ends each worker's loop.
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use serde::Deserialize;

    use super::{AnyJob, RawDone};
    use crate::host;

    pub struct Handle(u32);

    #[derive(Deserialize)]
    struct Started {
        id: u32,
        spawned: Vec<Option<(f64, f64)>>,
    }

    pub fn warm(n: usize) {
        host::pool_warm(n as u32);
    }

    pub async fn start(size: usize, cold: bool) -> Result<(Handle, Vec<Option<(f64, f64)>>), String> {
        let text = host::pool_start(size as u32, cold).await?;
        let started: Started = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        Ok((Handle(started.id), started.spawned))
    }

    pub async fn run_job(
        handle: &Handle,
        worker: usize,
        job: &'static dyn AnyJob,
        input: Vec<u8>,
        pause_ms: f64,
    ) -> Result<RawDone, String> {
        let host::JobAnswer { output, sent, paused, start, end, received } =
            host::pool_run(handle.0, worker as u32, job.name(), input, pause_ms).await?;
        Ok(RawDone { output, sent, paused, start, end, received })
    }

    pub fn stop(handle: &Handle) {
        host::pool_stop(handle.0);
    }

    pub fn kill(handle: &Handle, worker: usize) {
        host::pool_kill(handle.0, worker as u32);
    }
}
