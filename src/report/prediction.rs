//! A prediction prompt as a run answered it (`report.predictions`): data the report carries.
//! What the prompts are and how a report answers them is `predict`'s job.

use serde::Serialize;

/// An answer: a number, or a choice's id.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Answer {
    Number(f64),
    Choice(String),
}

/// Which answers count as right.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Accepted {
    /// A number from `min` to `max`, both included.
    Range { min: f64, max: f64 },
    /// Any of these choice ids.
    Choices { ids: Vec<String> },
    /// Nothing: the run could not measure the answer.
    Nothing,
}

/// A prompt answered by a run (in `report.predictions`).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Judged {
    pub prompt: String,
    /// `None`: this run could not measure it (the explanation says why).
    pub measured: Option<Answer>,
    /// The measured answer in words, e.g. "1.9x" or "Async tasks".
    pub shown: String,
    pub accepted: Accepted,
    /// One sentence from the run's own values.
    pub explanation: String,
}
