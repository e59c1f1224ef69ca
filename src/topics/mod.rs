//! The topic catalog. Adding a topic is adding one file here and one line to `all`.

use std::sync::OnceLock;

use serde::Serialize;

use crate::engines::workers::AnyJob;
use crate::topic::{Chapter, Topic};

pub mod kernels;

/// Registers every topic, in catalog order, with the isolated-worker jobs it declares:
/// `module [module::JOB, ...]`. A topic is one module and one line here.
macro_rules! catalog {
    ($($topic:ident $([$($job:path),+])?),+ $(,)?) => {
        $(mod $topic;)+

        /// Every topic, in catalog order.
        pub fn all() -> &'static [Topic] {
            static TOPICS: OnceLock<Vec<Topic>> = OnceLock::new();
            TOPICS.get_or_init(|| vec![$($topic::topic()),+])
        }

        /// Every job an isolated worker can run: a worker finds its job here by name, without
        /// building the catalog.
        pub static JOBS: &[&dyn AnyJob] = &[$($($(&$job),+,)?)+];
    };
}

catalog! {
    kitchen [kitchen::COOK],
    cpu_map [cpu_map::SUM],
    gil [gil::HALF],
    io_compare,
    decide,
    threads_basics,
    race,
    bank,
    counter,
    producer_consumer,
    primitives,
    deadlock,
    thread_pool,
    process_basics [process_basics::SUM],
    process_pool [process_pool::PRIMES],
    ipc_queues [ipc_queues::SQUARE],
    image_resize [image_resize::THUMBNAIL],
    process_executor [process_executor::CALL],
    footprint [footprint::PROBE, footprint::ECHO],
    async_basics,
    async_fetch,
    async_stream,
    background_tasks,
    async_queue,
    async_pipeline,
    mixed [mixed::PRIMES],
    scraper,
    actor [actor::HANDLE],
    task_queue [task_queue::EXECUTE],
    compare [compare::WORK],
}

pub fn find(id: &str) -> Option<&'static Topic> {
    all().iter().find(|t| t.id == id)
}

/// Runs every job once on its warm-up input (see `Job::warm_up`).
pub fn warm_up_jobs() {
    JOBS.iter().for_each(|job| job.warm_up());
}

#[derive(Serialize)]
struct Catalog<'a> {
    chapters: [Chapter; 5],
    topics: &'a [Topic],
}

/// Everything the page needs to list topics and build their forms, as JSON.
pub fn catalog_json() -> String {
    let chapters = [Chapter::Foundations, Chapter::Threads, Chapter::Processes, Chapter::Async, Chapter::Patterns];
    serde_json::to_string(&Catalog { chapters, topics: all() }).expect("the catalog serializes")
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
        let mut names: Vec<&str> = JOBS.iter().map(|job| job.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), JOBS.len(), "job names are unique");
    }

    #[test]
    fn every_job_warms_up_and_answers_bad_input_with_an_error() {
        warm_up_jobs();
        for job in JOBS {
            let answer = crate::engines::workers::run_named_job(JOBS, job.name(), &[0xff; 3]);
            // Every answer is an encoded Result (variant 0: Ok, 1: Err); a garbled input is an Err.
            assert_eq!(answer.first(), Some(&1), "{} accepted a garbled input", job.name());
            let (message, _) = postcard::take_from_bytes::<String>(&answer[1..]).unwrap();
            assert!(message.starts_with(&format!("{}: unreadable input", job.name())), "{message}");
        }
        let unknown = crate::engines::workers::run_named_job(JOBS, "no/such-job", &[]);
        assert_eq!(postcard::from_bytes::<Result<(), String>>(&unknown), Ok(Err("no job named no/such-job".into())));
    }

    #[test]
    fn catalog_is_json_with_every_topic() {
        let catalog: serde_json::Value = serde_json::from_str(&catalog_json()).unwrap();
        assert_eq!(catalog["topics"].as_array().unwrap().len(), all().len());
        let cpu_map = catalog["topics"].as_array().unwrap().iter().find(|t| t["id"] == "cpu-map").unwrap();
        assert_eq!(cpu_map["params"][0]["type"], "int");
    }
}
