//! counter: N threads x M increments of one shared counter: unsynchronized, with a mutex,
//! with an atomic. Correctness and throughput side by side.

use serde_json::json;

use crate::interleaving::schedule::{self, Failure, Lesson, Size, Variant};
use crate::params::{group, FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, Needs};

const MAX_TOTAL: i64 = 100_000_000;

pub fn topic() -> Topic {
    Topic {
        id: "counter",
        title: "A shared counter: no lock, a mutex, an atomic",
        chapter: Chapter::Threads,
        summary: "N threads each add 1 to one counter M times: unsynchronized increments get lost; a mutex and an atomic are exact, at different speeds.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("threads", "Threads (N)", 4, 1, 64),
            Param::int("increments", "Increments per thread (M)", 2_000_000, 1, 25_000_000),
            Param::flag("record", "Record the first steps of each thread (for stepping through)", true)
                .help("Each thread records its first few hundred loads and stores, then one per 16,384; the rest run as before."),
        ],
        presets: vec![
            Preset { id: "one-thread", label: "One thread (no contention)", values: json!({"threads": 1, "increments": 1_000_000}) },
            Preset { id: "two-threads", label: "Two threads x 1,000,000", values: json!({"threads": 2, "increments": 1_000_000}) },
        ],
        modes: vec![
            Mode::new("unsync", "Unsynchronized load + store", Model::Threads),
            Mode::new("mutex", "Mutex around each increment", Model::Threads),
            Mode::new("atomic", "Atomic fetch_add", Model::Threads),
            Mode::new("scheduled-unsync", "Unsynchronized, on the scheduler (no shared memory)", Model::Scheduled),
            Mode::new("scheduled-mutex", "Mutex, on the scheduler (no shared memory)", Model::Scheduled),
        ],
        code: crate::topic_code!("counter/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_counter(run, params.read())),
        needs: |p| Needs::threads(p.read::<CounterParams>().threads),
        reads: reads::<CounterParams>,
    }
}

/// "You schedule" and "Find the bug": `increment` on the scheduler.
pub fn lesson() -> Lesson {
    Lesson {
        goal: "Lose an increment: let one thread load the counter, then store over another thread's store.",
        failure: Failure::LostUpdate,
        shared: "counter",
        update: ("increment", "increments"),
        start: 0,
        locks: |_| vec!["the mutex".to_string()],
        variants: vec![
            Variant { id: "unsync", label: "Unsynchronized load + store" },
            Variant { id: "mutex", label: "Mutex around each increment" },
            Variant { id: "atomic", label: "Atomic fetch_add" },
        ],
        size: Size { threads: 2, rounds: 2 },
        body: schedule::body(|variant, size, _thread, steps| {
            let way = Way::from_id(variant);
            Box::pin(async move {
                for _ in 0..size.rounds {
                    increment(&steps, way).await?;
                }
                Ok(())
            })
        }),
    }
}

/// A scheduled mode takes each thread's first this many increments (one step at a time).
const SCHEDULED_INCREMENTS: usize = 500;

fn check(p: &CounterParams) -> Result<(), FieldError> {
    let total = (p.threads * p.increments) as i64;
    if total > MAX_TOTAL {
        return Err(FieldError::new(
            "increments",
            format!("N x M is {}; keep it at most {}", group(total), group(MAX_TOTAL)),
        ));
    }
    Ok(())
}

// CODE START
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::executor::block_on;
use serde::Deserialize;

