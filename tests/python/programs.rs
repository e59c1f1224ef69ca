//! Every topic's Python runs: each `python` text is saved to a file and run unchanged under CPython, as a
//! learner would, against `sim-server` (the simulated network on 127.0.0.1, `PLAYGROUND_BASE`).
//! Its exit status must be 0, and its printed answers must match what the Rust run of the same
//! topic, with the same parameters, reports (sums, counts, primes...).
//!
//! The lib's unit tests include this file (src/lib.rs). Needs a Python with the programs' packages:
//! `./build.sh test` makes a virtual environment and
//! runs `PLAYGROUND_PYTHON=.venv/bin/python cargo test --release --lib python_programs -- --ignored`.
//! Without PLAYGROUND_PYTHON it fails rather than skip.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::report::Report;
use crate::runner::testing::run_native;
use crate::topics;

/// One program's longest run (the whole suite runs them at once).
const TIMEOUT: Duration = Duration::from_secs(100);

/// What to check in a program's output, given the Rust run's report (if the spec asks for one).
type Check = fn(&str, Option<&Report>) -> Result<(), String>;

/// How to check one topic's Python, which runs unchanged (the program a learner copies): the parameters
/// of the matching Rust run (None: no Rust run needed), and the check of its output. A topic
/// without one (a new topic, say) still runs: see [`AS_WRITTEN`].
struct Spec {
    id: &'static str,
    rust: Option<fn() -> Value>,
    check: Check,
}

/// The first whitespace-separated word after `prefix` at the start of a line.
fn after<'a>(out: &'a str, prefix: &str) -> Result<&'a str, String> {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("no line starting with {prefix:?}"))
}

fn expect_eq(what: &str, python: impl ToString, rust: impl ToString) -> Result<(), String> {
    let (python, rust) = (python.to_string(), rust.to_string());
    if python == rust {
        Ok(())
    } else {
        Err(format!("{what}: Python printed {python}, the Rust run says {rust}"))
    }
}

fn value(report: Option<&Report>, key: &str) -> Value {
    let report = report.expect("this check needs the Rust run");
    report.values.get(key).cloned().unwrap_or_else(|| panic!("the Rust run reports no {key}: {:?}", report.values))
}

