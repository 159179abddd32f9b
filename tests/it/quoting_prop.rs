//! Property test: any value (any bytes but NUL) survives the trip through strata's quoting into
//! real bash, zsh and fish, byte for byte, in both directions.
//!
//! Each generated case is one project with [`VARS`] variables and one shell process per shell:
//! - the shell starts with a *previous* value for most of them (any bytes, including invalid
//!   UTF-8, weighted toward quotes, `$`, backticks, backslashes, newlines, control characters
//!   and non-ASCII);
//! - the project's `.strata.toml` sets each to a *new* value (any Unicode text but NUL, since a
//!   TOML string cannot hold invalid UTF-8, with the same weighting);
//! - entering must give exactly the new values, leaving exactly the previous ones (or unset).
//!
//! Cases per shell: `STRATA_PROPTEST_CASES` (default [`DEFAULT_CASES`]). The seed is random
//! unless `STRATA_PROPTEST_SEED` is set, and is printed with every failure, so a failing run
//! reproduces with `STRATA_PROPTEST_SEED=<seed> cargo test --test it quoting_prop::`.

use std::fmt;
use std::hash::{BuildHasher, Hasher};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::support::*;

/// Variables per generated case (one shell process per case and shell).
const VARS: usize = 40;

/// Cases per shell by default: 60 × 40 variables × 2 values = 4,800 values per shell.
const DEFAULT_CASES: u32 = 60;

/// Bytes, shown escaped in failure output (proptest prints the minimal input with `{:?}`).
#[derive(Clone, PartialEq, Eq)]
struct Bytes(Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", show(&self.0))
    }
}

/// One variable of a case: what the shell had before (None: unset) and what the file sets.
#[derive(Clone, Debug)]
struct Var {
    previous: Option<Bytes>,
    new: String,
}

/// Shell-meaningful ASCII, the bytes quoting bugs are made of.
const SPECIAL: &[u8] = b"'\"$`\\\n\r\t !{}()[];&|<>*?~#%=:,-^@";

/// Multi-byte pieces that have broken shells or quoting code before.
const PIECES: &[&str] = &[
    "$(",
    "${",
    "$'",
    "'\\''",
    "\\x41",
    "\\u0041",
    "\\e",
    "\\0",
    "%s",
    "%%",
    "$$",
    "\\n",
    "`id`",
    "$(id)",
    "\\\n",
    "';k=",
    "\\'",
    "\"'\"",
    "!!",
    "{a,b}",
    "--",
    "\r\n",
    "é",
    "🦀",
    "\u{2028}",
    "\u{feff}",
    "\u{202e}",
    "\u{85}",
    "\u{a0}",
    "\u{300}",
    "\u{fffd}",
    "\u{f600}",
    "\u{f6ff}",
    "\u{f8ff}",
    "\u{10ffff}",
];

/// One piece of a UTF-8 value.
fn text_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => prop::sample::select(SPECIAL).prop_map(|b| (b as char).to_string()),
        3 => prop::sample::select(PIECES).prop_map(str::to_string),
        2 => (1u8..=0x1f).prop_map(|b| (b as char).to_string()),
        1 => Just("\u{7f}".to_string()),
        3 => (0x20u8..=0x7e).prop_map(|b| (b as char).to_string()),
        2 => any::<char>()
            .prop_filter("no NUL", |c| *c != '\0')
            .prop_map(|c| c.to_string()),
    ]
}

/// A value that is valid UTF-8 (what a TOML string can hold), never containing NUL.
fn text_value() -> impl Strategy<Value = String> {
    prop::collection::vec(text_piece(), 0..24).prop_map(|v| v.concat())
}

/// A value of any bytes but NUL, including invalid UTF-8.
fn raw_value() -> impl Strategy<Value = Bytes> {
    let piece = prop_oneof![
        6 => text_piece().prop_map(String::into_bytes),
        // Lone continuation bytes, truncated sequences, overlong forms, surrogates, 0xFE/0xFF.
        2 => (0x80u8..=0xff).prop_map(|b| vec![b]),
        1 => prop::sample::select(vec![
            b"\xc3".to_vec(),
            b"\xe2\x82".to_vec(),
            b"\xf0\x9f\xa6".to_vec(),
            b"\xc0\xaf".to_vec(),
            b"\xed\xa0\x80".to_vec(),
            b"\xef\xbf\xbf".to_vec(),
            b"\xf4\x90\x80\x80".to_vec(),
            b"\xfe\xff".to_vec(),
        ]),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| Bytes(v.concat()))
}

