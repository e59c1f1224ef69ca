//! Every call from Rust into JavaScript (wasm builds only): the clock, randomness, timers and
//! yielding on the event loop, the isolated-worker pool the engine worker hosts, `fetch`, the
//! Origin Private File System, starting wasm threads, and reporting a panic. Everything else
//! reaches the browser through here, so the rest of the crate stays plain Rust that also runs
//! natively. (`web.rs` is the other direction: what JavaScript calls.)
//!
//! JavaScript values stop at this file: callers get Rust types, and errors as text made by one
//! helper, [`js_message`].

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// What a JavaScript error says: an `Error`'s message, a thrown string as it is, anything else
/// as the console would print it.
pub fn js_message(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

// ----- clock, randomness, the event loop -----

#[wasm_bindgen]
extern "C" {
    type Performance;
    #[wasm_bindgen(thread_local_v2, js_name = performance)]
    static PERFORMANCE: Performance;
    #[wasm_bindgen(method)]
    fn now(this: &Performance) -> f64;
    #[wasm_bindgen(method, getter, js_name = timeOrigin)]
    fn time_origin(this: &Performance) -> f64;

    // Implemented by the engine worker (www/engine/engine-worker.js and isolated-pool.js).
    // A MessageChannel round trip: unlike setTimeout(0) it is never clamped to 4 ms.
    #[wasm_bindgen(js_namespace = playgroundHost, js_name = yieldNow)]
    fn host_yield_now() -> js_sys::Promise;
    #[wasm_bindgen(js_namespace = playgroundHost, js_name = poolWarm)]
    fn host_pool_warm(size: u32);
    #[wasm_bindgen(js_namespace = playgroundHost, js_name = poolStart)]
    fn host_pool_start(size: u32, cold: bool) -> js_sys::Promise;
    #[wasm_bindgen(js_namespace = playgroundHost, js_name = poolRun)]
    fn host_pool_run(pool: u32, worker: u32, job: &str, input: Vec<u8>, pause_ms: f64) -> js_sys::Promise;
    #[wasm_bindgen(js_namespace = playgroundHost, js_name = poolStop)]
    fn host_pool_stop(pool: u32);
    #[wasm_bindgen(js_namespace = playgroundHost, js_name = poolKill)]
    fn host_pool_kill(pool: u32, worker: u32);

    // The global `fetch` of whichever scope runs us (the engine worker, or a page).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &js_sys::Object) -> js_sys::Promise;
}

/// `performance.timeOrigin + performance.now()`: each worker has its own `now()` origin, and the
/// sum lines their clocks up (`std::time::Instant` panics on this target).
pub fn now_ms() -> f64 {
    PERFORMANCE.with(|p| p.time_origin() + p.now())
}

/// Tells the page the engine is alive while it computes without yielding (an async mode's CPU part
/// on the engine's own loop): its heartbeat timer cannot fire then, and a silence of 10 s would
/// have the page replace a busy engine as a blocked one. At most once a second; only the engine
/// worker defines `playgroundHost.beat` (a wasm thread's worker has nothing to tell).
pub fn beat() {
    thread_local! {
        static LAST: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    }
    let now = now_ms();
    if now - LAST.with(std::cell::Cell::get) < 1000.0 {
        return;
    }
    LAST.with(|last| last.set(now));
    let beat = js_sys::Reflect::get(&js_sys::global(), &"playgroundHost".into())
        .and_then(|host| js_sys::Reflect::get(&host, &"beat".into()));
    if let Ok(beat) = beat.and_then(|f| f.dyn_into::<js_sys::Function>()) {
        let _ = beat.call0(&JsValue::NULL);
    }
}

/// `Math.random()`: a number in [0, 1).
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// Lets the event loop handle other work (messages, timers) before continuing.
pub async fn yield_now() {
    let _ = JsFuture::from(host_yield_now()).await;
}

/// A Rust function made callable by JavaScript once, and reusable for every timeout.
pub struct Callback(Closure<dyn FnMut()>);

impl Callback {
    pub fn new(f: fn()) -> Callback {
        Callback(Closure::new(f))
    }
}

/// `setTimeout(callback, ms)` on the worker scope we run in; false if the browser refused.
pub fn set_timeout(callback: &Callback, ms: i32) -> bool {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    scope.set_timeout_with_callback_and_timeout_and_arguments_0(callback.0.as_ref().unchecked_ref(), ms).is_ok()
}

// ----- the isolated-worker pool (www/engine/isolated-pool.js owns the Web Workers) -----

/// Starts `size` idle isolated workers in the background.
pub fn pool_warm(size: u32) {
    host_pool_warm(size);
}

/// Starts a pool; resolves to its JSON description (`{id, spawned}`).
pub async fn pool_start(size: u32, cold: bool) -> Result<String, String> {
    let text = JsFuture::from(host_pool_start(size, cold)).await.map_err(|e| js_message(&e))?;
    text.as_string().ok_or_else(|| "the worker host answered with no text".into())
}

/// A job's answer from an isolated worker: its output (or error) and the clock times on its way.
pub struct JobAnswer {
    pub output: Result<Vec<u8>, String>,
    pub sent: f64,
    pub paused: f64,
    pub start: f64,
    pub end: f64,
    pub received: f64,
}

/// Runs `job` on `input` in worker `worker` of pool `pool`, after a pause of `pause_ms`.
/// The host answers `{output: Uint8Array} | {error: string}` plus the clock times.
pub async fn pool_run(pool: u32, worker: u32, job: &str, input: Vec<u8>, pause_ms: f64) -> Result<JobAnswer, String> {
    let answer = JsFuture::from(host_pool_run(pool, worker, job, input, pause_ms)).await.map_err(|e| js_message(&e))?;
    let field = |key: &str| js_sys::Reflect::get(&answer, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let time = |key: &str| field(key).as_f64().unwrap_or(0.0);
    let output = match field("output").dyn_into::<js_sys::Uint8Array>() {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(_) => Err(field("error").as_string().unwrap_or_else(|| "the worker sent no answer".into())),
    };
    Ok(JobAnswer {
        output,
        sent: time("sent"),
        paused: time("paused"),
        start: time("start"),
        end: time("end"),
        received: time("received"),
    })
}

pub fn pool_stop(pool: u32) {
    host_pool_stop(pool);
}

pub fn pool_kill(pool: u32, worker: u32) {
    host_pool_kill(pool, worker);
}

// ----- fetch -----

/// `url` made absolute against the scope we run in (the engine worker's script), so `sim/...`
/// reaches the service worker; `None` if it is not a URL.
pub fn absolute_url(url: &str) -> Option<String> {
    let base = js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| js_sys::Reflect::get(&l, &"href".into()))
        .ok()
        .and_then(|h| h.as_string())
        .unwrap_or_default();
    web_sys::Url::new_with_base(url, &base).ok().map(|u| u.href())
}

/// The origin of the scope we run in (`location.origin`), and of `href` (`None` if not a URL).
pub fn own_origin() -> String {
    js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| js_sys::Reflect::get(&l, &"origin".into()))
        .ok()
        .and_then(|o| o.as_string())
        .unwrap_or_default()
}

