//! cpu-map: CPU-bound tasks, one after another vs on a pool of threads, rayon and isolated workers.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

const MAX_NUMBERS: i64 = 2_000_000_000;

pub fn topic() -> Topic {
    Topic {
        id: "cpu-map",
        title: "CPU-bound work on a pool",
        chapter: Chapter::Foundations,
        summary: "Sum i*i over shares of the numbers: one core vs a pool of threads, rayon and isolated workers.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("tasks", "Tasks", 4, 1, 64).per_core(2).help("How many tasks share the numbers: two per core, so the pool has a queue (the Python original used 3)."),
            // Two tasks a core: the numbers per task shrink as the cores grow, so the run's total
            // (1.6 billion) stays within the limit below on any machine.
            Param::int("numbers", "Numbers per task", 400_000_000, 1, 2_000_000_000)
                .split_over_cores(800_000_000)
                .help("Each task sums i*i over this many numbers, dealt out: with 4 tasks, the first takes 0, 4, 8, ... (original: 100,000,000 consecutive ones)."),
            Param::int("workers", "Workers (W)", 2, 1, 64).per_core(1).help("Threads in the pool, and isolated workers."),
            Param::int("sweep", "Sweep up to", 0, 0, 16).help("Rerun the pool with 1..N workers and plot the speedup (0: off)."),
        ],
        presets: vec![
            Preset { id: "original", label: "Python original (3 x 100M)", values: json!({"tasks": 3, "numbers": 100_000_000}) },
            Preset { id: "sweep", label: "Sweep 1..4 workers", values: json!({"tasks": 8, "numbers": 10_000_000, "sweep": 4}) },
        ],
        modes: vec![
            Mode::new("sequential", "Sequential (one core)", Model::Sequential),
            Mode::new("threads", "Thread pool (W threads)", Model::Threads),
            Mode::new("rayon", "rayon (work stealing)", Model::Threads),
            Mode::new("workers", "Isolated workers (W)", Model::Workers),
        ],
        code: crate::topic_code!("cpu_map/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_cpu_map(run, params.read())),
        needs: |p| {
            let p: CpuMapParams = p.read();
            Needs { threads: p.workers.max(p.sweep) + 1, workers: p.workers.min(p.tasks as usize) }
        },
        reads: reads::<CpuMapParams>,
    }
}

fn check(p: &CpuMapParams) -> Result<(), FieldError> {
    let total = (p.tasks * p.numbers) as i64;
    if total > MAX_NUMBERS {
        return Err(FieldError::new(
            "numbers",
            format!(
                "Tasks x numbers is {}; keep it at most {} so a run stays short",
                crate::params::group(total),
                crate::params::group(MAX_NUMBERS)
            ),
        ));
    }
    Ok(())
}

/// Predict, then run: how much faster the pool is than one core.
pub fn prompts() -> Vec<crate::predict::Prompt> {
    use crate::predict::{ms, ran, Measured, Prompt, Tolerance};
    vec![Prompt::number(
        "pool-speedup",
        "How many times faster than sequential will the pool of W workers be?",
        "x",
        (0.0, 64.0, 0.1),
        Tolerance { relative: 0.2, absolute: 0.25 },
        |report| {
            let base = ran(report, &["sequential"]).ok_or("the sequential run did not finish")?;
            let pool = ran(report, &["threads", "workers"]).ok_or("neither the thread pool nor the isolated workers ran here")?;
            let (one, many) = (base.wall_ms.unwrap_or(0.0), pool.wall_ms.unwrap_or(f64::INFINITY));
            let speedup = (one / many * 100.0).round() / 100.0;
            let CpuMapParams { workers, tasks, .. } = crate::predict::params(report)?;
            Ok(Measured::number(
                speedup,
                format!("{speedup:.2}x"),
                format!(
                    "Sequential took {}, {} {}: {speedup:.2}x; {workers} workers on {tasks} tasks could reach at most {}x, and only as many as the free cores.",
                    ms(one),
                    pool.label,
                    ms(many),
                    workers.min(tasks as usize)
                ),
            ))
        },
    )]
}

// CODE START
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde::Deserialize;

