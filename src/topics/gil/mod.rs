//! gil: the same CPU work single, on two threads under a simulated GIL, without it, and on two
//! isolated workers.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "gil",
        title: "The GIL: threads vs processes on CPU work",
        chapter: Chapter::Foundations,
        summary: "Two threads under a global interpreter lock gain nothing on CPU work; without it, and as processes, they scale.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("limit", "Sum i*i below", 1_200_000_000, 1_000, 2_000_000_000)
                .help("The Python original uses 5,000,000; wasm is much faster, so the default is larger: about half a second or more of work, so that what the threads and workers save shows."),
            Param::float("switch_ms", "Switch interval (ms)", 5.0, 0.1, 100.0, 0.1)
                .help("How long a thread may hold the GIL while another waits (CPython: 5 ms)."),
        ],
        presets: vec![Preset { id: "original", label: "Python original (5,000,000)", values: json!({"limit": 5_000_000}) }],
        modes: vec![
            Mode::new("single", "Single thread", Model::Sequential),
            Mode::new("gil", "2 threads with the GIL", Model::Threads),
            Mode::new("nogil", "2 threads, no GIL (the free-threaded build)", Model::Threads),
            Mode::new("workers", "2 isolated workers", Model::Workers),
        ],
        code: crate::topic_code!("gil/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_gil(run, params.read())),
        needs: |_| Needs { threads: 2, workers: 2 },
        reads: reads::<GilParams>,
    }
}

/// Predict, then run: which way of summing is slowest.
pub fn prompts() -> Vec<crate::predict::Prompt> {
    vec![crate::predict::Prompt::slowest("slowest", "Which of these will be slowest?", &topic().modes)]
}

// CODE START
use std::sync::Arc;

use serde::Deserialize;

use crate::engines::gil::Gil;
use crate::engines::tasks::Pacer;
use crate::engines::threads;
use crate::engines::workers::{Job, Pool};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};
use crate::topics::kernels::{deal, slices, sum_squares_every, sum_squares_formula, Share};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GilParams {
    limit: u64,
    switch_ms: f64,
}

/// Numbers summed in one slice of work (one "bytecode burst" between GIL checks).
const SLICE: u64 = 1 << 16;

async fn run_gil(run: Run, p: GilParams) -> RunResult<()> {
    let limit = p.limit;
    // Every other number to each thread: the even ones and the odd ones cost the same, where two
    // halves would not (big numbers cost more: see cpu-map).
    let halves = deal(limit, 2);
    let mut totals = Vec::new();

    if let Some(total) = run.measure("single", single(&run, limit)).await? {
        totals.push(("single", total));
    }
    let gil = Arc::new(Gil::new(true, p.switch_ms));
    if let Some(total) = run.measure("gil", two_threads(&run, &halves, gil.clone())).await? {
        run.note("gil", format!("the GIL changed hands {} times", gil.switches()));
        totals.push(("gil", total));
    }
    let no_gil = Arc::new(Gil::new(false, 0.0));
    if let Some(total) = run.measure("nogil", two_threads(&run, &halves, no_gil)).await? {
        totals.push(("nogil", total));
    }
    if let Some(total) = run.measure("workers", two_workers(&run, &halves)).await? {
        totals.push(("workers", total));
    }

    let expected = sum_squares_formula(0, limit);
    for (mode, total) in &totals {
        run.result(mode, total.to_string());
    }
    run.verify(totals.iter().all(|(_, t)| *t == expected), format!("every mode sums to {expected}"));
    run.value("sum", expected.to_string());
    Ok(())
}

async fn single(run: &Run, limit: u64) -> RunResult<u128> {
    let mut pacer = Pacer::new(run);
    let start = run.now();
    let mut total = 0;
    for slice in slices((0, limit, 1), SLICE) {
        total += sum_squares_every(slice);
        pacer.tick(run).await?;
    }
    run.span("main", "sum below limit", SpanKind::Run, start, run.now());
    Ok(total)
}

/// Two threads, each summing one half in slices; each slice runs only while holding `gil`
/// (when it is switched on).
async fn two_threads(run: &Run, halves: &[Share], gil: Arc<Gil>) -> RunResult<u128> {
    let mut handles = Vec::new();
    for (k, &half) in halves.iter().enumerate() {
        let (run, gil) = (run.clone(), gil.clone());
        handles.push(threads::spawn(format!("thread {}", k + 1), move || -> RunResult<u128> {
            let mut slices = slices(half, SLICE);
            let mut total = 0;
            gil.run_slices(&run, k, &format!("thread {}", k + 1), HALVES[k], || match slices.next() {
                Some(slice) => {
                    total += sum_squares_every(slice);
                    true
                }
                None => false,
            })?;
            Ok(total)
        })?);
    }
    let mut total = 0;
    for part in threads::join_all(handles).await? {
        total += part?;
    }
    Ok(total)
}

/// Two isolated workers, one half each: nothing shared, so nothing to lock.
async fn two_workers(run: &Run, halves: &[Share]) -> RunResult<u128> {
    let pool = Pool::start(run, 2).await?;
    let mut total = 0;
    for out in pool.map(run, &HALF, halves.to_vec(), |k| HALVES[k].to_string()).await? {
        total += out?;
    }
    Ok(total)
}

/// An isolated worker's job: one half in, its sum out.
pub static HALF: Job<Share, u128> =
    Job { name: "gil/sum", run: |half| Ok(sum_squares_every(half)), warm_up: || (0, 1 << 20, 2) };

/// What the timeline calls each half.
const HALVES: [&str; 2] = ["even numbers", "odd numbers"];
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({"limit": 10_000_000})),
        output: |out, r| expect_eq("sum", after(out, "sum ")?, unquoted(value(r, "sum"))),
        sized_for_cpython: &["limit"],
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{ModeStatus, RunStatus};
    use crate::runner::testing::run_native;
    use serde_json::json;

    fn run(threads: bool) -> crate::report::Report {
        run_native("gil", json!({"limit": 20_000_000, "switch_ms": 1}), threads)
    }

    #[test]
    fn every_mode_gets_the_same_sum_and_the_gil_serializes() {
        let report = run(true);
        assert_eq!(report.status, RunStatus::Ok);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let gil_spans: Vec<_> =
            report.spans.iter().filter(|s| s.mode == "gil" && s.kind == crate::report::SpanKind::Run).collect();
        // Under the GIL no two "run" spans overlap in time.
        for a in &gil_spans {
            for b in &gil_spans {
                if a.lane != b.lane {
                    assert!(a.end <= b.start + 0.05 || b.end <= a.start + 0.05, "{a:?} overlaps {b:?}");
                }
            }
        }
        assert!(report.spans.iter().any(|s| s.mode == "gil" && s.kind == crate::report::SpanKind::Wait));
    }

    #[test]
    fn without_threads_the_thread_modes_say_why_and_the_rest_runs() {
        let report = run(false);
        let status: Vec<ModeStatus> = report.modes.iter().map(|m| m.status).collect();
        assert_eq!(status, [ModeStatus::Ok, ModeStatus::Unavailable, ModeStatus::Unavailable, ModeStatus::Ok]);
        assert!(report.checks.iter().all(|c| c.ok));
    }
}
