//! compare: one parametric workload (N tasks, each X ms of CPU and Y ms of waiting) in every model.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "compare",
        title: "One workload, every model",
        chapter: Chapter::Patterns,
        summary: "N tasks, each X ms of CPU and Y ms of waiting, run sequentially, on threads, on threads under a GIL, on isolated workers, on async tasks, and on async tasks with a worker pool; a sweep plots who wins as the mix moves from waiting to CPU.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("tasks", "Tasks (N)", 8, 1, 64),
            Param::int("cpu_ms", "CPU per task (X ms)", 20, 0, 500).help("Calibrated arithmetic: about X ms on one core."),
            Param::int("wait_ms", "Waiting per task (Y ms)", 60, 0, 2000).help("A sleep, as a request or a disk would take."),
            Param::int("pool", "Threads / workers", 4, 1, 16).help("Size of the thread pool and of the worker pools."),
            Param::int("sweep", "Sweep points", 0, 0, 9)
                .help("Rerun every model with the same X + Y split from all waiting to all CPU, in this many steps (0: off)."),
        ],
        presets: vec![
            Preset { id: "io", label: "Mostly waiting (5 ms CPU, 100 ms wait)", values: json!({"cpu_ms": 5, "wait_ms": 100}) },
            Preset { id: "cpu", label: "Mostly CPU (80 ms CPU, 5 ms wait)", values: json!({"cpu_ms": 80, "wait_ms": 5}) },
            Preset { id: "sweep", label: "Sweep the mix (5 points)", values: json!({"tasks": 8, "cpu_ms": 15, "wait_ms": 15, "sweep": 5}) },
        ],
        modes: MODES.iter().map(|&(id, label, model)| Mode::new(id, label, model)).collect(),
        code: crate::topic_code!("compare/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_compare(run, params.read())),
        needs: |p| {
            let p: CompareParams = p.read();
            let n = p.pool.min(p.tasks);
            Needs { threads: n, workers: n }
        },
        reads: reads::<CompareParams>,
    }
}

/// The models compared, as `(id, label, model)`; decide measures with the same ids, so the
/// figures read the same.
pub const MODES: [(&str, &str, Model); 6] = [
    ("sequential", "Sequential", Model::Sequential),
    ("threads", "Threads", Model::Threads),
    ("gil", "Threads under a GIL", Model::Threads),
    ("workers", "Isolated workers (processes)", Model::Workers),
    ("async", "Async tasks", Model::Async),
    ("async-pool", "Async + worker pool", Model::Workers),
];

fn check(p: &CompareParams) -> Result<(), FieldError> {
    let sequential_s = p.tasks as f64 * (p.cpu_ms + p.wait_ms) / 1000.0;
    let runs = 1.0 + 3.0 * p.sweep as f64;
    if sequential_s * runs > 60.0 {
        return Err(FieldError::new(
            "tasks",
            format!(
                "Sequentially this is {sequential_s:.1} s a run; with the sweep keep N x (X + Y) x (1 + 3 x points) under 60 s"
            ),
        ));
    }
    Ok(())
}

/// Predict, then run: which model wins for the chosen mix of CPU and waiting.
pub fn prompts() -> Vec<crate::predict::Prompt> {
    vec![crate::predict::Prompt::fastest("winner", "Which model will finish first with this mix of CPU and waiting?", &topic().modes)]
}

// CODE START
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use serde::Deserialize;

use crate::engines::gil::Gil;
use crate::engines::tasks::{self, Pacer};
use crate::engines::threads;
use crate::engines::workers::{Job, Pool};
use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};
use crate::topics::kernels::sum_squares;

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareParams {
    tasks: usize,
    cpu_ms: f64,
    wait_ms: f64,
    pool: usize,
    sweep: usize,
}

/// The workload: `tasks` tasks, each waiting `wait_ms` and then summing squares of `numbers`
/// numbers (about `cpu_ms` on one core here).
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    pub tasks: usize,
    pub numbers: u64,
    pub wait_ms: f64,
    pub pool: usize,
}

/// Numbers summed between two looks at the GIL and the Stop button.
const SLICE: u64 = 1 << 16;

