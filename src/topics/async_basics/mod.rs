//! async-basics: a coroutine that greets, waits and says goodbye; several gathered on one loop.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, needs_nothing};

pub fn topic() -> Topic {
    Topic {
        id: "async-basics",
        title: "Async basics: await and gather",
        chapter: Chapter::Async,
        summary: "Tasks that greet, wait 1 s and say goodbye: awaited one by one, then gathered on one event loop.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::text("names", "Names", "Ada, Grace", 200).help("Comma-separated: one task per name (at most 20)."),
            Param::float("wait_s", "Wait (s)", 1.0, 0.0, 10.0, 0.1),
            Param::float("time_scale", "Time scale", 0.5, 0.01, 1.0, 0.01).help("Multiplies the wait: 1 is real time."),
        ],
        presets: vec![Preset { id: "original", label: "Original (1 s, real time)", values: json!({"time_scale": 1.0}) }],
        modes: vec![
            Mode::new("one-by-one", "Awaited one by one", Model::Sequential),
            Mode::new("gathered", "Gathered (join_all)", Model::Async),
        ],
        code: crate::topic_code!("async_basics/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| {
            let n = names(&p.read::<AsyncBasicsParams>().names).len();
            if n == 0 || n > 20 {
                return Err(FieldError::new("names", "give 1 to 20 comma-separated names"));
            }
            Ok(())
        },
        run: |run, params| Box::pin(run_async_basics(run, params.read())),
        needs: needs_nothing,
        reads: reads::<AsyncBasicsParams>,
    }
}

fn names(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(30).collect()).collect()
}

// CODE START
use serde::Deserialize;

use crate::engines::tasks;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsyncBasicsParams {
    names: String,
    wait_s: f64,
    time_scale: f64,
}

/// Greets, waits without blocking the loop, says goodbye.
async fn greet(run: &Run, name: &str, wait_ms: f64) -> RunResult<String> {
    let lane = format!("task {name}");
    run.timed(&lane, "greet", SpanKind::Run, || run.log(&lane, format!("Hello, {name}")));
    run.timed_async(&lane, "await sleep", SpanKind::Io, tasks::sleep(run, wait_ms)).await?;
    run.log(&lane, format!("Goodbye, {name}"));
    Ok(name.to_string())
}

async fn run_async_basics(run: Run, p: AsyncBasicsParams) -> RunResult<()> {
    let names = names(&p.names);
    let wait = p.wait_s * 1000.0 * p.time_scale;

    let one_by_one = run.measure("one-by-one", async {
        let mut done = Vec::new();
        for name in &names {
            done.push(greet(&run, name, wait).await?); // the next task starts after this one ends
        }
        Ok(done)
    });
    if let Some(done) = one_by_one.await? {
        run.result("one-by-one", format!("{} tasks", done.len()));
    }

    let gathered = run.measure("gathered", async {
        // Every future is created first; join_all polls them all, so their waits overlap.
        futures::future::try_join_all(names.iter().map(|name| greet(&run, name, wait))).await
    });
    if let Some(done) = gathered.await? {
        run.result("gathered", format!("{} tasks: {}", done.len(), done.join(", ")));
    }

    let n = names.len() as f64;
    if let (Some(seq), Some(all)) = (run.wall_ms("one-by-one"), run.wall_ms("gathered")) {
        run.verify(
            seq >= n * wait * 0.95 && seq <= n * wait * 1.25 + 50.0,
            format!("one by one: {seq:.0} ms ~ {n} waits of {wait:.0} ms"),
        );
        run.verify(
            all >= wait * 0.95 && all <= wait * 1.25 + 50.0,
            format!("gathered: {all:.0} ms ~ one wait of {wait:.0} ms"),
        );
        run.value("one_by_one_ms", seq);
        run.value("gathered_ms", all);
    }
    run.value("wait_ms", wait);
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck { output: |out, _| expect_eq("greeted", after(out, "greeted ")?, 2), ..ProgramCheck::AS_WRITTEN }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn gathered_takes_one_wait_and_greetings_come_first() {
        let params = json!({"names": "Ada, Grace, Alan", "wait_s": 1.0, "time_scale": 0.05});
        let report = run_native("async-basics", params, false);
        assert_eq!(report.status, RunStatus::Ok);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let gathered = report.values["gathered_ms"].as_f64().unwrap();
        assert!((50.0..110.0).contains(&gathered), "{gathered}");
        assert!(report.values["one_by_one_ms"].as_f64().unwrap() >= 150.0);
        // In the gathered run every greeting comes before the first goodbye.
        let texts: Vec<&str> =
            report.log.iter().skip_while(|l| !l.text.contains("Gathered")).map(|l| &l.text[..]).collect();
        let first_bye = texts.iter().position(|t| t.starts_with("Goodbye")).unwrap();
        assert_eq!(texts[..first_bye].iter().filter(|t| t.starts_with("Hello")).count(), 3);
        assert_eq!(report.modes[1].lanes, 3);
    }
}
