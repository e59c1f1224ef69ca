//! process-basics: a few isolated workers ("processes") each do the same sum and say who they are.

use serde_json::json;

use crate::params::{FieldError, Param, Params};
use crate::topic::{Chapter, Mode, Model, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "process-basics",
        title: "Processes: start, work, report",
        chapter: Chapter::Processes,
        summary: "Four isolated workers each sum i*i below 1,000,000 and report their own id; starting them has a cost of its own.",
        explanation: crate::prose!("A process is a program with its own memory. Python's multiprocessing starts a new interpreter for each Process, hands it a function and its arguments, and the child reports back by message. Here an isolated worker plays the process: a Web Worker with its own copy of the WebAssembly module and its own memory, which shares nothing with the page but the messages it receives and sends.\n\n\
Each worker computes the same sum of i*i below the limit and answers with the number it identifies itself by (like os.getpid()), so you can see that every task really ran somewhere else. The same sums are then computed one after another on the main lane, and the results must match exactly.\n\n\
Starting a worker is not free: the browser creates a thread for it, loads and compiles the module and sets up its memory before any work begins. The timeline draws that start-up as its own segment at the head of every worker lane, and the table below splits the parallel time into start-up, message copying and computing. With a small limit the start-up dominates; raise the limit and the computing takes over."),
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
            Mode::new("workers", "Isolated workers", Model::Workers),
        ],
        code: crate::topic_code!("process_basics.rs"),
        python: crate::prose!(PYTHON),
        check,
        run: |run, params| Box::pin(run_process_basics(run, params)),
        jobs: &[("process-basics/sum", sum_job)],
    }
}

const PYTHON: &str = r#"import os, time
from multiprocessing import Process, Queue

def work(task, limit, answers):
    total = sum(i * i for i in range(limit))
    answers.put((task, os.getpid(), total))      # the answer travels back as a message

if __name__ == "__main__":
    limit, workers = 1_000_000, 4
    start = time.perf_counter()
    sequential = [sum(i * i for i in range(limit)) for _ in range(workers)]
    print("sequential", time.perf_counter() - start)

    start = time.perf_counter()
    answers = Queue()
    procs = [Process(target=work, args=(k, limit, answers)) for k in range(workers)]
    for p in procs: p.start()                    # each start launches a new interpreter
    results = sorted(answers.get() for _ in procs)
    for p in procs: p.join()
    print("processes", time.perf_counter() - start)
    for task, pid, total in results:
        print(f"task {task} ran in process {pid}: {total}")
    assert [total for _, _, total in results] == sequential
"#;

fn check(p: &Params) -> Result<(), FieldError> {
    let total = p.int("workers") * p.int("limit");
    if total > 1_000_000_000 {
        return Err(FieldError::new(
            "limit",
            format!("Workers x limit is {}; keep it at most 1,000,000,000", crate::params::group(total)),
        ));
    }
    Ok(())
}

// CODE START
use crate::engines::tasks::Pacer;
use crate::engines::workers::{instance_id, Pool};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};
use crate::topics::kernels::{split, sum_squares, sum_squares_formula};

/// Numbers summed on the main lane between two looks at the Stop button.
const SLICE: u64 = 1 << 20;

/// What one worker answers: its task, who it is, and its sum (as text: it does not fit in JSON numbers).
#[derive(serde::Serialize, serde::Deserialize)]
struct Answer {
    task: usize,
    worker_id: u32,
    sum: String,
}

