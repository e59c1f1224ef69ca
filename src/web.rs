//! What JavaScript calls (the other direction, Rust calling JavaScript, is `host.rs`).
//! Values cross as JSON strings, so the page and the workers share one simple protocol.

use wasm_bindgen::prelude::*;

use crate::run::Capabilities;
use crate::{runner, topics};

/// Sends Rust panics to whoever owns this worker (the page, the engine or the spawning thread)
/// as a `{type: "panic", message}` message before the wasm instance traps. Only the panic's own
/// message: the wasm builds have no source locations (`-Z location-detail=none` in build.sh).
#[wasm_bindgen]
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        crate::host::post_panic(info.payload_as_str().unwrap_or("a panic without a message"))
    }));
}

/// Starts `n` idle threads for later spawns to reuse (see `threads::warm`).
#[wasm_bindgen]
pub fn warm_threads(n: u32) -> Result<(), String> {
    crate::engines::threads::warm(n as usize).map_err(|e| e.to_string())
}

/// Threads `warm_threads` started that are still loading: a run waits for them before its clock
/// starts, so that their start-up does not take the cores from its first mode.
#[wasm_bindgen]
pub fn threads_starting() -> u32 {
    crate::engines::threads::starting() as u32
}

/// True for the build with shared memory and wasm threads.
#[wasm_bindgen]
pub fn threaded_build() -> bool {
    cfg!(feature = "threads")
}

/// Validates parameters: `{ok, params, errors: [{field, message}]}` as JSON.
#[wasm_bindgen]
pub fn check_params(topic: &str, params_json: &str, lenient: bool) -> String {
    // Field by field: a value that cannot be read is an error for its field, never a default.
    let given = crate::params::Given::from_json(params_json);
    // Serialized as it is, not through a serde_json::Value: Value's Display would bring its
    // pretty printer into every part (issue 25).
    match topics::find(topic) {
        Some(topic) => serde_json::to_string(&runner::check_given(topic, &given, lenient)).unwrap_or_default(),
        None => r#"{"ok":false,"params":{},"errors":[{"field":"topic","message":"unknown topic"}]}"#.to_string(),
    }
}

/// Runs a topic; resolves to the outcome (a report, or why nothing ran) as JSON.
#[wasm_bindgen]
pub async fn run_topic(topic: String, params_json: String, threads: bool, cores: u32) -> String {
    let given = crate::params::Given::from_json(&params_json);
    let caps = Capabilities { threads: threads && cfg!(feature = "threads"), cores: cores as usize };
    let outcome = runner::run_topic_given(&topic, &given, caps).await;
    serde_json::to_string(&outcome)
        .unwrap_or_else(|e| format!("{{\"outcome\":\"rejected\",\"message\":\"{e}\",\"errors\":[]}}"))
}

/// "You schedule": the view of a topic's scheduled lesson after the choices in `request_json`
/// (`{variant, choices, size?}`), as JSON (`{error}` when it cannot be).
#[cfg(feature = "races")]
#[wasm_bindgen]
pub fn schedule(topic: &str, request_json: &str) -> String {
    crate::topics::schedule_answer(topic, request_json, false)
}

/// "Find the bug": every interleaving of the lesson's small instance explored; the counts, the
/// shortest failing schedule and its view, as JSON.
#[cfg(feature = "races")]
#[wasm_bindgen]
pub fn search_schedules(topic: &str, request_json: &str) -> String {
    crate::topics::schedule_answer(topic, request_json, true)
}

/// The threads self-test of the diagnostics page: `[{name, ok, detail}]` as JSON.
#[cfg(feature = "diagnostics")]
#[wasm_bindgen]
pub async fn self_test(threads: u32) -> String {
    serde_json::to_string(&crate::engines::selftest::run(threads as usize).await).unwrap_or_default()
}

/// One benchmark measurement (see `engines::bench::measure`): `{"Ok": number}` or `{"Err": text}`.
#[cfg(feature = "diagnostics")]
#[wasm_bindgen]
pub async fn bench(name: String, arg: f64) -> String {
    let outcome = crate::engines::bench::measure(&name, arg).await.map_err(|e| e.to_string());
    serde_json::to_string(&outcome).unwrap_or_default()
}

/// Presses Stop on the current run.
#[wasm_bindgen]
pub fn stop_run() {
    runner::cancel_current();
}

/// What the current run recorded since the last call, as JSON (empty when nothing runs).
#[wasm_bindgen]
pub fn drain_run() -> String {
    runner::drain_current().map(|d| serde_json::to_string(&d).unwrap_or_default()).unwrap_or_default()
}

/// A number that changes whenever the current run records something (0 when none runs): the
/// engine's watchdog compares it between looks.
#[wasm_bindgen]
pub fn run_activity() -> f64 {
    // Kept below 2^53 so that it survives the trip through a JavaScript number.
    runner::activity_current().map_or(0.0, |a| (a >> 11) as f64)
}