/// How many numbers one core sums per millisecond here: the best of a few timed tries. Each try
/// sums until at least `TRY_MS` have passed on the clock, because a page that is not
/// cross-origin isolated reads a coarse clock (Firefox: 1 ms steps): a try shorter than a step
/// read as 0 ms, and a rate of a billion numbers per ms made every task run for minutes.
pub fn calibrate(run: &Run) -> f64 {
    const TRY_MS: f64 = 25.0;
    let chunk = 1u64 << 18;
    let best = (0..3)
        .map(|_| {
            let (start, mut numbers) = (run.now(), 0u64);
            while run.now() - start < TRY_MS {
                std::hint::black_box((0..chunk).step_by(SLICE as usize).map(|a| compute_slice(a, a + SLICE)).sum::<u128>());
                numbers += chunk;
            }
            numbers as f64 / (run.now() - start)
        })
        .fold(0.0, f64::max);
    best.max(1.0)
}

/// One slice of a task's CPU part. Never inlined: browsers optimize a wasm function only from
/// its next call on, so a loop inlined into a rarely re-entered caller (an async task's poll)
/// would run unoptimized, about 2x slower.
#[inline(never)]
fn compute_slice(lo: u64, hi: u64) -> u128 {
    sum_squares(lo, hi)
}

/// One task's CPU part, in slices; `between` runs after each slice (false stops early).
fn compute(numbers: u64, mut between: impl FnMut() -> bool) -> u128 {
    let mut sum = 0;
    for a in (0..numbers).step_by(SLICE as usize) {
        sum += compute_slice(a, (a + SLICE).min(numbers));
        if !between() {
            break;
        }
    }
    sum
}

/// Runs the workload in one model; returns the sum of every task's result (the same in all).
pub async fn run_model(run: &Run, mode: &str, w: Workload) -> RunResult<u128> {
    match mode {
        "sequential" => sequential(run, w).await,
        "threads" => on_threads(run, w, Gil::new(false, 0.0)).await,
        "gil" => on_threads(run, w, Gil::new(true, 5.0)).await,
        "workers" => on_workers(run, w).await,
        "async" => on_async(run, w).await,
        "async-pool" => async_with_pool(run, w).await,
        _ => Err(RunError::Failed(format!("no model {mode}"))),
    }
}

/// One lane: wait, compute, next task.
async fn sequential(run: &Run, w: Workload) -> RunResult<u128> {
    let mut total = 0;
    let mut pacer = Pacer::new(run);
    for k in 0..w.tasks {
        run.timed_async("main", &format!("task {} waits", k + 1), SpanKind::Io, tasks::sleep(run, w.wait_ms)).await?;
        let start = run.now();
        let mut sum = 0;
        for a in (0..w.numbers).step_by(SLICE as usize) {
            sum += compute_slice(a, (a + SLICE).min(w.numbers));
            pacer.tick(run).await?;
        }
        run.span("main", format!("task {} computes", k + 1), SpanKind::Run, start, run.now());
        total += sum;
    }
    Ok(total)
}

/// A pool of threads taking tasks from one queue; each blocks in its sleep, then computes
/// (holding `gil` while computing, when it is on: a sleeping thread does not hold it).
async fn on_threads(run: &Run, w: Workload, gil: Gil) -> RunResult<u128> {
    let gil = Arc::new(gil);
    let queue = Arc::new(Mutex::new((0..w.tasks).collect::<VecDeque<_>>()));
    let mut handles = Vec::new();
    for t in 0..w.pool.min(w.tasks) {
        let (run, queue, gil) = (run.clone(), queue.clone(), gil.clone());
        let lane = format!("thread {}", t + 1);
        handles.push(threads::spawn(lane.clone(), move || -> RunResult<u128> {
            let mut total = 0;
            loop {
                let Some(k) = queue.lock().unwrap().pop_front() else { return Ok(total) };
                run.timed(&lane, &format!("task {} waits", k + 1), SpanKind::Io, || threads::sleep(&run, w.wait_ms))?;
                let mut sum = 0;
                let mut next = 0;
                gil.run_slices(&run, t, &lane, &format!("task {} computes", k + 1), || {
                    sum += compute_slice(next, (next + SLICE).min(w.numbers));
                    next += SLICE;
                    next < w.numbers
                })?;
                total += sum;
            }
        })?);
    }
    let mut total = 0;
    for sum in threads::join_all(handles).await? {
        total += sum?;
    }
    if gil.enabled() {
        run.note("gil", format!("the GIL changed hands {} times", gil.switches()));
    }
    Ok(total)
}

/// What an isolated worker runs for a task (after sleeping the task's wait): its CPU part.
pub static WORK: Job<u64, u128> =
    Job { name: "compare/work", run: |numbers| Ok(compute(numbers, || true)), warm_up: || 1 << 18 };

