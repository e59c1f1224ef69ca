//! The same measurements as the browser benchmark (engines::bench::measure), natively.
//! `cargo run --release --example bench_native -- --json` prints one JSON object of medians
//! for tests/bench/browser-bench.mjs; without it, a table.

use playground::engines::bench::{measure, median};

/// (name, work size, repetitions)
pub const CASES: &[(&str, f64, usize)] = &[
    ("kernel-ms", 100_000_000.0, 5),
    ("primes-ms", 1_000_000.0, 5),
    ("handoff-ns", 20_000.0, 5),
    ("mutex-1-per-s", 2_000_000.0, 5),
    ("mutex-2-per-s", 1_000_000.0, 5),
    ("atomic-1-per-s", 5_000_000.0, 5),
    ("atomic-2-per-s", 2_500_000.0, 5),
    ("thread-start-ms", 1.0, 9),
    ("waits-100ms-ms", 10_000.0, 3),
];

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let mut out = serde_json::Map::new();
    if !json {
        println!("{:<18} {:>16}", "native", "median");
    }
    for &(name, arg, reps) in CASES {
        let values: Vec<f64> = (0..reps).filter_map(|_| futures::executor::block_on(measure(name, arg)).ok()).collect();
        let m = median(values);
        out.insert(name.to_string(), m.into());
        if !json {
            println!("{name:<18} {m:>16.2}");
        }
    }
    if json {
        println!("{}", serde_json::Value::Object(out));
    }
}
