//! Predict, then run: questions a topic asks before a run ("which mode finishes first?", "how
//! many times faster?", "will it deadlock?"), and how the run's own report answers them.
//!
//! A topic declares its prompts (`prompts()` in its file, listed in `topics::prompts`); the
//! catalog carries them to the page, which asks them above Run. When a run ends, the runner
//! measures each prompt from the report (`judge`) and puts the answer in `report.predictions`:
//! what was measured, in words, which answers count as right, and a sentence made of the run's
//! values. The page compares the learner's answer with `accepted` (`grade`), knowing no topic.

use serde::Serialize;

pub use crate::report::{Accepted, Answer, Judged};
use crate::report::{ModeStatus, Report};
use crate::topic::Mode;

/// Two wall times closer than this (relative to the faster) are a tie: either answer counts.
pub const TIE: f64 = 0.10;

/// One question asked before a run.
#[derive(Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Prompt {
    /// Unique within its topic (a package or an embed names it: `prompt=ID`).
    pub id: &'static str,
    pub question: &'static str,
    #[serde(flatten)]
    pub kind: Kind,
    /// How a report answers it: generic for `Fastest` and `Slowest`, the topic's for the others.
    #[serde(skip)]
    pub measure: Option<MeasureFn>,
}

/// Reads the answer out of a finished run's report; `Err` says why this run could not tell.
pub type MeasureFn = fn(&Report) -> Result<Measured, String>;

/// What kind of answer a prompt takes.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "PromptKind"))]
pub enum Kind {
    /// Which of these modes has the shortest wall time (ties within [`TIE`] all count).
    Fastest { choices: Vec<Choice> },
    /// Which of these modes has the longest wall time (ties within [`TIE`] all count).
    Slowest { choices: Vec<Choice> },
    /// A number; right when within `tolerance` of the measurement.
    Number { unit: &'static str, min: f64, max: f64, step: f64, tolerance: Tolerance },
    /// One of a few answers: none / some / most, yes / no.
    Choice { choices: Vec<Choice> },
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Choice {
    pub id: &'static str,
    pub label: &'static str,
}

/// A number counts as right within `absolute` or within `relative` x the measurement, whichever is wider.
#[derive(Clone, Copy, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Tolerance {
    pub relative: f64,
    pub absolute: f64,
}

impl Prompt {
    /// "Which finishes first?" over `modes` (a topic's modes, all of them answers).
    pub fn fastest(id: &'static str, question: &'static str, modes: &[Mode]) -> Prompt {
        Prompt { id, question, kind: Kind::Fastest { choices: mode_choices(modes) }, measure: None }
    }

    /// "Which is slowest?" over `modes`.
    pub fn slowest(id: &'static str, question: &'static str, modes: &[Mode]) -> Prompt {
        Prompt { id, question, kind: Kind::Slowest { choices: mode_choices(modes) }, measure: None }
    }

    pub fn number(
        id: &'static str,
        question: &'static str,
        unit: &'static str,
        range: (f64, f64, f64),
        tolerance: Tolerance,
        measure: MeasureFn,
    ) -> Prompt {
        let (min, max, step) = range;
        Prompt { id, question, kind: Kind::Number { unit, min, max, step, tolerance }, measure: Some(measure) }
    }

    pub fn choice(
        id: &'static str,
        question: &'static str,
        choices: &[(&'static str, &'static str)],
        measure: MeasureFn,
    ) -> Prompt {
        let choices = choices.iter().map(|&(id, label)| Choice { id, label }).collect();
        Prompt { id, question, kind: Kind::Choice { choices }, measure: Some(measure) }
    }

    /// A yes / no question (answers `yes` and `no`).
    pub fn yes_no(id: &'static str, question: &'static str, measure: MeasureFn) -> Prompt {
        Prompt::choice(id, question, &[("yes", "Yes"), ("no", "No")], measure)
    }
}

fn mode_choices(modes: &[Mode]) -> Vec<Choice> {
    modes.iter().map(|m| Choice { id: m.id, label: m.label }).collect()
}

/// What a topic's [`MeasureFn`] found: the answer, how to say it, and why.
#[derive(Clone, Debug)]
pub struct Measured {
    pub value: Answer,
    pub shown: String,
    pub explanation: String,
    /// Other choices that count too (a measurement at a boundary, e.g. 49% lost: some or most).
    pub also: Vec<String>,
}

impl Measured {
    pub fn number(value: f64, shown: impl Into<String>, explanation: impl Into<String>) -> Measured {
        Measured { value: Answer::Number(value), shown: shown.into(), explanation: explanation.into(), also: vec![] }
    }

