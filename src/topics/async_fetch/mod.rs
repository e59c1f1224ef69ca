//! async-fetch: many HTTP requests gathered through one shared client.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

const DEFAULT_URLS: &str =
    "sim/delay/1, sim/delay/2, sim/status/404, sim/json, sim/html, sim/blackhole, https://unreachable.invalid/";
const MAX_URLS: usize = 30;

pub fn topic() -> Topic {
    Topic {
        id: "async-fetch",
        title: "Async HTTP: gather many requests",
        chapter: Chapter::Async,
        summary: "Requests with different delays, a 404, a host that never answers and one that does not exist: one by one, then gathered.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::text("urls", "URLs", DEFAULT_URLS, 2000).help("Comma-separated, at most 30. sim/... is the built-in service."),
            Param::float("timeout_s", "Timeout (s)", 0.6, 0.05, 30.0, 0.05).help("Per request, in real seconds."),
            Param::float("time_scale", "Time scale", 0.2, 0.01, 1.0, 0.01).help("Multiplies the built-in service's delays."),
            Param::int("threads", "Threads in the pool", 7, 1, MAX_URLS as i64).help("For the thread pool mode."),
        ],
        presets: vec![Preset {
            id: "original",
            label: "Original delays (timeout 5 s)",
            values: json!({"time_scale": 1.0, "timeout_s": 5.0}),
        }],
        modes: vec![
            Mode::new("one-by-one", "One by one", Model::Sequential),
            Mode::new("gathered", "Gathered", Model::Async),
            Mode::new("threads", "Thread pool, blocking requests (GIL released while waiting)", Model::Threads),
            Mode::new("first-error", "Gathered, the first error raised (no return_exceptions)", Model::Async),
        ],
        code: crate::topic_code!("async_fetch/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| {
            let n = net::split_urls(&p.read::<AsyncFetchParams>().urls).len();
            if n == 0 || n > MAX_URLS {
                return Err(FieldError::new("urls", format!("give 1 to {MAX_URLS} comma-separated URLs")));
            }
            Ok(())
        },
        run: |run, params| Box::pin(run_async_fetch(run, params.read())),
        needs: |p| {
            let p: AsyncFetchParams = p.read();
            Needs::threads(p.threads.min(net::split_urls(&p.urls).len()))
        },
        reads: reads::<AsyncFetchParams>,
    }
}

// CODE START
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::engines::gil::Gil;
use crate::engines::net::{self, Fetched};
use crate::engines::threads;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsyncFetchParams {
    urls: String,
    timeout_s: f64,
    time_scale: f64,
    threads: usize,
}

/// One client for every request: its settings, and what it has sent.
struct Client {
    timeout_ms: f64,
    time_scale: f64,
    sent: AtomicUsize,
}

impl Client {
    async fn get(&self, run: &Run, lane: &str, url: &str) -> Result<Fetched, String> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let start = run.now();
        let outcome = net::fetch(run, &net::with_scale(url, self.time_scale), self.timeout_ms).await;
        run.span(lane, format!("GET {url}"), SpanKind::Io, start, run.now());
        match &outcome {
            Ok(r) => run.log(lane, format!("{url}: {} ({} bytes, {:.0} ms)", r.status, r.body.len(), r.ms())),
            Err(e) => run.log(lane, format!("error: {e}")),
        }
        outcome
    }
}

/// How one request ended, with how long it took.
struct Outcome {
    url: String,
    answer: Result<Fetched, String>,
    start: f64,
    ms: f64,
}

async fn get_timed(run: &Run, client: &Client, k: usize, url: &str) -> Outcome {
    let start = run.now();
    let answer = client.get(run, &format!("task {}", k + 1), url).await;
    Outcome { url: url.to_string(), answer, start, ms: run.now() - start }
}

