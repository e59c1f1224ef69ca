//! The topic catalog. Adding a topic is adding one folder here (`<name>/mod.rs`, `explanation.md`,
//! `program.py`) and one line to `catalog!`.

use std::sync::OnceLock;

use serde::Serialize;

use crate::engines::workers::AnyJob;
use crate::topic::{Chapter, Topic};

pub mod kernels;

/// Registers every topic, in catalog order, with the isolated-worker jobs it declares and the
/// engine part (a cargo feature) it is built into: `module [module::JOB, ...] => "part"`. A topic
/// is one module and one line here.
macro_rules! catalog {
    ($($topic:ident $([$($job:path),+])? => $part:literal),+ $(,)?) => {
        $(
            #[cfg(feature = $part)]
            mod $topic;
        )+

        /// Every topic of the parts built in, in catalog order.
        // One push per topic, each under its part's cfg, where clippy would have one vec![].
        #[allow(clippy::vec_init_then_push)]
        pub fn all() -> &'static [Topic] {
            static TOPICS: OnceLock<Vec<Topic>> = OnceLock::new();
            TOPICS.get_or_init(|| {
                #[allow(unused_mut)]
                let mut topics: Vec<Topic> = Vec::new();
                $(
                    #[cfg(feature = $part)]
                    topics.push($topic::topic());
                )+
                topics
            })
        }

        /// Every job an isolated worker can run: a worker finds its job here by name, without
        /// building the catalog.
        pub fn jobs() -> &'static [&'static dyn AnyJob] {
            static JOBS: OnceLock<Vec<&'static dyn AnyJob>> = OnceLock::new();
            JOBS.get_or_init(|| {
                #[allow(unused_mut)]
                let mut jobs: Vec<&'static dyn AnyJob> = Vec::new();
                $(
                    #[cfg(feature = $part)]
                    jobs.extend::<[&'static dyn AnyJob; _]>([$($(&$job),+)?]);
                )+
                jobs
            })
        }

        /// Each topic's check of its program.py (its `PROGRAM_CHECK`), by topic id: see
        /// tests/python/programs.rs.
        #[cfg(all(test, not(target_arch = "wasm32")))]
        pub(crate) fn program_checks() -> Vec<(&'static str, crate::python_programs::ProgramCheck)> {
            vec![$(
                #[cfg(feature = $part)]
                ($topic::topic().id, $topic::PROGRAM_CHECK),
            )+]
        }

        /// The engine part each topic (by id) is built into.
        #[allow(clippy::vec_init_then_push)]
        pub fn parts() -> Vec<(&'static str, &'static str)> {
            #[allow(unused_mut)]
            let mut parts = Vec::new();
            $(
                #[cfg(feature = $part)]
                parts.push(($topic::topic().id, $part));
            )+
            parts
        }
    };
}

// The parts follow the chapters, so that most pages need one, with the exceptions said below.
// Threads and synchronization is two parts (issue 25: as one it was 287 KB gzip threaded, the
// largest first load): the threads lessons, and the races with the scheduled lessons ("races").
catalog! {
    kitchen [kitchen::COOK] => "foundations",
    cpu_map [cpu_map::SUM] => "foundations",
    gil [gil::HALF] => "foundations",
    io_compare => "foundations",
    // decide measures with compare's models: it is built with them.
    decide => "models",
    threads_basics => "threading",
    race => "races",
    bank => "races",
    counter => "races",
    producer_consumer => "threading",
    primitives => "threading",
    deadlock => "races",
    thread_pool => "threading",
    thread_safety => "threading",
    process_basics [process_basics::SUM] => "processes",
    process_pool [process_pool::PRIMES] => "processes",
    ipc_queues [ipc_queues::SQUARE] => "processes",
    // image-resize alone: its codecs are a third of what the other process topics need.
    image_resize [image_resize::THUMBNAIL] => "images",
    process_executor [process_executor::CALL] => "processes",
    footprint [footprint::PROBE, footprint::ECHO] => "processes",
    // The async topics that fetch from the simulated network are two parts of their own (as one
    // they were 194 KB gzip threaded), the scraper alone with its HTML parser: a first load of
    // any other async topic neither waits for the service worker nor has their code.
    async_basics => "async",
    async_fetch => "network",
    async_stream => "async",
    background_tasks => "async",
    async_queue => "async",
    async_pipeline => "async",
    mixed [mixed::PRIMES] => "network",
    scraper => "scraper",
    // Patterns and scale is two parts, actor and task-queue, and compare with decide ("models"):
    // as one it was 208 KB gzip threaded, a first load of 270 KB (issue 25).
    actor [actor::HANDLE] => "patterns",
    task_queue [task_queue::EXECUTE] => "patterns",
    compare [compare::WORK] => "models",
}

