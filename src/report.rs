//! What a run reports to the page: plain data, serialized as JSON.

use serde::Serialize;

mod prediction;
mod stepper;
pub use prediction::{Accepted, Answer, Judged};
pub use stepper::{Clock, Finding, Op, StepOut, Stepper, WaitGraph};

/// What a span of time on a lane was spent doing; the timeline draws each kind differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum SpanKind {
    /// Computing.
    Run,
    /// Blocked: on a lock, a queue, a condition, a join or the GIL.
    Wait,
    /// Sleeping or waiting for I/O (a timer, a request).
    Io,
    /// Starting a thread or a worker.
    Spawn,
    /// Copying a message between isolated workers.
    Copy,
}

/// One span on the timeline. Times are milliseconds since the run started.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Span {
    pub mode: String,
    pub lane: String,
    pub label: String,
    pub kind: SpanKind,
    pub start: f64,
    pub end: f64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LogLine {
    /// Milliseconds since the run started.
    pub t: f64,
    pub lane: String,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ModeStatus {
    Ok,
    /// The mode needs shared-memory threads and the page is not cross-origin isolated.
    Unavailable,
    Failed,
    Stopped,
}

/// One row of the timing table: how a mode did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ModeRow {
    pub id: String,
    pub label: String,
    pub status: ModeStatus,
    pub wall_ms: Option<f64>,
    /// Baseline wall time divided by this mode's; filled in when the run ends.
    pub speedup: Option<f64>,
    /// What the mode computed, for display (e.g. the exact sum).
    pub result: Option<String>,
    pub note: Option<String>,
    /// How many distinct lanes (threads, workers, tasks) the mode used.
    pub lanes: usize,
}

/// A property the run checked about itself, e.g. "all modes give the same sum".
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Check {
    pub ok: bool,
    pub text: String,
}

/// Named points for a chart. `x` and `y` name the axes.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "SeriesJson"))]
pub struct Series {
    pub chart: String,
    pub name: String,
    pub x: String,
    pub y: String,
    pub points: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A text file the learner can download.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FileOut {
    pub name: String,
    pub mime: String,
    pub text: String,
}

/// A link to another topic that shows something the run talks about.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Link {
    /// The topic's id (the page links to `?topic=ID`).
    pub topic: String,
    pub text: String,
}

/// An RGBA image to show (e.g. a thumbnail).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ImageJson"))]
pub struct ImageOut {
    pub label: String,
    pub width: u32,
    pub height: u32,
    /// In JSON, base64 like every byte string the page and the engine exchange.
    #[serde(serialize_with = "crate::base64::serialize")]
    #[cfg_attr(test, ts(type = "string"))]
    pub rgba: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum RunStatus {
    Ok,
    Stopped,
    Failed,
}

/// The whole result of a run.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ReportJson"))]
pub struct Report {
    pub topic: String,
    /// Always an object: the values by field name.
    #[cfg_attr(test, ts(as = "serde_json::Map<String, serde_json::Value>"))]
    pub params: serde_json::Value,
    pub status: RunStatus,
    pub error: Option<String>,
    pub wall_ms: f64,
    /// Absolute start time (ms since the Unix epoch) so runs can be compared.
    pub started_at: f64,
    pub baseline: Option<String>,
    pub modes: Vec<ModeRow>,
    pub checks: Vec<Check>,
    pub values: serde_json::Map<String, serde_json::Value>,
    pub log: Vec<LogLine>,
    pub spans: Vec<Span>,
    pub series: Vec<Series>,
    pub tables: Vec<Table>,
    pub files: Vec<FileOut>,
    pub images: Vec<ImageOut>,
    pub links: Vec<Link>,
    /// Recorded interleavings the page lets the learner step through.
    pub steppers: Vec<Stepper>,
    /// The topic's prompts answered by this run (`predict`): empty unless it finished.
    pub predictions: Vec<Judged>,
}
