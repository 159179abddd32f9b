//! `strata env --format gha|gitlab|systemd|docker`: every output is read back with the
//! consumer's own rules, and must give exactly the values strata resolved, or be refused.
//!
//! The consumers' parsers are written out here from their sources (each cites it), not taken
//! from strata, so a test cannot agree with a bug it shares with the code under test:
//! - GitHub Actions: actions/runner `src/Runner.Worker/FileCommandManager.cs`
//!   (`EnvFileKeyValuePairs`, `AddPathFileCommand`), `Handler.AddPrependPathToEnvironment`, and
//!   the `::add-mask::` command (`ActionCommand.TryParseV2`, `AddMaskCommandExtension`);
//! - GitLab: `Ci::ParseDotenvArtifactService` (gitlab app/services/ci/parse_dotenv_artifact_service.rb),
//!   `Ci::HasVariable`'s key rule, and the runner's expansion of non-raw variables
//!   (gitlab-runner common/variables.go, Go's `os.Expand`);
//! - docker: docker/cli `pkg/kvfile/kvfile.go`, in both the version that keeps quotes and the
//!   one that strips a matching pair;
//! - systemd: `parse_env_file_internal` (src/basic/env-file.c) and `utf8_is_valid`, and, for
//!   values without `$`, systemd's own parser as Debian ships it: the environment.d generator
//!   (`30-systemd-environment-d-generator`, which reads its files with the same function and
//!   then expands `$VAR`).
//!
//! Random values (quotes, `$`, backslashes, line breaks, control characters, non-ASCII,
//! invalid UTF-8) check both directions: what a format accepts reads back exactly, and what it
//! refuses is what the consumer would read back differently, written the obvious way.

use std::collections::BTreeMap;
use std::fs;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use strata_env::ci::{self, Var};

use crate::support::*;

// ---------------------------------------------------------------------------------------------
// GitHub Actions
// ---------------------------------------------------------------------------------------------

/// `ReadLine` of `EnvFileKeyValuePairs` (Linux: only `\n` ends a line): the line and whether a
/// newline ended it.
fn runner_read_line<'a>(text: &'a str, index: &mut usize) -> Option<(&'a str, bool)> {
    if *index >= text.len() {
        return None;
    }
    let start = *index;
    match text[start..].find('\n') {
        None => {
            *index = text.len();
            Some((&text[start..], false))
        }
        Some(lf) => {
            *index = start + lf + 1;
            Some((&text[start..start + lf], true))
        }
    }
}

/// What the runner makes of a `$GITHUB_ENV` file: the pairs it sets (later ones win), the
/// names it blocks, or the error that fails the step.
fn runner_env_file(bytes: &[u8]) -> Result<(BTreeMap<String, String>, Vec<String>), String> {
    // File.ReadAllText: UTF-8 with replacement, a leading byte-order mark dropped.
    let decoded = String::from_utf8_lossy(bytes);
    let text = decoded.strip_prefix('\u{feff}').unwrap_or(&decoded);
    let mut pairs = BTreeMap::new();
    let mut blocked = Vec::new();
    let mut index = 0;
    while let Some((line, _)) = runner_read_line(text, &mut index) {
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        let (key, value) = match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                (line[..e].to_string(), line[e + 1..].to_string())
            }
            (e, Some(h)) if e.is_none_or(|e| h < e) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("Invalid format '{line}'"));
                }
                let start = index;
                let mut end = index;
                loop {
                    match runner_read_line(text, &mut index) {
                        None => {
                            return Err(format!("Matching delimiter not found '{delimiter}'"));
                        }
                        Some((l, _)) if l == delimiter => break,
                        Some((_, false)) => return Err("EOF marker missing new line".into()),
                        Some((_, true)) => end = index - 1,
                    }
                }
                let value = if end > start { &text[start..end] } else { "" };
                (name.to_string(), value.to_string())
            }
            _ => return Err(format!("Invalid format '{line}'")),
        };
        if key.eq_ignore_ascii_case("NODE_OPTIONS") {
            blocked.push(key);
            continue;
        }
        pairs.insert(key, value);
    }
    Ok((pairs, blocked))
}

/// What later steps get as `PATH` after these `$GITHUB_PATH` contents, on top of `original`:
/// `AddPathFileCommand` (ReadAllLines splits at `\r\n`, `\n` and `\r`; empty lines skipped; a
/// line already added moves to the end) and `AddPrependPathToEnvironment` (reversed, joined with
/// `:`, in front of the original).
fn runner_path(contents: &[u8], original: &str) -> String {
    let text = String::from_utf8_lossy(contents);
    let mut prepend: Vec<String> = Vec::new();
    for line in text.split("\r\n").flat_map(|l| l.split(['\n', '\r'])) {
        if line.is_empty() {
            continue;
        }
        prepend.retain(|p| p != line);
        prepend.push(line.to_string());
    }
    let mut parts: Vec<&str> = prepend.iter().rev().map(String::as_str).collect();
    if !original.is_empty() {
        parts.push(original);
    }
    parts.join(":")
}

