//! ipc-queues: isolated workers pull numbers from a shared work queue, answer on a result queue,
//! and leave when they draw a stop pill.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "ipc-queues",
        title: "Queues between processes",
        chapter: Chapter::Processes,
        summary: "Four workers take numbers from one work queue, square them after a random pause, put results on a result queue, and stop on pills.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("numbers", "Numbers (1..N)", 20, 1, 200).help("How many numbers go on the work queue."),
            Param::int("workers", "Workers", 4, 1, 16),
            Param::int("pause_min_ms", "Shortest pause (ms)", 100, 0, 5000),
            Param::int("pause_max_ms", "Longest pause (ms)", 300, 0, 5000),
            Param::float("time_scale", "Time scale", 1.0, 0.01, 5.0, 0.01)
                .help("Multiplies every pause (1 = the original 0.1-0.3 s)."),
            Param::int("seed", "Random seed", 0, 0, 1_000_000).help("0 draws new pauses every run."),
        ],
        presets: vec![
            Preset { id: "quick", label: "Quick (pauses x 0.1)", values: json!({"time_scale": 0.1}) },
            Preset { id: "uneven", label: "Uneven pauses (10-1000 ms)", values: json!({"pause_min_ms": 10, "pause_max_ms": 1000, "time_scale": 0.5}) },
        ],
        modes: vec![Mode::new("workers", "Isolated workers and two queues", Model::Workers)],
        code: crate::topic_code!("ipc_queues/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_ipc_queues(run, params.read())),
        needs: |p| Needs::workers(p.read::<IpcQueuesParams>().workers),
        reads: reads::<IpcQueuesParams>,
    }
}

fn check(p: &IpcQueuesParams) -> Result<(), FieldError> {
    if p.pause_min_ms > p.pause_max_ms {
        return Err(FieldError::new("pause_max_ms", "The longest pause must not be shorter than the shortest"));
    }
    let expected_s = p.numbers as f64 * p.pause_max_ms * p.time_scale / p.workers as f64 / 1000.0;
    if expected_s > 60.0 {
        return Err(FieldError::new(
            "time_scale",
            format!("This could take {expected_s:.0} s; keep numbers x longest pause x scale / workers under 60 s"),
        ));
    }
    Ok(())
}

// CODE START
use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Deserialize;