async fn run_async_fetch(run: Run, p: AsyncFetchParams) -> RunResult<()> {
    let urls = net::split_urls(&p.urls);
    let client = Arc::new(Client {
        timeout_ms: p.timeout_s * 1000.0,
        time_scale: p.time_scale,
        sent: AtomicUsize::new(0),
    });

    let one_by_one = run.measure("one-by-one", async {
        let mut outcomes = Vec::new();
        for (k, url) in urls.iter().enumerate() {
            outcomes.push(get_timed(&run, &client, k, url).await); // waits for each answer in turn
            run.check()?;
        }
        Ok(outcomes)
    });
    if let Some(outcomes) = one_by_one.await? {
        report(&run, "one-by-one", &outcomes);
    }

    let gathered = run.measure("gathered", async {
        // Every request is started before any answer is in: the waits overlap.
        let outcomes =
            futures::future::join_all(urls.iter().enumerate().map(|(k, url)| get_timed(&run, &client, k, url))).await;
        run.check()?;
        Ok(outcomes)
    });
    let Some(outcomes) = gathered.await? else { return Ok(()) };
    report(&run, "gathered", &outcomes);
    pooled(&run, &client, &urls, p.threads).await?;
    first_error(&run, &client, &urls).await?;

    let slowest = outcomes.iter().map(|o| o.ms).fold(0.0, f64::max);
    let sum: f64 = outcomes.iter().map(|o| o.ms).sum();
    if let Some(total) = run.wall_ms("gathered") {
        run.verify(
            total >= slowest * 0.95 && total <= slowest * 1.2 + 60.0,
            format!("gathered: {total:.0} ms ~ the slowest request ({slowest:.0} ms), not their sum ({sum:.0} ms)"),
        );
        run.value("gathered_ms", total);
    }
    run.verify(
        outcomes.len() == urls.len(),
        format!("{} of {} requests ended with a status or an error of their own", outcomes.len(), urls.len()),
    );
    run.value("slowest_ms", slowest);
    run.value("sent", client.sent.load(Ordering::Relaxed));
    let results: Vec<_> = outcomes
        .iter()
        .map(|o| match &o.answer {
            Ok(r) => json!({"url": o.url, "status": r.status, "bytes": r.body.len(), "ms": o.ms, "via": r.via}),
            Err(e) => json!({"url": o.url, "error": e, "ms": o.ms}),
        })
        .collect();
    run.value("results", results);
    Ok(())
}

