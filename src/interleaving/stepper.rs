//! From recorded tracks to what the page's stepper shows: the threads' steps merged in time order,
//! each lost update found and explained, and a wait cycle drawn as a graph.

use std::collections::VecDeque;

use super::{Clock, Finding, Op, Recorder, Step, StepOut, Stepper, WaitGraph};

/// How a topic names things in the stepper.
pub struct Names<'a> {
    pub mode: &'a str,
    pub shared: &'a str,
    /// One update, for "one withdrawal vanished": ("withdrawal", "withdrawals").
    pub update: (&'a str, &'a str),
    pub locks: &'a [String],
}

impl Recorder {
    /// Merges the tracks handed in so far, finds the lost updates and wait cycles, and explains them.
    pub fn finish(&self, names: &Names) -> Stepper {
        let tracks = std::mem::take(&mut *self.tracks.lock().unwrap_or_else(|e| e.into_inner()));
        let happened = tracks.iter().map(|t| t.happened).sum();
        let mut lanes: Vec<(u32, String)> = tracks.iter().map(|t| (t.thread, t.lane.clone())).collect();
        lanes.sort();
        let mut cut_short = false;
        let mut threads: Vec<VecDeque<Step>> = Vec::new();
        for mut track in tracks {
            cut_short |= track.kept.len() as u64 + (track.sample.len() as u64) < track.happened;
            track.kept.append(&mut track.sample);
            track.kept.sort_by_key(|s| s.seq);
            track.kept.dedup_by_key(|s| s.seq);
            threads.push(track.kept.into());
        }
        let steps = merge(threads);
        let lane = |thread: u32| {
            lanes.iter().find(|l| l.0 == thread).map_or_else(|| format!("thread {thread}"), |l| l.1.clone())
        };
        let lock_name = |l: i64| names.locks.get(l as usize).cloned().unwrap_or_else(|| format!("lock {l}"));
        let mut findings = lost_updates(&steps, names, &lane);
        let graph = wait_cycle(&steps, &lane, &lock_name);
        if let Some((graph, text, _)) = &graph {
            findings.push(Finding { step: graph.step, text: text.clone(), lost: 0 });
        }
        let recorded = steps.len() as u64;
        let lock_only = steps.iter().all(|s| s.op.is_lock());
        let note = if !cut_short {
            format!("Every one of the {} steps was recorded.", crate::params::group(recorded as i64))
        } else {
            format!(
                "{} of {} steps recorded: each thread's first {}, the steps around its first lost updates, and a sample of the rest.",
                crate::params::group(recorded as i64),
                crate::params::group(happened as i64),
                self.head
            )
        };
        let steps = steps
            .iter()
            .map(|s| StepOut {
                thread: lane(s.thread),
                op: s.op,
                value: if s.op.is_lock() { lock_name(s.value).into() } else { s.value.into() },
                was: (s.op == Op::Write).then_some(s.was),
                t: s.t,
            })
            .collect();
        Stepper {
            mode: names.mode.to_string(),
            shared: names.shared.to_string(),
            // Steps on locks alone are looked at for deadlocks; steps on a value, for lost updates.
            finding: match &graph {
                Some((_, _, true)) => "wait cycle".into(),
                Some(_) => "deadlock".into(),
                None if lock_only => "deadlock".into(),
                None => "lost update".into(),
            },
            locks: names.locks.to_vec(),
            steps,
            findings,
            recorded,
            happened,
            note,
            graph: graph.map(|g| g.0),
            clock: Clock::Ms,
        }
    }
}

/// Steps closer together than this (ms) may have happened in either order: clocks tick every
/// 5 us in a browser, and a step is timed just after it happens.
const SAME_TIME_MS: f64 = 0.01;