use crate::engines::threads;
use crate::interleaving::schedule::scheduled_mode;
use crate::interleaving::{Names, Recorder, SharedMemory, Steps, ThreadSteps};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CounterParams {
    threads: usize,
    increments: usize,
    record: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Way {
    Unsync,
    Mutex,
    Atomic,
}

impl Way {
    fn from_id(id: &str) -> Way {
        match id {
            "mutex" => Way::Mutex,
            "atomic" => Way::Atomic,
            _ => Way::Unsync,
        }
    }
}

/// One increment, written once for both engines: load, add 1, store (under the mutex for
/// `Way::Mutex`); an atomic fetch-add is one indivisible step.
async fn increment<S: Steps>(s: &S, way: Way) -> RunResult<()> {
    if way == Way::Atomic {
        s.add(1).await?; // load, add and store as one instruction: nothing can come in between
        return Ok(());
    }
    let locked = way == Way::Mutex;
    if locked {
        s.lock(0).await?;
    }
    let value = s.read().await?; // load
    s.write(value + 1).await?; // store: without the mutex, may overwrite other threads' stores
    if locked {
        s.unlock(0).await?;
    }
    Ok(())
}

/// `n` increments in a row.
async fn increments<S: Steps>(s: &S, way: Way, n: usize) -> RunResult<()> {
    for _ in 0..n {
        increment(s, way).await?;
    }
    Ok(())
}

/// Increments between two looks at the Stop button.
const CHUNK: usize = 1 << 14;

async fn run_counter(run: Run, p: CounterParams) -> RunResult<()> {
    let (n, m) = (p.threads, p.increments);
    let expected = (n * m) as u64;
    let mut rows = Vec::new();
    for (mode, way) in [("unsync", Way::Unsync), ("mutex", Way::Mutex), ("atomic", Way::Atomic)] {
        // The atomic's one instruction has no steps between which anything could happen.
        let recorder = Recorder::new(p.record && way != Way::Atomic, n);
        let Some((count, ms)) = run.measure(mode, count_with(&run, way, n, m, &recorder)).await? else { continue };
        if recorder.is_on() {
            let locks = if way == Way::Mutex { vec!["the mutex".to_string()] } else { Vec::new() };
            run.stepper(recorder.finish(&Names { mode, shared: "counter", update: ("increment", "increments"), locks: &locks }));
        }
        let per_sec = expected as f64 / (ms.max(1e-3) / 1000.0);
        let lost = expected - count;
        let outcome = if lost == 0 { "exact".to_string() } else { format!("{} lost", group(lost as i64)) };
        run.result(mode, format!("{} of {}: {outcome}", group(count as i64), group(expected as i64)));
        run.note(mode, format!("{} increments/s ({ms:.1} ms counting)", human(per_sec)));
        match way {
            Way::Unsync if lost == 0 && n > 1 => {
                run.log("main", "unsynchronized: nothing lost this time (lucky timing); the code is still wrong")
            }
            Way::Unsync if lost > 0 => run
                .log("main", format!("unsynchronized: {} increments overwritten by other threads", group(lost as i64))),
            Way::Unsync => {}
            _ => run.verify(
                count == expected,
                format!("{mode}: exactly {} (got {})", group(expected as i64), group(count as i64)),
            ),
        }
        run.value(&format!("{mode}_count"), count);
        run.value(&format!("{mode}_per_sec"), per_sec);
        rows.push(vec![mode.to_string(), group(count as i64), group(lost as i64), human(per_sec)]);
    }
    // The same increments on the scheduler engine, where threads cannot run.
    let rounds = m.min(SCHEDULED_INCREMENTS);
    let lesson = lesson();
    for (mode, variant) in [("scheduled-unsync", "unsync"), ("scheduled-mutex", "mutex")] {
        let size = Size { threads: n, rounds };
        let Some((machine, steps)) = scheduled_mode(&run, mode, &lesson, variant, size, p.record).await? else { continue };
        let (count, expected) = (machine.value(), (n * rounds) as i64);
        let explained: i64 = steps.findings.iter().map(|f| f.lost).sum();
        run.result(mode, format!("{} of {} (each thread's first {rounds}): {} lost", group(count), group(expected), group(expected - count)));
        run.verify(
            explained == expected - count,
            format!("{mode}: the steps explain all {} lost increments, each a store over a value its thread had not loaded (found {explained})", expected - count),
        );
        if variant == "mutex" {
            run.verify(count == expected, format!("{mode}: exactly {}", group(expected)));
        }
        run.value(&format!("{mode}_count"), count);
    }
    run.value("expected", expected);
    run.table("Counters side by side", &["mode", "final count", "lost", "increments/s"], rows);
    Ok(())
}

/// N threads each run `increment` M times on one shared counter, starting together; returns the
/// final count and the milliseconds from the first thread starting to count to the last one
/// finishing. Each thread records its first steps, then only what a lost update looks like.
async fn count_with(run: &Run, way: Way, n: usize, m: usize, recorder: &Arc<Recorder>) -> RunResult<(u64, f64)> {
    let memory = Arc::new(SharedMemory::new(0, &["the mutex".to_string()], n));
    let ready = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for t in 1..=n {
        let (run, memory, ready, recorder) = (run.clone(), memory.clone(), ready.clone(), recorder.clone());
        handles.push(threads::spawn(format!("thread {t}"), move || -> RunResult<(f64, f64)> {
            let lane = format!("thread {t}");
            let mut track = recorder.track(&run, &lane, t);
            // Wait until every thread exists, so they really count at the same time.
            let arrived = run.now();
            ready.fetch_add(1, Ordering::SeqCst);
            let mut spins = 0u32;
            while ready.load(Ordering::SeqCst) < n {
                std::hint::spin_loop(); // spin (rather than sleep) so all start within microseconds
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(4096) {
                    run.check()?;
                    std::thread::yield_now();
                }
            }
            let start = run.now();
            run.span(&lane, "wait for the others to start", SpanKind::Wait, arrived, start);
            let steps = ThreadSteps::new(&run, &lane, t - 1, &memory, &mut track).hot();
            let plain = steps.plain();
            // The steps of real threads complete at once: block_on just runs the body through.
            let mut left = m;
            while left > 0 {
                run.check()?;
                if steps.recording() {
                    block_on(increment(&steps, way))?; // recorded (or one step nearer a sample)
                    left -= 1;
                } else {
                    // The same increment on plain loads and stores, a chunk at a time.
                    let chunk = left.min(CHUNK);
                    block_on(increments(&plain, way, chunk))?;
                    plain.hand_in();
                    left -= chunk;
                }
            }
            let end = run.now();
            run.span(&lane, format!("{} increments", group(m as i64)), SpanKind::Run, start, end);
            Ok((start, end))
        })?);
    }
    let times = threads::join_all(handles).await?.into_iter().collect::<RunResult<Vec<_>>>()?;
    let first = times.iter().map(|t| t.0).fold(f64::INFINITY, f64::min);
    let last = times.iter().map(|t| t.1).fold(0.0, f64::max);
    Ok((memory.value() as u64, last - first))
}

/// 12345678.0 -> "12.3 M".
fn human(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.1} M", x / 1e6),
        x if x >= 1e3 => format!("{:.1} k", x / 1e3),
        x => format!("{x:.0}"),
    }
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({"threads": 4, "increments": 200_000})),
        output: |out, r| expect_eq("locked count", after(out, "locked_add ")?, value(r, "expected")),
        no_constant: &[
            "record", // the page's stepper
        ],
        sized_for_cpython: &["increments"],
    }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    #[test]
    fn mutex_and_atomic_are_exact_and_every_throughput_is_shown() {
        let report = run_native("counter", json!({"threads": 4, "increments": 30_000}), true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["mutex_count"], 120_000);
        assert_eq!(report.values["atomic_count"], 120_000);
        let unsync = report.values["unsync_count"].as_u64().unwrap();
        assert!(unsync <= 120_000);
        for mode in ["unsync", "mutex", "atomic"] {
            let per_sec = report.values[&format!("{mode}_per_sec")].as_f64().unwrap();
            assert!(per_sec.is_finite() && per_sec > 0.0, "{mode}: {per_sec}");
            let row = report.modes.iter().find(|m| m.id == mode).unwrap();
            assert!(row.note.as_ref().unwrap().contains("increments/s"), "{:?}", row.note);
            assert_eq!(row.lanes, 4);
        }
        // The table reports the unsynchronized loss as measured.
        let table = &report.tables[0];
        assert_eq!(table.rows[0][2].replace(',', "").parse::<u64>().unwrap(), 120_000 - unsync);
    }

    #[test]
    fn the_unsynchronized_steps_show_where_increments_were_lost() {
        // The threads watch for a lost update during their first steps only: on a busy machine
        // they may not overlap then, so up to five runs for one that caught some.
        let mut caught = None;
        for _ in 0..5 {
            let report = run_native("counter", json!({"threads": 4, "increments": 200_000}), true);
            let stepper = report.steppers.iter().find(|s| s.mode == "unsync").expect("unsync is recorded");
            assert_eq!(stepper.happened, 2 * 800_000, "every load and store is counted");
            assert!(stepper.recorded < 4 * 4000 + 4 * 200, "bounded: {}", stepper.recorded);
            if !stepper.findings.is_empty() {
                caught = Some(report);
                break;
            }
        }
        let report = caught.expect("five runs and no lost update caught in the recorded steps");
        let stepper = report.steppers.iter().find(|s| s.mode == "unsync").unwrap();
        let first = &stepper.findings[0];
        assert!(first.text.contains("vanished"), "{}", first.text);
        assert_eq!(stepper.steps[first.step].op, crate::interleaving::Op::Write);
        // The mutex's steps are recorded too, and lose nothing; the atomic has no steps to show.
        let mutex = report.steppers.iter().find(|s| s.mode == "mutex").unwrap();
        assert!(mutex.findings.is_empty() && mutex.recorded > 0, "{:?}", mutex.findings.first());
        assert!(report.steppers.iter().all(|s| s.mode != "atomic"));
        let off = run_native("counter", json!({"threads": 2, "increments": 1000, "record": false}), true);
        assert!(off.steppers.is_empty());
    }

    #[test]
    fn too_many_increments_are_refused() {
        let errors = rejected_native("counter", json!({"threads": 64, "increments": 10_000_000}));
        assert_eq!(errors[0].field, "increments");
    }
    /// Each mode's increments per second (medians of 7 runs), for comparing versions of the loop.
    #[test]
    #[ignore = "a measurement: cargo test --release --lib throughput_by_mode -- --ignored --nocapture"]
    fn throughput_by_mode() {
        for (threads, record) in [(4, true), (4, false), (1, true)] {
            let mut per: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
            for _ in 0..7 {
                let report = run_native("counter", json!({"threads": threads, "increments": 2_000_000, "record": record}), true);
                for mode in ["unsync", "mutex", "atomic"] {
                    per.entry(mode).or_default().push(report.values[&format!("{mode}_per_sec")].as_f64().unwrap());
                }
            }
            for (mode, mut v) in per {
                v.sort_by(f64::total_cmp);
                println!("{threads} threads, record {record}: {mode} {:.1} M/s (min {:.1}, max {:.1})", v[3] / 1e6, v[0] / 1e6, v[6] / 1e6);
            }
        }
    }

}
