//! The crate's top-level modules (`src/<name>.rs` with `src/<name>/`) depend on each other without
//! a cycle: read from the source text, every `crate::<module>` a module names outside its test
//! modules is an edge, and no module may reach itself through them. A cycle means two modules can
//! only be understood together (`run` once needed the threads engine, which needs `run`): move the
//! piece to the module that owns it, or let both use a lower one (see `thread_id`, `mode`).
//!
//! Test modules are left out (a test may use the runner and the catalog from anywhere); they come
//! last in each file, so a file is read up to its first `#[cfg(test)] mod`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module name -> its files (`src/bin/` holds binaries, not modules).
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && stem != "bin" {
            rust_files(&path, modules.entry(stem).or_default());
        } else if path.extension().is_some_and(|e| e == "rs") && stem != "lib" {
            modules.entry(stem).or_default().push(path);
        }
    }
    modules
}

/// The text before the file's first test module.
fn without_tests(text: &str) -> &str {
    let mut at = 0;
    while let Some(found) = text[at..].find("#[cfg(test)]") {
        let start = at + found;
        let next = text[start + "#[cfg(test)]".len()..].trim_start();
        if next.starts_with("mod ") || next.starts_with("pub mod ") || next.starts_with("pub(crate) mod ") {
            return &text[..start];
        }
        at = start + 1;
    }
    text
}

/// The first path segment of each item a `crate::` path names: `crate::run::Run` gives `run`,
/// `crate::{clock::now_ms, host}` gives `clock` and `host`.
fn named_modules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item) = (0, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            names.push(item);
        } else {
            names.push(rest.to_string());
        }
    }
    names
        .iter()
        .map(|n| n.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
        .collect()
}

/// A cycle through `from`, found depth first, as the modules on it.
fn find_cycle(
    edges: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(i) = path.iter().position(|m| m == from) {
        let mut cycle = path[i..].to_vec();
        cycle.push(from.to_string());
        return Some(cycle);
    }
    if done.contains(from) {
        return None;
    }
    path.push(from.to_string());
    for to in edges.get(from).into_iter().flatten() {
        if let Some(cycle) = find_cycle(edges, to, path, done) {
            return Some(cycle);
        }
    }
    path.pop();
    done.insert(from.to_string());
    None
}

#[test]
fn top_level_modules_depend_on_each_other_without_a_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let modules = modules(&src);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Where each edge comes from, for the failure message.
    let mut seen_in: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    for (module, files) in &modules {
        for file in files {
            let text = fs::read_to_string(file).unwrap();
            for to in named_modules(without_tests(&text)) {
                if &to != module && modules.contains_key(&to) {
                    edges.entry(module.clone()).or_default().insert(to.clone());
                    seen_in.entry((module.clone(), to)).or_insert_with(|| file.clone());
                }
            }
        }
    }
    assert!(edges.get("run").is_some_and(|to| to.contains("report")), "the reading of crate:: paths broke");
    let mut done = BTreeSet::new();
    for module in modules.keys() {
        if let Some(cycle) = find_cycle(&edges, module, &mut Vec::new(), &mut done) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|pair| {
                    format!(
                        "{} -> {} (in {})",
                        pair[0],
                        pair[1],
                        seen_in[&(pair[0].clone(), pair[1].clone())].strip_prefix(root).unwrap().display()
                    )
                })
                .collect();
            panic!("a cycle between top-level modules:\n  {}", steps.join("\n  "));
        }
    }
}
