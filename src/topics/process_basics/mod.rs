//! process-basics: a few isolated workers ("processes") each do the same sum and say who they are.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "process-basics",
        title: "Processes: start, work, report",
        chapter: Chapter::Processes,
        summary: "Four isolated workers each sum i*i below 1,000,000 and report their own id; starting them has a cost of its own.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("workers", "Workers", 4, 1, 16).help("How many isolated workers to start; each does one sum."),
            Param::int("limit", "Sum i*i below", 1_000_000, 1, 200_000_000)
                .help("Every worker sums i*i for 0 <= i < limit (the Python original: 1,000,000)."),
        ],
        presets: vec![Preset {
            id: "heavy",
            label: "Heavier work (50,000,000 each)",
            values: json!({"limit": 50_000_000}),
        }],
        modes: vec![
            Mode::new("sequential", "One after another (main)", Model::Sequential),
            Mode::new("workers", "New workers (started by Run)", Model::Workers),
            Mode::new("pool", "Warm pool (started before)", Model::Workers),
        ],
        code: crate::topic_code!("process_basics/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_process_basics(run, params.read())),
        needs: |p| Needs::workers(p.read::<ProcessBasicsParams>().workers),
        reads: reads::<ProcessBasicsParams>,
    }
}

fn check(p: &ProcessBasicsParams) -> Result<(), FieldError> {
    let total = p.workers as i64 * p.limit as i64;
    if total > 1_000_000_000 {
        return Err(FieldError::new(
            "limit",
            format!("Workers x limit is {}; keep it at most 1,000,000,000", crate::params::group(total)),
        ));
    }
    Ok(())
}

// CODE START
use serde::Deserialize;

use crate::engines::tasks::Pacer;
use crate::engines::workers::{instance_id, Job, JobDone, Pool, Traffic};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};
use crate::topics::kernels::{split, sum_squares, sum_squares_formula};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessBasicsParams {
    workers: usize,
    limit: u64,
}

/// Numbers summed on the main lane between two looks at the Stop button.
const SLICE: u64 = 1 << 20;

/// What one worker answers: its task, who it is, and its sum.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Answer {
    task: usize,
    worker_id: u32,
    sum: u128,
}

async fn run_process_basics(run: Run, p: ProcessBasicsParams) -> RunResult<()> {
    let (workers, limit) = (p.workers, p.limit);

    let sequential = run.measure("sequential", async {
        let mut pacer = Pacer::new(&run);
        let mut sums = Vec::new();
        for task in 0..workers {
            let start = run.now();
            let mut sum = 0;
            for (lo, hi) in split(0, limit, limit.div_ceil(SLICE)) {
                sum += sum_squares(lo, hi);
                pacer.tick(&run).await?;
            }
            run.span("main", format!("task {}", task + 1), SpanKind::Run, start, run.now());
            sums.push(sum);
        }
        Ok(sums)
    });
    let sequential = sequential.await?;

    let fresh = run.measure("workers", on_workers(&run, workers, limit, true)).await?;
    let warm = run.measure("pool", on_workers(&run, workers, limit, false)).await?;

    let expected = sum_squares_formula(0, limit);
    if let Some(sums) = &sequential {
        run.result("sequential", format!("{} sums of {expected}", sums.len()));
        run.verify(sums.iter().all(|s| *s == expected), format!("the sequential sums equal the formula: {expected}"));
    }
    for (mode, outcome) in [("workers", &fresh), ("pool", &warm)] {
        if let Some(outcome) = outcome {
            report_workers(&run, mode, outcome, sequential.as_deref(), expected);
        }
    }
    if let (Some(fresh), Some(warm)) = (&fresh, &warm) {
        run.value("startup_ms", fresh.startup_ms);
        run.value("warm_startup_ms", warm.startup_ms);
    }
    run.value("sum", expected.to_string());
    Ok(())
}

/// What one parallel mode did: each task's answer with its timings, start-up, and traffic.
struct OnWorkers {
    answers: Vec<JobDone<Answer>>,
    startup_ms: f64,
    traffic: Traffic,
}

/// One task per worker, all sent at once; each answer is a message back. `fresh`: start new
/// workers for this run (and time that on its own) instead of taking warm ones.
async fn on_workers(run: &Run, workers: usize, limit: u64, fresh: bool) -> RunResult<OnWorkers> {
    let started = run.now();
    let pool = if fresh { Pool::start_cold(run, workers).await? } else { Pool::start(run, workers).await? };
    let startup_ms = run.now() - started;
    run.log("main", format!("{workers} workers {} in {startup_ms:.1} ms", if fresh { "started" } else { "ready" }));
    let calls = (0..workers).map(|task| {
        let pool = &pool;
        async move {
            let done = pool.run_job(run, task, &SUM, &(task, limit), &format!("task {}", task + 1)).await?;
            let answer = done.output.as_ref().map_err(Clone::clone)?;
            run.log(
                Pool::lane(task),
                format!("task {} ran in worker #{}: {}", answer.task + 1, answer.worker_id, answer.sum),
            );
            Ok::<_, crate::run::RunError>(done)
        }
    });
    let answers = futures::future::try_join_all(calls).await?;
    Ok(OnWorkers { answers, startup_ms, traffic: pool.traffic() })
}

