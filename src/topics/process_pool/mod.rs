//! process-pool: primes by trial division over ranges, mapped over a pool of isolated workers.

use serde_json::json;

use crate::params::{group, FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "process-pool",
        title: "A pool of processes: primes in ranges",
        chapter: Chapter::Processes,
        summary: "Find primes in ranges on a pool of isolated workers; a tiny job loses to the pool's overhead, a large one wins.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("lo", "From", 1000, 0, 20_000_000).help("The first number to test."),
            Param::int("hi", "Up to (not included)", 5000, 1, 20_000_000).help("Numbers below this are tested."),
            Param::int("ranges", "Ranges (calls)", 4, 1, 256).help("The span is cut into this many equal ranges, one call each."),
            Param::int("workers", "Workers", 4, 1, 16).help("Isolated workers in the pool."),
        ],
        presets: vec![
            Preset { id: "large", label: "Large: below 10,000,000 in 16 ranges", values: json!({"lo": 0, "hi": 10_000_000, "ranges": 16}) },
            Preset { id: "medium", label: "Medium: below 1,000,000", values: json!({"lo": 0, "hi": 1_000_000, "ranges": 8}) },
        ],
        modes: vec![
            Mode::new("sequential", "One loop (main)", Model::Sequential),
            Mode::new("pool", "New pool (started by Run)", Model::Workers),
            Mode::new("warm", "Warm pool (started before)", Model::Workers),
        ],
        code: crate::topic_code!("process_pool/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_process_pool(run, params.read())),
        needs: |p| {
            let p: ProcessPoolParams = p.read();
            Needs::workers(p.workers.min(p.ranges as usize))
        },
        reads: reads::<ProcessPoolParams>,
    }
}

fn check(p: &ProcessPoolParams) -> Result<(), FieldError> {
    if p.lo >= p.hi {
        return Err(FieldError::new("hi", "\"Up to\" must be larger than \"From\""));
    }
    if p.hi - p.lo < p.ranges {
        return Err(FieldError::new("ranges", "There are more ranges than numbers to test"));
    }
    Ok(())
}

// CODE START
use serde::Deserialize;

use crate::engines::tasks::Pacer;
use crate::engines::workers::{Job, Pool, Traffic};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};
use crate::topics::kernels::{primes_in, sieve_count, split};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessPoolParams {
    lo: u64,
    hi: u64,
    ranges: u64,
    workers: usize,
}

/// Numbers tested on the main lane between two looks at the Stop button.
const SLICE: u64 = 20_000;

