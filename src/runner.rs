//! Runs a topic by id: validates its parameters, keeps the current run reachable for Stop and
//! for the page's progress polling, and turns the outcome into a report.

use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::params::{cut, validate_given, without_file_data, FieldError, Given, Params};
use crate::report::Report;
use crate::run::{Capabilities, Drained, Run};
use crate::topic::Topic;
use crate::topics;

static CURRENT: Mutex<Option<Run>> = Mutex::new(None);

/// The answer to "are these parameters fine?": complete values, and what was wrong.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Checked {
    pub ok: bool,
    /// Always an object: the values by field name.
    #[cfg_attr(test, ts(as = "serde_json::Map<String, serde_json::Value>"))]
    pub params: Value,
    pub errors: Vec<FieldError>,
}

/// Validates raw parameters for a topic. `lenient` (values from a URL) replaces bad values by
/// defaults and still lists them; strict (a Run) rejects them.
pub fn check(topic: &Topic, raw: &Value, lenient: bool) -> Checked {
    check_given(topic, &Given::from_value(raw), lenient)
}

/// [`check`] for parameters read field by field from JSON text (see [`Given::from_json`]).
pub fn check_given(topic: &Topic, given: &Given, lenient: bool) -> Checked {
    let validated = validate_given(&topic.params, given, lenient);
    let mut errors = validated.errors;
    let mut params = validated.params;
    if lenient {
        lenient_cross_check(topic, &mut params, &mut errors);
    } else if errors.is_empty() {
        if let Err(e) = (topic.check)(&params) {
            errors.push(e);
        }
    }
    let ok = errors.is_empty();
    Checked { ok, params: params.to_json(), errors }
}

/// In lenient mode, values that fail a cross-field check really are replaced by defaults (the
/// page says so): first the field the check names, and if that is not enough, every field.
fn lenient_cross_check(topic: &Topic, params: &mut Params, errors: &mut Vec<FieldError>) {
    let defaults = || validate_given(&topic.params, &Given::default(), true).params;
    let Err(first) = (topic.check)(params) else { return };
    let named = topic.params.iter().find(|p| p.name == first.field && params.value(p.name) != Some(&p.default));
    errors.push(first.clone());
    if let Some(param) = named {
        params.set(param.name, param.default.clone());
        if (topic.check)(params).is_ok() {
            return;
        }
    }
    // Not enough: back to the defaults, naming every given value that is dropped.
    let fallback = defaults();
    for param in &topic.params {
        if params.value(param.name) != fallback.value(param.name) && param.name != first.field {
            errors.push(FieldError::new(param.name, format!("{} (all values were reset)", first.message)));
        }
    }
    *params = fallback;
}

#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Outcome {
    /// Nothing ran: the topic is unknown or the parameters are invalid.
    Rejected {
        message: String,
        errors: Vec<FieldError>,
    },
    Finished {
        report: Box<Report>,
    },
    /// Nothing ran: every mode of the topic needs something this page lacks (shared-memory threads).
    Unavailable {
        message: String,
    },
}

/// Runs topic `id` with `raw` parameters to completion (or Stop).
pub async fn run_topic(id: &str, raw: &Value, caps: Capabilities) -> Outcome {
    run_topic_given(id, &Given::from_value(raw), caps).await
}

/// [`run_topic`] for parameters read field by field from JSON text (see [`Given::from_json`]).
pub async fn run_topic_given(id: &str, given: &Given, caps: Capabilities) -> Outcome {
    let Some(topic) = topics::find(id) else {
        return Outcome::Rejected { message: format!("There is no topic \"{}\".", cut(id)), errors: vec![] };
    };
    let checked = check_given(topic, given, false);
    if !checked.ok {
        return Outcome::Rejected { message: "Some parameters are not valid.".into(), errors: checked.errors };
    }
    if let Some(message) = nothing_can_run(topic, caps) {
        return Outcome::Unavailable { message };
    }
    let params: Params = crate::params::validate(&topic.params, &checked.params, false).params;
    let run = Run::new(topic.id, &topic.modes, caps);
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(run.clone());
    let outcome = (topic.run)(run.clone(), params).await;
    // The report names picked files but does not carry their bytes back to the page.
    let mut report = run.finish(without_file_data(&topic.params, checked.params), outcome);
    if report.status == crate::report::RunStatus::Ok {
        report.predictions = crate::predict::judge_all(&topics::prompts(id), &report);
    }
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    Outcome::Finished { report: Box::new(report) }
}

/// Why no mode of `topic` can run with `caps`, if none can (a report of only "unavailable" rows
/// would read as a run that finished).
fn nothing_can_run(topic: &Topic, caps: Capabilities) -> Option<String> {
    if caps.threads || !topic.modes.iter().all(|m| m.model.needs_shared_memory()) {
        return None;
    }
    Some(format!(
        "Nothing could run here: every mode of \"{}\" uses shared-memory threads, which this page does not have.",
        topic.title
    ))
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
            Outcome::Unavailable { message } => panic!("{topic} did not run: {message}"),
        }
    }

    /// Like [`run_native`] for topics whose self-checks compare wall times: a run that the other
    /// tests running at the same time disturbed is measured again, up to three runs; returns the
    /// first whose checks all pass (or the last).
    pub fn run_native_timed(topic: &str, params: Value, threads: bool) -> Report {
        run_native_until(topic, params, threads, |_| true)
    }

    /// Like [`run_native_timed`], for a test that also claims a timing of its own (`holds`): a
    /// run is measured again until its checks and that claim both hold, up to three runs.
    pub fn run_native_until(topic: &str, params: Value, threads: bool, holds: impl Fn(&Report) -> bool) -> Report {
        let mut report = run_native(topic, params.clone(), threads);
        for _ in 1..3 {
            if report.checks.iter().all(|c| c.ok) && holds(&report) {
                break;
            }
            report = run_native(topic, params.clone(), threads);
        }
        report
    }

    /// What `topic` says is wrong with `params`; panics if it ran instead.
    pub fn rejected_native(topic: &str, params: Value) -> Vec<FieldError> {
        let caps = Capabilities { threads: true, cores: 2 };
        match futures::executor::block_on(run_topic(topic, &params, caps)) {
            Outcome::Rejected { errors, .. } => errors,
            Outcome::Finished { report } => panic!("{topic} ran with {params}: {:?}", report.status),
            Outcome::Unavailable { message } => panic!("{topic} did not run: {message}"),
        }
    }
}
