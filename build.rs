//! Copies the code section of every topic (between `// CODE START` and `// CODE END`) into
//! OUT_DIR, so the binary embeds only the code the page shows, not whole topic files with
//! their metadata and tests (that matters for the size of the wasm download).

use std::{env, fs, path::Path};

fn main() {
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("code");
    fs::create_dir_all(&out).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=src/topics");
    for entry in fs::read_dir("src/topics").expect("src/topics exists") {
        let path = entry.expect("readable directory").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let source = fs::read_to_string(&path).expect("readable topic file");
        fs::write(out.join(path.file_name().expect("a file name")), code_section(&source))
            .expect("OUT_DIR is writable");
    }
}

fn code_section(source: &str) -> &str {
    let start = source.find("// CODE START").map(|i| source[i..].find('\n').map_or(i, |n| i + n + 1)).unwrap_or(0);
    let end = source[start..].find("// CODE END").map_or(source.len(), |i| start + i);
    source[start..end].trim_matches('\n')
}