async fn run_process_pool(run: Run, p: ProcessPoolParams) -> RunResult<()> {
    let ranges = split(p.lo, p.hi, p.ranges);
    let workers = p.workers.min(ranges.len());

    let sequential = run.measure("sequential", async {
        let mut pacer = Pacer::new(&run);
        let mut primes = Vec::new();
        for (k, &(a, b)) in ranges.iter().enumerate() {
            let start = run.now();
            for (x, y) in split(a, b, (b - a).div_ceil(SLICE)) {
                primes.extend(primes_in(x, y));
                pacer.tick(&run).await?;
            }
            run.span("main", format!("range {}", k + 1), SpanKind::Run, start, run.now());
            run.progress((k + 1) as f64, ranges.len() as f64, "ranges done");
        }
        Ok(primes)
    });
    let sequential = sequential.await?;

    let pooled = run.measure("pool", on_pool(&run, &ranges, workers, true)).await?;
    let warm = run.measure("warm", on_pool(&run, &ranges, workers, false)).await?;

    let expected = sieve_count(p.lo, p.hi);
    run.value("expected", expected);
    if let Some(primes) = &sequential {
        run.result("sequential", format!("{} primes", group(primes.len() as i64)));
        run.verify(
            primes.len() == expected,
            format!("one loop finds {} primes, as a sieve counts", group(expected as i64)),
        );
    }
    if let Some((chunks, startup_ms, ..)) = &warm {
        let count = chunks.iter().map(Vec::len).sum::<usize>();
        run.result("warm", format!("{} primes", group(count as i64)));
        run.note("warm", format!("start-up {} (the workers were already running)", ms(*startup_ms)));
        run.verify(count == expected, format!("the warm pool finds {} primes too", group(expected as i64)));
    }
    let Some((chunks, startup_ms, unpack_ms, traffic)) = pooled else { return Ok(()) };
    let primes: Vec<u64> = chunks.iter().flatten().copied().collect(); // flattened in range order
    run.result("pool", format!("{} primes", group(primes.len() as i64)));
    run.note(
        "pool",
        format!(
            "start-up {}; {} bytes crossed in {} messages, {} in transit + {} unpacking; compute {} (all workers)",
            ms(startup_ms),
            group(traffic.bytes as i64),
            traffic.messages,
            ms(traffic.copy_ms),
            ms(unpack_ms),
            ms(traffic.compute_ms)
        ),
    );
    run.verify(
        primes.len() == expected,
        format!("the pool finds {} primes, as a sieve counts", group(expected as i64)),
    );
    run.verify(primes.windows(2).all(|w| w[0] < w[1]), "flattened in range order: the list is sorted");
    if let Some(seq) = &sequential {
        run.verify(*seq == primes, "the pool's list equals the loop's, number for number");
    }
    let rows = ranges
        .iter()
        .zip(&chunks)
        .map(|(&(a, b), c)| vec![format!("{}..{}", group(a as i64), group(b as i64)), c.len().to_string()])
        .collect();
    run.table("Primes per range (call)", &["range", "primes"], rows);
    run.value("count", primes.len());
    run.value("first", &primes[..primes.len().min(10)]);
    run.value("last", &primes[primes.len().saturating_sub(10)..]);
    if primes.len() <= 10_000 {
        let text: Vec<String> = primes.iter().map(u64::to_string).collect();
        run.file("primes.txt", "text/plain", text.join("\n"));
    }
    explain(&run, workers, startup_ms, unpack_ms, traffic);
    Ok(())
}

/// Says, with this run's own figures, why the pool won or lost against the loop.
fn explain(run: &Run, workers: usize, startup_ms: f64, unpack_ms: f64, t: Traffic) {
    let (Some(seq), Some(pool)) = (run.wall_ms("sequential"), run.wall_ms("pool")) else { return };
    let overhead = startup_ms + t.copy_ms + unpack_ms;
    let share = t.compute_ms / workers as f64;
    let parts = format!(
        "starting {workers} workers took {}, {} bytes crossed in {} messages ({} in transit, {} unpacking), \
         and the computing itself was {} in all, about {} per worker",
        ms(startup_ms),
        group(t.bytes as i64),
        t.messages,
        ms(t.copy_ms),
        ms(unpack_ms),
        ms(t.compute_ms),
        ms(share)
    );
    let verdict = if pool > seq {
        format!(
            "The pool lost: {} against {} for one loop. {}. The overhead ({}) is bigger than the computing there \
             was to share, so splitting it up could not pay.",
            ms(pool),
            ms(seq),
            capitalize(&parts),
            ms(overhead)
        )
    } else {
        format!(
            "The pool won: {} against {} for one loop ({:.2}x). {}. The computing is large enough that sharing it \
             between workers saves more than the {} of overhead costs.",
            ms(pool),
            ms(seq),
            seq / pool,
            capitalize(&parts),
            ms(overhead)
        )
    };
    // One line per sentence, so the output panel shows the whole explanation.
    for sentence in verdict.split(". ") {
        run.log("main", sentence.trim_end_matches('.').to_string() + ".");
    }
    run.value("verdict", verdict);
    run.value("overhead_ms", overhead);
    run.value("compute_ms", t.compute_ms);
    run.value("bytes", t.bytes);
    run.table(
        "Where the pool's time went",
        &["part", "ms"],
        vec![
            vec![format!("starting {workers} workers"), format!("{startup_ms:.2}")],
            vec!["messages in transit (copy + delivery)".into(), format!("{:.2}", t.copy_ms)],
            vec!["unpacking the answers".into(), format!("{unpack_ms:.2}")],
            vec!["computing, all workers together".into(), format!("{:.2}", t.compute_ms)],
            vec!["wall time, pool".into(), format!("{pool:.2}")],
            vec!["wall time, one loop".into(), format!("{seq:.2}")],
        ],
    );
}

