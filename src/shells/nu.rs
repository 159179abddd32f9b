//! Values for nushell.
//!
//! nushell runs no code it did not parse when it started, so there is nothing to quote for it:
//! `strata export nu` prints a JSON document (`Data` in `mod.rs`), which the hook reads with
//! `from json` and applies with `load-env` and `hide-env`. A JSON string written by serde_json
//! means the same in every locale.
//!
//! What nushell cannot hold, strata refuses with the reason (the caller prints it, naming the
//! variable, and leaves the variable as it is):
//! - a value that is not UTF-8: a nushell string is UTF-8 (an inherited one is already decoded
//!   with U+FFFD in place of bad bytes when nushell starts);
//! - the variables nushell keeps for itself: `config` and `ENV_CONVERSIONS` (a string there
//!   breaks the shell: no external command starts), `FILE_PWD` and `CURRENT_FILE` (nushell
//!   refuses them), and `LAST_EXIT_CODE` and `CMD_DURATION_MS` (nushell overwrites them after
//!   every command).

/// The variables of `$env` that nushell owns.
const OWN: &[&str] = &[
    "config",
    "ENV_CONVERSIONS",
    "FILE_PWD",
    "CURRENT_FILE",
    "LAST_EXIT_CODE",
    "CMD_DURATION_MS",
];

/// Append `value` as a JSON string (invalid UTF-8 becomes U+FFFD: see [`refusal`]).
pub fn push(out: &mut Vec<u8>, value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(out, text.as_ref());
}

/// `value` as a nushell raw string literal (`r#'…'#`, with as many `#` as it takes), for the
/// hook script itself: nothing in it is an escape.
pub fn literal(value: &str) -> String {
    let mut hashes = String::from("#");
    while value.contains(&format!("'{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}'{value}'{hashes}")
}

/// The right side of `alias NAME = …` for these words (UTF-8, checked by the caller): the
/// command as a program (`^`, as in the other shells, where no builtin of nushell's answers
/// to it), every word a raw string.
pub fn alias_code(words: &[Vec<u8>]) -> String {
    let mut out = String::from("^");
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&literal(&String::from_utf8_lossy(w)));
    }
    out
}

/// Why nushell cannot be given `name=value`, if it cannot.
pub fn refusal(name: &str, value: &[u8]) -> Option<String> {
    if OWN.contains(&name) {
        return Some(format!("nushell keeps $env.{name} for itself"));
    }
    if std::str::from_utf8(value).is_err() {
        return Some("its value is not valid UTF-8, which a nushell string cannot hold".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(value: &[u8]) -> String {
        let mut out = Vec::new();
        push(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_strings() {
        assert_eq!(quote(b""), "\"\"");
        assert_eq!(quote(b"a \"b\" \\ $x `y`"), "\"a \\\"b\\\" \\\\ $x `y`\"");
        assert_eq!(quote(b"\n\t\x01\x7f"), "\"\\n\\t\\u0001\x7f\"");
        assert_eq!(quote("🦀".as_bytes()), "\"🦀\"");
    }

    #[test]
    fn raw_literals() {
        assert_eq!(literal("/a b"), "r#'/a b'#");
        assert_eq!(literal("it's '#x"), "r##'it's '#x'##");
    }

    #[test]
    fn what_nushell_cannot_hold() {
        assert!(refusal("FOO", b"ok \xe2\x9c\x93").is_none());
        assert!(refusal("FOO", b"\xff").is_some());
        assert!(refusal("ENV_CONVERSIONS", b"x").is_some());
        assert!(refusal("config", b"x").is_some());
    }
}