    pub fn choice(id: &str, shown: impl Into<String>, explanation: impl Into<String>) -> Measured {
        Measured {
            value: Answer::Choice(id.into()),
            shown: shown.into(),
            explanation: explanation.into(),
            also: vec![],
        }
    }
}

/// Whether `answer` counts as right for a judged prompt. The page does the same test on
/// `accepted` (www/js/predict.js), so the rule lives in one place: here, in what `accepted` holds.
pub fn grade(judged: &Judged, answer: &Answer) -> bool {
    match (&judged.accepted, answer) {
        (Accepted::Range { min, max }, Answer::Number(n)) => n.is_finite() && min <= n && n <= max,
        (Accepted::Choices { ids }, Answer::Choice(id)) => ids.contains(id),
        _ => false,
    }
}

/// Answers every prompt from a finished run's report.
pub fn judge_all(prompts: &[Prompt], report: &Report) -> Vec<Judged> {
    prompts.iter().map(|p| judge(p, report)).collect()
}

pub fn judge(prompt: &Prompt, report: &Report) -> Judged {
    let measured = match (&prompt.kind, prompt.measure) {
        (Kind::Fastest { choices }, _) => extreme(report, choices, true),
        (Kind::Slowest { choices }, _) => extreme(report, choices, false),
        (_, Some(measure)) => measure(report),
        (_, None) => Err("this prompt has no way to measure its answer".into()),
    };
    let measured = match measured {
        Ok(m) => m,
        Err(why) => {
            return Judged {
                prompt: prompt.id.into(),
                measured: None,
                shown: "not measured".into(),
                accepted: Accepted::Nothing,
                explanation: why,
            }
        }
    };
    let accepted = match (&prompt.kind, &measured.value) {
        (Kind::Number { tolerance, .. }, Answer::Number(n)) => {
            let slack = tolerance.absolute.max(tolerance.relative * n.abs());
            Accepted::Range { min: round(n - slack), max: round(n + slack) }
        }
        (_, Answer::Choice(id)) => {
            let mut ids = vec![id.clone()];
            ids.extend(measured.also.iter().filter(|a| *a != id).cloned());
            Accepted::Choices { ids }
        }
        (_, Answer::Number(_)) => Accepted::Nothing,
    };
    Judged {
        prompt: prompt.id.into(),
        measured: Some(measured.value),
        shown: measured.shown,
        accepted,
        explanation: measured.explanation,
    }
}

/// Three decimals are plenty for a range a learner types into.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The fastest (or slowest) of the modes that ran, with every mode within [`TIE`] of it.
fn extreme(report: &Report, choices: &[Choice], fastest: bool) -> Result<Measured, String> {
    let mut ran: Vec<(&str, &str, f64)> = report
        .modes
        .iter()
        .filter(|m| m.status == ModeStatus::Ok && choices.iter().any(|c| c.id == m.id))
        .filter_map(|m| m.wall_ms.map(|w| (m.id.as_str(), m.label.as_str(), w)))
        .collect();
    if ran.len() < 2 {
        return Err("fewer than two of the modes ran here, so none can be first or last".into());
    }
    ran.sort_by(|a, b| a.2.total_cmp(&b.2));
    if !fastest {
        ran.reverse();
    }
    let (id, label, wall) = ran[0];
    let tied: Vec<&(&str, &str, f64)> =
        ran[1..].iter().filter(|(_, _, w)| (w - wall).abs() <= TIE * wall.min(*w)).collect();
    let times = ran.iter().map(|(_, l, w)| format!("{l} {}", ms(*w))).collect::<Vec<_>>().join(", ");
    let skipped: Vec<&str> = report
        .modes
        .iter()
        .filter(|m| m.status != ModeStatus::Ok && choices.iter().any(|c| c.id == m.id))
        .map(|m| m.label.as_str())
        .collect();
    let mut explanation = format!("{label} {} ({times})", if fastest { "finished first" } else { "was slowest" });
    if !tied.is_empty() {
        let names = tied.iter().map(|t| t.1).collect::<Vec<_>>().join(", ");
        explanation += &format!("; {names} within {:.0}% of it, a tie that counts too", TIE * 100.0);
    }
    if !skipped.is_empty() {
        explanation += &format!("; {} did not run here", skipped.join(", "));
    }
    explanation.push('.');
    let mut measured = Measured::choice(id, label, explanation);
    measured.also = tied.iter().map(|t| t.0.to_string()).collect();
    Ok(measured)
}

/// A wall time as the page shows it.
pub fn ms(wall: f64) -> String {
    if wall >= 100.0 {
        format!("{} ms", crate::params::group(wall.round() as i64))
    } else {
        format!("{wall:.1} ms")
    }
}

/// The run's parameters as the topic's struct (see `Params::read`); a report holds every field
/// (file parameters without their bytes).
pub fn params<T: serde::de::DeserializeOwned>(report: &Report) -> Result<T, String> {
    let values = report.params.as_object().ok_or("the run's parameters are not a map")?;
    crate::params::read_map(values).map_err(|e| format!("the run's parameters: {e}"))
}

/// The row of the first of `ids` that ran, with its wall time.
pub fn ran<'a>(report: &'a Report, ids: &[&str]) -> Option<&'a crate::report::ModeRow> {
    ids.iter()
        .find_map(|id| report.modes.iter().find(|m| m.id == *id && m.status == ModeStatus::Ok && m.wall_ms.is_some()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::{ModeRow, RunStatus};
    use crate::topic::Model;

    /// A report with these (id, wall ms) rows; `None`: the mode could not run.
    pub fn report_with(rows: &[(&str, Option<f64>)]) -> Report {
        let modes = rows
            .iter()
            .map(|&(id, wall)| ModeRow {
                id: id.into(),
                label: format!("Mode {id}"),
                status: if wall.is_some() { ModeStatus::Ok } else { ModeStatus::Unavailable },
                wall_ms: wall,
                speedup: wall.map(|w| rows[0].1.unwrap_or(w) / w),
                result: None,
                note: None,
                lanes: 1,
            })
            .collect();
        Report {
            topic: "test".into(),
            params: serde_json::json!({}),
            status: RunStatus::Ok,
            error: None,
            wall_ms: 0.0,
            started_at: 0.0,
            baseline: None,
            modes,
            checks: vec![],
            values: Default::default(),
            log: vec![],
            spans: vec![],
            series: vec![],
            tables: vec![],
            files: vec![],
            images: vec![],
            links: vec![],
            steppers: vec![],
            predictions: vec![],
        }
    }

    fn modes() -> Vec<Mode> {
        ["a", "b", "c"].iter().map(|id| Mode::new(id, id, Model::Sequential)).collect()
    }

    fn choice(id: &str) -> Answer {
        Answer::Choice(id.into())
    }

    #[test]
    fn fastest_and_slowest_come_from_the_wall_times_with_ties() {
        let report = report_with(&[("a", Some(300.0)), ("b", Some(100.0)), ("c", Some(105.0))]);
        let first = judge(&Prompt::fastest("first", "?", &modes()), &report);
        assert_eq!(first.accepted, Accepted::Choices { ids: vec!["b".into(), "c".into()] });
        assert!(grade(&first, &choice("b")) && grade(&first, &choice("c")) && !grade(&first, &choice("a")));
        assert!(
            first
                .explanation
                .starts_with("Mode b finished first (Mode b 100 ms, Mode c 105 ms, Mode a 300 ms); Mode c within 10%"),
            "{}",
            first.explanation
        );
        let last = judge(&Prompt::slowest("last", "?", &modes()), &report);
        assert_eq!(last.accepted, Accepted::Choices { ids: vec!["a".into()] });
        assert!(!grade(&last, &choice("b")) && !grade(&last, &Answer::Number(1.0)));
    }

    #[test]
    fn modes_that_did_not_run_are_named_and_too_few_is_not_measured() {
        let report = report_with(&[("a", Some(300.0)), ("b", None), ("c", Some(100.0))]);
        let first = judge(&Prompt::fastest("first", "?", &modes()), &report);
        assert_eq!(first.measured, Some(choice("c")));
        assert!(first.explanation.ends_with("; Mode b did not run here."), "{}", first.explanation);
        let alone = report_with(&[("a", Some(300.0)), ("b", None), ("c", None)]);
        let judged = judge(&Prompt::fastest("first", "?", &modes()), &alone);
        assert_eq!((judged.measured, judged.accepted), (None, Accepted::Nothing));
        assert!(!grade(&judge(&Prompt::fastest("first", "?", &modes()), &alone), &choice("a")));
    }

    #[test]
    fn a_number_counts_within_its_tolerance() {
        let prompt =
            Prompt::number("n", "?", "x", (0.0, 10.0, 0.1), Tolerance { relative: 0.2, absolute: 0.25 }, |r| {
                let row = ran(r, &["b"]).ok_or("b did not run")?;
                Ok(Measured::number(row.speedup.unwrap_or(0.0), "", ""))
            });
        let judged = judge(&prompt, &report_with(&[("a", Some(300.0)), ("b", Some(100.0))]));
        assert_eq!(judged.accepted, Accepted::Range { min: 2.4, max: 3.6 });
        assert!(grade(&judged, &Answer::Number(3.5)) && grade(&judged, &Answer::Number(2.4)));
        assert!(
            !grade(&judged, &Answer::Number(3.7))
                && !grade(&judged, &Answer::Number(f64::NAN))
                && !grade(&judged, &choice("3"))
        );
        // Small measurements: the absolute tolerance is wider.
        let judged = judge(&prompt, &report_with(&[("a", Some(100.0)), ("b", Some(100.0))]));
        assert_eq!(judged.accepted, Accepted::Range { min: 0.75, max: 1.25 });
        let unmeasured = judge(&prompt, &report_with(&[("a", Some(100.0)), ("b", None)]));
        assert_eq!((unmeasured.measured, unmeasured.explanation.as_str()), (None, "b did not run"));
    }

    #[test]
    fn prompts_serialize_with_their_kind_and_choices() {
        let json = serde_json::to_value(Prompt::yes_no("y", "Will it?", |_| Err(String::new()))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "y", "question": "Will it?", "kind": "choice", "choices": [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}]})
        );
        let judged =
            judge(&Prompt::fastest("first", "?", &modes()), &report_with(&[("a", Some(3.0)), ("b", Some(1.0))]));
        let json = serde_json::to_value(&judged).unwrap();
        assert_eq!(json["accepted"], serde_json::json!({"type": "choices", "ids": ["b"]}));
        assert_eq!(json["measured"], "b");
    }
}