use crate::engines::tasks::Pacer;
use crate::engines::threads;
use crate::engines::workers::{Job, Pool};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};
use crate::topics::kernels::{deal, slices, sum_squares_every, sum_squares_every_formula, Share};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CpuMapParams {
    tasks: u64,
    numbers: u64,
    workers: usize,
    sweep: usize,
}

/// Numbers summed between two looks at the Stop button (and progress reports).
const SLICE: u64 = 1 << 20;

async fn run_cpu_map(run: Run, p: CpuMapParams) -> RunResult<()> {
    let (tasks, n, w) = (p.tasks, p.numbers, p.workers);
    // The numbers 0..tasks*n dealt out like cards: task k sums k, k + tasks, k + 2*tasks, ...
    // Every task gets as many big numbers as small ones, so every task costs the same (big
    // numbers cost more: see the explanation) and a pool of W ends with every worker busy.
    let work = deal(tasks * n, tasks);
    let expected: Vec<u128> = work.iter().copied().map(sum_squares_every_formula).collect();
    let progress = Progress::new(&run, tasks * n);
    let mut answers = Vec::new();

    if let Some(sums) = run.measure("sequential", sequential(&run, &work, &progress)).await? {
        answers.push(("sequential", sums));
    }
    if let Some(sums) = run.measure("threads", thread_pool(&run, &work, w, &progress.restart(), true)).await? {
        answers.push(("threads", sums));
    }
    if let Some(sums) = run.measure("rayon", with_rayon(&run, &work, &progress.restart())).await? {
        answers.push(("rayon", sums));
    }
    if let Some(sums) = run.measure("workers", isolated_workers(&run, &work, w)).await? {
        answers.push(("workers", sums));
    }

    for (mode, sums) in &answers {
        run.result(mode, format!("total {}", sums.iter().sum::<u128>()));
    }
    run.verify(
        answers.iter().all(|(_, sums)| *sums == expected),
        format!("{} modes give exactly the same sums, equal to the formula (n-1)n(2n-1)/6", answers.len()),
    );
    run.value("sums", expected.iter().map(u128::to_string).collect::<Vec<_>>());
    run.value("total", expected.iter().sum::<u128>().to_string());

    if p.sweep > 0 {
        sweep(&run, &work, p.sweep).await?;
    }
    Ok(())
}

/// One task after another on this lane; pauses now and then so Stop and progress get through.
async fn sequential(run: &Run, work: &[Share], progress: &Progress) -> RunResult<Vec<u128>> {
    let mut pacer = Pacer::new(run);
    let mut sums = Vec::new();
    for (k, &task) in work.iter().enumerate() {
        let start = run.now();
        let mut sum = 0;
        for slice in slices(task, SLICE) {
            sum += sum_squares_every(slice);
            progress.add(slice.1);
            pacer.tick(run).await?;
        }
        run.span("main", format!("task {}", k + 1), SpanKind::Run, start, run.now());
        sums.push(sum);
    }
    Ok(sums)
}

/// W threads take tasks from one shared queue until it is empty (like ThreadPoolExecutor.map).
async fn thread_pool(run: &Run, work: &[Share], w: usize, progress: &Progress, trace: bool) -> RunResult<Vec<u128>> {
    let queue = Arc::new(Mutex::new(work.iter().copied().enumerate().collect::<VecDeque<_>>()));
    let sums = Arc::new(Mutex::new(vec![0u128; work.len()]));
    let mut handles = Vec::new();
    for t in 0..w {
        let (run, queue, sums, progress) = (run.clone(), queue.clone(), sums.clone(), progress.clone());
        handles.push(threads::spawn(format!("thread {}", t + 1), move || -> RunResult<()> {
            loop {
                let Some((k, task)) = queue.lock().unwrap().pop_front() else { return Ok(()) };
                let start = run.now();
                let mut sum = 0;
                for slice in slices(task, SLICE) {
                    run.check()?;
                    sum += sum_squares_every(slice);
                    progress.add(slice.1);
                }
                sums.lock().unwrap()[k] = sum;
                if trace {
                    run.span(format!("thread {}", t + 1), format!("task {}", k + 1), SpanKind::Run, start, run.now());
                }
            }
        })?);
    }
    for outcome in threads::join_all(handles).await? {
        outcome?;
    }
    let sums = sums.lock().unwrap().clone();
    Ok(sums)
}

