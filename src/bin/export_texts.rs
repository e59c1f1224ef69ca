//! Writes every topic's texts (explanation, the Rust code that runs, the Python equivalent) to
//! `<dir>/<topic id>.json`. The wasm leaves them out (see `prose!` in src/topic.rs); the page
//! fetches one file when it shows a topic.

use std::{env, fs, path::PathBuf, process::ExitCode};

use playground::topics;

fn main() -> ExitCode {
    let Some(dir) = env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: export_texts <directory>");
        return ExitCode::FAILURE;
    };
    if let Err(error) = fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {error}", dir.display());
        return ExitCode::FAILURE;
    }
    for topic in topics::all() {
        let texts = serde_json::json!({"explanation": topic.explanation, "code": topic.code, "python": topic.python});
        let path = dir.join(format!("{}.json", topic.id));
        if let Err(error) = fs::write(&path, texts.to_string()) {
            eprintln!("cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
