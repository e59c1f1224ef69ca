//! What a topic is: metadata the page renders, a parameter schema, modes, and the code that runs.

use futures::future::LocalBoxFuture;
use serde::Serialize;

pub use crate::mode::{Mode, Model};
use crate::params::{FieldError, Param, Params};
use crate::run::{Run, RunResult};

/// A named set of parameter values, e.g. the original durations or a large input.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Preset {
    pub id: &'static str,
    pub label: &'static str,
    /// Always an object: the values by field name.
    #[cfg_attr(test, ts(as = "serde_json::Map<String, serde_json::Value>"))]
    pub values: serde_json::Value,
}

/// How many threads and isolated workers a run can use at once with given parameters. The page
/// asks the engine to have them started when it shows the topic (and when the form changes), so
/// that a run measures threads and workers, not their start-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Needs {
    pub threads: usize,
    pub workers: usize,
}

impl Needs {
    pub fn threads(threads: usize) -> Needs {
        Needs { threads, workers: 0 }
    }

    pub fn workers(workers: usize) -> Needs {
        Needs { threads: 0, workers }
    }
}

/// For topics that start no threads and no isolated workers.
pub fn needs_nothing(_: &Params) -> Needs {
    Needs::default()
}

pub type RunFn = fn(Run, Params) -> LocalBoxFuture<'static, RunResult<()>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Chapter {
    #[serde(rename = "Foundations")]
    Foundations,
    #[serde(rename = "Threads and synchronization")]
    Threads,
    #[serde(rename = "Processes (isolated workers)")]
    Processes,
    #[serde(rename = "Async")]
    Async,
    #[serde(rename = "Patterns and scale")]
    Patterns,
}

#[derive(Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "TopicMetadata"))]
pub struct Topic {
    pub id: &'static str,
    pub title: &'static str,
    pub chapter: Chapter,
    /// One sentence for the topic list.
    pub summary: &'static str,
    /// A few paragraphs separated by blank lines, shown as plain text: the topic folder's
    /// `explanation.md` (one paragraph a line), without the file's last newline. This and `code`
    /// and `python` are the topic's texts: see `prose!`.
    #[serde(skip)]
    pub explanation: &'static str,
    pub params: Vec<Param>,
    pub presets: Vec<Preset>,
    pub modes: Vec<Mode>,
    /// The Rust code that runs (the code section of the topic folder's `mod.rs`).
    #[serde(skip)]
    pub code: &'static str,
    /// A short Python program that does the same, for comparison: the topic folder's `program.py`.
    #[serde(skip)]
    pub python: &'static str,
    #[serde(skip)]
    pub check: fn(&Params) -> Result<(), FieldError>,
    #[serde(skip)]
    pub run: RunFn,
    /// What a run can use at once (see [`Needs`]).
    #[serde(skip)]
    pub needs: fn(&Params) -> Needs,
    /// Reads the parameters into the topic's struct, the one `run`, `check` and `needs` read:
    /// `reads::<TheTopicParams>`. The catalog's tests read every default and preset with it, so
    /// the struct and the schema cannot drift apart.
    #[serde(skip)]
    pub reads: fn(&Params) -> Result<(), String>,
}

/// Whether validated parameters fit a topic's struct `T` (see [`Topic::reads`]). Its fields are
/// the schema's, and `#[serde(deny_unknown_fields)]` makes a field the struct lacks an error too.
pub fn reads<T: serde::de::DeserializeOwned>(params: &Params) -> Result<(), String> {
    params.try_read::<T>().map(drop)
}

/// A topic's long texts as the page fetches them, from `www/pkg/texts/<id>.json` (written by the
/// `export_static` binary; see `prose!`).
#[derive(Clone, Copy, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Texts {
    pub explanation: &'static str,
    pub code: &'static str,
    pub python: &'static str,
}

impl Topic {
    pub fn texts(&self) -> Texts {
        Texts { explanation: self.explanation, code: self.code, python: self.python }
    }
}

/// No cross-field constraints.
pub fn no_check(_: &Params) -> Result<(), FieldError> {
    Ok(())
}

/// A topic's long texts (explanation, code, Python) exist only in native builds: the build runs
/// the `export_static` binary, which writes them to `www/pkg/texts/<id>.json` for the page to
/// fetch when it shows the topic. In the wasm they would be a fifth of the first download, for
/// texts a learner reads one topic at a time. The text is a constant (`include_str!`, trimmed by
/// a `const fn` such as `trim_ascii_end`), evaluated while compiling, so the wasm holds no trace.
#[cfg(not(target_arch = "wasm32"))]
#[macro_export]
macro_rules! prose {
    ($text:expr) => {{
        const TEXT: &str = $text;
        TEXT
    }};
}

#[cfg(target_arch = "wasm32")]
#[macro_export]
macro_rules! prose {
    ($text:expr) => {{
        const _: &str = $text;
        ""
    }};
}

/// The code section of a topic's `mod.rs` (between its `// CODE START` and `// CODE END` lines),
/// cut out by build.rs: `topic_code!("cpu_map/mod.rs")`, the path under src/topics. A text like
/// `prose!`.
#[cfg(not(target_arch = "wasm32"))]
#[macro_export]
macro_rules! topic_code {
    ($file:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/code/", $file))
    };
}

#[cfg(target_arch = "wasm32")]
#[macro_export]
macro_rules! topic_code {
    ($file:literal) => {
        ""
    };
}
