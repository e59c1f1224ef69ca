//! thread-pool: a pool of threads fed through a channel runs several queries; results come back
//! in completion order or in submission order (map); one failing query reports its error while
//! the others finish.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "thread-pool",
        title: "A thread pool: completion order vs submission order",
        chapter: Chapter::Threads,
        summary: "5 queries on a pool of 3 threads: take results as they complete, or in the order submitted; a failing query reports its error while the others finish.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("queries", "Queries", 5, 1, 50),
            Param::int("pool", "Pool threads (P)", 3, 1, 64),
            Param::int("duration_ms", "Each query takes (ms)", 500, 1, 10_000),
            Param::int("jitter_pct", "Random spread of durations (%)", 60, 0, 100)
                .help("0: every query takes the same time; 60: between 40% and 160% of it."),
            Param::int("fail", "Query that fails (0: none)", 2, 0, 50),
            Param::int("seed", "Random seed", 7, 0, 1_000_000_000).help("Fixes the durations, so both modes get the same."),
            Param::float("time_scale", "Time scale", 0.5, 0.01, 1.0, 0.01).help("Multiplies the durations; 1 restores them."),
        ],
        presets: vec![
            Preset {
                id: "original",
                label: "Original: 0.5 s each, none fails",
                values: json!({"jitter_pct": 0, "fail": 0, "time_scale": 1.0}),
            },
            Preset { id: "one-thread", label: "A pool of 1", values: json!({"pool": 1}) },
        ],
        modes: vec![
            Mode::new("completed", "Results as they complete", Model::Threads),
            Mode::new("map", "Results in submission order (map)", Model::Threads),
            Mode::new("bare", "A bare thread per query: its error goes to threading.excepthook", Model::Threads),
        ],
        code: crate::topic_code!("thread_pool/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_thread_pool(run, params.read())),
        // The bare mode starts a thread per query.
        needs: |p| {
            let p: ThreadPoolParams = p.read();
            Needs::threads(p.pool.max(p.queries))
        },
        reads: reads::<ThreadPoolParams>,
    }
}

fn check(p: &ThreadPoolParams) -> Result<(), FieldError> {
    if p.fail > p.queries {
        return Err(FieldError::new("fail", format!("There are only {} queries", p.queries)));
    }
    let longest = p.queries as f64 * p.duration_ms * (1.0 + p.jitter_pct / 100.0);
    if longest * p.time_scale > 120_000.0 {
        return Err(FieldError::new(
            "duration_ms",
            "One thread could be busy for over two minutes: use fewer or shorter queries",
        ));
    }
    Ok(())
}

// CODE START
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use futures::channel::oneshot;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Deserialize;

use crate::engines::threads;
use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadPoolParams {
    queries: usize,
    pool: usize,
    duration_ms: f64,
    jitter_pct: f64,
    fail: usize,
    seed: u64,
    time_scale: f64,
}

/// A job gets the name of the pool thread that runs it.
type Job = Box<dyn FnOnce(&str) + Send>;

/// A fixed set of threads taking jobs from one channel.
struct ThreadPool {
    jobs: Option<mpsc::Sender<Job>>,
    threads: Vec<threads::JoinHandle<()>>,
}

impl ThreadPool {
    fn new(run: &Run, size: usize) -> RunResult<ThreadPool> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver)); // shared by every pool thread
        let mut pool = ThreadPool { jobs: Some(sender), threads: Vec::new() };
        for t in 1..=size {
            let (run, receiver) = (run.clone(), receiver.clone());
            let lane = format!("pool thread {t}");
            pool.threads.push(threads::spawn(lane.clone(), move || loop {
                let idle = run.now();
                let job = receiver.lock().unwrap().recv(); // wait for the next job, or the end
                if run.now() - idle > 0.05 {
                    run.span(&lane, "idle: waiting for a job", SpanKind::Wait, idle, run.now());
                }
                match job {
                    Ok(job) => job(&lane),
                    Err(_) => return, // the pool was shut down: the channel is closed
                }
            })?);
        }
        Ok(pool)
    }

    /// Queues `work`; returns a future of its result.
    fn submit<T: Send + 'static>(&self, work: impl FnOnce(&str) -> T + Send + 'static) -> oneshot::Receiver<T> {
        let (result, future) = oneshot::channel();
        let job: Job = Box::new(move |lane| {
            let _ = result.send(work(lane));
        });
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
        future
    }

    /// Closes the queue and waits for the threads to finish. (Dropping the pool also closes
    /// the queue, so its threads end even when a run stops early.)
    async fn shutdown(mut self) -> RunResult<()> {
        self.jobs = None;
        threads::join_all(std::mem::take(&mut self.threads)).await?;
        Ok(())
    }
}