fn var() -> impl Strategy<Value = Var> {
    (prop::option::weighted(0.85, raw_value()), text_value())
        .prop_map(|(previous, new)| Var { previous, new })
}

fn case() -> impl Strategy<Value = Vec<Var>> {
    prop::collection::vec(var(), VARS)
}

fn name(i: usize) -> String {
    // Not ending in PATH (fish splits those on ':'), not special in any shell.
    format!("Q_{i:02}")
}

/// The `.strata.toml` that sets every variable to its new value (`$` written as `$$`).
fn toml_for(vars: &[Var]) -> String {
    let mut toml = String::from("[env]\n");
    for (i, v) in vars.iter().enumerate() {
        toml += &format!("{} = {}\n", name(i), toml_string(&v.new.replace('$', "$$")));
    }
    toml
}

/// Runs one case in `sh`; the error names every variable that came back different.
fn check(sh: Shell, vars: &[Var]) -> Result<(), TestCaseError> {
    let mut w = World::new();
    for (i, v) in vars.iter().enumerate() {
        if let Some(prev) = &v.previous {
            w.set_env(&name(i), &prev.0);
        }
    }
    let w = w.dir_config("proj", &toml_for(vars)).allow("proj");
    let r = w.run_shell(
        sh,
        &[
            prompt(),
            snap("before"),
            cd("proj"),
            prompt(),
            snap("in"),
            cd(""),
            prompt(),
            snap("out"),
        ],
    );
    let mut wrong = Vec::new();
    for (i, v) in vars.iter().enumerate() {
        let n = name(i);
        // What the shell holds of the inherited value (nushell decodes it at start-up, so the
        // value it gives back on leaving is that text).
        let held = v.previous.as_ref().map(|b| sh.as_held(&b.0));
        let prev = held.as_deref();
        for (label, expected) in [
            ("before", prev),
            ("in", Some(v.new.as_bytes())),
            ("out", prev),
        ] {
            let actual = r.var(label, &n);
            if actual != expected {
                wrong.push(format!(
                    "  at {label:?}: {n} is {}, expected {}",
                    show_var(actual),
                    show_var(expected)
                ));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!(
            "[{}] {} value(s) did not round-trip:\n{}\n--- .strata.toml ---\n{}\n--- shell stderr ---\n{}",
            sh.name(),
            wrong.len(),
            wrong.join("\n"),
            toml_for(vars),
            show(&r.out.stderr)
        )))
    }
}

fn cases() -> u32 {
    match std::env::var("STRATA_PROPTEST_CASES") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("STRATA_PROPTEST_CASES={v:?} is not a number")),
        Err(_) => DEFAULT_CASES,
    }
}

fn seed() -> u64 {
    match std::env::var("STRATA_PROPTEST_SEED") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("STRATA_PROPTEST_SEED={v:?} is not a u64")),
        Err(_) => {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos(),
            );
            h.finish()
        }
    }
}

fn run_property(sh: Shell) {
    let seed = seed();
    let cases = cases();
    let how = format!(
        "seed {seed}; reproduce with STRATA_PROPTEST_SEED={seed} STRATA_PROPTEST_CASES={cases} \
         cargo test --test it quoting_prop::values_round_trip_byte_exact::{}",
        sh.name()
    );
    eprintln!(
        "quoting_prop[{}]: {cases} cases x {VARS} variables x 2 values; {how}",
        sh.name()
    );
    let mut seed_bytes = [0u8; 32];
    for (i, chunk) in seed_bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&seed.wrapping_add(i as u64).to_le_bytes());
    }
    let config = Config {
        cases,
        failure_persistence: None,
        // A failing case costs a shell run per shrink step: bound the shrinking.
        max_shrink_iters: 256,
        max_shrink_time: 120_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    match runner.run(&case(), |vars| check(sh, &vars)) {
        Ok(()) => {}
        Err(TestError::Fail(reason, minimal)) => panic!(
            "[{}] quoting property failed ({how})\n{reason}\nminimal failing case: {minimal:#?}",
            sh.name()
        ),
        Err(TestError::Abort(reason)) => panic!("[{}] aborted ({how}): {reason}", sh.name()),
    }
}

per_shell! {
    fn values_round_trip_byte_exact(sh) {
        run_property(sh)
    }
}
