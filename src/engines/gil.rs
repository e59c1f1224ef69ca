//! A simulated global interpreter lock, as in CPython: a thread must hold it to run a slice of
//! work, and a holder gives it up after the switch interval when another thread is waiting
//! (then waits until another thread took it, like CPython's forced switching). With the GIL
//! switched off the same threads run their slices in parallel.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::report::SpanKind;
use crate::run::{Run, RunResult};

pub struct Gil {
    enabled: bool,
    switch_ms: f64,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    holder: Option<usize>,
    last_holder: Option<usize>,
    waiting: usize,
    /// How many times the lock changed hands.
    switches: usize,
}

impl Gil {
    pub fn new(enabled: bool, switch_ms: f64) -> Gil {
        Gil { enabled, switch_ms, state: Mutex::new(State::default()), changed: Condvar::new() }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// How many times the GIL passed from one thread to another.
    pub fn switches(&self) -> usize {
        self.lock().switches
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a change of the state, or 5 ms at most, so a waiting loop also hears Stop.
    fn wait_a_little<'a>(&self, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait_timeout(state, Duration::from_millis(5)).map(|r| r.0).unwrap_or_else(|e| e.into_inner().0)
    }

    /// Calls `slice` until it returns false. Each call is a short piece of work that must run
    /// while holding the GIL (when it is on). Time spent holding it and waiting for it is drawn
    /// on `lane`.
    pub fn run_slices(
        &self,
        run: &Run,
        me: usize,
        lane: &str,
        label: &str,
        mut slice: impl FnMut() -> bool,
    ) -> RunResult<()> {
        if !self.enabled {
            let start = run.now();
            let mut more = true;
            while more {
                run.check()?;
                more = slice();
            }
            run.span(lane, label, SpanKind::Run, start, run.now());
            return Ok(());
        }
        loop {
            self.acquire(run, me, lane)?;
            let held_from = run.now();
            let mut more = true;
            while more {
                more = slice();
                if run.now() - held_from >= self.switch_ms && self.lock().waiting > 0 {
                    break;
                }
                if run.is_cancelled() {
                    break;
                }
            }
            run.span(lane, label, SpanKind::Run, held_from, run.now());
            self.release(me, more);
            run.check()?;
            if !more {
                return Ok(());
            }
        }
    }

    /// Runs `work` while holding the GIL (when it is on): a short stretch of Python code between
    /// two waits. Waiting itself (a sleep, a socket) happens outside, so other threads run then.
    pub fn hold<T>(&self, run: &Run, me: usize, lane: &str, label: &str, work: impl FnOnce() -> T) -> RunResult<T> {
        if self.enabled {
            self.acquire(run, me, lane)?;
        }
        let start = run.now();
        let out = work();
        run.span(lane, label, SpanKind::Run, start, run.now());
        if self.enabled {
            self.release(me, false);
        }
        Ok(out)
    }

    fn acquire(&self, run: &Run, me: usize, lane: &str) -> RunResult<()> {
        let wait_from = run.now();
        let mut state = self.lock();
        state.waiting += 1;
        while state.holder.is_some() {
            // A timed wait, so Stop is heard even while another thread holds the lock.
            state = self.wait_a_little(state);
            if run.is_cancelled() {
                state.waiting -= 1;
                return run.check();
            }
        }
        state.waiting -= 1;
        if state.last_holder.is_some_and(|last| last != me) {
            state.switches += 1;
        }
        state.holder = Some(me);
        state.last_holder = Some(me);
        drop(state);
        let waited = run.now() - wait_from;
        if waited > 0.05 {
            run.span(lane, "waiting for the GIL", SpanKind::Wait, wait_from, run.now());
        }
        Ok(())
    }

    /// Gives the lock up; when forced to switch, waits until some other thread has taken it.
    fn release(&self, me: usize, forced: bool) {
        let mut state = self.lock();
        state.holder = None;
        self.changed.notify_all();
        if forced {
            while state.waiting > 0 && state.holder.is_none_or(|h| h == me) {
                state = self.wait_a_little(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::threads;
    use crate::topic::{Chapter, Mode, Model, Topic};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    pub(crate) fn test_topic() -> Topic {
        Topic {
            id: "test",
            title: "test",
            chapter: Chapter::Foundations,
            summary: "",
            explanation: "",
            params: vec![],
            presets: vec![],
            modes: vec![Mode::new("m", "m", Model::Threads)],
            code: "",
            python: "",
            check: crate::topic::no_check,
            run: |_, _| Box::pin(async { Ok(()) }),
            needs: crate::topic::needs_nothing,
            reads: |_| Ok(()),
        }
    }

    fn run_two(gil: Arc<Gil>) -> (Vec<crate::report::Span>, usize) {
        let topic = test_topic();
        let run = Run::new(topic.id, &topic.modes, crate::run::Capabilities { threads: true, cores: 2 });
        // Counts how often both threads are inside a slice at the same moment.
        let inside = Arc::new(AtomicUsize::new(0));
        let overlaps = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|me| {
                let (gil, run, inside, overlaps) = (gil.clone(), run.clone(), inside.clone(), overlaps.clone());
                threads::spawn(format!("t{me}"), move || {
                    let mut left = 200;
                    gil.run_slices(&run, me, &format!("thread {me}"), "work", || {
                        if inside.fetch_add(1, Ordering::SeqCst) > 0 {
                            overlaps.fetch_add(1, Ordering::SeqCst);
                        }
                        std::thread::sleep(Duration::from_micros(200));
                        inside.fetch_sub(1, Ordering::SeqCst);
                        left -= 1;
                        left > 0
                    })
                })
                .unwrap()
            })
            .collect();
        for r in futures::executor::block_on(threads::join_all(handles)).unwrap() {
            r.unwrap();
        }
        let report = run.finish(serde_json::Value::Null, Ok(()));
        (report.spans, overlaps.load(Ordering::SeqCst))
    }

    #[test]
    fn with_the_gil_only_one_thread_runs_at_a_time_and_they_take_turns() {
        let gil = Arc::new(Gil::new(true, 2.0));
        let (spans, overlaps) = run_two(gil.clone());
        assert_eq!(overlaps, 0, "two threads ran a slice at once under the GIL");
        assert!(gil.switches() >= 4, "the GIL should change hands repeatedly, got {}", gil.switches());
        assert!(spans.iter().any(|s| s.kind == SpanKind::Wait));
    }

    #[test]
    fn without_the_gil_threads_run_together() {
        let (_, overlaps) = run_two(Arc::new(Gil::new(false, 2.0)));
        assert!(overlaps > 0, "threads never overlapped without the GIL");
    }
}
