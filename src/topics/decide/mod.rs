//! decide: which model when. Questions as parameters, a recommendation with its reasons and links
//! to the topics that show it, and the matching compare workload measured on this machine.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "decide",
        title: "Which model when?",
        chapter: Chapter::Foundations,
        summary: "Answer a few questions about your job: get a recommendation (threads, processes, async, a mix, a task queue) with its reasons, links to the topics that show it, and a measurement of that choice on this machine.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::choice(
                "work",
                "Where does the time go?",
                "mixed",
                &[("cpu", "Computing (CPU-bound)"), ("wait", "Waiting (network, disk, timers)"), ("mixed", "Both")],
            ),
            Param::choice(
                "count",
                "How many tasks at once?",
                "many",
                &[("few", "A handful (under 10)"), ("many", "Hundreds"), ("huge", "Thousands or more")],
            ),
            Param::flag("shared", "Tasks update shared state", false),
            Param::flag("blocking", "Only blocking libraries (no async version)", false),
            Param::flag("distributed", "Must survive restarts or use several machines", false),
            Param::flag("measure", "Measure it on this machine", true),
        ],
        presets: vec![
            Preset { id: "scraper", label: "A web scraper", values: json!({"work": "wait", "count": "huge"}) },
            Preset { id: "images", label: "Resizing photos", values: json!({"work": "cpu", "count": "many"}) },
            Preset { id: "reports", label: "Nightly reports on a cluster", values: json!({"work": "mixed", "distributed": true}) },
        ],
        modes: crate::topics::compare::MODES.iter().map(|&(id, label, model)| Mode::new(id, label, model)).collect(),
        code: crate::topic_code!("decide/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_decide(run, params.read())),
        needs: |_| Needs { threads: 4, workers: 4 },
        reads: reads::<DecideParams>,
    }
}

// CODE START
use serde::Deserialize;

use crate::run::{Run, RunResult};
use crate::topics::compare::{calibrate, run_model, Workload};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideParams {
    work: String,
    count: String,
    shared: bool,
    blocking: bool,
    distributed: bool,
    measure: bool,
}