async fn run_process_basics(run: Run, p: Params) -> RunResult<()> {
    let (workers, limit) = (p.count("workers"), p.int("limit") as u64);

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

    let parallel = run.measure("workers", async {
        // Start-up on its own: every worker lane begins with a "start worker" segment.
        let started = run.now();
        let pool = Pool::start(&run, workers).await?;
        let startup_ms = run.now() - started;
        run.log("main", format!("{workers} workers started in {startup_ms:.1} ms"));

        // One task per worker, all sent at once; each answer is a message back.
        let calls = (0..workers).map(|task| {
            let (run, pool) = (&run, &pool);
            async move {
                let input = json!({"task": task, "limit": limit}).to_string();
                let done = pool.run_job(run, task, "process-basics/sum", input, &format!("task {}", task + 1)).await?;
                let answer: Answer = serde_json::from_str(&done.output.clone()?).map_err(|e| e.to_string())?;
                run.log(
                    Pool::lane(task),
                    format!("task {} ran in worker #{}: {}", answer.task + 1, answer.worker_id, answer.sum),
                );
                Ok::<_, crate::run::RunError>((answer, done))
            }
        });
        let answers = futures::future::try_join_all(calls).await?;
        Ok((answers, startup_ms, pool.traffic()))
    });
    let parallel = parallel.await?;

    let expected = sum_squares_formula(0, limit);
    if let Some(sums) = &sequential {
        run.result("sequential", format!("{} sums of {expected}", sums.len()));
        run.verify(sums.iter().all(|s| *s == expected), format!("the sequential sums equal the formula: {expected}"));
    }
    if let Some((answers, startup_ms, traffic)) = &parallel {
        let sums: Vec<u128> = answers.iter().map(|(a, _)| a.sum.parse().unwrap_or(0)).collect();
        let mut ids: Vec<u32> = answers.iter().map(|(a, _)| a.worker_id).collect();
        run.result("workers", format!("{} sums of {expected}", sums.len()));
        let same = sequential.as_ref().map_or(sums.iter().all(|s| *s == expected), |seq| *seq == sums);
        run.verify(same, "every worker's sum equals the sequential one");
        ids.sort_unstable();
        ids.dedup();
        run.verify(ids.len() == workers, format!("{} tasks ran in {} different workers", workers, ids.len()));

        let compute: Vec<f64> = answers.iter().map(|(_, d)| d.end - d.start).collect();
        let longest = compute.iter().copied().fold(0.0, f64::max);
        run.note(
            "workers",
            format!(
                "start-up {startup_ms:.1} ms; {} bytes copied in {} messages ({:.2} ms); compute {:.1} ms (longest worker)",
                traffic.bytes, traffic.messages, traffic.copy_ms, longest
            ),
        );
        let rows = answers
            .iter()
            .enumerate()
            .map(|(k, (a, d))| {
                vec![
                    format!("task {}", k + 1),
                    Pool::lane(k),
                    format!("#{}", a.worker_id),
                    format!("{:.2}", (d.paused - d.sent) + (d.received - d.end)),
                    format!("{:.2}", d.end - d.start),
                    a.sum.clone(),
                ]
            })
            .collect();
        run.table("Who did what", &["task", "lane", "worker id", "messages ms", "compute ms", "sum"], rows);
        let wall = run.wall_ms("workers").unwrap_or(0.0);
        let seq = run.wall_ms("sequential").map_or("not run".into(), |w| format!("{w:.1}"));
        run.table(
            "Where the parallel time went",
            &["part", "ms"],
            vec![
                vec!["starting the workers (all of them)".into(), format!("{startup_ms:.1}")],
                vec!["messages in transit (copy + delivery, summed)".into(), format!("{:.2}", traffic.copy_ms)],
                vec!["computing (longest single worker)".into(), format!("{longest:.1}")],
                vec!["wall time, workers".into(), format!("{wall:.1}")],
                vec!["wall time, one after another".into(), seq],
            ],
        );
        run.value("worker_ids", &ids);
        run.value("startup_ms", startup_ms);
        run.value("bytes", traffic.bytes);
        run.value("copy_ms", traffic.copy_ms);
        run.value("compute_ms", longest);
    }
    run.value("sum", expected.to_string());
    Ok(())
}

/// What each isolated worker runs: {"task", "limit"} -> {"task", "worker_id", "sum"}.
fn sum_job(input: &str) -> Result<String, String> {
    let args: serde_json::Value = serde_json::from_str(input).map_err(|e| e.to_string())?;
    let task = args["task"].as_u64().ok_or("missing task")? as usize;
    let limit = args["limit"].as_u64().ok_or("missing limit")?;
    let answer = Answer { task, worker_id: instance_id(), sum: sum_squares(0, limit).to_string() };
    serde_json::to_string(&answer).map_err(|e| e.to_string())
}
// CODE END

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
        assert_eq!(report.checks.len(), 3);
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
    }

    #[test]
    fn too_much_work_is_refused() {
        let errors = rejected_native("process-basics", json!({"workers": 16, "limit": 200_000_000}));
        assert_eq!(errors[0].field, "limit");
    }
}
