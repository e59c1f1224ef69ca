//! task-queue: a Celery-like distributed task queue on isolated workers: broker, acks, a
//! visibility timeout, a result backend, retries with back-off, and a worker killed mid-task.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "task-queue",
        title: "A distributed task queue (Celery-like)",
        chapter: Chapter::Patterns,
        summary: "Submit tasks with .delay(), poll ready() and get(); a broker with acknowledgements and a visibility timeout, retries with back-off, and a worker killed mid-task whose task is delivered again.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("tasks", "Tasks (.delay calls)", 10, 1, 100).help("add(i, i) tasks; one more is the flaky task."),
            Param::int("workers", "Workers", 3, 1, 8),
            Param::int("task_ms", "Task duration (ms)", 150, 1, 5000),
            Param::int("visibility_ms", "Visibility timeout (ms)", 500, 10, 60_000)
                .help("How long a delivered, unacknowledged message stays invisible before it is delivered again."),
            Param::flag("kill", "Kill a worker mid-task", true),
            Param::int("kill_at_ms", "Kill after (ms)", 250, 0, 60_000),
            Param::int("max_retries", "Max retries", 3, 0, 10),
            Param::int("backoff_ms", "Retry back-off (ms)", 100, 0, 10_000).help("Doubled at every retry."),
            Param::int("poll_ms", "Poll ready() every (ms)", 50, 5, 5000),
            Param::flag("resume", "Resume a queue that a reload interrupted", true)
                .help("Tasks and results are saved as they change; the next run finishes what was left."),
        ],
        presets: vec![
            Preset { id: "calm", label: "No crash", values: json!({"kill": false}) },
            Preset { id: "no-retries", label: "No retries (flaky fails)", values: json!({"max_retries": 0}) },
            Preset { id: "many", label: "40 tasks on 6 workers", values: json!({"tasks": 40, "workers": 6, "task_ms": 100}) },
        ],
        modes: vec![Mode::new("queue", "Broker, backend and isolated workers", Model::Workers)],
        code: crate::topic_code!("task_queue/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_task_queue(run, params.read())),
        needs: |p| Needs::workers(p.read::<TaskQueueParams>().workers),
        reads: reads::<TaskQueueParams>,
    }
}

fn check(p: &TaskQueueParams) -> Result<(), FieldError> {
    if p.visibility_ms <= p.task_ms {
        return Err(FieldError::new(
            "visibility_ms",
            "Keep the visibility timeout longer than a task, or healthy tasks are delivered twice",
        ));
    }
    let seconds = (p.tasks as f64 + 1.0) * p.task_ms / p.workers as f64 / 1000.0
        + p.visibility_ms / 1000.0
        + p.backoff_ms * (2f64.powi(p.max_retries as i32) - 1.0) / 1000.0;
    if seconds > 60.0 {
        return Err(FieldError::new("tasks", format!("This would take about {seconds:.0} s; keep it under 60 s")));
    }
    Ok(())
}

// CODE START
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::engines::broker;
use crate::engines::durable::Durable;
use crate::engines::tasks;
use crate::engines::workers::{instance_id, Job, Pool};
use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskQueueParams {
    tasks: usize,
    workers: usize,
    task_ms: f64,
    visibility_ms: f64,
    kill: bool,
    kill_at_ms: f64,
    max_retries: u32,
    backoff_ms: f64,
    poll_ms: f64,
    resume: bool,
}

/// A task call as it travels to a worker: which task, its arguments, and the attempt number
/// (Celery's `self.request.retries`).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub enum Call {
    Add(i64, i64),
    Flaky(i64),
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct Delivery {
    call: Call,
    attempt: u32,
}

/// The task's outcome (a task that raises is an `Err` here, not a crash), and who ran it.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct Outcome {
    result: Result<i64, String>,
    worker_id: u32,
}

