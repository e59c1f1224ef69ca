//! Parameter schemas and their validation: the one source of truth for limits.
//! The page builds its form from the schema and shows these messages next to the fields.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::base64;

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ParamKind"))]
pub enum Kind {
    Int {
        min: i64,
        max: i64,
    },
    Float {
        min: f64,
        max: f64,
        step: f64,
    },
    Choice {
        options: Vec<(String, String)>,
    },
    Bool,
    Text {
        max_len: usize,
    },
    /// Files the learner picks. Never in a URL; the bytes arrive as base64 (see `Param::files`).
    Files {
        accept: &'static str,
        max_files: usize,
        max_bytes: u64,
    },
}

/// How many files a file parameter takes, and how many bytes in all: they are copied to the
/// engine and to every worker, so a few photos, not an album.
pub const MAX_FILES: usize = 8;
pub const MAX_FILE_BYTES: u64 = 20_000_000;
/// Longer names are refused rather than cut, so a message always names the real file.
const MAX_NAME_CHARS: usize = 255;

/// One field of a topic's parameter form.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Param {
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    #[serde(flatten)]
    pub kind: Kind,
    pub default: Value,
    /// A default of this many per core of the learner's machine (a pool's size, a task count): the
    /// page replaces `default` with it times `navigator.hardwareConcurrency`, within the limits
    /// (www/js/catalog.js). `default` is the value for [`REFERENCE_CORES`], which Rust fills in
    /// for a value the page did not send, and natively.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub per_core: Option<i64>,
    /// A default of this total shared among the cores (a task's share of a fixed amount of work,
    /// when the task count follows the cores): the page divides it by the learner's cores.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub split_over_cores: Option<i64>,
}

/// The cores a `per_core` default is counted for outside the page: the 2 of the machine this
/// playground is measured on (so native runs and their tests do not vary with the machine).
pub const REFERENCE_CORES: i64 = 2;

impl Param {
    pub fn int(name: &'static str, label: &'static str, default: i64, min: i64, max: i64) -> Param {
        Param {
            name,
            label,
            help: "",
            kind: Kind::Int { min, max },
            default: default.into(),
            per_core: None,
            split_over_cores: None,
        }
    }

    pub fn float(name: &'static str, label: &'static str, default: f64, min: f64, max: f64, step: f64) -> Param {
        Param {
            name,
            label,
            help: "",
            kind: Kind::Float { min, max, step },
            default: default.into(),
            per_core: None,
            split_over_cores: None,
        }
    }

    pub fn choice(name: &'static str, label: &'static str, default: &str, options: &[(&str, &str)]) -> Param {
        let options = options.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect();
        Param {
            name,
            label,
            help: "",
            kind: Kind::Choice { options },
            default: default.into(),
            per_core: None,
            split_over_cores: None,
        }
    }

    pub fn flag(name: &'static str, label: &'static str, default: bool) -> Param {
        Param {
            name,
            label,
            help: "",
            kind: Kind::Bool,
            default: default.into(),
            per_core: None,
            split_over_cores: None,
        }
    }

    pub fn text(name: &'static str, label: &'static str, default: &str, max_len: usize) -> Param {
        Param {
            name,
            label,
            help: "",
            kind: Kind::Text { max_len },
            default: default.into(),
            per_core: None,
            split_over_cores: None,
        }
    }

    /// Files the learner picks (`accept` as in `<input type=file accept=...>`, a hint for the picker).
    /// The value is a list of `{name, data}` with `data` the file's bytes in base64: JSON carries
    /// text, and base64 is a third larger where an array of numbers would be about four times.
    /// Validation adds each file's `size`; a list of `{name, size}` without data (what the page
    /// sends when the files are over the limits, rather than reading them) gets the limit's message.
    pub fn files(name: &'static str, label: &'static str, accept: &'static str) -> Param {
        let kind = Kind::Files { accept, max_files: MAX_FILES, max_bytes: MAX_FILE_BYTES };
        Param { name, label, help: "", kind, default: json!([]), per_core: None, split_over_cores: None }
    }