use crate::engines::workers::{instance_id, Job, Pool};
use crate::run::{Run, RunError, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IpcQueuesParams {
    numbers: u64,
    workers: usize,
    pause_min_ms: f64,
    pause_max_ms: f64,
    time_scale: f64,
    seed: u64,
}

/// What the work queue holds: a number with the pause its work will take, or a stop pill.
enum Item {
    Number { n: u64, pause_ms: f64 },
    Stop,
}

/// One entry of the result queue: which worker squared which number, and when it arrived.
struct Answer {
    worker: usize,
    worker_id: u32,
    n: u64,
    square: u64,
    at: f64,
}

async fn run_ipc_queues(run: Run, p: IpcQueuesParams) -> RunResult<()> {
    let (numbers, workers) = (p.numbers, p.workers);
    let seed = match p.seed {
        0 => crate::clock::now_ms() as u64,
        s => s,
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let (lo, hi, scale) = (p.pause_min_ms, p.pause_max_ms, p.time_scale);

    // The work queue: the numbers, then one stop pill per worker.
    let mut items: VecDeque<Item> =
        (1..=numbers).map(|n| Item::Number { n, pause_ms: (lo + rng.f64() * (hi - lo)) * scale }).collect();
    items.extend((0..workers).map(|_| Item::Stop));
    let work_queue = Mutex::new(items);
    let result_queue: Mutex<Vec<Answer>> = Mutex::new(Vec::new());

    let outcome = run.measure("workers", async {
        let pool = Pool::start(&run, workers).await?;
        let plot = |run: &Run| {
            let waiting = work_queue.lock().unwrap().iter().filter(|i| matches!(i, Item::Number { .. })).count();
            let done = result_queue.lock().unwrap().len();
            run.sample("queues", "work queue (numbers waiting)", ("time (ms)", "items"), (run.now(), waiting as f64));
            run.sample("queues", "result queue (answers)", ("time (ms)", "items"), (run.now(), done as f64));
        };
        plot(&run);
        // Every worker, whenever it is idle, takes the next item from the one shared queue.
        let worker_loop = |w: usize| {
            let (run, pool, work_queue, result_queue, plot) = (&run, &pool, &work_queue, &result_queue, &plot);
            async move {
                loop {
                    let item = work_queue.lock().unwrap().pop_front();
                    plot(run);
                    match item {
                        Some(Item::Number { n, pause_ms }) => {
                            run.log(Pool::lane(w), format!("took {n} from the work queue"));
                            // The worker sleeps (time.sleep in Python), then squares.
                            let label = format!("{n}²");
                            let done =
                                pool.run_job_after(run, w, pause_ms, &SQUARE, &Message::Number(n), &label).await?;
                            let Reply { worker_id, square } = done.output?;
                            let square = square.ok_or("no square in the answer")?;
                            run.log(Pool::lane(w), format!("put ({}, {n}, {square}) on the result queue", w + 1));
                            result_queue.lock().unwrap().push(Answer {
                                worker: w,
                                worker_id,
                                n,
                                square,
                                at: run.now(),
                            });
                            plot(run);
                        }
                        Some(Item::Stop) => {
                            // The pill travels to the worker like any item; the worker answers and leaves.
                            let done = pool.run_job(run, w, &SQUARE, &Message::Stop, "stop pill").await?;
                            run.log(Pool::lane(w), format!("took a stop pill: worker #{} stops", done.output?.worker_id));
                            return Ok::<(), RunError>(());
                        }
                        None => {
                            return Err(RunError::Failed(format!(
                                "worker {} found the queue empty: a pill is missing",
                                w + 1
                            )))
                        }
                    }
                }
            }
        };
        futures::future::try_join_all((0..workers).map(worker_loop)).await?;
        Ok(pool.traffic())
    });
    let Some(traffic) = outcome.await? else { return Ok(()) };

    let mut answers = result_queue.into_inner().unwrap();
    let arrival: Vec<u64> = answers.iter().map(|a| a.n).collect();
    answers.sort_by_key(|a| a.n);
    let sorted: Vec<u64> = answers.iter().map(|a| a.n).collect();
    run.verify(answers.len() as u64 == numbers, format!("exactly {} results for {numbers} numbers", answers.len()));
    run.verify(sorted == (1..=numbers).collect::<Vec<_>>(), "every number was squared exactly once");
    run.verify(answers.iter().all(|a| a.square == a.n * a.n), "every square is right");
    run.verify(
        work_queue.into_inner().unwrap().is_empty(),
        format!("all {workers} workers took their stop pill and left"),
    );
    run.result("workers", format!("{} squares", answers.len()));
    run.note(
        "workers",
        format!(
            "{} messages, {} bytes copied, {:.2} ms in transit (copying and waiting to be delivered); \
             in the workers {:.0} ms asleep (the pauses) and {:.2} ms squaring",
            traffic.messages, traffic.bytes, traffic.copy_ms, traffic.sleep_ms, traffic.compute_ms
        ),
    );
    if arrival != sorted {
        run.log("main", "the answers arrived out of order; they are shown sorted by n");
    }

    let rows = answers
        .iter()
        .map(|a| {
            vec![
                a.n.to_string(),
                a.square.to_string(),
                format!("worker {} (#{})", a.worker + 1, a.worker_id),
                format!("{:.0}", a.at),
            ]
        })
        .collect();
    run.table("Results, sorted by n", &["n", "n*n", "squared by", "arrived (ms)"], rows);
    let mut share = Vec::new();
    for w in 0..workers {
        let mine: Vec<u64> = answers.iter().filter(|a| a.worker == w).map(|a| a.n).collect();
        let percent = 100.0 * mine.len() as f64 / answers.len().max(1) as f64;
        let list = mine.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        share.push(vec![Pool::lane(w), mine.len().to_string(), format!("{percent:.0}%"), list]);
    }
    run.table("Share of the work", &["worker", "items", "share", "numbers"], share.clone());
    run.value("results", answers.iter().map(|a| (a.worker + 1, a.n, a.square)).collect::<Vec<_>>());
    run.value("per_worker", share.iter().map(|r| r[1].parse::<usize>().unwrap_or(0)).collect::<Vec<_>>());
    run.value("arrival_order", arrival);
    run.value("seed", seed);
    Ok(())
}

/// An item as it travels to a worker.
#[derive(serde::Serialize, serde::Deserialize)]
pub enum Message {
    Number(u64),
    Stop,
}

/// A worker's answer: who it is, and the square (none for a stop pill).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Reply {
    worker_id: u32,
    square: Option<u64>,
}

/// What a worker does with one item (after its pause): square it; or acknowledge a stop pill.
pub static SQUARE: Job<Message, Reply> = Job {
    name: "ipc-queues/square",
    run: |message| {
        let square = match message {
            Message::Number(n) => Some(n.checked_mul(n).ok_or("the square does not fit in 64 bits")?),
            Message::Stop => None,
        };
        Ok(Reply { worker_id: instance_id(), square })
    },
    warm_up: || Message::Number(3),
};
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({"time_scale": 0.1})),
        output: |out, r| {
            let rust = value(r, "results");
            let squares: i64 = rust.as_array().unwrap().iter().map(|t| t[2].as_i64().unwrap()).sum();
            expect_eq("results", after(out, "results ")?, rust.as_array().unwrap().len())?;
            expect_eq("sum of squares", out.lines().last().unwrap_or("").rsplit(' ').next().unwrap_or(""), squares)
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
    fn twenty_results_each_number_once_spread_over_workers() {
        let report = run_native("ipc-queues", json!({"time_scale": 0.05, "seed": 7}), false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let results = report.values["results"].as_array().unwrap();
        assert_eq!(results.len(), 20);
        let mut seen: Vec<u64> = results.iter().map(|r| r[1].as_u64().unwrap()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (1..=20).collect::<Vec<_>>());
        assert!(results.iter().all(|r| r[2].as_u64() == r[1].as_u64().map(|n| n * n)));
        // The work was shared: the per-worker counts add up and more than one worker took items.
        let per_worker: Vec<u64> =
            report.values["per_worker"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(per_worker.len(), 4);
        assert_eq!(per_worker.iter().sum::<u64>(), 20);
        assert!(per_worker.iter().filter(|&&c| c > 0).count() >= 2, "{per_worker:?}");
        // Every worker took exactly one stop pill, after its last number.
        for w in 1..=4 {
            let lane = format!("worker {w}");
            let pills: Vec<_> = report.spans.iter().filter(|s| s.lane == lane && s.label == "stop pill").collect();
            assert_eq!(pills.len(), 1, "{lane}");
            let last_work =
                report.spans.iter().filter(|s| s.lane == lane && s.kind == SpanKind::Run && s.label != "stop pill");
            assert!(last_work.into_iter().all(|s| s.end <= pills[0].start + 0.01));
        }
        assert_eq!(report.tables[0].rows.len(), 20);
        assert!(report.series.iter().any(|s| s.name.starts_with("work queue") && s.points.last().unwrap().1 == 0.0));
    }

    #[test]
    fn a_queue_is_shared_not_pre_split() {
        // One worker gets long pauses only if it is unlucky; with a shared queue a fast worker takes
        // more items. Make pauses very uneven and check that counts differ from an even 5/5/5/5 split
        // or that at least the arrival order differs from a round-robin deal.
        let params = json!({"time_scale": 0.05, "pause_min_ms": 0, "pause_max_ms": 400, "seed": 3});
        let report = run_native("ipc-queues", params, false);
        let per_worker: Vec<u64> =
            report.values["per_worker"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let results = report.values["results"].as_array().unwrap();
        let round_robin = results.iter().all(|r| (r[1].as_u64().unwrap() - 1) % 4 + 1 == r[0].as_u64().unwrap());
        assert!(per_worker.iter().any(|&c| c != 5) || !round_robin, "{per_worker:?}");
    }

    #[test]
    fn pauses_must_be_ordered() {
        let errors = rejected_native("ipc-queues", json!({"pause_min_ms": 500, "pause_max_ms": 100}));
        assert_eq!(errors[0].field, "pause_max_ms");
    }
}