/// rayon's global pool splits every task into pieces and steals work between its threads.
/// The pool blocks the thread that calls it, so we call it from a thread of our own.
async fn with_rayon(run: &Run, work: &[Share], progress: &Progress) -> RunResult<Vec<u128>> {
    let pieces: Vec<(usize, Share)> = work
        .iter()
        .enumerate()
        .flat_map(|(k, &task)| slices(task, task.1.div_ceil(8)).map(move |piece| (k, piece)))
        .collect();
    let (run2, progress, count) = (run.clone(), progress.clone(), work.len());
    let caller = threads::spawn("rayon caller", move || -> RunResult<Vec<u128>> {
        let partial: Vec<(usize, u128)> = pieces
            .par_iter()
            .map(|&(k, task)| {
                let start = run2.now();
                let mut sum = 0;
                for slice in slices(task, SLICE) {
                    run2.check()?;
                    sum += sum_squares_every(slice);
                    progress.add(slice.1);
                }
                let lane = format!("rayon {}", rayon::current_thread_index().unwrap_or(0) + 1);
                run2.span(lane, format!("task {}", k + 1), SpanKind::Run, start, run2.now());
                Ok((k, sum))
            })
            .collect::<RunResult<_>>()?;
        let mut sums = vec![0u128; count];
        for (k, sum) in partial {
            sums[k] += sum;
        }
        Ok(sums)
    })?;
    caller.join().await?
}

/// W isolated workers: each range is sent as a message, each sum comes back as one.
async fn isolated_workers(run: &Run, work: &[Share], w: usize) -> RunResult<Vec<u128>> {
    let pool = Pool::start(run, w.min(work.len())).await?;
    let outputs = pool.map(run, &SUM, work.to_vec(), |k| format!("task {}", k + 1)).await?;
    let traffic = pool.traffic();
    run.note(
        "workers",
        format!("{} messages, {} bytes copied in {:.2} ms", traffic.messages, traffic.bytes, traffic.copy_ms),
    );
    outputs.into_iter().map(|out| Ok(out?)).collect()
}

/// What an isolated worker runs for each message: a task in, its sum out.
pub static SUM: Job<Share, u128> =
    Job { name: "cpu-map/sum", run: |task| Ok(sum_squares_every(task)), warm_up: || (0, 1 << 20, 4) };

/// Reruns the thread pool (or the workers, without threads) with 1..=max workers.
async fn sweep(run: &Run, work: &[Share], max: usize) -> RunResult<()> {
    let use_threads = run.can_run("threads");
    let mut times = Vec::new();
    for w in 1..=max {
        run.progress(w as f64 - 1.0, max as f64, format!("sweep: {w} workers"));
        let start = run.now();
        if use_threads {
            thread_pool(run, work, w, &Progress::silent(), false).await?;
        } else {
            let pool = Pool::start(run, w).await?;
            pool.map(run, &SUM, work.to_vec(), |k| format!("sweep task {}", k + 1)).await?;
        }
        times.push(run.now() - start);
    }
    let kind = if use_threads { "threads" } else { "isolated workers" };
    let speedups: Vec<(f64, f64)> = times.iter().enumerate().map(|(i, t)| ((i + 1) as f64, times[0] / t)).collect();
    let cores = run.caps().cores.max(1);
    let p = amdahl_fit(&speedups[..cores.min(speedups.len())]);
    for &(w, s) in &speedups {
        run.sample("sweep", &format!("measured ({kind})"), ("workers", "speedup"), (w, s));
        run.sample("sweep", "ideal", ("workers", "speedup"), (w, w));
        run.sample(
            "sweep",
            &format!("Amdahl fit, {:.1}% parallel", p * 100.0),
            ("workers", "speedup"),
            (w, amdahl(p, w)),
        );
    }
    let rows = speedups
        .iter()
        .zip(&times)
        .map(|((w, s), t)| vec![format!("{w}"), format!("{t:.1}"), format!("{s:.2}x")])
        .collect();
    run.table(&format!("Sweep ({kind}, {cores} cores)"), &["workers", "wall ms", "speedup"], rows);
    run.value("parallel_fraction", p);
    Ok(())
}

