//! The simulated network: a small HTTP test service and a web site that need no internet.
//!
//! [`respond`] is the service itself, as pure Rust: given a method and a path like
//! `sim/delay/2?scale=0.2` it says what to answer and after how long. In the browser the service
//! worker (`www/sw.js`) calls it through the plain wasm build, so topics make REAL `fetch` calls
//! that the service worker answers, offline too; a thread's [`fetch_blocking`] is a synchronous
//! XMLHttpRequest that the service worker answers the same way. Natively (tests, benchmarks)
//! [`fetch`] calls [`respond`] directly and waits the same delay on the event loop
//! ([`fetch_blocking`]: blocking its thread).
//!
//! Endpoints (every one accepts `?scale=F`, multiplying its delays, and `?delay=S`, extra seconds):
//! - `sim/` an index page listing the endpoints
//! - `sim/delay/S` JSON after S seconds
//! - `sim/status/CODE` that status code, with a short text body
//! - `sim/html`, `sim/json`, `sim/xml` small documents of each kind
//! - `sim/get?a=1&b=2` JSON echoing the query arguments
//! - `sim/bytes/N` N bytes of text
//! - `sim/site/PAGE` a small web site (titles, links, a missing page, a broken page)
//! - `sim/blackhole` a host that never answers: only a timeout ends the wait

use serde::Serialize;

use crate::run::Run;

/// What the simulated service answers to one request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// How long the answer takes, already multiplied by the request's time scale.
    pub delay_ms: f64,
    /// True for the host that never answers.
    pub never_answers: bool,
}

/// The longest delay one request may ask for (seconds, before scaling).
pub const MAX_DELAY_S: f64 = 60.0;

/// The header the service worker adds to simulated answers, so a page can tell them from files.
pub const SIM_HEADER: &str = "x-playground-sim";

/// The header a blocking simulated request carries: after how many ms it gives up (the service
/// worker closes it then; see `host::fetch_blocking`).
pub const GIVE_UP_HEADER: &str = "x-playground-give-up-ms";

const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// Answers one request to the simulated service. `path_and_query` is relative to the playground's
/// root, with or without a leading slash: `sim/status/404`, `/sim/site/about?scale=0.5`.
pub fn respond(method: &str, path_and_query: &str) -> SimResponse {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let path = path.split('#').next().unwrap_or_default().trim_start_matches("./").trim_start_matches('/');
    let args = parse_query(query);
    let arg = |name: &str| args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let scale = arg("scale").and_then(crate::params::parse_number).unwrap_or(1.0).clamp(0.0, 10.0);
    let extra_s = arg("delay").and_then(crate::params::parse_number).unwrap_or(0.0);
    let mut answer = match path.strip_prefix("sim/").or(if path == "sim" { Some("") } else { None }) {
        None => plain(404, format!("{path}: not part of the simulated service (paths start with sim/)")),
        Some(_) if method != "GET" && method != "HEAD" => plain(405, format!("{method} is not allowed here")),
        Some(route) => route_to(route.trim_end_matches('/'), &args),
    };
    // The whole wait a request may ask for, however its delays and scale add up.
    answer.delay_ms = ((answer.delay_ms + extra_s.clamp(0.0, MAX_DELAY_S) * 1000.0) * scale).min(MAX_DELAY_S * 1000.0);
    if method == "HEAD" {
        answer.body.clear();
    }
    answer
}

