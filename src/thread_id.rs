//! Which of the threads engine's threads this code runs on. Its own module, below both: the
//! threads engine sets it as a thread takes work, and the run context reads it to say which
//! thread a wait belongs to, so the generic run context does not depend on one engine.

use std::cell::Cell;

thread_local! {
    static CURRENT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The id of the engine thread this code runs on (`None` off its threads, or between works).
pub fn current() -> Option<usize> {
    CURRENT.with(Cell::get)
}

/// Called by the threads engine when a thread begins work `id` (`Some`) and ends it (`None`).
pub(crate) fn set(id: Option<usize>) {
    CURRENT.with(|c| c.set(id));
}
