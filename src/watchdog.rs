//! The stall watchdog. A run that has recorded nothing (no log line, span, progress or chart
//! point) for a while, although every thread it started is waiting for something or one of them
//! never started, will not end by itself. The engine asks [`stall_report`] while a run goes on;
//! a report ends the run with a message that says which thread waited for what.
//!
//! A thread counts as waiting while it is inside [`Run::waiting`] (every `Wait` span of
//! [`Run::timed`] is one). A thread that computes, sleeps or waits unannounced is not judged:
//! slow is not stuck.

use crate::clock::now_ms;
use crate::engines::threads;
use crate::engines::threads::ThreadInfo;
use crate::run::{OpenWait, Run};

/// How long a thread may take to start before it counts as never started (ms).
const START_GRACE_MS: f64 = 2_000.0;

/// Why `run`, quiet for `quiet_ms`, will not end by itself; `None` while it may still.
pub fn stall_report(run: &Run, quiet_ms: f64) -> Option<String> {
    report(&threads::live_threads(), &run.open_waits(), now_ms(), quiet_ms)
}

fn report(threads: &[ThreadInfo], waits: &[OpenWait], now: f64, quiet_ms: f64) -> Option<String> {
    let seconds = |ms: f64| format!("{:.1} s", ms / 1000.0);
    let mut lines = Vec::new();
    let mut stuck = false;
    let mut all_waiting = true;
    for thread in threads {
        match thread.begun {
            None if now - thread.asked > START_GRACE_MS => {
                stuck = true;
                lines.push(format!(
                    "{} was asked for {} ago and never started (its Web Worker did not start)",
                    thread.name,
                    seconds(now - thread.asked)
                ));
            }
            None => all_waiting = false,
            Some(_) => match waits.iter().find(|w| w.thread == Some(thread.id)) {
                Some(wait) => {
                    lines.push(format!("{} waits for {} (since {})", wait.lane, wait.label, seconds(wait.since)))
                }
                None => all_waiting = false,
            },
        }
    }
    // The run's own waits (its event loop awaiting a join, a queue, a signal).
    for wait in waits.iter().filter(|w| w.thread.is_none()) {
        lines.push(format!("{} waits for {} (since {})", wait.lane, wait.label, seconds(wait.since)));
    }
    if !(stuck || (!threads.is_empty() && all_waiting)) {
        return None;
    }
    Some(format!(
        "no progress for {} while every thread waited, so the engine ended the run: {}.",
        seconds(quiet_ms),
        lines.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Capabilities, RunError};

    fn thread(id: usize, name: &str, asked: f64, begun: Option<f64>) -> ThreadInfo {
        ThreadInfo { id, name: name.into(), asked, begun }
    }

    fn wait(thread: usize, lane: &str, label: &str, since: f64) -> OpenWait {
        OpenWait { id: thread as u64, thread: Some(thread), lane: lane.into(), label: label.into(), since }
    }

    #[test]
    fn threads_that_all_wait_are_named_with_what_they_wait_for() {
        let threads = [thread(1, "thread 1", 0.0, Some(1.0)), thread(2, "thread 2", 0.0, Some(1.0))];
        let waits = [wait(1, "thread 1", "lock B", 800.0), wait(2, "thread 2", "lock A", 810.0)];
        let text = report(&threads, &waits, 20_000.0, 15_000.0).expect("a stall");
        assert_eq!(
            text,
            "no progress for 15.0 s while every thread waited, so the engine ended the run: \
             thread 1 waits for lock B (since 0.8 s); thread 2 waits for lock A (since 0.8 s)."
        );
    }

    #[test]
    fn one_thread_that_does_not_wait_means_no_stall() {
        let threads = [thread(1, "thread 1", 0.0, Some(1.0)), thread(2, "thread 2", 0.0, Some(1.0))];
        let waits = [wait(1, "thread 1", "lock B", 800.0)];
        assert_eq!(report(&threads, &waits, 20_000.0, 15_000.0), None);
        assert_eq!(report(&[], &[], 20_000.0, 15_000.0), None, "no threads: nothing to judge");
    }

    #[test]
    fn a_thread_that_never_started_is_a_stall_once_its_grace_is_over() {
        let threads = [thread(1, "worker 3", 1_000.0, None), thread(2, "worker 4", 1_000.0, Some(1_100.0))];
        assert_eq!(report(&threads, &[], 1_000.0 + START_GRACE_MS - 1.0, 15_000.0), None);
        let text = report(&threads, &[], 21_000.0, 15_000.0).expect("a stall");
        assert!(text.contains("worker 3 was asked for 20.0 s ago and never started"), "{text}");
    }

    #[test]
    fn an_aborted_run_fails_with_the_watchdog_message_and_open_waits_close() {
        let race = crate::topics::find("race").expect("a topic");
        let run = Run::new(race.id, &race.modes, Capabilities { threads: true, cores: 2 });
        let waiting = run.waiting("main", "a join");
        assert_eq!(run.open_waits().len(), 1);
        let before = run.activity();
        run.log("main", "something happened");
        assert_ne!(run.activity(), before, "a log line is progress");
        run.abort("no progress: main waits for a join".into());
        assert!(run.check().is_err(), "abort stops the run as Stop does");
        drop(waiting);
        assert!(run.open_waits().is_empty());
        let ended = run.finish(serde_json::json!({}), Err(RunError::Stopped));
        assert_eq!(ended.status, crate::report::RunStatus::Failed);
        assert_eq!(ended.error.as_deref(), Some("no progress: main waits for a join"));
    }
}
