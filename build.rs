//! Copies the code section of every topic (between `// CODE START` and `// CODE END` in
//! `src/topics/<name>/mod.rs`) into OUT_DIR as `code/<name>/mod.rs`, so the binary embeds only
//! the code the page shows, not whole topic files with their metadata and tests (that matters for
//! the size of the wasm download).

use std::{env, fs, path::Path};

fn main() {
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("code");
    println!("cargo:rerun-if-changed=src/topics");
    for entry in fs::read_dir("src/topics").expect("src/topics exists") {
        let folder = entry.expect("readable directory").path();
        let path = folder.join("mod.rs");
        if !path.is_file() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let source = fs::read_to_string(&path).expect("readable topic file");
        let copy = out.join(folder.file_name().expect("a folder name"));
        fs::create_dir_all(&copy).expect("OUT_DIR is writable");
        fs::write(copy.join("mod.rs"), code_section(&source)).expect("OUT_DIR is writable");
    }
}

fn code_section(source: &str) -> &str {
    let start = source.find("// CODE START").map(|i| source[i..].find('\n').map_or(i, |n| i + n + 1)).unwrap_or(0);
    let end = source[start..].find("// CODE END").map_or(source.len(), |i| start + i);
    source[start..end].trim_matches('\n')
}