    /// A default of `factor` per core (see `per_core`); an int field only, whose written default
    /// must be the one for [`REFERENCE_CORES`] (checked whenever the catalog is built).
    pub fn per_core(mut self, factor: i64) -> Param {
        let Kind::Int { min, max } = self.kind else {
            panic!("{}: only a whole number can follow the cores", self.name)
        };
        let reference = (factor * REFERENCE_CORES).clamp(min, max);
        // assert!, not assert_eq!: its message would bring Value's Debug into every part (issue 25).
        assert!(
            self.default.as_i64() == Some(reference),
            "{}: the default for {REFERENCE_CORES} cores is {reference}",
            self.name
        );
        self.per_core = Some(factor);
        self
    }

    /// A default of `total` / cores (see `split_over_cores`), checked like [`Param::per_core`]'s.
    pub fn split_over_cores(mut self, total: i64) -> Param {
        let Kind::Int { min, max } = self.kind else {
            panic!("{}: only a whole number can follow the cores", self.name)
        };
        let reference = (total / REFERENCE_CORES).clamp(min, max);
        // assert!, not assert_eq!: its message would bring Value's Debug into every part (issue 25).
        assert!(
            self.default.as_i64() == Some(reference),
            "{}: the default for {REFERENCE_CORES} cores is {reference}",
            self.name
        );
        self.split_over_cores = Some(total);
        self
    }

    pub fn help(mut self, help: &'static str) -> Param {
        self.help = help;
        self
    }

    /// Checks one raw value (a JSON value, or the string a URL or form field holds).
    pub fn parse(&self, raw: &Value) -> Result<Value, String> {
        let text = match raw {
            Value::String(s) => Some(s.trim().to_string()),
            _ => None,
        };
        match &self.kind {
            Kind::Int { min, max } => {
                let n = match (raw, &text) {
                    (Value::Number(n), _) => {
                        n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                    }
                    (_, Some(t)) => t.replace('_', "").parse::<i64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| format!("{} must be a whole number", self.label))?;
                if n < *min || n > *max {
                    return Err(format!("{} must be between {} and {}", self.label, group(*min), group(*max)));
                }
                Ok(n.into())
            }
            Kind::Float { min, max, .. } => {
                let f = match (raw, &text) {
                    (Value::Number(n), _) => n.as_f64(),
                    (_, Some(t)) => parse_number(t),
                    _ => None,
                }
                .filter(|f| f.is_finite())
                .ok_or_else(|| format!("{} must be a number", self.label))?;
                if f < *min || f > *max {
                    return Err(format!("{} must be between {min} and {max}", self.label));
                }
                Ok(f.into())
            }
            Kind::Choice { options } => {
                let value = text.unwrap_or_default();
                if options.iter().any(|(v, _)| *v == value) {
                    Ok(value.into())
                } else {
                    let names: Vec<&str> = options.iter().map(|(v, _)| v.as_str()).collect();
                    Err(format!("{} must be one of: {}", self.label, names.join(", ")))
                }
            }
            Kind::Bool => match (raw, text.as_deref()) {
                (Value::Bool(b), _) => Ok((*b).into()),
                (_, Some("true" | "1" | "on" | "yes")) => Ok(true.into()),
                (_, Some("false" | "0" | "off" | "no")) => Ok(false.into()),
                _ => Err(format!("{} must be true or false", self.label)),
            },
            Kind::Text { max_len } => {
                let value = text.ok_or_else(|| format!("{} must be text", self.label))?;
                if value.chars().count() > *max_len {
                    return Err(format!("{} must be at most {max_len} characters", self.label));
                }
                Ok(value.into())
            }
            Kind::Files { max_files, max_bytes, .. } => self.parse_files(raw, *max_files, *max_bytes),
        }
    }