/// Merges the threads' steps (each in its own order) by time. Among steps too close in time to
/// order by the clock, one consistent with the shared value goes first (a read of the value last
/// written, or a write over it), reads before writes. Recording never makes the threads agree on an order (a
/// shared sequence number would make them take turns, and the race would change).
fn merge(mut threads: Vec<VecDeque<Step>>) -> Vec<Step> {
    let mut out = Vec::with_capacity(threads.iter().map(|t| t.len()).sum());
    let mut shared: Option<i64> = None;
    loop {
        let heads = threads.iter().enumerate().filter_map(|(i, t)| t.front().map(|s| (i, s)));
        let Some(earliest) = heads.clone().map(|(_, s)| s.t).min_by(f64::total_cmp) else { break };
        let close = heads.filter(|(_, s)| s.t <= earliest + SAME_TIME_MS);
        let consistent = |s: &Step| match s.op {
            Op::Read => shared == Some(s.value),
            Op::Write => shared == Some(s.was),
            _ => false,
        };
        // A read changes nothing, so putting it first never makes a later step inconsistent.
        let rank = |s: &Step| (!consistent(s), s.op != Op::Read);
        let pick = close
            .min_by(|a, b| rank(a.1).cmp(&rank(b.1)).then(a.1.t.total_cmp(&b.1.t)).then(a.1.thread.cmp(&b.1.thread)))
            .map(|(i, _)| i)
            .expect("some thread has a step");
        let step = threads[pick].pop_front().expect("picked a thread with a step");
        match step.op {
            Op::Read | Op::Write => shared = Some(step.value),
            _ => {}
        }
        out.push(step);
    }
    out
}

/// Each write that overwrote something other than what its thread had read: the updates made in
/// between are erased. With updates of `d` (write minus read), it erases (overwritten - read) / d.
fn lost_updates(steps: &[Step], names: &Names, lane: &dyn Fn(u32) -> String) -> Vec<Finding> {
    let mut found = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let Some(r) = s.read.filter(|&r| s.op == Op::Write && r != s.was) else { continue };
        let d = s.value - r;
        let lost = if d != 0 && (s.was - r) % d == 0 { (s.was - r) / d } else { 1 };
        found.push(Finding { step: i, text: explain(steps, i, r, lost, names, lane), lost });
    }
    found
}

/// "thread 3 read 120, thread 5 read 120, thread 5 wrote 119, thread 3 wrote 119: one withdrawal
/// vanished." The other thread is whoever last wrote the value this write overwrote.
fn explain(steps: &[Step], write: usize, read: i64, lost: i64, names: &Names, lane: &dyn Fn(u32) -> String) -> String {
    let w = &steps[write];
    let me = lane(w.thread);
    let same_thread_read = |j: usize, thread: u32| steps[j].op == Op::Read && steps[j].thread == thread;
    // Where this thread's read is among the kept steps (at the start, if it was not kept).
    let read_at =
        (0..write).rev().find(|&j| same_thread_read(j, w.thread)).filter(|&j| steps[j].value == read).unwrap_or(0);
    // Who wrote the value this write overwrote: the last such write before it, or (when the
    // clocks put it a little later) the first one after.
    let wrote_it = |j: &usize| steps[*j].op == Op::Write && steps[*j].thread != w.thread && steps[*j].value == w.was;
    let other_write = (0..write).rev().find(wrote_it).or_else(|| (write + 1..steps.len()).find(wrote_it));
    // Told in causal order, whatever order the clocks put the steps in: this thread's read comes
    // before the writes it did not see, and its own write comes last.
    let mine_read = format!("{me} read {read}");
    let mut story = Vec::new();
    match other_write {
        Some(j) => {
            let other = lane(steps[j].thread);
            match (0..j).rev().find(|&k| same_thread_read(k, steps[j].thread)) {
                Some(k) if k < read_at => story.extend([format!("{other} read {}", steps[k].value), mine_read]),
                Some(k) => story.extend([mine_read, format!("{other} read {}", steps[k].value)]),
                None => story.push(mine_read),
            }
            story.push(format!("{other} wrote {}", steps[j].value));
        }
        None => story.extend([mine_read, format!("meanwhile other threads took the {} to {}", names.shared, w.was)]),
    }
    story.push(format!("{me} wrote {}", w.value));
    let outcome = match lost {
        1 => format!("one {} vanished", names.update.0),
        n if n > 1 => format!("{} {} vanished", crate::params::group(n), names.update.1),
        // Another thread had written back a stale value (the shared value went the wrong way);
        // this write covered it.
        _ => format!(
            "the {} had jumped back to {} (a write computed from an old read), and {me} wrote over it",
            names.shared, w.was
        ),
    };
    format!("{}: {outcome}.", story.join(", "))
}