fn route_to(route: &str, args: &[(String, String)]) -> SimResponse {
    let (head, rest) = route.split_once('/').unwrap_or((route, ""));
    match (head, rest) {
        ("" | "index", "") => page(200, "Simulated service", INDEX_BODY),
        ("delay", s) => match crate::params::parse_number(s) {
            Some(s) if (0.0..=MAX_DELAY_S).contains(&s) => {
                let body = serde_json::json!({"delay_s": s, "message": format!("answered after {s} s")});
                SimResponse { delay_ms: s * 1000.0, ..answer(200, JSON, body.to_string()) }
            }
            _ => plain(400, format!("delay must be a number of seconds from 0 to {MAX_DELAY_S}")),
        },
        ("status", code) => match code.parse::<u16>() {
            Ok(code) if (200..=599).contains(&code) => plain(code, format!("{code} {}", reason(code))),
            _ => plain(400, "status must be a code from 200 to 599"),
        },
        ("html", "") => page(200, "A simulated page", HTML_BODY),
        ("json", "") => answer(200, JSON, JSON_BODY.to_string()),
        ("xml", "") => answer(200, "application/xml", XML_BODY.to_string()),
        ("get", "") => {
            let args: serde_json::Map<String, serde_json::Value> =
                args.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
            answer(200, JSON, serde_json::json!({ "args": args }).to_string())
        }
        ("bytes", n) => match n.parse::<usize>() {
            Ok(n) if n <= 1 << 20 => answer(200, TEXT, "0123456789abcdef".chars().cycle().take(n).collect()),
            _ => plain(400, "bytes must be a count from 0 to 1048576"),
        },
        ("site", page_name) => site_answer(if page_name.is_empty() { "index" } else { page_name }),
        ("blackhole", "") => SimResponse { never_answers: true, ..plain(504, "no answer") },
        _ => plain(404, format!("sim/{route}: no such endpoint (see sim/ for the list)")),
    }
}

fn answer(status: u16, content_type: &str, body: String) -> SimResponse {
    SimResponse { status, content_type: content_type.to_string(), body, delay_ms: 0.0, never_answers: false }
}

fn plain(status: u16, text: impl Into<String>) -> SimResponse {
    answer(status, TEXT, text.into())
}

fn page(status: u16, title: &str, body: &str) -> SimResponse {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n{body}\n</body></html>\n"
    );
    answer(status, HTML, html)
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const INDEX_BODY: &str = "<h1>Simulated service</h1>\n<ul>\n\
<li><a href=\"delay/1\">delay/1</a>: answers after 1 s</li>\n\
<li><a href=\"status/404\">status/404</a>: answers with that status</li>\n\
<li><a href=\"html\">html</a>, <a href=\"json\">json</a>, <a href=\"xml\">xml</a>: documents</li>\n\
<li><a href=\"get?name=value\">get?name=value</a>: echoes the query</li>\n\
<li><a href=\"bytes/100\">bytes/100</a>: some bytes</li>\n\
<li><a href=\"site/index\">site/index</a>: a small web site to scrape</li>\n\
<li><a href=\"blackhole\">blackhole</a>: never answers</li>\n</ul>\n\
<p>Add ?scale=0.1 to make every delay ten times shorter.</p>";

const HTML_BODY: &str = "<h1>Herman Melville - Moby-Dick</h1>\n\
<p>Call me Ishmael. Some years ago, never mind how long precisely, having little money in my purse, \
I thought I would sail about a little and see the watery part of the world.</p>\n\
<p><a href=\"json\">the JSON document</a> · <a href=\"xml\">the XML document</a></p>";

const JSON_BODY: &str = r#"{"slideshow": {"title": "Sample Slide Show", "author": "The Playground", "slides": [{"title": "Wake up to async", "type": "all"}, {"title": "Overview", "type": "all", "items": ["Why wait one at a time", "Who waits for whom"]}]}}"#;

const XML_BODY: &str = "<?xml version='1.0' encoding='utf-8'?>\n\
<slideshow title=\"Sample Slide Show\" author=\"The Playground\">\n\
  <slide type=\"all\"><title>Wake up to async</title></slide>\n\
  <slide type=\"all\"><title>Overview</title><item>Why wait one at a time</item><item>Who waits for whom</item></slide>\n\
</slideshow>\n";

// ----- the simulated web site -----

/// One page of the simulated site, as the site defines it (tests compare scrapers against this).
#[derive(Clone, Debug, PartialEq)]
pub struct SitePage {
    pub title: String,
    /// The page's links in document order, as written in the page (relative to the page).
    pub links: Vec<String>,
    /// How long the page takes to load, in ms before scaling.
    pub latency_ms: f64,
}

/// Products in the shop: more than ten, so "the first 10 links" matters.
const SHOP_ITEMS: usize = 12;

