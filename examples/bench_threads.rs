//! Native thread-synchronization benchmark: lock hand-off latency, and contended Mutex vs
//! AtomicU64 increments per second with 1 and 2 threads. Medians of several runs.
//!
//!     cargo run --release --example bench_threads [runs]
//!
//! The wasm benchmark calls the same functions (`playground::engines::bench`).

use playground::engines::bench::{increments_per_sec, lock_handoff_ns, median, IncrementKind};

const HANDOFF_ROUNDS: usize = 20_000;
const INCREMENTS_PER_THREAD: u64 = 10_000_000;

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(7).max(1);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("Thread synchronization, native ({cores} cores), median of {runs} runs");
    println!();
    println!("{:<44} {:>14} {:>14} {:>14}", "measurement", "median", "min", "max");

    // Warm up the allocator and thread start-up paths once.
    lock_handoff_ns(500);

    let handoff: Vec<f64> = (0..runs).map(|_| lock_handoff_ns(HANDOFF_ROUNDS)).collect();
    row("lock hand-off, Mutex+Condvar (per hand-off)", &handoff, |ns| format!("{:.2} us", ns / 1000.0));

    for kind in [IncrementKind::Mutex, IncrementKind::Atomic] {
        for threads in [1, 2] {
            let rates: Vec<f64> = (0..runs).map(|_| increments_per_sec(kind, threads, INCREMENTS_PER_THREAD)).collect();
            let label = format!("{} increments, {threads} thread{}", kind.name(), if threads > 1 { "s" } else { "" });
            row(&label, &rates, |r| format!("{:.1} M/s", r / 1e6));
        }
    }
}

fn row(label: &str, values: &[f64], show: impl Fn(f64) -> String) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    println!("{label:<44} {:>14} {:>14} {:>14}", show(median(values.to_vec())), show(min), show(max));
}