/// The secrets the runner registers from a step's stdout: `::add-mask::DATA` lines
/// (`TryParseV2`: leading blanks trimmed, data after the second `::`, unescaped `%0D`, `%0A`,
/// `%25` in that order), each also split into its trimmed lines (actions/runner#1521).
fn runner_masks(stdout: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stdout);
    let mut masks = Vec::new();
    for line in text.split('\n') {
        let line = line.trim_start();
        let Some(rest) = line.strip_prefix("::") else {
            continue;
        };
        let Some(end) = rest.find("::") else { continue };
        if rest[..end].split(' ').next() != Some("add-mask") {
            continue;
        }
        let data = rest[end + 2..]
            .replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%25", "%");
        if data.trim().is_empty() {
            continue;
        }
        for piece in data
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            masks.push(piece.to_string());
        }
        masks.push(data);
    }
    masks
}

/// A log line as the runner's secret masker prints it: every registered secret replaced.
fn masked(line: &str, masks: &[String]) -> String {
    let mut sorted: Vec<&String> = masks.iter().collect();
    sorted.sort_by_key(|m| std::cmp::Reverse(m.len()));
    let mut out = line.to_string();
    for m in sorted {
        out = out.replace(m.as_str(), "***");
    }
    out
}

fn never(_: &str) -> bool {
    false
}

/// Render `vars` for GitHub Actions with the real delimiter source.
fn gha(vars: &[Var<'_>], secret: &dyn Fn(&str) -> bool) -> ci::Outcome<ci::gha::Gha> {
    ci::gha::render(
        &ci::gha::Input {
            vars,
            path_prepend: &[],
            is_set: &never,
            is_secret: secret,
        },
        &mut ci::gha::random_delimiter,
    )
}

#[test]
fn gha_values_read_back_exactly_in_the_runner() {
    let values: &[&str] = &[
        "",
        "plain",
        "a=b<<c",
        "EOF",
        "line one\nline two",
        "\n",
        "\n\nx\n\n",
        "ends with newline\n",
        "STRATA_EOF_0\nSTRATA_EOF_\n",
        "tab\tcr\r mid\r\nlf",
        "$HOME `id` 'q' \"dq\" \\",
        "::add-mask::not a command",
        "é 😀 \u{feff} \u{2028}",
    ];
    let names: Vec<String> = (0..values.len()).map(|i| format!("V{i}")).collect();
    let vars: Vec<Var<'_>> = names
        .iter()
        .zip(values)
        .map(|(n, v)| Var {
            name: n,
            value: Some(v.as_bytes()),
        })
        .collect();
    let out = gha(&vars, &never).unwrap();
    let (pairs, blocked) = runner_env_file(&out.env)
        .unwrap_or_else(|e| panic!("the runner fails the step: {e}\n{}", show(&out.env)));
    assert!(blocked.is_empty());
    for (n, v) in names.iter().zip(values) {
        assert_eq!(
            pairs.get(n).map(String::as_str),
            Some(*v),
            "{n}\n{}",
            show(&out.env)
        );
    }
    assert_eq!(pairs.len(), values.len());
}

#[test]
fn gha_refuses_what_the_runner_would_not_take() {
    let vars = [
        Var {
            name: "node_options",
            value: Some(b"--require x"),
        },
        Var {
            name: "BIN",
            value: Some(b"\xff\xfe"),
        },
        Var {
            name: "FINE",
            value: Some(b"x"),
        },
    ];
    let err = gha(&vars, &never).unwrap_err();
    let names: Vec<&str> = err.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["node_options", "BIN"]);
    // As the runner would have it: NODE_OPTIONS blocked, invalid UTF-8 changed.
    let (pairs, blocked) = runner_env_file(b"NODE_OPTIONS=--require x\nBIN=\xff\xfe\n").unwrap();
    assert_eq!(blocked, ["NODE_OPTIONS"]);
    assert_ne!(pairs["BIN"].as_bytes(), b"\xff\xfe");
}