/// Milliseconds with two decimals when small, one when large.
fn ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2} ms")
    } else {
        format!("{value:.1} ms")
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Maps the ranges over a pool (`fresh`: started for this run, as `with Pool(4)` does; otherwise
/// warm workers) and unpacks the answers: (primes per range, start-up ms, unpack ms, traffic).
async fn on_pool(run: &Run, ranges: &[(u64, u64)], workers: usize, fresh: bool) -> RunResult<Pooled> {
    let started = run.now();
    let pool = if fresh { Pool::start_cold(run, workers).await? } else { Pool::start(run, workers).await? };
    let startup_ms = run.now() - started;
    // Several arguments per call: each call's message is the pair (lo, hi).
    let answers = pool.map(run, &PRIMES, ranges.to_vec(), |k| format!("range {}", k + 1)).await?;
    // Collecting the answers (decoded from their messages, like unpickling) happens on this lane.
    let unpack_start = run.now();
    let chunks = answers.into_iter().collect::<Result<Vec<_>, String>>()?;
    let unpack_ms = run.now() - unpack_start;
    run.span("main", "unpack answers", SpanKind::Copy, unpack_start, run.now());
    Ok((chunks, startup_ms, unpack_ms, pool.traffic()))
}

type Pooled = (Vec<Vec<u64>>, f64, f64, Traffic);

/// One call in a worker: (lo, hi) in, the primes in lo..hi out.
pub static PRIMES: Job<(u64, u64), Vec<u64>> =
    Job { name: "process-pool/primes", run: |(lo, hi)| Ok(primes_in(lo, hi)), warm_up: || (0, 20_000) };
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({})),
        output: |out, r| {
            expect_eq(
                "primes",
                out.lines().find_map(|l| l.strip_suffix(" primes")).unwrap_or("none"),
                value(r, "count"),
            )
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    #[test]
    fn default_finds_501_primes_flattened_in_range_order() {
        let report = run_native("process-pool", json!({}), false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.checks.len(), 5);
        assert_eq!(report.values["count"], 501);
        assert_eq!(report.values["first"][0], 1009);
        assert_eq!(report.values["last"][9], 4999);
        assert_eq!(report.tables[0].rows.iter().map(|r| r[1].parse::<usize>().unwrap()).sum::<usize>(), 501);
        // The explanation is built from the measured figures and agrees with the timing table.
        let verdict = report.values["verdict"].as_str().unwrap();
        let wall = |id: &str| report.modes.iter().find(|m| m.id == id).unwrap().wall_ms.unwrap();
        let lost = wall("pool") > wall("sequential");
        assert!(verdict.starts_with(if lost { "The pool lost" } else { "The pool won" }), "{verdict}");
        assert!(verdict.contains(&format!("against {} for one loop", super::ms(wall("sequential")))), "{verdict}");
        let first = verdict.split(". ").next().unwrap();
        assert!(report.log.iter().any(|l| l.text == format!("{first}.")), "{first}");
        assert!(report.values["bytes"].as_u64().unwrap() > 1000, "501 primes cross in messages");
        assert_eq!(report.files.len(), 1);
    }

    #[test]
    fn a_larger_span_matches_the_sieve_on_every_worker_lane() {
        let report = run_native("process-pool", json!({"lo": 0, "hi": 300_000, "ranges": 6, "workers": 3}), false);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["count"], 25_997);
        assert_eq!(report.modes.iter().find(|m| m.id == "pool").unwrap().lanes, 4, "3 workers + main");
    }

    #[test]
    #[ignore = "slow in debug builds: cargo test --release -- --ignored"]
    fn large_preset_finds_664579_primes() {
        let preset = crate::topics::find("process-pool").unwrap().presets.iter().find(|p| p.id == "large").unwrap();
        let report = run_native("process-pool", preset.values.clone(), false);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["count"], 664_579);
    }

    #[test]
    fn inverted_span_is_refused() {
        let errors = rejected_native("process-pool", json!({"lo": 50, "hi": 10}));
        assert_eq!(errors[0].field, "hi");
    }
}