/// Replays the lock steps and stops at the first moment threads wait in a circle, each for a
/// lock the next one holds. Returns the graph then and a sentence saying so.
fn wait_cycle(
    steps: &[Step],
    lane: &dyn Fn(u32) -> String,
    lock_name: &dyn Fn(i64) -> String,
) -> Option<(WaitGraph, String, bool)> {
    let mut holder: Vec<(i64, u32)> = Vec::new();
    let mut waits: Vec<(u32, i64)> = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        // A thread doing anything is not waiting. Where steps were left out (a sample), state
        // that cannot still hold is dropped: nobody asks for a lock it holds, or takes a held one.
        waits.retain(|w| w.0 != s.thread);
        match s.op {
            Op::LockWait => {
                holder.retain(|h| h != &(s.value, s.thread));
                waits.push((s.thread, s.value));
            }
            Op::LockAcquire => {
                holder.retain(|h| h.0 != s.value);
                holder.push((s.value, s.thread));
            }
            Op::LockRelease => holder.retain(|h| h != &(s.value, s.thread)),
            Op::LockGiveUp | Op::LockCancelled => {}
            _ => continue,
        }
        if s.op != Op::LockWait {
            continue;
        }
        let next = |t: u32| {
            let lock = waits.iter().find(|w| w.0 == t)?.1;
            holder.iter().find(|h| h.0 == lock).map(|h| h.1)
        };
        let mut path = vec![s.thread];
        while let Some(u) = next(*path.last().unwrap()) {
            if let Some(at) = path.iter().position(|&t| t == u) {
                let cycle = path.split_off(at);
                return Some(describe_cycle(i, &cycle, &holder, &waits, steps, lane, lock_name));
            }
            path.push(u);
        }
    }
    None
}

fn describe_cycle(
    step: usize,
    cycle: &[u32],
    holder: &[(i64, u32)],
    waits: &[(u32, i64)],
    steps: &[Step],
    lane: &dyn Fn(u32) -> String,
    lock_name: &dyn Fn(i64) -> String,
) -> (WaitGraph, String, bool) {
    let mut edges = Vec::new();
    let mut parts = Vec::new();
    for &t in cycle {
        let wants = waits.iter().find(|w| w.0 == t).map(|w| w.1).unwrap_or_default();
        let holds: Vec<String> = holder.iter().filter(|h| h.1 == t).map(|h| lock_name(h.0)).collect();
        edges.push((lane(t), lock_name(wants), "waits for".to_string()));
        for h in holder.iter().filter(|h| h.1 == t) {
            edges.push((lock_name(h.0), lane(t), "held by".to_string()));
        }
        parts.push(format!("{} holds {} and waits for {}", lane(t), holds.join(" and "), lock_name(wants)));
    }
    let mut text =
        format!("{}: each waits for a lock the next one holds, so none of them can ever move.", parts.join("; "));
    // Did someone give up later (a try-lock timeout) and so break the circle?
    let broken = steps[step..].iter().find(|s| s.op == Op::LockGiveUp && cycle.contains(&s.thread));
    if let Some(s) = broken {
        text = format!(
            "{}: a circle of waiting. {} gave up on {} when its timeout ran out, and that broke it.",
            parts.join("; "),
            lane(s.thread),
            lock_name(s.value)
        );
    }
    let graph = WaitGraph { step, edges, cycle: cycle.iter().map(|&t| lane(t)).collect() };
    (graph, text, broken.is_some())
}
