//! Runs a topic by id: validates its parameters, keeps the current run reachable for Stop and
//! for the page's progress polling, and turns the outcome into a report.

use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::params::{shorten, validate, without_file_data, FieldError, Params};
use crate::report::Report;
use crate::run::{Capabilities, Drained, Run};
use crate::topic::Topic;
use crate::topics;

static CURRENT: Mutex<Option<Run>> = Mutex::new(None);

/// The answer to "are these parameters fine?": complete values, and what was wrong.
#[derive(Debug, Serialize)]
pub struct Checked {
    pub ok: bool,
    pub params: Value,
    pub errors: Vec<FieldError>,
}

/// Validates raw parameters for a topic. `lenient` (values from a URL) replaces bad values by
/// defaults and still lists them; strict (a Run) rejects them.
pub fn check(topic: &Topic, raw: &Value, lenient: bool) -> Checked {
    let validated = validate(&topic.params, raw, lenient);
    let mut errors = validated.errors;
    if errors.is_empty() || lenient {
        if let Err(e) = (topic.check)(&validated.params) {
            errors.push(e);
        }
    }
    let ok = errors.is_empty();
    Checked { ok, params: validated.params.to_json(), errors }
}

#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Nothing ran: the topic is unknown or the parameters are invalid.
    Rejected {
        message: String,
        errors: Vec<FieldError>,
    },
    Finished {
        report: Box<Report>,
    },
}

/// Runs topic `id` with `raw` parameters to completion (or Stop).
pub async fn run_topic(id: &str, raw: &Value, caps: Capabilities) -> Outcome {
    let Some(topic) = topics::find(id) else {
        return Outcome::Rejected { message: format!("There is no topic \"{}\".", shorten(id)), errors: vec![] };
    };
    let checked = check(topic, raw, false);
    if !checked.ok {
        return Outcome::Rejected { message: "Some parameters are not valid.".into(), errors: checked.errors };
    }
    let params: Params = crate::params::validate(&topic.params, &checked.params, false).params;
    let run = Run::new(topic, caps);
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(run.clone());
    let outcome = (topic.run)(run.clone(), params).await;
    // The report names picked files but does not carry their bytes back to the page.
    let report = run.finish(without_file_data(&topic.params, checked.params), outcome);
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    Outcome::Finished { report: Box::new(report) }
}

/// Presses Stop on the current run, if any.
pub fn cancel_current() {
    if let Some(run) = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        run.cancel();
    }
}

/// What the current run recorded since the last call.
pub fn drain_current() -> Option<Drained> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(Run::drain)
}

/// Changes whenever the current run records something (see [`Run::activity`]).
pub fn activity_current() -> Option<u64> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(Run::activity)
}

/// Ends the current run, quiet for `quiet_ms`, if it will not end by itself; returns why.
pub fn watchdog_current(quiet_ms: f64) -> Option<String> {
    let run = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
    let reason = crate::watchdog::stall_report(&run, quiet_ms)?;
    run.abort(reason.clone());
    Some(reason)
}

/// Test helpers: run a topic natively to the end, on this thread.
#[cfg(test)]
pub mod testing {
    use super::*;

    /// Runs `topic` with `params` (`threads`: whether shared-memory threads are available) and
    /// returns its report; panics if the parameters are rejected.
    pub fn run_native(topic: &str, params: Value, threads: bool) -> Report {
        let caps = Capabilities { threads, cores: 2 };
        match futures::executor::block_on(run_topic(topic, &params, caps)) {
            Outcome::Finished { report } => *report,
            Outcome::Rejected { message, errors } => panic!("{topic} rejected {params}: {message} {errors:?}"),
        }
    }

    /// What `topic` says is wrong with `params`; panics if it ran instead.
    pub fn rejected_native(topic: &str, params: Value) -> Vec<FieldError> {
        let caps = Capabilities { threads: true, cores: 2 };
        match futures::executor::block_on(run_topic(topic, &params, caps)) {
            Outcome::Rejected { errors, .. } => errors,
            Outcome::Finished { report } => panic!("{topic} ran with {params}: {:?}", report.status),
        }
    }
}