/// The pages of the simulated site; `None` for a page that does not exist (404).
/// `broken` exists but fails with 500.
pub fn site_page(name: &str) -> Option<SitePage> {
    let latency_ms = 100.0 + (name.bytes().map(u32::from).sum::<u32>() % 5) as f64 * 100.0;
    let page = |title: &str, links: &[&str]| SitePage {
        title: title.to_string(),
        links: links.iter().map(|l| l.to_string()).collect(),
        latency_ms,
    };
    Some(match name {
        "index" => page(
            "Sim Shop & Blog: home",
            &["about", "blog", "shop", "contact", "old-page", "broken", "https://example.com/"],
        ),
        "about" => page("About us", &["index", "contact", "blog/1"]),
        "contact" => page("Contact", &["index", "about"]),
        "blog" => page("Blog", &["blog/1", "blog/2", "blog/3", "index"]),
        "blog/1" => page("Post 1: why wait one at a time?", &["../blog", "2", "../index"]),
        "blog/2" => page("Post 2: queues & back-pressure", &["../blog", "1", "3"]),
        "blog/3" => page("Post 3: <semaphores> in practice", &["../blog", "2"]),
        "shop" => {
            let mut links: Vec<String> = (1..=SHOP_ITEMS).map(|i| format!("shop/item/{i}")).collect();
            links.push("index".into());
            SitePage { title: "Shop".into(), links, latency_ms }
        }
        "broken" => page("Broken", &[]),
        _ => {
            let n = name.strip_prefix("shop/item/")?.parse::<usize>().ok().filter(|n| (1..=SHOP_ITEMS).contains(n))?;
            SitePage { title: format!("Item {n}"), links: vec!["../../shop".into()], latency_ms }
        }
    })
}

fn site_answer(name: &str) -> SimResponse {
    let Some(page) = site_page(name) else {
        let mut missing = html_page_for(404, "Page not found", &["index".to_string()]);
        missing.delay_ms = 80.0;
        return missing;
    };
    let mut answer = if name == "broken" {
        plain(500, "Internal Server Error: the simulated database is down")
    } else {
        html_page_for(200, &page.title, &page.links)
    };
    answer.delay_ms = page.latency_ms;
    answer
}

/// Writes a site page. Some markup is there on purpose to trip up a regex "parser": a link inside
/// a comment, attributes in single quotes and in odd order, entities in the title.
fn html_page_for(status: u16, title: &str, links: &[String]) -> SimResponse {
    let items: String = links
        .iter()
        .enumerate()
        .map(|(i, href)| {
            if i % 2 == 0 {
                format!("  <li><a href=\"{}\">link {}</a></li>\n", escape(href), i + 1)
            } else {
                format!("  <li><a class='nav' href='{}' title=\"link\">link {}</a></li>\n", escape(href), i + 1)
            }
        })
        .collect();
    let body = format!(
        "<header><h1>{}</h1></header>\n<!-- <a href=\"secret\">not a link: a comment</a> -->\n<nav><ul>\n{items}</ul></nav>\n<p>Text of the page.</p>",
        escape(title)
    );
    SimResponse { status, ..page(status, &escape(title), &body) }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

// ----- requests -----

/// A finished request.
#[derive(Clone, Debug, Serialize)]
pub struct Fetched {
    /// The URL asked for.
    pub url: String,
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// Run times (ms) when the request started and when its body was in.
    pub start: f64,
    pub end: f64,
    /// Who answered: "service worker", "network", or "in-process" (native runs, or no service worker).
    pub via: &'static str,
}

impl Fetched {
    pub fn ms(&self) -> f64 {
        self.end - self.start
    }
}

/// The URLs in a learner's list: separated by commas or new lines, blanks dropped.
pub fn split_urls(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|u| !u.is_empty()).map(str::to_string).collect()
}

/// True for a full URL with a scheme (`https://...`); other URLs name the simulated service.
pub fn is_external(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
}

/// Whether a path of the playground's own origin may be fetched: only the simulated service
/// (a `sim` segment, which the service worker answers itself). Its other pages are never read by
/// a topic: an embed must not let a learner's URL, or a page that frames it, read the origin's
/// pages with the visitor's cookies.
pub fn own_origin_path_allowed(path: &str) -> bool {
    path.split('/').any(|segment| segment == "sim")
}

