//! "Find the bug" benchmark: the exhaustive search over every interleaving of each scheduled
//! lesson's default small instance (and the largest the page allows, 3 threads x 2 rounds), every
//! version, natively. Prints the interleavings, the distinct states the cache kept, and the
//! median time of 5 searches (the target: well under a second).
//!
//!     cargo run --release --example bench_schedule

use playground::clock::now_ms;
use playground::interleaving::schedule::{search, Size, MAX_ROUNDS, MAX_THREADS};

fn main() {
    println!("Find the bug: exhaustive search over interleavings (native, one thread)");
    println!();
    println!(
        "{:<10} {:<10} {:>9} {:>14} {:>10} {:>8} {:>10}",
        "topic", "version", "size", "interleavings", "failing", "states", "median ms"
    );
    for topic in ["race", "counter", "bank", "deadlock"] {
        let lesson = playground::topics::lesson(topic).expect("a topic with a lesson");
        let largest = Size { threads: MAX_THREADS, rounds: MAX_ROUNDS };
        for size in [lesson.size, largest] {
            for variant in &lesson.variants {
                let mut times = Vec::new();
                let mut found = None;
                for _ in 0..5 {
                    let started = now_ms();
                    found = Some(search(&lesson, variant.id, size));
                    times.push(now_ms() - started);
                }
                times.sort_by(f64::total_cmp);
                let found = found.expect("searched");
                println!(
                    "{:<10} {:<10} {:>9} {:>14} {:>10} {:>8} {:>10.2}",
                    topic,
                    variant.id,
                    format!("{}x{}", size.threads, size.rounds),
                    found.interleavings,
                    found.failing,
                    found.states,
                    times[2]
                );
            }
        }
    }
}