/// The engine part that exports the threads self-test and the benchmark's measurements, and has no
/// topics (the cargo feature `diagnostics`). The diagnostics page and the benchmark start it.
pub const DIAGNOSTICS_PART: &str = "diagnostics";

/// The scheduler's answer about `topic`'s lesson as JSON: "You schedule" (the view after the
/// request's choices) or, with `search_all`, "Find the bug" (web.rs exports both).
pub fn schedule_answer(topic: &str, request_json: &str, search_all: bool) -> String {
    crate::interleaving::schedule::answer(topic, lesson(topic), request_json, search_all)
}

/// The scheduled lesson of a topic ("You schedule", "Find the bug"), if it has one.
pub fn lesson(id: &str) -> Option<crate::interleaving::schedule::Lesson> {
    match id {
        #[cfg(feature = "races")]
        "race" => Some(race::lesson()),
        #[cfg(feature = "races")]
        "counter" => Some(counter::lesson()),
        #[cfg(feature = "races")]
        "bank" => Some(bank::lesson()),
        #[cfg(feature = "races")]
        "deadlock" => Some(deadlock::lesson()),
        _ => None,
    }
}

/// The questions a topic asks before a run (`predict`); most topics ask none.
pub fn prompts(id: &str) -> Vec<crate::predict::Prompt> {
    match id {
        #[cfg(feature = "foundations")]
        "cpu-map" => cpu_map::prompts(),
        #[cfg(feature = "foundations")]
        "gil" => gil::prompts(),
        #[cfg(feature = "foundations")]
        "io-compare" => io_compare::prompts(),
        #[cfg(feature = "races")]
        "race" => race::prompts(),
        #[cfg(feature = "races")]
        "deadlock" => deadlock::prompts(),
        #[cfg(feature = "models")]
        "compare" => compare::prompts(),
        _ => Vec::new(),
    }
}

/// The topics with a scheduled lesson, with its goal (for the page, before the engine is ready).
fn lessons() -> std::collections::BTreeMap<&'static str, &'static str> {
    all().iter().filter_map(|t| lesson(t.id).map(|l| (t.id, l.goal))).collect()
}

pub fn find(id: &str) -> Option<&'static Topic> {
    all().iter().find(|t| t.id == id)
}

/// Runs every job once on its warm-up input (see `Job::warm_up`).
pub fn warm_up_jobs() {
    jobs().iter().for_each(|job| job.warm_up());
}

#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct Catalog<'a> {
    /// In order. (An array to JavaScript, not a tuple of five: the page starts with none.)
    #[cfg_attr(test, ts(as = "Vec<Chapter>"))]
    chapters: [Chapter; 5],
    /// The engine part that runs each topic, by topic id.
    parts: std::collections::BTreeMap<&'static str, &'static str>,
    /// The goal of each topic's scheduled lesson, by topic id (the page offers "You schedule").
    lessons: std::collections::BTreeMap<&'static str, &'static str>,
    /// The part with the self-test and the benchmark's measurements ([`DIAGNOSTICS_PART`]).
    diagnostics: &'static str,
    topics: Vec<Entry<'a>>,
}

/// A topic as the catalog lists it: its metadata and its prompts.
#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "Topic"))]
pub(crate) struct Entry<'a> {
    #[serde(flatten)]
    topic: &'a Topic,
    prompts: Vec<crate::predict::Prompt>,
}