/// A pool of isolated workers taking tasks from one queue: each sleeps, then computes.
async fn on_workers(run: &Run, w: Workload) -> RunResult<u128> {
    let pool = Pool::start(run, w.pool.min(w.tasks)).await?;
    let queue = std::cell::RefCell::new((0..w.tasks).collect::<VecDeque<_>>());
    let worker_loop = |worker: usize| {
        let (pool, queue) = (&pool, &queue);
        async move {
            let mut total = 0;
            loop {
                let next = queue.borrow_mut().pop_front();
                let Some(k) = next else { return Ok::<u128, RunError>(total) };
                let label = format!("task {}", k + 1);
                total += pool.run_job_after(run, worker, w.wait_ms, &WORK, &w.numbers, &label).await?.output?;
            }
        }
    };
    let sums = futures::future::try_join_all((0..pool.size()).map(worker_loop)).await?;
    Ok(sums.into_iter().sum())
}

/// N tasks on one event loop: their waits overlap, their CPU parts block the loop in turn.
async fn on_async(run: &Run, w: Workload) -> RunResult<u128> {
    let task = |k: usize| async move {
        let lane = format!("task {}", k + 1);
        run.timed_async(&lane, "await sleep", SpanKind::Io, tasks::sleep(run, w.wait_ms)).await?;
        // No await inside: while this computes, nothing else on the loop runs.
        let sum = run.timed(&lane, "compute (blocks the loop)", SpanKind::Run, || compute(w.numbers, || !run.is_cancelled()));
        run.check()?;
        Ok::<u128, RunError>(sum)
    };
    Ok(futures::future::try_join_all((0..w.tasks).map(task)).await?.into_iter().sum())
}

/// N tasks on the loop for the waits; their CPU parts go to a pool of isolated workers
/// (`await loop.run_in_executor(pool, ...)`), one task per free worker.
async fn async_with_pool(run: &Run, w: Workload) -> RunResult<u128> {
    let pool = Pool::start(run, w.pool.min(w.tasks)).await?;
    let (free_tx, free_rx) = futures::channel::mpsc::unbounded::<usize>();
    (0..pool.size()).for_each(|worker| free_tx.unbounded_send(worker).expect("the receiver is here"));
    let free = futures::lock::Mutex::new(free_rx);
    let task = |k: usize| {
        let (pool, free, free_tx) = (&pool, &free, &free_tx);
        async move {
            let lane = format!("task {}", k + 1);
            run.timed_async(&lane, "await sleep", SpanKind::Io, tasks::sleep(run, w.wait_ms)).await?;
            let asked = run.now();
            let worker = free.lock().await.next().await.ok_or("the pool closed")?;
            let label = format!("task {}", k + 1);
            let done = pool.run_job(run, worker, &WORK, &w.numbers, &label).await;
            let _ = free_tx.unbounded_send(worker);
            run.span(&lane, "await run_in_executor", SpanKind::Wait, asked, run.now());
            Ok::<u128, RunError>(done?.output?)
        }
    };
    Ok(futures::future::try_join_all((0..w.tasks).map(task)).await?.into_iter().sum())
}

async fn run_compare(run: Run, p: CompareParams) -> RunResult<()> {
    let rate = calibrate(&run);
    let cpu_ms = p.cpu_ms;
    let w = Workload {
        tasks: p.tasks,
        numbers: (cpu_ms * rate) as u64,
        wait_ms: p.wait_ms,
        pool: p.pool,
    };
    run.log("main", format!("calibrated: {:.0} numbers per ms, so {} numbers per task", rate, w.numbers));
    let expected = sum_squares(0, w.numbers) * w.tasks as u128;
    let mut ran = Vec::new();
    for (mode, _, _) in MODES {
        if let Some(total) = run.measure(mode, run_model(&run, mode, w)).await? {
            run.result(mode, format!("{} tasks", w.tasks));
            ran.push((mode, total));
        }
    }
    run.verify(
        ran.iter().all(|(_, total)| *total == expected),
        format!("{} models computed exactly the same results for all {} tasks", ran.len(), w.tasks),
    );
    let sequential_ideal = w.tasks as f64 * (cpu_ms + w.wait_ms);
    if let Some(wall) = run.wall_ms("sequential") {
        run.verify(
            wall >= w.tasks as f64 * w.wait_ms * 0.95,
            format!("sequential took {wall:.0} ms, at least the {} waits added up (ideal {sequential_ideal:.0} ms)", w.tasks),
        );
    }
    if let Some(wall) = run.wall_ms("async") {
        run.verify(wall >= w.wait_ms * 0.95, format!("async took {wall:.0} ms, at least one wait ({:.0} ms)", w.wait_ms));
    }
    run.value("numbers_per_task", w.numbers);
    run.value("ran", ran.iter().map(|(m, _)| *m).collect::<Vec<_>>());

    if p.sweep > 0 {
        sweep(&run, w, rate, cpu_ms + w.wait_ms, p.sweep).await?;
    }
    Ok(())
}

