//! race: many threads withdraw from one balance; read-pause-write without a lock loses updates,
//! the same steps under a lock do not.

use serde_json::json;

use crate::interleaving::schedule::{self, Failure, Lesson, Size, Variant};
use crate::params::{group, FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "race",
        title: "A race condition: lost updates",
        chapter: Chapter::Threads,
        summary: "Ten threads withdraw 1 a hundred times each from a balance of 1000: without a lock updates get lost; with one the balance ends at 0.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("balance", "Starting balance", 1000, 0, 1_000_000),
            Param::int("threads", "Threads", 10, 1, 64),
            Param::int("withdrawals", "Withdrawals per thread", 100, 1, 10_000).help("Each withdrawal takes 1."),
            Param::float("pause_ms", "Pause between read and write (ms)", 1.0, 0.0, 50.0, 0.1)
                .help("Widens the window in which another thread can read the same old balance."),
            Param::flag("record", "Record every read and write (for stepping through)", true)
                .help("Each thread keeps its own list of steps; it costs about 1% here."),
            Param::choice("sweep", "What if…", "off", &[
                ("off", "no sweep"),
                ("pause", "sweep the pause, 0 ms up to the pause above"),
                ("threads", "sweep the number of threads, 1 up to the threads above"),
            ])
            .help("After the modes, runs the unsafe version again at each point (3 runs each) and plots the lost updates."),
        ],
        presets: vec![
            Preset { id: "no-pause", label: "No pause (a narrow window)", values: json!({"pause_ms": 0.0}) },
            Preset { id: "two-threads", label: "Two threads", values: json!({"threads": 2, "withdrawals": 200}) },
            Preset { id: "what-if-pause", label: "What if: sweep the pause", values: json!({"sweep": "pause", "pause_ms": 2.0}) },
        ],
        modes: vec![
            Mode::new("unsafe", "Unsafe: read, pause, write (no lock)", Model::Threads),
            Mode::new("safe", "Safe: the same under a lock", Model::Threads),
            Mode::new("scheduled-unsafe", "Unsafe, on the scheduler (no shared memory)", Model::Scheduled),
            Mode::new("scheduled-safe", "Safe, on the scheduler (no shared memory)", Model::Scheduled),
        ],
        code: crate::topic_code!("race/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_race(run, params.read())),
        needs: |p| Needs::threads(p.read::<RaceParams>().threads),
        reads: reads::<RaceParams>,
    }
}

/// "You schedule" and "Find the bug": the same `withdraw` on the scheduler.
pub fn lesson() -> Lesson {
    Lesson {
        goal: "Make a withdrawal vanish: let both threads read the balance before either writes it back.",
        failure: Failure::LostUpdate,
        shared: "balance",
        update: ("withdrawal", "withdrawals"),
        start: 100,
        locks: |_| vec!["the lock".to_string()],
        variants: vec![
            Variant { id: "unsafe", label: "Unsafe: read, pause, write (no lock)" },
            Variant { id: "safe", label: "Safe: the same under a lock" },
        ],
        size: Size { threads: 2, rounds: 1 },
        body: schedule::body(|variant, size, _thread, steps| {
            let locked = variant == "safe";
            Box::pin(async move {
                for _ in 0..size.rounds {
                    withdraw(&steps, locked, 0.0).await?;
                }
                Ok(())
            })
        }),
    }
}

fn check(p: &RaceParams) -> Result<(), FieldError> {
    let steps = (p.threads * p.withdrawals) as i64;
    if steps > 100_000 {
        return Err(FieldError::new(
            "withdrawals",
            format!("threads x withdrawals is {}; keep it at most 100,000", group(steps)),
        ));
    }
    // Under the lock the pauses add up: keep the safe mode under half a minute.
    let locked_ms = steps as f64 * p.pause_ms;
    if locked_ms > 30_000.0 {
        return Err(FieldError::new(
            "pause_ms",
            format!("under the lock the pauses add up to {locked_ms:.0} ms; keep threads x withdrawals x pause at most 30,000 ms"),
        ));
    }
    // A sweep repeats the unsafe mode (whose threads pause side by side) at every point.
    let one_run_ms = |pause: f64| p.withdrawals as f64 * pause * SWEEP_RUNS as f64;
    let sweep_ms = match p.sweep.as_str() {
        // The pauses of the points add up to (points + 1) / 2 times the largest.
        "pause" => one_run_ms(sweep_top(p.pause_ms)) * (SWEEP_POINTS as f64 + 1.0) / 2.0,
        "threads" => one_run_ms(p.pause_ms) * SWEEP_POINTS.min(p.threads) as f64,
        _ => 0.0,
    };
    if sweep_ms > 30_000.0 {
        return Err(FieldError::new(
            "sweep",
            format!("this sweep would pause for about {sweep_ms:.0} ms; keep withdrawals x pause smaller, at most 30,000 ms in all"),
        ));
    }
    Ok(())
}

