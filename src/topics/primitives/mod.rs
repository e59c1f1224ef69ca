//! primitives: a semaphore, a condition variable, a barrier and an event, one short scenario
//! each, with the waiting drawn on the timeline.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "primitives",
        title: "Semaphore, condition, barrier, event",
        chapter: Chapter::Threads,
        summary: "Four synchronization tools, one short scenario each: at most N inside, wait until notified, wait for everyone, wait for a signal.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("threads", "Threads per scenario", 4, 2, 16),
            Param::int("permits", "Semaphore permits (N)", 2, 1, 16).help("At most this many threads inside at once."),
            Param::int("hold_ms", "Time spent inside / working (ms)", 400, 1, 5000),
            Param::float("time_scale", "Time scale", 0.5, 0.01, 1.0, 0.01)
                .help("Multiplies every duration; 1 restores the original times."),
        ],
        presets: vec![
            Preset { id: "original", label: "Original durations", values: json!({"time_scale": 1.0}) },
            Preset { id: "one-permit", label: "Semaphore of 1 (a lock)", values: json!({"permits": 1}) },
            Preset { id: "crowd", label: "10 threads, 3 permits", values: json!({"threads": 10, "permits": 3, "hold_ms": 200}) },
        ],
        modes: vec![
            Mode::new("semaphore", "Semaphore: at most N inside", Model::Threads),
            Mode::new("condition", "Condition: wait until notified", Model::Threads),
            Mode::new("barrier", "Barrier: wait for everyone", Model::Threads),
            Mode::new("event", "Event: wait for a signal", Model::Threads),
        ],
        code: crate::topic_code!("primitives/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_primitives(run, params.read())),
        needs: |p| Needs::threads(p.read::<PrimitivesParams>().threads + 2),
        reads: reads::<PrimitivesParams>,
    }
}

// CODE START
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::Duration;

use serde::Deserialize;

use crate::engines::threads;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrimitivesParams {
    threads: usize,
    permits: usize,
    hold_ms: f64,
    time_scale: f64,
}

/// Condition waits wake up at least this often, to notice Stop.
const SLICE: Duration = Duration::from_millis(10);

/// Clocks of different browser workers can disagree by a little; allow this much (ms).
const CLOCK_SLACK: f64 = 1.0;

async fn run_primitives(run: Run, p: PrimitivesParams) -> RunResult<()> {
    let (n, permits) = (p.threads, p.permits);
    let hold = p.hold_ms * p.time_scale;
    if let Some(peak) = run.measure("semaphore", semaphore(&run, n, permits, hold)).await? {
        run.result("semaphore", format!("at most {peak} inside at once (permits: {permits})"));
        run.verify(peak <= permits, format!("the semaphore never admitted more than {permits}: peak {peak}"));
        run.value("semaphore_peak", peak);
    }
    if let Some(woke) = run.measure("condition", condition(&run, n, hold)).await? {
        run.result("condition", format!("{} guests woke up and found the soup", woke.len()));
        run.value("condition_woke", woke);
    }
    if let Some(phases) = run.measure("barrier", barrier(&run, n, hold)).await? {
        run.result("barrier", format!("{} parties went through {} phases together", n, phases.len()));
        run.value("barrier", phases);
    }
    if let Some(ticks) = run.measure("event", event(&run, n, hold)).await? {
        run.result(
            "event",
            format!("{} runners started on the signal; the ticker ticked {ticks} times, then stopped", n - 1),
        );
        run.value("event_ticks", ticks);
    }
    Ok(())
}

// ----- semaphore -----

/// A counting semaphore: a number of permits behind a lock, and a condition to wait for one.
struct Semaphore {
    permits: Mutex<usize>,
    freed: Condvar,
}

impl Semaphore {
    fn new(permits: usize) -> Semaphore {
        Semaphore { permits: Mutex::new(permits), freed: Condvar::new() }
    }

    /// Takes a permit, waiting while there is none.
    fn acquire(&self, run: &Run) -> RunResult<()> {
        let mut permits = self.permits.lock().unwrap();
        while *permits == 0 {
            run.check()?;
            permits = self.freed.wait_timeout(permits, SLICE).unwrap().0;
        }
        *permits -= 1;
        Ok(())
    }