/// Keeps X + Y = `budget` and moves the CPU share from 0 to 100%, timing every model that can
/// run here; plots each one's speedup over sequential.
async fn sweep(run: &Run, w: Workload, rate: f64, budget: f64, points: usize) -> RunResult<()> {
    run.set_tracing(false);
    let modes: Vec<&str> = MODES.iter().map(|m| m.0).filter(|m| run.can_run(m)).collect();
    let mut rows = Vec::new();
    for i in 0..points {
        let share = if points == 1 { 0.5 } else { i as f64 / (points - 1) as f64 };
        let point = Workload { numbers: (share * budget * rate) as u64, wait_ms: (1.0 - share) * budget, ..w };
        run.progress(i as f64, points as f64, format!("sweep: {:.0}% CPU", share * 100.0));
        let mut walls = Vec::new();
        for mode in &modes {
            let start = run.now();
            run_model(run, mode, point).await?;
            walls.push(run.now() - start);
        }
        let mut row = vec![format!("{:.0}%", share * 100.0)];
        for (mode, wall) in modes.iter().zip(&walls) {
            let label = MODES.iter().find(|m| m.0 == *mode).map_or(*mode, |m| m.1);
            run.sample("sweep", label, ("CPU share of each task (%)", "speedup over sequential"), (share * 100.0, walls[0] / wall));
            row.push(format!("{:.2}x", walls[0] / wall));
        }
        rows.push(row);
    }
    run.set_tracing(true);
    let mut columns = vec!["CPU share"];
    columns.extend(modes.iter().map(|m| MODES.iter().find(|x| x.0 == *m).map_or(*m, |x| x.1)));
    let title = format!("Sweep: speedup over sequential ({} tasks of {budget:.0} ms, {} cores)", w.tasks, run.caps().cores);
    run.table(&title, &columns, rows);
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            for model in ["sequential", "threads (GIL)", "processes", "async + process pool", "async"] {
                at_least(model, out.lines().filter(|l| l.trim_start().starts_with(&format!("{model}: "))).count(), 1)?;
            }
            Ok(())
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{RunStatus, SpanKind};
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    #[test]
    fn every_model_runs_the_same_work() {
        let report = run_native("compare", json!({"tasks": 6, "cpu_ms": 5, "wait_ms": 30, "pool": 3}), true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.modes.len(), 6);
        assert!(report.modes.iter().all(|m| m.wall_ms.is_some()));
        // Every async task is its own lane; the pool modes use 3 workers.
        let lanes = |id: &str| report.modes.iter().find(|m| m.id == id).unwrap().lanes;
        assert_eq!(lanes("async"), 6);
        assert_eq!(lanes("threads"), 3);
        assert!(report.spans.iter().any(|s| s.mode == "async-pool" && s.label == "await run_in_executor"));
        assert!(report.spans.iter().any(|s| s.mode == "gil" && s.kind == SpanKind::Run));
    }

    #[test]
    fn without_threads_the_thread_modes_say_so_and_the_rest_run() {
        let report = run_native("compare", json!({"tasks": 3, "cpu_ms": 2, "wait_ms": 10, "sweep": 2}), false);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let status = |id: &str| report.modes.iter().find(|m| m.id == id).unwrap().status;
        assert_eq!(status("threads"), crate::report::ModeStatus::Unavailable);
        assert_eq!(status("async-pool"), crate::report::ModeStatus::Ok);
        // The sweep plots the four models that can run, at two points each, and draws no spans.
        assert_eq!(report.series.len(), 4);
        assert!(report.series.iter().all(|s| s.points.len() == 2));
        assert_eq!(report.tables[0].rows.len(), 2);
        let last_mode_spans = report.spans.iter().filter(|s| s.mode == "async-pool").count();
        // About 20 spans for the mode itself; three times as many if the sweep were traced too.
        assert!(last_mode_spans < 40, "{last_mode_spans}");
    }

    #[test]
    fn too_long_is_refused() {
        let errors = rejected_native("compare", json!({"tasks": 64, "wait_ms": 2000}));
        assert_eq!(errors[0].field, "tasks");
    }
}
