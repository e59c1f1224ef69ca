//! deadlock: threads take two locks in opposite orders and get stuck; a watchdog notices that
//! nobody progresses, shows who holds and who waits for which lock, and cancels them. The fixed
//! versions (one global lock order; try-lock with a timeout and back-off) finish.

use serde_json::json;

use crate::interleaving::schedule::{self, Failure, Lesson, Size};
use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "deadlock",
        title: "Deadlock: detect it, then avoid it",
        chapter: Chapter::Threads,
        summary: "Two threads take two locks in opposite orders and wait for each other forever; a watchdog catches it. One lock order, or try-lock with back-off, fixes it.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("threads", "Threads (each needs two locks)", 2, 2, 8)
                .help("Thread k takes lock k, then lock k+1 (the last wraps around to the first): a ring of locks."),
            Param::int("rounds", "Transfers per thread", 3, 1, 20),
            Param::int("hold_ms", "Work while holding the first lock (ms)", 100, 1, 2000),
            Param::int("work_ms", "Work while holding both (ms)", 50, 0, 2000),
            Param::int("watchdog_ms", "Watchdog timeout (ms)", 600, 10, 10_000)
                .help("Declare a deadlock when no thread made progress for this long."),
            Param::int("try_ms", "Try-lock timeout (ms)", 50, 1, 2000).help("Fixed version 2: how long to try for the second lock."),
            Param::int("backoff_ms", "Longest random back-off (ms)", 100, 1, 2000),
            Param::float("time_scale", "Time scale", 0.5, 0.01, 1.0, 0.01).help("Multiplies every duration above."),
        ],
        presets: vec![
            Preset { id: "original", label: "Original durations", values: json!({"time_scale": 1.0}) },
            Preset { id: "philosophers", label: "Five philosophers", values: json!({"threads": 5, "rounds": 2}) },
        ],
        modes: vec![
            // Its time is mostly the watchdog's wait: the fixes are compared with each other.
            Mode::new("deadlock", "Opposite orders (deadlocks)", Model::Threads).not_compared(),
            Mode::new("ordered", "Fix 1: one global lock order", Model::Threads),
            Mode::new("trylock", "Fix 2: try-lock with timeout and back-off", Model::Threads),
            Mode::new("scheduled-deadlock", "Opposite orders, on the scheduler (no shared memory)", Model::Scheduled),
            Mode::new("scheduled-ordered", "One lock order, on the scheduler (no shared memory)", Model::Scheduled),
        ],
        code: crate::topic_code!("deadlock/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_deadlock(run, params.read())),
        needs: |p| Needs::threads(p.read::<DeadlockParams>().threads + 1),
        reads: reads::<DeadlockParams>,
    }
}

/// "You schedule" and "Find the bug": `transfer` on the scheduler.
pub fn lesson() -> Lesson {
    Lesson {
        goal: "Make both threads wait forever: each must hold one lock and wait for the other's.",
        failure: Failure::Deadlock,
        shared: "", // locks only: no shared value to show
        update: ("transfer", "transfers"),
        start: 0,
        locks: |size| lock_names(size.threads),
        variants: vec![
            schedule::Variant { id: "deadlock", label: "Opposite orders (deadlocks)" },
            schedule::Variant { id: "ordered", label: "Fix: one global lock order" },
        ],
        size: Size { threads: 2, rounds: 1 },
        body: schedule::body(|variant, size, me, steps| {
            let (left, right) = (me, (me + 1) % size.threads);
            let (first, second) = if variant == "ordered" { (left.min(right), left.max(right)) } else { (left, right) };
            let names = lock_names(size.threads);
            Box::pin(async move {
                for _ in 0..size.rounds {
                    transfer(&steps, (first, second), &Timing::default(), &names).await?;
                }
                Ok(())
            })
        }),
    }
}

fn check(p: &DeadlockParams) -> Result<(), FieldError> {
    // A thread legitimately goes quiet while it works holding locks, or backs off: the
    // watchdog must wait longer than that, or it would call a slow thread deadlocked.
    let quiet = p.hold_ms.max(p.work_ms).max(p.try_ms + p.backoff_ms);
    if p.watchdog_ms <= quiet {
        return Err(FieldError::new(
            "watchdog_ms",
            format!("The watchdog timeout must be longer than a thread can legitimately be quiet ({quiet} ms)"),
        ));
    }
    Ok(())
}

