#!/usr/bin/env bash
# The Concurrency Playground's one build script.
#
#   ./build.sh serve [--port N] [--no-isolation]   set up, build and serve on http://127.0.0.1:8000
#   ./build.sh test                                set up (browser included) and run every test
#   ./build.sh build                               build both wasm flavours (in parts) and the vendor files
#   ./build.sh dist                                a static site in dist/ (with a _headers file)
#   ./build.sh bench                               benchmarks: native vs wasm, threads, workers
#   ./build.sh size [PART]                         what the bytes of each wasm build are (twiggy)
#   ./build.sh setup                               only install what is missing
set -euo pipefail
cd "$(dirname "$0")"

WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
WASM=wasm32-unknown-unknown
# Shared memory needs all of these: without --shared-memory current rustc emits a NON-shared memory
# with only +atomics,+bulk-memory, and wasm-bindgen then silently emits single-threaded glue (the
# browser fails with "not a shared typed array"). tests/browser/wasm.test.mjs checks the import.
# The toolchain is pinned in rust-toolchain.toml; std is rebuilt with these flags (-Z build-std,
# RUSTC_BOOTSTRAP=1 on that stable release), and any change of them rebuilds std (~35 s).
THREAD_RUSTFLAGS="-C target-feature=+atomics,+bulk-memory -C link-arg=--shared-memory \
-C link-arg=--max-memory=1073741824 -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls \
-C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"
# Both flavours, for size (measured for issue 25, gzip -9 of the threaded and plain foundations
# parts: 192.9 and 187.5 KB before): no file names, lines and columns in the wasm (a panic still
# says its message, which is what the page shows: src/web.rs), -4.8 KB threaded; and std rebuilt
# at the wasm profile's opt-level "z" with its optimize_for_size feature (smaller sorts and
# formatting; the hot loops are in the kernels crate), -4.0 KB more threaded and, with the plain
# build's std now rebuilt too, -15.3 KB plain in all.
SIZE_RUSTFLAGS="-Z location-detail=none"
BUILD_STD="-Z build-std=panic_abort,std -Z build-std-features=optimize_for_size,panic-unwind"
WASM_OPT_FEATURES="--enable-threads --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
--enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

setup() {
  say "setup: Rust targets and components"
  rustup target add "$WASM" >/dev/null
  rustup component add rust-src clippy rustfmt >/dev/null
  if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | cut -d' ' -f2)" != "$WASM_BINDGEN_VERSION" ]; then
    say "setup: wasm-bindgen-cli $WASM_BINDGEN_VERSION (must match the crate exactly)"
    # Not --locked: wasm-bindgen-cli 0.2.130's own lock file pins webpki-roots 1.0.11 (through
    # ureq 3.5.0), which the package index reachable here does not have (it stops at 1.0.10), so
    # `cargo install --locked` fails to select a version (measured again for issue 24).
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "setup: npm packages"
    npm ci --no-audit --no-fund
  fi
}

# npm's advisories for the locked packages, printed; they never fail the build (some have no fix
# to take, and the registry may be out of reach).
npm_audit() {
  say "npm audit (advisories are reported, not fatal)"
  npm audit --package-lock-only || echo "npm audit: see the advisories above (or the registry was out of reach)"
}

setup_browser() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/firefox-esr ] \
    || [ ! -x /usr/bin/WebKitWebDriver ] || [ ! -x /usr/bin/Xvfb ]; then
    say "setup: Debian chromium, chromium-driver, firefox-esr, and WebKitGTK's MiniBrowser with its WebDriver and Xvfb (a downloaded browser build does not run here)"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver firefox-esr webkit2gtk-driver xvfb >/dev/null
  fi
}

