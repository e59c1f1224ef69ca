//! The simulated network service over real HTTP on 127.0.0.1 (see src/sim_server.rs):
//! `sim-server [--port N] [--scale F]`. Prints its base URL, then serves until stopped.

use std::process::ExitCode;

use playground::sim_server;

fn main() -> ExitCode {
    let (mut port, mut scale) = (8001u16, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value.as_deref().map(str::parse::<f64>)) {
            ("--port", Some(Ok(n))) if (0.0..65536.0).contains(&n) && n.fract() == 0.0 => port = n as u16,
            ("--scale", Some(Ok(s))) if s.is_finite() && s >= 0.0 => scale = Some(s),
            _ => {
                eprintln!("usage: sim-server [--port N] [--scale F]   (serves http://127.0.0.1:N/sim/)");
                return ExitCode::from(2);
            }
        }
    }
    let listener = match sim_server::bind(port) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("sim-server: cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    println!("sim-server: http://127.0.0.1:{port}/sim/ (PLAYGROUND_BASE=http://127.0.0.1:{port}/sim)");
    sim_server::serve(listener, scale);
    ExitCode::SUCCESS
}
