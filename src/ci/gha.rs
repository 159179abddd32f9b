//! `--format gha`: GitHub Actions' environment files, `$GITHUB_ENV` and `$GITHUB_PATH`, which the
//! runner reads after the step and applies to every later step of the job.
//!
//! The runner's parser is `SetEnvFileCommand` / `EnvFileKeyValuePairs` in actions/runner
//! src/Runner.Worker/FileCommandManager.cs: the file is read as UTF-8 and split at `\n`; an empty
//! line is skipped; a line whose first `=` comes before any `<<` is `NAME=VALUE` (the value is the
//! rest of the line); otherwise `NAME<<DELIMITER` starts a value that runs until a line that is
//! exactly the delimiter, its lines joined with `\n` (the newline before the delimiter line is
//! not part of it). Anything else fails the step. `NODE_OPTIONS` is on the runner's block list
//! (`_setEnvBlockList`): it is refused with an error annotation.
//!
//! So a value without line breaks is written `NAME=VALUE`; any other value in the heredoc form,
//! with a random delimiter that is checked not to occur in the value (mise-action #36 and PR
//! #251: a fixed `EOF` broke on values containing it). A file that does not end with a newline
//! (someone else's last line) gets one first, so that the first line is not glued to it.
//!
//! `$GITHUB_PATH` (`AddPathFileCommand`) takes one directory per line, which the runner puts in
//! front of `PATH` for later steps, the last line first (`PrependPath`, reversed in
//! `Handler.AddPrependPathToEnvironment`): so the entries strata prepends are written in reverse.
//! That is all it can say. When strata only puts entries in front of `PATH`, they go there; when it
//! does anything else (appends, sets `PATH` outright), the whole `PATH` goes to `$GITHUB_ENV`, which
//! the runner then uses as the `PATH` it prepends to. Either way the entries earlier steps added
//! through `$GITHUB_PATH` stay in front: no step can remove them.
//!
//! Nothing can unset a variable for later steps: a variable strata unsets that this step has is
//! left as it is, with a note.
//!
//! Secret values are masked before they reach any file: `::add-mask::VALUE` on stdout, one
//! command per line of the value (the runner masks the log line by line; actions/runner#1521,
//! actions/toolkit#1427), with the command data escaped as the toolkit's `escapeData` does
//! (`%` → `%25`, `\r` → `%0D`, `\n` → `%0A`). Which variables are secrets is the caller's
//! predicate.

use super::{Outcome, Refused, Var, all_or_refusals, utf8};

/// The names the runner refuses from `$GITHUB_ENV` (compared ignoring case).
const BLOCKED: &[&str] = &["NODE_OPTIONS"];

/// What to write: the text appended to `$GITHUB_ENV` and to `$GITHUB_PATH`, the mask commands
/// for stdout, and notes for stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gha {
    /// Lines for `$GITHUB_ENV`.
    pub env: Vec<u8>,
    /// Lines for `$GITHUB_PATH`.
    pub path: Vec<u8>,
    /// `::add-mask::` commands, for stdout before anything is written.
    pub masks: Vec<u8>,
    /// Notes for stderr.
    pub notes: Vec<String>,
    /// The variables written to `$GITHUB_ENV`, in order.
    pub names: Vec<String>,
}

/// What `render` needs besides the variables.
pub struct Input<'a> {
    /// Every variable strata sets or unsets, with full values; `PATH` among them unless
    /// `path_prepend` says how to write it.
    pub vars: &'a [Var<'a>],
    /// When strata's only change to `PATH` is to put these entries in front (final order,
    /// first entry first): write them to `$GITHUB_PATH` instead of `PATH` to `$GITHUB_ENV`.
    pub path_prepend: &'a [&'a [u8]],
    /// Whether this step has the variable set (an unset strata cannot pass on is worth a note).
    pub is_set: &'a dyn Fn(&str) -> bool,
    /// Whether a variable's value is a secret, to be masked.
    pub is_secret: &'a dyn Fn(&str) -> bool,
}