/// Predict, then run: whether one global lock order deadlocks.
pub fn prompts() -> Vec<crate::predict::Prompt> {
    use crate::predict::{Measured, Prompt};
    vec![Prompt::yes_no("ordered-deadlock", "If every thread takes the two locks in one global order, will they deadlock?", |report| {
        let DeadlockParams { rounds, .. } = crate::predict::params(report)?;
        let (mode, v) = ["ordered", "scheduled-ordered"]
            .iter()
            .find_map(|m| report.values.get(*m).map(|v| (*m, v)))
            .ok_or("the one-lock-order version did not run")?;
        let deadlocked = v["deadlock"].as_bool().ok_or("the one-lock-order run did not say whether it deadlocked")?;
        let opposite = report
            .values
            .get("deadlock")
            .and_then(|d| d["detected"].as_bool())
            .or_else(|| report.values.get("scheduled-deadlock").and_then(|d| d["deadlock"].as_bool()));
        let place = if mode == "ordered" { "on real threads" } else { "on the scheduler" };
        let ordered = if deadlocked {
            format!("In one lock order ({place}) the threads deadlocked")
        } else {
            format!("In one lock order ({place}) every thread finished its {rounds} transfers")
        };
        let contrast = match opposite {
            Some(true) => "; in opposite orders they deadlocked, each holding the lock the next one waited for.",
            Some(false) => "; in opposite orders they happened not to deadlock this time.",
            None => ".",
        };
        Ok(Measured::choice(if deadlocked { "yes" } else { "no" }, if deadlocked { "Yes" } else { "No" }, format!("{ordered}{contrast}")))
    })]
}

// CODE START
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::executor::block_on;
use serde::Deserialize;

use crate::engines::{tasks, threads};
use crate::interleaving::schedule::scheduled_mode;
use crate::interleaving::{Names, Recorder, SharedMemory, Stepper, Steps, ThreadSteps};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlockParams {
    threads: usize,
    rounds: usize,
    hold_ms: f64,
    work_ms: f64,
    watchdog_ms: f64,
    try_ms: f64,
    backoff_ms: f64,
    time_scale: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// Thread k takes lock k, then lock k+1: opposite orders, a cycle can form.
    Opposite,
    /// Every thread takes the lower-numbered lock first.
    Ordered,
    /// Like Opposite, but the second lock is tried with a timeout; on failure, back off.
    TryLock,
}

fn lock_names(n: usize) -> Vec<String> {
    (0..n).map(|l| format!("lock {}", (b'A' + l as u8) as char)).collect()
}

/// How long a transfer works with its locks, and tries for the second (None: waits for ever).
#[derive(Default)]
struct Timing {
    hold: f64,
    work: f64,
    try_ms: Option<f64>,
}

/// One transfer, written once for both engines: both locks in the order given, with work in
/// between. A thread holding `first` while waiting for `second` is where the circle closes.
/// With a try-lock, the second lock may not come: then it lets go of the first and returns false.
async fn transfer<S: Steps>(s: &S, (first, second): (usize, usize), t: &Timing, names: &[String]) -> RunResult<bool> {
    s.lock(first).await?;
    s.pause(&format!("holding {}", names[first]), t.hold)?; // the other thread takes its first lock meanwhile
    let got = match t.try_ms {
        None => {
            s.lock(second).await?; // may wait for ever: the other thread holds it and wants ours
            true
        }
        Some(ms) => s.try_lock(second, ms).await?,
    };
    if got {
        s.pause(&format!("holding {} + {}: a transfer", names[first], names[second]), t.work)?;
        s.unlock(second).await?;
    }
    s.unlock(first).await?; // let go, so the other thread can finish
    Ok(got)
}

/// Threads started, and ended (finished or cancelled).
#[derive(Default)]
struct Gate {
    ready: AtomicUsize,
    ended: AtomicUsize,
}

