//! One clock for every thread and worker: milliseconds since the Unix epoch.
//!
//! In the browser each worker has its own `performance.now()` origin, so we add
//! `performance.timeOrigin` to line their timelines up (`std::time::Instant` panics there).

#[cfg(target_arch = "wasm32")]
mod imp {
    pub use crate::host::now_ms;
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::sync::OnceLock;
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    static BASE: OnceLock<(Instant, f64)> = OnceLock::new();

    pub fn now_ms() -> f64 {
        let (instant, epoch_ms) = BASE.get_or_init(|| {
            let epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            (Instant::now(), epoch.as_secs_f64() * 1000.0)
        });
        epoch_ms + instant.elapsed().as_secs_f64() * 1000.0
    }
}

/// Milliseconds since the Unix epoch, monotonic within a thread, comparable across threads and workers.
pub fn now_ms() -> f64 {
    imp::now_ms()
}