/// Why a URL of the playground's own origin is refused.
pub fn own_origin_message(url: &str) -> String {
    format!(
        "{}: refused: the playground does not fetch its own site's pages, only its simulated service (sim/...)",
        shown(url)
    )
}

/// Adds `scale=F` to a simulated URL that has none (external URLs are returned unchanged).
pub fn with_scale(url: &str, scale: f64) -> String {
    if is_external(url) || url.contains("scale=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}scale={scale}")
}

/// The message for a request the browser would not let through, or that found no host.
pub fn unreachable_message(url: &str, detail: &str) -> String {
    format!("{}: blocked by the browser (CORS) or unreachable ({detail})", shown(url))
}

/// A URL as the learner wrote it: without the `scale=` that [`with_scale`] added, shortened.
fn shown(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let kept: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("scale=")).collect();
    let url = if kept.is_empty() { path.to_string() } else { format!("{path}?{}", kept.join("&")) };
    crate::params::shorten(&url)
}

/// GETs `url` and reads its body as text. Simulated URLs (`sim/...`) are answered by the
/// simulated service; full URLs go to the network in the browser (and fail natively). Errors
/// (unreachable, blocked, timed out, stopped) are messages for this one request.
pub async fn fetch(run: &Run, url: &str, timeout_ms: f64) -> Result<Fetched, String> {
    imp::fetch(run, url.trim(), timeout_ms).await
}

/// GETs `url` from a thread, blocking it until the answer is in (like `requests.get` or
/// `urllib.request.urlopen` on a Python thread). In the browser a synchronous XMLHttpRequest
/// from the thread's Worker, answered by the service worker; natively the simulated answer after
/// a blocking sleep. Errors as [`fetch`]'s.
pub fn fetch_blocking(run: &Run, url: &str, timeout_ms: f64) -> Result<Fetched, String> {
    imp::fetch_blocking(run, url.trim(), timeout_ms)
}

/// What the simulated service answers to a GET of `url` within `timeout_ms`, and how long to
/// wait before it is known (the answer's delay, or the timeout).
fn simulated(url: &str, timeout_ms: f64) -> (f64, Result<SimResponse, String>) {
    let answer = respond("GET", url);
    if answer.never_answers || answer.delay_ms > timeout_ms {
        (timeout_ms, Err(timeout_message(url, timeout_ms)))
    } else {
        (answer.delay_ms, Ok(answer))
    }
}

fn fetched(url: &str, answer: SimResponse, start: f64, end: f64) -> Fetched {
    let SimResponse { status, content_type, body, .. } = answer;
    Fetched { url: url.to_string(), status, content_type, body, start, end, via: "in-process" }
}

/// Answers a simulated request in this process: waits its delay on the event loop.
async fn fetch_in_process(run: &Run, url: &str, timeout_ms: f64, start: f64) -> Result<Fetched, String> {
    let (wait, answer) = simulated(url, timeout_ms);
    if wait.is_finite() {
        crate::engines::tasks::sleep(run, wait).await.map_err(|_| "stopped".to_string())?;
    } else {
        run.stopped().await;
        return Err("stopped".into());
    }
    Ok(fetched(url, answer?, start, run.now()))
}

/// Answers a simulated request in this process, blocking this thread for its delay.
fn fetch_in_process_blocking(run: &Run, url: &str, timeout_ms: f64, start: f64) -> Result<Fetched, String> {
    let (wait, answer) = simulated(url, timeout_ms);
    // An infinite timeout on a host that never answers: only Stop ends this sleep.
    crate::engines::threads::sleep(run, wait).map_err(|_| "stopped".to_string())?;
    Ok(fetched(url, answer?, start, run.now()))
}

