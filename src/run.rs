//! The context every topic runs in: one clock, a trace, a log, progress, and Stop.
//!
//! A `Run` is cheap to clone and can be moved into threads. The page reads what it has
//! recorded so far with [`Run::drain`] while the run goes on.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::oneshot;
use futures::future::{FutureExt, Shared};

use crate::clock::now_ms;
use crate::mode::Mode;
use crate::report::*;

/// Why a run or a mode ended early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// The learner pressed Stop.
    Stopped,
    /// Something went wrong; the message says what.
    Failed(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Stopped => f.write_str("stopped"),
            RunError::Failed(message) => f.write_str(message),
        }
    }
}

impl From<String> for RunError {
    fn from(message: String) -> Self {
        RunError::Failed(message)
    }
}

impl From<&str> for RunError {
    fn from(message: &str) -> Self {
        RunError::Failed(message.to_string())
    }
}

pub type RunResult<T> = Result<T, RunError>;

/// What the host can do, decided once per engine.
#[derive(Clone, Copy, Debug)]
pub struct Capabilities {
    /// Shared-memory threads (the page is cross-origin isolated and the threaded build is loaded).
    pub threads: bool,
    /// Logical cores (`navigator.hardwareConcurrency`).
    pub cores: usize,
}

/// Progress of a long run, shown as a bar.
#[derive(Clone, Debug, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Progress {
    pub done: f64,
    pub total: f64,
    pub label: String,
}

/// What has been recorded since the previous drain.
#[derive(Debug, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Drained {
    pub log: Vec<LogLine>,
    pub spans: Vec<Span>,
    pub progress: Option<Progress>,
}

#[derive(Clone)]
pub struct Run(Arc<Inner>);

struct Inner {
    topic: String,
    modes: Vec<Mode>,
    caps: Capabilities,
    started_at: f64,
    cancelled: AtomicBool,
    cancel_tx: Mutex<Option<oneshot::Sender<()>>>,
    cancel_rx: Shared<oneshot::Receiver<()>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    mode: String,
    log: Vec<LogLine>,
    spans: Vec<Span>,
    log_drained: usize,
    spans_drained: usize,
    progress: Option<Progress>,
    rows: Vec<ModeRow>,
    checks: Vec<Check>,
    values: serde_json::Map<String, serde_json::Value>,
    series: Vec<Series>,
    tables: Vec<Table>,
    files: Vec<FileOut>,
    images: Vec<ImageOut>,
    links: Vec<Link>,
    steppers: Vec<Stepper>,
    /// While set, spans are not recorded (see [`Run::set_tracing`]).
    muted: bool,
    /// Waits going on now (see [`Run::waiting`]), for the stall watchdog.
    waits: Vec<OpenWait>,
    next_wait: u64,
    /// Why the watchdog ended the run (see [`Run::abort`]).
    aborted: Option<String>,
}

/// A wait in progress: who waits for what, since when (run time).
#[derive(Clone, Debug)]
pub struct OpenWait {
    pub(crate) id: u64,
    /// The waiting thread (`engines::threads`), when it is one of them.
    pub thread: Option<usize>,
    pub lane: String,
    pub label: String,
    pub since: f64,
}

/// Marks a wait as going on until dropped (see [`Run::waiting`]).
pub struct Waiting {
    run: Run,
    id: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.run.state().waits.retain(|w| w.id != self.id);
    }
}

impl Run {
    /// A run of topic `topic`, which can measure `modes` (the topic's, from the catalog).
    pub fn new(topic: &str, modes: &[Mode], caps: Capabilities) -> Run {
        let (tx, rx) = oneshot::channel();
        Run(Arc::new(Inner {
            topic: topic.to_string(),
            modes: modes.to_vec(),
            caps,
            started_at: now_ms(),
            cancelled: AtomicBool::new(false),
            cancel_tx: Mutex::new(Some(tx)),
            cancel_rx: rx.shared(),
            state: Mutex::new(State::default()),
        }))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock aborts the run anyway; keep reading what is there.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn caps(&self) -> Capabilities {
        self.0.caps
    }

    /// Milliseconds since the run started.
    pub fn now(&self) -> f64 {
        now_ms() - self.0.started_at
    }

    /// Converts an absolute clock reading (from [`now_ms`], e.g. taken in a worker) to run time.
    pub fn since_start(&self, absolute_ms: f64) -> f64 {
        absolute_ms - self.0.started_at
    }

    // ----- Stop -----

    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        if let Some(tx) = self.0.cancel_tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
    }