struct Settings {
    variant: Variant,
    threads: usize,
    rounds: usize,
    hold: f64,
    work: f64,
    watchdog: f64,
    try_ms: f64,
    backoff: f64,
}

/// How a thread ended.
enum Ended {
    Done { retries: usize },
    Cancelled,
}

/// What the watchdog found.
#[derive(serde::Serialize)]
struct Deadlock {
    after_ms: f64,
    /// Per thread: (thread, locks it holds, the lock it waits for, who holds that).
    rows: Vec<Vec<String>>,
    /// The threads waiting in a circle, e.g. ["thread 1", "thread 2"].
    cycle: Vec<String>,
}

async fn run_deadlock(run: Run, p: DeadlockParams) -> RunResult<()> {
    let scale = p.time_scale;
    let settings = |variant| Settings {
        variant,
        threads: p.threads,
        rounds: p.rounds,
        hold: p.hold_ms * scale,
        work: p.work_ms * scale,
        watchdog: p.watchdog_ms * scale,
        try_ms: p.try_ms * scale,
        backoff: p.backoff_ms * scale,
    };
    let total = p.threads * p.rounds;

    if let Some((found, ended, free, steps)) = run.measure("deadlock", transfers(&run, settings(Variant::Opposite))).await? {
        let cancelled = ended.iter().filter(|e| matches!(e, Ended::Cancelled)).count();
        match &found {
            Some(d) => {
                run.result("deadlock", format!("deadlock detected after {:.0} ms without progress", d.after_ms));
                run.note(
                    "deadlock",
                    format!(
                        "waiting in a circle: {} -> {}; its time is mostly the watchdog's wait, so the fixes are compared with each other",
                        d.cycle.join(" -> "),
                        d.cycle[0]
                    ),
                );
                run.verify(
                    !d.cycle.is_empty(),
                    format!("the watchdog found a cycle of {} threads, each waiting for the next", d.cycle.len()),
                );
                run.verify(
                    cancelled >= d.cycle.len(),
                    format!("{cancelled} stuck threads were cancelled, gave up their locks and ended"),
                );
            }
            None => {
                run.result("deadlock", "no deadlock this time: the timing let every thread through");
                run.note("deadlock", "lucky timing; the lock orders are still wrong");
            }
        }
        run.verify(free, "after the run every lock is free again");
        if let (Some(d), Some(graph)) = (&found, &steps.graph) {
            let (mut seen, mut recorded) = (d.cycle.clone(), graph.cycle.clone());
            seen.sort();
            recorded.sort();
            run.verify(
                seen == recorded,
                format!("replaying the recorded lock steps finds the same circle as the watchdog: {}", recorded.join(", ")),
            );
        }
        run.value("deadlock", json!({"detected": found.is_some(), "cancelled": cancelled, "found": found}));
        run.stepper(steps);
    }

    // The same lock orders on the scheduler engine, where threads cannot run.
    let lesson = lesson();
    let size = Size { threads: p.threads, rounds: p.rounds };
    for (mode, variant) in [("scheduled-deadlock", "deadlock"), ("scheduled-ordered", "ordered")] {
        let Some((machine, steps)) = scheduled_mode(&run, mode, &lesson, variant, size, true).await? else { continue };
        if machine.deadlocked() {
            let cycle = steps.graph.as_ref().map(|g| g.cycle.join(" -> ")).unwrap_or_default();
            run.result(mode, format!("deadlock: {cycle} each wait for the next"));
            run.verify(
                steps.graph.is_some(),
                format!("{mode}: no thread could move, and the steps show the circle of waiting threads ({cycle})"),
            );
        } else {
            run.result(mode, format!("{total} transfers done"));
        }
        if variant == "ordered" {
            run.verify(
                machine.finished(),
                format!("{mode}: every thread finished its {} transfers: one lock order cannot deadlock", p.rounds),
            );
        }
        run.value(mode, json!({"deadlock": machine.deadlocked(), "finished": machine.finished()}));
    }

    for (mode, variant) in [("ordered", Variant::Ordered), ("trylock", Variant::TryLock)] {
        let Some((found, ended, free, steps)) = run.measure(mode, transfers(&run, settings(variant))).await? else { continue };
        run.stepper(steps);
        let done = ended.iter().filter(|e| matches!(e, Ended::Done { .. })).count();
        let retries: usize = ended.iter().map(|e| if let Ended::Done { retries } = e { *retries } else { 0 }).sum();
        run.verify(
            found.is_none() && done == ended.len() && free,
            format!("{mode}: every thread finished its {} transfers; the watchdog never fired", p.rounds),
        );
        run.result(mode, format!("{} transfers done", done * p.rounds));
        if variant == Variant::TryLock {
            run.note(mode, format!("{retries} times a thread gave up its first lock and backed off"));
        }
        run.value(mode, json!({"completed": done * p.rounds, "expected": total, "retries": retries, "deadlock": found.is_some()}));
    }
    Ok(())
}