/// What a worker process runs for each message (after "working" for the task's duration).
pub static EXECUTE: Job<Delivery, Outcome> = Job {
    name: "task-queue/execute",
    run: |Delivery { call, attempt }| {
        let result = match call {
            Call::Add(x, y) => Ok(x + y),
            Call::Flaky(_) if attempt < 2 => Err(format!("ConnectionError: attempt {attempt} failed")),
            Call::Flaky(x) => Ok(x * 10),
        };
        Ok(Outcome { result, worker_id: instance_id() })
    },
    warm_up: || Delivery { call: Call::Add(1, 2), attempt: 0 },
};

type State = broker::State<i64>;
type Saved = broker::Saved<Call, i64>;

/// Where the broker and the backend are saved.
const STORE: &str = "task-queue";

/// A Celery app: the queue, the worker processes and the settings they share.
struct App<'a> {
    run: &'a Run,
    pool: &'a Pool,
    queue: broker::Queue<Call, i64>,
    /// Per worker: the task it runs and when it started.
    busy: RefCell<Vec<Option<(usize, f64)>>>,
    done: Cell<bool>,
    finished: RefCell<Vec<(usize, usize, f64)>>,
    task_ms: f64,
    visibility: f64,
    max_retries: u32,
    backoff: f64,
}

impl App<'_> {
    /// `.delay()`: publish a message, return the task id at once (an AsyncResult).
    fn delay(&self, id: usize, call: Call) -> usize {
        self.queue.publish(id, call, 0, self.run.now());
        self.queue.backend.set(id, State::Pending);
        id
    }

    fn record(&self, id: usize, state: State) {
        self.queue.record(self.run, id, state);
    }

    fn plot(&self) {
        let (run, broker) = (self.run, self.queue.broker.borrow());
        let axes = ("time (ms)", "messages");
        run.sample("broker", "ready on the broker", axes, (run.now(), broker.waiting() as f64));
        run.sample("broker", "delivered, not acknowledged", axes, (run.now(), broker.unacked.len() as f64));
    }

    /// A worker process's loop: fetch, run, store the outcome, acknowledge (after running).
    async fn worker(&self, w: usize) -> RunResult<()> {
        let (run, lane) = (self.run, Pool::lane(w));
        while !self.done.get() {
            let next = self.queue.broker.borrow_mut().fetch(run, run.now(), self.visibility);
            let Some(message) = next else {
                tasks::sleep(run, 5.0).await?;
                continue;
            };
            self.plot();
            let task_lane = format!("task {:02}", message.id);
            run.span(&task_lane, "queued", SpanKind::Wait, message.queued_at, run.now());
            self.busy.borrow_mut()[w] = Some((message.id, run.now()));
            self.record(message.id, State::Started);
            let label = format!("task {} {:?} try {}", message.id, message.call, message.attempt + 1);
            let delivery = Delivery { call: message.call.clone(), attempt: message.attempt };
            let started = run.now();
            let done = self.pool.run_job_after(run, w, self.task_ms, &EXECUTE, &delivery, &label).await?;
            self.busy.borrow_mut()[w] = None;
            let outcome = match done.output {
                Ok(outcome) => outcome,
                Err(crash) => {
                    // The process died: no result, no ack. The broker will deliver it again.
                    let now = run.now();
                    run.span(&task_lane, format!("worker {} died: {crash}", w + 1), SpanKind::Spawn, started, now);
                    let deadline = self.queue.broker.borrow().unacked.get(&message.id).map_or(now, |(_, d)| *d);
                    run.span(&task_lane, "no ack: invisible until the visibility timeout", SpanKind::Wait, now, deadline);
                    run.log(&lane, format!("died running task {} ({crash}); a new worker takes its place", message.id));
                    // A supervisor starts a new worker process before it asks the broker again.
                    let ping = Delivery { call: Call::Add(0, 0), attempt: 0 };
                    self.pool.run_job(run, w, &EXECUTE, &ping, "new worker ready").await?;
                    continue;
                }
            };
            run.span(&task_lane, format!("on worker {} (#{})", w + 1, outcome.worker_id), SpanKind::Run, started, run.now());
            match outcome.result {
                Ok(value) => {
                    self.record(message.id, State::Success(value));
                    self.finished.borrow_mut().push((message.id, w, run.now()));
                    run.log(&lane, format!("task {} succeeded: {value}", message.id));
                }
                Err(error) if message.attempt < self.max_retries => {
                    let countdown = self.backoff * 2f64.powi(message.attempt as i32);
                    run.log(&lane, format!("task {} raised {error}; retry in {countdown:.0} ms", message.id));
                    let now = run.now();
                    run.span(&task_lane, "retry countdown", SpanKind::Io, now, now + countdown);
                    self.queue.publish(message.id, message.call.clone(), message.attempt + 1, now + countdown);
                    self.record(message.id, State::Retry);
                }
                Err(error) => {
                    run.log(&lane, format!("task {} failed for good: {error}", message.id));
                    self.record(message.id, State::Failure(error));
                    self.finished.borrow_mut().push((message.id, w, run.now()));
                }
            }
            self.queue.broker.borrow_mut().ack(message.id);
            self.plot();
        }
        Ok(())
    }
}