    fn parse_files(&self, raw: &Value, max_files: usize, max_bytes: u64) -> Result<Value, String> {
        let label = self.label;
        let items = raw.as_array().ok_or_else(|| format!("{label} must be a list of files"))?;
        if items.len() > max_files {
            return Err(format!("{label}: at most {max_files} files, not {}", items.len()));
        }
        let mut files = Vec::new();
        for item in items {
            let name = item["name"].as_str().map(str::trim).filter(|n| !n.is_empty());
            let name = name.ok_or_else(|| format!("{label}: every file needs a name"))?;
            if name.chars().count() > MAX_NAME_CHARS {
                return Err(format!("{label}: the name {} is over {MAX_NAME_CHARS} characters", cut(name)));
            }
            let data = item["data"].as_str();
            let size = match data {
                Some(data) => base64::decoded_len(data)
                    .map_err(|e| format!("{label}: {} did not arrive as base64 ({e})", shorten(name)))?
                    as u64,
                None => item["size"].as_u64().unwrap_or(0),
            };
            files.push((name, data, size));
        }
        let total: u64 = files.iter().map(|f| f.2).sum();
        if total > max_bytes {
            return Err(format!("{label} may total at most {}, not {}", megabytes(max_bytes), megabytes(total)));
        }
        let files = files.into_iter().map(|(name, data, size)| match data {
            Some(data) => Ok(FileValue { name: name.to_string(), size, data: Some(data.to_string()) }),
            None => Err(format!("{label}: {} could not be read", shorten(name))),
        });
        Ok(json!(files.collect::<Result<Vec<_>, _>>()?))
    }
}

/// A number written as `str::parse::<f64>` reads one (`+1.5`, `.5`, `5.`, `-2e3`; not `inf` or
/// `NaN`, which no field takes), read by serde_json's number reader, the one that reads the JSON
/// numbers: core's own float parser would bring its 10 KB table of powers of five into every part
/// (issue 25).
pub fn parse_number(text: &str) -> Option<f64> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    // The same number in JSON's stricter form: no plus sign, no leading zeros, digits on both
    // sides of a point.
    let mut json = String::from(if text.starts_with('-') { "-" } else { "" });
    let whole = whole.trim_start_matches('0');
    json.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        json.push('.');
        json.push_str(fraction);
    }
    if let Some(exponent) = exponent {
        let unsigned = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if unsigned.is_empty() || !digits(unsigned) {
            return None;
        }
        json.push('e');
        json.push_str(exponent);
    }
    serde_json::from_str(&json).ok()
}

/// 20000000 as "20 MB", 20040000 as "20.1 MB": rounded up, so a size over a limit never reads as equal to it.
fn megabytes(bytes: u64) -> String {
    let tenths = bytes.div_ceil(100_000);
    match tenths % 10 {
        0 => format!("{} MB", tenths / 10),
        d => format!("{}.{d} MB", tenths / 10),
    }
}

/// Formats 10000000 as "10,000,000" so limits read easily.
pub fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError { field: field.to_string(), message: message.into() }
    }
}

/// Validated parameter values, complete (every schema field present).
#[derive(Clone, Debug, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    /// The values as the topic's own struct (a `#[derive(Deserialize)]` with a field per schema
    /// field, see `reads` in the topic module): validated values always fit it, so a mismatch is a bug
    /// in the topic, which the catalog's tests find for every topic.
    pub fn read<T: DeserializeOwned>(&self) -> T {
        self.try_read().unwrap_or_else(|e| panic!("the parameters do not fit their struct: {e}"))
    }

    /// [`Params::read`], with the mismatch (a missing or unknown field) as the error.
    pub fn try_read<T: DeserializeOwned>(&self) -> Result<T, String> {
        read_map(&self.0)
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// The value of field `name`, if it has one.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// Sets field `name` (lenient checking puts defaults back this way).
    pub fn set(&mut self, name: &str, value: Value) {
        self.0.insert(name.to_string(), value);
    }
}

/// Values as a topic's struct, read from the map by reference: nothing is copied first (a file
/// parameter's bytes can be megabytes), and serde's path for a struct given as a list, which
/// this never meets, is not compiled into the wasm for every topic.
pub fn read_map<T: DeserializeOwned>(values: &Map<String, Value>) -> Result<T, String> {
    T::deserialize(values).map_err(|e| e.to_string())
}

