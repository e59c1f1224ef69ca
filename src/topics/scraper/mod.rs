//! scraper: an async web scraper with a concurrency limit and a politeness delay.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, needs_nothing};

const DEFAULT_URLS: &str = "sim/site/index, sim/site/about, sim/site/blog, sim/site/blog/1, sim/site/blog/2, sim/site/shop, sim/site/contact, sim/site/old-page, sim/site/broken, sim/blackhole";
const MAX_URLS: usize = 50;

pub fn topic() -> Topic {
    Topic {
        id: "scraper",
        title: "An async scraper: a semaphore and good manners",
        chapter: Chapter::Async,
        summary: "Fetch many pages with at most N requests at once and a pause after each; extract the title and the first 10 links; errors stay with their page.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::text("urls", "Pages", DEFAULT_URLS, 3000).help("Comma-separated, at most 50. sim/site/... is the built-in site."),
            Param::int("concurrency", "At most N at once", 3, 1, 16),
            Param::float("politeness_s", "Politeness delay (s)", 0.5, 0.0, 5.0, 0.1).help("Pause after each page, before freeing its slot."),
            Param::float("timeout_s", "Timeout (s)", 1.0, 0.1, 30.0, 0.1).help("Per page, in real seconds."),
            Param::float("time_scale", "Time scale", 0.3, 0.01, 1.0, 0.01).help("Multiplies the site's delays and the politeness delay."),
        ],
        presets: vec![
            Preset { id: "original", label: "Real time (timeout 5 s)", values: json!({"time_scale": 1.0, "timeout_s": 5.0}) },
            Preset { id: "one-at-a-time", label: "One at a time", values: json!({"concurrency": 1}) },
        ],
        modes: vec![Mode::new("scrape", "Scrape with a semaphore", Model::Async)],
        code: crate::topic_code!("scraper/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| {
            let n = net::split_urls(&p.read::<ScraperParams>().urls).len();
            if n == 0 || n > MAX_URLS {
                return Err(FieldError::new("urls", format!("give 1 to {MAX_URLS} comma-separated pages")));
            }
            Ok(())
        },
        run: |run, params| Box::pin(run_scraper(run, params.read())),
        needs: needs_nothing,
        reads: reads::<ScraperParams>,
    }
}

// CODE START
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::task::{Poll, Waker};

use serde::Deserialize;
use serde::Serialize;

use crate::engines::{net, tasks};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScraperParams {
    urls: String,
    concurrency: usize,
    politeness_s: f64,
    timeout_s: f64,
    time_scale: f64,
}

/// An async semaphore: `acquire` waits (without blocking the loop) until one of the permits is
/// free; the permit goes back when the guard is dropped, waking the waiting tasks.
struct Semaphore {
    permits: Cell<usize>,
    waiting: RefCell<VecDeque<Waker>>,
    // What the permits are used for, so the run can prove the limit held.
    held: Cell<usize>,
    max_held: Cell<usize>,
}

struct Permit<'a>(&'a Semaphore);

