//! The topic catalog. Adding a topic is adding one file here and one line to `all`.

use std::sync::OnceLock;

use serde::Serialize;

use crate::topic::{Chapter, JobFn, Topic};

pub mod kernels;

mod async_basics;
mod async_fetch;
mod async_pipeline;
mod async_queue;
mod async_stream;
mod background_tasks;
mod bank;
mod counter;
mod cpu_map;
mod deadlock;
mod footprint;
mod gil;
mod image_resize;
mod io_compare;
mod ipc_queues;
mod kitchen;
mod mixed;
mod primitives;
mod process_basics;
mod process_executor;
mod process_pool;
mod producer_consumer;
mod race;
mod scraper;
mod thread_pool;
mod threads_basics;

/// Every topic, in catalog order.
pub fn all() -> &'static [Topic] {
    static TOPICS: OnceLock<Vec<Topic>> = OnceLock::new();
    TOPICS.get_or_init(|| {
        vec![
            kitchen::topic(),
            cpu_map::topic(),
            gil::topic(),
            io_compare::topic(),
            threads_basics::topic(),
            race::topic(),
            bank::topic(),
            counter::topic(),
            producer_consumer::topic(),
            primitives::topic(),
            deadlock::topic(),
            thread_pool::topic(),
            process_basics::topic(),
            process_pool::topic(),
            ipc_queues::topic(),
            image_resize::topic(),
            process_executor::topic(),
            footprint::topic(),
            async_basics::topic(),
            async_fetch::topic(),
            async_stream::topic(),
            background_tasks::topic(),
            async_queue::topic(),
            async_pipeline::topic(),
            mixed::topic(),
            scraper::topic(),
        ]
    })
}

pub fn find(id: &str) -> Option<&'static Topic> {
    all().iter().find(|t| t.id == id)
}

/// A job an isolated worker can run, by name (jobs are declared by the topics).
pub fn job(name: &str) -> Option<JobFn> {
    all().iter().flat_map(|t| t.jobs.iter()).find(|(n, _)| *n == name).map(|(_, f)| *f)
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
        for (name, _) in all().iter().flat_map(|t| t.jobs.iter()) {
            assert!(job(name).is_some());
        }
    }

    #[test]
    fn catalog_is_json_with_every_topic() {
        let catalog: serde_json::Value = serde_json::from_str(&catalog_json()).unwrap();
        assert_eq!(catalog["topics"].as_array().unwrap().len(), all().len());
        let cpu_map = catalog["topics"].as_array().unwrap().iter().find(|t| t["id"] == "cpu-map").unwrap();
        assert_eq!(cpu_map["params"][0]["type"], "int");
    }
}
