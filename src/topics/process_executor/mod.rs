//! process-executor: an executor maps functions (powers, squares) over inputs on isolated workers;
//! results come back in input order and a failing call reports its input.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "process-executor",
        title: "A process executor: map, order, errors",
        chapter: Chapter::Processes,
        summary: "Map power and square over inputs on a process-style executor: results in input order, a failing call reported with its input.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::text("powers", "Powers (base^exp, comma separated)", "2^31, 5^20, 10^10, 3^15", 200)
                .help("Each pair is one call of power(base, exp); bases and exponents are whole numbers."),
            Param::int("squares", "Squares of 1..N", 5, 0, 100),
            Param::flag("failing", "Add a call that overflows (10^19)", true),
            Param::int("workers", "Workers", 2, 1, 16),
        ],
        presets: vec![
            Preset { id: "clean", label: "No failing call", values: json!({"failing": false}) },
            Preset { id: "many", label: "100 squares on 4 workers", values: json!({"squares": 100, "workers": 4}) },
        ],
        modes: vec![
            Mode::new("sequential", "Plain loop (main)", Model::Sequential),
            Mode::new("executor", "Executor on isolated workers", Model::Workers),
        ],
        code: crate::topic_code!("process_executor/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_process_executor(run, params.read())),
        needs: |p| Needs::workers(p.read::<ProcessExecutorParams>().workers),
        reads: reads::<ProcessExecutorParams>,
    }
}

fn check(p: &ProcessExecutorParams) -> Result<(), FieldError> {
    parse_powers(&p.powers).map(|_| ()).map_err(|message| FieldError::new("powers", message))
}

/// "2^31, 5^20" -> [(2, 31), (5, 20)].
fn parse_powers(text: &str) -> Result<Vec<(i64, u32)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (base, exp) = item.split_once('^').ok_or(format!("\"{item}\" is not of the form base^exp"))?;
            let base = base.trim().parse::<i64>().map_err(|_| format!("\"{}\" is not a whole number", base.trim()))?;
            let exp = exp.trim().parse::<u32>().map_err(|_| format!("\"{}\" is not an exponent from 0", exp.trim()))?;
            if exp > 10_000 {
                return Err(format!("the exponent in \"{item}\" is above 10,000"));
            }
            Ok((base, exp))
        })
        .collect()
}

// CODE START
use serde::Deserialize;

use crate::engines::workers::{Job, Pool};
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessExecutorParams {
    powers: String,
    squares: i64,
    failing: bool,
    workers: usize,
}

/// One call for the executor: which function, with which arguments.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Call {
    Power(i64, u32),
    Square(i64),
}

impl Call {
    fn label(&self) -> String {
        match self {
            Call::Power(base, exp) => format!("power({base}, {exp})"),
            Call::Square(n) => format!("square({n})"),
        }
    }

    /// Runs the call: what a worker does with each message.
    fn call(self) -> Result<i64, String> {
        match self {
            Call::Power(base, exp) => power(base, exp),
            Call::Square(n) => square(n),
        }
    }
}

/// The functions themselves: 64-bit integers, so a result that does not fit is an error.
fn power(base: i64, exp: u32) -> Result<i64, String> {
    base.checked_pow(exp).ok_or(format!("OverflowError: {base}^{exp} does not fit in 64 bits"))
}

fn square(n: i64) -> Result<i64, String> {
    n.checked_mul(n).ok_or(format!("OverflowError: {n}^2 does not fit in 64 bits"))
}

/// What a worker runs for each message: the call arrives decoded (the function and its
/// arguments), and its result or its error goes back.
pub static CALL: Job<Call, i64> = Job { name: "process-executor/call", run: Call::call, warm_up: || Call::Square(3) };