/// One picked file as a file parameter's value: `data` is its bytes in base64, from the page; a
/// report's params (and a file over the limits, which the form does not read) carry only the
/// name and size.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FileValue {
    pub name: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub data: Option<String>,
}

/// A file parameter's value in a topic's struct: the files as validated (name, size and base64),
/// decoded only when asked, so that counting them (`needs`) copies no bytes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Files(Vec<FileValue>);

impl Files {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The files, decoded (validation checked the base64).
    pub fn decode(&self) -> Vec<File> {
        let decode = |file: &FileValue| base64::decode(file.data.as_deref().unwrap_or_default()).unwrap_or_default();
        self.0.iter().map(|file| File { name: file.name.clone(), bytes: decode(file) }).collect()
    }
}

/// One file of a file parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Validated values as a report shows them (and the page keeps in its history, and the embed API
/// posts back): file parameters become `[{name, size}]`, without their bytes.
pub fn without_file_data(schema: &[Param], mut values: Value) -> Value {
    for param in schema.iter().filter(|p| matches!(p.kind, Kind::Files { .. })) {
        if let Some(Value::Array(files)) = values.get_mut(param.name) {
            // Each a FileValue, as validated: only its bytes go.
            files.iter_mut().filter_map(Value::as_object_mut).for_each(|file| drop(file.remove("data")));
        }
    }
    values
}

/// The outcome of validating raw values against a schema.
#[derive(Debug, Default)]
pub struct Validated {
    pub params: Params,
    /// Problems with given values; in lenient mode these fields fell back to defaults.
    pub errors: Vec<FieldError>,
}

/// Parameters as they arrived: the values that could be read, and the fields whose values could not.
#[derive(Debug, Default)]
pub struct Given {
    pub values: Map<String, Value>,
    /// Fields given a value that is not JSON we can hold (nested too deep, a lone surrogate, a
    /// number out of range), or the whole set when it is not an object at all (field "params").
    pub unreadable: Vec<FieldError>,
}

impl Given {
    /// Values already read (a JSON object; anything else is reported, never taken as "no values").
    pub fn from_value(raw: &Value) -> Given {
        match raw {
            Value::Object(values) => Given { values: values.clone(), unreadable: vec![] },
            Value::Null => Given::default(),
            _ => Given { values: Map::new(), unreadable: vec![not_an_object()] },
        }
    }

    /// Reads JSON text field by field, so that one value that cannot be read is reported by its
    /// name instead of turning the whole set into defaults.
    pub fn from_json(text: &str) -> Given {
        use serde::de::IgnoredAny;
        use std::collections::BTreeMap;
        // The object's shape is checked first, its values only skipped over (no depth limit,
        // escapes unchecked); then each value is read on its own from its text.
        if let Err(e) = serde_json::from_str::<BTreeMap<String, IgnoredAny>>(text) {
            // Not an object: read as a whole, for what it is (or why it cannot be read).
            let e = if text.trim_start().starts_with('{') {
                e
            } else {
                match serde_json::from_str::<Value>(text) {
                    Ok(value) => return Given::from_value(&value),
                    Err(e) => e,
                }
            };
            return Given { values: Map::new(), unreadable: vec![unreadable("params", &e)] };
        }
        // A key given twice counts once, with its last value.
        let fields: BTreeMap<String, &str> = members(text).into_iter().collect();
        let mut given = Given::default();
        for (key, raw) in fields {
            match serde_json::from_str::<Value>(raw) {
                Ok(value) => {
                    given.values.insert(key, value);
                }
                Err(e) => given.unreadable.push(unreadable(&key, &e)),
            }
        }
        given
    }
}

fn not_an_object() -> FieldError {
    FieldError::new("params", "the parameters must be an object of names and values")
}

