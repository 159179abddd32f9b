//! Exporters for CI systems and service managers: the environment `strata env` resolves,
//! written in the syntax each consumer reads (`strata env --format gha|gitlab|systemd|docker`).
//!
//! One file per consumer. Each follows that consumer's real parser (cited in its module doc)
//! and refuses, naming the variable, a value the consumer would read back differently: a
//! wrong value in CI is worse than a clear error. Nothing here touches files or prints; the
//! command (`cmd::env`) writes what a renderer returns.

pub mod docker;
pub mod gha;
pub mod gitlab;
pub mod systemd;

use std::fmt;

/// One variable strata sets (`Some`, its full resulting value) or unsets (`None`). Names are
/// already valid (`[A-Za-z_][A-Za-z0-9_]*`); values hold no NUL byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Var<'a> {
    /// The variable's name.
    pub name: &'a str,
    /// Its value, `None` when strata unsets it.
    pub value: Option<&'a [u8]>,
}

/// A variable the consumer cannot be given as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The variable.
    pub name: String,
    /// What the consumer would do with it, in a few words.
    pub why: String,
}

impl Refused {
    pub(crate) fn new(name: &str, why: impl Into<String>) -> Refused {
        Refused {
            name: name.to_string(),
            why: why.into(),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.why)
    }
}

/// The text of an environment file, and lines for the user (on stderr): what the format
/// cannot say but does not make the file wrong (an unset it cannot express, a limit that
/// depends on the consumer's configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The file's bytes.
    pub text: Vec<u8>,
    /// Notes for stderr, one line each.
    pub notes: Vec<String>,
}

/// Every refusal of a rendering, or its result.
pub type Outcome<T> = Result<T, Vec<Refused>>;

/// `value` as UTF-8, or the refusal `consumer` gives for it.
pub(crate) fn utf8<'a>(name: &str, value: &'a [u8], consumer: &str) -> Result<&'a str, Refused> {
    std::str::from_utf8(value).map_err(|_| {
        Refused::new(
            name,
            format!("its value is not valid UTF-8, and {consumer} reads the file as UTF-8 (the bytes would change)"),
        )
    })
}

/// A file of one line per checked variable, or every refusal.
pub(crate) fn lines_file(items: Vec<Result<String, Refused>>) -> Outcome<Vec<u8>> {
    let mut text = Vec::new();
    for l in all_or_refusals(items)? {
        text.extend_from_slice(l.as_bytes());
        text.push(b'\n');
    }
    Ok(text)
}

/// The result of checking every variable: the values that passed, or every refusal.
pub(crate) fn all_or_refusals<T>(items: Vec<Result<T, Refused>>) -> Outcome<Vec<T>> {
    let mut ok = Vec::with_capacity(items.len());
    let mut refused = Vec::new();
    for item in items {
        match item {
            Ok(v) => ok.push(v),
            Err(r) => refused.push(r),
        }
    }
    if refused.is_empty() {
        Ok(ok)
    } else {
        Err(refused)
    }
}
