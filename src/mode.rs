//! A topic's modes: what each is called and which model runs its work (threads, isolated workers,
//! async tasks...). Below both the catalog (`topic`, which lists a topic's modes) and the run
//! context (`run`, which measures one mode at a time and knows which can run here).

use serde::Serialize;

/// How a mode runs its work; decides what the page needs to run it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Model {
    /// One lane, one thing after another.
    Sequential,
    /// Wasm threads sharing one memory (needs a cross-origin isolated page).
    Threads,
    /// Isolated workers, each with its own memory, talking by messages.
    Workers,
    /// Futures on one event loop.
    Async,
    /// A lesson's thread bodies as tasks on the scheduler engine (`interleaving::schedule`): one
    /// thread, no shared memory, a scheduler picking who takes each shared step.
    Scheduled,
}

impl Model {
    pub fn needs_shared_memory(self) -> bool {
        self == Model::Threads
    }
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Mode {
    pub id: &'static str,
    pub label: &'static str,
    pub model: Model,
    /// Whether its time may be compared with the other modes' (a baseline, a speedup): see
    /// [`Mode::compared`].
    #[serde(skip)]
    pub timed_work: bool,
}

impl Mode {
    pub const fn new(id: &'static str, label: &'static str, model: Model) -> Mode {
        Mode { id, label, model, timed_work: true }
    }

    /// A mode whose time is not its work's (a deadlock's is mostly the watchdog's wait): timed,
    /// never a baseline nor given a speedup.
    pub const fn not_compared(self) -> Mode {
        Mode { timed_work: false, ..self }
    }

    /// Whether its time is compared with the others'. A mode on the scheduler engine replays a
    /// lesson's steps without its pauses: its time is a simulation's, so it is not.
    pub fn compared(&self) -> bool {
        self.timed_work && self.model != Model::Scheduled
    }
}