/// Ends the current run if, quiet for `quiet_ms`, it will not end by itself (see `watchdog`);
/// returns the message that says why, or nothing.
#[wasm_bindgen]
pub fn watchdog(quiet_ms: f64) -> Option<String> {
    runner::watchdog_current(quiet_ms)
}

/// Runs one job in an isolated worker: encoded input in, encoded `Result` out (see `workers::Job`).
#[wasm_bindgen]
pub fn run_job(job: &str, input: &[u8]) -> Vec<u8> {
    crate::engines::workers::run_named_job(topics::jobs(), job, input)
}

/// Runs every isolated-worker job once on a small input, so the browser has compiled their hot
/// code (the shared kernels included) before the first timed run.
#[wasm_bindgen]
pub fn warm_up() {
    topics::warm_up_jobs();
}

/// What a run of `topic` with these parameters can use at once: `{threads, workers}` as JSON
/// (nothing for an unknown topic or unreadable parameters: it is only a hint).
#[wasm_bindgen]
pub fn needs(topic: &str, params_json: &str) -> String {
    let raw: serde_json::Value = serde_json::from_str(params_json).unwrap_or_default();
    let needs = topics::find(topic).map(|t| (t.needs)(&crate::params::validate(&t.params, &raw, true).params));
    serde_json::to_string(&needs.unwrap_or_default()).unwrap_or_default()
}

/// Starts rayon's global pool (wasm-bindgen-rayon): `initThreadPool(n)` in JavaScript.
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Entry point of a new wasm thread (called by thread_worker.js).
#[cfg(feature = "threads")]
#[wasm_bindgen]
pub fn thread_entry(entry: u32) {
    // SAFETY: `entry` was made by `threads::spawn` for exactly this thread.
    unsafe { crate::engines::threads::run_entry(entry) }
}

/// The simulated network service (engines/net.rs), for the service worker (www/sw.js). It
/// instantiates the plain build without its wasm-bindgen glue (a static import it would fetch
/// before a first load of a network topic is ready), so this is a C ABI on the module's memory:
/// the service worker writes "METHOD path?query" (UTF-8) at `sim_buffer(len)`, and
/// `sim_respond(len)` leaves there in its place `{status, content_type, body, delay_ms,
/// never_answers}` as JSON and returns its length. Only the plain network part has it: the one
/// the service worker loads.
#[cfg(all(not(feature = "threads"), feature = "network"))]
mod sim {
    use std::cell::RefCell;

    thread_local! {
        /// A request, then its answer.
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// Where the request of `len` bytes goes (the buffer grows to hold it), and the answer is.
    #[no_mangle]
    pub extern "C" fn sim_buffer(len: usize) -> *mut u8 {
        BUFFER.with_borrow_mut(|buffer| {
            if buffer.len() < len {
                buffer.resize(len, 0);
            }
            buffer.as_mut_ptr()
        })
    }

    /// Answers the request of `len` bytes in the buffer; the answer's length.
    #[no_mangle]
    pub extern "C" fn sim_respond(len: usize) -> usize {
        BUFFER.with_borrow_mut(|buffer| {
            let answer = {
                let request = String::from_utf8_lossy(&buffer[..len.min(buffer.len())]);
                let (method, path) = request.split_once(' ').unwrap_or(("GET", &request));
                serde_json::to_string(&crate::engines::net::respond(method, path)).unwrap_or_default()
            };
            *buffer = answer.into_bytes();
            buffer.len()
        })
    }
}

/// Bytes asked for by the last allocation that failed (0 if none did). An allocation that fails
/// aborts the instance (a trap, and no panic hook runs); the engine reads this afterwards to say
/// "out of memory" rather than just "crashed".
#[wasm_bindgen]
pub fn failed_allocation_bytes() -> f64 {
    crate::memory::failed_allocation() as f64
}

/// Fault injection for the tests (see engine-worker.js `fault`): fills the memory but for about
/// `leave_bytes`, so the run's next large allocation fails; returns the bytes taken.
#[wasm_bindgen]
pub fn fault_fill_memory(leave_bytes: u32) -> f64 {
    crate::memory::fill(leave_bytes as usize) as f64
}

/// Fault injection for the tests (see engine-worker.js `fault`): a wasm thread that panics,
/// started by another thread, which by then is back in Rust (idle in the pool): the panic must
/// reach the engine all the same. Only code inside the engine worker can reach this.
#[wasm_bindgen]
pub fn fault_thread_panic() -> Result<(), String> {
    use crate::engines::threads::spawn_new;
    let faulty = || -> u8 { panic!("injected fault: this thread panicked") };
    // New threads, not idle ones of the pool: the spawner must be one the engine did not start.
    let spawner = move || drop(spawn_new("faulty thread", faulty));
    spawn_new("spawner thread", spawner).map(drop).map_err(|e| e.to_string())
}