#[test]
fn gha_path_entries_keep_their_order_in_front_of_path() {
    let entries: [&[u8]; 3] = [b"/p/inner/bin", b"/p/bin", b"/usr/bin"];
    let out = ci::gha::render(
        &ci::gha::Input {
            vars: &[],
            path_prepend: &entries,
            is_set: &never,
            is_secret: &never,
        },
        &mut ci::gha::random_delimiter,
    )
    .unwrap();
    let path = runner_path(&out.path, "/usr/local/bin:/usr/bin:/bin");
    // /usr/bin is found first now; its old place no longer matters to a lookup.
    assert_eq!(
        path,
        "/p/inner/bin:/p/bin:/usr/bin:/usr/local/bin:/usr/bin:/bin"
    );
    let bad: [&[u8]; 1] = [b"/a\rb"];
    let err = ci::gha::render(
        &ci::gha::Input {
            vars: &[],
            path_prepend: &bad,
            is_set: &never,
            is_secret: &never,
        },
        &mut ci::gha::random_delimiter,
    )
    .unwrap_err();
    assert_eq!(err[0].name, "PATH");
}

/// The masking tests run against the renderer with a predicate that marks names secret: the
/// secret flag strata will have plugs into exactly this.
#[test]
fn gha_masks_every_line_of_a_secret_and_nothing_else() {
    let secret = "-----BEGIN KEY-----\n  abc%0Adef 100%  \n\n\tlast line\r\nz";
    let vars = [
        Var {
            name: "API_KEY",
            value: Some(secret.as_bytes()),
        },
        Var {
            name: "TOKEN",
            value: Some(b"s3cr%25t"),
        },
        Var {
            name: "PUBLIC",
            value: Some(b"visible"),
        },
    ];
    let is_secret = |n: &str| n == "API_KEY" || n == "TOKEN";
    let out = gha(&vars, &is_secret).unwrap();
    let masks = runner_masks(&out.masks);
    // Every line of every secret, as a later step would print it, is masked whole.
    for value in [secret, "s3cr%25t"] {
        for line in value.split(['\n', '\r']) {
            let shown = masked(line, &masks);
            assert!(
                shown.chars().all(|c| c == '*' || c.is_whitespace()),
                "{line:?} shows as {shown:?}; masks {masks:?}"
            );
        }
    }
    // One command per non-blank line, and the non-secret value is not among them.
    let commands = String::from_utf8(out.masks.clone()).unwrap();
    assert_eq!(commands.lines().count(), 5, "{commands}");
    assert!(commands.lines().all(|l| l.starts_with("::add-mask::")));
    assert!(!masks.iter().any(|m| m.contains("visible")), "{masks:?}");
    assert_eq!(masked("visible", &masks), "visible");
    // The values themselves still reach later steps unchanged.
    let (pairs, _) = runner_env_file(&out.env).unwrap();
    assert_eq!(pairs["API_KEY"], secret);
    assert_eq!(pairs["TOKEN"], "s3cr%25t");
}

#[test]
fn gha_without_secrets_prints_no_masks() {
    let vars = [Var {
        name: "A",
        value: Some(b"x"),
    }];
    assert!(gha(&vars, &never).unwrap().masks.is_empty());
}

// ---------------------------------------------------------------------------------------------
// GitLab
// ---------------------------------------------------------------------------------------------

/// Ruby's `String#strip`.
fn ruby_strip(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r' | '\0'))
}

/// What GitLab stores from a dotenv report (before the runner expands it), or the error that
/// rejects the upload.
fn gitlab_parse(bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    if bytes.len() >= 5 * 1024 {
        return Err("Dotenv Artifact Too Big".into());
    }
    let decoded = String::from_utf8_lossy(bytes);
    let blob = decoded.strip_prefix('\u{feff}').unwrap_or(&decoded);
    let mut out = BTreeMap::new();
    // each_line keeps the "\n"; /^(.*?)=(.*)$/ with `.` not matching "\n".
    for line in blob.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let Some(eq) = body.find('=') else {
            return Err("Invalid Format".into());
        };
        let key = ruby_strip(&body[..eq]);
        let value = ruby_strip(&body[eq + 1..]);
        let key_ok = !key.is_empty()
            && key.len() <= 255
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok {
            return Err(format!("invalid key {key:?}"));
        }
        out.insert(key.to_string(), value.to_string());
    }
    if out.len() > 20 {
        return Err("Dotenv files cannot have more than 20 variables".into());
    }
    Ok(out)
}

