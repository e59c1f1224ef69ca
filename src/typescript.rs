//! The TypeScript declarations of every type that crosses from Rust to JavaScript as JSON, made
//! by ts-rs from the types themselves (serde's renames, tags, flattening and skips included) into
//! one file, `www/js/generated/rust.d.ts`, which `www/js/types.js` re-exports for the type check
//! (`tsc -p jsconfig.json`). The test below fails when the committed file is not what the types
//! make now; `TYPESCRIPT_EXPORT=1 cargo test --lib typescript` writes it anew.
//!
//! ts-rs is a dev-dependency and every `TS` derive is `cfg_attr(test, ...)`: no build for the
//! page compiles any of it.

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