/// Runs the threads and the watchdog side by side. Returns what the watchdog found (if it
/// fired), how each thread ended, whether all locks were free at the end, and the lock steps.
async fn transfers(run: &Run, s: Settings) -> RunResult<(Option<Deadlock>, Vec<Ended>, bool, Stepper)> {
    let n = s.threads;
    let recorder = Recorder::new(true, n);
    let locks = lock_names(n);
    let memory = Arc::new(SharedMemory::new(0, &locks, n));
    let gate = Arc::new(Gate::default());
    let s = Arc::new(s);
    let mut handles = Vec::new();
    for me in 0..n {
        let (run, memory, gate, s, recorder) = (run.clone(), memory.clone(), gate.clone(), s.clone(), recorder.clone());
        handles.push(threads::spawn(format!("thread {}", me + 1), move || {
            let lane = format!("thread {}", me + 1);
            let mut track = recorder.track(&run, &lane, me + 1);
            let ended = worker(&run, &lane, ThreadSteps::new(&run, &lane, me, &memory, &mut track), &memory, &gate, &s, me);
            gate.ended.fetch_add(1, Ordering::SeqCst);
            ended
        })?);
    }
    let (found, ended) = futures::join!(watchdog(run, &memory, &gate, &s), threads::join_all(handles));
    let ended = ended?.into_iter().collect::<RunResult<Vec<_>>>()?;
    let found = found?;
    let free = (0..n).all(|l| memory.holder(l).is_none());
    let mode = match s.variant {
        Variant::Opposite => "deadlock",
        Variant::Ordered => "ordered",
        Variant::TryLock => "trylock",
    };
    let steps = recorder.finish(&Names { mode, shared: "locks", update: ("update", "updates"), locks: &locks });
    Ok((found, ended, free, steps))
}

/// One thread: `rounds` transfers, each needing its two locks.
#[allow(clippy::too_many_arguments)]
fn worker(run: &Run, lane: &str, steps: ThreadSteps, memory: &SharedMemory, gate: &Gate, s: &Settings, me: usize) -> RunResult<Ended> {
    let (left, right) = (me, (me + 1) % s.threads);
    let (first, second) = match s.variant {
        Variant::Ordered => (left.min(right), left.max(right)),
        _ => (left, right),
    };
    let names = lock_names(s.threads);
    let timing = Timing { hold: s.hold, work: s.work, try_ms: (s.variant == Variant::TryLock).then_some(s.try_ms) };
    let mut rng = fastrand::Rng::with_seed(crate::clock::now_ms() as u64 + me as u64);
    // Start together, so the threads really overlap.
    gate.ready.fetch_add(1, Ordering::SeqCst);
    while gate.ready.load(Ordering::SeqCst) < s.threads {
        threads::sleep(run, 0.2)?;
    }
    let mut retries = 0;
    for round in 1..=s.rounds {
        loop {
            // The steps of real threads complete at once: block_on just runs the body through.
            match block_on(transfer(&steps, (first, second), &timing, &names)) {
                Ok(true) => break,
                Ok(false) => {
                    retries += 1;
                    let pause = rng.f64() * s.backoff;
                    let (wanted, held) = (&names[second], &names[first]);
                    run.log(lane, format!("round {round}: no {wanted} within {:.0} ms: released {held}, backing off", s.try_ms));
                    run.timed(lane, "back off", SpanKind::Io, || threads::sleep(run, pause))?;
                }
                Err(_) if memory.aborted() && !run.is_cancelled() => {
                    run.log(lane, format!("round {round}: cancelled by the watchdog while waiting for a lock"));
                    steps.release_all(); // let go of what it holds, and end
                    return Ok(Ended::Cancelled);
                }
                Err(stopped) => {
                    steps.release_all();
                    return Err(stopped);
                }
            }
        }
        run.log(lane, format!("round {round}: transfer done, released both"));
    }
    Ok(Ended::Done { retries })
}

