//! Recorded interleavings: what real threads did to a shared value and to locks, step by step,
//! kept for the page's stepper (a [`Stepper`] in the report) and for embedding pages
//! (`values.interleaving`).
//!
//! Each thread records into its own [`Track`], so recording takes no lock and adds no contention
//! between the threads it watches. A track is bounded: it keeps its first steps (when the threads
//! start together, the first collisions happen there), the steps around its first few lost
//! updates later on, and a thinning sample of the rest; it counts everything else. When it is
//! dropped (the thread ends, or is cancelled) it hands its steps to the [`Recorder`].
//!
//! Lost updates are found exactly, without trusting clocks to order threads: a thread writes with
//! a swap, which returns the value it overwrote. When that is not the value the thread read, other
//! threads wrote in between and this write erased their updates.
//!
//! Cost (medians of 9 runs alternating on and off, 2 cores shared with other work;
//! `cargo test --release --lib overhead -- --ignored --nocapture`): race natively 0.99-1.01x for
//! the unsafe mode and 0.98-1.08x for the safe one, with the same lost updates (899-900 of 1000);
//! in Chromium 1.04-1.16x on a machine at load 9 (5 runs each). counter natively: the mutex mode
//! within noise; the unsynchronized one +3 ms (5.8 -> 9.1 ms) when its threads do not overlap,
//! since each then watches with a swap for all its 65,536 watched steps. See README "Stepping
//! through a run".

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

pub use crate::report::{Clock, Finding, Op, StepOut, Stepper, WaitGraph};
use crate::run::Run;

pub mod schedule;
mod stepper;
mod steps;
pub use stepper::Names;
pub use steps::{SharedMemory, Steps, ThreadSteps};

impl Op {
    fn is_lock(self) -> bool {
        !matches!(self, Op::Read | Op::Write)
    }
}

/// One step as recorded: `value` is the value read or written, or the lock's index.
#[derive(Clone, Copy, Debug)]
struct Step {
    thread: u32,
    /// This thread's step number (counting the steps not kept).
    seq: u64,
    op: Op,
    value: i64,
    /// For a write: the value it overwrote.
    was: i64,
    /// For a write: the value its thread had read (which the write was computed from).
    read: Option<i64>,
    t: f64,
}

/// Per thread, at most this many first steps are kept in full...
const HEAD: usize = 400;
/// ...shared out over the threads so a run keeps at most about this many.
const HEAD_BUDGET: usize = 3000;
/// After the head: the steps kept before and after each lost update...
const CONTEXT: usize = 8;
/// ...for this many lost updates per thread...
const WINDOWS: usize = 3;
/// ...and a sample of the rest, at most this many steps per thread.
const SAMPLE: usize = 64;
/// A hot loop keeps recording (into the ring) until its first lost update, for at most this many steps.
const LOOKOUT: u64 = 4000;
/// A hot loop watches for lost updates (see [`Track::watching`]) for at most this many steps.
const WATCH: u64 = 1 << 16;

/// Collects the tracks of one mode's threads and turns them into a [`Stepper`].
pub struct Recorder {
    on: bool,
    head: usize,
    tracks: Mutex<Vec<TrackData>>,
}

#[derive(Default)]
struct TrackData {
    lane: String,
    thread: u32,
    kept: Vec<Step>,
    ring: VecDeque<Step>,
    after_lost: usize,
    windows: usize,
    sample: Vec<Step>,
    stride: u64,
    happened: u64,
    /// The value this thread read last (a write's lost updates are counted against it).
    last_read: Option<i64>,
    lost_seen: bool,
    /// Lost updates kept with their steps.
    lost_kept: usize,
}

/// One thread's recording; hands itself to its recorder when dropped.
pub struct Track {
    recorder: Arc<Recorder>,
    run: Run,
    data: TrackData,
}

impl Recorder {
    /// `on: false` records nothing (each step costs one branch); `threads` shares the budget.
    pub fn new(on: bool, threads: usize) -> Arc<Recorder> {
        let head = (HEAD_BUDGET / threads.max(1)).clamp(16, HEAD);
        Arc::new(Recorder { on, head, tracks: Mutex::new(Vec::new()) })
    }

    pub fn is_on(&self) -> bool {
        self.on
    }

    /// The track of thread number `thread` (1-based, as in its lane "thread N").
    pub fn track(self: &Arc<Self>, run: &Run, lane: &str, thread: usize) -> Track {
        let data = TrackData { lane: lane.to_string(), thread: thread as u32, stride: 1, ..TrackData::default() };
        Track { recorder: self.clone(), run: run.clone(), data }
    }
}

impl Track {
    pub fn read(&mut self, value: i64) {
        self.push(Op::Read, value, value);
        self.data.last_read = Some(value);
    }