/// The files' additions for `input`, or every variable the runner would not take as it is.
/// `delimiter` gives a fresh random heredoc delimiter at each call.
pub fn render(input: &Input<'_>, delimiter: &mut dyn FnMut() -> String) -> Outcome<Gha> {
    let mut out = Gha::default();
    let mut checked = Vec::new();
    for v in input.vars {
        match v.value {
            Some(value) => checked.push(check(v.name, value).map(|text| (v.name, text))),
            None => {
                if (input.is_set)(v.name) {
                    out.notes.push(format!(
                        "{}: strata unsets it here, but $GITHUB_ENV can only set variables: later steps still have it",
                        v.name
                    ));
                }
            }
        }
    }
    let mut path_lines = Vec::with_capacity(input.path_prepend.len());
    for entry in input.path_prepend.iter().rev() {
        path_lines.push(path_entry(entry));
    }
    let vars = all_or_refusals(checked);
    let path = all_or_refusals(path_lines);
    let (vars, path) = match (vars, path) {
        (Ok(v), Ok(p)) => (v, p),
        (v, p) => {
            let mut all = v.err().unwrap_or_default();
            all.extend(p.err().unwrap_or_default());
            return Err(all);
        }
    };
    for (name, text) in vars {
        if (input.is_secret)(name) {
            push_masks(&mut out.masks, text);
        }
        push_assignment(&mut out.env, name, text, delimiter);
        out.names.push(name.to_string());
    }
    for entry in path {
        out.path.extend_from_slice(entry.as_bytes());
        out.path.push(b'\n');
    }
    Ok(out)
}

fn check<'a>(name: &str, value: &'a [u8]) -> Result<&'a str, Refused> {
    if BLOCKED.iter().any(|b| b.eq_ignore_ascii_case(name)) {
        return Err(Refused::new(
            name,
            "the runner refuses it from $GITHUB_ENV (it would run code in every later Node action); set it in the workflow's env: instead",
        ));
    }
    utf8(name, value, "the runner")
}

fn path_entry(entry: &[u8]) -> Result<&str, Refused> {
    let text = utf8("PATH", entry, "the runner")?;
    if text.contains(['\n', '\r']) {
        return Err(Refused::new(
            "PATH",
            "an entry has a line break, and $GITHUB_PATH holds one entry per line",
        ));
    }
    Ok(text)
}

/// `NAME=VALUE`, or the heredoc form for a value with a line break.
fn push_assignment(
    out: &mut Vec<u8>,
    name: &str,
    value: &str,
    delimiter: &mut dyn FnMut() -> String,
) {
    out.extend_from_slice(name.as_bytes());
    if !value.contains(['\n', '\r']) {
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
        return;
    }
    let delim = loop {
        let d = delimiter();
        // The runner ends the value at the first line equal to the delimiter: one that occurs
        // nowhere in the value cannot be such a line.
        if !d.is_empty() && !d.contains(['\n', '\r', '=']) && !value.contains(d.as_str()) {
            break d;
        }
    };
    out.extend_from_slice(b"<<");
    out.extend_from_slice(delim.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(delim.as_bytes());
    out.push(b'\n');
}

/// One `::add-mask::` command per line of `value` that is not blank.
fn push_masks(out: &mut Vec<u8>, value: &str) {
    for line in value.split(['\n', '\r']).map(str::trim) {
        if line.is_empty() {
            continue;
        }
        out.extend_from_slice(b"::add-mask::");
        for c in line.chars() {
            match c {
                '%' => out.extend_from_slice(b"%25"),
                c => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        out.push(b'\n');
    }
}

/// A random heredoc delimiter: 128 bits from the OS, in hex.
pub fn random_delimiter() -> String {
    let mut bytes = [0u8; 16];
    let mut filled = 0;
    while filled < bytes.len() {
        match rustix::rand::getrandom(&mut bytes[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => {}
            // No randomness at all: the collision check still keeps the value intact.
            Err(_) => break,
        }
    }
    let mut out = String::from("STRATA_EOF_");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: &str) -> bool {
        false
    }

    #[test]
    fn single_lines_plain_multi_lines_heredoc_with_a_delimiter_not_in_the_value() {
        let vars = [
            Var {
                name: "A",
                value: Some(b"x=y <<z"),
            },
            Var {
                name: "M",
                value: Some(b"one\nSTRATA_EOF_1\ntwo"),
            },
        ];
        let mut tries = ["STRATA_EOF_1", "STRATA_EOF_2"].into_iter();
        let out = render(
            &Input {
                vars: &vars,
                path_prepend: &[b"/a/bin", b"/b/bin"],
                is_set: &never,
                is_secret: &never,
            },
            &mut || tries.next().unwrap().to_string(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out.env).unwrap(),
            "A=x=y <<z\nM<<STRATA_EOF_2\none\nSTRATA_EOF_1\ntwo\nSTRATA_EOF_2\n"
        );
        assert_eq!(String::from_utf8(out.path).unwrap(), "/b/bin\n/a/bin\n");
        assert!(out.masks.is_empty());
    }

    #[test]
    fn random_delimiters_differ() {
        assert_ne!(random_delimiter(), random_delimiter());
        assert_eq!(random_delimiter().len(), "STRATA_EOF_".len() + 32);
    }
}
