//! What is done to a realistic answer before it is sent: edge values of the
//! right type (`edge_*`), mutations of its JSON tree (`tree`) and damage to
//! its bytes (`bytes`), plus a JSON writer that can say what
//! `serde_json::Value` cannot hold (numbers beyond f64, lone surrogates,
//! duplicated keys).

use super::Rng;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// A string starting with this is written into the JSON as it is.
const RAW: &str = "\u{0}raw:";
/// An object key starting with this is written without it: a duplicated key.
const DUP: &str = "\u{0}dup:";

/// JSON text written as it is (a number beyond f64, an escape...).
pub fn raw(text: &str) -> Value {
    Value::String(format!("{RAW}{text}"))
}

/// Writes `v` as JSON, honouring `raw` values and duplicated keys.
pub fn write(v: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_into(v, &mut out);
    out.into_bytes()
}

fn write_into(v: &Value, out: &mut String) {
    match v {
        Value::String(s) if s.starts_with(RAW) => out.push_str(&s[RAW.len()..]),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_into(x, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let key = k.strip_prefix(DUP).unwrap_or(k);
                out.push_str(&Value::String(key.to_owned()).to_string());
                out.push(':');
                write_into(x, out);
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Numbers at and beyond the limits parsers and arithmetic have.
fn edge_number(rng: &Rng) -> Value {
    match rng.usize(0..24) {
        0 => Value::from(i64::MAX),
        1 => Value::from(i64::MIN),
        2 => Value::from(u64::MAX),
        3 => Value::from(-1),
        4 => Value::from(0),
        5 => serde_json::json!(1e308),
        6 => serde_json::json!(-1e308),
        7 => serde_json::json!(f64::MIN_POSITIVE),
        8 => raw("1e400"),
        9 => raw("-1e400"),
        10 => raw("79228162514264337593543950335"),
        11 => raw("-79228162514264337593543950335"),
        12 => raw("79228162514264337593543950336"),
        13 => raw("123456789012345678901234567890.123456789"),
        14 => raw("0.0000000000000000000000000001"),
        15 => raw("-0"),
        16 => raw("1E5"),
        17 => Value::from(i64::from(i32::MAX) + 1),
        18 => Value::from(u64::from(u32::MAX)),
        19 => serde_json::json!(9_007_199_254_740_993u64),
        20 => serde_json::json!(-0.01),
        21 => serde_json::json!(5e27),
        22 => raw("1e27"),
        _ => serde_json::json!(0.1),
    }
}

/// Amounts as text at and beyond the limits of a decimal.
fn edge_amount(rng: &Rng) -> String {
    let all = [
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "79228162514264337593543950336",
        "7922816251426433759354395033.5",
        "39614081257132168796771975168",
        "0.0000000000000000000000000001",
        "-0.00",
        "1e30",
        "12,50",
        "NaN",
        "Infinity",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551616",
        " 12.50 ",
        "",
        "-1",
        "0",
    ];
    all[rng.usize(..all.len())].to_owned()
}

/// Times at the edges of what calendars and clocks hold, in the forms the
/// systems send (RFC 3339, `YYYY-MM-DD HH:MM:SS`, no zone).
fn edge_time(rng: &Rng) -> String {
    let all = [
        "+262142-12-31T23:59:59Z",
        "+262143-01-01T00:00:00Z",
        "-262143-01-01T00:00:00Z",
        "+262142-12-31T23:59:59",
        "-262143-01-01T00:00:00",
        "9999-12-31T23:59:59.999999999Z",
        "0000-01-01T00:00:00Z",
        "0000-01-01 00:00:00",
        "+262142-12-31 23:59:59",
        "+262142-12-31 23:59:59.999999",
        "-262143-01-01 00:00:00",
        "9999-12-31 23:59:59",
        "2026-02-30T10:00:00Z",
        "2026-11-26T25:61:61Z",
        "2026-11-26T10:00:00+23:59",
        "2026-11-26T10:00:00-23:59",
        "2026-03-29 02:30:00",
        "2026-10-25 02:30:00",
        "1970-01-01T00:00:00Z",
        "2026-11-26",
        "",
    ];
    all[rng.usize(..all.len())].to_owned()
}

/// Text that is long, strange or looks like something else.
fn edge_text(rng: &Rng) -> Value {
    match rng.usize(0..20) {
        0 => Value::from(""),
        1 => Value::from("   "),
        2 => Value::from("x".repeat(rng.usize(10_000..200_000))),
        3 => Value::from("Ωß日本語🙂".repeat(rng.usize(100..5_000))),
        4 => Value::from("\u{202e}gnp.exe\u{0}\u{1}\u{7f}"),
        5 => Value::from("e\u{301}\u{301}\u{301}\u{301}"),
        6 => Value::from("a\nb\r\nc\td"),
        7 => raw("\"\\ud800\""),
        8 => raw("\"\\udc00x\""),
        9 => raw("\"\\u0000\""),
        10 => Value::from("null"),
        11 => Value::from("<html><body>502 Bad Gateway</body></html>"),
        12 => Value::from("%s%n%x{}{0}"),
        13 => Value::from("🙂"),
        14 => Value::from(edge_time(rng)),
        15 => Value::from(edge_amount(rng)),
        16 => Value::from("stock.shipment.out,"),
        17 => Value::from("sale.line,-1"),
        18 => Value::from(":"),
        _ => Value::from("|"),
    }
}

/// An edge value of the same kind as `v` (the answer still parses, but
/// the value is at a limit).
pub fn edge_like(v: &Value, rng: &Rng) -> Value {
    match v {
        Value::Number(_) => edge_number(rng),
        Value::String(s) if looks_like_time(s) => {
            if rng.bool() {
                Value::from(edge_time(rng))
            } else {
                edge_text(rng)
            }
        }
        Value::String(s) if looks_like_amount(s) => Value::from(edge_amount(rng)),
        Value::String(_) => edge_text(rng),
        Value::Bool(b) => Value::Bool(!b),
        other => other.clone(),
    }
}

fn looks_like_time(s: &str) -> bool {
    s.len() >= 10 && s.as_bytes().get(4) == Some(&b'-') && s.as_bytes().get(7) == Some(&b'-')
}

fn looks_like_amount(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-')
}

/// Puts edge values into `v`, one of three ways: a few scalars; a quarter
/// of them; or every number, amount and time the same extreme (so sums and
/// differences of them overflow). Returns which.
pub fn edges(v: &mut Value, rng: &Rng) -> &'static str {
    let mut scalars = Vec::new();
    collect_scalars(v, String::new(), &mut scalars);
    match rng.usize(0..4) {
        0 => {
            for _ in 0..rng.usize(1..5) {
                if scalars.is_empty() {
                    break;
                }
                let path = scalars.swap_remove(rng.usize(..scalars.len()));
                if let Some(node) = v.pointer_mut(&path) {
                    *node = edge_like(node, rng);
                }
            }
            "edge values (a few)"
        }
        1 => {
            for path in scalars.iter().filter(|_| rng.usize(0..4) == 0) {
                if let Some(node) = v.pointer_mut(path) {
                    *node = edge_like(node, rng);
                }
            }
            "edge values (a quarter)"
        }
        _ => {
            // One class at a time, so the rest still parses.
            let class = rng.usize(0..3);
            // The same extreme everywhere (sums overflow), or each its own (differences do).
            let same = rng.bool();
            let fixed = rng.usize(..1000);
            let choose = |all: &[Value]| all[if same { fixed % all.len() } else { rng.usize(..all.len()) }].clone();
            let numbers = [
                Value::from(i64::MAX),
                Value::from(i64::MIN),
                Value::from(u64::MAX),
                serde_json::json!(5e27),
                raw("-1e27"),
            ];
            let amounts = [
                "79228162514264337593543950335",
                "-79228162514264337593543950335",
                "39614081257132168796771975168",
                "1e27",
            ]
            .map(Value::from);
            let times_t = [
                "+262142-12-31T23:59:59Z",
                "-262143-01-01T00:00:00Z",
                "-262143-01-01T00:00:00",
                "+262142-12-31T23:59:59",
            ]
            .map(Value::from);
            let times_plain =
                ["+262142-12-31 23:59:59", "-262143-01-01 00:00:00", "+262142-12-31 23:59:59.999999"].map(Value::from);
            for path in &scalars {
                let Some(node) = v.pointer_mut(path) else { continue };
                let new = match (&*node, class) {
                    (Value::Number(_), 0) => choose(&numbers),
                    (Value::String(s), 1) if looks_like_amount(s) => choose(&amounts),
                    (Value::String(s), 2) if looks_like_time(s) && s.contains('T') => choose(&times_t),
                    (Value::String(s), 2) if looks_like_time(s) => choose(&times_plain),
                    _ => continue,
                };
                *node = new;
            }
            [
                "edge values (every number one extreme)",
                "edge values (every amount one extreme)",
                "edge values (every time one extreme)",
            ][class]
        }
    }
}

fn collect_scalars(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| collect_scalars(x, format!("{at}/{i}"), out)),
        Value::Object(o) => {
            for (k, x) in o {
                collect_scalars(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Null => {}
        _ => out.push(at),
    }
}

/// Any value, of any type.
fn anything(rng: &Rng) -> Value {
    match rng.usize(0..9) {
        0 => Value::Null,
        1 => Value::Bool(rng.bool()),
        2 | 3 => edge_number(rng),
        4 | 5 => edge_text(rng),
        6 => Value::Array(vec![]),
        7 => Value::Object(Map::new()),
        _ => nested(rng.usize(1..400)),
    }
}

/// `[[[...]]]` or `{"a":{"a":...}}`, `depth` deep.
fn nested(depth: usize) -> Value {
    let mut v = Value::Null;
    for i in 0..depth {
        v = if i % 2 == 0 { Value::Array(vec![v]) } else { serde_json::json!({ "a": v }) };
    }
    v
}

/// The `n`th node of `v` in pre-order.
fn nth_mut(v: &mut Value, n: usize) -> Option<&mut Value> {
    let mut stack = vec![v];
    let mut i = 0;
    while let Some(node) = stack.pop() {
        if i == n {
            return Some(node);
        }
        i += 1;
        match node {
            Value::Array(a) => stack.extend(a.iter_mut().rev()),
            Value::Object(o) => stack.extend(o.values_mut().rev()),
            _ => {}
        }
    }
    None
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Changes `times` random nodes of `v`: drops keys and elements, changes
/// types, puts in edge values, empties, nests deeply, repeats elements,
/// duplicates keys.
pub fn tree(v: &mut Value, rng: &Rng, times: usize) {
    for _ in 0..times {
        let n = count(v);
        let Some(node) = nth_mut(v, rng.usize(..n)) else { continue };
        mutate_node(node, rng);
    }
}

fn mutate_node(node: &mut Value, rng: &Rng) {
    match node {
        Value::Object(o) if !o.is_empty() && rng.usize(0..3) > 0 => {
            let keys: Vec<String> = o.keys().cloned().collect();
            let key = keys[rng.usize(..keys.len())].clone();
            match rng.usize(0..6) {
                0 | 1 => drop(o.remove(&key)),
                2 => {
                    // The same key twice; the second one another type.
                    let other = anything(rng);
                    o.insert(format!("{DUP}{key}"), other);
                }
                3 => {
                    let v = o.get(&key).map(|v| edge_like(v, rng)).unwrap_or(Value::Null);
                    o.insert(key, v);
                }
                4 => drop(o.insert(key, anything(rng))),
                _ => drop(o.insert(format!("unexpected_{}", rng.u32(..1000)), anything(rng))),
            }
        }
        Value::Array(a) if !a.is_empty() && rng.usize(0..3) > 0 => match rng.usize(0..5) {
            0 => drop(a.remove(rng.usize(..a.len()))),
            1 => a.clear(),
            2 => {
                let copy = a[rng.usize(..a.len())].clone();
                let more = rng.usize(1..2_000);
                a.extend(std::iter::repeat_n(copy, more));
            }
            3 => a.reverse(),
            _ => {
                let i = rng.usize(..a.len());
                a[i] = anything(rng);
            }
        },
        Value::Null => *node = anything(rng),
        _ => {
            *node = match rng.usize(0..6) {
                0 | 1 => edge_like(node, rng),
                2 => swap_type(node, rng),
                3 => Value::Null,
                _ => anything(rng),
            }
        }
    }
}

/// The same content as another type: `"12.50"` ↔ `12.5`, `true` ↔ `1`...
fn swap_type(v: &Value, rng: &Rng) -> Value {
    match v {
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(f) if rng.bool() => serde_json::json!(f),
            _ => {
                if rng.bool() {
                    Value::Array(vec![Value::String(s.clone())])
                } else {
                    serde_json::json!({ "value": s })
                }
            }
        },
        Value::Number(n) => {
            if rng.bool() {
                Value::String(n.to_string())
            } else {
                Value::Bool(n.as_f64().is_some_and(|f| f != 0.0))
            }
        }
        Value::Bool(b) => {
            if rng.bool() {
                Value::from(i64::from(*b))
            } else {
                Value::String(b.to_string())
            }
        }
        Value::Array(a) => a.first().cloned().unwrap_or(Value::Object(Map::new())),
        Value::Object(o) => Value::Array(o.values().cloned().collect()),
        Value::Null => Value::from(0),
    }
}

/// Damages the bytes of an answer: cut short, bytes flipped, invalid
/// UTF-8 inside a string, a byte order mark, or something else entirely.
pub fn bytes(body: &mut Vec<u8>, rng: &Rng) -> &'static str {
    match rng.usize(0..9) {
        0 => {
            body.truncate(rng.usize(..body.len().max(1)));
            "truncated"
        }
        1 => {
            for _ in 0..rng.usize(1..8) {
                if !body.is_empty() {
                    let i = rng.usize(..body.len());
                    body[i] = rng.u8(..);
                }
            }
            "bytes flipped"
        }
        2 => {
            // Invalid UTF-8 where a string is.
            let at = body.iter().position(|b| *b == b'"').map_or(0, |i| i + 1);
            let junk: &[u8] = [&b"\xff\xfe"[..], b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28"][rng.usize(..4)];
            body.splice(at..at, junk.iter().copied());
            "invalid UTF-8"
        }
        3 => {
            body.splice(0..0, [0xef, 0xbb, 0xbf]);
            "byte order mark"
        }
        4 => {
            body.clear();
            "empty"
        }
        5 => {
            *body = (0..rng.usize(1..4096)).map(|_| rng.u8(..)).collect();
            "random bytes"
        }
        6 => {
            *body = ["null", "[]", "{}", "0", "\"ok\"", "true", "[null]", "{\"data\":null}"][rng.usize(..8)].into();
            "another JSON value"
        }
        7 => {
            *body = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>".to_vec();
            "an HTML page"
        }
        _ => {
            // Deep nesting around the answer.
            let depth = rng.usize(100..20_000);
            let mut v = Vec::with_capacity(body.len() + depth * 2);
            v.extend(std::iter::repeat_n(b'[', depth));
            v.extend_from_slice(body);
            v.extend(std::iter::repeat_n(b']', depth));
            *body = v;
            "deep nesting"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_and_duplicated_keys_are_written_as_such() {
        let mut o = Map::new();
        o.insert("a".into(), Value::from(1));
        o.insert(format!("{DUP}a"), raw("1e400"));
        let text = String::from_utf8(write(&Value::Object(o))).expect("utf-8");
        assert_eq!(text.matches(r#""a":"#).count(), 2, "the key appears twice: {text}");
        assert!(text.contains(r#""a":1e400"#) && text.contains(r#""a":1"#), "one of them beyond f64: {text}");
    }

    #[test]
    fn tree_mutations_keep_the_writer_working() {
        let rng = Rng::with_seed(7);
        for _ in 0..200 {
            let mut v = serde_json::json!({ "data": { "items": [{ "id": "1", "total": 1999, "at": "2026-11-26T10:00:00Z" }] } });
            tree(&mut v, &rng, 3);
            assert!(!write(&v).is_empty(), "every mutated tree still writes");
        }
    }
}