/// Amdahl's law: the speedup on w workers when a fraction p of the work runs in parallel.
fn amdahl(p: f64, w: f64) -> f64 {
    1.0 / ((1.0 - p) + p / w)
}

/// The parallel fraction that best fits measured (workers, speedup) points, by least squares.
fn amdahl_fit(points: &[(f64, f64)]) -> f64 {
    let error = |p: f64| points.iter().map(|&(w, s)| (amdahl(p, w) - s).powi(2)).sum::<f64>();
    (0..=1000).map(|i| i as f64 / 1000.0).min_by(|a, b| error(*a).total_cmp(&error(*b))).unwrap_or(0.0)
}


/// Numbers summed so far, shared by every thread of a mode, shown as the progress bar.
#[derive(Clone)]
struct Progress {
    run: Option<Run>,
    done: Arc<AtomicU64>,
    total: u64,
}

impl Progress {
    fn new(run: &Run, total: u64) -> Progress {
        Progress { run: Some(run.clone()), done: Arc::new(AtomicU64::new(0)), total }
    }

    fn silent() -> Progress {
        Progress { run: None, done: Arc::new(AtomicU64::new(0)), total: 0 }
    }

    fn restart(&self) -> Progress {
        Progress { run: self.run.clone(), done: Arc::new(AtomicU64::new(0)), total: self.total }
    }

    fn add(&self, numbers: u64) {
        let done = self.done.fetch_add(numbers, Ordering::Relaxed) + numbers;
        if let Some(run) = &self.run {
            run.progress(done as f64, self.total as f64, "numbers summed");
        }
    }
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        // Its task count follows the machine's cores (os.cpu_count()): the total is checked
        // against the closed form for the tasks it printed, and against the Rust run of as many.
        rust: Some(|| serde_json::json!({"tasks": 4, "numbers": 5_000_000, "workers": 2})),
        output: |out, r| {
            let tasks: u64 = after(out, "tasks ")?.parse().map_err(|e| format!("tasks: {e}"))?;
            expect_eq("total", after(out, "total ")?, ::kernels::sum_squares_formula(0, tasks * 5_000_000))?;
            if tasks == 4 {
                expect_eq("total", after(out, "total ")?, unquoted(value(r, "total")))?;
            }
            Ok(())
        },
        no_constant: &[
            "sweep", // the page's chart, not part of the program
        ],
        sized_for_cpython: &["numbers"],
    }
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::testing::{rejected_native, run_native, run_native_until};

    #[test]
    fn every_mode_gives_the_exact_sums_and_uses_every_lane() {
        // Tasks long enough that the second thread starts before the first has taken them all.
        // A machine busy with other tests can start the second thread late: measured again then.
        let both_lanes = |r: &crate::report::Report| r.modes.iter().any(|m| m.id == "threads" && m.lanes == 2);
        let params = json!({"tasks": 4, "numbers": 1_000_000, "workers": 2});
        let report = run_native_until("cpu-map", params, true, both_lanes);
        assert_eq!(report.status, crate::report::RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.modes.len(), 4);
        assert!(both_lanes(&report), "{:?}", report.modes);
        assert!(report.modes.iter().all(|m| m.speedup.is_some()));
        assert_eq!(report.values["total"], crate::topics::kernels::sum_squares_formula(0, 4_000_000).to_string());
    }

    #[test]
    fn sweep_plots_measured_ideal_and_fit() {
        let report = run_native("cpu-map", json!({"tasks": 4, "numbers": 200_000, "workers": 1, "sweep": 3}), true);
        assert_eq!(report.series.len(), 3);
        assert!(report.series.iter().all(|s| s.points.len() == 3));
        assert_eq!(report.tables[0].rows.len(), 3);
    }

    #[test]
    fn too_much_work_is_refused() {
        let errors = rejected_native("cpu-map", json!({"tasks": 64, "numbers": 500_000_000}));
        assert_eq!(errors[0].field, "numbers");
    }

    #[test]
    fn amdahl_fit_recovers_the_fraction() {
        let points: Vec<(f64, f64)> = (1..=4).map(|w| (w as f64, amdahl(0.9, w as f64))).collect();
        assert!((amdahl_fit(&points) - 0.9).abs() < 0.002);
    }
}
