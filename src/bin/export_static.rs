//! Writes what the page shows before the wasm has loaded: `<dir>/catalog.json` (chapters, and
//! every topic's title, summary, parameters and modes: the nav and the forms) and each topic's
//! texts (explanation, the Rust code that runs, the Python equivalent) to
//! `<dir>/texts/<topic id>.json`. The wasm leaves the texts out (see `prose!` in src/topic.rs);
//! the page fetches the catalog at once and one texts file when it shows a topic.

use std::{env, fs, path::Path, path::PathBuf, process::ExitCode};

use playground::topics;

fn main() -> ExitCode {
    let Some(dir) = env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: export_static <directory>");
        return ExitCode::FAILURE;
    };
    let mut files = vec![(dir.join("catalog.json"), topics::catalog_json())];
    for topic in topics::all() {
        let texts = serde_json::to_string(&topic.texts()).expect("texts serialize");
        files.push((dir.join("texts").join(format!("{}.json", topic.id)), texts));
    }
    for (path, text) in files {
        if let Err(error) = write(&path, &text) {
            eprintln!("cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    fs::write(path, text)
}