/// Go's `os.Expand` with gitlab-runner's `JobVariables.Get`: `$$` is `$`, special names and
/// digits are empty, and any other name is replaced (here by a marker, so it shows).
fn runner_expand(s: &str) -> String {
    fn special(c: u8) -> bool {
        b"*#$@!?-0123456789".contains(&c)
    }
    fn alnum(c: u8) -> bool {
        c == b'_' || c.is_ascii_alphanumeric()
    }
    fn name(s: &[u8]) -> (&[u8], usize) {
        if s[0] == b'{' {
            if s.len() > 2 && special(s[1]) && s[2] == b'}' {
                return (&s[1..2], 3);
            }
            for i in 1..s.len() {
                if s[i] == b'}' {
                    return if i == 1 { (&[], 2) } else { (&s[1..i], i + 1) };
                }
            }
            return (&[], 1);
        }
        if special(s[0]) {
            return (&s[..1], 1);
        }
        let n = s.iter().take_while(|&&c| alnum(c)).count();
        (&s[..n], n)
    }
    let get = |n: &[u8]| -> Vec<u8> {
        match n {
            b"$" => b"$".to_vec(),
            b"*" | b"#" | b"@" | b"!" | b"?" => Vec::new(),
            [d] if d.is_ascii_digit() => Vec::new(),
            other => [b"<expanded:", other, b">"].concat(),
        }
    };
    let s = s.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while j < s.len() {
        if s[j] == b'$' && j + 1 < s.len() {
            out.extend_from_slice(&s[i..j]);
            let (n, w) = name(&s[j + 1..]);
            if n.is_empty() && w > 0 {
                // bad syntax: eaten
            } else if n.is_empty() {
                out.push(b'$');
            } else {
                out.extend(get(n));
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    out.extend_from_slice(&s[i.min(s.len())..]);
    String::from_utf8(out).unwrap()
}

/// What a later job's script sees for each variable of a dotenv report.
fn gitlab_job_sees(bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    Ok(gitlab_parse(bytes)?
        .into_iter()
        .map(|(k, v)| (k, runner_expand(&v)))
        .collect())
}

#[test]
fn gitlab_reads_back_quotes_dollars_and_inner_blanks() {
    let values: &[&str] = &[
        "",
        "plain",
        "'single'",
        "\"double\"",
        "a = b",
        "$HOME ${HOME} $$ $ ${} $1 end$",
        "cr\rinside",
        "é 😀",
        "#not a comment",
    ];
    let names: Vec<String> = (0..values.len()).map(|i| format!("G{i}")).collect();
    let vars: Vec<Var<'_>> = names
        .iter()
        .zip(values)
        .map(|(n, v)| Var {
            name: n,
            value: Some(v.as_bytes()),
        })
        .collect();
    let out = ci::gitlab::render(&vars).unwrap();
    let seen = gitlab_job_sees(&out.text).unwrap_or_else(|e| panic!("{e}\n{}", show(&out.text)));
    for (n, v) in names.iter().zip(values) {
        assert_eq!(
            seen.get(n).map(String::as_str),
            Some(*v),
            "{n}\n{}",
            show(&out.text)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// docker
// ---------------------------------------------------------------------------------------------

/// `parseKeyValueFile` of docker/cli pkg/kvfile: `trim_quotes` selects the version that strips a
/// matching pair of quotes around a value.
fn docker_parse(bytes: &[u8], trim_quotes: bool) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut rest = bytes;
    let mut n = 0;
    while !rest.is_empty() {
        n += 1;
        let (mut line, next) = match rest.iter().position(|&b| b == b'\n') {
            // The line and its newline must fit in the scanner's 64 KiB buffer.
            Some(i) if i < 64 * 1024 => (&rest[..i], &rest[i + 1..]),
            None if rest.len() <= 64 * 1024 => (rest, &rest[rest.len()..]),
            _ => return Err("bufio.Scanner: token too long".into()),
        };
        rest = next;
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            return Err(format!("invalid utf8 bytes at line {n}"));
        };
        let text = if n == 1 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        let text = text.trim_start();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (text, None),
        };
        if key.is_empty() {
            return Err("no variable name".into());
        }
        if key.contains([' ', '\t']) {
            return Err(format!("variable '{key}' contains whitespaces"));
        }
        let Some(mut value) = value else {
            continue; // looked up in docker's own environment
        };
        if trim_quotes && value.len() >= 2 {
            for q in ['\'', '"'] {
                if value.starts_with(q) && value.ends_with(q) {
                    value = &value[1..value.len() - 1];
                    break;
                }
            }
        }
        out.insert(key.to_string(), value.to_string());
    }
    Ok(out)
}

#[test]
fn docker_reads_back_values_verbatim_in_both_versions() {
    let values: &[&str] = &[
        "",
        "plain",
        "  leading and trailing  ",
        "a=b=c",
        "$HOME `id` \\n",
        "'half",
        "\"mixed'",
        "cr\rinside",
        "é 😀 \u{feff}",
        "#x",
    ];
    let names: Vec<String> = (0..values.len()).map(|i| format!("D{i}")).collect();
    let vars: Vec<Var<'_>> = names
        .iter()
        .zip(values)
        .map(|(n, v)| Var {
            name: n,
            value: Some(v.as_bytes()),
        })
        .collect();
    let out = ci::docker::render(&vars).unwrap();
    for trim in [false, true] {
        let seen = docker_parse(&out.text, trim).unwrap();
        for (n, v) in names.iter().zip(values) {
            assert_eq!(
                seen.get(n).map(String::as_str),
                Some(*v),
                "{n} (trim {trim})"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// systemd
// ---------------------------------------------------------------------------------------------

/// `parse_env_file_internal` of systemd src/basic/env-file.c, then `check_utf8ness_and_warn`
/// (an assignment that is not valid UTF-8 in systemd's sense is ignored). Bytes, since the file
/// is read as bytes.
fn systemd_parse(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        PreKey,
        Key,
        PreValue,
        Value,
        ValueEscape,
        Single,
        Double,
        DoubleEscape,
        Comment,
        CommentEscape,
    }
    const NEWLINE: &[u8] = b"\n\r";
    const WHITESPACE: &[u8] = b" \t\n\r";
    let mut out = BTreeMap::new();
    let push = |key: &[u8], value: &[u8], out: &mut BTreeMap<String, Vec<u8>>| {
        let valid = |b: &[u8]| {
            std::str::from_utf8(b).is_ok_and(|s| {
                s.chars().all(|c| {
                    let c = u32::from(c);
                    !(0xFDD0..=0xFDEF).contains(&c) && c & 0xFFFE != 0xFFFE
                })
            })
        };
        if valid(key) && valid(value) {
            out.insert(String::from_utf8(key.to_vec()).unwrap(), value.to_vec());
        }
    };
    let (mut key, mut value): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
    let (mut last_key_ws, mut last_value_ws): (Option<usize>, Option<usize>) = (None, None);
    let mut state = S::PreKey;
    let finish = |key: &mut Vec<u8>,
                  value: &mut Vec<u8>,
                  kws: Option<usize>,
                  vws: Option<usize>,
                  state: S| {
        if state == S::Value
            && let Some(w) = vws
        {
            value.truncate(w);
        }
        if let Some(w) = kws {
            key.truncate(w);
        }
    };
    for &c in bytes {
        if c == 0 {
            break;
        }
        match state {
            S::PreKey => {
                if b"#;".contains(&c) {
                    state = S::Comment;
                } else if !WHITESPACE.contains(&c) {
                    state = S::Key;
                    last_key_ws = None;
                    key.push(c);
                }
            }
            S::Key => {
                if NEWLINE.contains(&c) {
                    state = S::PreKey;
                    key.clear();
                } else if c == b'=' {
                    state = S::PreValue;
                    last_value_ws = None;
                } else {
                    if !WHITESPACE.contains(&c) {
                        last_key_ws = None;
                    } else if last_key_ws.is_none() {
                        last_key_ws = Some(key.len());
                    }
                    key.push(c);
                }
            }
            S::PreValue => {
                if NEWLINE.contains(&c) {
                    finish(&mut key, &mut value, last_key_ws, last_value_ws, state);
                    push(&key, &value, &mut out);
                    state = S::PreKey;
                    key.clear();
                    value.clear();
                } else if c == b'\'' {
                    state = S::Single;
                } else if c == b'"' {
                    state = S::Double;
                } else if c == b'\\' {
                    state = S::ValueEscape;
                } else if !WHITESPACE.contains(&c) {
                    state = S::Value;
                    value.push(c);
                }
            }
            S::Value => {
                if NEWLINE.contains(&c) {
                    finish(&mut key, &mut value, last_key_ws, last_value_ws, state);
                    push(&key, &value, &mut out);
                    state = S::PreKey;
                    key.clear();
                    value.clear();
                } else if c == b'\\' {
                    state = S::ValueEscape;
                    last_value_ws = None;
                } else {
                    if !WHITESPACE.contains(&c) {
                        last_value_ws = None;
                    } else if last_value_ws.is_none() {
                        last_value_ws = Some(value.len());
                    }
                    value.push(c);
                }
            }
            S::ValueEscape => {
                state = S::Value;
                if !NEWLINE.contains(&c) {
                    value.push(c);
                }
            }
            S::Single => {
                if c == b'\'' {
                    state = S::PreValue;
                } else {
                    value.push(c);
                }
            }
            S::Double => {
                if c == b'"' {
                    state = S::PreValue;
                } else if c == b'\\' {
                    state = S::DoubleEscape;
                } else {
                    value.push(c);
                }
            }
            S::DoubleEscape => {
                state = S::Double;
                if b"\"\\`$".contains(&c) {
                    value.push(c);
                } else if c != b'\n' {
                    value.push(b'\\');
                    value.push(c);
                }
            }
            S::Comment => {
                if c == b'\\' {
                    state = S::CommentEscape;
                } else if NEWLINE.contains(&c) {
                    state = S::PreKey;
                }
            }
            S::CommentEscape => {
                state = if NEWLINE.contains(&c) {
                    S::PreKey
                } else {
                    S::Comment
                };
            }
        }
    }
    if matches!(
        state,
        S::PreValue | S::Value | S::ValueEscape | S::Single | S::Double | S::DoubleEscape
    ) {
        finish(&mut key, &mut value, last_key_ws, last_value_ws, state);
        push(&key, &value, &mut out);
    }
    out
}

const GENERATOR: &str =
    "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator";

/// systemd's own reading of `text` as an environment.d file: its generator prints each variable
/// `NAME=VALUE`, the value C-escaped in double quotes when it needs quoting. Only for values
/// without `$`, which the generator (unlike `EnvironmentFile=`) expands.
fn systemd_generator(w: &World, text: &[u8]) -> BTreeMap<String, Vec<u8>> {
    assert!(
        std::path::Path::new(GENERATOR).exists(),
        "systemd's environment.d generator ({GENERATOR}) is the real EnvironmentFile= parser these tests read with: install systemd (apt-get install -y systemd)"
    );
    let conf = w.root().join("gen/environment.d");
    fs::create_dir_all(&conf).unwrap();
    fs::write(conf.join("10-strata.conf"), text).unwrap();
    let mut cmd = w.command(GENERATOR);
    cmd.env_clear()
        .env("HOME", w.root().join("gen"))
        .env("XDG_CONFIG_HOME", w.root().join("gen"));
    let out = run_with_timeout(cmd, "environment.d generator".into());
    assert!(out.status.success(), "{}", out.describe());
    let mut vars = BTreeMap::new();
    for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let eq = line.iter().position(|&b| b == b'=').unwrap();
        let name = String::from_utf8(line[..eq].to_vec()).unwrap();
        vars.insert(name, decode_generator_value(&line[eq + 1..]));
    }
    vars
}

/// The generator's quoting (`shell_maybe_quote`): as is, or `"…"` with `\"`, `\\`, `` \` ``,
/// `\$`, C escapes (`\a \b \t \n \v \f \r`) and octal `\NNN` for other control bytes.
fn decode_generator_value(v: &[u8]) -> Vec<u8> {
    let Some(inner) = v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")) else {
        return v.to_vec();
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < inner.len() {
        if inner[i] != b'\\' {
            out.push(inner[i]);
            i += 1;
            continue;
        }
        let e = inner[i + 1];
        i += 2;
        out.push(match e {
            b'a' => 7,
            b'b' => 8,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 11,
            b'f' => 12,
            b'r' => b'\r',
            b'0'..=b'7' => {
                let oct = std::str::from_utf8(&inner[i - 1..i + 2]).unwrap();
                i += 2;
                u8::from_str_radix(oct, 8).unwrap()
            }
            other => other,
        });
    }
    out
}

#[test]
fn systemd_reads_back_every_value_with_its_own_parser() {
    let values: Vec<String> = vec![
        String::new(),
        "plain".into(),
        "  blanks kept  ".into(),
        "'single' \"double\" `back` \\ \\n \\\\".into(),
        "line one\nline two\n".into(),
        "\n\n".into(),
        "cr\r\rlf\r\n".into(),
        "# not a comment ; nor this".into(),
        (1u8..0x20).map(char::from).collect::<String>() + "\u{7f}",
        "é 😀 \u{feff} \u{2028} \u{10fffd}".into(),
        "trailing backslash \\".into(),
    ];
    let names: Vec<String> = (0..values.len()).map(|i| format!("S{i}")).collect();
    let vars: Vec<Var<'_>> = names
        .iter()
        .zip(&values)
        .map(|(n, v)| Var {
            name: n,
            value: Some(v.as_bytes()),
        })
        .collect();
    let out = ci::systemd::render(&vars).unwrap();
    let w = World::new();
    let real = systemd_generator(&w, &out.text);
    let ported = systemd_parse(&out.text);
    for (n, v) in names.iter().zip(&values) {
        // The generator ignores an empty assignment ("invalid syntax"), which
        // `EnvironmentFile=` (`load_env_file_push`) takes as an empty value.
        if !v.is_empty() {
            assert_eq!(
                real.get(n).map(Vec::as_slice),
                Some(v.as_bytes()),
                "systemd: {n}\n{}",
                show(&out.text)
            );
        }
        assert_eq!(
            ported.get(n).map(Vec::as_slice),
            Some(v.as_bytes()),
            "port: {n}"
        );
    }
    // `$` cannot go through the generator (it expands); the port reads it as EnvironmentFile=.
    let dollars = "$HOME ${HOME} $$ \\$ $";
    let out = ci::systemd::render(&[Var {
        name: "D",
        value: Some(dollars.as_bytes()),
    }])
    .unwrap();
    assert_eq!(systemd_parse(&out.text)["D"], dollars.as_bytes());
}

// ---------------------------------------------------------------------------------------------
// Both directions, for random values
// ---------------------------------------------------------------------------------------------

/// Pieces values are made of: what each consumer treats specially, and then some.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(b"'\"$`\\\n\r\t #;={}<>%:".to_vec()).prop_map(|b| vec![b]),
        4 => (0x20u8..=0x7e).prop_map(|b| vec![b]),
        2 => (1u8..0x20).prop_map(|b| vec![b]),
        2 => prop::sample::select(vec![
            "é", "😀", "\u{feff}", "\u{2028}", "\u{fdd0}", "\u{fffe}", "\u{10ffff}", "<<", "$$",
            "${X}", "STRATA_EOF_", "%0A", "%25", "::add-mask::",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::sample::select(vec![b"\xff".to_vec(), b"\xc3".to_vec(), b"\xed\xa0\x80".to_vec()]),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(piece(), 0..12).prop_map(|v| v.concat())
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn each_format_accepts_exactly_what_its_consumer_reads_back() {
    runner()
        .run(&value(), |v| {
            let var = [Var {
                name: "V",
                value: Some(&v),
            }];
            let text = std::str::from_utf8(&v).ok();
            // docker: the obvious line, read by both docker versions.
            let naive = [b"V=".as_slice(), &v, b"\n"].concat();
            let docker_ok = text.is_some_and(|text| {
                [false, true].iter().all(|&t| {
                    docker_parse(&naive, t)
                        .ok()
                        .and_then(|m| m.get("V").cloned())
                        .as_deref()
                        == Some(text)
                })
            });
            match ci::docker::render(&var) {
                Ok(out) => {
                    for t in [false, true] {
                        prop_assert_eq!(
                            docker_parse(&out.text, t)
                                .unwrap()
                                .get("V")
                                .map(|s| s.as_bytes().to_vec()),
                            Some(v.clone())
                        );
                    }
                }
                Err(_) => prop_assert!(!docker_ok, "docker refused a value it reads back"),
            }
            // GitLab: the obvious line with `$$`, read and expanded.
            let gitlab_ok = text.is_some_and(|t| {
                let line = format!("V={}\n", t.replace('$', "$$"));
                gitlab_job_sees(line.as_bytes())
                    .ok()
                    .and_then(|m| m.get("V").cloned())
                    .as_deref()
                    == Some(t)
            });
            match ci::gitlab::render(&var) {
                Ok(out) => prop_assert_eq!(
                    gitlab_job_sees(&out.text)
                        .unwrap()
                        .get("V")
                        .map(|s| s.as_bytes().to_vec()),
                    Some(v.clone())
                ),
                Err(_) => prop_assert!(!gitlab_ok, "gitlab refused a value it reads back"),
            }
            // systemd: a double-quoted value with the four escapes.
            let mut quoted = b"V=\"".to_vec();
            for &b in &v {
                if b"\"\\`$".contains(&b) {
                    quoted.push(b'\\');
                }
                quoted.push(b);
            }
            quoted.extend_from_slice(b"\"\n");
            let systemd_ok =
                systemd_parse(&quoted).get("V").map(Vec::as_slice) == Some(v.as_slice());
            match ci::systemd::render(&var) {
                Ok(out) => {
                    prop_assert_eq!(systemd_parse(&out.text).get("V").cloned(), Some(v.clone()))
                }
                Err(_) => prop_assert!(!systemd_ok, "systemd refused a value it reads back"),
            }
            // GitHub Actions: anything that is UTF-8.
            match gha(&var, &never) {
                Ok(out) => {
                    let (pairs, _) = runner_env_file(&out.env).unwrap();
                    prop_assert_eq!(pairs.get("V").map(String::as_bytes), Some(v.as_slice()));
                }
                Err(_) => prop_assert!(text.is_none(), "gha refused UTF-8"),
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

fn project() -> World {
    World::new()
        .dir_config(
            "p",
            "[env]\nA = \"plain\"\nMULTI = \"one\\ntwo\"\nOLD_THING = false\n[path]\nprepend = [\"bin\", \"tools\"]\n",
        )
        .allow("p")
        .env("OLD_THING", "legacy")
}

#[test]
fn gha_appends_to_the_runner_files_and_keeps_what_was_there() {
    let w = project();
    let env_file = w.scratch("github_env");
    let path_file = w.scratch("github_path");
    // Another step's writer left its last line without a newline.
    fs::write(&env_file, "EARLIER=1").unwrap();
    fs::write(&path_file, "/earlier/bin\n").unwrap();
    let mut cmd = w.strata_command("p", &["env", "--format", "gha"]);
    cmd.env("GITHUB_ENV", &env_file)
        .env("GITHUB_PATH", &path_file);
    let out = w.finish(cmd, &["env", "--format", "gha"]);
    out.success();
    assert_eq!(out.stdout_str(), "", "no masks without secrets");
    out.stderr_contains("OLD_THING: strata unsets it here, but $GITHUB_ENV can only set variables");
    out.stderr_contains("appended A, MULTI to $GITHUB_ENV and 2 entries to $GITHUB_PATH");
    let (pairs, _) = runner_env_file(&fs::read(&env_file).unwrap()).unwrap();
    assert_eq!(pairs["EARLIER"], "1");
    assert_eq!(pairs["A"], "plain");
    assert_eq!(pairs["MULTI"], "one\ntwo");
    assert!(
        !pairs.contains_key("PATH"),
        "PATH goes to $GITHUB_PATH: {pairs:?}"
    );
    let path = runner_path(&fs::read(&path_file).unwrap(), "/usr/bin:/bin");
    let p = w.path_str("p");
    assert_eq!(
        path,
        format!("{p}/bin:{p}/tools:/earlier/bin:/usr/bin:/bin")
    );
}

#[test]
fn gha_writes_path_in_full_when_it_cannot_only_prepend() {
    let w = World::new()
        .dir_config("p", "[path]\nprepend = [\"bin\"]\nappend = [\"late\"]\n")
        .allow("p");
    let env_file = w.scratch("github_env");
    let path_file = w.scratch("github_path");
    let mut cmd = w.strata_command("p", &["env", "--format", "gha"]);
    cmd.env("GITHUB_ENV", &env_file)
        .env("GITHUB_PATH", &path_file);
    w.finish(cmd, &[]).success();
    let (pairs, _) = runner_env_file(&fs::read(&env_file).unwrap()).unwrap();
    let p = w.path_str("p");
    assert_eq!(pairs["PATH"], format!("{p}/bin:{}:{p}/late", w.base_path()));
    assert!(!path_file.exists() || fs::read(&path_file).unwrap().is_empty());
}

#[test]
fn gha_outside_actions_and_through_a_symlink_is_an_error() {
    let w = project();
    let out = w.strata_in("p", &["env", "--format", "gha"]);
    out.code_is(1);
    out.stderr_contains("GITHUB_ENV is not set here");
    let target = w.scratch("target");
    fs::write(&target, "").unwrap();
    let link = w.scratch("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut cmd = w.strata_command("p", &["env", "--format", "gha"]);
    cmd.env("GITHUB_ENV", &link).env("GITHUB_PATH", &link);
    let out = w.finish(cmd, &[]);
    out.code_is(1);
    out.stderr_contains("is a symlink");
    assert_eq!(fs::read(&target).unwrap(), b"");
}

#[test]
fn file_formats_refuse_by_name_and_print_nothing() {
    let w = project();
    for format in ["docker", "gitlab"] {
        let out = w.strata_in("p", &["env", "--format", format]);
        out.code_is(1);
        out.stderr_contains(&format!(
            "--format {format} cannot express MULTI: its value has a newline"
        ));
        assert_eq!(out.stdout_str(), "", "{format}");
    }
    let out = w.strata_in("p", &["env", "--format", "systemd"]);
    out.success();
    let vars = systemd_parse(&out.stdout);
    assert_eq!(vars["MULTI"], b"one\ntwo");
    assert!(!vars.contains_key("OLD_THING"));
    out.stdout_contains("# OLD_THING is unset by strata");
}

#[test]
fn docker_and_gitlab_files_from_the_command_read_back() {
    let w = World::new()
        .dir_config(
            "p",
            "[env]\nURL = \"postgres://db/app?x=1\"\nPRICE = \"$$5\"\n",
        )
        .allow("p");
    let out = w.strata_in("p", &["env", "--format", "docker"]);
    out.success();
    let seen = docker_parse(&out.stdout, true).unwrap();
    assert_eq!(seen["URL"], "postgres://db/app?x=1");
    assert_eq!(seen["PRICE"], "$5");
    let out = w.strata_in("p", &["env", "--format", "gitlab"]);
    out.success();
    let seen = gitlab_job_sees(&out.stdout).unwrap();
    assert_eq!(seen["URL"], "postgres://db/app?x=1");
    assert_eq!(seen["PRICE"], "$5");
}