async fn run_process_executor(run: Run, p: ProcessExecutorParams) -> RunResult<()> {
    let mut calls: Vec<Call> = parse_powers(&p.powers)?.into_iter().map(|(b, e)| Call::Power(b, e)).collect();
    if p.failing {
        calls.push(Call::Power(10, 19));
    }
    calls.extend((1..=p.squares).map(Call::Square));

    // The reference: the same calls in a plain loop, here.
    let sequential = run.measure("sequential", async {
        Ok(run.timed("main", "all calls", crate::report::SpanKind::Run, || {
            calls.iter().cloned().map(Call::call).collect::<Vec<_>>()
        }))
    });
    let sequential = sequential.await?;

    // The executor: map over the inputs; each idle worker takes the next call.
    let mapped = run.measure("executor", async {
        let pool = Pool::start(&run, p.workers.min(calls.len().max(1))).await?;
        let results = pool.map(&run, &CALL, calls.clone(), |k| calls[k].label()).await?;
        Ok((results, pool.traffic()))
    });
    let Some((results, traffic)) = mapped.await? else { return Ok(()) };

    let mut rows = Vec::new();
    for (call, result) in calls.iter().zip(&results) {
        match result {
            Ok(value) => run.log("main", format!("{} = {value}", call.label())),
            Err(error) => run.log("main", format!("{} raised {error}", call.label())),
        }
        let (value, error) = match result {
            Ok(v) => (v.to_string(), String::new()),
            Err(e) => (String::new(), e.clone()),
        };
        rows.push(vec![call.label(), value, error]);
    }
    run.table("Results, in input order", &["call", "result", "exception"], rows);

    let failed: Vec<String> = calls.iter().zip(&results).filter(|(_, r)| r.is_err()).map(|(c, _)| c.label()).collect();
    let completed = results.len() - failed.len();
    let expected: Vec<Result<i64, String>> = calls
        .iter()
        .map(|c| match c {
            Call::Power(b, e) => power(*b, *e),
            Call::Square(n) => square(*n),
        })
        .collect();
    run.verify(results == expected, format!("{} results in input order, each equal to a direct call", results.len()));
    if let Some(seq) = &sequential {
        run.verify(*seq == results, "the executor's list is the plain loop's, call for call");
    }
    if !failed.is_empty() {
        run.verify(
            completed == calls.len() - failed.len() && failed.iter().all(|f| f.starts_with("power(")),
            format!("{} failed and reported its input; the other {completed} calls completed", failed.join(", ")),
        );
    }
    run.result("executor", format!("{completed} results, {} exception(s)", failed.len()));
    if sequential.is_some() {
        run.result("sequential", format!("{completed} results, {} exception(s)", failed.len()));
    }
    run.note(
        "executor",
        format!(
            "{} messages, {} bytes copied, {:.2} ms in transit; the calls themselves took {:.3} ms",
            traffic.messages, traffic.bytes, traffic.copy_ms, traffic.compute_ms
        ),
    );
    run.value("results", results.iter().map(|r| r.as_ref().ok().map(i64::to_string)).collect::<Vec<_>>());
    run.value("failed", &failed);
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({})),
        output: |out, r| {
            for result in value(r, "results").as_array().unwrap() {
                match result.as_str() {
                    Some(v) => at_least(&format!("lines with {v}"), count_lines(out, v), 1)?,
                    None => at_least("failed calls", count_lines(out, "failed: "), 1)?,
                }
            }
            at_least("squares", count_lines(out, "[1, 4, 9, 16, 25]"), 1)
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
    fn results_in_input_order_and_the_overflow_reported_with_its_input() {
        let report = run_native("process-executor", json!({}), false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let results: Vec<Option<String>> = serde_json::from_value(report.values["results"].clone()).unwrap();
        let expected = ["2147483648", "95367431640625", "10000000000", "14348907"];
        for (got, want) in results.iter().zip(expected) {
            assert_eq!(got.as_deref(), Some(want));
        }
        assert_eq!(results[4], None, "10^19 overflows");
        let squares: Vec<&str> = results[5..].iter().map(|r| r.as_deref().unwrap()).collect();
        assert_eq!(squares, ["1", "4", "9", "16", "25"]);
        assert_eq!(report.values["failed"], json!(["power(10, 19)"]));
        let row = &report.tables[0].rows[4];
        assert_eq!(row[0], "power(10, 19)");
        assert!(row[2].contains("OverflowError: 10^19 does not fit"), "{row:?}");
        assert!(report.log.iter().any(|l| l.text.starts_with("power(10, 19) raised OverflowError")));
    }

    #[test]
    fn without_the_failing_call_everything_completes() {
        let report = run_native("process-executor", json!({"failing": false, "squares": 20, "workers": 3}), false);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["results"].as_array().unwrap().len(), 24);
        assert_eq!(report.values["failed"], json!([]));
        assert_eq!(report.modes.iter().find(|m| m.id == "executor").unwrap().lanes, 3);
    }

    #[test]
    fn bad_powers_are_refused_with_a_reason() {
        let errors = rejected_native("process-executor", json!({"powers": "2^31, five^2"}));
        assert_eq!(errors[0].field, "powers");
        assert!(errors[0].message.contains("five"));
    }
}