    /// Records a write of `value` over `was` (what a swap returned).
    pub fn write(&mut self, value: i64, was: i64) {
        self.push(Op::Write, value, was);
    }

    pub fn lock(&mut self, op: Op, lock: usize) {
        debug_assert!(op.is_lock());
        self.push(op, lock as i64, lock as i64);
    }

    /// Whether its recorder records at all.
    pub fn is_on(&self) -> bool {
        self.recorder.on
    }

    /// Whether a hot loop should still record step by step: during the head, around a lost
    /// update, and, until this thread has seen one, for up to LOOKOUT steps. Then it runs
    /// unrecorded and says how many steps it did with [`Track::skipped`].
    pub fn wants_detail(&self) -> bool {
        let d = &self.data;
        self.recorder.on
            && (d.kept.len() < self.recorder.head || d.after_lost > 0 || (!d.lost_seen && d.happened < LOOKOUT))
    }

    /// Whether a hot loop should still watch for lost updates (cheaply, recording only the ones
    /// it catches): until this thread kept a few, within its first WATCH steps.
    pub fn watching(&self) -> bool {
        self.recorder.on && self.data.lost_kept < WINDOWS && self.data.happened < WATCH
    }

    /// Counts `steps` that happened without being recorded.
    pub fn skipped(&mut self, steps: u64) {
        self.data.happened += steps;
    }

    fn push(&mut self, op: Op, value: i64, was: i64) {
        if !self.recorder.on {
            return;
        }
        let d = &mut self.data;
        let read = if op == Op::Write { d.last_read } else { None };
        let step = Step { thread: d.thread, seq: d.happened, op, value, was, read, t: self.run.now() };
        d.happened += 1;
        let lost = read.is_some_and(|r| r != was);
        d.lost_seen |= lost;
        d.lost_kept +=
            usize::from(lost && (d.kept.len() < self.recorder.head || d.after_lost > 0 || d.windows < WINDOWS));
        if d.kept.len() < self.recorder.head || d.after_lost > 0 {
            d.after_lost = d.after_lost.saturating_sub(1);
            d.kept.push(step);
            return;
        }
        if lost && d.windows < WINDOWS {
            d.windows += 1;
            d.kept.extend(d.ring.drain(..));
            d.kept.push(step);
            d.after_lost = CONTEXT;
            return;
        }
        if d.ring.len() == CONTEXT {
            d.ring.pop_front();
        }
        d.ring.push_back(step);
        // A sample whose spacing doubles whenever it fills: bounded, and spread over the run.
        if step.seq.is_multiple_of(d.stride) {
            d.sample.push(step);
            if d.sample.len() == SAMPLE {
                let mut i = 0;
                d.sample.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                d.stride *= 2;
            }
        }
    }
}