# A Python virtual environment for the topics' Python programs (src/topics/*/program.py, run by
# tests/python/programs.rs) with the pinned packages of tests/python/requirements.txt (ruff too);
# every package a "# pip install ..." comment names (read from the exported texts) must be pinned there.
setup_python() {
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    say "setup: Debian python3-venv"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local requirements=tests/python/requirements.txt package missing=""
  for package in $(grep -ho 'pip install [A-Za-z0-9 ._-]*' www/pkg/texts/*.json | sed 's/pip install //' | tr ' ' '\n' | sed '/^$/d' | sort -u); do
    grep -qi "^${package}==" "$requirements" || missing="$missing $package"
  done
  if [ -n "$missing" ]; then
    echo "setup: the topics' Python asks for packages $requirements does not pin:$missing" >&2
    return 1
  fi
  if ! cmp -s "$requirements" .venv/.requirements; then
    say "setup: Python packages the programs import (pinned in $requirements)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" .venv/.requirements
  fi
}

# Both engines, threaded and plain, are built in parts that follow the chapters (the features in
# Cargo.toml): a page downloads only its topic's part, and its isolated workers the same part.
# The diagnostics part has no topics: the self-test and the benchmark's measurements.
PARTS="foundations threading races processes images async network scraper patterns models diagnostics"

build() {
  local inputs
  inputs=$(build_inputs)
  # What a build from before the plain parts left in www/pkg/plain/ (one module with every part).
  [ ! -d www/pkg/plain ] || find www/pkg/plain -maxdepth 1 -type f -delete
  # Parts no longer built (synchronization became threading and races for issue 25).
  local dir
  for dir in www/pkg/threads/*/ www/pkg/plain/*/; do
    [ -d "$dir" ] || continue
    [[ " $PARTS " == *" $(basename "$dir") "* ]] || rm -rf "$dir"
  done
  # The two flavours build side by side: a part's last compile (LTO, one codegen unit) keeps one
  # core busy, so one flavour alone left the other core to wasm-opt and mostly idle.
  local threads plain
  build_flavor threads "$inputs" &
  threads=$!
  build_flavor plain "$inputs" &
  plain=$!
  wait "$threads"
  wait "$plain"
  say "build: the catalog and topic texts (the page shows them before the wasm has loaded)"
  cargo run --quiet --release --bin export_static -- www/pkg
  node tools/split-static.mjs www/pkg
  vendor
  say "build: the service worker's list of the app's files (what it may cache)"
  node tools/app-files.mjs www
}

# Every part of flavour $1 whose build is not from inputs $2.
build_flavor() {
  local flavor=$1 inputs=$2 part optimizing=()
  for part in $PARTS; do
    if built "www/pkg/$flavor/$part" "$inputs"; then continue; fi
    if [ "$flavor" = threads ]; then
      say "build: threaded wasm, part $part (shared memory, std rebuilt with atomics)"
    else
      say "build: plain wasm, part $part (isolated workers, pages without cross-origin isolation)"
    fi
    "${flavor}_part" "$part"
    cp "target/$flavor/$WASM/wasm/playground.wasm" "target/$flavor/$part.wasm"
    (bindgen "target/$flavor/$part.wasm" "www/pkg/$flavor/$part" && echo "$inputs" > "www/pkg/$flavor/$part/.inputs") &
    optimizing+=($!)
  done
  local pid
  for pid in "${optimizing[@]}"; do wait "$pid"; done
}

# What the wasm builds are made from: every part's cdylib has the same file name, so cargo
# rebuilds each part whenever another was built last; a build whose inputs are unchanged is skipped.
build_inputs() {
  { find src kernels/src imaging/src -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock kernels/Cargo.toml imaging/Cargo.toml build.rs rust-toolchain.toml
    echo "$THREAD_RUSTFLAGS $SIZE_RUSTFLAGS $BUILD_STD $WASM_OPT_FEATURES $WASM_BINDGEN_VERSION"
  } | sha256sum | cut -d' ' -f1
}

# Whether the build in $1 was made from inputs $2.
built() { [ -f "$1/playground_bg.wasm" ] && [ "$(cat "$1/.inputs" 2>/dev/null)" = "$2" ]; }

threads_part() {
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="$THREAD_RUSTFLAGS $SIZE_RUSTFLAGS" cargo build --profile wasm --lib --target "$WASM" \
    --no-default-features --features "threads $1" $BUILD_STD --target-dir target/threads
}

# No shared memory: a target dir of its own (the default one is left to clippy and tests) where
# the parts share their compiled dependencies and their std (rebuilt too, only for its size).
plain_part() {
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="$SIZE_RUSTFLAGS" cargo build --profile wasm --lib --target "$WASM" \
    --no-default-features --features "$1" $BUILD_STD --target-dir target/plain
}

# wasm-bindgen, then npm binaryen's wasm-opt (Debian's binaryen 108 corrupts this output).
bindgen() {
  rm -rf "$2"
  wasm-bindgen --target web --no-typescript --out-name playground --out-dir "$2" "$1"
  node_modules/.bin/wasm-opt -O3 $WASM_OPT_FEATURES "$2/playground_bg.wasm" -o "$2/playground_bg.wasm"
}

# Browser copies of the npm front-end libraries (no bundler: plain ES modules).
vendor() {
  rm -rf www/vendor && mkdir -p www/vendor/highlight
  cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css www/vendor/
  cp node_modules/uplot/dist/uPlot.d.ts www/vendor/uPlot.esm.d.ts
  local hl=node_modules/@highlightjs/cdn-assets
  cp $hl/es/core.min.js $hl/es/languages/rust.min.js $hl/es/languages/python.min.js www/vendor/highlight/
  cp tools/vendor-types/highlight/*.d.ts www/vendor/highlight/
}

serve() {
  setup
  build
  exec node tools/serve.mjs "$@"
}

run_tests() {
  setup
  setup_browser
  build
  say "test: formatting and lints"
  cargo fmt --check
  # The JavaScript's formatting and lints (biome.json): the rustfmt and clippy of the front end.
  node_modules/.bin/biome ci --error-on-warnings
  cargo clippy --all-targets -- -D warnings
  cargo clippy --lib --target "$WASM" -- -D warnings
  say "test: native Rust tests"
  cargo test
  setup_python
  say "test: ruff on every topic's Python (ruff.toml)"
  .venv/bin/ruff check --no-cache src/topics/*/program.py
  say "test: every topic's Python under CPython, against sim-server on 127.0.0.1"
  PLAYGROUND_PYTHON="$PWD/.venv/bin/python" cargo test --lib python_programs -- --ignored --nocapture
  say "test: front-end type check"
  node_modules/.bin/tsc -p jsconfig.json
  # Real JSON from native runs (written by `cargo test`, src/typescript.rs) against the generated types.
  node_modules/.bin/tsc --noEmit --strict --skipLibCheck --target es2022 --module es2022 --moduleResolution bundler \
    target/typescript/samples.ts
  say "test: wasm and end-to-end tests in headless Chromium; the catalog in headless Firefox and in WebKit; every topic embedded in each"
  node --test --test-concurrency=1 tests/browser/
}

dist() {
  setup
  build
  node tools/dist.mjs dist
  say "dist: $(du -sh dist | cut -f1) in dist/ (serve it with any static host; see dist/_headers)"
}

bench() {
  setup
  setup_browser
  build
  say "bench: native"
  for example in examples/bench_*.rs; do
    [ -e "$example" ] || continue
    cargo run -q --release --example "$(basename "$example" .rs)"
  done
  setup_python
  npm_audit
  say "bench: headless Chromium, and CPython beside it"
  node tests/bench/browser-bench.mjs
}

# Each build's size (gzip -9): every part of the threaded and the plain build; then the largest
# items of the plain build's part PART (default: threading, the largest): twiggy on a copy that keeps
# function names.
size() {
  local part=${1:-threading}
  setup
  build
  command -v twiggy >/dev/null || cargo install twiggy --locked
  local wasm
  for wasm in www/pkg/threads/*/playground_bg.wasm www/pkg/plain/*/playground_bg.wasm; do
    say "size: ${wasm#www/pkg/}: $(wc -c < "$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzip"
  done
  local dir
  dir=$(mktemp -d)
  wasm-bindgen --target web --no-typescript --out-name playground --out-dir "$dir" "target/plain/$part.wasm"
  node_modules/.bin/wasm-opt -O3 -g $WASM_OPT_FEATURES "$dir/playground_bg.wasm" -o "$dir/named.wasm"
  say "size: the largest items of plain/$part"
  twiggy top -n 25 "$dir/named.wasm"
  rm -rf "$dir"
}

command=${1:-serve}
[ $# -gt 0 ] && shift
case "$command" in
  setup) setup; setup_browser; npm_audit ;;
  build) setup; build ;;
  serve) serve "$@" ;;
  test) run_tests ;;
  dist) dist ;;
  bench) bench ;;
  size) size "$@" ;;
  # A SCORM 1.2 package of one exercise (tools/package.mjs): TOPIC [key=value ...] [--prompt ID] ...
  package) [ -f www/pkg/catalog.json ] || cargo run --quiet --release --bin export_static -- www/pkg; node tools/package.mjs "$@" ;;
  *) echo "usage: $0 [serve|test|build|dist|bench|size|setup|package]" >&2; exit 2 ;;
esac