/// One finished query, as the pool thread recorded it.
#[derive(Clone)]
struct Done {
    k: usize,
    lane: String,
    started: f64,
    finished: f64,
    outcome: Result<String, String>,
}

/// How many queries run right now, and the most that ever ran at once.
#[derive(Default)]
struct Busy {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// A simulated database query: waits, then answers (or fails, if it is query `fail`).
fn query(run: &Run, lane: &str, k: usize, ms: f64, fail: usize, busy: &Busy) -> RunResult<Done> {
    let started = run.now();
    let now_busy = busy.now.fetch_add(1, Ordering::SeqCst) + 1;
    busy.most.fetch_max(now_busy, Ordering::SeqCst);
    let slept = if k == fail {
        // Fails halfway through.
        run.timed(lane, &format!("query {k} (fails)"), SpanKind::Io, || threads::sleep(run, ms / 2.0))
    } else {
        run.timed(lane, &format!("query {k}"), SpanKind::Io, || threads::sleep(run, ms))
    };
    busy.now.fetch_sub(1, Ordering::SeqCst);
    slept?;
    let outcome = if k == fail {
        Err(format!("query {k}: connection reset by the server (simulated)"))
    } else {
        Ok(format!("query {k}: {} rows", k * 7))
    };
    Ok(Done { k, lane: lane.to_string(), started, finished: run.now(), outcome })
}

async fn run_thread_pool(run: Run, p: ThreadPoolParams) -> RunResult<()> {
    let (n, size, fail) = (p.queries, p.pool, p.fail);
    let mut rng = fastrand::Rng::with_seed(p.seed);
    let spread = p.jitter_pct / 100.0;
    let durations: Vec<f64> = (0..n)
        .map(|_| p.duration_ms * p.time_scale * (1.0 + spread * (rng.f64() * 2.0 - 1.0)))
        .collect();

    for mode in ["completed", "map"] {
        let Some((arrived, most_busy)) = run.measure(mode, pooled(&run, mode, &durations, size, fail)).await? else {
            continue;
        };
        let order: Vec<usize> = arrived.iter().map(|d| d.k).collect();
        let errors: Vec<&String> = arrived.iter().filter_map(|d| d.outcome.as_ref().err()).collect();
        let answers = arrived.iter().filter(|d| d.outcome.is_ok()).count();
        run.verify(most_busy <= size, format!("{mode}: at most {size} queries ran at once (seen: {most_busy})"));
        run.verify(
            answers + errors.len() == n && errors.len() == usize::from(fail > 0),
            format!("{mode}: {answers} answers and {} error(s) for {n} queries", errors.len()),
        );
        if mode == "completed" {
            // Arrival order follows finish times (allowing for two finishing in the same instant).
            let follows = arrived.windows(2).all(|w| w[0].finished <= w[1].finished + 1.0);
            run.verify(follows, format!("results arrived in the order the queries finished: {order:?}"));
            run.result(mode, format!("order {order:?}"));
        } else {
            run.verify(
                order == (1..=n).collect::<Vec<_>>(),
                format!("map gave results in submission order: {order:?}"),
            );
            run.result(mode, format!("order {order:?}"));
        }
        match errors.first() {
            Some(e) => run.note(mode, format!("{answers} answers; failed: {e}")),
            None => run.note(mode, format!("{answers} answers, no errors")),
        }
        let rows = arrived
            .iter()
            .enumerate()
            .map(|(i, d)| {
                vec![
                    (i + 1).to_string(),
                    format!("query {}", d.k),
                    d.lane.clone(),
                    format!("{:.0}", d.finished - d.started),
                    format!("{:.0}", d.finished),
                    match &d.outcome {
                        Ok(answer) => answer.clone(),
                        Err(e) => format!("error: {e}"),
                    },
                ]
            })
            .collect();
        let title =
            if mode == "map" { "map: results in submission order" } else { "as completed: results in arrival order" };
        run.table(title, &["#", "query", "ran on", "took ms", "finished at ms", "result"], rows);
        run.value(&format!("{mode}_order"), order);
        run.value(&format!("{mode}_finished"), arrived.iter().map(|d| (d.k, d.finished)).collect::<Vec<_>>());
        run.value(&format!("{mode}_errors"), errors);
    }
    bare(&run, &durations, fail).await
}

/// Submits every query to a new pool and collects the results, as they complete or in order.
/// Returns them in the order they were received, and the most queries that ran at once.
async fn pooled(run: &Run, mode: &str, durations: &[f64], size: usize, fail: usize) -> RunResult<(Vec<Done>, usize)> {
    let pool = ThreadPool::new(run, size)?;
    let busy = Arc::new(Busy::default());
    let mut futures = Vec::new();
    for (i, &ms) in durations.iter().enumerate() {
        let (run, busy) = (run.clone(), busy.clone());
        futures.push(pool.submit(move |lane| query(&run, lane, i + 1, ms, fail, &busy)));
    }
    run.log("main", format!("submitted {} queries to a pool of {size}", durations.len()));
    let lost = |_| RunError::Failed("a pool thread died".into());
    let mut arrived = Vec::new();
    if mode == "completed" {
        let mut pending: FuturesUnordered<_> = futures.into_iter().collect();
        let mut asked = run.now();
        while let Some(result) = pending.next().await {
            let done = result.map_err(lost)??;
            run.span("main", format!("wait: got query {}", done.k), SpanKind::Wait, asked, run.now());
            asked = run.now();
            report(run, &done);
            arrived.push(done);
        }
    } else {
        for (i, future) in futures.into_iter().enumerate() {
            let done = run.timed_async("main", &format!("wait for query {}", i + 1), SpanKind::Wait, future).await;
            let done = done.map_err(lost)??;
            report(run, &done);
            arrived.push(done);
        }
    }
    pool.shutdown().await?;
    Ok((arrived, busy.most.load(Ordering::SeqCst)))
}

/// What threading.excepthook gets: the thread's name and what it raised.
struct HookArgs {
    thread: String,
    error: String,
    at: f64,
}

type ExceptHook = Arc<dyn Fn(HookArgs) + Send + Sync>;

/// threading.Thread(target=...): the target's outcome goes nowhere; an error ends the thread and
/// is handed to `hook` on that thread. Joining it gives nothing back, error or not.
fn bare_thread(
    name: String,
    hook: ExceptHook,
    target: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> RunResult<threads::JoinHandle<()>> {
    let thread = name.clone();
    threads::spawn(name, move || {
        if let Err(error) = target() {
            hook(HookArgs { thread, error, at: crate::clock::now_ms() });
        }
    })
}

/// One bare thread per query: answers go to a shared list, an error only to the hook.
async fn bare(run: &Run, durations: &[f64], fail: usize) -> RunResult<()> {
    let answers = Arc::new(Mutex::new(Vec::<Done>::new()));
    let hooked = Arc::new(Mutex::new(Vec::<HookArgs>::new()));
    let work = run.measure("bare", async {
        let (run2, seen) = (run.clone(), hooked.clone());
        let hook: ExceptHook = Arc::new(move |args: HookArgs| {
            run2.log(&args.thread, format!("excepthook: Exception in thread {}: {}", args.thread, args.error));
            seen.lock().unwrap().push(args);
        });
        let busy = Arc::new(Busy::default());
        let mut handles = Vec::new();
        for (i, &ms) in durations.iter().enumerate() {
            let (run, answers, busy, k) = (run.clone(), answers.clone(), busy.clone(), i + 1);
            let lane = format!("query {k}");
            handles.push(bare_thread(lane.clone(), hook.clone(), move || {
                // Stopped: the run ends anyway, and Stop is not an exception of the query's.
                let Ok(done) = query(&run, &lane, k, ms, fail, &busy) else { return Ok(()) };
                let answer = done.outcome.clone()?; // the raise: the thread ends here
                run.log(&lane, format!("got {answer}"));
                answers.lock().unwrap().push(done);
                Ok(())
            })?);
        }
        run.log("main", format!("started {} bare threads", durations.len()));
        // Thread.join() returns nothing: joining the thread that failed raises nothing either.
        let joined = run.timed_async("main", "join() every thread", SpanKind::Wait, threads::join_all(handles)).await?;
        run.log("main", format!("joined {} threads: no error reached main", joined.len()));
        Ok(joined.len())
    });
    let Some(joined) = work.await? else { return Ok(()) };
    let answers = answers.lock().unwrap();
    let hooked = hooked.lock().unwrap();
    let n = durations.len();
    let expected_errors = usize::from(fail > 0);
    run.verify(
        joined == n && answers.len() + expected_errors == n,
        format!("bare: all {joined} threads joined without an error; {} answers in the shared list", answers.len()),
    );
    let named = hooked.iter().all(|h| h.thread == format!("query {fail}") && h.error.starts_with(&format!("query {fail}:")));
    run.verify(
        hooked.len() == expected_errors && named,
        format!("bare: the hook saw {} exception(s), each on the thread that raised it", hooked.len()),
    );
    if let Some(h) = hooked.first() {
        let later = answers.iter().filter(|d| d.finished > run.since_start(h.at)).count();
        run.result("bare", format!("{} answers; the hook got: {}", answers.len(), h.error));
        run.note("bare", format!("{later} threads answered after the failing one had died"));
    } else {
        run.result("bare", format!("{} answers, no exceptions", answers.len()));
    }
    run.value("bare_answers", answers.len());
    run.value("bare_hooked", hooked.iter().map(|h| (h.thread.clone(), h.error.clone())).collect::<Vec<_>>());
    Ok(())
}

fn report(run: &Run, done: &Done) {
    match &done.outcome {
        Ok(answer) => run.log("main", format!("got {answer}")),
        Err(e) => run.log("main", format!("failed: {e}")),
    }
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            expect_eq("failures", count_lines(out, "failed: query 2"), 2)?;
            expect_eq("answers", count_lines(out, " rows"), 8)?;
            expect_eq("bare threads' answers", after(out, "bare threads: ")?, 4)?;
            expect_eq("exceptions through the hook", count_lines(out, "excepthook: query 2 raised ConnectionError"), 1)
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{Report, RunStatus};
    use crate::runner::testing::run_native;
    use serde_json::json;

    fn order(report: &Report, key: &str) -> Vec<u64> {
        report.values[key].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect()
    }

    #[test]
    fn completion_order_submission_order_and_the_error() {
        let params = json!({"duration_ms": 100, "jitter_pct": 80, "fail": 2, "seed": 11, "time_scale": 1.0});
        let report = run_native("thread-pool", params, true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        // Completion order: sorted by the finish times the pool threads recorded.
        let finished = report.values["completed_finished"].as_array().unwrap();
        let times: Vec<f64> = finished.iter().map(|p| p[1].as_f64().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1] + 1.0), "{times:?}");
        let completed = order(&report, "completed_order");
        let mut sorted = completed.clone();
        sorted.sort();
        assert_eq!(sorted, [1, 2, 3, 4, 5]);
        // The failing query (which stops halfway) and the spread durations change the order.
        assert_ne!(completed, [1, 2, 3, 4, 5]);
        // map: exactly submission order.
        assert_eq!(order(&report, "map_order"), [1, 2, 3, 4, 5]);
        // The error is shown, and the other four finished.
        for mode in ["completed", "map"] {
            let errors = report.values[&format!("{mode}_errors")].as_array().unwrap();
            assert_eq!(errors.len(), 1);
            assert!(errors[0].as_str().unwrap().starts_with("query 2:"));
            let table =
                report.tables.iter().find(|t| t.title.starts_with(if mode == "map" { "map" } else { "as" })).unwrap();
            assert_eq!(table.rows.iter().filter(|r| r[5].starts_with("error: query 2")).count(), 1);
            assert_eq!(table.rows.iter().filter(|r| r[5].ends_with("rows")).count(), 4);
        }
        assert!(report.log.iter().any(|l| l.text.starts_with("failed: query 2")));
        // A pool of 3: three lanes plus main.
        assert_eq!(report.modes[0].lanes, 4);
        // Bare threads: four answers in the list, query 2's error only through the hook.
        assert_eq!(report.values["bare_answers"], 4);
        let hooked = report.values["bare_hooked"].as_array().unwrap();
        assert_eq!(hooked.len(), 1);
        assert_eq!(hooked[0][0], "query 2");
        assert!(report.log.iter().any(|l| l.lane == "query 2" && l.text.starts_with("excepthook: Exception in thread query 2")));
    }

    #[test]
    fn without_a_failure_all_answer_and_the_pool_bounds_the_time() {
        let report =
            run_native("thread-pool", json!({"duration_ms": 60, "jitter_pct": 0, "fail": 0, "time_scale": 1.0}), true);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert!(report.values["completed_errors"].as_array().unwrap().is_empty());
        // 5 queries on 3 threads: two rounds of 60 ms (three would be 180; loaded machines oversleep).
        let wall = report.modes[1].wall_ms.unwrap();
        assert!((120.0..400.0).contains(&wall), "{wall}");
        let most = report.checks.iter().find(|c| c.text.starts_with("map: at most")).unwrap();
        assert!(most.text.ends_with("(seen: 3)"), "{}", most.text);
    }
}
