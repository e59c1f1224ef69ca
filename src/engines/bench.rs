//! Micro-benchmarks of thread synchronization, shared by the native benchmark
//! (`examples/bench_threads.rs`) and the wasm one, so both measure the same code.
//!
//! Each measurement has an async form (awaits the threads' joins, so it never blocks an event
//! loop) and a blocking form for native code and for threads that may block. In the browser the
//! blocking forms must not run on the page's main thread (`Atomics.wait` is forbidden there);
//! prefer the async forms from the engine.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::clock::now_ms;
use crate::engines::threads;
use crate::run::RunResult;

/// What a contended increment goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrementKind {
    /// `*mutex.lock() += 1`
    Mutex,
    /// `atomic.fetch_add(1)`
    Atomic,
}

impl IncrementKind {
    pub fn name(self) -> &'static str {
        match self {
            IncrementKind::Mutex => "Mutex",
            IncrementKind::Atomic => "AtomicU64",
        }
    }
}

/// Spins until `n` threads have arrived, so timed work starts at the same moment everywhere
/// (spawning a thread takes far longer than what is measured).
fn start_together(ready: &AtomicUsize, n: usize) {
    ready.fetch_add(1, Ordering::SeqCst);
    let mut spins = 0u32;
    while ready.load(Ordering::SeqCst) < n {
        std::hint::spin_loop();
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(1024) {
            std::thread::yield_now();
        }
    }
}

/// Two threads pass a turn back and forth through a Mutex and a Condvar, `rounds` times each
/// way; returns the mean nanoseconds of one hand-off (one thread waking the other).
pub async fn lock_handoff_ns_async(rounds: usize) -> RunResult<f64> {
    let rounds = rounds.max(1);
    let turn = Arc::new((Mutex::new(0usize), Condvar::new()));
    let ready = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for me in 0..2usize {
        let (turn, ready) = (turn.clone(), ready.clone());
        handles.push(threads::spawn(format!("bench hand-off {}", me + 1), move || {
            start_together(&ready, 2);
            let start = now_ms();
            let (lock, changed) = &*turn;
            for _ in 0..rounds {
                let mut whose = lock.lock().unwrap_or_else(|e| e.into_inner());
                while *whose != me {
                    whose = changed.wait(whose).unwrap_or_else(|e| e.into_inner());
                }
                *whose = 1 - me; // hand the turn to the other thread
                drop(whose);
                changed.notify_one();
            }
            (start, now_ms())
        })?);
    }
    let times = threads::join_all(handles).await?;
    let start = times.iter().map(|t| t.0).fold(f64::INFINITY, f64::min);
    let end = times.iter().map(|t| t.1).fold(0.0, f64::max);
    Ok((end - start) * 1e6 / (2 * rounds) as f64)
}

/// `threads` threads each increment one shared counter `per_thread` times; returns the total
/// increments per second, timed from the common start to the last thread's end. Fails if the
/// count is not exact.
pub async fn increments_per_sec_async(kind: IncrementKind, threads: usize, per_thread: u64) -> RunResult<f64> {
    let n = threads.max(1);
    let locked = Arc::new(Mutex::new(0u64));
    let atomic = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for t in 0..n {
        let (locked, atomic, ready) = (locked.clone(), atomic.clone(), ready.clone());
        handles.push(threads::spawn(format!("bench increments {}", t + 1), move || {
            start_together(&ready, n);
            let start = now_ms();
            match kind {
                IncrementKind::Mutex => {
                    for _ in 0..per_thread {
                        *locked.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    }
                }
                IncrementKind::Atomic => {
                    for _ in 0..per_thread {
                        atomic.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            (start, now_ms())
        })?);
    }
    let times = crate::engines::threads::join_all(handles).await?;
    let start = times.iter().map(|t| t.0).fold(f64::INFINITY, f64::min);
    let end = times.iter().map(|t| t.1).fold(0.0, f64::max);
    let total = n as u64 * per_thread;
    let counted = match kind {
        IncrementKind::Mutex => *locked.lock().unwrap_or_else(|e| e.into_inner()),
        IncrementKind::Atomic => atomic.load(Ordering::SeqCst),
    };
    if counted != total {
        return Err(format!("{} counted {counted} of {total}", kind.name()).into());
    }
    Ok(total as f64 / ((end - start).max(1e-6) / 1000.0))
}

/// Blocking form of [`lock_handoff_ns_async`]: mean nanoseconds per hand-off.
pub fn lock_handoff_ns(rounds: usize) -> f64 {
    futures::executor::block_on(lock_handoff_ns_async(rounds)).unwrap_or(f64::NAN)
}

/// Blocking form of [`increments_per_sec_async`]: increments per second (NaN on failure).
pub fn increments_per_sec(kind: IncrementKind, threads: usize, per_thread: u64) -> f64 {
    futures::executor::block_on(increments_per_sec_async(kind, threads, per_thread)).unwrap_or(f64::NAN)
}

/// The median of some measurements (NaN for none).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One named measurement, the same code natively and in the browser (the engine calls it for
/// `tests/bench/browser-bench.mjs`; `examples/bench_native.rs` natively). `arg` sizes the work.
/// Returns milliseconds, nanoseconds or increments per second, as the name says.
pub async fn measure(name: &str, arg: f64) -> RunResult<f64> {
    let n = arg.max(1.0) as usize;
    match name {
        "kernel-ms" => {
            let start = now_ms();
            std::hint::black_box(kernels::sum_squares(0, n as u64));
            Ok(now_ms() - start)
        }
        "primes-ms" => {
            let start = now_ms();
            std::hint::black_box(kernels::primes_in(0, n as u64).len());
            Ok(now_ms() - start)
        }
        "handoff-ns" => lock_handoff_ns_async(n).await,
        "mutex-1-per-s" => increments_per_sec_async(IncrementKind::Mutex, 1, n as u64).await,
        "mutex-2-per-s" => increments_per_sec_async(IncrementKind::Mutex, 2, n as u64).await,
        "atomic-1-per-s" => increments_per_sec_async(IncrementKind::Atomic, 1, n as u64).await,
        "atomic-2-per-s" => increments_per_sec_async(IncrementKind::Atomic, 2, n as u64).await,
        "thread-start-ms" => {
            let start = now_ms();
            threads::spawn_new("bench start", || ())?.join().await?;
            Ok(now_ms() - start)
        }
        "waits-100ms-ms" => {
            let start = now_ms();
            let waits = (0..n).map(|_| crate::engines::tasks::delay(100.0));
            futures::future::join_all(waits).await;
            Ok(now_ms() - start)
        }
        _ => Err(format!("no benchmark named {name}").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measurements_are_positive_and_counts_exact() {
        let handoff = lock_handoff_ns(200);
        assert!(handoff.is_finite() && handoff > 0.0, "{handoff}");
        for kind in [IncrementKind::Mutex, IncrementKind::Atomic] {
            for threads in [1, 2] {
                let rate = increments_per_sec(kind, threads, 20_000);
                assert!(rate.is_finite() && rate > 0.0, "{kind:?} x{threads}: {rate}");
            }
        }
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }
}