/// A recommendation: what to use, why, which topics show it, and which compare models measure
/// it (the recommended one first, then the usual wrong choice).
struct Advice {
    title: &'static str,
    reasons: Vec<&'static str>,
    /// (topic, the mode of that topic that shows what the text promises, text)
    links: Vec<(&'static str, &'static str, &'static str)>,
    measure: Vec<&'static str>,
}

fn advise(work: &str, count: &str, shared: bool, blocking: bool, distributed: bool) -> Advice {
    let mut a = match (work, blocking) {
        ("cpu", _) => Advice {
            title: "A process pool (ProcessPoolExecutor, multiprocessing.Pool)",
            reasons: vec![
                "The time goes to computing: only several cores help, and CPython's GIL lets one thread compute at a time.",
                "Processes each have their own interpreter and GIL; keep tasks big enough that copying inputs and results is small next to the work.",
            ],
            links: vec![
                ("gil", "gil", "the GIL: threads take turns on CPU work"),
                ("cpu-map", "workers", "CPU work on a pool of threads and of isolated workers"),
                ("process-pool", "pool", "a process pool and its start-up cost"),
            ],
            measure: vec!["workers", "gil"],
        },
        ("wait", false) if count != "few" => Advice {
            title: "asyncio (one event loop, many tasks)",
            reasons: vec![
                "The time goes to waiting: nothing needs a second core, it needs many waits to overlap.",
                "A task costs far less than a thread, so thousands of waits at once are cheap; use async libraries (aiohttp, asyncpg) and never block the loop.",
            ],
            links: vec![
                ("io-compare", "async", "waiting in sequence, in threads and in async"),
                ("async-fetch", "gathered", "many requests at once, each ending in its own way"),
                ("scraper", "scrape", "a real async program, with a limit on requests at once"),
            ],
            measure: vec!["async", "gil"],
        },
        ("wait", _) => Advice {
            title: "A thread pool (ThreadPoolExecutor)",
            reasons: vec![
                "The time goes to waiting, and a waiting thread releases the GIL, so threads overlap the waits well.",
                if blocking {
                    "Blocking libraries cannot be awaited: threads run them unchanged (or asyncio.to_thread from async code)."
                } else {
                    "With a handful of tasks, threads are the simplest change to existing code."
                },
            ],
            links: vec![
                ("io-compare", "gil", "threads overlap waits even under the GIL"),
                ("thread-pool", "completed", "a pool of threads and its futures"),
            ],
            measure: vec!["gil", "async"],
        },
        (_, false) => Advice {
            title: "asyncio for the waiting, a process pool for the computing (run_in_executor)",
            reasons: vec![
                "Waiting and computing both matter: the loop overlaps the waits, the pool uses the cores.",
                "Computing on the loop itself would freeze every other task while it runs.",
            ],
            links: vec![
                ("mixed", "pool", "CPU work on a pool keeps the event loop responsive"),
                ("compare", "async-pool", "the same workload in every model, and a sweep over the mix"),
            ],
            measure: vec!["async-pool", "async"],
        },
        (_, true) => Advice {
            title: "A thread pool for the blocking calls, a process pool for the computing",
            reasons: vec![
                "Blocking libraries cannot be awaited, so threads do the waiting (they release the GIL while they wait).",
                "The computing goes to processes, because under the GIL threads compute one at a time.",
            ],
            links: vec![
                ("io-compare", "threads", "threads overlap waits"),
                ("process-executor", "executor", "futures from a process pool"),
                ("compare", "workers", "the same workload in every model"),
            ],
            measure: vec!["workers", "gil"],
        },
    };
    if shared {
        a.reasons.push(
            "Shared state: give it one owner that others message (an actor, a queue) rather than a lock every task must remember; with threads a lock is the fallback.",
        );
        a.links.push(("actor", "bank", "state behind a mailbox: no lock, the balance always right"));
        a.links.push(("race", "unsafe", "what a missing lock does to shared state"));
    }
    if distributed {
        a.title = "A distributed task queue (Celery with Redis or RabbitMQ), with the model above inside each worker";
        a.reasons.insert(
            0,
            "The work must survive restarts or spread over machines: a broker keeps the tasks, workers on any machine take them, results go to a backend.",
        );
        a.links.insert(0, ("task-queue", "queue", "a broker, acks, retries and a crashed worker, in this page"));
    }
    a
}

async fn run_decide(run: Run, p: DecideParams) -> RunResult<()> {
    let (work, count) = (p.work.as_str(), p.count.as_str());
    let advice = advise(work, count, p.shared, p.blocking, p.distributed);
    run.log("main", format!("Recommendation: {}", advice.title));
    for reason in &advice.reasons {
        run.log("main", format!("  because {}", reason.to_lowercase().trim_end_matches('.')));
    }
    for (topic, _, text) in &advice.links {
        run.link(topic, *text);
    }
    run.table("Recommendation", &["use", "why"], vec![vec![advice.title.to_string(), advice.reasons.join(" ")]]);
    run.value("recommendation", advice.title);
    run.value("links", advice.links.iter().map(|l| l.0).collect::<Vec<_>>());
    run.verify(!advice.links.is_empty(), format!("{} topics show this recommendation at work", advice.links.len()));

    if !p.measure {
        return Ok(());
    }
    // The compare workload matching the answers: 8 tasks of about 80 ms each.
    let (cpu_ms, wait_ms) = match work {
        "cpu" => (40.0, 0.0),
        "wait" => (2.0, 80.0),
        _ => (20.0, 50.0),
    };
    let rate = calibrate(&run);
    let w = Workload { tasks: 8, numbers: (cpu_ms * rate) as u64, wait_ms, pool: 4 };
    run.log("main", format!("measuring 8 tasks of {cpu_ms} ms CPU and {wait_ms} ms waiting"));
    let (mut measured, mut totals) = (Vec::new(), Vec::new());
    for mode in std::iter::once("sequential").chain(advice.measure.iter().copied()) {
        if let Some(total) = run.measure(mode, run_model(&run, mode, w)).await? {
            measured.push(mode);
            totals.push(total);
        }
    }
    let recommended = advice.measure[0];
    if let (Some(seq), Some(rec)) = (run.wall_ms("sequential"), run.wall_ms(recommended)) {
        run.result(recommended, format!("recommended: {:.1}x faster than sequential", seq / rec));
        run.log("main", format!("{recommended}: {rec:.0} ms against {seq:.0} ms sequentially"));
        run.value("speedup", seq / rec);
    }
    if let Some(&contrast) = advice.measure.get(1) {
        if let (Some(seq), Some(other)) = (run.wall_ms("sequential"), run.wall_ms(contrast)) {
            run.result(contrast, format!("for contrast: {:.1}x", seq / other));
        }
    }
    let available = 1 + advice.measure.iter().filter(|m| run.can_run(m)).count();
    run.verify(
        measured.len() == available && totals.windows(2).all(|t| t[0] == t[1]),
        format!("the matching workload ran sequentially and in {} models here, with the same results", measured.len() - 1),
    );
    run.value("measured", measured);
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({"measure": false})),
        output: |out, r| {
            expect_eq(
                "recommendation",
                out.lines().find_map(|l| l.strip_prefix("Recommendation: ")).unwrap_or(""),
                unquoted(value(r, "recommendation")),
            )
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use super::advise;
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn answers_lead_to_the_expected_models() {
        assert!(advise("cpu", "many", false, false, false).title.starts_with("A process pool"));
        assert!(advise("wait", "huge", false, false, false).title.starts_with("asyncio"));
        assert!(advise("wait", "huge", false, true, false).title.starts_with("A thread pool"));
        assert!(advise("mixed", "many", false, false, false).title.contains("run_in_executor"));
        let shared = advise("cpu", "few", true, false, true);
        assert!(shared.title.contains("task queue"));
        assert_eq!(shared.links[0].0, "task-queue");
        assert!(shared.links.iter().any(|l| l.0 == "actor"));
        assert!(shared.links.iter().any(|l| l.0 == "race"));
    }

    /// Every link's label promises something a mode of the linked topic shows: the mode named
    /// next to it exists there (a renamed or removed mode fails here, not on the page).
    #[test]
    fn every_link_leads_to_a_mode_that_shows_its_label() {
        for work in ["cpu", "wait", "mixed"] {
            for count in ["few", "many", "huge"] {
                for (shared, blocking, distributed) in [(false, false, false), (true, true, true), (true, false, false)] {
                    for (topic, mode, text) in advise(work, count, shared, blocking, distributed).links {
                        let target = crate::topics::find(topic).unwrap_or_else(|| panic!("{topic}: no such topic"));
                        assert!(
                            target.modes.iter().any(|m| m.id == mode),
                            "{topic}: no mode {mode:?} to show {text:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_run_recommends_links_and_measures() {
        let report = run_native("decide", json!({"work": "wait"}), true);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert!(!report.links.is_empty());
        let ids: Vec<&str> = report.modes.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["sequential", "async", "gil"]);
        let quick = run_native("decide", json!({"work": "cpu", "measure": false}), true);
        assert!(quick.modes.is_empty());
        assert_eq!(quick.values["links"][0], "gil");
    }
}
