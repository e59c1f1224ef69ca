//! Concurrency Playground: topics that run real threads, isolated workers and async tasks,
//! natively (for tests and benchmarks) and in the browser (compiled to WebAssembly).
//!
//! Everything here is plain Rust except the web boundary: `web`, what JavaScript calls, and
//! `host`, every call into JavaScript (both compiled only for wasm).

pub mod base64;
pub mod clock;
pub mod engines;
#[cfg(target_arch = "wasm32")]
pub mod host;
pub use imaging;
pub mod interleaving;
pub mod memory;
pub mod mode;
pub mod params;
pub mod predict;
pub mod report;
pub mod run;
pub mod runner;
#[cfg(not(target_arch = "wasm32"))]
pub mod sim_server;
pub mod thread_id;
pub mod topic;
pub mod topics;
pub mod watchdog;

// Every topic's Python under CPython (its own checks are test code of the topics).
#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "../tests/python/programs.rs"]
mod python_programs;

#[cfg(target_arch = "wasm32")]
pub mod web;

// The TypeScript declarations of what crosses to JavaScript, made from these types and checked.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod typescript;
