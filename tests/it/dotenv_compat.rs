//! The test suites of other dotenv loaders, run against strata's dotenv parser.
//!
//! `tests/fixtures/dotenv/<suite>.json` holds every parsing case of direnv's `pkg/dotenv`,
//! motdotla/dotenv's `tests/`, python-dotenv's `tests/` and dotenvy's parser tests, as data
//! (input, the environment it assumes, what the suite expects), and lists the suite's other tests
//! as not applicable, with the reason. A case passes when strata gives what the suite expects.
//! Where strata deliberately differs, `DIFFERENCES.md` lists the case and the fixture records
//! strata's answer (`"strata"`): that answer is asserted, and so is the difference itself, so a
//! difference can neither change nor disappear silently.
//!
//! `parse_timing` (ignored) times the parser on a 100-line and a 10,000-line file.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use serde::Deserialize;
use strata_env::layers::dotenv::parse;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dotenv");
const SUITES: &[&str] = &["direnv", "motdotla-dotenv", "python-dotenv", "dotenvy"];
/// The path errors name.
const PATH: &str = "/fixture/.env";

/// Values by key; `null` means the key must not be set.
type Values = BTreeMap<String, Option<String>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // provenance fields, read by people
struct Suite {
    suite: String,
    repository: String,
    commit: String,
    files: Vec<String>,
    notes: Vec<String>,
    /// Inputs shared by several cases, by name.
    inputs: BTreeMap<String, String>,
    cases: Vec<Case>,
    not_applicable: Vec<NotApplicable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Case {
    id: String,
    source: String,
    /// Exactly one of `input`, `input_ref` (a key of `inputs`) and `input_b64`.
    input: Option<String>,
    input_ref: Option<String>,
    input_b64: Option<String>,
    /// The process environment the case assumes, fed through `lookup`.
    #[serde(default)]
    env: BTreeMap<String, String>,
    expect: Option<Values>,
    #[serde(default)]
    exact: bool,
    expect_error: Option<serde_json::Value>,
    /// The line of each key, where the suite asserts it.
    lines: Option<BTreeMap<String, usize>>,
    note: Option<String>,
    /// strata's documented answer, for a deliberate difference listed in DIFFERENCES.md.
    strata: Option<Expect>,
}

/// What a suite, or strata's documentation, says an input gives.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// These keys have these values.
    expect: Option<Values>,
    /// ... and no other key is set.
    #[serde(default)]
    exact: bool,
    /// The file is refused: `true`, or (for strata's answer) a part of the message.
    expect_error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct NotApplicable {
    id: String,
    source: String,
    reason: String,
}

/// What strata made of an input: the values (a later key wins) and key lines, or the error.
type Outcome = Result<(BTreeMap<String, Vec<u8>>, BTreeMap<String, usize>), String>;

fn run(input: &[u8], env: &BTreeMap<String, String>) -> Outcome {
    let lookup = |n: &str| env.get(n).map(OsString::from);
    match parse(Path::new(PATH), input, &lookup) {
        Ok(assignments) => {
            let mut values = BTreeMap::new();
            let mut lines = BTreeMap::new();
            for a in assignments {
                lines.insert(a.name.clone(), a.line);
                values.insert(a.name, a.value.as_bytes().to_vec());
            }
            Ok((values, lines))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Whether `outcome` is what `expect` describes; if not, what differs.
fn check(expect: &Expect, outcome: &Outcome) -> Result<(), String> {
    match (&expect.expect_error, outcome) {
        (Some(want), Err(msg)) => match want.as_str() {
            Some(part) if !msg.contains(part) => Err(format!("error {msg:?} lacks {part:?}")),
            _ => Ok(()),
        },
        (Some(_), Ok((values, _))) => Err(format!("expected an error, got {}", show(values))),
        (None, Err(msg)) => Err(format!("unexpected error: {msg}")),
        (None, Ok((values, _))) => {
            let want = expect
                .expect
                .as_ref()
                .expect("a case has expect or expect_error");
            for (k, v) in want {
                let got = values.get(k).map(|b| String::from_utf8_lossy(b));
                if got.as_deref() != v.as_deref() {
                    return Err(format!("{k}: expected {v:?}, got {got:?}"));
                }
            }
            if expect.exact {
                let extra: Vec<&String> = values
                    .keys()
                    .filter(|k| !matches!(want.get(*k), Some(Some(_))))
                    .collect();
                if !extra.is_empty() {
                    return Err(format!("unexpected keys {extra:?} in {}", show(values)));
                }
            }
            Ok(())
        }
    }
}

fn show(values: &BTreeMap<String, Vec<u8>>) -> String {
    let v: BTreeMap<&str, String> = values
        .iter()
        .map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    format!("{v:?}")
}

/// An error must say `FILE:LINE: ` and must not quote the input (a valid variable name aside).
fn check_message(msg: &str, input: &[u8]) -> Result<(), String> {
    let tail = msg
        .strip_prefix(PATH)
        .and_then(|m| m.strip_prefix(':'))
        .and_then(|m| m.split_once(": "))
        .filter(|(line, _)| line.parse::<usize>().is_ok_and(|n| n >= 1))
        .map(|(_, tail)| tail)
        .ok_or_else(|| format!("the error does not start with {PATH}:LINE: {msg:?}"))?;
    let text = String::from_utf8_lossy(input);
    for token in text.split(|c: char| c.is_whitespace() || "=\"'`#:".contains(c)) {
        let name = token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if token.len() >= 4 && !name && tail.contains(token) {
            return Err(format!("the error quotes the file ({token:?}): {msg:?}"));
        }
    }
    Ok(())
}

fn decode_b64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c:?}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(val).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// Case ids listed in DIFFERENCES.md: the first `code` span of each table row.
fn documented_differences() -> BTreeSet<String> {
    let text = std::fs::read_to_string(format!("{DIR}/DIFFERENCES.md")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(id, _)| id.to_string())
        .collect()
}

#[test]
fn other_loaders_suites() {
    let mut failures = Vec::new();
    let mut differences = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for name in SUITES {
        let path = format!("{DIR}/{name}.json");
        let suite: Suite = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let (mut pass, mut differ, mut failing) = (0, 0, 0);
        for case in &suite.cases {
            assert!(ids.insert(case.id.clone()), "duplicate id {}", case.id);
            let input = match (&case.input, &case.input_ref, &case.input_b64) {
                (Some(s), None, None) => s.as_bytes().to_vec(),
                (None, Some(r), None) => suite.inputs[r].as_bytes().to_vec(),
                (None, None, Some(b)) => decode_b64(b),
                _ => panic!(
                    "{}: give exactly one of input, input_ref, input_b64",
                    case.id
                ),
            };
            let outcome = run(&input, &case.env);
            let before = failures.len();
            let mut fail = |msg: String| failures.push(format!("{}: {msg}", case.id));
            match &outcome {
                Err(msg) => {
                    if let Err(e) = check_message(msg, &input) {
                        fail(e);
                    }
                }
                Ok((values, _)) if values.contains_key("") => fail("an empty key".into()),
                Ok(_) => {}
            }
            let suite_expects = Expect {
                expect: case.expect.clone(),
                exact: case.exact,
                expect_error: case.expect_error.clone(),
            };
            let as_suite = check(&suite_expects, &outcome);
            match &case.strata {
                None => {
                    if let Err(e) = as_suite {
                        fail(format!(
                            "{e} (make strata read it as the suite expects, or document a deliberate difference)"
                        ));
                    }
                }
                Some(documented) => {
                    differences.insert(case.id.clone());
                    if let Err(e) = check(documented, &outcome) {
                        fail(format!(
                            "strata no longer does what DIFFERENCES.md says: {e}"
                        ));
                    }
                    if as_suite.is_ok() {
                        fail("no longer a difference: strata now does what the suite expects (drop the \"strata\" entry and its DIFFERENCES.md row)".into());
                    }
                }
            }
            if let (Some(want), Ok((_, lines)), None) = (&case.lines, &outcome, &case.strata) {
                for (k, line) in want {
                    if lines.get(k) != Some(line) {
                        fail(format!(
                            "{k}: expected on line {line}, got {:?}",
                            lines.get(k)
                        ));
                    }
                }
            }
            if failures.len() > before {
                failing += 1;
            } else if case.strata.is_some() {
                differ += 1;
            } else {
                pass += 1;
            }
        }
        for na in &suite.not_applicable {
            assert!(ids.insert(na.id.clone()), "duplicate id {}", na.id);
            assert!(!na.reason.is_empty(), "{}: no reason", na.id);
        }
        let na = suite.not_applicable.len();
        eprintln!(
            "{}: {} cases: {pass} pass as the suite expects, {differ} deliberate differences, {na} not applicable{}",
            suite.suite,
            suite.cases.len() + na,
            if failing > 0 {
                format!(", {failing} FAILING")
            } else {
                String::new()
            }
        );
    }
    let documented = documented_differences();
    for id in documented.difference(&differences) {
        failures.push(format!(
            "{id}: listed in DIFFERENCES.md, but its case has no \"strata\" entry (or no case has that id)"
        ));
    }
    for id in differences.difference(&documented) {
        failures.push(format!(
            "{id}: has a \"strata\" entry but no row in DIFFERENCES.md"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn bench_file_100() -> Vec<u8> {
    (1..=100)
        .map(|j| format!("DOTENV_{j:03}=\"dotenv value {j:03}\"\n"))
        .collect::<String>()
        .into_bytes()
}

/// Comments, blank lines, plain, quoted, escaped, expanding and URL values, in turn.
fn mixed_file(lines: usize) -> Vec<u8> {
    let mut s = String::new();
    for j in 0..lines {
        s += &match j % 8 {
            0 => format!("# section {j}\n"),
            1 => format!("PLAIN_{j}=plain value {j} # note\n"),
            2 => format!("export QUOTED_{j}=\"quoted ${{HOME}}/x {j}\"\n"),
            3 => format!("SINGLE_{j}='literal $HOME {j}'\n"),
            4 => format!("REF_{j}=$PLAIN_{}/sub\n", j - 3),
            5 => format!("ESC_{j}=\"tab\\there\\nnewline \\\"q\\\" {j}\"\n"),
            6 => "\n".to_string(),
            _ => format!("URL_{j}=https://example.com/path?q={j}&r=#frag\n"),
        };
    }
    s.into_bytes()
}

#[test]
#[ignore = "timing: cargo test --release --test it dotenv_compat::parse_timing -- --ignored --nocapture"]
fn parse_timing() {
    use std::time::Instant;
    let lookup = |n: &str| -> Option<OsString> { (n == "HOME").then(|| "/home/u".into()) };
    for (name, bytes, n) in [
        ("bench .env, 100 lines", bench_file_100(), 20_000usize),
        ("mixed, 100 lines", mixed_file(100), 20_000),
        ("mixed, 10000 lines", mixed_file(10_000), 200),
    ] {
        let p = Path::new("/bench/.env");
        for _ in 0..n / 10 {
            std::hint::black_box(parse(p, &bytes, &lookup).unwrap());
        }
        let mut best = f64::MAX;
        for _round in 0..5 {
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(parse(p, std::hint::black_box(&bytes), &lookup).unwrap());
            }
            best = best.min(t.elapsed().as_secs_f64() / n as f64);
        }
        eprintln!(
            "{name}: {:.2} µs per parse (best of 5 rounds of {n})",
            best * 1e6
        );
    }
}