fn unquoted(v: Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn count_lines(out: &str, needle: &str) -> usize {
    out.lines().filter(|l| l.contains(needle)).count()
}

fn at_least(what: &str, n: usize, min: usize) -> Result<(), String> {
    if n >= min {
        Ok(())
    } else {
        Err(format!("{what}: {n}, expected at least {min}"))
    }
}

/// For a topic with no entry in [`SPECS`]: its Python runs as written and must exit 0, printing something.
const AS_WRITTEN: Spec = Spec {
    id: "",
    rust: None,
    check: |out, _| if out.trim().is_empty() { Err("printed nothing".into()) } else { Ok(()) },
};

/// What each topic's Python must print, compared with its Rust run.
const SPECS: &[Spec] = &[
    Spec {
        id: "kitchen",
        rust: None,
        check: |out, _| ["sequential", "concurrent", "parallel"].iter().try_for_each(|m| after(out, m).map(|_| ())),
    },
    Spec {
        // Its task count follows the machine's cores (os.cpu_count()): the total is checked
        // against the closed form for the tasks it printed, and against the Rust run of as many.
        id: "cpu-map",
        rust: Some(|| json!({"tasks": 4, "numbers": 5_000_000, "workers": 2})),
        check: |out, r| {
            let tasks: u64 = after(out, "tasks ")?.parse().map_err(|e| format!("tasks: {e}"))?;
            expect_eq("total", after(out, "total ")?, kernels::sum_squares_formula(0, tasks * 5_000_000))?;
            if tasks == 4 {
                expect_eq("total", after(out, "total ")?, unquoted(value(r, "total")))?;
            }
            Ok(())
        },
    },
    Spec {
        id: "gil",
        rust: Some(|| json!({"limit": 10_000_000})),
        check: |out, r| expect_eq("sum", after(out, "sum ")?, unquoted(value(r, "sum"))),
    },
    Spec { id: "io-compare", rust: None, check: |out, _| expect_eq("waits", after(out, "waits ")?, 10) },
    Spec {
        id: "threads-basics",
        rust: None,
        check: |out, _| {
            expect_eq("numbers printed", count_lines(out, "number "), 5)?;
            expect_eq("threads done", count_lines(out, ": done after"), 2)
        },
    },
    Spec {
        id: "race",
        rust: None,
        check: |out, _| {
            let unsafe_line = out.lines().find(|l| l.starts_with("withdraw_unsafe")).ok_or("no unsafe line")?;
            let lost: i64 = unsafe_line.rsplit(' ').next().and_then(|n| n.parse().ok()).ok_or("no lost count")?;
            if lost <= 0 {
                return Err(format!("the unsafe race lost {lost} updates; expected some"));
            }
            expect_eq("safe final balance", after(out, "withdraw_safe final ")?, 0)
        },
    },
    Spec {
        id: "bank",
        rust: None,
        check: |out, _| {
            expect_eq("transactions", out.lines().filter(|l| l.starts_with("thread ")).count(), 15)?;
            after(out, "final ").map(|_| ())
        },
    },
    Spec {
        id: "counter",
        rust: Some(|| json!({"threads": 4, "increments": 200_000})),
        check: |out, r| expect_eq("locked count", after(out, "locked_add ")?, value(r, "expected")),
    },
    Spec {
        id: "thread-safety",
        rust: None,
        check: |out, _| {
            // count += 1 may or may not lose updates under the GIL: only the safe operations are checked.
            expect_eq("locked count", after(out, "locked ")?, 4 * 200_000)?;
            expect_eq("appended", after(out, "append ")?, 4 * 20_000)?;
            expect_eq("taken from the deque", after(out, "deque ")?, 20_000)?;
            expect_eq("taken from the queue", after(out, "queue ")?, 20_000)
        },
    },
    Spec {
        id: "producer-consumer",
        rust: None,
        check: |out, _| {
            expect_eq("consumed", after(out, "consumed ")?, 10)?;
            expect_eq("done when join() returned", after(out, "joined ")?, 10)
        },
    },
    Spec {
        id: "primitives",
        rust: Some(|| json!({})),
        check: |out, r| expect_eq("semaphore peak", after(out, "at most ")?, value(r, "semaphore_peak")),
    },
    Spec {
        id: "deadlock",
        rust: None,
        check: |out, _| {
            after(out, "transfer deadlocked")?;
            after(out, "transfer_ordered finished")?;
            after(out, "transfer_trylock finished").map(|_| ())
        },
    },
    Spec {
        id: "thread-pool",
        rust: None,
        check: |out, _| {
            expect_eq("failures", count_lines(out, "failed: query 2"), 2)?;
            expect_eq("answers", count_lines(out, " rows"), 8)?;
            expect_eq("bare threads' answers", after(out, "bare threads: ")?, 4)?;
            expect_eq("exceptions through the hook", count_lines(out, "excepthook: query 2 raised ConnectionError"), 1)
        },
    },
    Spec {
        id: "process-basics",
        rust: Some(|| json!({})),
        check: |out, r| {
            let sum = unquoted(value(r, "sum"));
            expect_eq("tasks with the Rust sum", out.lines().filter(|l| l.ends_with(&format!(": {sum}"))).count(), 4)
        },
    },
    Spec {
        id: "process-pool",
        rust: Some(|| json!({})),
        check: |out, r| {
            expect_eq(
                "primes",
                out.lines().find_map(|l| l.strip_suffix(" primes")).unwrap_or("none"),
                value(r, "count"),
            )
        },
    },
    Spec {
        id: "ipc-queues",
        rust: Some(|| json!({"time_scale": 0.1})),
        check: |out, r| {
            let rust = value(r, "results");
            let squares: i64 = rust.as_array().unwrap().iter().map(|t| t[2].as_i64().unwrap()).sum();
            expect_eq("results", after(out, "results ")?, rust.as_array().unwrap().len())?;
            expect_eq("sum of squares", out.lines().last().unwrap_or("").rsplit(' ').next().unwrap_or(""), squares)
        },
    },
    Spec {
        id: "image-resize",
        rust: None,
        check: |out, _| {
            expect_eq("thumbnails", after(out, "thumbnails ")?, 7)?;
            expect_eq("broken files", count_lines(out, "broken.png cannot identify image file"), 1)
        },
    },
    Spec {
        id: "process-executor",
        rust: Some(|| json!({})),
        check: |out, r| {
            for result in value(r, "results").as_array().unwrap() {
                match result.as_str() {
                    Some(v) => at_least(&format!("lines with {v}"), count_lines(out, v), 1)?,
                    None => at_least("failed calls", count_lines(out, "failed: "), 1)?,
                }
            }
            at_least("squares", count_lines(out, "[1, 4, 9, 16, 25]"), 1)
        },
    },
    Spec {
        id: "footprint",
        rust: None,
        check: |out, _| {
            after(out, "one more thread:")?;
            after(out, "one more process:")?;
            expect_eq("round trips", count_lines(out, "bytes round trip:"), 2)
        },
    },
    Spec { id: "async-basics", rust: None, check: |out, _| expect_eq("greeted", after(out, "greeted ")?, 2) },
    Spec {
        id: "async-fetch",
        rust: None,
        check: |out, _| {
            at_least("timed out", count_lines(out, "delay/10', 'TimeoutError"), 1)?;
            at_least("404", count_lines(out, "status/404', 404,"), 1)?;
            at_least("gather raising the first error", count_lines(out, "gather raised "), 1)?;
            expect_eq("exceptions returned in place", after(out, "raised ")?, 2)?;
            expect_eq("answered", after(out, "answered ")?, 5)?;
            expect_eq("answered on threads", after(out, "threads answered ")?, 5)
        },
    },
    Spec {
        id: "async-stream",
        rust: Some(|| json!({})),
        check: |out, r| expect_eq("records", after(out, "records ")?, value(r, "lines")),
    },
    Spec { id: "background-tasks", rust: None, check: |out, _| expect_eq("finished", after(out, "finished ")?, 5) },
    Spec {
        id: "async-queue",
        rust: Some(|| json!({"time_scale": 0.2})),
        check: |out, r| expect_eq("handled", after(out, "handled ")?, value(r, "handled")),
    },
    Spec {
        id: "async-pipeline",
        rust: Some(|| json!({})),
        check: |out, r| {
            let report = r.expect("a Rust run");
            let (_, printed) =
                report.values.iter().find(|(k, _)| k.ends_with("_printed")).ok_or("no _printed value")?;
            let sum: i64 = printed.as_array().ok_or("printed is a list")?.iter().filter_map(Value::as_i64).sum();
            expect_eq("sum of squares", after(out, "sum ")?, sum)
        },
    },
    Spec {
        id: "mixed",
        rust: Some(|| json!({"limit": 300_000})),
        check: |out, r| expect_eq("primes", out.split(" primes").next().unwrap_or("").trim(), value(r, "primes")),
    },
    Spec {
        id: "scraper",
        rust: None,
        check: |out, _| {
            at_least("the HTML page's title", count_lines(out, "/html 200 A simulated page"), 1)?;
            at_least("a page that timed out", count_lines(out, "TimeoutError"), 1)?;
            expect_eq("pages", after(out, "pages ")?, 5)
        },
    },
    Spec {
        id: "decide",
        rust: Some(|| json!({"measure": false})),
        check: |out, r| {
            expect_eq(
                "recommendation",
                out.lines().find_map(|l| l.strip_prefix("Recommendation: ")).unwrap_or(""),
                unquoted(value(r, "recommendation")),
            )
        },
    },
    Spec {
        id: "actor",
        rust: Some(|| json!({"time_scale": 0.1, "handle_ms": 5})),
        check: |out, r| {
            for mode in ["stop-flag", "poison-pill"] {
                expect_eq(
                    &format!("{mode}: printed"),
                    after(out, &format!("{mode} printed "))?,
                    value(r, &format!("{mode}_printed")),
                )?;
            }
            at_least("final balance", count_lines(out, "final balance"), 1)
        },
    },
    Spec {
        id: "task-queue",
        rust: Some(|| json!({})),
        check: |out, r| {
            at_least("a killed worker", count_lines(out, "killed a worker running"), 1)?;
            at_least("a redelivery", count_lines(out, "visibility timeout: redelivering"), 1)?;
            expect_eq("successes", after(out, "successes ")?, value(r, "successes"))
        },
    },
    Spec {
        id: "compare",
        rust: None,
        check: |out, _| {
            for model in ["sequential", "threads (GIL)", "processes", "async + process pool", "async"] {
                at_least(model, out.lines().filter(|l| l.trim_start().starts_with(&format!("{model}: "))).count(), 1)?;
            }
            Ok(())
        },
    },
];

fn finish(mut child: Child, started: Instant) -> (Option<i32>, String, String) {
    while child.try_wait().ok().flatten().is_none() && started.elapsed() < TIMEOUT {
        std::thread::sleep(Duration::from_millis(50));
    }
    let timed_out = child.try_wait().ok().flatten().is_none();
    if timed_out {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("the program's output");
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if timed_out {
        stderr.push_str(&format!("\n(killed after {TIMEOUT:?})"));
    }
    (out.status.code().filter(|_| !timed_out), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

#[test]
#[ignore = "needs CPython and packages: run by ./build.sh test (PLAYGROUND_PYTHON=.venv/bin/python ... -- --ignored)"]
fn every_topics_python_runs_and_agrees_with_the_rust_run() {
    let python = std::env::var("PLAYGROUND_PYTHON")
        .expect("set PLAYGROUND_PYTHON to a python with the programs' packages (./build.sh test does)");
    let base = crate::sim_server::start_in_background(None).expect("sim-server starts on 127.0.0.1");
    let dir = std::env::temp_dir().join(format!("playground-python-{}", std::process::id()));
    let specs: BTreeMap<&str, &Spec> = SPECS.iter().map(|s| (s.id, s)).collect();
    let mut failures = Vec::new();
    let started = Instant::now();
    let mut running = Vec::new();
    for topic in topics::all() {
        let spec = specs.get(topic.id).copied().unwrap_or(&AS_WRITTEN);
        assert!(topic.python.contains("if __name__ == \"__main__\":"), "{}: no main guard", topic.id);
        let work: PathBuf = dir.join(topic.id);
        std::fs::create_dir_all(&work).unwrap();
        let file = work.join(format!("{}.py", topic.id.replace('-', "_")));
        std::fs::write(&file, topic.python).unwrap();
        let child = Command::new(&python)
            .arg(file.file_name().unwrap())
            .current_dir(&work)
            .env("PLAYGROUND_BASE", &base)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
        running.push((topic.id, spec, child));
    }
    // The Rust runs, meanwhile (natively, with the same parameters).
    let reports: BTreeMap<&str, Report> =
        SPECS.iter().filter_map(|s| Some((s.id, run_native(s.id, (s.rust?)(), true)))).collect();

    let mut passed = 0;
    for (id, spec, child) in running {
        let (code, out, err) = finish(child, started);
        let verdict = match code {
            Some(0) => (spec.check)(&out, reports.get(id)),
            _ => Err(format!("exit {code:?}\n{}", err.trim_end())),
        };
        match verdict {
            Ok(()) => passed += 1,
            Err(why) => failures.push(format!("{id}: {why}\n--- stdout:\n{}", out.trim_end())),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("python programs: {passed} passed, {} failed in {:.1} s", failures.len(), started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_topic_has_a_complete_program_and_every_spec_a_topic() {
    for spec in SPECS {
        assert!(topics::find(spec.id).is_some(), "{}: a Spec for no topic", spec.id);
    }
    for topic in topics::all() {
        assert!(topic.python.contains("if __name__ == \"__main__\":"), "{}: the Python has no main guard", topic.id);
        assert!(
            !topic.python.contains("10.255.") && !topic.python.contains("192.168."),
            "{}: a private address",
            topic.id
        );
    }
}

/// Form fields with no constant in the Python, or one with another value, and why.
const NO_CONSTANT: &[(&str, &str)] = &[
    ("async-fetch", "urls"), // the form's sim/... paths are the page's service: URLS builds on BASE
    ("async-fetch", "timeout_s"), // 0.6 s goes with the page's time scale 0.2; 5 s is the original's
    ("task-queue", "resume"), // its broker lives in memory; a real one (Redis) keeps the queue
    ("scraper", "urls"),     // the pages both services have (the public one has no sim/site)
    ("async-stream", "storage"), // browser storage; the Python writes a file
    ("async-fetch", "time_scale"), // the Python talks to a real service: its delays are its own
    ("scraper", "time_scale"), // the same
    ("cpu-map", "sweep"),    // the page's chart, not part of the program
    ("image-resize", "size"), // the Python makes its own images (its sizes are in the program)
    ("image-resize", "files"), // the learner's files are the program's arguments
    ("image-resize", "preview"), // how the page shows thumbnails
    ("race", "record"),      // the page's stepper, not part of the program
    ("race", "sweep"),       // the page's what-if chart
    ("counter", "record"),   // the page's stepper
];

/// Form fields whose default is sized for wasm and would take minutes under CPython: the Python
/// shows a value that finishes in seconds, and its line's comment says what the page's run uses
/// (`the page's run: 1_200_000_000`), checked against the default below.
const SIZED_FOR_CPYTHON: &[(&str, &str)] = &[
    ("gil", "limit"),
    ("cpu-map", "numbers"),
    ("counter", "increments"),
    ("mixed", "limit"),
    ("thread-safety", "operations"),
];

/// The number after `the page's run: ` in the comment of constant `name`'s line.
fn pages_value(program: &str, name: &str) -> Option<f64> {
    let line = program.lines().find(|l| l.starts_with(&format!("{name} = ")))?;
    let said = line.split_once("the page's run: ")?.1;
    let number: String = said.chars().take_while(|c| c.is_ascii_digit() || *c == '_' || *c == '.').collect();
    number.replace('_', "").parse().ok()
}

/// The value of constant `name` in `program`: from `NAME = value` or `A, NAME = 1, value`.
fn constant(program: &str, name: &str) -> Option<String> {
    program.lines().find_map(|line| {
        let code = line.split(" #").next()?.trim_end();
        let (names, values) = code.split_once(" = ")?;
        let names: Vec<&str> = names.split(", ").collect();
        let at = names.iter().position(|n| *n == name)?;
        let values: Vec<&str> = if names.len() == 1 { vec![values] } else { values.split(", ").collect() };
        values.get(at).map(|v| v.trim().to_string())
    })
}

#[test]
fn the_python_constants_are_the_form_fields_with_their_defaults() {
    let mut wrong = Vec::new();
    for topic in topics::all() {
        for param in &topic.params {
            if NO_CONSTANT.contains(&(topic.id, param.name)) {
                continue;
            }
            let name = param.name.to_uppercase();
            let Some(value) = constant(topic.python, &name) else {
                wrong.push(format!("{}: no constant {name} for the field {:?}", topic.id, param.name));
                continue;
            };
            if SIZED_FOR_CPYTHON.contains(&(topic.id, param.name)) {
                if pages_value(topic.python, &name) != param.default.as_f64() {
                    wrong
                        .push(format!("{}: {name}'s comment must say \"the page's run: {}\"", topic.id, param.default));
                }
                continue;
            }
            if let Some(factor) = param.per_core {
                // The page's default follows the learner's cores; so does the program's.
                let expected =
                    if factor == 1 { "os.cpu_count()".to_string() } else { format!("{factor} * os.cpu_count()") };
                if value != expected {
                    wrong.push(format!("{}: {name} = {value}, but the form's default is {expected}", topic.id));
                }
                continue;
            }
            let same = match &param.default {
                Value::Number(n) => value.replace('_', "").parse::<f64>().ok() == n.as_f64(),
                Value::String(s) => value == format!("{s:?}"),
                Value::Bool(b) => value == if *b { "True" } else { "False" },
                _ => true,
            };
            if !same {
                wrong.push(format!("{}: {name} = {value}, but the form's default is {}", topic.id, param.default));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