impl Semaphore {
    fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: Cell::new(permits),
            waiting: RefCell::default(),
            held: Cell::new(0),
            max_held: Cell::new(0),
        }
    }

    async fn acquire(&self) -> Permit<'_> {
        futures::future::poll_fn(|cx| {
            if self.permits.get() > 0 {
                self.permits.set(self.permits.get() - 1);
                Poll::Ready(())
            } else {
                self.waiting.borrow_mut().push_back(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        self.held.set(self.held.get() + 1);
        self.max_held.set(self.max_held.get().max(self.held.get()));
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let s = self.0;
        s.held.set(s.held.get() - 1);
        s.permits.set(s.permits.get() + 1);
        // Wake every waiting task: one gets the permit, the others wait again. (Waking just one
        // could pick a task that was polled twice and already holds a permit.)
        let waiting: Vec<Waker> = s.waiting.borrow_mut().drain(..).collect();
        waiting.into_iter().for_each(Waker::wake);
    }
}

/// What the scraper found on one page.
#[derive(Serialize)]
struct Page {
    url: String,
    status: Option<u16>,
    error: Option<String>,
    size: usize,
    load_ms: f64,
    title: Option<String>,
    links: Vec<String>,
    via: &'static str,
}

struct Settings {
    timeout_ms: f64,
    polite_ms: f64,
    scale: f64,
}

async fn scrape(run: &Run, semaphore: &Semaphore, k: usize, url: &str, cfg: &Settings) -> RunResult<Page> {
    let lane = format!("task {}", k + 1);
    let asked = run.now();
    let permit = semaphore.acquire().await; // `async with semaphore:`
    run.span(&lane, "wait for a slot", SpanKind::Wait, asked, run.now());
    run.sample("requests at once", "slots in use", ("time (ms)", "requests"), (run.now(), semaphore.held.get() as f64));

    let start = run.now();
    let answer = net::fetch(run, &net::with_scale(url, cfg.scale), cfg.timeout_ms).await;
    run.check()?;
    let load_ms = run.now() - start;
    run.span(&lane, format!("GET {url}"), SpanKind::Io, start, run.now());
    let mut page =
        Page { url: url.to_string(), status: None, error: None, size: 0, load_ms, title: None, links: vec![], via: "" };
    match answer {
        Ok(r) => {
            page.status = Some(r.status);
            page.size = r.body.len();
            page.via = r.via;
            if r.content_type.starts_with("text/html") {
                let (title, links) = run.timed(&lane, "parse", SpanKind::Run, || parse(&r.body, url));
                (page.title, page.links) = (title, links);
            }
            run.log(&lane, format!("{url}: {} {} bytes in {load_ms:.0} ms", r.status, r.body.len()));
        }
        Err(e) => {
            run.log(&lane, format!("{url}: {e}"));
            page.error = Some(e);
        }
    }
    run.timed_async(&lane, "politeness delay", SpanKind::Io, tasks::sleep(run, cfg.polite_ms)).await?;
    drop(permit); // the next waiting task gets the slot
    run.sample("requests at once", "slots in use", ("time (ms)", "requests"), (run.now(), semaphore.held.get() as f64));
    Ok(page)
}

/// The page's title and its first 10 links (made absolute), read with an HTML parser.
fn parse(html: &str, base: &str) -> (Option<String>, Vec<String>) {
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else { return (None, vec![]) };
    let parser = dom.parser();
    let title = dom
        .query_selector("title")
        .and_then(|mut found| found.next())
        .and_then(|handle| handle.get(parser))
        .map(|node| as_text(&node.inner_text(parser)));
    let links = dom
        .query_selector("a[href]")
        .into_iter()
        .flatten()
        .filter_map(|handle| {
            let href = handle.get(parser)?.as_tag()?.attributes().get("href")??.as_utf8_str().into_owned();
            resolve(base, &as_text(&href))
        })
        .take(10)
        .collect();
    (title, links)
}

/// Decodes the common character references and keeps the text printable (it is data, not markup).
fn as_text(raw: &str) -> String {
    let decoded = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.chars().filter(|c| !c.is_control()).take(200).collect::<String>().trim().to_string()
}

/// Makes `href` absolute against the page it was found on (`sim/...` pages resolve among themselves).
fn resolve(base: &str, href: &str) -> Option<String> {
    if href.is_empty() || href.starts_with('#') || href.starts_with("javascript:") {
        return None;
    }
    if net::is_external(href) || href.starts_with("mailto:") {
        return Some(if href.starts_with("//") { format!("https:{href}") } else { href.to_string() });
    }
    let base = base.split(['?', '#']).next().unwrap_or_default();
    let (origin, path) = match base.find("://") {
        Some(i) => {
            let end = base[i + 3..].find('/').map_or(base.len(), |j| i + 3 + j);
            (&base[..end], base[end..].trim_start_matches('/'))
        }
        None => ("", base.trim_start_matches('/')),
    };
    let joined = match href.strip_prefix('/') {
        Some(rooted) => rooted.to_string(),
        None => format!("{}{href}", &path[..path.rfind('/').map_or(0, |i| i + 1)]),
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let path = parts.join("/");
    Some(if origin.is_empty() { path } else { format!("{origin}/{path}") })
}

async fn run_scraper(run: Run, p: ScraperParams) -> RunResult<()> {
    let urls = net::split_urls(&p.urls);
    let n = p.concurrency;
    let scale = p.time_scale;
    let cfg = Settings {
        timeout_ms: p.timeout_s * 1000.0,
        polite_ms: p.politeness_s * 1000.0 * scale,
        scale,
    };
    let semaphore = Semaphore::new(n);

    let outcome = run.measure("scrape", async {
        let done = Cell::new(0);
        let tasks = urls.iter().enumerate().map(|(k, url)| {
            let (run, semaphore, cfg, done, total) = (&run, &semaphore, &cfg, &done, urls.len());
            async move {
                let page = scrape(run, semaphore, k, url, cfg).await?;
                done.set(done.get() + 1);
                run.progress(done.get() as f64, total as f64, "pages");
                Ok::<_, crate::run::RunError>(page)
            }
        });
        futures::future::try_join_all(tasks).await
    });
    let Some(pages) = outcome.await? else { return Ok(()) };

    let max_held = semaphore.max_held.get();
    run.verify(max_held <= n, format!("never more than {n} requests at once (at most {max_held})"));
    let ok = pages.iter().filter(|p| p.status.is_some_and(|s| s < 400)).count();
    run.verify(
        pages.len() == urls.len(),
        format!(
            "{} pages: {ok} fetched, {} with an error status or no answer, each on its own row",
            pages.len(),
            pages.len() - ok
        ),
    );
    // On the built-in site, check what was extracted against the site's own definition.
    let mut matched = 0;
    let mut checked = 0;
    for page in pages.iter().filter(|p| p.status == Some(200)) {
        let Some(name) = page.url.strip_prefix("sim/site/") else { continue };
        let Some(expected) = net::site_page(name) else { continue };
        checked += 1;
        let links: Vec<String> = expected.links.iter().filter_map(|l| resolve(&page.url, l)).take(10).collect();
        if page.title.as_deref() == Some(expected.title.as_str()) && page.links == links {
            matched += 1;
        }
    }
    if checked > 0 {
        run.verify(
            matched == checked,
            format!("titles and links match the simulated site on {matched} of {checked} pages"),
        );
    }

    let rows = pages
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let status = match (&p.status, &p.error) {
                (Some(s), _) => s.to_string(),
                (None, Some(e)) => format!("error: {e}"),
                _ => String::new(),
            };
            vec![
                (k + 1).to_string(),
                p.url.clone(),
                status,
                p.size.to_string(),
                format!("{:.0}", p.load_ms),
                p.title.clone().unwrap_or_default(),
                p.links.len().to_string(),
                p.links.join("\n"),
            ]
        })
        .collect();
    run.table("Pages", &["#", "URL", "status", "bytes", "load ms", "title", "links", "first 10 links"], rows);
    let json = serde_json::to_string_pretty(&pages).map_err(|e| e.to_string())?;
    run.file("pages.json", "application/json", json);
    run.result("scrape", format!("{ok} of {} pages fetched", pages.len()));
    run.note("scrape", format!("at most {max_held} requests at once"));
    run.value("max_in_flight", max_held);
    run.value("pages", serde_json::to_value(&pages).unwrap_or_default());
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            at_least("the HTML page's title", count_lines(out, "/html 200 A simulated page"), 1)?;
            at_least("a page that timed out", count_lines(out, "TimeoutError"), 1)?;
            expect_eq("pages", after(out, "pages ")?, 5)
        },
        no_constant: &[
            "urls",       // the pages both services have (the public one has no sim/site)
            "time_scale", // the same
        ],
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use super::{parse, resolve};
    use crate::engines::net;
    use crate::report::RunStatus;
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn parses_titles_and_links_and_ignores_commented_links() {
        let html = net::respond("GET", "sim/site/index").body;
        let (title, links) = parse(&html, "sim/site/index");
        assert_eq!(title.as_deref(), Some("Sim Shop & Blog: home"));
        assert_eq!(links[0], "sim/site/about");
        assert_eq!(links.last().unwrap(), "https://example.com/");
        assert!(!links.iter().any(|l| l.contains("secret")));
        let (_, shop) = parse(&net::respond("GET", "sim/site/shop").body, "sim/site/shop");
        assert_eq!(shop.len(), 10);
        assert_eq!(resolve("sim/site/blog/1", "../index").as_deref(), Some("sim/site/index"));
        assert_eq!(resolve("https://a.org/x/y.html?q", "/z").as_deref(), Some("https://a.org/z"));
        assert_eq!(resolve("https://a.org/x/y.html", "w").as_deref(), Some("https://a.org/x/w"));
    }

    #[test]
    fn at_most_n_at_once_titles_match_and_errors_stay_per_page() {
        let params = json!({"concurrency": 3, "politeness_s": 0.5, "timeout_s": 0.2, "time_scale": 0.05});
        let report = run_native("scraper", params, false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["max_in_flight"], 3);
        let pages = report.values["pages"].as_array().unwrap();
        let page = |url: &str| pages.iter().find(|p| p["url"] == url).unwrap();
        assert_eq!(page("sim/site/blog/2")["title"], "Post 2: queues & back-pressure");
        assert_eq!(page("sim/site/old-page")["status"], 404);
        assert_eq!(page("sim/site/broken")["status"], 500);
        assert!(page("sim/blackhole")["error"].as_str().unwrap().contains("timed out"));
        let links: Vec<&str> =
            page("sim/site/about")["links"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        assert_eq!(links, ["sim/site/index", "sim/site/contact", "sim/site/blog/1"]);
        assert_eq!(report.tables[0].rows.len(), 10);
        assert!(report.files[0].text.contains("\"title\""));
        // Never more than 3 slots on the chart either.
        assert!(report.series[0].points.iter().all(|p| p.1 <= 3.0));
    }
}