/// The members of a JSON object whose shape serde_json has checked: each key, read, and the text
/// of its value (serde_json's RawValue did this, but its feature put a branch for raw values into
/// the serializing of every struct, in every part: issue 25).
fn members(object: &str) -> Vec<(String, &str)> {
    let bytes = object.as_bytes();
    let skip_space = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    // Where the value (a string, or any JSON value) starting at `start` ends: at the first comma
    // or closing brace outside strings and brackets, or after the string's closing quote.
    let end_of = |start: usize, string: bool| {
        let (mut depth, mut in_string, mut i) = (0usize, string, start + usize::from(string));
        while let Some(&b) = bytes.get(i) {
            match (in_string, b) {
                (true, b'\\') => i += 1,
                (true, b'"') if string => return i + 1,
                (true, b'"') => in_string = false,
                (false, b'"') => in_string = true,
                (false, b'{' | b'[') => depth += 1,
                (false, b',' | b'}') if depth == 0 => break,
                (false, b'}' | b']') => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        i
    };
    let mut members = Vec::new();
    let mut i = skip_space(0) + 1;
    loop {
        i = skip_space(i);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'"') => {
                let key_end = end_of(i, true);
                let key = serde_json::from_str(&object[i..key_end]).unwrap_or_default();
                let start = skip_space(skip_space(key_end) + 1);
                i = end_of(start, false);
                members.push((key, object[start..i].trim_end()));
            }
            _ => return members,
        }
    }
}

fn unreadable(field: &str, error: &serde_json::Error) -> FieldError {
    // serde's messages name the problem, not the text; drop the position, which means nothing here.
    let message = error.to_string();
    let reason = message.split(" at line ").next().unwrap_or_default();
    let what = if field == "params" { "the parameters".to_string() } else { format!("the value of {}", cut(field)) };
    FieldError::new(&cut(field), format!("{what} could not be read ({})", shorten(reason)))
}

/// Validates `raw` (a JSON object) against `schema`. Missing fields take their defaults. In
/// lenient mode (values from a URL) an invalid value also takes its default, and the error
/// is still reported so the page can say what it ignored.
pub fn validate(schema: &[Param], raw: &Value, lenient: bool) -> Validated {
    validate_given(schema, &Given::from_value(raw), lenient)
}

/// Like [`validate`], for values read with [`Given::from_json`]: a value that could not be read
/// is an error like any invalid value (in lenient mode its field takes the default).
pub fn validate_given(schema: &[Param], given: &Given, lenient: bool) -> Validated {
    let raw = &given.values;
    let mut out = Validated::default();
    out.errors.extend(given.unreadable.iter().cloned());
    let unread = |name: &str| given.unreadable.iter().any(|e| e.field == name);
    for param in schema {
        let value = match raw.get(param.name) {
            None if unread(param.name) => {
                if !lenient {
                    continue;
                }
                param.default.clone()
            }
            None | Some(Value::Null) => param.default.clone(),
            Some(given) => match param.parse(given) {
                Ok(value) => value,
                Err(message) => {
                    out.errors.push(FieldError::new(param.name, message));
                    if !lenient {
                        continue;
                    }
                    param.default.clone()
                }
            },
        };
        out.params.0.insert(param.name.to_string(), value);
    }
    let unknown: Vec<&String> = raw.keys().filter(|key| !schema.iter().any(|p| p.name == *key)).collect();
    for key in unknown.iter().take(MAX_UNKNOWN_LISTED) {
        out.errors.push(FieldError::new(&cut(key), format!("unknown parameter \"{}\"", cut(key))));
    }
    if unknown.len() > MAX_UNKNOWN_LISTED {
        let more = unknown.len() - MAX_UNKNOWN_LISTED;
        out.errors.push(FieldError::new("params", format!("and {more} more unknown parameters")));
    }
    out
}

/// Unknown names listed one by one; past this, one line says how many more (an answer stays small).
const MAX_UNKNOWN_LISTED: usize = 10;

