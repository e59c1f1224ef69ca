//! Property tests of parameter validation, for every topic: arbitrary JSON (as values and as the
//! text the page sends), numbers at and past every limit, long and odd strings, deep nesting.
//! What must hold: nothing panics, a given value is never silently replaced by a default, every
//! problem is reported by its field, echoed names stay short, and lenient values always run.

use playground::params::{validate, validate_given, Given, Kind, Param};
use playground::runner::{check, check_given};
use playground::topic::Topic;
use playground::topics;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// The longest field name an error may carry (40 characters and "…").
const MAX_FIELD_CHARS: usize = 41;
const MAX_MESSAGE_CHARS: usize = 400;

fn topic(index: usize) -> &'static Topic {
    let all = topics::all();
    &all[index % all.len()]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        "-?[0-9_]{1,25}(\\.[0-9]{0,4})?".prop_map(Value::from),
        prop_oneof![Just("NaN"), Just("Infinity"), Just("true"), Just("off"), Just("")].prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Parameter sets: the topic's own field names (so values get validated) mixed with other keys.
fn params_for(topic: &'static Topic) -> impl Strategy<Value = Map<String, Value>> {
    let names: Vec<String> = topic.params.iter().map(|p| p.name.to_string()).collect();
    let key = prop_oneof![4 => prop::sample::select(names), 1 => "\\PC{0,80}"];
    prop::collection::btree_map(key, json_value(), 0..6).prop_map(|m| m.into_iter().collect())
}

/// A topic (by its place in the catalog, which prints in a failure) and a parameter set for it.
fn topic_and_params() -> impl Strategy<Value = (usize, Map<String, Value>)> {
    (0..topics::all().len()).prop_flat_map(|i| (Just(i), params_for(topic(i))))
}

fn param<'a>(topic: &'a Topic, name: &str) -> Option<&'a Param> {
    topic.params.iter().find(|p| p.name == name)
}