/// Polls the count of lock moves from the event loop. When none happened for `s.watchdog` ms,
/// reports who holds and who waits for which lock, and cancels the threads.
async fn watchdog(run: &Run, memory: &SharedMemory, gate: &Gate, s: &Settings) -> RunResult<Option<Deadlock>> {
    let poll = (s.watchdog / 10.0).clamp(1.0, 20.0);
    let (mut last, mut since) = (memory.moves(), run.now());
    while gate.ended.load(Ordering::SeqCst) < s.threads {
        tasks::sleep(run, poll).await?;
        let now = memory.moves();
        if now != last || gate.ready.load(Ordering::SeqCst) < s.threads {
            // Progress (or threads still starting up): restart the clock.
            (last, since) = (now, run.now());
            continue;
        }
        let quiet = run.now() - since;
        if quiet < s.watchdog || gate.ended.load(Ordering::SeqCst) == s.threads {
            continue;
        }
        // Nobody moved for the whole timeout: read the wait-for graph.
        run.span("watchdog", "no progress", SpanKind::Wait, since, run.now());
        let names = lock_names(s.threads);
        let thread = |t: usize| format!("thread {}", t + 1);
        let mut rows = Vec::new();
        for t in 0..s.threads {
            let holds: Vec<String> = (0..s.threads).filter(|&l| memory.holder(l) == Some(t)).map(|l| names[l].clone()).collect();
            let holds = if holds.is_empty() { "nothing".to_string() } else { holds.join(", ") };
            let (wants, held_by) = match memory.waits_for(t) {
                Some(l) => (names[l].clone(), memory.holder(l).map(thread).unwrap_or("nobody".into())),
                None => ("-".into(), "-".into()),
            };
            run.log("watchdog", format!("{} holds {holds} and waits for {wants} (held by {held_by})", thread(t)));
            rows.push(vec![thread(t), holds, wants, held_by]);
        }
        let next = |t: usize| memory.waits_for(t).and_then(|l| memory.holder(l));
        let cycle: Vec<String> = find_cycle(next, s.threads).into_iter().map(thread).collect();
        run.log("watchdog", format!("no progress for {quiet:.0} ms: deadlock. Cancelling the stuck threads."));
        run.table("Who holds what (watchdog)", &["thread", "holds", "waits for", "which is held by"], rows.clone());
        memory.abort();
        return Ok(Some(Deadlock { after_ms: quiet, rows, cycle }));
    }
    Ok(None)
}