/// The first 40 characters of text that came from outside, for messages.
pub fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Like [`shorten`], with "…" when something was cut, so a cut name does not pass for the real one.
pub fn cut(text: &str) -> String {
    let short = shorten(text);
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_read_as_str_parse_reads_them() {
        let same = "0 -0 +7 42 007 0.25 -0.25 .5 -.5 +.5 5. 1.e3 1e3 1E3 1e+3 2.5e-3 -1E-07 1e-400 0e999 0.1 3.14159 \
                    123456789012345678901234567890";
        for text in same.split_whitespace() {
            assert_eq!(parse_number(text), text.parse::<f64>().ok(), "{text}");
        }
        // Not finite (1e400 is infinite to str::parse) or not a number.
        let refused = ". + - e3 .e3 1e 1e+ 1.5.2 1,5 +-1 --1 1e3.5 0x10 1_000 inf -Infinity NaN 1e400";
        for text in refused.split_whitespace().chain([""]) {
            assert_eq!(parse_number(text), None, "{text}");
        }
    }

    /// What a topic's struct would be for `schema()`.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Form {
        n: i64,
        scale: f64,
        kind: String,
        gil: bool,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // `n` is there because the schema has it
    struct WithFiles {
        n: i64,
        files: Files,
    }

    fn schema() -> Vec<Param> {
        vec![
            Param::int("n", "Numbers", 10, 1, 100),
            Param::float("scale", "Time scale", 0.5, 0.01, 1.0, 0.01),
            Param::choice("kind", "Kind", "io", &[("io", "I/O"), ("cpu", "CPU")]),
            Param::flag("gil", "GIL", true),
        ]
    }

    #[test]
    fn defaults_fill_missing_fields() {
        let v = validate(&schema(), &json!({}), false);
        assert!(v.errors.is_empty());
        let form: Form = v.params.read();
        assert_eq!((form.n, form.kind.as_str(), form.gil), (10, "io", true));
    }

    #[test]
    fn a_struct_that_does_not_match_the_schema_is_named_in_the_error() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)] // only its fields' names matter
        struct Misspelt {
            n: i64,
            scael: f64,
            kind: String,
            gil: bool,
        }
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Short {
            n: i64,
        }
        let v = validate(&schema(), &json!({}), false);
        let error = v.params.try_read::<Misspelt>().unwrap_err();
        assert!(error.contains("scale") || error.contains("scael"), "{error}");
        let error = v.params.try_read::<Short>().unwrap_err();
        assert!(error.contains("unknown field"), "{error}");
    }

    #[test]
    fn strings_from_urls_are_parsed() {
        let v = validate(&schema(), &json!({"n": "1_000", "scale": "0.25", "gil": "false"}), false);
        assert_eq!(v.errors, vec![FieldError::new("n", "Numbers must be between 1 and 100")]);
        let v = validate(&schema(), &json!({"n": " 42 ", "scale": "0.25", "gil": "off"}), false);
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        let form: Form = v.params.read();
        assert_eq!((form.n, form.scale, form.gil), (42, 0.25, false));
    }

    #[test]
    fn bad_values_are_rejected_with_a_message() {
        let v = validate(&schema(), &json!({"n": "ten", "scale": 5, "kind": "gpu", "gil": "maybe"}), false);
        let messages: Vec<&str> = v.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Numbers must be a whole number",
                "Time scale must be between 0.01 and 1",
                "Kind must be one of: io, cpu",
                "GIL must be true or false"
            ]
        );
        let v = validate(&schema(), &json!({"n": 2.5, "scale": "NaN"}), false);
        assert_eq!(v.errors.len(), 2);
    }

    #[test]
    fn many_unknown_names_are_counted_not_listed() {
        let raw: Map<String, Value> = (0..1000).map(|i| (format!("x{i}"), json!(1))).collect();
        let v = validate(&schema(), &Value::Object(raw), false);
        assert_eq!(v.errors.len(), MAX_UNKNOWN_LISTED + 1);
        assert_eq!(v.errors.last().unwrap().message, "and 990 more unknown parameters");
    }

    #[test]
    fn lenient_mode_falls_back_to_defaults_and_reports() {
        let v = validate(&schema(), &json!({"n": "-3", "zzz": "1"}), true);
        assert_eq!(v.params.read::<Form>().n, 10);
        assert_eq!(v.errors.len(), 2);
        assert_eq!(v.errors[1].message, "unknown parameter \"zzz\"");
    }

    fn files_schema() -> Vec<Param> {
        vec![Param::int("n", "Numbers", 10, 1, 100), Param::files("files", "Your images", "image/png")]
    }

    #[test]
    fn files_arrive_as_base64_and_are_checked() {
        let v = validate(&files_schema(), &json!({}), false);
        assert!(v.errors.is_empty());
        assert_eq!(v.params.read::<WithFiles>().files.decode(), vec![]);
        let given =
            json!({"files": [{"name": " a.png ", "data": base64::encode(b"\x89PNG")}, {"name": "b", "data": ""}]});
        let v = validate(&files_schema(), &given, false);
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        let file = |name: &str, bytes: &[u8]| File { name: name.into(), bytes: bytes.to_vec() };
        let files = v.params.read::<WithFiles>().files;
        assert_eq!(files.len(), 2);
        assert_eq!(files.decode(), vec![file("a.png", b"\x89PNG"), file("b", b"")]);
        // Reports keep the names and sizes, not the bytes.
        let shown = without_file_data(&files_schema(), v.params.to_json());
        assert_eq!(shown, json!({"n": 10, "files": [{"name": "a.png", "size": 4}, {"name": "b", "size": 0}]}));
    }

    #[test]
    fn files_over_the_limits_or_unreadable_get_a_message() {
        let message = |files: Value| {
            let v = validate(&files_schema(), &json!({ "files": files }), false);
            assert!(v.params.to_json().get("files").is_none(), "a bad value is left out");
            v.errors.into_iter().map(|e| (e.field, e.message)).next().unwrap()
        };
        let many: Vec<Value> = (0..9).map(|i| json!({"name": format!("{i}.png"), "data": ""})).collect();
        assert_eq!(message(json!(many)), ("files".into(), "Your images: at most 8 files, not 9".into()));
        // Without data (the page does not read files over the limit), the sizes decide.
        let big = json!([{"name": "a.jpg", "size": 12_000_000}, {"name": "b.jpg", "size": 8_000_001}]);
        assert_eq!(message(big).1, "Your images may total at most 20 MB, not 20.1 MB");
        let unread = json!([{"name": "a.jpg", "size": 10}]);
        assert_eq!(message(unread).1, "Your images: a.jpg could not be read");
        let garbled = json!([{"name": "a.jpg", "data": "abc!"}]);
        assert_eq!(message(garbled).1, "Your images: a.jpg did not arrive as base64 (not base64: '!')");
        assert_eq!(message(json!([{"data": ""}])).1, "Your images: every file needs a name");
        let long = "x".repeat(300);
        assert!(message(json!([{ "name": long, "data": "" }])).1.ends_with("is over 255 characters"));
        // A URL can only hold text: lenient mode ignores it and says so.
        let v = validate(&files_schema(), &json!({"files": "cat.png"}), true);
        assert_eq!(v.errors, vec![FieldError::new("files", "Your images must be a list of files")]);
        assert!(v.params.read::<WithFiles>().files.is_empty());
        assert_eq!(megabytes(20_000_000), "20 MB");
        assert_eq!(megabytes(1), "0.1 MB");
    }

    #[test]
    fn the_file_kind_tells_the_form_its_limits() {
        let schema = serde_json::to_value(Param::files("files", "Your images", "image/png,.png")).unwrap();
        assert_eq!(schema["type"], "files");
        assert_eq!(schema["accept"], "image/png,.png");
        assert_eq!((schema["max_files"].as_u64(), schema["max_bytes"].as_u64()), (Some(8), Some(20_000_000)));
        assert_eq!(schema["default"], json!([]));
    }

    #[test]
    fn groups_digits() {
        assert_eq!(group(10_000_000), "10,000,000");
        assert_eq!(group(999), "999");
        assert_eq!(group(-1000), "-1,000");
    }
}