/// Predict, then run: how many withdrawals vanish without the lock.
pub fn prompts() -> Vec<crate::predict::Prompt> {
    use crate::predict::{Measured, Prompt};
    let answers = [("none", "None"), ("some", "Some (at most half)"), ("most", "Most (more than half)")];
    vec![Prompt::choice("lost-updates", "Without the lock, how many of the withdrawals will be lost?", &answers, |report| {
        let (mode, o) = ["unsafe", "scheduled-unsafe"]
            .iter()
            .find_map(|m| report.values.get(*m).map(|o| (*m, o)))
            .ok_or("the unsafe version did not run")?;
        let number = |key: &str| o[key].as_i64().ok_or(format!("the unsafe run reported no {key}"));
        let (lost, withdrawals) = (number("lost")?, number("withdrawals")?);
        let share = lost as f64 / withdrawals.max(1) as f64;
        let id = if lost <= 0 { "none" } else if share > 0.5 { "most" } else { "some" };
        let place = if mode == "unsafe" { "on real threads" } else { "on the scheduler" };
        let mut measured = Measured::choice(
            id,
            format!("{} of {} lost", group(lost), group(withdrawals)),
            format!(
                "Without the lock ({place}) the balance ended at {} instead of {}: {} of {} withdrawals vanished ({:.0}%).",
                group(number("final_balance")?),
                group(number("expected")?),
                group(lost),
                group(withdrawals),
                share * 100.0
            ),
        );
        // Within 5 points of half, "some" and "most" both count.
        if lost > 0 && (share - 0.5).abs() <= 0.05 {
            measured.also = vec!["some".into(), "most".into()];
        }
        Ok(measured)
    })]
}

// CODE START
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::executor::block_on;
use serde::Deserialize;

use crate::engines::threads;
use crate::interleaving::schedule::scheduled_mode;
use crate::interleaving::{Names, Recorder, SharedMemory, Steps, ThreadSteps};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RaceParams {
    balance: i64,
    threads: usize,
    withdrawals: usize,
    pause_ms: f64,
    record: bool,
    sweep: String,
}

/// What one mode ended with.
#[derive(serde::Serialize)]
struct Outcome {
    start: i64,
    withdrawals: i64,
    expected: i64,
    final_balance: i64,
    /// Withdrawals whose effect was overwritten: final - expected, from the real final balance.
    lost: i64,
}

#[derive(Clone, Copy)]
struct Setup {
    start: i64,
    threads: usize,
    per_thread: usize,
    pause: f64,
    /// Plot the balance as it goes (not in a sweep).
    plot: bool,
}

impl Setup {
    fn expected(&self) -> i64 {
        self.start - (self.threads * self.per_thread) as i64
    }
}

/// A "what if" sweep: this many points, each run this many times (the median is plotted).
const SWEEP_POINTS: usize = 7;
const SWEEP_RUNS: usize = 3;