/// `href`'s origin and path, as the browser reads them (`None` if it is not a URL).
pub fn origin_and_path(href: &str) -> Option<(String, String)> {
    web_sys::Url::new(href).ok().map(|u| (u.origin(), u.pathname()))
}

/// The most of a response body [`fetch`] reads (a page is far smaller; more is refused unread).
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// What came back from a `fetch`.
pub struct HttpResponse {
    /// Where the response came from, after redirects.
    pub url: String,
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// Whether the response carries `header` (see [`fetch`]).
    pub has_header: bool,
}

pub enum FetchError {
    /// The browser gave no response (network error, CORS, refused): what it said.
    NoResponse(String),
    /// A response came but could not be read.
    Unreadable(String),
    /// No answer within the request's own timeout ([`fetch_blocking`]).
    TimedOut,
}

/// Aborts the `fetch` it came with.
pub struct Abort(web_sys::AbortController);

impl Abort {
    pub fn abort(&self) {
        self.0.abort();
    }
}

/// Starts a GET of `href` (absolute); the future gives the response, and whether it carries
/// the header `header`. The `Abort` ends the request early. No credentials go with it (no
/// cookies, no HTTP authentication: a learner's URL is fetched as a stranger would), and a body
/// past [`MAX_BODY_BYTES`] is refused as it streams in.
pub fn fetch(
    href: &str,
    header: &str,
) -> Result<(Abort, impl std::future::Future<Output = Result<HttpResponse, FetchError>>), String> {
    let controller = web_sys::AbortController::new().map_err(|e| js_message(&e))?;
    let init = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&init, &"signal".into(), &controller.signal());
    let _ = js_sys::Reflect::set(&init, &"credentials".into(), &"omit".into());
    let pending = JsFuture::from(global_fetch(href, &init));
    let header = header.to_string();
    let response = async move {
        let response = pending.await.map_err(|e| FetchError::NoResponse(js_message(&e)))?;
        let unreadable = |e: JsValue| FetchError::Unreadable(js_message(&e));
        let response: web_sys::Response = response.dyn_into().map_err(unreadable)?;
        let headers = response.headers();
        let content_type = headers.get("content-type").ok().flatten().unwrap_or_default();
        let has_header = headers.get(&header).ok().flatten().is_some();
        let body = read_body(&response, MAX_BODY_BYTES).await?;
        Ok(HttpResponse { url: response.url(), status: response.status(), content_type, body, has_header })
    };
    Ok((Abort(controller), response))
}

