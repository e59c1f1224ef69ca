//! Every topic's Python runs: each topic's `program.py` is saved to a file and run unchanged under
//! CPython, as a learner would, against `sim-server` (the simulated network on 127.0.0.1,
//! `PLAYGROUND_BASE`). Its exit status must be 0, and its printed answers must match what the Rust
//! run of the same topic, with the same parameters, reports (sums, counts, primes...): what to
//! compare is the topic's own `PROGRAM_CHECK` (a [`ProgramCheck`] in its `mod.rs`, after the code).
//!
//! The lib's unit tests include this file (src/lib.rs), since the checks and the native runs are
//! test-only code of the lib. Needs a Python with the programs' packages: `./build.sh test` makes a
//! virtual environment and runs `PLAYGROUND_PYTHON=.venv/bin/python cargo test --lib
//! python_programs -- --ignored`. Without PLAYGROUND_PYTHON it fails rather than skip.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::report::Report;
use crate::runner::testing::run_native;
use crate::topics;

/// One program's longest run (the whole suite runs them at once).
const TIMEOUT: Duration = Duration::from_secs(100);

/// How to check one topic's Python, which runs unchanged (the program a learner copies).
pub(crate) struct ProgramCheck {
    /// The parameters of the matching Rust run (None: no Rust run needed).
    pub rust: Option<fn() -> Value>,
    /// What the program's output must show, given the Rust run's report (if it asks for one).
    pub output: fn(&str, Option<&Report>) -> Result<(), String>,
    /// Form fields with no constant in the program, or one with another value (say why beside
    /// each); every other field is a constant of the same name (upper case) with its default.
    pub no_constant: &'static [&'static str],
    /// Form fields whose default is sized for wasm and would take minutes under CPython: the program
    /// shows a value that finishes in seconds, and its line's comment says what the page's run uses
    /// (`the page's run: 1_200_000_000`), checked against the default.
    pub sized_for_cpython: &'static [&'static str],
}

impl ProgramCheck {
    /// The program runs as written and must exit 0, printing something; no Rust run; every field is
    /// a constant with its default. A topic's check names what it adds to this.
    pub const AS_WRITTEN: ProgramCheck = ProgramCheck {
        rust: None,
        output: |out, _| if out.trim().is_empty() { Err("printed nothing".into()) } else { Ok(()) },
        no_constant: &[],
        sized_for_cpython: &[],
    };
}

/// The first whitespace-separated word after `prefix` at the start of a line.
pub(crate) fn after<'a>(out: &'a str, prefix: &str) -> Result<&'a str, String> {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("no line starting with {prefix:?}"))
}

pub(crate) fn expect_eq(what: &str, python: impl ToString, rust: impl ToString) -> Result<(), String> {
    let (python, rust) = (python.to_string(), rust.to_string());
    if python == rust {
        Ok(())
    } else {
        Err(format!("{what}: Python printed {python}, the Rust run says {rust}"))
    }
}

pub(crate) fn value(report: Option<&Report>, key: &str) -> Value {
    let report = report.expect("this check needs the Rust run");
    report.values.get(key).cloned().unwrap_or_else(|| panic!("the Rust run reports no {key}: {:?}", report.values))
}

pub(crate) fn unquoted(v: Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

pub(crate) fn count_lines(out: &str, needle: &str) -> usize {
    out.lines().filter(|l| l.contains(needle)).count()
}

pub(crate) fn at_least(what: &str, n: usize, min: usize) -> Result<(), String> {
    if n >= min {
        Ok(())
    } else {
        Err(format!("{what}: {n}, expected at least {min}"))
    }
}

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
    let checks: BTreeMap<&str, ProgramCheck> = topics::program_checks().into_iter().collect();
    let mut failures = Vec::new();
    let started = Instant::now();
    let mut running = Vec::new();
    for topic in topics::all() {
        let check = &checks[topic.id];
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
        running.push((topic.id, check, child));
    }
    // The Rust runs, meanwhile (natively, with the same parameters).
    let reports: BTreeMap<&str, Report> =
        checks.iter().filter_map(|(&id, check)| Some((id, run_native(id, (check.rust?)(), true)))).collect();

    let mut passed = 0;
    for (id, check, child) in running {
        let (code, out, err) = finish(child, started);
        let verdict = match code {
            Some(0) => (check.output)(&out, reports.get(id)),
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
fn every_topic_has_a_complete_program_and_its_check_names_its_fields() {
    for (id, check) in topics::program_checks() {
        let topic = topics::find(id).unwrap();
        for field in check.no_constant.iter().chain(check.sized_for_cpython) {
            assert!(topic.params.iter().any(|p| p.name == *field), "{id}: its ProgramCheck names no field {field}");
        }
        // The Rust run's values fit the topic's struct, so a misspelt name fails here, not only
        // where CPython is installed.
        if let Some(rust) = check.rust {
            let v = crate::params::validate(&topic.params, &rust(), false);
            assert!(v.errors.is_empty(), "{id}: its ProgramCheck's Rust run: {:?}", v.errors);
            (topic.reads)(&v.params).unwrap_or_else(|e| panic!("{id}: its ProgramCheck's Rust run: {e}"));
        }
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
    for (id, check) in topics::program_checks() {
        let topic = topics::find(id).unwrap();
        for param in &topic.params {
            if check.no_constant.contains(&param.name) {
                continue;
            }
            let name = param.name.to_uppercase();
            let Some(value) = constant(topic.python, &name) else {
                wrong.push(format!("{}: no constant {name} for the field {:?}", topic.id, param.name));
                continue;
            };
            if check.sized_for_cpython.contains(&param.name) {
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