async fn run_race(run: Run, p: RaceParams) -> RunResult<()> {
    let setup = Setup {
        start: p.balance,
        threads: p.threads,
        per_thread: p.withdrawals,
        pause: p.pause_ms,
        plot: true,
    };
    let outcome = |final_balance: i64| {
        let withdrawals = (setup.threads * setup.per_thread) as i64;
        let expected = setup.expected();
        Outcome { start: setup.start, withdrawals, expected, final_balance, lost: final_balance - expected }
    };
    let names = |mode| Names { mode, shared: "balance", update: ("withdrawal", "withdrawals"), locks: &[] };

    let recorder = Recorder::new(p.record, setup.threads);
    if let Some(final_balance) = run.measure("unsafe", withdrawals(&run, setup, false, &recorder)).await? {
        let o = outcome(final_balance);
        run.result("unsafe", format!("final {} (expected {}): {} updates lost", o.final_balance, o.expected, o.lost));
        let note = if setup.threads == 1 {
            "one thread alone cannot race with anybody".to_string()
        } else if o.lost == 0 {
            "no update was lost this time: the threads got lucky, the code is still wrong".to_string()
        } else {
            format!(
                "{} of {} withdrawals vanished: threads read the same balance and overwrote each other",
                o.lost, o.withdrawals
            )
        };
        run.log("main", format!("unsafe: {note}"));
        run.note("unsafe", note);
        run.value("unsafe", &o);
        if recorder.is_on() {
            let stepper = recorder.finish(&names("unsafe"));
            if stepper.recorded == stepper.happened {
                // Every step is there: the writes over unread values must explain the whole loss.
                let explained: i64 = stepper.findings.iter().map(|f| f.lost).sum();
                run.verify(
                    explained == o.lost,
                    format!("the recorded steps explain all {} lost updates: each is a write over a balance its thread had not read (found {explained})", o.lost),
                );
            }
            run.stepper(stepper);
        }
    }

    let recorder = Recorder::new(p.record, setup.threads);
    if let Some(final_balance) = run.measure("safe", withdrawals(&run, setup, true, &recorder)).await? {
        let o = outcome(final_balance);
        run.result("safe", format!("final {} (expected {})", o.final_balance, o.expected));
        run.verify(
            o.lost == 0,
            format!("with the lock the balance ends at exactly {}: got {}", o.expected, o.final_balance),
        );
        run.value("safe", &o);
        if recorder.is_on() {
            run.stepper(recorder.finish(&Names { locks: &["the lock".to_string()], ..names("safe") }));
        }
    }

    // The same withdrawals on the scheduler engine: runs where threads cannot.
    let lesson = Lesson { start: setup.start, ..lesson() };
    let size = Size { threads: setup.threads, rounds: setup.per_thread };
    for (mode, variant) in [("scheduled-unsafe", "unsafe"), ("scheduled-safe", "safe")] {
        let Some((machine, steps)) = scheduled_mode(&run, mode, &lesson, variant, size, p.record).await? else { continue };
        let o = outcome(machine.value());
        run.result(mode, format!("final {} (expected {}): {} updates lost", o.final_balance, o.expected, o.lost));
        let explained: i64 = steps.findings.iter().map(|f| f.lost).sum();
        if variant == "unsafe" {
            run.verify(
                explained == o.lost,
                format!("scheduled: the steps explain all {} lost updates, each a write over a balance its thread had not read (found {explained})", o.lost),
            );
        } else {
            run.verify(o.lost == 0 && explained == 0, format!("scheduled, with the lock: the balance ends at exactly {}", o.expected));
        }
        run.value(mode, &o);
    }

    if p.sweep != "off" && run.can_run("unsafe") {
        what_if(&run, &p.sweep, setup).await?;
    }
    Ok(())
}

/// One withdrawal, written once for both engines: on real threads (`ThreadSteps`) each step
/// happens at once on real shared memory; on the scheduler each waits for this thread's turn.
async fn withdraw<S: Steps>(s: &S, locked: bool, pause_ms: f64) -> RunResult<i64> {
    if locked {
        s.lock(0).await?; // one thread at a time from here (blocks while another is inside)...
    }
    let seen = s.read().await?; // read
    s.pause("", pause_ms)?; // others may read the same value now
    s.write(seen - 1).await?; // write back: without the lock, may overwrite another withdrawal
    if locked {
        s.unlock(0).await?; // ...to here: let the next thread in
    }
    Ok(seen)
}

/// Each thread withdraws `s.per_thread` times on real shared memory (an atomic value, whose write
/// is a swap, so each says what it overwrote, and a lock), with or without the lock: the Python
/// loop that starts and joins the threads. Each thread records its steps on its own track.
async fn withdrawals(run: &Run, s: Setup, locked: bool, recorder: &Arc<Recorder>) -> RunResult<i64> {
    let memory = Arc::new(SharedMemory::new(s.start, &["the lock".to_string()], s.threads));
    let ready = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for t in 1..=s.threads {
        let (run, memory, ready, recorder) = (run.clone(), memory.clone(), ready.clone(), recorder.clone());
        handles.push(threads::spawn(format!("thread {t}"), move || -> RunResult<()> {
            let lane = format!("thread {t}");
            let mut track = recorder.track(&run, &lane, t);
            start_together(&run, &lane, &ready, s.threads)?;
            let steps = ThreadSteps::new(&run, &lane, t - 1, &memory, &mut track);
            for _ in 0..s.per_thread {
                let began = run.now();
                // The steps of real threads complete at once: block_on just runs the body through.
                let seen = block_on(withdraw(&steps, locked, s.pause))?;
                let now = run.now();
                let (label, series) = if locked { ("locked: ", "safe (lock)") } else { ("", "unsafe") };
                run.span(&lane, format!("{label}read {seen}, wrote {}", seen - 1), SpanKind::Io, began, now);
                if s.plot {
                    run.sample("balance", series, ("time (ms)", "balance"), (now, (seen - 1) as f64));
                }
            }
            Ok(())
        })?);
    }
    for outcome in threads::join_all(handles).await? {
        outcome?;
    }
    Ok(memory.value())
}

