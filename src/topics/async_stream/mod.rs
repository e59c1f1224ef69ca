//! async-stream: an async generator feeding an async writer that is always closed.

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Topic, needs_nothing};

pub fn topic() -> Topic {
    Topic {
        id: "async-stream",
        title: "Async streams and a writer that always closes",
        chapter: Chapter::Async,
        summary: "A stream yields a record every 0.1 s; a writer appends each as a JSON line to a file and is closed on exit, even after Stop.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("records", "Records", 10, 1, 500),
            Param::int("interval_ms", "Interval (ms)", 100, 1, 2000).help("Time between two records (the original: 100 ms)."),
            Param::choice(
                "storage",
                "Storage",
                "auto",
                &[("auto", "Browser storage (OPFS) where available"), ("memory", "Memory")],
            ),
        ],
        presets: vec![],
        modes: vec![Mode::new("stream", "Stream to a file", Model::Async)],
        code: crate::topic_code!("async_stream/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_async_stream(run, params.read())),
        needs: needs_nothing,
        reads: reads::<AsyncStreamParams>,
    }
}

// CODE START
use futures::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;

use crate::engines::tasks;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsyncStreamParams {
    records: usize,
    interval_ms: f64,
    storage: String,
}

const FILE: &str = "async-stream.jsonl";

/// The async generator: one record every `interval` ms (a timer wait), `n` in all.
fn records(run: &Run, n: usize, interval: f64) -> impl Stream<Item = RunResult<serde_json::Value>> + '_ {
    let mut rng = fastrand::Rng::with_seed(crate::clock::now_ms() as u64);
    stream::unfold(0, move |seq| {
        let reading = (rng.f64() * 1000.0).round() / 1000.0;
        async move {
            if seq == n {
                return None;
            }
            let label = format!("wait for record {seq}");
            let waited = run.timed_async("generator", &label, SpanKind::Io, tasks::sleep(run, interval)).await;
            let record = waited.map(|_| json!({"seq": seq, "t_ms": run.now().round(), "reading": reading}));
            Some((record, seq + 1))
        }
    })
}

async fn run_async_stream(run: Run, p: AsyncStreamParams) -> RunResult<()> {
    let (n, interval) = (p.records, p.interval_ms);
    let want_opfs = p.storage == "auto";
    let written = run.measure("stream", async {
        // `async with open(...) as writer:` opening...
        let mut writer = JsonLinesWriter::open(&run, FILE, want_opfs).await;
        let outcome = copy(&run, records(&run, n, interval), &mut writer).await;
        // ...and the exit of the block: runs whether the loop ended, failed or was stopped.
        writer.close();
        outcome
    });
    let Some(count) = written.await? else { return Ok(()) };
    run.result("stream", format!("{count} records written"));
    Ok(())
}

/// Consumes the stream: `async for record in records: await writer.write(record)`.
async fn copy(
    run: &Run,
    records: impl Stream<Item = RunResult<serde_json::Value>>,
    writer: &mut JsonLinesWriter,
) -> RunResult<usize> {
    let mut records = std::pin::pin!(records);
    let mut count = 0;
    while let Some(record) = records.next().await {
        let record = record?;
        run.timed("writer", &format!("append record {count}"), SpanKind::Run, || writer.write(&record))?;
        count += 1;
        run.progress(count as f64, 0.0, "records written");
    }
    Ok(count)
}

/// A file of JSON lines: in the browser's private file system (OPFS) or in memory.
struct JsonLinesWriter {
    run: Run,
    name: String,
    sink: Sink,
    lines: usize,
    closed: bool,
}

enum Sink {
    Memory(Vec<u8>),
    #[cfg(target_arch = "wasm32")]
    Opfs(crate::host::OpfsFile),
}

