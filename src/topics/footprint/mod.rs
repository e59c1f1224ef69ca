//! footprint: what one more thread costs against one more isolated worker, measured here:
//! start-up time, memory, and the price of a message.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "footprint",
        title: "Footprint: a thread vs a process",
        chapter: Chapter::Processes,
        summary: "Measure what one more thread and one more isolated worker cost to start, in memory, and per message.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("samples", "Repetitions", 5, 1, 20).help("How many threads and workers to start, one at a time (the median is shown)."),
            Param::int("payload_kb", "Large message (KB)", 1024, 1, 16_384).help("The size of the large message sent to a worker and back."),
        ],
        presets: vec![Preset { id: "more", label: "10 of each, 4 MB message", values: json!({"samples": 10, "payload_kb": 4096}) }],
        modes: vec![
            Mode::new("thread", "One more thread", Model::Threads),
            Mode::new("worker", "One more isolated worker", Model::Workers),
        ],
        code: crate::topic_code!("footprint/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_footprint(run, params.read())),
        needs: |_| Needs::threads(1),
        reads: reads::<FootprintParams>,
    }
}

// CODE START
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use serde::Deserialize;

use crate::engines::workers::{instance_id, instance_memory_bytes, Job, Pool};
use crate::engines::{tasks, threads};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FootprintParams {
    samples: usize,
    payload_kb: usize,
}

/// One measured quantity: its repeated samples, and how it was measured.
struct Figure {
    what: &'static str,
    samples: Vec<f64>,
    how: String,
}

async fn run_footprint(run: Run, p: FootprintParams) -> RunResult<()> {
    let (n, payload) = (p.samples, p.payload_kb * 1024);
    let mut rows: Vec<Vec<String>> = Vec::new();

    if let Some(figures) = run.measure("thread", one_more_thread(&run, n)).await? {
        rows.extend(figures.iter().map(row));
        run.result("thread", summary(&figures[0]));
    } else {
        rows.push(vec![
            "start one more thread".into(),
            "unavailable".into(),
            "".into(),
            "needs a cross-origin isolated page".into(),
        ]);
    }
    if let Some(figures) = run.measure("worker", one_more_worker(&run, n, payload)).await? {
        rows.extend(figures.iter().map(row));
        run.result("worker", summary(&figures[0]));
    }
    run.table("What one more costs", &["figure", "median", "range", "how it was measured"], rows);
    Ok(())
}

/// Spawns and joins an empty thread `n` times on a new Web Worker each, then `n` times reusing a
/// finished one; then keeps `n` new threads alive at once and reads how much the shared memory
/// grew for their stacks.
async fn one_more_thread(run: &Run, n: usize) -> RunResult<Vec<Figure>> {
    let mut start_ms = Vec::new();
    let mut reuse_ms = Vec::new();
    for (fresh, samples) in [(true, &mut start_ms), (false, &mut reuse_ms)] {
        for k in 0..n {
            let lane = format!("thread {}", k + 1);
            let t0 = run.now();
            if fresh {
                threads::spawn_new(&lane, || ())?.join().await?;
            } else {
                threads::spawn(&lane, || ())?.join().await?;
            }
            let t1 = run.now();
            let label = if fresh { "spawn + join (empty), new" } else { "spawn + join (empty), reused" };
            run.span(lane, label, SpanKind::Spawn, t0, t1);
            samples.push(t1 - t0);
        }
    }
    run.value("thread_start_ms", median(&start_ms));
    run.value("thread_reuse_ms", median(&reuse_ms));

    // Memory: n threads parked on a condition variable while we read the memory size.
    let before = memory_now();
    let started = Arc::new(AtomicUsize::new(0));
    let release = Arc::new((Mutex::new(false), Condvar::new()));
    let mut handles = Vec::new();
    for k in 0..n {
        let (started, release) = (started.clone(), release.clone());
        handles.push(threads::spawn_new(format!("parked {}", k + 1), move || {
            started.fetch_add(1, Ordering::SeqCst);
            let (lock, wake) = &*release;
            let mut go = lock.lock().unwrap();
            while !*go {
                go = wake.wait(go).unwrap();
            }
        })?);
    }
    while started.load(Ordering::SeqCst) < n {
        tasks::sleep(run, 1.0).await?;
    }
    let during = memory_now();
    *release.0.lock().unwrap() = true;
    release.1.notify_all();
    threads::join_all(handles).await?;
    let memory = match (before, during) {
        (Some((b, source)), Some((d, _))) => {
            let per = (d as f64 - b as f64) / n as f64;
            run.value("thread_memory_bytes", per);
            Figure { what: "memory of one more thread", samples: vec![per], how: format!("{source}: growth while {n} threads were alive at once, divided by {n}; 0 means their stacks fit in memory already reserved") }
        }
        _ => {
            Figure { what: "memory of one more thread", samples: vec![], how: "cannot be read on this platform".into() }
        }
    };
    let start = Figure {
        what: "start one more thread",
        samples: start_ms,
        how: format!("threads::spawn_new of an empty closure (a new thread each time), then join, timed on the run clock, {n} times one after another"),
    };
    let reuse = Figure {
        what: "start a thread on a finished one",
        samples: reuse_ms,
        how: format!("threads::spawn of an empty closure, which runs on a thread whose work has ended (the browser keeps them a while, like a pool), then join, {n} times"),
    };
    Ok(vec![start, reuse, memory])
}