/// Every error names a field briefly and says something of bounded length.
fn assert_short(errors: &[playground::params::FieldError]) -> Result<(), TestCaseError> {
    for e in errors {
        prop_assert!(e.field.chars().count() <= MAX_FIELD_CHARS, "field {:?}", e.field);
        prop_assert!(!e.message.is_empty() && e.message.chars().count() <= MAX_MESSAGE_CHARS, "{:?}", e.message);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Strict checking (a Run): valid given values are kept as parsed, never replaced by defaults;
    /// any invalid or unknown one makes the set invalid and is named.
    #[test]
    fn strict_checking_keeps_or_names_every_given_value((index, raw) in topic_and_params()) {
        let topic = topic(index);
        let checked = check(topic, &Value::Object(raw.clone()), false);
        assert_short(&checked.errors)?;
        for (key, value) in &raw {
            let named = checked.errors.iter().any(|e| e.field == playground::params::cut(key));
            match param(topic, key) {
                None => prop_assert!(named, "unknown {key:?} not reported"),
                Some(_) if value.is_null() => {}
                Some(p) => match p.parse(value) {
                    Err(_) => prop_assert!(named && !checked.ok, "{key}={value} not reported"),
                    Ok(parsed) if checked.ok => prop_assert_eq!(&checked.params[key], &parsed),
                    Ok(_) => {}
                },
            }
        }
        if checked.ok {
            for p in &topic.params {
                prop_assert!(checked.params.get(p.name).is_some(), "{} missing", p.name);
            }
        }
    }

    /// Lenient checking (values from a URL) always ends with values that run, and names every
    /// given value it did not keep.
    #[test]
    fn lenient_values_always_pass_a_strict_check((index, raw) in topic_and_params()) {
        let topic = topic(index);
        let checked = check(topic, &Value::Object(raw.clone()), true);
        assert_short(&checked.errors)?;
        let again = check(topic, &checked.params, false);
        prop_assert!(again.ok, "{}: lenient gave {} which fails: {:?}", topic.id, checked.params, again.errors);
        for (key, value) in &raw {
            if let Some(p) = param(topic, key) {
                if let Ok(parsed) = p.parse(value) {
                    let kept = checked.params[key] == parsed;
                    prop_assert!(kept || checked.errors.iter().any(|e| e.field == *key), "{key} silently dropped");
                }
            }
        }
    }

    /// The same sets sent as text, with one value spoiled the ways JSON can be: nested past
    /// serde's depth limit, a lone surrogate, a number out of range. Only that field is refused.
    #[test]
    fn text_that_cannot_be_read_is_refused_by_its_field(
        (index, raw) in topic_and_params(),
        spoil in 0..3usize,
        depth in 0..300usize,
    ) {
        let topic = topic(index);
        let field = topic.params.iter().find(|p| !raw.contains_key(p.name)).map(|p| p.name).unwrap_or("extra");
        let bad = match spoil {
            0 => format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
            1 => "\"a\\ud800b\"".to_string(),
            _ => "1e400".to_string(),
        };
        let mut text = serde_json::to_string(&Value::Object(raw.clone())).unwrap();
        text.insert_str(1, &format!("{}:{bad}{}", json!(field), if raw.is_empty() { "" } else { "," }));
        let given = Given::from_json(&text);
        let unreadable = given.unreadable.iter().any(|e| e.field == field);
        prop_assert_eq!(unreadable, spoil != 0 || depth > 127, "{}", &text[..text.len().min(200)]);
        for lenient in [false, true] {
            let checked = check_given(topic, &given, lenient);
            assert_short(&checked.errors)?;
            // The spoiled field is named, never quietly a default: strict refuses the set.
            let spoiled_is_error = spoil != 0 || depth > 0 || param(topic, field).is_none();
            if spoiled_is_error {
                prop_assert!(checked.errors.iter().any(|e| e.field == field), "{field} not reported");
                prop_assert!(lenient || !checked.ok);
            }
            // Every other field is read as it would be on its own. (A strict check runs the
            // topic's cross-field check only once every field reads, so with the spoiled field
            // refused, only each field's own errors compare.)
            let alone = check(topic, &Value::Object(raw.clone()), lenient);
            let alone_fields = validate_given(&topic.params, &Given::from_json(&serde_json::to_string(&raw).unwrap()), lenient).errors;
            let compared = if lenient || !spoiled_is_error { &alone.errors } else { &alone_fields };
            for key in raw.keys() {
                let named = |errors: &[playground::params::FieldError]| errors.iter().any(|e| e.field == playground::params::cut(key));
                prop_assert_eq!(named(&checked.errors), named(compared), "{}", key);
            }
        }
    }

    /// Any text at all: no panic, and whatever was given is either read or reported.
    #[test]
    fn any_text_is_read_or_refused(text in "\\PC{0,60}", index in 0..64usize) {
        let given = Given::from_json(&text);
        let t = topic(index);
        let checked = check_given(t, &given, false);
        assert_short(&checked.errors)?;
        let empty = text.trim().is_empty() || text.trim() == "null" || text.trim() == "{}";
        if !empty && given.values.is_empty() && checked.ok {
            prop_assert!(false, "{text:?} was taken as no values");
        }
    }
}

/// Every limit of every field of every topic, at and just past it, as numbers and as text.
#[test]
fn every_limit_holds_at_its_edge() {
    for topic in topics::all() {
        let schema = &topic.params;
        for p in schema {
            let one = |v: Value| validate(schema, &json!({ p.name: v }), false).errors;
            let accepted = |v: Value| assert!(one(v.clone()).is_empty(), "{}.{} refused {v}", topic.id, p.name);
            let refused = |v: Value| {
                let errors = one(v.clone());
                assert!(errors.iter().any(|e| e.field == p.name), "{}.{} took {v}", topic.id, p.name);
            };
            match &p.kind {
                Kind::Int { min, max } => {
                    for n in [*min, *max] {
                        accepted(json!(n));
                        accepted(json!(n.to_string()));
                    }
                    for n in [min.saturating_sub(1), max.saturating_add(1)] {
                        refused(json!(n));
                        refused(json!(n.to_string()));
                    }
                    refused(json!(*min as f64 + 0.5));
                    refused(json!("1e3"));
                    refused(json!(u64::MAX));
                    refused(json!([min]));
                }
                Kind::Float { min, max, .. } => {
                    accepted(json!(min));
                    accepted(json!(max));
                    refused(json!(min - min.abs().max(1e-9) * 1e-6));
                    refused(json!(max + max.abs().max(1e-9) * 1e-6));
                    for text in ["NaN", "inf", "-Infinity", "", "1,5"] {
                        refused(json!(text));
                    }
                }
                Kind::Choice { options } => {
                    for (value, _) in options {
                        accepted(json!(value));
                    }
                    refused(json!("no-such-option"));
                    refused(json!(1));
                }
                Kind::Bool => {
                    accepted(json!(true));
                    accepted(json!("off"));
                    refused(json!("maybe"));
                    refused(json!(2));
                }
                Kind::Text { max_len } => {
                    accepted(json!("é".repeat(*max_len)));
                    refused(json!("é".repeat(max_len + 1)));
                    refused(json!(5));
                }
                Kind::Files { max_files, .. } => {
                    accepted(json!([]));
                    let many: Vec<Value> =
                        (0..=*max_files).map(|i| json!({"name": format!("{i}.png"), "data": ""})).collect();
                    refused(json!(many));
                    refused(json!("cat.png"));
                    refused(json!([{"name": "a.png", "data": "%%%"}]));
                }
            }
        }
    }
}

/// The cases of issue 15, one by one.
#[test]
fn what_used_to_become_defaults_is_now_an_error() {
    let gil = topics::find("gil").unwrap();
    let deep = format!("{{\"limit\": {}3{}}}", "[".repeat(200), "]".repeat(200));
    for (text, field) in [
        (deep.as_str(), "limit"),
        ("{\"limit\": \"\\udc00\"}", "limit"),
        ("{\"limit\": 1e999}", "limit"),
        ("[1, 2]", "params"),
        ("\"limit\"", "params"),
        ("{\"limit\": 3", "params"),
        ("{\"\\ud800\": 3}", "params"),
    ] {
        for lenient in [false, true] {
            let checked = check_given(gil, &Given::from_json(text), lenient);
            assert!(checked.errors.iter().any(|e| e.field == field), "{text}: {:?}", checked.errors);
            assert!(!checked.ok, "{text}");
        }
    }
    // A 5 MB key comes back cut, in the field and in the message.
    let key = "k".repeat(5_000_000);
    let checked = check_given(gil, &Given::from_json(&json!({ key: 1 }).to_string()), false);
    assert_eq!(checked.errors[0].field, format!("{}…", "k".repeat(40)));
    assert!(checked.errors[0].message.len() < 100);
    // null and no value at all are the same: the default.
    assert!(check_given(gil, &Given::from_json("{\"limit\": null}"), false).ok);
    assert!(check_given(gil, &Given::from_json("null"), false).ok);
}

/// A URL whose values fail a cross-field check gets the defaults it is told it gets.
#[test]
fn lenient_cross_field_failures_really_fall_back() {
    let io = topics::find("io-compare").unwrap();
    let checked = check(io, &json!({"count": "1000", "latency_ms": "5000"}), true);
    assert_eq!(checked.errors.len(), 1, "{:?}", checked.errors);
    assert_eq!(checked.errors[0].field, "latency_ms");
    let latency = param(io, "latency_ms").unwrap();
    assert_eq!(checked.params["latency_ms"], latency.default);
    assert_eq!(checked.params["count"], 1000);
    assert!(check(io, &checked.params, false).ok);
}

/// Each member's value is cut out of the text at the right place: commas, braces, brackets and
/// escaped quotes inside strings and nested values do not end it; a key given twice keeps its last value.
#[test]
fn members_are_read_whole() {
    let text = r#" { "a" : {"b": "},\"[", "c": [1, {"d": 2}]} , "e\u0021":"x" ,"f": 3,"f"  :  4 } "#;
    let given = Given::from_json(text);
    assert!(given.unreadable.is_empty(), "{:?}", given.unreadable);
    assert_eq!(Value::Object(given.values), json!({"a": {"b": "},\"[", "c": [1, {"d": 2}]}, "e!": "x", "f": 4}));
}