/// The same requests from a pool of real threads, each blocking on its request; a simulated GIL
/// is held to build a request and to read its answer, and released while the thread waits.
async fn pooled(run: &Run, client: &Arc<Client>, urls: &[String], size: usize) -> RunResult<()> {
    let gil = Arc::new(Gil::new(true, 5.0));
    let work = run.measure("threads", async {
        let from = run.now();
        let queue = Arc::new(Mutex::new(urls.iter().cloned().enumerate().collect::<VecDeque<_>>()));
        let mut handles = Vec::new();
        for t in 0..size.min(urls.len()) {
            let (run, client, queue, gil) = (run.clone(), client.clone(), queue.clone(), gil.clone());
            let lane = format!("thread {}", t + 1);
            handles.push(threads::spawn_traced(&run.clone(), lane.clone(), move || -> RunResult<(f64, Vec<(usize, Outcome)>)> {
                let (started, mut done) = (run.now(), Vec::new());
                // Take the next URL and let go of the queue before waiting.
                while let Some((k, url)) = { let next = queue.lock().unwrap().pop_front(); next } {
                    let href = gil.hold(&run, t, &lane, "build the request (GIL)", || {
                        client.sent.fetch_add(1, Ordering::Relaxed);
                        net::with_scale(&url, client.time_scale)
                    })?;
                    let start = run.now();
                    let answer = net::fetch_blocking(&run, &href, client.timeout_ms); // the GIL is not held here
                    run.span(&lane, format!("GET {url}"), SpanKind::Io, start, run.now());
                    let ms = run.now() - start;
                    gil.hold(&run, t, &lane, "read the answer (GIL)", || match &answer {
                        Ok(r) => run.log(&lane, format!("{url}: {} ({} lines, {ms:.0} ms, {})", r.status, r.body.lines().count(), r.via)),
                        Err(e) => run.log(&lane, format!("error: {e}")),
                    })?;
                    run.check()?;
                    done.push((k, Outcome { url, answer, start, ms }));
                }
                Ok((started, done))
            })?);
        }
        let mut outcomes = Vec::new();
        let mut last_start = from;
        for finished in threads::join_all(handles).await? {
            let (started, done) = finished?;
            last_start = last_start.max(started);
            outcomes.extend(done);
        }
        outcomes.sort_by_key(|(k, _)| *k);
        Ok((last_start - from, outcomes.into_iter().map(|(_, o)| o).collect::<Vec<_>>()))
    });
    let Some((start_up, outcomes)) = work.await? else { return Ok(()) };
    report(run, "threads", &outcomes);
    let slowest = outcomes.iter().map(|o| o.ms).fold(0.0, f64::max);
    let threads = size.min(urls.len());
    run.note(
        "threads",
        format!("{threads} threads; {start_up:.0} ms until the last had started; the GIL changed hands {} times", gil.switches()),
    );
    if let Some(total) = run.wall_ms("threads") {
        // With a thread per request every wait starts at once: the total is the slowest request
        // (plus the threads' start-up); with fewer threads, requests queue for one.
        let bound = if threads >= urls.len() { slowest * 1.2 + start_up + 60.0 } else { f64::INFINITY };
        run.verify(
            total >= slowest * 0.95 && total <= bound,
            format!("threads: {total:.0} ms for {} requests on {threads} threads; the slowest took {slowest:.0} ms", urls.len()),
        );
    }
    // The most requests waiting at the same moment: more than one means the GIL was let go while waiting.
    let mut edges: Vec<(f64, i32)> = outcomes.iter().flat_map(|o| [(o.start, 1), (o.start + o.ms, -1)]).collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let most = edges.iter().scan(0, |now, (_, d)| { *now += d; Some(*now) }).max().unwrap_or(0);
    run.verify(
        most as usize >= threads.min(2),
        format!("threads: up to {most} requests waited at the same time, each on its own thread"),
    );
    run.value("threads_most_at_once", most);
    run.value("threads_via", outcomes.iter().filter_map(|o| o.answer.as_ref().ok().map(|r| r.via)).collect::<Vec<_>>());
    Ok(())
}

/// asyncio.gather without return_exceptions: the awaiting code gets the first error as soon as it
/// happens, and the requests still running go on, their results lost to it.
async fn first_error(run: &Run, client: &Client, urls: &[String]) -> RunResult<()> {
    let raised = run.measure("first-error", async {
        let started = run.now();
        let mut pending: futures::stream::FuturesUnordered<_> =
            urls.iter().enumerate().map(|(k, url)| get_timed(run, client, k, url)).collect();
        let (mut raised_at, mut after) = (None, 0);
        while let Some(outcome) = futures::StreamExt::next(&mut pending).await {
            match (&outcome.answer, raised_at) {
                (Err(e), None) => {
                    let now = run.now();
                    run.span("main", "await gather(...)", SpanKind::Wait, started, now);
                    run.log("main", format!("gather raised: {}: {e}", outcome.url));
                    raised_at = Some(now);
                }
                (_, Some(_)) => after += 1, // still running when main got the error: nobody reads this
                _ => {}
            }
        }
        run.check()?;
        Ok((raised_at.map(|t| t - started), after))
    });
    let Some((raised_at, after)) = raised.await? else { return Ok(()) };
    let total = run.wall_ms("first-error").unwrap_or(0.0);
    match raised_at {
        Some(at) => {
            run.result("first-error", format!("main got the first error after {at:.0} ms"));
            run.note("first-error", format!("{after} requests ended after that, their answers lost to main"));
            run.verify(
                after == 0 || at < total,
                format!("the error reached main at {at:.0} ms while {after} requests ran on (until {total:.0} ms)"),
            );
        }
        None => run.result("first-error", "no request failed: gather returned every answer"),
    }
    run.value("first_error_ms", raised_at);
    run.value("ended_after_the_error", after);
    Ok(())
}