    /// Gives a permit back and wakes one waiting thread.
    fn release(&self) {
        *self.permits.lock().unwrap() += 1;
        self.freed.notify_one();
    }
}

/// `n` threads go through a section guarded by a semaphore of `permits`; returns the most
/// threads that were ever inside at once (counted as they enter and leave).
async fn semaphore(run: &Run, n: usize, permits: usize, hold: f64) -> RunResult<usize> {
    let sem = Arc::new(Semaphore::new(permits));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for t in 1..=n {
        let (run, sem, inside, peak) = (run.clone(), sem.clone(), inside.clone(), peak.clone());
        handles.push(threads::spawn(format!("thread {t}"), move || -> RunResult<()> {
            let lane = format!("thread {t}");
            run.timed(&lane, "wait for a permit", SpanKind::Wait, || sem.acquire(&run))?;
            let now_inside = inside.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now_inside, Ordering::SeqCst);
            step(&run, now_inside - 1, now_inside);
            run.log(&lane, format!("entered ({now_inside} inside)"));
            let slept = run.timed(&lane, "inside", SpanKind::Run, || threads::sleep(&run, hold));
            let left = inside.fetch_sub(1, Ordering::SeqCst) - 1;
            step(&run, left + 1, left);
            sem.release();
            slept
        })?);
    }
    for outcome in threads::join_all(handles).await? {
        outcome?;
    }
    Ok(peak.load(Ordering::SeqCst))
}

/// Plots a change of the number of threads inside as a step.
fn step(run: &Run, before: usize, after: usize) {
    let now = run.now();
    for (t, inside) in [(now - 0.001, before), (now, after)] {
        run.sample("semaphore", "threads inside", ("time (ms)", "threads"), (t, inside as f64));
    }
}

// ----- condition variable -----

/// A cook prepares soup and notifies; `n - 1` guests wait on the condition until it is there.
/// Returns, per guest, what it found.
async fn condition(run: &Run, n: usize, hold: f64) -> RunResult<Vec<String>> {
    let kitchen = Arc::new((Mutex::new(None::<(String, f64)>), Condvar::new()));
    let mut guests = Vec::new();
    for g in 1..n {
        let (run, kitchen) = (run.clone(), kitchen.clone());
        guests.push(threads::spawn(format!("guest {g}"), move || -> RunResult<(String, f64)> {
            let lane = format!("guest {g}");
            let (soup, ready) = &*kitchen;
            let asked = run.now();
            let mut soup = soup.lock().unwrap();
            while soup.is_none() {
                // Releases the lock while asleep; re-checks the state after every wake-up.
                run.check()?;
                soup = ready.wait_timeout(soup, SLICE).unwrap().0;
            }
            let woke = run.now();
            let (dish, served_at) = soup.clone().unwrap_or_default();
            drop(soup);
            run.span(&lane, "wait for the notify", SpanKind::Wait, asked, woke);
            run.log(&lane, format!("woke up: {dish}"));
            Ok((dish, woke - served_at))
        })?);
    }
    let (run2, kitchen2) = (run.clone(), kitchen.clone());
    let cook = threads::spawn("cook", move || -> RunResult<()> {
        run2.timed("cook", "prepare the soup", SpanKind::Run, || threads::sleep(&run2, hold))?;
        let (soup, ready) = &*kitchen2;
        *soup.lock().unwrap() = Some(("tomato soup".to_string(), run2.now()));
        ready.notify_all(); // wake every guest
        run2.log("cook", "soup is ready: notify_all");
        Ok(())
    })?;
    cook.join().await??;
    let (mut found, mut delays) = (Vec::new(), Vec::new());
    for outcome in threads::join_all(guests).await? {
        let (dish, after_ms) = outcome?;
        found.push(dish);
        delays.push(after_ms);
    }
    let (first, last) = min_max(&delays);
    run.verify(
        first >= -CLOCK_SLACK && found.iter().all(|d| d == "tomato soup"),
        format!(
            "all {} guests woke after the soup was served ({first:.2} to {last:.2} ms later) and found it",
            found.len()
        ),
    );
    Ok(found)
}

// ----- barrier -----

/// What happened at the barrier in one phase.
#[derive(serde::Serialize)]
struct Phase {
    arrived: Vec<f64>,
    left: Vec<f64>,
}