fn timeout_message(url: &str, timeout_ms: f64) -> String {
    format!("{}: no answer within {timeout_ms:.0} ms (timed out)", shown(url))
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;

    pub async fn fetch(run: &Run, url: &str, timeout_ms: f64) -> Result<Fetched, String> {
        let start = run.now();
        if is_external(url) {
            return Err(unreachable_message(url, "native runs have no network"));
        }
        fetch_in_process(run, url, timeout_ms, start).await
    }

    pub fn fetch_blocking(run: &Run, url: &str, timeout_ms: f64) -> Result<Fetched, String> {
        let start = run.now();
        if is_external(url) {
            return Err(unreachable_message(url, "native runs have no network"));
        }
        fetch_in_process_blocking(run, url, timeout_ms, start)
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use std::cell::Cell;

    use futures::future::{select, Either};

    use super::*;
    use crate::host::{self, FetchError};

    thread_local! {
        // Set once a simulated URL came back without the service worker's header: from then on
        // simulated requests are answered in this process (e.g. storage blocked in an embed).
        static NO_SERVICE_WORKER: Cell<bool> = const { Cell::new(false) };
    }

    /// A URL of the playground's own origin outside the simulated service: never read (with the
    /// learner's cookies it could be any page of this site).
    fn refused(href: &str) -> bool {
        let own = host::own_origin();
        host::origin_and_path(href).is_none_or(|(origin, path)| origin == own && !own_origin_path_allowed(&path))
    }

    pub async fn fetch(run: &Run, url: &str, timeout_ms: f64) -> Result<Fetched, String> {
        let start = run.now();
        let external = is_external(url);
        let href = host::absolute_url(url).ok_or_else(|| format!("{}: not a valid URL", shown(url)))?;
        if refused(&href) {
            return Err(own_origin_message(url));
        }
        if !external && NO_SERVICE_WORKER.with(Cell::get) {
            return fetch_in_process(run, url, timeout_ms, start).await;
        }
        let (abort, request) = host::fetch(&href, SIM_HEADER)?;
        let limit = async {
            if timeout_ms.is_finite() {
                crate::engines::tasks::sleep(run, timeout_ms).await.is_ok()
            } else {
                run.stopped().await;
                false
            }
        };
        let response = match select(Box::pin(request), Box::pin(limit)).await {
            Either::Left((Ok(response), _)) => response,
            Either::Left((Err(FetchError::NoResponse(why)), _)) => {
                return Err(unreachable_message(url, &format!("the browser says: {why}")))
            }
            Either::Left((Err(FetchError::Unreadable(why)), _)) => return Err(why),
            Either::Left((Err(FetchError::TimedOut), _)) => return Err(timeout_message(url, timeout_ms)),
            Either::Right((timed_out, _)) => {
                abort.abort();
                return Err(if timed_out { timeout_message(url, timeout_ms) } else { "stopped".into() });
            }
        };
        if !external && !response.has_header {
            // A static server answered instead of the service worker: simulate here from now on.
            NO_SERVICE_WORKER.with(|c| c.set(true));
            let left = timeout_ms - (run.now() - start);
            return fetch_in_process(run, url, left.max(0.0), run.now()).await;
        }
        if refused(&response.url) {
            // Redirected to one of the playground's own pages: not read.
            return Err(own_origin_message(url));
        }
        let via = if external { "network" } else { "service worker" };
        let host::HttpResponse { status, content_type, body, .. } = response;
        Ok(Fetched { url: url.to_string(), status, content_type, body, start, end: run.now(), via })
    }

    pub fn fetch_blocking(run: &Run, url: &str, timeout_ms: f64) -> Result<Fetched, String> {
        let start = run.now();
        let external = is_external(url);
        if !external && NO_SERVICE_WORKER.with(Cell::get) {
            return fetch_in_process_blocking(run, url, timeout_ms, start);
        }
        let href = host::absolute_url(url).ok_or_else(|| format!("{}: not a valid URL", shown(url)))?;
        if refused(&href) {
            return Err(own_origin_message(url));
        }
        // Nothing can interrupt a synchronous request: Stop is heard once it ends (its timeout at most).
        let response = match host::fetch_blocking(&href, SIM_HEADER, timeout_ms, (!external).then_some(GIVE_UP_HEADER))
        {
            Ok(response) => response,
            Err(FetchError::NoResponse(why)) => {
                return Err(unreachable_message(url, &format!("the browser says: {why}")))
            }
            Err(FetchError::Unreadable(why)) => return Err(why),
            Err(FetchError::TimedOut) => return Err(timeout_message(url, timeout_ms)),
        };
        run.check().map_err(|_| "stopped".to_string())?;
        if !external && !response.has_header {
            // Not the service worker (this Worker is not under its control): simulate here from now on.
            NO_SERVICE_WORKER.with(|c| c.set(true));
            let left = timeout_ms - (run.now() - start);
            return fetch_in_process_blocking(run, url, left.max(0.0), run.now());
        }
        if refused(&response.url) {
            return Err(own_origin_message(url));
        }
        let via = if external { "network" } else { "service worker" };
        let host::HttpResponse { status, content_type, body, .. } = response;
        Ok(Fetched { url: url.to_string(), status, content_type, body, start, end: run.now(), via })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_answer_with_status_type_and_scaled_delay() {
        let r = respond("GET", "sim/delay/2?scale=0.1");
        assert_eq!((r.status, r.delay_ms), (200, 200.0));
        assert!(serde_json::from_str::<serde_json::Value>(&r.body).is_ok());
        assert_eq!(respond("GET", "/sim/status/404").status, 404);
        assert_eq!(respond("GET", "sim/status/42").status, 400);
        assert!(respond("GET", "sim/html").body.contains("<title>"));
        assert!(respond("GET", "sim/xml").body.starts_with("<?xml"));
        assert_eq!(respond("POST", "sim/json").status, 405);
        assert!(respond("HEAD", "sim/json").body.is_empty());
        assert!(respond("GET", "sim/blackhole").never_answers);
        assert_eq!(respond("GET", "elsewhere/file").status, 404);
        assert_eq!(respond("GET", "sim/bytes/1000").body.len(), 1000);
        let echo: serde_json::Value = serde_json::from_str(&respond("GET", "sim/get?a=1&b=two%20words").body).unwrap();
        assert_eq!(echo["args"]["b"], "two words");
        assert_eq!(respond("GET", "sim/json?delay=1&scale=0.5").delay_ms, 500.0);
        // Delays and scale never add up past the longest delay the service allows.
        assert_eq!(respond("GET", "sim/delay/60?delay=60&scale=10").delay_ms, MAX_DELAY_S * 1000.0);
    }

    #[test]
    fn only_the_simulated_service_of_the_own_origin_may_be_fetched() {
        for allowed in ["/sim/html", "/engine/sim/delay/2", "/app/sim", "/sim/site/index"] {
            assert!(own_origin_path_allowed(allowed), "{allowed}");
        }
        for refused in ["/", "/index.html", "/embed.html", "/simulated/x", "/pkg/catalog.json", "/sims/a"] {
            assert!(!own_origin_path_allowed(refused), "{refused}");
        }
    }

    #[test]
    fn the_site_has_pages_a_missing_one_and_a_broken_one() {
        let home = respond("GET", "sim/site/index");
        assert_eq!(home.status, 200);
        assert!(home.body.contains("<title>Sim Shop &amp; Blog: home</title>"));
        assert_eq!(respond("GET", "sim/site/old-page").status, 404);
        assert_eq!(respond("GET", "sim/site/broken").status, 500);
        assert_eq!(respond("GET", "sim/site/shop/item/12").status, 200);
        assert_eq!(respond("GET", "sim/site/shop/item/13").status, 404);
        assert_eq!(site_page("shop").unwrap().links.len(), SHOP_ITEMS + 1);
    }

    #[test]
    fn native_fetch_waits_times_out_and_refuses_the_network() {
        let topic = &crate::topics::all()[0];
        let run = crate::run::Run::new(topic.id, &topic.modes, crate::run::Capabilities { threads: false, cores: 1 });
        futures::executor::block_on(async {
            let ok = fetch(&run, "sim/delay/1?scale=0.03", 1000.0).await.unwrap();
            assert!(ok.ms() >= 29.0, "{}", ok.ms());
            let late = fetch(&run, "sim/blackhole?scale=0.5&x=1", 40.0).await.unwrap_err();
            assert_eq!(late, "sim/blackhole?x=1: no answer within 40 ms (timed out)");
            let away = fetch(&run, "https://example.com/", 40.0).await.unwrap_err();
            assert!(away.contains("blocked by the browser (CORS) or unreachable"), "{away}");
        });
    }
}