/// Everything the page needs to list topics, build their forms and pick the engine part that runs
/// a topic, as JSON.
pub fn catalog_json() -> String {
    let chapters = [Chapter::Foundations, Chapter::Threads, Chapter::Processes, Chapter::Async, Chapter::Patterns];
    serde_json::to_string(&Catalog {
        chapters,
        parts: parts().into_iter().collect(),
        lessons: lessons(),
        diagnostics: DIAGNOSTICS_PART,
        topics: all().iter().map(|topic| Entry { topic, prompts: prompts(topic.id) }).collect(),
    })
    .expect("the catalog serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::validate;

    #[test]
    fn ids_and_jobs_are_unique_and_defaults_are_valid() {
        let mut ids: Vec<&str> = all().iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all().len());
        for topic in all() {
            let v = validate(&topic.params, &serde_json::json!({}), false);
            assert!(v.errors.is_empty(), "{}: {:?}", topic.id, v.errors);
            assert!((topic.check)(&v.params).is_ok(), "{}: defaults fail the topic check", topic.id);
            assert!(!topic.code.is_empty() && !topic.python.is_empty() && !topic.modes.is_empty());
            assert!(
                !topic.code.contains("CODE START") && !topic.code.contains("#[cfg(test)]"),
                "{}: code section",
                topic.id
            );
            for preset in &topic.presets {
                let v = validate(&topic.params, &preset.values, false);
                assert!(v.errors.is_empty(), "{} preset {}: {:?}", topic.id, preset.id, v.errors);
            }
        }
        let mut names: Vec<&str> = jobs().iter().map(|job| job.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), jobs().len(), "job names are unique");
    }

    /// The defaults the page sizes by the learner's cores (`sizedForThisMachine` in
    /// www/js/catalog.js: k per core, or a total split over them, within the field's limits) pass
    /// every topic's own checks on any machine, not only on the 2 cores Rust's defaults are for.
    /// Every topic's struct has a field for each of its schema's fields and no other: its
    /// defaults and each preset, validated, read into it (see `Topic::reads`).
    #[test]
    fn every_topics_struct_matches_its_schema() {
        for topic in all() {
            let v = validate(&topic.params, &serde_json::json!({}), false);
            (topic.reads)(&v.params).unwrap_or_else(|e| panic!("{}: the defaults: {e}", topic.id));
            for preset in &topic.presets {
                let v = validate(&topic.params, &preset.values, false);
                (topic.reads)(&v.params).unwrap_or_else(|e| panic!("{} preset {}: {e}", topic.id, preset.id));
            }
        }
    }

    #[test]
    fn defaults_sized_for_any_number_of_cores_are_valid() {
        use crate::params::Kind;
        for cores in [1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128] {
            for topic in all() {
                let mut values = serde_json::Map::new();
                for param in &topic.params {
                    let Kind::Int { min, max } = param.kind else { continue };
                    let wanted = match (param.per_core, param.split_over_cores) {
                        (Some(factor), _) => factor * cores,
                        (None, Some(total)) => (total as f64 / cores as f64).round() as i64,
                        (None, None) => continue,
                    };
                    values.insert(param.name.to_string(), serde_json::json!(wanted.clamp(min, max)));
                }
                let v = validate(&topic.params, &serde_json::Value::Object(values.clone()), false);
                assert!(v.errors.is_empty(), "{} on {cores} cores, {values:?}: {:?}", topic.id, v.errors);
                assert!((topic.check)(&v.params).is_ok(), "{} on {cores} cores, {values:?}: its check fails", topic.id);
            }
        }
    }

    #[test]
    fn every_job_warms_up_and_answers_bad_input_with_an_error() {
        warm_up_jobs();
        for job in jobs() {
            let answer = crate::engines::workers::run_named_job(jobs(), job.name(), &[0xff; 3]);
            // Every answer is an encoded Result (variant 0: Ok, 1: Err); a garbled input is an Err.
            assert_eq!(answer.first(), Some(&1), "{} accepted a garbled input", job.name());
            let (message, _) = postcard::take_from_bytes::<String>(&answer[1..]).unwrap();
            assert!(message.starts_with(&format!("{}: unreadable input", job.name())), "{message}");
        }
        let unknown = crate::engines::workers::run_named_job(jobs(), "no/such-job", &[]);
        assert_eq!(postcard::from_bytes::<Result<(), String>>(&unknown), Ok(Err("no job named no/such-job".into())));
    }

    #[test]
    fn catalog_is_json_with_every_topic() {
        let catalog: serde_json::Value = serde_json::from_str(&catalog_json()).unwrap();
        assert_eq!(catalog["topics"].as_array().unwrap().len(), all().len());
        let cpu_map = catalog["topics"].as_array().unwrap().iter().find(|t| t["id"] == "cpu-map").unwrap();
        assert_eq!(cpu_map["params"][0]["type"], "int");
    }

    #[test]
    fn the_catalog_lists_each_topics_prompts() {
        let catalog: serde_json::Value = serde_json::from_str(&catalog_json()).unwrap();
        for topic in catalog["topics"].as_array().unwrap() {
            let ids: Vec<&str> =
                topic["prompts"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
            let mut unique = ids.clone();
            unique.dedup();
            assert_eq!(ids, unique, "{}: prompt ids are unique", topic["id"]);
        }
        for id in ["cpu-map", "gil", "race", "deadlock", "io-compare", "compare"] {
            let topic = catalog["topics"].as_array().unwrap().iter().find(|t| t["id"] == id).unwrap();
            assert!(!topic["prompts"].as_array().unwrap().is_empty(), "{id} asks a question");
        }
    }
}