/// Reads a body as UTF-8 text (as `Response.text()` would), chunk by chunk, up to `limit` bytes:
/// past that the stream is cancelled and the response refused.
async fn read_body(response: &web_sys::Response, limit: usize) -> Result<String, FetchError> {
    let unreadable = |e: JsValue| FetchError::Unreadable(js_message(&e));
    let Some(stream) = response.body() else { return Ok(String::new()) };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(unreadable)?;
        if js_sys::Reflect::get(&chunk, &"done".into()).map_err(unreadable)?.is_truthy() {
            break;
        }
        let value: js_sys::Uint8Array =
            js_sys::Reflect::get(&chunk, &"value".into()).map_err(unreadable)?.unchecked_into();
        if bytes.len() + value.length() as usize > limit {
            let _ = reader.cancel();
            return Err(FetchError::Unreadable(format!("the response is larger than {} MB: not read", limit >> 20)));
        }
        bytes.extend(value.to_vec());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A blocking GET of `href` (absolute): a synchronous XMLHttpRequest, which a Worker (a wasm
/// thread) may make. It blocks this thread until the answer is in, the way a blocking socket read
/// blocks a Python thread; the service worker answers simulated URLs meanwhile. A request that
/// takes longer than `timeout_ms` fails with `FetchError::TimedOut`.
///
/// `give_up_header`, for the playground's own simulated service only, tells the service worker
/// when this request gives up, so that it can close it then: WebKit's synchronous requests from a
/// worker sometimes never fire their timeout (about one run in three there, a thread then waited
/// the full two minutes of the host that never answers). A request closed that way, at or past
/// its timeout, is reported as timed out.
pub fn fetch_blocking(
    href: &str,
    header: &str,
    timeout_ms: f64,
    give_up_header: Option<&str>,
) -> Result<HttpResponse, FetchError> {
    let unreadable = |e: JsValue| FetchError::Unreadable(js_message(&e));
    let request = web_sys::XmlHttpRequest::new().map_err(unreadable)?;
    request.open_with_async("GET", href, false).map_err(unreadable)?;
    // Allowed on synchronous requests in workers only (a page's main thread may not set it).
    let timeout = timeout_ms.clamp(1.0, u32::MAX as f64) as u32;
    request.set_timeout(timeout);
    if let Some(give_up) = give_up_header {
        request.set_request_header(give_up, &timeout.to_string()).map_err(unreadable)?;
    }
    let sent = js_sys::Date::now();
    if let Err(error) = request.send() {
        let name = js_sys::Reflect::get(&error, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
        let closed_at_timeout = give_up_header.is_some() && js_sys::Date::now() - sent >= f64::from(timeout);
        return Err(if name == "TimeoutError" || closed_at_timeout {
            FetchError::TimedOut
        } else {
            FetchError::NoResponse(js_message(&error))
        });
    }
    let content_type = request.get_response_header("content-type").ok().flatten().unwrap_or_default();
    let has_header = request.get_response_header(header).ok().flatten().is_some();
    let body = request.response_text().map_err(unreadable)?.unwrap_or_default();
    if body.len() > MAX_BODY_BYTES {
        return Err(FetchError::Unreadable(format!(
            "the response is larger than {} MB: not read",
            MAX_BODY_BYTES >> 20
        )));
    }
    let url = request.response_url();
    Ok(HttpResponse { url, status: request.status().map_err(unreadable)?, content_type, body, has_header })
}

// ----- the Origin Private File System, through a synchronous access handle (dedicated workers only) -----

pub struct OpfsFile {
    handle: web_sys::FileSystemSyncAccessHandle,
    at: f64,
}

impl OpfsFile {
    /// Creates (or empties) the file `name` in the origin's private directory.
    pub async fn create(name: &str) -> Result<OpfsFile, String> {
        let file = OpfsFile::open(name).await?;
        file.handle.truncate_with_f64(0.0).map_err(|e| js_message(&e))?;
        Ok(file)
    }

    /// Opens the file `name` in the origin's private directory as it is (made empty if new). The
    /// handle is exclusive: another tab that holds it makes this fail until it is closed.
    pub async fn open(name: &str) -> Result<OpfsFile, String> {
        use web_sys::{FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemSyncAccessHandle};
        let why = |e: JsValue| js_message(&e);
        let scope: web_sys::WorkerGlobalScope = js_sys::global().dyn_into().map_err(|_| "not in a worker")?;
        // WebKitGTK has no `navigator.storage` in a worker: calling into undefined would trap.
        let storage = js_sys::Reflect::get(&scope.navigator(), &"storage".into()).map_err(why)?;
        let has_directory = storage.is_object()
            && js_sys::Reflect::get(&storage, &"getDirectory".into()).is_ok_and(|f| f.is_function());
        if !has_directory {
            return Err("this browser offers no file system to a worker (navigator.storage.getDirectory)".into());
        }
        let storage: web_sys::StorageManager = storage.unchecked_into();
        let root = JsFuture::from(storage.get_directory()).await.map_err(why)?;
        let root: FileSystemDirectoryHandle = root.dyn_into().map_err(why)?;
        let options = web_sys::FileSystemGetFileOptions::new();
        options.set_create(true);
        let file = JsFuture::from(root.get_file_handle_with_options(name, &options)).await.map_err(why)?;
        let file: FileSystemFileHandle = file.dyn_into().map_err(why)?;
        let handle = JsFuture::from(file.create_sync_access_handle()).await.map_err(why)?;
        let handle: FileSystemSyncAccessHandle = handle.dyn_into().map_err(why)?;
        Ok(OpfsFile { handle, at: 0.0 })
    }

    /// The whole file.
    pub fn read_all(&self) -> Result<Vec<u8>, String> {
        let why = |e: JsValue| js_message(&e);
        self.handle.flush().map_err(why)?;
        let size = self.handle.get_size().map_err(why)?;
        let buffer = js_sys::Uint8Array::new_with_length(size as u32);
        let options = web_sys::FileSystemReadWriteOptions::new();
        options.set_at(0.0);
        self.handle.read_with_js_u8_array_and_options(&buffer, &options).map_err(why)?;
        Ok(buffer.to_vec())
    }

    /// Makes `bytes` the whole file, on disk when this returns.
    pub fn replace(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.handle.truncate_with_f64(0.0).map_err(|e| js_message(&e))?;
        self.at = 0.0;
        self.append(bytes)?;
        self.handle.flush().map_err(|e| js_message(&e))
    }

    pub fn close(&self) {
        self.handle.close();
    }

    pub fn append(&mut self, bytes: &[u8]) -> Result<(), String> {
        let options = web_sys::FileSystemReadWriteOptions::new();
        options.set_at(self.at);
        // A copy outside wasm memory: that memory may be shared, which some APIs refuse.
        let written =
            self.handle.write_with_js_u8_array_and_options(&bytes.into(), &options).map_err(|e| js_message(&e))?;
        self.at += written;
        Ok(())
    }

    pub fn read_all_and_close(&mut self) -> Result<Vec<u8>, String> {
        let result = self.read_all();
        self.close();
        result
    }
}

// ----- wasm threads (the threaded build) -----

#[cfg(feature = "threads")]
#[wasm_bindgen(module = "/src/engines/thread_worker.js")]
extern "C" {
    #[wasm_bindgen(js_name = startThread, catch)]
    fn start_thread_js(
        module: JsValue,
        memory: JsValue,
        glue: js_sys::JsString,
        entry: u32,
        name: &str,
    ) -> Result<(), JsValue>;

    #[wasm_bindgen(js_name = reportPanic)]
    fn report_panic_js(message: &str);
}

#[cfg(feature = "threads")]
#[wasm_bindgen]
extern "C" {
    // The URL of wasm-bindgen's JS glue, which a new thread imports (as wasm-bindgen-rayon does).
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static GLUE_URL: js_sys::JsString;
}

/// Starts a Web Worker (`thread_worker.js`) that instantiates this module on this memory and
/// calls the exported `thread_entry(entry)`.
#[cfg(feature = "threads")]
pub fn start_thread(entry: u32, name: &str) -> Result<(), String> {
    let glue = GLUE_URL.with(Clone::clone);
    start_thread_js(wasm_bindgen::module(), wasm_bindgen::memory(), glue, entry, name).map_err(|e| js_message(&e))
}

// ----- panics -----

/// Posts `{type: "panic", message}` to whoever owns this worker (the page or the engine), before
/// the instance traps; a wasm thread's goes straight to the engine (see `reportPanic`).
#[cfg(feature = "threads")]
pub fn post_panic(message: &str) {
    report_panic_js(message);
}

/// Posts `{type: "panic", message}` to whoever owns this worker (the page or the engine), before
/// the instance traps.
#[cfg(not(feature = "threads"))]
pub fn post_panic(message: &str) {
    let global = js_sys::global();
    let note = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&note, &"type".into(), &"panic".into());
    let _ = js_sys::Reflect::set(&note, &"message".into(), &message.into());
    if let Ok(post) = js_sys::Reflect::get(&global, &"postMessage".into()) {
        if let Some(post) = post.dyn_ref::<js_sys::Function>() {
            let _ = post.call1(&global, &note);
        }
    }
}