impl Drop for Track {
    fn drop(&mut self) {
        if self.recorder.on {
            let data = std::mem::take(&mut self.data);
            self.recorder.tracks.lock().unwrap_or_else(|e| e.into_inner()).push(data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Capabilities;

    fn run() -> Run {
        let race = crate::topics::find("race").unwrap();
        Run::new(race.id, &race.modes, Capabilities { threads: true, cores: 2 })
    }

    fn names() -> Names<'static> {
        Names { mode: "unsafe", shared: "balance", update: ("withdrawal", "withdrawals"), locks: &[] }
    }

    #[test]
    fn a_write_over_another_threads_write_is_a_lost_update_explained_from_the_steps() {
        let (run, rec) = (run(), Recorder::new(true, 2));
        let (mut a, mut b) = (rec.track(&run, "thread 3", 3), rec.track(&run, "thread 5", 5));
        a.read(120);
        b.read(120);
        a.write(119, 120);
        b.write(119, 119); // overwrote thread 3's 119: one withdrawal gone
        drop((a, b));
        let s = rec.finish(&names());
        assert_eq!(s.recorded, 4);
        assert_eq!(s.happened, 4);
        assert_eq!(s.findings.len(), 1);
        assert_eq!(s.findings[0].step, 3);
        assert_eq!(
            s.findings[0].text,
            "thread 3 read 120, thread 5 read 120, thread 3 wrote 119, thread 5 wrote 119: one withdrawal vanished."
        );
        assert!(s.note.starts_with("Every one of the 4 steps"));
    }

    #[test]
    fn a_late_write_erases_every_update_made_since_its_read() {
        let (run, rec) = (run(), Recorder::new(true, 2));
        let (mut a, mut b) = (rec.track(&run, "thread 1", 1), rec.track(&run, "thread 2", 2));
        a.read(10);
        for v in (7..=10).rev() {
            b.read(v);
            b.write(v - 1, v);
        }
        a.write(9, 6); // back up to 9 over 6: three withdrawals erased
        drop((a, b));
        let s = rec.finish(&names());
        assert_eq!(s.findings.len(), 1);
        assert_eq!(s.findings[0].lost, 4); // (6 - 10) / (9 - 10)
        assert!(s.findings[0].text.ends_with("4 withdrawals vanished."), "{}", s.findings[0].text);
    }

    #[test]
    fn a_track_is_bounded_and_counts_what_it_did_not_keep() {
        let (run, rec) = (run(), Recorder::new(true, 1));
        let mut t = rec.track(&run, "thread 1", 1);
        for v in 0..100_000 {
            t.read(v);
            t.write(v + 1, v);
        }
        t.read(5);
        t.write(6, 99); // a lost update late in the run is still kept, with its context
        drop(t);
        let s = rec.finish(&names());
        assert_eq!(s.happened, 200_002);
        assert!(s.recorded <= (HEAD + SAMPLE + WINDOWS * (2 * CONTEXT + 1)) as u64, "{}", s.recorded);
        assert_eq!(s.findings.len(), 1);
        assert!(s.note.contains("of 200,002 steps recorded"), "{}", s.note);
        // The sample reaches the end of the run.
        assert!(s.steps.iter().any(|x| x.value.as_i64().is_some_and(|v| v > 50_000)));
    }

    /// The figure in this file's header: each mode's wall time with recording on and off
    /// (alternating, medians of 9), and the lost updates, which recording must not change much.
    #[test]
    #[ignore = "a measurement: cargo test --release --lib overhead -- --ignored --nocapture"]
    fn overhead_of_recording() {
        use crate::runner::testing::run_native;
        use serde_json::json;
        let cases = [
            ("race", json!({}), "unsafe", "/unsafe/lost"),
            ("race", json!({}), "safe", "/safe/lost"),
            ("counter", json!({}), "unsync", "/unsync_count"),
            ("counter", json!({}), "mutex", "/mutex_count"),
        ];
        for (topic, params, mode, value) in cases {
            let (mut on, mut off) = (Vec::new(), Vec::new());
            for i in 0..18 {
                let record = i % 2 == 0;
                let mut p = params.clone();
                p["record"] = record.into();
                let report = run_native(topic, p, true);
                let wall = report.modes.iter().find(|m| m.id == mode).unwrap().wall_ms.unwrap();
                let result =
                    serde_json::Value::Object(report.values.clone()).pointer(value).and_then(|v| v.as_f64()).unwrap();
                if record {
                    on.push((wall, result))
                } else {
                    off.push((wall, result))
                }
            }
            let median = |v: &mut Vec<(f64, f64)>, k: fn(&(f64, f64)) -> f64| {
                let mut x: Vec<f64> = v.iter().map(k).collect();
                x.sort_by(f64::total_cmp);
                x[x.len() / 2]
            };
            let (won, woff) = (median(&mut on, |x| x.0), median(&mut off, |x| x.0));
            let (ron, roff) = (median(&mut on, |x| x.1), median(&mut off, |x| x.1));
            println!(
                "{topic} {mode}: {won:.1} ms recorded vs {woff:.1} ms not ({:.3}x); {value}: {ron} vs {roff}",
                won / woff
            );
        }
    }

    #[test]
    fn off_records_nothing() {
        let (run, rec) = (run(), Recorder::new(false, 1));
        let mut t = rec.track(&run, "thread 1", 1);
        t.read(1);
        assert!(!t.wants_detail());
        drop(t);
        assert_eq!(rec.finish(&names()).recorded, 0);
    }

    #[test]
    fn two_threads_holding_each_others_lock_are_a_cycle_with_its_graph() {
        let (run, rec) = (run(), Recorder::new(true, 2));
        let (mut a, mut b) = (rec.track(&run, "thread 1", 1), rec.track(&run, "thread 2", 2));
        a.lock(Op::LockWait, 0);
        a.lock(Op::LockAcquire, 0);
        b.lock(Op::LockWait, 1);
        b.lock(Op::LockAcquire, 1);
        a.lock(Op::LockWait, 1);
        b.lock(Op::LockWait, 0);
        drop((a, b));
        let locks = ["lock A".to_string(), "lock B".to_string()];
        let s = rec.finish(&Names { mode: "deadlock", shared: "", update: ("", ""), locks: &locks });
        assert_eq!(s.finding, "deadlock");
        let graph = s.graph.unwrap();
        assert_eq!(graph.step, 5);
        assert_eq!(graph.cycle.len(), 2);
        assert!(graph.edges.contains(&("thread 1".into(), "lock B".into(), "waits for".into())));
        assert!(graph.edges.contains(&("lock B".into(), "thread 2".into(), "held by".into())));
        assert_eq!(
            s.findings[0].text,
            "thread 2 holds lock B and waits for lock A; thread 1 holds lock A and waits for lock B: each waits for a lock the next one holds, so none of them can ever move."
        );
    }
}