/// Starts `n` one-worker pools one after another (each stays alive), asks each worker for its
/// memory size, then times a tiny and a large message to the last one and back.
async fn one_more_worker(run: &Run, n: usize, payload: usize) -> RunResult<Vec<Figure>> {
    let (mut start_ms, mut first_ms, mut memory, mut ids) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut pools = Vec::new();
    for k in 0..n {
        let t0 = run.now();
        let pool = Pool::start_cold(run, 1).await?;
        let t1 = run.now();
        let answer = pool.run_job(run, 0, &PROBE, &(), "first job").await?.output?;
        let t2 = run.now();
        run.span("main", format!("start worker {}", k + 1), SpanKind::Spawn, t0, t1);
        let memory_bytes = answer.memory_bytes.map(|m| m as f64);
        run.log(
            "main",
            format!("worker {} (#{}) ready after {:.1} ms; its memory: {}", k + 1, answer.id, t1 - t0, bytes(memory_bytes)),
        );
        memory.extend(memory_bytes);
        ids.push(answer.id);
        start_ms.push(t1 - t0);
        first_ms.push(t2 - t1);
        pools.push(pool);
    }
    let pool = pools.last().expect("at least one worker");
    let mut small = Vec::new();
    for _ in 0..20 {
        let t0 = run.now();
        pool.run_job(run, 0, &ECHO, &vec![b'x'], "tiny message").await?;
        small.push(run.now() - t0);
    }
    let mut large = Vec::new();
    let text = vec![b'x'; payload];
    for _ in 0..3 {
        let t0 = run.now();
        let back = pool.run_job(run, 0, &ECHO, &text, "large message").await?;
        large.push(run.now() - t0);
        if back.output?.len() != payload {
            return Err("the large message came back changed".into());
        }
    }
    ids.sort();
    ids.dedup();
    run.verify(
        ids.len() == n,
        format!("the {n} workers are {} separate instances (each answered with its own id)", ids.len()),
    );
    run.verify(
        median(&large) > median(&small),
        format!(
            "{} KB came back unchanged and took longer than 1 byte ({:.2} ms vs {:.3} ms): messages are copied",
            payload / 1024,
            median(&large),
            median(&small)
        ),
    );
    let traffic = pool.traffic();
    run.note("worker", format!("{} messages, {} bytes copied by the last worker", traffic.messages, traffic.bytes));
    run.value("worker_start_ms", median(&start_ms));
    run.value("worker_first_job_ms", median(&first_ms));
    run.value("worker_memory_bytes", memory.first().copied());
    run.value("small_round_trip_ms", median(&small));
    run.value("large_round_trip_ms", median(&large));
    let mb_per_s = 2.0 * payload as f64 / 1e6 / (median(&large) / 1000.0);
    let memory_how = if memory.is_empty() {
        "n/a here: a native worker is a thread of this process (in the browser each worker reports its wasm memory)"
            .to_string()
    } else {
        "each worker's own wasm memory (memory pages x 64 KiB, read inside the worker); the JS engine's heap for the worker comes on top and is not readable here".to_string()
    };
    Ok(vec![
        Figure { what: "start one more isolated worker", samples: start_ms, how: format!("Pool::start_cold with one worker: create it, load and instantiate the module, until it reports ready; {n} times, each kept alive") },
        Figure { what: "first job on a fresh worker", samples: first_ms, how: "an empty job sent right after start-up, until its answer is back".into() },
        Figure { what: "memory of one more worker", samples: memory, how: memory_how },
        Figure { what: "tiny message round trip", samples: small, how: "a 1-byte job input echoed back, 20 times".into() },
        Figure { what: "large message round trip", samples: large, how: format!("{} KB echoed back (copied both ways), 3 times: about {mb_per_s:.0} MB/s", payload / 1024) },
    ])
}