/// Waits until all `n` threads have started (starting one takes a while, in a browser tens
/// of milliseconds), so they really run at the same time, as they would in Python.
fn start_together(run: &Run, lane: &str, ready: &AtomicUsize, n: usize) -> RunResult<()> {
    let arrived = run.now();
    ready.fetch_add(1, Ordering::SeqCst);
    while ready.load(Ordering::SeqCst) < n {
        threads::sleep(run, 0.2)?;
    }
    run.span(lane, "wait for the others to start", SpanKind::Wait, arrived, run.now());
    Ok(())
}

/// The largest pause a pause sweep tries: the learner's, or 1 ms when that is 0.
fn sweep_top(pause: f64) -> f64 {
    if pause > 0.0 {
        pause
    } else {
        1.0
    }
}

/// What if the pause were shorter, or there were fewer threads? Runs the unsafe version at each
/// point of the sweep (unrecorded, untraced) and plots the median number of lost updates.
async fn what_if(run: &Run, sweep: &str, s: Setup) -> RunResult<()> {
    let points: Vec<(f64, Setup)> = match sweep {
        "pause" => (0..SWEEP_POINTS)
            .map(|i| {
                let pause = sweep_top(s.pause) * i as f64 / (SWEEP_POINTS - 1) as f64;
                (pause, Setup { pause, plot: false, ..s })
            })
            .collect(),
        _ => {
            let counts = (0..SWEEP_POINTS.min(s.threads))
                .map(|i| 1 + i * (s.threads - 1) / (SWEEP_POINTS.min(s.threads) - 1).max(1));
            counts.map(|threads| (threads as f64, Setup { threads, plot: false, ..s })).collect()
        }
    };
    let axis = if sweep == "pause" { "pause between read and write (ms)" } else { "threads" };
    run.set_tracing(false);
    let (mut rows, mut found) = (Vec::new(), Vec::new());
    for (i, (x, point)) in points.iter().enumerate() {
        run.progress(i as f64, points.len() as f64, format!("what if: {axis} = {x:.2}"));
        let mut lost = Vec::new();
        for _ in 0..SWEEP_RUNS {
            let final_balance = withdrawals(run, *point, false, &Recorder::new(false, 1)).await?;
            lost.push(final_balance - point.expected());
        }
        lost.sort_unstable();
        let median = lost[SWEEP_RUNS / 2];
        run.sample("what-if", "lost updates (median of 3 runs)", (axis, "lost updates"), (*x, median as f64));
        let runs: Vec<String> = lost.iter().map(|l| l.to_string()).collect();
        rows.push(vec![format!("{x:.2}"), (point.threads * point.per_thread).to_string(), runs.join(", "), median.to_string()]);
        found.push(json!({"x": x, "lost": lost, "median": median}));
    }
    run.set_tracing(true);
    run.table(&format!("What if: lost updates by {axis}"), &[axis, "withdrawals", "lost in each run", "median"], rows);
    run.value("what_if", json!({"axis": axis, "points": found}));
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            let unsafe_line = out.lines().find(|l| l.starts_with("withdraw_unsafe")).ok_or("no unsafe line")?;
            let lost: i64 = unsafe_line.rsplit(' ').next().and_then(|n| n.parse().ok()).ok_or("no lost count")?;
            if lost <= 0 {
                return Err(format!("the unsafe race lost {lost} updates; expected some"));
            }
            expect_eq("safe final balance", after(out, "withdraw_safe final ")?, 0)
        },
        no_constant: &[
            "record", // the page's stepper, not part of the program
            "sweep",  // the page's what-if chart
        ],
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{Report, RunStatus, SpanKind};
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    fn int(report: &Report, mode: &str, key: &str) -> i64 {
        report.values[mode][key].as_i64().unwrap_or_else(|| panic!("{mode}.{key} missing: {:?}", report.values))
    }

    #[test]
    fn safe_ends_at_exactly_the_expected_balance_on_every_run() {
        for _ in 0..3 {
            let report =
                run_native("race", json!({"balance": 200, "threads": 8, "withdrawals": 25, "pause_ms": 0.1}), true);
            assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
            assert_eq!(int(&report, "safe", "final_balance"), 0);
            assert_eq!(int(&report, "safe", "lost"), 0);
            assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
            // Blocking on the lock shows as waiting on the timeline.
            assert!(report
                .spans
                .iter()
                .any(|s| s.mode == "safe" && s.kind == SpanKind::Wait && s.label == "wait for the lock"));
        }
    }

    #[test]
    fn unsafe_lost_updates_come_from_the_real_final_balance() {
        let report =
            run_native("race", json!({"balance": 1000, "threads": 10, "withdrawals": 20, "pause_ms": 0.3}), true);
        let final_balance = int(&report, "unsafe", "final_balance");
        let lost = int(&report, "unsafe", "lost");
        assert_eq!(lost, final_balance - (1000 - 200));
        // The final balance is one of the values the threads really wrote.
        let series = report.series.iter().find(|s| s.name == "unsafe").unwrap();
        assert_eq!(series.points.len(), 200);
        assert!(series.points.iter().any(|p| p.1 == final_balance as f64));
        // Ten threads pausing between read and write overlap: updates are lost.
        assert!(lost > 0, "no update lost with 10 overlapping threads");
        let row = report.modes.iter().find(|m| m.id == "unsafe").unwrap();
        assert!(row.result.as_ref().unwrap().contains(&format!("final {final_balance}")));
        assert!(row.note.as_ref().unwrap().contains(&format!("{lost} of 200")));
    }

    #[test]
    fn one_thread_loses_nothing_and_says_why() {
        let report = run_native("race", json!({"balance": 50, "threads": 1, "withdrawals": 30, "pause_ms": 0.0}), true);
        assert_eq!(int(&report, "unsafe", "lost"), 0);
        assert_eq!(int(&report, "unsafe", "final_balance"), 20);
        let row = report.modes.iter().find(|m| m.id == "unsafe").unwrap();
        assert!(row.note.as_ref().unwrap().contains("cannot race"));
    }

    #[test]
    fn every_step_is_recorded_and_the_lost_updates_are_explained_from_them() {
        let report =
            run_native("race", json!({"balance": 500, "threads": 5, "withdrawals": 20, "pause_ms": 0.3}), true);
        let unsafe_steps = report.steppers.iter().find(|s| s.mode == "unsafe").unwrap();
        assert_eq!((unsafe_steps.recorded, unsafe_steps.happened), (200, 200));
        // The self-check: the writes over unread balances add up to the real loss.
        let lost = int(&report, "unsafe", "lost");
        assert_eq!(unsafe_steps.findings.iter().map(|f| f.lost).sum::<i64>(), lost);
        assert!(report.checks.iter().any(|c| c.ok && c.text.starts_with("the recorded steps explain all")));
        for f in &unsafe_steps.findings {
            assert!(f.text.ends_with("vanished.") || f.text.contains("jumped back"), "{}", f.text);
            assert_eq!(unsafe_steps.steps[f.step].op, crate::interleaving::Op::Write);
        }
        // The embed's list: every step with its mode, the safe mode's locks included.
        let list = report.values["interleaving"].as_array().unwrap();
        assert_eq!(list.iter().filter(|s| s["mode"] == "unsafe").count(), 200);
        assert!(list.iter().any(|s| s["mode"] == "safe" && s["op"] == "lock-release" && s["value"] == "the lock"));
    }

    #[test]
    fn the_what_if_sweep_runs_each_thread_count_and_one_thread_loses_nothing() {
        let params = json!({"threads": 3, "withdrawals": 8, "pause_ms": 0.2, "sweep": "threads", "record": false});
        let report = run_native("race", params, true);
        assert!(report.steppers.is_empty());
        let points = report.values["what_if"]["points"].as_array().unwrap();
        let xs: Vec<f64> = points.iter().map(|p| p["x"].as_f64().unwrap()).collect();
        assert_eq!(xs, [1.0, 2.0, 3.0]);
        assert_eq!(points[0]["lost"], json!([0, 0, 0]));
        let series = report.series.iter().find(|s| s.chart == "what-if").unwrap();
        assert_eq!(series.points.len(), 3);
        // The sweep's runs draw nothing on the timeline: the unsafe steps there are the mode's 24.
        let unlocked = report.spans.iter().filter(|s| s.label.starts_with("read ")).count();
        assert_eq!(unlocked, 24);
    }

    #[test]
    fn a_sweep_that_would_take_too_long_is_refused() {
        let errors = rejected_native("race", json!({"threads": 1, "withdrawals": 1000, "pause_ms": 20, "sweep": "pause"}));
        assert_eq!(errors[0].field, "sweep");
    }

    #[test]
    fn too_long_a_locked_run_is_refused() {
        let errors = rejected_native("race", json!({"threads": 64, "withdrawals": 1000, "pause_ms": 10}));
        assert_eq!(errors[0].field, "pause_ms");
    }
}
