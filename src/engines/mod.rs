//! Small engines the topics share: real threads, isolated workers, async tasks, a simulated GIL.
//! Each works natively (tests, benchmarks) and in the browser.

pub mod bench;
pub mod broker;
pub mod durable;
pub mod gil;
pub mod net;
pub mod selftest;
pub mod tasks;
pub mod threads;
pub mod workers;