/// A worker's answer to "who are you and how big is your memory?".
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Probe {
    id: u32,
    memory_bytes: Option<u64>,
}

pub static PROBE: Job<(), Probe> = Job {
    name: "footprint/probe",
    run: |()| Ok(Probe { id: instance_id(), memory_bytes: instance_memory_bytes() }),
    warm_up: || (),
};

/// Sends the bytes back as they came: a message's round trip.
pub static ECHO: Job<Vec<u8>, Vec<u8>> = Job { name: "footprint/echo", run: Ok, warm_up: Vec::new };

/// This instance's memory: the wasm memory in the browser (shared by all threads in the threaded
/// build), the resident set size natively on Linux.
fn memory_now() -> Option<(u64, &'static str)> {
    if let Some(b) = instance_memory_bytes() {
        return Some((b, "the shared wasm memory's size"));
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb * 1024, "the process's resident memory (VmRSS)"))
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

fn row(f: &Figure) -> Vec<String> {
    let is_memory = f.what.starts_with("memory");
    let show = |v: f64| if is_memory { bytes(Some(v)) } else { format!("{v:.2} ms") };
    let (min, max) = f.samples.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let median = if f.samples.is_empty() { "n/a".into() } else { show(median(&f.samples)) };
    let range = if f.samples.len() > 1 { format!("{} to {}", show(min), show(max)) } else { String::new() };
    vec![f.what.to_string(), median, range, f.how.clone()]
}

fn summary(f: &Figure) -> String {
    format!("{:.2} ms to start (median of {})", median(&f.samples), f.samples.len())
}

fn bytes(value: Option<f64>) -> String {
    match value {
        None => "n/a".into(),
        Some(b) if b.abs() >= 1024.0 * 1024.0 => format!("{:.2} MiB", b / 1024.0 / 1024.0),
        Some(b) if b.abs() >= 1024.0 => format!("{:.1} KiB", b / 1024.0),
        Some(b) => format!("{b:.0} bytes"),
    }
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            after(out, "one more thread:")?;
            after(out, "one more process:")?;
            expect_eq("round trips", count_lines(out, "bytes round trip:"), 2)
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{ModeStatus, Report, RunStatus};
    use crate::runner::testing::run_native;
    use serde_json::json;

    fn run(threads: bool) -> Report {
        run_native("footprint", json!({"samples": 3, "payload_kb": 256}), threads)
    }

    #[test]
    fn measures_threads_and_workers_and_says_how() {
        let report = run(true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        for key in [
            "thread_start_ms",
            "thread_reuse_ms",
            "worker_start_ms",
            "worker_first_job_ms",
            "small_round_trip_ms",
            "large_round_trip_ms",
        ] {
            let v = report.values[key].as_f64().unwrap_or_else(|| panic!("{key} missing"));
            assert!(v > 0.0 && v < 5000.0, "{key} = {v}");
        }
        // A large message takes longer than a tiny one: it is really copied.
        assert!(report.values["large_round_trip_ms"].as_f64() > report.values["small_round_trip_ms"].as_f64());
        assert!(report.values["thread_memory_bytes"].is_number());
        let table = &report.tables[0];
        assert_eq!(table.rows.len(), 8);
        assert!(table.rows.iter().all(|r| r[3].len() > 10), "every figure says how it was measured");
        assert_eq!(report.spans.iter().filter(|s| s.lane.starts_with("thread ")).count(), 6);
    }

    #[test]
    fn without_shared_memory_the_thread_row_says_so_and_workers_still_run() {
        let report = run(false);
        assert_eq!(report.modes[0].status, ModeStatus::Unavailable);
        assert_eq!(report.modes[1].status, ModeStatus::Ok);
        assert_eq!(report.tables[0].rows[0][1], "unavailable");
        assert!(report.values["worker_start_ms"].as_f64().is_some());
    }
}