/// `n` parties do work of different lengths in two phases, meeting at a barrier after each.
async fn barrier(run: &Run, n: usize, hold: f64) -> RunResult<Vec<Phase>> {
    const PHASES: usize = 2;
    let barrier = Arc::new(Barrier::new(n));
    let arrivals = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for k in 0..n {
        let (run, barrier, arrivals) = (run.clone(), barrier.clone(), arrivals.clone());
        handles.push(threads::spawn(format!("party {}", k + 1), move || -> RunResult<Vec<(f64, f64, usize)>> {
            let lane = format!("party {}", k + 1);
            let mut times = Vec::new();
            for phase in 1..=PHASES {
                // Different amounts of work, so the parties arrive at different times.
                let work = hold * (1 + (k + phase) % n) as f64 / n as f64;
                let slept =
                    run.timed(&lane, &format!("phase {phase} work"), SpanKind::Run, || threads::sleep(&run, work));
                // Every party reaches the barrier, even after Stop, so none is left waiting.
                let arrived = run.now();
                let order = arrivals.fetch_add(1, Ordering::SeqCst) + 1 - n * (phase - 1);
                run.log(&lane, format!("phase {phase} done: arrived at the barrier ({order} of {n})"));
                barrier.wait();
                let left = run.now();
                let seen = arrivals.load(Ordering::SeqCst); // how many had arrived when I left
                run.span(&lane, "wait at the barrier", SpanKind::Wait, arrived, left);
                times.push((arrived, left, seen));
                slept?;
                run.check()?;
            }
            Ok(times)
        })?);
    }
    let per_party = threads::join_all(handles).await?.into_iter().collect::<RunResult<Vec<_>>>()?;
    let mut phases = Vec::new();
    for phase in 0..PHASES {
        let arrived: Vec<f64> = per_party.iter().map(|t| t[phase].0).collect();
        let left: Vec<f64> = per_party.iter().map(|t| t[phase].1).collect();
        let last_arrival = arrived.iter().copied().fold(f64::MIN, f64::max);
        let first_leave = left.iter().copied().fold(f64::MAX, f64::min);
        let everyone_in = per_party.iter().all(|t| t[phase].2 >= n * (phase + 1));
        run.verify(
            everyone_in && first_leave >= last_arrival - CLOCK_SLACK,
            format!(
                "phase {}: the last party arrived at {last_arrival:.1} ms, the first left at {first_leave:.1} ms; \
                 each saw all {n} arrivals when it left",
                phase + 1
            ),
        );
        phases.push(Phase { arrived, left });
    }
    Ok(phases)
}

// ----- event -----

/// A flag threads can wait for, like Python's threading.Event.
struct Event {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Event {
    fn new() -> Event {
        Event { set: Mutex::new(false), changed: Condvar::new() }
    }

    fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.changed.notify_all();
    }

    /// Waits until the flag is set or `timeout_ms` passed; true if it is set.
    fn wait(&self, run: &Run, timeout_ms: f64) -> RunResult<bool> {
        let end = run.now() + timeout_ms;
        let mut set = self.set.lock().unwrap();
        while !*set {
            run.check()?;
            let left = end - run.now();
            if left <= 0.0 {
                return Ok(false);
            }
            let slice = if left < 10.0 { Duration::from_secs_f64(left / 1000.0) } else { SLICE };
            set = self.changed.wait_timeout(set, slice).unwrap().0;
        }
        Ok(true)
    }
}