/// A table row per request; statuses and errors are shown as text.
fn report(run: &Run, mode: &str, outcomes: &[Outcome]) {
    let rows = outcomes
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let (status, kind, bytes, via) = match &o.answer {
                Ok(r) => (r.status.to_string(), r.content_type.clone(), r.body.len().to_string(), r.via.to_string()),
                Err(e) => (format!("error: {e}"), String::new(), String::new(), String::new()),
            };
            vec![(k + 1).to_string(), o.url.clone(), status, kind, bytes, format!("{:.0}", o.ms), via]
        })
        .collect();
    run.table(
        &format!("Requests ({mode})"),
        &["#", "URL", "status or error", "type", "bytes", "ms", "answered by"],
        rows,
    );
    let ok = outcomes.iter().filter(|o| o.answer.as_ref().is_ok_and(|r| r.status < 400)).count();
    run.result(mode, format!("{ok} of {} answered 2xx/3xx", outcomes.len()));
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            at_least("timed out", count_lines(out, "delay/10', 'TimeoutError"), 1)?;
            at_least("404", count_lines(out, "status/404', 404,"), 1)?;
            at_least("gather raising the first error", count_lines(out, "gather raised "), 1)?;
            expect_eq("exceptions returned in place", after(out, "raised ")?, 2)?;
            expect_eq("answered", after(out, "answered ")?, 5)?;
            expect_eq("answered on threads", after(out, "threads answered ")?, 5)
        },
        no_constant: &[
            "urls",       // the form's sim/... paths are the page's service: URLS builds on BASE
            "timeout_s",  // 0.6 s goes with the page's time scale 0.2; 5 s is the original's
            "time_scale", // the Python talks to a real service: its delays are its own
        ],
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn gathered_takes_the_slowest_and_every_request_reports() {
        let params = json!({"time_scale": 0.05, "timeout_s": 0.15});
        let report = run_native("async-fetch", params, true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let results = report.values["results"].as_array().unwrap();
        assert_eq!(results.len(), 7);
        let field = |i: usize, k: &str| results[i][k].clone();
        assert_eq!(field(0, "status"), 200);
        assert_eq!(field(2, "status"), 404);
        assert!(field(5, "error").as_str().unwrap().contains("timed out"));
        assert!(field(6, "error").as_str().unwrap().contains("unreachable"));
        // The slowest is the timeout (150 ms); delay/2 at scale 0.05 is 100 ms.
        let gathered = report.values["gathered_ms"].as_f64().unwrap();
        assert!((150.0..250.0).contains(&gathered), "{gathered}");
        let one_by_one = report.modes[0].wall_ms.unwrap();
        assert!(one_by_one >= 150.0 + 50.0 + 100.0, "{one_by_one}");
        assert_eq!(report.values["sent"], 28, "7 requests in each of the four modes");
        // The thread pool: a thread per request, their waits overlapping (at least delay/1, delay/2 and the timeout).
        assert!(report.values["threads_most_at_once"].as_u64().unwrap() >= 3);
        assert_eq!(report.tables.len(), 3);
        let threads = report.modes.iter().find(|m| m.id == "threads").unwrap().wall_ms.unwrap();
        assert!((150.0..300.0).contains(&threads), "{threads}");
        // The timeout (150 ms) is the first error; the unreachable host fails at once, so main
        // hears of that one first, while the slow requests still run.
        let raised_at = report.values["first_error_ms"].as_f64().unwrap();
        assert!(raised_at < 100.0, "{raised_at}");
        assert!(report.values["ended_after_the_error"].as_u64().unwrap() >= 3);
    }
}
