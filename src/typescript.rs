//! The TypeScript declarations of every type that crosses from Rust to JavaScript as JSON, made
//! by ts-rs from the types themselves (serde's renames, tags, flattening and skips included) into
//! one file, `www/js/generated/rust.d.ts`, which `www/js/types.js` re-exports for the type check
//! (`tsc -p jsconfig.json`). The test below fails when the committed file is not what the types
//! make now; `TYPESCRIPT_EXPORT=1 cargo test --lib typescript` writes it anew.
//!
//! ts-rs is a dev-dependency and every `TS` derive is `cfg_attr(test, ...)`: no build for the
//! page compiles any of it. ts-rs reads serde's attributes; what it cannot read it says while
//! compiling ("failed to parse serde attribute": `serialize_with` on `ImageOut::rgba`, whose type
//! `ts(type)` gives) and ignores, and it does not read `skip_serializing_if`, so such a field
//! also needs `ts(optional)`. The second test catches what slips through: it writes real JSON
//! typed by these declarations, which `./build.sh test` type-checks.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use ts_rs::{Config, TypeVisitor, TS};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/www/js/generated/rust.d.ts");

/// What JavaScript receives, from the top: each one's dependencies come along.
fn declarations() -> String {
    // serde_json writes every integer as a JSON number, never a string or a BigInt.
    let config = Config::new().with_large_int("number");
    let mut collector = Collector { config: &config, seen: HashSet::new(), declarations: BTreeMap::new() };
    collector.visit::<crate::topics::Catalog<'static>>();
    collector.visit::<crate::runner::Checked>();
    collector.visit::<crate::runner::Outcome>();
    collector.visit::<crate::run::Drained>();
    // Named only in `Step`'s written-out type.
    collector.visit::<crate::interleaving::Op>();
    collector.visit::<crate::topic::Needs>();
    collector.visit::<crate::params::FileValue>();
    collector.visit::<crate::topic::Texts>();
    collector.visit::<crate::engines::selftest::Finding>();
    collector.visit::<crate::interleaving::schedule::Request>();
    collector.visit::<crate::interleaving::schedule::View>();
    collector.visit::<crate::interleaving::schedule::Search>();
    let mut text = String::from(
        "// Generated from the Rust types by `TYPESCRIPT_EXPORT=1 cargo test --lib typescript` (src/typescript.rs):\n\
         // do not edit. www/js/types.js re-exports these for the type check; no page loads this file.\n",
    );
    for declaration in collector.declarations.values() {
        text.push('\n');
        text.push_str(declaration);
        text.push('\n');
    }
    text
}

/// Every declared type reachable from the roots, once each, by TypeScript name.
struct Collector<'c> {
    config: &'c Config,
    seen: HashSet<TypeId>,
    declarations: BTreeMap<String, String>,
}

impl TypeVisitor for Collector<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Primitives and containers have no declaration of their own (and no output path).
        if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let name = T::ident(self.config);
        let declaration = format!("{}export {}", T::docs().unwrap_or_default(), T::decl(self.config));
        // serde_json::Value and ts-rs's stand-in for it are two types with one declaration.
        if let Some(other) = self.declarations.insert(name.clone(), declaration.clone()).filter(|o| *o != declaration) {
            panic!(
                "two Rust types are both called {name} in TypeScript (one is {other:?}): rename one with ts(rename)"
            );
        }
        T::visit_dependencies(self);
    }
}

#[test]
fn generated_typescript_is_current() {
    let made = declarations();
    if std::env::var_os("TYPESCRIPT_EXPORT").is_some() {
        std::fs::write(PATH, &made).expect("write www/js/generated/rust.d.ts");
        return;
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        committed == made,
        "www/js/generated/rust.d.ts is not what the Rust types make now: run \
         `TYPESCRIPT_EXPORT=1 cargo test --lib typescript`, check `tsc -p jsconfig.json` and commit it"
    );
}

/// Where [`real_json_is_written_for_the_type_check`] writes: `./build.sh test` type-checks it.
const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/typescript/samples.ts");

/// Real JSON from native runs, each assigned to the generated type that says what it is, for
/// `tsc` to check that they agree (a missing or extra field, a `null` where a field is left out, a
/// wrong tag): the declarations are made from the types, this is made from what the types write.
#[test]
fn real_json_is_written_for_the_type_check() {
    use crate::runner::testing::run_native;
    use crate::runner::Outcome;
    use serde_json::json;

    let finished = |topic: &str, params| {
        let report = Box::new(run_native(topic, params, true));
        serde_json::to_string(&Outcome::Finished { report }).unwrap()
    };
    let scheduled = crate::topics::schedule_answer;
    let files = |shown: bool| {
        let schema = [crate::params::Param::files("files", "Your images", "image/png")];
        let raw = json!({"files": [{"name": "a.png", "data": "iVBORw0K"}]});
        let mut values = crate::params::validate(&schema, &raw, false).params.to_json();
        if shown {
            values = crate::params::without_file_data(&schema, values);
        }
        values["files"].to_string()
    };
    let race = crate::topics::find("race").unwrap();
    let caps = crate::run::Capabilities { threads: true, cores: 2 };
    let unreadable = json!({"threads": "many"});
    let rejected = crate::runner::run_topic("race", &unreadable, caps);
    let samples = [
        ("Catalog", crate::topics::catalog_json()),
        ("Texts", serde_json::to_string(&race.texts()).unwrap()),
        // Steppers with lost updates, and answered prompts.
        ("Outcome", finished("race", json!({"balance": 200, "threads": 4, "withdrawals": 10, "pause_ms": 0.1}))),
        // A wait graph, locks; a run the watchdog ends.
        ("Outcome", finished("deadlock", json!({"hold_ms": 20, "work_ms": 5, "watchdog_ms": 200, "time_scale": 1.0}))),
        // Images, tables, files.
        ("Outcome", finished("image-resize", json!({"size": "tiny", "max_w": 200, "max_h": 150, "preview": 60}))),
        ("Outcome", finished("cpu-map", json!({"tasks": 4, "numbers": 20_000, "workers": 1, "sweep": 2}))),
        ("Outcome", serde_json::to_string(&futures::executor::block_on(rejected)).unwrap()),
        ("Checked", serde_json::to_string(&crate::runner::check(race, &json!({"threads": -1}), true)).unwrap()),
        // Picked files as validated (with their bytes), and as a report shows them (without).
        ("FileValue[]", files(false)),
        ("FileValue[]", files(true)),
        ("ScheduleView", scheduled("race", r#"{"variant":null,"choices":[0,1,0]}"#, false)),
        ("ScheduleView", scheduled("deadlock", r#"{"variant":null,"choices":[0,1]}"#, false)),
        ("ScheduleSearch & { ms: number }", scheduled("deadlock", r#"{"variant":null}"#, true)),
    ];
    let mut text = String::from(
        "// Written by src/typescript.rs from native runs: real JSON, typed by the generated declarations.\n\
         import type * as Rust from '../../www/js/generated/rust.js';\n",
    );
    for (i, (ty, json)) in samples.iter().enumerate() {
        text.push_str(&format!("\nexport const sample{i}: Rust.{ty} = {json};\n"));
    }
    std::fs::create_dir_all(std::path::Path::new(SAMPLES).parent().unwrap()).unwrap();
    std::fs::write(SAMPLES, text).unwrap();
}
