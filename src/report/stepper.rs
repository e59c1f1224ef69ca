//! What the page's stepper shows: a recorded interleaving as data, part of the report. How it is
//! recorded and explained is `interleaving`'s job; the report only carries the result.

use serde::Serialize;

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Op {
    /// Read the shared value.
    Read,
    /// Wrote the shared value (and `was` is what it overwrote).
    Write,
    /// Asked for a lock (and may now wait).
    LockWait,
    /// Got the lock.
    LockAcquire,
    /// Let go of the lock.
    LockRelease,
    /// Stopped waiting without the lock: a try-lock timed out.
    LockGiveUp,
    /// Stopped waiting without the lock: the thread was cancelled (a watchdog, Stop).
    LockCancelled,
}

/// What the page's stepper shows for one mode: a result kind any topic can emit.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Stepper {
    pub mode: String,
    /// What the shared value is called ("balance", "counter").
    pub shared: String,
    /// What a finding is called, for the "next ..." button ("lost update", "deadlock").
    pub finding: String,
    pub locks: Vec<String>,
    pub steps: Vec<StepOut>,
    pub findings: Vec<Finding>,
    pub recorded: u64,
    pub happened: u64,
    /// How the steps were chosen, in a sentence.
    pub note: String,
    /// Who waits for whom when a wait cycle formed (threads wait for locks, locks are held by threads).
    pub graph: Option<WaitGraph>,
    /// What a step's `t` counts.
    pub clock: Clock,
}

/// What a step's `t` counts: milliseconds since the run started (real threads), or the step's
/// number from 0 (the scheduler has no clock: one step is one unit of its time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Clock {
    Ms,
    Step,
}

/// A step as the page and embedding pages get it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
// `value`'s type follows `op`, which a derive cannot say: written out, over `Op`.
#[cfg_attr(
    test,
    ts(
        rename = "Step",
        type = "{ thread: string, t: number } & ({ op: 'read' | 'write', value: number, was?: number } | { op: Exclude<Op, 'read' | 'write'>, value: string, was?: undefined })"
    )
)]
pub struct StepOut {
    pub thread: String,
    pub op: Op,
    /// The value read or written, or the lock's name.
    pub value: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was: Option<i64>,
    /// Milliseconds since the run started, or the step's number (see [`Clock`]).
    pub t: f64,
}

/// A step worth stopping at, explained.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "StepFinding"))]
pub struct Finding {
    /// Index into `steps`.
    pub step: usize,
    pub text: String,
    /// How many updates this one erased (lost updates only).
    pub lost: i64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct WaitGraph {
    pub step: usize,
    /// `[from, to, label]`: "thread 1" -> "lock B" (waits for), "lock B" -> "thread 2" (held by).
    pub edges: Vec<(String, String, String)>,
    pub cycle: Vec<String>,
}

impl Stepper {
    /// The steps as embedding pages get them (`values.interleaving`): `{mode, thread, op, value, t}`.
    pub fn interleaving(&self) -> impl Iterator<Item = serde_json::Value> + '_ {
        self.steps.iter().map(move |s| {
            let mut step =
                serde_json::json!({"mode": self.mode, "thread": s.thread, "op": s.op, "value": s.value, "t": s.t});
            if let Some(was) = s.was {
                step["was"] = was.into();
            }
            step
        })
    }
}