/// Runners wait for a "go" event that a starter sets; a ticker ticks until "finished" is set.
/// Returns the number of ticks.
async fn event(run: &Run, n: usize, hold: f64) -> RunResult<usize> {
    let go = Arc::new(Event::new());
    let finished = Arc::new(Event::new());
    let went_at = Arc::new(Mutex::new(f64::NAN));
    let tick_ms = (hold / 4.0).max(1.0);

    let (run2, finished2) = (run.clone(), finished.clone());
    let ticker = threads::spawn("ticker", move || -> RunResult<(Vec<f64>, f64)> {
        let mut ticks = Vec::new();
        while !run2.timed("ticker", "wait (or stop)", SpanKind::Wait, || finished2.wait(&run2, tick_ms))? {
            ticks.push(run2.now());
            run2.log("ticker", format!("tick {}", ticks.len()));
        }
        Ok((ticks, run2.now()))
    })?;
    let mut runners = Vec::new();
    for r in 1..n {
        let (run, go, went_at) = (run.clone(), go.clone(), went_at.clone());
        runners.push(threads::spawn(format!("runner {r}"), move || -> RunResult<f64> {
            let lane = format!("runner {r}");
            run.timed(&lane, "wait for the go event", SpanKind::Wait, || go.wait(&run, f64::INFINITY))?;
            let started = run.now();
            let sprint = hold * (0.5 + r as f64 / (2 * n) as f64);
            run.timed(&lane, "run", SpanKind::Run, || threads::sleep(&run, sprint))?;
            Ok(started - *went_at.lock().unwrap())
        })?);
    }
    let (run2, go2, went_at2) = (run.clone(), go.clone(), went_at.clone());
    let starter = threads::spawn("starter", move || -> RunResult<()> {
        run2.timed("starter", "count down", SpanKind::Run, || threads::sleep(&run2, hold))?;
        *went_at2.lock().unwrap() = run2.now();
        go2.set();
        run2.log("starter", "go!");
        Ok(())
    })?;
    starter.join().await??;
    let delays = threads::join_all(runners).await?.into_iter().collect::<RunResult<Vec<f64>>>()?;
    let (first, last) = min_max(&delays);
    run.verify(
        first >= -CLOCK_SLACK,
        format!("all {} runners started after the go event was set ({first:.2} to {last:.2} ms later)", delays.len()),
    );
    let finished_at = run.now();
    finished.set(); // ask the ticker to stop
    run.log("main", "runners done: set the finished event");
    let (ticks, stopped_at) = ticker.join().await??;
    // Once the event is set, the ticker's next wait returns at once: at most the tick that was
    // already under way can come after it.
    let late = ticks.iter().filter(|&&t| t > finished_at + CLOCK_SLACK).count();
    run.verify(
        late <= 1 && stopped_at >= finished_at - CLOCK_SLACK,
        format!(
            "the ticker stopped on the finished event ({late} tick after it was set, stopped {:.1} ms later)",
            stopped_at - finished_at
        ),
    );
    Ok(ticks.len())
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({})),
        output: |out, r| expect_eq("semaphore peak", after(out, "at most ")?, value(r, "semaphore_peak")),
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{RunStatus, SpanKind};
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn the_semaphore_admits_at_most_n_and_barrier_parties_leave_after_the_last_arrives() {
        let report =
            run_native("primitives", json!({"threads": 6, "permits": 2, "hold_ms": 40, "time_scale": 1.0}), true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        // Semaphore: the recorded peak, and the recorded "inside" curve, never exceed 2.
        let peak = report.values["semaphore_peak"].as_u64().unwrap();
        assert!((1..=2).contains(&peak), "{peak}");
        let inside = report.series.iter().find(|s| s.chart == "semaphore").unwrap();
        assert_eq!(inside.points.len(), 24);
        assert!(inside.points.iter().all(|p| p.1 <= 2.0));
        // Waiting for a permit is drawn as waiting: 6 threads, 2 permits, so some waited long.
        let waits = report.spans.iter().filter(|s| s.mode == "semaphore" && s.kind == SpanKind::Wait);
        assert!(waits.filter(|s| s.end - s.start > 30.0).count() >= 2);
        // Barrier: in each phase every leave time is after every arrival time.
        for phase in report.values["barrier"].as_array().unwrap() {
            let times = |key: &str| -> Vec<f64> {
                phase[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
            };
            let (arrived, left) = (times("arrived"), times("left"));
            assert_eq!(arrived.len(), 6);
            let last_arrival = arrived.iter().copied().fold(f64::MIN, f64::max);
            assert!(left.iter().all(|&l| l >= last_arrival), "{arrived:?} {left:?}");
        }
        // Condition and event ran to the end.
        assert_eq!(report.values["condition_woke"].as_array().unwrap().len(), 5);
        assert!(report.values["event_ticks"].as_u64().unwrap() >= 1);
    }

    #[test]
    fn a_single_permit_is_a_lock() {
        let report =
            run_native("primitives", json!({"threads": 3, "permits": 1, "hold_ms": 10, "time_scale": 1.0}), true);
        assert_eq!(report.values["semaphore_peak"], 1);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
    }
}