/// Each topic's prompts answered by real native runs.
#[cfg(test)]
mod prompt_tests {
    use serde_json::json;

    use crate::predict::{grade, Accepted, Answer, Judged};
    use crate::report::{ModeStatus, Report};
    use crate::runner::testing::run_native;

    fn only(report: &Report) -> &Judged {
        assert_eq!(report.predictions.len(), 1, "{}: {:?}", report.topic, report.predictions);
        &report.predictions[0]
    }

    fn choice(id: &str) -> Answer {
        Answer::Choice(id.into())
    }

    /// The wall time of each mode that ran, by id.
    fn walls(report: &Report) -> Vec<(String, f64)> {
        report.modes.iter().filter(|m| m.status == ModeStatus::Ok).map(|m| (m.id.clone(), m.wall_ms.unwrap())).collect()
    }

    #[test]
    fn race_grades_lost_updates_from_the_final_balance() {
        let report =
            run_native("race", json!({"threads": 4, "withdrawals": 20, "pause_ms": 1.0, "record": false}), true);
        let judged = only(&report);
        let lost = report.values["unsafe"]["lost"].as_i64().unwrap();
        let expected = if lost == 0 {
            "none"
        } else if lost * 2 > 80 {
            "most"
        } else {
            "some"
        };
        assert_eq!(judged.measured, Some(choice(expected)), "{}", judged.explanation);
        assert!(grade(judged, &choice(expected)));
        assert!(judged.explanation.contains(&format!("{lost} of 80 withdrawals vanished")), "{}", judged.explanation);
        // One thread cannot race: none is the only right answer.
        let alone = run_native("race", json!({"threads": 1, "withdrawals": 5, "record": false}), true);
        let judged = only(&alone);
        assert_eq!(judged.accepted, Accepted::Choices { ids: vec!["none".into()] });
        assert!(!grade(judged, &choice("some")) && !grade(judged, &choice("most")));
        // Without threads the scheduler's unsafe run answers it.
        let scheduled = run_native("race", json!({"threads": 2, "withdrawals": 5, "record": false}), false);
        assert!(only(&scheduled).explanation.contains("on the scheduler"), "{}", only(&scheduled).explanation);
    }

    #[test]
    fn deadlock_says_one_lock_order_does_not_deadlock() {
        let report = run_native("deadlock", json!({"time_scale": 0.05, "watchdog_ms": 200}), true);
        let judged = only(&report);
        assert_eq!(judged.measured, Some(choice("no")), "{}", judged.explanation);
        assert!(grade(judged, &choice("no")) && !grade(judged, &choice("yes")));
        assert!(judged.explanation.contains("in opposite orders they deadlocked"), "{}", judged.explanation);
    }

    #[test]
    fn cpu_map_grades_the_pools_measured_speedup() {
        let report = run_native("cpu-map", json!({"tasks": 4, "numbers": 2_000_000, "workers": 2}), true);
        let judged = only(&report);
        let walls = walls(&report);
        let wall = |id: &str| walls.iter().find(|w| w.0 == id).unwrap().1;
        let speedup = ((wall("sequential") / wall("threads")) * 100.0).round() / 100.0;
        assert_eq!(judged.measured, Some(Answer::Number(speedup)));
        assert!(grade(judged, &Answer::Number(speedup)) && !grade(judged, &Answer::Number(speedup + 5.0)));
        assert!(judged.explanation.starts_with("Sequential took"), "{}", judged.explanation);
    }

    /// Fastest and slowest: the accepted answers include the mode with the extreme wall time.
    #[test]
    fn gil_io_compare_and_compare_name_the_extreme_mode() {
        let runs = [
            ("gil", json!({"limit": 200_000}), false),
            ("io-compare", json!({"count": 4, "latency_ms": 20, "pool": 4}), true),
            ("compare", json!({"tasks": 4, "cpu_ms": 2, "wait_ms": 20, "pool": 2}), true),
        ];
        for (topic, params, fastest) in runs {
            let report = run_native(topic, params, true);
            let judged = only(&report);
            let walls = walls(&report);
            let extreme =
                walls.iter().min_by(|a, b| if fastest { a.1.total_cmp(&b.1) } else { b.1.total_cmp(&a.1) }).unwrap();
            assert!(grade(judged, &choice(&extreme.0)), "{topic}: {:?} {}", walls, judged.explanation);
            let Accepted::Choices { ids } = &judged.accepted else { panic!("{topic}: {:?}", judged.accepted) };
            assert!(ids.len() < walls.len() || walls.len() < 2, "{topic}: not every mode can be right: {walls:?}");
        }
    }
}
