//! The simulated network over real HTTP, natively: `cargo run --release --bin sim-server -- --port N`
//! answers `http://127.0.0.1:N/sim/...` with [`crate::engines::net::respond`] (the same endpoints,
//! bodies and delays the page's service worker serves), so the topics' Python programs can run
//! against it offline. It listens on 127.0.0.1 only, and answers only requests whose `Host` is a
//! loopback name (a web page cannot reach it by DNS rebinding), with no CORS header (no page of
//! another origin may read it). Each connection gets a thread and must send its whole request
//! header within [`HEAD_DEADLINE`]; a delay (at most the service's longest, however a request
//! adds them up) is waited in short slices that notice a client that gave up. The never-answering
//! host (`sim/blackhole`) is that longest delay, longer than any client timeout.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engines::net::{respond, MAX_DELAY_S, SIM_HEADER};

/// At most this many connections at once; more are answered 503 at once.
const MAX_CONNECTIONS: usize = 512;
const MAX_HEAD: usize = 16 * 1024;
/// The time a client has to send its whole request header (a slow sender holds a thread).
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);

/// Binds 127.0.0.1:`port` (0: a free port chosen by the system).
pub fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
}

/// Serves connections from `listener` until the process ends. `scale` (if given) multiplies the
/// delays of requests that do not set `?scale=` themselves.
pub fn serve(listener: TcpListener, scale: Option<f64>) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            let _ = write_answer(&stream, 503, "text/plain", b"too many connections");
            continue;
        }
        let open = open.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, scale);
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Starts [`serve`] on a background thread on a free port; returns the base URL of the service
/// (`http://127.0.0.1:PORT/sim`).
pub fn start_in_background(scale: Option<f64>) -> std::io::Result<String> {
    let listener = bind(0)?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || serve(listener, scale));
    Ok(format!("http://127.0.0.1:{port}/sim"))
}

fn handle(mut stream: TcpStream, scale: Option<f64>) -> std::io::Result<()> {
    let deadline = Instant::now() + HEAD_DEADLINE;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return write_answer(&stream, 408, "text/plain", b"the request header took too long");
        }
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        };
        if n == 0 || head.len() + n > MAX_HEAD {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    if !head.lines().skip(1).any(|line| {
        line.split_once(':')
            .is_some_and(|(name, value)| name.eq_ignore_ascii_case("host") && loopback_host(value.trim()))
    }) {
        return write_answer(&stream, 403, "text/plain", b"Host must be 127.0.0.1, localhost or [::1]");
    }
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or("/"));
    let target = match (scale, target.contains("scale=")) {
        (Some(s), false) => format!("{target}{}scale={s}", if target.contains('?') { '&' } else { '?' }),
        _ => target.to_string(),
    };
    let answer = respond(method, &target);
    let wait_ms = if answer.never_answers { MAX_DELAY_S * 1000.0 } else { answer.delay_ms };
    if !wait(&mut stream, Duration::from_secs_f64(wait_ms.max(0.0) / 1000.0))? {
        return Ok(()); // the client gave up (a timeout): nobody to answer
    }
    write_answer(&stream, answer.status, &answer.content_type, answer.body.as_bytes())
}

/// Whether a `Host` header names this machine's loopback (with or without a port).
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(name, _)| name).unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(name.to_ascii_lowercase().as_str(), "127.0.0.1" | "localhost" | "::1")
}

/// Waits `total`, returning false as soon as the client closes the connection.
fn wait(stream: &mut TcpStream, total: Duration) -> std::io::Result<bool> {
    let end = Instant::now() + total;
    let mut buf = [0u8; 512];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(true);
        }
        stream.set_read_timeout(Some(left.min(Duration::from_millis(50)).max(Duration::from_millis(1))))?;
        match stream.read(&mut buf) {
            Ok(0) => return Ok(false),
            Ok(_) => {} // a pipelined request or a body: ignored
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return Ok(false),
        }
    }
}

fn write_answer(mut stream: &TcpStream, status: u16, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{SIM_HEADER}: 1\r\n\
Connection: close\r\n\r\n",
        if status < 400 { "OK" } else { "Error" },
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(base: &str, path: &str) -> (String, Duration) {
        let addr = base.trim_start_matches("http://").split('/').next().unwrap().to_string();
        let start = Instant::now();
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET /sim/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        (out, start.elapsed())
    }

    #[test]
    fn serves_the_simulated_service_with_its_delays() {
        let base = start_in_background(None).unwrap();
        assert!(base.starts_with("http://127.0.0.1:"));
        let (json, _) = get(&base, "json");
        assert!(json.starts_with("HTTP/1.1 200 OK\r\n") && json.contains("Sample Slide Show"), "{json}");
        let (missing, _) = get(&base, "status/404");
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        let (late, took) = get(&base, "delay/1?scale=0.1");
        assert!(late.contains("answered after 1 s") && took >= Duration::from_millis(95), "{took:?}");
    }

    #[test]
    fn the_black_hole_outlasts_a_client_timeout() {
        let base = start_in_background(Some(0.01)).unwrap();
        let addr = base.trim_start_matches("http://").split('/').next().unwrap().to_string();
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /sim/blackhole HTTP/1.1\r\nHost: localhost:1\r\n\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut buf = [0u8; 16];
        assert!(s.read(&mut buf).is_err(), "the black hole answered");
    }

    fn ask(base: &str, request: &[u8]) -> String {
        let addr = base.trim_start_matches("http://").split('/').next().unwrap().to_string();
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(request).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn only_loopback_hosts_are_answered_and_no_cors_header_is_sent() {
        let base = start_in_background(None).unwrap();
        for host in ["127.0.0.1:8001", "localhost", "LOCALHOST:80", "[::1]:8001"] {
            let out = ask(&base, format!("GET /sim/json HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
            assert!(out.starts_with("HTTP/1.1 200"), "{host}: {out}");
            assert!(!out.to_ascii_lowercase().contains("access-control"), "{out}");
        }
        for host in ["evil.example", "127.0.0.1.evil.example", "localhost.evil:80", "[::2]"] {
            let out = ask(&base, format!("GET /sim/json HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
            assert!(out.starts_with("HTTP/1.1 403"), "{host}: {out}");
        }
        assert!(ask(&base, b"GET /sim/json HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 403"), "no Host");
    }

    #[test]
    fn a_request_header_sent_too_slowly_is_cut_off() {
        let base = start_in_background(None).unwrap();
        let addr = base.trim_start_matches("http://").split('/').next().unwrap().to_string();
        let mut s = TcpStream::connect(addr).unwrap();
        let start = Instant::now();
        // One byte every 400 ms never finishes the header: the server answers 408 at its deadline.
        let mut out = String::new();
        s.set_read_timeout(Some(Duration::from_millis(400))).unwrap();
        for byte in b"GET /sim/json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa".iter().cycle() {
            if s.write_all(&[*byte]).is_err() || s.read_to_string(&mut out).is_ok_and(|n| n > 0) || !out.is_empty() {
                break;
            }
            assert!(start.elapsed() < HEAD_DEADLINE * 2, "no deadline");
        }
        assert!(out.starts_with("HTTP/1.1 408"), "{out}");
        assert!(start.elapsed() >= HEAD_DEADLINE - Duration::from_millis(500), "{:?}", start.elapsed());
    }
}