impl JsonLinesWriter {
    async fn open(run: &Run, name: &str, want_opfs: bool) -> JsonLinesWriter {
        let sink = match want_opfs {
            #[cfg(target_arch = "wasm32")]
            true => match crate::host::OpfsFile::create(name).await {
                Ok(file) => Sink::Opfs(file),
                Err(why) => {
                    run.log("writer", format!("browser storage (OPFS) unavailable: {why}; using memory"));
                    Sink::Memory(Vec::new())
                }
            },
            _ => Sink::Memory(Vec::new()),
        };
        let place = match sink {
            Sink::Memory(_) => "memory",
            #[cfg(target_arch = "wasm32")]
            Sink::Opfs(_) => "browser storage (OPFS)",
        };
        run.log("writer", format!("opened {name} in {place}"));
        run.value("storage", place);
        run.value("closed", false);
        JsonLinesWriter { run: run.clone(), name: name.to_string(), sink, lines: 0, closed: false }
    }

    fn write(&mut self, record: &serde_json::Value) -> RunResult<()> {
        let line = format!("{record}\n");
        match &mut self.sink {
            Sink::Memory(bytes) => bytes.extend_from_slice(line.as_bytes()),
            #[cfg(target_arch = "wasm32")]
            Sink::Opfs(file) => file.append(line.as_bytes())?,
        }
        self.lines += 1;
        Ok(())
    }

    /// Flushes and closes the file once, and offers what it holds as a download.
    fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let bytes: Result<Vec<u8>, String> = match &mut self.sink {
            Sink::Memory(bytes) => Ok(std::mem::take(bytes)),
            #[cfg(target_arch = "wasm32")]
            Sink::Opfs(file) => file.read_all_and_close(),
        };
        match bytes {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let valid = text.lines().filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()).count();
                self.run.log("writer", format!("closed {} ({} lines, {} bytes)", self.name, self.lines, bytes.len()));
                self.run.verify(
                    valid == self.lines && text.lines().count() == self.lines,
                    format!("the file holds {valid} valid JSON lines, one per record written ({})", self.lines),
                );
                self.run.value("lines", valid);
                self.run.file(&self.name, "application/x-ndjson", text);
            }
            Err(why) => self.run.log("writer", format!("closed {}, but reading it back failed: {why}", self.name)),
        }
        self.run.value("closed", true);
        self.run.verify(true, "the writer was closed on exit");
    }
}

/// The guard: a writer dropped without close (an early return, a panic) still closes its file.
impl Drop for JsonLinesWriter {
    fn drop(&mut self) {
        if !self.closed {
            self.run.log("writer", "closing from the guard (Drop)");
            self.close();
        }
    }
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({})),
        output: |out, r| expect_eq("records", after(out, "records ")?, value(r, "lines")),
        no_constant: &[
            "storage", // browser storage; the Python writes a file
        ],
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::engines::tasks;
    use crate::report::{Report, RunStatus};
    use crate::run::{Capabilities, Run};
    use crate::runner::testing::run_native;
    use serde_json::json;

    fn lines(report: &Report) -> Vec<serde_json::Value> {
        report.files[0].text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
    }

    #[test]
    fn writes_one_json_line_per_record_and_closes() {
        let params = json!({"records": 6, "interval_ms": 10, "storage": "memory"});
        let report = run_native("async-stream", params, false);
        assert_eq!(report.status, RunStatus::Ok);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let seqs: Vec<u64> = lines(&report).iter().map(|l| l["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4, 5]);
        assert_eq!(report.values["closed"], true);
        assert!(report.modes[0].wall_ms.unwrap() >= 60.0);
    }

    #[test]
    fn stop_in_the_middle_still_closes_the_file() {
        let topic = crate::topics::find("async-stream").unwrap();
        let raw = json!({"records": 100, "interval_ms": 20, "storage": "memory"});
        let params = crate::params::validate(&topic.params, &raw, false).params;
        let run = Run::new(topic.id, &topic.modes, Capabilities { threads: false, cores: 2 });
        let stopper = async {
            let _ = tasks::sleep(&run, 110.0).await;
            run.cancel();
        };
        let (outcome, ()) =
            futures::executor::block_on(futures::future::join((topic.run)(run.clone(), params), stopper));
        let report = run.finish(raw, outcome);
        assert_eq!(report.status, RunStatus::Stopped);
        assert_eq!(report.values["closed"], true);
        let written = lines(&report).len();
        assert!((2..100).contains(&written), "{written} lines");
        assert!(report.log.iter().any(|l| l.text.starts_with("closed async-stream.jsonl")));
    }
}