/// Checks one parallel mode against the sequential sums and tables where its time went.
fn report_workers(run: &Run, mode: &str, outcome: &OnWorkers, sequential: Option<&[u128]>, expected: u128) {
    let OnWorkers { answers, startup_ms, traffic } = outcome;
    let answer = |d: &JobDone<Answer>| d.output.as_ref().ok().map_or((0, 0), |a| (a.sum, a.worker_id));
    let sums: Vec<u128> = answers.iter().map(|d| answer(d).0).collect();
    let mut ids: Vec<u32> = answers.iter().map(|d| answer(d).1).collect();
    run.result(mode, format!("{} sums of {expected}", sums.len()));
    let same = sequential.map_or(sums.iter().all(|s| *s == expected), |seq| seq == sums);
    run.verify(same, format!("{mode}: every worker's sum equals the sequential one"));
    ids.sort_unstable();
    ids.dedup();
    run.verify(ids.len() == answers.len(), format!("{mode}: {} tasks ran in {} different workers", answers.len(), ids.len()));

    let longest = answers.iter().map(|d| d.end - d.start).fold(0.0, f64::max);
    run.note(
        mode,
        format!(
            "start-up {startup_ms:.1} ms; {} bytes copied in {} messages ({:.2} ms); compute {:.1} ms (longest worker)",
            traffic.bytes, traffic.messages, traffic.copy_ms, longest
        ),
    );
    let rows = answers
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let (sum, id) = answer(d);
            vec![
                format!("task {}", k + 1),
                Pool::lane(k),
                format!("#{id}"),
                format!("{:.2}", (d.paused - d.sent) + (d.received - d.end)),
                format!("{:.2}", d.end - d.start),
                sum.to_string(),
            ]
        })
        .collect();
    run.table(&format!("Who did what ({mode})"), &["task", "lane", "worker id", "messages ms", "compute ms", "sum"], rows);
    let wall = run.wall_ms(mode).unwrap_or(0.0);
    let seq = run.wall_ms("sequential").map_or("not run".into(), |w| format!("{w:.1}"));
    run.table(
        &format!("Where the parallel time went ({mode})"),
        &["part", "ms"],
        vec![
            vec!["starting the workers (all of them)".into(), format!("{startup_ms:.1}")],
            vec!["messages in transit (copy + delivery, summed)".into(), format!("{:.2}", traffic.copy_ms)],
            vec!["computing (longest single worker)".into(), format!("{longest:.1}")],
            vec![format!("wall time, {mode}"), format!("{wall:.1}")],
            vec!["wall time, one after another".into(), seq],
        ],
    );
    if mode == "workers" {
        run.value("worker_ids", &ids);
        run.value("bytes", traffic.bytes);
        run.value("copy_ms", traffic.copy_ms);
        run.value("compute_ms", longest);
    }
}

/// What each isolated worker runs: (task, limit) in; the task, who ran it, and the sum out.
pub static SUM: Job<(usize, u64), Answer> = Job {
    name: "process-basics/sum",
    run: |(task, limit)| Ok(Answer { task, worker_id: instance_id(), sum: sum_squares(0, limit) }),
    warm_up: || (0, 1 << 20),
};
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({})),
        output: |out, r| {
            let sum = unquoted(value(r, "sum"));
            expect_eq("tasks with the Rust sum", out.lines().filter(|l| l.ends_with(&format!(": {sum}"))).count(), 4)
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{RunStatus, SpanKind};
    use crate::runner::testing::{rejected_native, run_native};
    use crate::topics::kernels::sum_squares_formula;
    use serde_json::json;

    #[test]
    fn workers_give_the_sequential_sums_and_report_distinct_ids() {
        // No shared-memory threads needed: this runs the same in a non-isolated page.
        let report = run_native("process-basics", json!({"workers": 4, "limit": 300_000}), false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.checks.len(), 5);
        assert_eq!(report.values["sum"], sum_squares_formula(0, 300_000).to_string());
        assert_eq!(report.values["worker_ids"].as_array().unwrap().len(), 4);
        let workers = report.modes.iter().find(|m| m.id == "workers").unwrap();
        assert_eq!(workers.lanes, 4);
        // Start-up is drawn on its own at the head of every worker lane, before that lane's work.
        for k in 1..=4 {
            let lane = format!("worker {k}");
            let spawn = report.spans.iter().find(|s| s.lane == lane && s.kind == SpanKind::Spawn).unwrap();
            let work = report.spans.iter().find(|s| s.lane == lane && s.kind == SpanKind::Run).unwrap();
            assert!(spawn.end <= work.start + 0.01, "{spawn:?} {work:?}");
        }
        assert!(report.values["bytes"].as_u64().unwrap() > 0);
        assert_eq!(report.tables[0].rows.len(), 4);
        // The warm pool ran the same tasks; its start-up is (nearly) nothing.
        let pool = report.modes.iter().find(|m| m.id == "pool").unwrap();
        assert_eq!(pool.lanes, 4);
    }

    #[test]
    fn too_much_work_is_refused() {
        let errors = rejected_native("process-basics", json!({"workers": 16, "limit": 200_000_000}));
        assert_eq!(errors[0].field, "limit");
    }
}