    /// Whether Stop was pressed. Work that runs long without yielding calls it between slices,
    /// so in the browser it also tells the page the engine is busy, not blocked (`host::beat`).
    pub fn is_cancelled(&self) -> bool {
        #[cfg(target_arch = "wasm32")]
        crate::host::beat();
        self.0.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Stopped)` once Stop was pressed: call it between slices of work.
    pub fn check(&self) -> RunResult<()> {
        if self.is_cancelled() {
            Err(RunError::Stopped)
        } else {
            Ok(())
        }
    }

    /// Resolves when Stop is pressed.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        self.0.cancel_rx.clone().map(|_| ())
    }

    // ----- recording -----

    pub fn log(&self, lane: impl Into<String>, text: impl Into<String>) {
        let t = self.now();
        self.state().log.push(LogLine { t, lane: lane.into(), text: text.into() });
    }

    /// Records a span; `start` and `end` are run times ([`Run::now`]).
    pub fn span(&self, lane: impl Into<String>, label: impl Into<String>, kind: SpanKind, start: f64, end: f64) {
        let mut state = self.state();
        if state.muted {
            return;
        }
        let mode = state.mode.clone();
        state.spans.push(Span { mode, lane: lane.into(), label: label.into(), kind, start, end });
    }

    /// Runs `work` and records it as a span (a `Wait` span is also an open wait while it lasts).
    pub fn timed<T>(&self, lane: &str, label: &str, kind: SpanKind, work: impl FnOnce() -> T) -> T {
        let start = self.now();
        let waiting = (kind == SpanKind::Wait).then(|| self.waiting(lane, label));
        let out = work();
        drop(waiting);
        self.span(lane, label, kind, start, self.now());
        out
    }

    /// Awaits `work` and records it as a span.
    pub async fn timed_async<T>(&self, lane: &str, label: &str, kind: SpanKind, work: impl Future<Output = T>) -> T {
        let start = self.now();
        let out = work.await;
        self.span(lane, label, kind, start, self.now());
        out
    }

    /// Says that this thread waits for `label` (a lock, a queue, a signal) until the guard is
    /// dropped: if the run then stops making progress, the watchdog names what waited on what.
    pub fn waiting(&self, lane: &str, label: &str) -> Waiting {
        let thread = crate::thread_id::current();
        let since = self.now();
        let mut state = self.state();
        state.next_wait += 1;
        let id = state.next_wait;
        state.waits.push(OpenWait { id, thread, lane: lane.into(), label: label.into(), since });
        Waiting { run: self.clone(), id }
    }

    /// The waits going on now.
    pub fn open_waits(&self) -> Vec<OpenWait> {
        self.state().waits.clone()
    }

    /// Changes whenever the run records something the page would show (log, span, progress,
    /// chart point, check): the watchdog's measure of progress.
    pub fn activity(&self) -> u64 {
        let state = self.state();
        let points: usize = state.series.iter().map(|s| s.points.len()).sum();
        let progress = state.progress.as_ref().map_or(0, |p| p.done.to_bits());
        [state.log.len(), state.spans.len(), points, state.checks.len(), state.rows.len()]
            .iter()
            .fold(progress, |acc, n| acc.wrapping_mul(1_000_003).wrapping_add(*n as u64))
    }

    /// Ends the run as Stop would, but as failed with `reason` (the watchdog's message).
    pub fn abort(&self, reason: String) {
        self.state().aborted.get_or_insert(reason);
        self.cancel();
    }

    /// Turns span recording off (and on again): for repeated measurements, such as a sweep after
    /// the modes, whose spans would otherwise be drawn inside the last mode's timeline.
    pub fn set_tracing(&self, on: bool) {
        self.state().muted = !on;
    }

    pub fn progress(&self, done: f64, total: f64, label: impl Into<String>) {
        self.state().progress = Some(Progress { done, total, label: label.into() });
    }

    /// A property the run verified about itself.
    pub fn verify(&self, ok: bool, text: impl Into<String>) {
        self.state().checks.push(Check { ok, text: text.into() });
    }

    /// A named result value, for tests and for pages that embed the topic.
    pub fn value(&self, key: &str, value: impl serde::Serialize) {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.state().values.insert(key.to_string(), value);
    }

    /// Adds a point to a named series (created on first use).
    pub fn sample(&self, chart: &str, name: &str, axes: (&str, &str), point: (f64, f64)) {
        let mut state = self.state();
        match state.series.iter_mut().find(|s| s.chart == chart && s.name == name) {
            Some(series) => series.points.push(point),
            None => state.series.push(Series {
                chart: chart.into(),
                name: name.into(),
                x: axes.0.into(),
                y: axes.1.into(),
                points: vec![point],
            }),
        }
    }

    pub fn table(&self, title: &str, columns: &[&str], rows: Vec<Vec<String>>) {
        let columns = columns.iter().map(|c| c.to_string()).collect();
        self.state().tables.push(Table { title: title.into(), columns, rows });
    }

    pub fn file(&self, name: &str, mime: &str, text: String) {
        self.state().files.push(FileOut { name: name.into(), mime: mime.into(), text });
    }

    pub fn image(&self, label: String, width: u32, height: u32, rgba: Vec<u8>) {
        self.state().images.push(ImageOut { label, width, height, rgba });
    }

    /// Links to another topic (by id), with a sentence saying what it shows.
    pub fn link(&self, topic: &str, text: impl Into<String>) {
        self.state().links.push(Link { topic: topic.into(), text: text.into() });
    }

    /// A recorded interleaving for the stepper; its steps are also added to `values.interleaving`
    /// (with their mode), for pages that embed the topic.
    pub fn stepper(&self, stepper: Stepper) {
        let mut state = self.state();
        let steps = state.values.entry("interleaving").or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = steps {
            list.extend(stepper.interleaving());
        }
        state.steppers.push(stepper);
    }

    /// Sets the text shown as a mode's result in the timing table.
    pub fn result(&self, mode: &str, text: impl Into<String>) {
        if let Some(row) = self.state().rows.iter_mut().find(|r| r.id == mode) {
            row.result = Some(text.into());
        }
    }

    /// Adds a note to a mode's row.
    pub fn note(&self, mode: &str, text: impl Into<String>) {
        if let Some(row) = self.state().rows.iter_mut().find(|r| r.id == mode) {
            row.note = Some(text.into());
        }
    }

    // ----- modes -----

    /// The wall time of a mode that finished (after [`Run::measure`]).
    pub fn wall_ms(&self, mode: &str) -> Option<f64> {
        self.state().rows.iter().find(|r| r.id == mode && r.status == ModeStatus::Ok).and_then(|r| r.wall_ms)
    }

    /// True when `mode` can run here (threads need a cross-origin isolated page).
    pub fn can_run(&self, mode: &str) -> bool {
        self.mode_info(mode).is_some_and(|m| !m.model.needs_shared_memory() || self.0.caps.threads)
    }

    fn mode_info(&self, mode: &str) -> Option<&Mode> {
        self.0.modes.iter().find(|m| m.id == mode)
    }

    /// Runs one mode of the topic and times it. Returns `Ok(None)` when the mode cannot run
    /// here or failed (its row says why); Stop ends the whole run.
    pub async fn measure<T>(&self, mode: &str, work: impl Future<Output = RunResult<T>>) -> RunResult<Option<T>> {
        let info = self.mode_info(mode).unwrap_or_else(|| panic!("topic {} has no mode {mode}", self.0.topic)).clone();
        let mut row = ModeRow {
            id: info.id.to_string(),
            label: info.label.to_string(),
            status: ModeStatus::Ok,
            wall_ms: None,
            speedup: None,
            result: None,
            note: None,
            lanes: 0,
        };
        if !self.can_run(mode) {
            row.status = ModeStatus::Unavailable;
            row.note = Some(
                "needs shared-memory threads: this page is not cross-origin isolated (open it in a full page), or \
                 this browser cannot share wasm memory with workers."
                    .into(),
            );
            self.state().rows.push(row);
            return Ok(None);
        }
        self.check()?;
        {
            let mut state = self.state();
            state.mode = info.id.to_string();
            state.rows.push(row);
        }
        self.log("main", format!("— {} —", info.label));
        let start = self.now();
        let outcome = work.await;
        let wall = self.now() - start;
        let mut state = self.state();
        let row = state.rows.iter_mut().rev().find(|r| r.id == mode).expect("row pushed above");
        row.wall_ms = Some(wall);
        match outcome {
            Ok(value) => Ok(Some(value)),
            Err(RunError::Stopped) => {
                row.status = ModeStatus::Stopped;
                Err(RunError::Stopped)
            }
            Err(RunError::Failed(message)) => {
                row.status = ModeStatus::Failed;
                row.note = Some(message.clone());
                drop(state);
                self.log("main", format!("{}: {message}", info.label));
                Ok(None)
            }
        }
    }

    // ----- reading -----

    /// What was recorded since the previous drain (the page polls this while a run goes on).
    pub fn drain(&self) -> Drained {
        let mut state = self.state();
        let log = state.log[state.log_drained..].to_vec();
        let spans = state.spans[state.spans_drained..].to_vec();
        state.log_drained = state.log.len();
        state.spans_drained = state.spans.len();
        Drained { log, spans, progress: state.progress.clone() }
    }

    /// Ends the run and assembles its report.
    pub fn finish(&self, params: serde_json::Value, outcome: RunResult<()>) -> Report {
        let wall_ms = self.now();
        let mut state = self.state();
        let state = &mut *state;
        for row in &mut state.rows {
            let mut lanes: Vec<&str> =
                state.spans.iter().filter(|s| s.mode == row.id).map(|s| s.lane.as_str()).collect();
            lanes.sort_unstable();
            lanes.dedup();
            row.lanes = lanes.len();
        }
        let timed = |row: &ModeRow| row.status == ModeStatus::Ok && self.mode_info(&row.id).is_some_and(Mode::compared);
        let baseline = state.rows.iter().find(|r| timed(r)).map(|r| (r.id.clone(), r.wall_ms));
        if let Some((_, Some(base))) = &baseline {
            for row in state.rows.iter_mut().filter(|r| timed(r)) {
                row.speedup = row.wall_ms.filter(|w| *w > 0.0).map(|w| base / w);
            }
        }
        let (status, error) = match (outcome, state.aborted.take()) {
            (Ok(()), _) => (RunStatus::Ok, None),
            (Err(RunError::Stopped), Some(reason)) => (RunStatus::Failed, Some(reason)),
            (Err(RunError::Stopped), None) => (RunStatus::Stopped, Some("stopped".to_string())),
            (Err(RunError::Failed(m)), _) => (RunStatus::Failed, Some(m)),
        };
        Report {
            topic: self.0.topic.clone(),
            params,
            status,
            error,
            wall_ms,
            started_at: self.0.started_at,
            baseline: baseline.map(|b| b.0),
            modes: std::mem::take(&mut state.rows),
            checks: std::mem::take(&mut state.checks),
            values: std::mem::take(&mut state.values),
            log: std::mem::take(&mut state.log),
            spans: std::mem::take(&mut state.spans),
            series: std::mem::take(&mut state.series),
            tables: std::mem::take(&mut state.tables),
            files: std::mem::take(&mut state.files),
            images: std::mem::take(&mut state.images),
            links: std::mem::take(&mut state.links),
            steppers: std::mem::take(&mut state.steppers),
            predictions: Vec::new(),
        }
    }
}