async fn run_task_queue(run: Run, p: TaskQueueParams) -> RunResult<()> {
    let (n, workers) = (p.tasks, p.workers);
    let flaky_id = n + 1;
    let (store, saved) = match Durable::open::<Saved>(STORE).await {
        Ok((store, saved)) => (Some(store), saved),
        Err(error) => {
            run.log("broker", format!("the queue cannot be kept across a reload here ({error})"));
            (None, None)
        }
    };
        let saved = match saved {
        Some(s) if s.unfinished() && !p.resume => {
            run.log("broker", "an unfinished saved queue was dropped: resuming is off");
            None
        }
        Some(s) if s.unfinished() && s.tasks != n => {
            run.log("broker", format!("an unfinished saved queue of {} tasks was dropped: the form asks for {n}", s.tasks));
            None
        }
        Some(s) if s.unfinished() => Some(s),
        _ => None,
    };
    let outcome = run.measure("queue", async {
        let pool = Pool::start(&run, workers).await?;
        let app = App {
            run: &run,
            pool: &pool,
            queue: broker::Queue::new(store, n),
            busy: RefCell::new(vec![None; workers]),
            done: Cell::new(false),
            finished: RefCell::new(Vec::new()),
            task_ms: p.task_ms,
            visibility: p.visibility_ms,
            max_retries: p.max_retries,
            backoff: p.backoff_ms,
        };
        // The client: .delay() every task, then poll ready() until all are, then get().
        let kept = match saved {
            Some(saved) => {
                let kept = app.queue.resume(run.now(), saved);
                run.log("broker", format!("resumed the queue saved before the reload: {} of {} tasks had finished (results kept), the others are delivered again", kept.len(), n + 1));
                kept
            }
            None => Vec::new(),
        };
        let client = async {
            let ids: Vec<usize> = if app.queue.task_ids().is_empty() {
                let mut ids: Vec<usize> = (1..=n).map(|i| app.delay(i, Call::Add(i as i64, i as i64))).collect();
                ids.push(app.delay(flaky_id, Call::Flaky(7)));
                run.log("client", format!("{} tasks sent with .delay()", ids.len()));
                ids
            } else {
                app.queue.task_ids()
            };
            app.queue.save(&run);
            app.plot();
            let deadline = run.now() + 60_000.0;
            loop {
                let ready = ids.iter().filter(|&&id| app.queue.backend.ready(id)).count();
                run.sample("results", "ready() is true", ("time (ms)", "tasks"), (run.now(), ready as f64));
                if ready == ids.len() {
                    break;
                }
                if run.now() > deadline {
                    return Err(RunError::Failed(format!("only {ready} of {} tasks ready after 60 s", ids.len())));
                }
                tasks::sleep(&run, p.poll_ms).await?;
            }
            app.done.set(true);
            Ok::<Vec<(usize, State)>, RunError>(ids.iter().map(|&id| (id, app.queue.backend.get(id))).collect())
        };
        // Chaos: kill one busy worker mid-task.
        let chaos = async {
            if !p.kill {
                return Ok::<Option<(usize, usize)>, RunError>(None);
            }
            tasks::sleep(&run, p.kill_at_ms).await?;
            loop {
                if app.done.get() {
                    return Ok(None);
                }
                // A worker early in its task, so the kill lands mid-task (not as its answer arrives).
                let now = run.now();
                let early = |t: &Option<(usize, f64)>| t.filter(|(_, at)| now - at < app.task_ms * 0.5).map(|(t, _)| t);
                let busy = app.busy.borrow().iter().enumerate().find_map(|(w, t)| early(t).map(|t| (w, t)));
                if let Some((w, task)) = busy {
                    run.log("chaos", format!("killing worker {} in the middle of task {task}", w + 1));
                    pool.kill(&run, w);
                    return Ok(Some((w, task)));
                }
                tasks::sleep(&run, 5.0).await?;
            }
        };
        let loops = futures::future::try_join_all((0..workers).map(|w| app.worker(w)));
        let (results, killed, _) = futures::try_join!(client, chaos, loops)?;
        let attempts = app.queue.attempts();
        Ok((results, killed, app.queue.broker.into_inner(), app.finished.into_inner(), kept, attempts))
    });
    let Some((results, killed, broker, finished, kept, attempts)) = outcome.await? else { return Ok(()) };

    let successes = results.iter().filter(|(_, s)| matches!(s, State::Success(_))).count();
    let flaky_state = results.iter().find(|(id, _)| *id == flaky_id).map(|(_, s)| s.clone());
    run.result("queue", format!("{successes} of {} tasks succeeded", results.len()));
    let mut completions: BTreeMap<usize, usize> = BTreeMap::new();
    for id in finished.iter().map(|f| &f.0).chain(&kept) {
        *completions.entry(*id).or_default() += 1;
    }
    run.verify(
        results.len() == n + 1 && (1..=n + 1).all(|id| completions.get(&id) == Some(&1)),
        format!("every one of the {} tasks finished exactly once in the result backend", n + 1),
    );
    run.verify(
        results.iter().all(|(id, s)| *id == flaky_id || *s == State::Success(2 * *id as i64)),
        format!("every add(i, i) returned 2i ({n} results checked)"),
    );
    let max_retries = p.max_retries;
    if max_retries >= 2 {
        run.verify(
            flaky_state == Some(State::Success(70)) && attempts.get(&flaky_id).is_some_and(|&a| a >= 2),
            "flaky() failed twice, was retried with back-off and succeeded on its third delivery",
        );
    } else {
        run.verify(
            matches!(flaky_state, Some(State::Failure(_))),
            format!("flaky() failed for good after {max_retries} retries"),
        );
    }
    if let Some((w, task)) = killed {
        run.verify(
            broker.redelivered.contains(&task) && broker.deliveries.get(&task).copied().unwrap_or(0) >= 2,
            format!("task {task}, lost with worker {}, was delivered again after the visibility timeout", w + 1),
        );
        run.value("killed_task", task);
    }
    run.verify(broker.unacked.is_empty() && broker.ready.is_empty(), "the broker is empty: every message was acknowledged");
    run.note(
        "queue",
        format!(
            "{} deliveries for {} tasks ({} redelivered after a crash)",
            broker.deliveries.values().sum::<usize>(),
            n + 1,
            broker.redelivered.len()
        ),
    );
    let rows = results
        .iter()
        .map(|(id, state)| {
            let (worker, at) = match finished.iter().find(|f| f.0 == *id) {
                Some(f) => (Pool::lane(f.1), format!("{:.0}", f.2)),
                None if kept.contains(id) => ("before the reload".into(), String::new()),
                None => (String::new(), String::new()),
            };
            vec![
                id.to_string(),
                if *id == flaky_id { "flaky(7)".into() } else { format!("add({id}, {id})") },
                format!("{state:?}"),
                broker.deliveries.get(id).copied().unwrap_or(0).to_string(),
                worker,
                at,
            ]
        })
        .collect();
    run.table("Result backend (get())", &["task", "call", "state", "deliveries", "finished on", "at (ms)"], rows);
    run.value("deliveries", broker.deliveries.values().sum::<usize>());
    run.value("redelivered", broker.redelivered.clone());
    run.value("successes", successes);
    run.value("kept_from_before", kept.len());
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({})),
        output: |out, r| {
            at_least("a killed worker", count_lines(out, "killed a worker running"), 1)?;
            at_least("a redelivery", count_lines(out, "visibility timeout: redelivering"), 1)?;
            expect_eq("successes", after(out, "successes ")?, value(r, "successes"))
        },
        no_constant: &[
            "resume", // its broker lives in memory; a real one (Redis) keeps the queue
        ],
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    #[test]
    fn a_killed_task_is_delivered_again_and_everything_finishes_once() {
        let params = json!({"tasks": 6, "task_ms": 60, "visibility_ms": 200, "kill_at_ms": 30, "backoff_ms": 20});
        let report = run_native("task-queue", params, false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.checks.len(), 5);
        assert_eq!(report.values["successes"], 7);
        let killed = report.values["killed_task"].as_u64().unwrap();
        assert!(report.values["redelivered"].as_array().unwrap().contains(&json!(killed)));
        // 7 tasks, the flaky one delivered 3 times, the killed one twice.
        assert_eq!(report.values["deliveries"], 7 + 2 + 1);
        assert!(report.spans.iter().any(|s| s.label.starts_with("worker") && s.label.contains("died")));
        assert!(report.spans.iter().any(|s| s.label == "retry countdown"));
    }

    #[test]
    fn without_retries_the_flaky_task_fails_and_without_a_kill_nothing_is_redelivered() {
        let params = json!({"tasks": 3, "task_ms": 20, "visibility_ms": 100, "kill": false, "max_retries": 0});
        let report = run_native("task-queue", params, false);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["successes"], 3);
        assert_eq!(report.values["deliveries"], 4);
        assert_eq!(report.values["redelivered"], json!([]));
    }

    #[test]
    fn a_queue_saved_before_a_reload_is_resumed_and_only_its_unfinished_tasks_run() {
        use super::{Call, Saved, State, STORE};
        use crate::engines::durable::Durable;
        // What a run interrupted by a reload left: tasks 1 and 2 done, 3 started, flaky retried once.
        let saved = Saved {
            tasks: 3,
            entries: vec![
                (1, Call::Add(1, 1), 0, State::Success(2)),
                (2, Call::Add(2, 2), 0, State::Success(4)),
                (3, Call::Add(3, 3), 0, State::Started),
                (4, Call::Flaky(7), 1, State::Retry),
            ],
        };
        let (mut store, _) = futures::executor::block_on(Durable::open::<Saved>(STORE)).unwrap();
        store.save(&saved).unwrap();
        drop(store);
        let params = json!({"tasks": 3, "task_ms": 20, "visibility_ms": 100, "kill": false, "backoff_ms": 10});
        let report = run_native("task-queue", params.clone(), false);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert!(report.log.iter().any(|l| l.text.starts_with("resumed the queue saved before the reload: 2 of 4")), "{:?}", report.log);
        assert_eq!(report.values["kept_from_before"], 2);
        assert_eq!(report.values["successes"], 4);
        // Task 3 once; flaky's second and third attempts (and any redelivery a slow machine caused).
        let redelivered = |r: &crate::report::Report| r.values["redelivered"].as_array().unwrap().len() as u64;
        assert_eq!(report.values["deliveries"], 3 + redelivered(&report));
        // That run finished: the next one starts a new queue: 3 adds, flaky three times.
        let again = run_native("task-queue", params, false);
        assert_eq!(again.values["kept_from_before"], 0);
        assert_eq!(again.values["deliveries"], 6 + redelivered(&again));
    }

    #[test]
    fn visibility_must_exceed_a_task() {
        let errors = rejected_native("task-queue", json!({"task_ms": 500, "visibility_ms": 400}));
        assert_eq!(errors[0].field, "visibility_ms");
    }
}