/// Follows "waits for a lock held by" from each thread until a thread repeats: that is a cycle
/// of threads each waiting for the next, which none of them can ever leave.
fn find_cycle(next: impl Fn(usize) -> Option<usize>, n: usize) -> Vec<usize> {
    for start in 0..n {
        let mut path = vec![start];
        while let Some(u) = next(path[path.len() - 1]) {
            if let Some(i) = path.iter().position(|&t| t == u) {
                return path.split_off(i);
            }
            path.push(u);
        }
    }
    Vec::new()
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            after(out, "transfer deadlocked")?;
            after(out, "transfer_ordered finished")?;
            after(out, "transfer_trylock finished").map(|_| ())
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{RunStatus, SpanKind};
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    fn fast(extra: serde_json::Value) -> serde_json::Value {
        // A generous watchdog: on a loaded machine a sleeping thread can oversleep a lot.
        let mut params =
            json!({"hold_ms": 20, "work_ms": 5, "watchdog_ms": 200, "try_ms": 10, "backoff_ms": 20, "time_scale": 1.0});
        params.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        params
    }

    #[test]
    fn the_watchdog_detects_the_deadlock_and_the_fixed_versions_complete() {
        for _ in 0..2 {
            // Twice: the run after a deadlock works just the same.
            let report = run_native("deadlock", fast(json!({})), true);
            assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
            assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
            let d = &report.values["deadlock"];
            assert_eq!(d["detected"], true, "{d}");
            assert_eq!(d["cancelled"], 2);
            assert_eq!(d["found"]["cycle"], json!(["thread 1", "thread 2"]));
            // Who holds and who waits for which lock: thread 1 holds A and waits for B, and vice versa.
            assert_eq!(d["found"]["rows"][0], json!(["thread 1", "lock A", "lock B", "thread 2"]));
            assert_eq!(d["found"]["rows"][1], json!(["thread 2", "lock B", "lock A", "thread 1"]));
            assert!(d["found"]["after_ms"].as_f64().unwrap() >= 200.0);
            assert_eq!(report.tables[0].rows.len(), 2);
            // The deadlocked wait is drawn as waiting, and the mode ended soon after detection.
            assert!(report
                .spans
                .iter()
                .any(|s| s.mode == "deadlock" && s.kind == SpanKind::Wait && s.label.contains("deadlocked")));
            // It ends soon after the detection (not hanging): start-up + hold + timeout + slack.
            let wall = report.modes[0].wall_ms.unwrap();
            assert!(wall < 20.0 + 200.0 + 500.0, "{wall}");
            // The watchdog's wait is no baseline: the fixes are compared with each other.
            assert!(report.modes[0].wall_ms.is_some() && report.modes[0].speedup.is_none());
            assert_eq!(report.baseline.as_deref(), Some("ordered"));
            for mode in ["ordered", "trylock"] {
                assert!(report.modes.iter().any(|m| m.id == mode && m.speedup.is_some()), "{mode}");
                assert_eq!(report.values[mode]["completed"], 6, "{mode}");
                assert_eq!(report.values[mode]["deadlock"], false, "{mode}");
            }
            // The recorded lock steps: the circle formed at a step where a thread asked for a
            // lock held by the other, drawn as a wait-for graph and explained.
            let stepper = report.steppers.iter().find(|s| s.mode == "deadlock").unwrap();
            let graph = stepper.graph.as_ref().expect("a wait cycle in the recorded steps");
            let at = &stepper.steps[graph.step];
            assert_eq!(at.op, crate::interleaving::Op::LockWait);
            assert!(graph.edges.contains(&("thread 1".into(), "lock B".into(), "waits for".into())), "{:?}", graph.edges);
            assert!(graph.edges.contains(&("lock B".into(), "thread 2".into(), "held by".into())), "{:?}", graph.edges);
            assert!(stepper.findings[0].text.contains("thread 1 holds lock A and waits for lock B"), "{}", stepper.findings[0].text);
            assert_eq!(stepper.finding, "deadlock");
            let ordered = report.steppers.iter().find(|s| s.mode == "ordered").unwrap();
            assert!(ordered.graph.is_none() && ordered.findings.is_empty());
            assert_eq!(ordered.finding, "deadlock", "locks alone are looked at for deadlocks");
            // Every acquire is followed by its release: 2 threads x 3 rounds x 2 locks.
            let count = |op| ordered.steps.iter().filter(|s| s.op == op).count();
            assert_eq!(count(crate::interleaving::Op::LockAcquire), 12);
            assert_eq!(count(crate::interleaving::Op::LockRelease), 12);
        }
    }

    #[test]
    fn a_ring_of_five_deadlocks_and_its_fixes_finish() {
        let report = run_native("deadlock", fast(json!({"threads": 5, "rounds": 2})), true);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["deadlock"]["found"]["cycle"].as_array().unwrap().len(), 5);
        assert_eq!(report.values["ordered"]["completed"], 10);
        assert_eq!(report.values["trylock"]["completed"], 10);
    }

    #[test]
    fn a_watchdog_shorter_than_the_work_is_refused() {
        let errors = rejected_native("deadlock", json!({"hold_ms": 500, "watchdog_ms": 400}));
        assert_eq!(errors[0].field, "watchdog_ms");
    }
}
