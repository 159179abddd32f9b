//! The dotenv dialect: what direnv, python-dotenv, node's `dotenv` and dotenvy agree on, with a
//! documented answer where they differ (`tests/fixtures/dotenv/DIFFERENCES.md`; the loaders' own
//! test suites run against this parser in `tests/it/dotenv_compat.rs`).
//!
//! - Lines end in `\n`, `\r\n` or a lone `\r` (also inside quoted values, where each becomes
//!   `\n`); a UTF-8 byte-order mark (U+FEFF) at the start of the file or of a line is skipped.
//! - Blank lines, and lines whose first non-blank character is `#`, are skipped.
//! - A statement is `KEY=value` (blanks allowed around `=`), `export KEY=value`, or direnv's and
//!   node's YAML-like `KEY: value` (the colon right after the name, then a blank or the end of
//!   the line). Names are `[A-Za-z_][A-Za-z0-9_]*`; a later key wins over an earlier one.
//! - Unquoted values are the rest of the line, cut at a `#` that starts them or follows a blank,
//!   and trimmed. A backslash is literal, except in `\$`.
//! - `'single'` and `` `backtick` `` quotes are literal and may span lines. A backtick is only a
//!   quote: nothing is ever run.
//! - `"double"` quotes may span lines; `\n` `\r` `\t` `\"` `\\` `\$` `\'` and `` \` `` are
//!   escapes, and any other backslash is kept as it is.
//! - After a closing quote, only blanks and a `#` comment may follow on that line.
//! - Unquoted and double-quoted values expand `$VAR`, `${VAR}` and `${VAR:-default}` (the
//!   default, itself expanded, when VAR is unset or empty): keys defined earlier in the same file
//!   first, then the caller's lookup; an unknown variable expands to nothing. `\$` is a literal
//!   `$`, and `$(…)` is literal text.
//! - A NUL byte in a value is an error (no environment variable can hold one), and so is a value
//!   that expansion grows past [`super::interp::MAX_VALUE`].
//!
//! Parsing is one pass over the bytes. Errors say `FILE:LINE: what is wrong` and never quote the
//! file (it may be anything, `/etc/shadow` included); they name a key only once it is known to be
//! a valid variable name.

use anyhow::{Result, anyhow};
use std::borrow::Cow;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use super::interp::MAX_VALUE;
use crate::display::tilde;
use crate::names::valid_name;

/// One `KEY=value` statement, expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Variable name.
    pub name: String,
    /// Expanded value.
    pub value: OsString,
    /// Line the key is on, 1-based.
    pub line: usize,
}

/// The UTF-8 encoding of U+FEFF, the byte-order mark some editors write at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A position in the file: byte offset and 1-based line.
struct Reader<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// Up to the end of the line, which stays unread.
    fn rest_of_line(&mut self) -> &'a [u8] {
        let start = self.i;
        self.i = self.s[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(self.s.len(), |k| start + k);
        &self.s[start..self.i]
    }

    /// Skips blank lines and comment lines; false at the end of the file.
    fn next_statement(&mut self) -> bool {
        loop {
            self.skip_blank();
            match self.peek() {
                None => return false,
                Some(b'\n') => {
                    self.i += 1;
                    self.line += 1;
                }
                Some(b'\r') => {
                    self.i += if self.s.get(self.i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    self.line += 1;
                }
                Some(b'#') => {
                    self.rest_of_line();
                }
                // Files concatenated from files that started with one.
                Some(0xEF) if self.s[self.i..].starts_with(BOM) => self.i += BOM.len(),
                Some(_) => return true,
            }
        }
    }

    /// A key or `export`: up to `=`, `:`, a blank or the end of the line.
    fn word(&mut self) -> &'a [u8] {
        let start = self.i;
        while matches!(self.peek(), Some(b) if !matches!(b, b'=' | b':' | b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// True at the end of a line (or of the file), before or after a comment.
    fn at_end_of_line(&self) -> bool {
        matches!(self.peek(), None | Some(b'\n' | b'\r' | b'#'))
    }
}

/// Parse and expand a dotenv file's bytes.
///
/// `lookup` resolves a variable the file has not defined (yet): the environment resolved so far.
/// The caller checks the names against what it may set; this function checks only the syntax.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    lookup: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Vec<Assignment>> {
    let mut r = Reader {
        s: bytes,
        i: 0,
        line: 1,
    };
    let mut out: Vec<Assignment> =
        Vec::with_capacity(bytes.iter().filter(|&&b| b == b'\n').count() + 1);
    // Keys defined so far, by name (borrowed from `bytes`): their index in `out`.
    let mut defined: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let err = |line: usize, msg: &str| anyhow!("{}:{line}: {msg}", tilde(path));
    while r.next_statement() {
        let line = r.line;
        let name = r.key().map_err(|msg| err(line, msg))?;
        r.skip_blank();
        let resolve = |n: &str| match defined.get(n) {
            Some(&k) => Some(Cow::Borrowed(out[k].value.as_bytes())),
            None => lookup(n).map(|v| Cow::Owned(v.into_vec())),
        };
        let value = r.value(name, &resolve, &err)?;
        defined.insert(name, out.len());
        out.push(Assignment {
            name: name.to_owned(),
            value: OsString::from_vec(value),
            line,
        });
    }
    Ok(out)
}

impl<'a> Reader<'a> {
    /// The key of an assignment, with `export ` before it and `=` (or `: `) after it read too.
    fn key(&mut self) -> Result<&'a str, &'static str> {
        let mut word = self.word();
        if word == b"export" && matches!(self.peek(), Some(b' ' | b'\t')) {
            self.skip_blank();
            word = self.word();
        }
        if self.peek() == Some(b':')
            && matches!(
                self.s.get(self.i + 1),
                None | Some(b' ' | b'\t' | b'\n' | b'\r')
            )
        {
            self.i += 1;
        } else {
            self.skip_blank();
            if self.peek() != Some(b'=') {
                let bare = std::str::from_utf8(word).is_ok_and(valid_name) && self.at_end_of_line();
                return Err(if bare {
                    "expected KEY=value, found a name without `=` (it would assign nothing): add `=` or remove the line"
                } else {
                    "expected KEY=value"
                });
            }
            self.i += 1;
        }
        std::str::from_utf8(word)
            .ok()
            .filter(|n| valid_name(n))
            .ok_or("invalid variable name: use letters, digits and `_`, not starting with a digit")
    }

    /// The value of `name`, quoted or not, expanded where the dialect says so.
    fn value<'v>(
        &mut self,
        name: &str,
        resolve: &dyn Fn(&str) -> Option<Cow<'v, [u8]>>,
        err: &dyn Fn(usize, &str) -> anyhow::Error,
    ) -> Result<Vec<u8>> {
        let line = self.line;
        let too_big = || {
            err(
                line,
                &format!(
                    "the value of {name} grows past {} KiB while expanding variables (no environment variable can be that large)",
                    MAX_VALUE / 1024
                ),
            )
        };
        let Some(q @ (b'\'' | b'`' | b'"')) = self.peek() else {
            let raw = cut_comment(self.rest_of_line()).trim_ascii();
            if raw.contains(&0) {
                return Err(nul(err, line, name));
            }
            let mut value = Vec::with_capacity(raw.len());
            expand_into(raw, false, resolve, &mut value).map_err(|TooBig| too_big())?;
            return Ok(value);
        };
        let bytes = self.s;
        let body_start = self.i + 1;
        let close = if q == b'"' {
            closing_double_quote(bytes, body_start)
        } else {
            bytes[body_start..]
                .iter()
                .position(|&b| b == q)
                .map(|k| body_start + k)
        };
        let Some(close) = close else {
            return Err(err(
                line,
                &format!("unterminated {} quote in the value of {name}", q as char),
            ));
        };
        let body = &bytes[body_start..close];
        if let Some(k) = body.iter().position(|&b| b == 0) {
            return Err(nul(err, self.line + newlines(&body[..k]), name));
        }
        self.line += newlines(body);
        self.i = close + 1;
        let mut value = Vec::with_capacity(body.len());
        if q == b'"' {
            expand_into(body, true, resolve, &mut value).map_err(|TooBig| too_big())?;
        } else {
            push_newlines_as_lf(body, &mut value);
        }
        self.skip_blank();
        if !self.at_end_of_line() {
            return Err(err(
                self.line,
                &format!(
                    "unexpected text after the quoted value of {name}: quote the whole value, or start a comment with `#`"
                ),
            ));
        }
        self.rest_of_line();
        Ok(value)
    }
}

fn nul(err: &dyn Fn(usize, &str) -> anyhow::Error, line: usize, name: &str) -> anyhow::Error {
    err(
        line,
        &format!("the value of {name} contains a NUL byte, which no environment variable can hold"),
    )
}

/// The offset of the `"` that closes a double-quoted value whose text starts at `from`: the first
/// one not escaped by a backslash.
fn closing_double_quote(s: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let k = from
            + s.get(from..)?
                .iter()
                .position(|&b| b == b'"' || b == b'\\')?;
        if s[k] == b'"' {
            return Some(k);
        }
        from = k + 2;
    }
}

/// Line breaks in `s`: `\n`, `\r\n` and a lone `\r` count one each.
fn newlines(s: &[u8]) -> usize {
    let mut n = 0;
    let mut prev_cr = false;
    for &b in s {
        if b == b'\n' {
            n += usize::from(!prev_cr);
        } else if b == b'\r' {
            n += 1;
        }
        prev_cr = b == b'\r';
    }
    n
}

/// Copies `s`, turning `\r\n` and a lone `\r` into `\n`.
fn push_newlines_as_lf(s: &[u8], out: &mut Vec<u8>) {
    let mut rest = s;
    while let Some(k) = rest.iter().position(|&b| b == b'\r') {
        out.extend_from_slice(&rest[..k]);
        out.push(b'\n');
        let skip = if rest.get(k + 1) == Some(&b'\n') {
            2
        } else {
            1
        };
        rest = &rest[k + skip..];
    }
    out.extend_from_slice(rest);
}

/// An unquoted value up to its comment: a `#` at its start or after a blank.
fn cut_comment(v: &[u8]) -> &[u8] {
    let mut after_blank = true;
    for (k, &b) in v.iter().enumerate() {
        if b == b'#' && after_blank {
            return &v[..k];
        }
        after_blank = matches!(b, b' ' | b'\t');
    }
    v
}

/// The value outgrew [`MAX_VALUE`].
struct TooBig;

/// Appends `src` to `out`, expanding `$VAR`, `${VAR}` and `${VAR:-default}` and, when `double`
/// (the text of a double-quoted value), decoding its escapes and line breaks. `\$` is a literal
/// `$` either way. Each byte of `src` is looked at a bounded number of times.
fn expand_into<'v>(
    src: &[u8],
    double: bool,
    resolve: &dyn Fn(&str) -> Option<Cow<'v, [u8]>>,
    out: &mut Vec<u8>,
) -> Result<(), TooBig> {
    // Where a search for the `}` of a `${` found none: no later `${` can have one either.
    let mut unclosed_from = usize::MAX;
    let mut i = 0;
    while i < src.len() {
        let plain = src[i..]
            .iter()
            .position(|&b| matches!(b, b'$' | b'\\' | b'\r'))
            .map_or(src.len(), |k| i + k);
        out.extend_from_slice(&src[i..plain]);
        i = plain;
        let Some(&b) = src.get(i) else { break };
        match b {
            b'\r' => {
                out.push(b'\n');
                i += if src.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            }
            b'\\' => {
                let escaped = match src.get(i + 1) {
                    Some(b'$') => Some(b'$'),
                    Some(b'n') if double => Some(b'\n'),
                    Some(b't') if double => Some(b'\t'),
                    Some(b'r') if double => Some(b'\r'),
                    Some(&e @ (b'"' | b'\\' | b'\'' | b'`')) if double => Some(e),
                    _ => None,
                };
                match escaped {
                    Some(e) => {
                        out.push(e);
                        i += 2;
                    }
                    None => {
                        out.push(b'\\');
                        i += 1;
                    }
                }
            }
            _ => match src.get(i + 1) {
                Some(b'{') if i + 2 < unclosed_from => {
                    let Some(len) = src[i + 2..].iter().position(|&b| b == b'}') else {
                        unclosed_from = i + 2;
                        out.push(b'$');
                        i += 1;
                        continue;
                    };
                    let inner = &src[i + 2..i + 2 + len];
                    let (name, default) = match inner.windows(2).position(|w| w == b":-") {
                        Some(k) => (&inner[..k], Some(&inner[k + 2..])),
                        None => (inner, None),
                    };
                    let value = std::str::from_utf8(name).ok().and_then(resolve);
                    match (value, default) {
                        (Some(v), Some(d)) if v.is_empty() => expand_into(d, double, resolve, out)?,
                        (None, Some(d)) => expand_into(d, double, resolve, out)?,
                        (Some(v), _) => out.extend_from_slice(&v),
                        (None, None) => {}
                    }
                    i += len + 3;
                }
                Some(&c) if c.is_ascii_alphabetic() || c == b'_' => {
                    let len = src[i + 1..]
                        .iter()
                        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                        .unwrap_or(src.len() - i - 1);
                    // ASCII by construction.
                    let name = std::str::from_utf8(&src[i + 1..i + 1 + len]).unwrap_or_default();
                    if let Some(v) = resolve(name) {
                        out.extend_from_slice(&v);
                    }
                    i += 1 + len;
                }
                _ => {
                    out.push(b'$');
                    i += 1;
                }
            },
        }
        if out.len() > MAX_VALUE {
            return Err(TooBig);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> Vec<(String, String)> {
        parse(Path::new("/p/.env"), src.as_bytes(), &|n| {
            (n == "HOME").then(|| "/h".into())
        })
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.value.into_string().unwrap()))
        .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn error(src: &[u8]) -> String {
        parse(Path::new("/p/.env"), src, &|_| None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_common_dialect() {
        let got = run(
            "# comment\n\nA=plain value # note\nexport B='lit $HOME \\n'\nC=\"x\\ny ${HOME} $A \\$Q\"\nD=\"multi\nline\"\nE=\nF=a#b\nG=${NOPE:-dflt}\n",
        );
        assert_eq!(
            got,
            pairs(&[
                ("A", "plain value"),
                ("B", "lit $HOME \\n"),
                ("C", "x\ny /h plain value $Q"),
                ("D", "multi\nline"),
                ("E", ""),
                ("F", "a#b"),
                ("G", "dflt"),
            ])
        );
    }

    #[test]
    fn what_other_loaders_write() {
        let got = run(
            "\u{feff}A=1\r\nB=\"two\r\nlines\"\rC=`back $HOME \\n`\nD: 'yaml'\nE:\n\u{feff}export F:\tx # c\n",
        );
        assert_eq!(
            got,
            pairs(&[
                ("A", "1"),
                ("B", "two\nlines"),
                ("C", "back $HOME \\n"),
                ("D", "yaml"),
                ("E", ""),
                ("F", "x"),
            ])
        );
        let lines: Vec<usize> = parse(Path::new("/p"), b"A=1\rB='x\r\ny'\r\n\rC=2", &|_| None)
            .unwrap()
            .iter()
            .map(|a| a.line)
            .collect();
        assert_eq!(lines, [1, 2, 5]);
    }

    #[test]
    fn escapes_and_expansion() {
        let got = run(
            "A=\"\\\\$HOME \\\"q\\\" \\'s\\' \\`b\\` \\x \\t|\"\nB=\\$HOME\\n\nC=\"${E:-$HOME}\" \nD=\"$(id) ${HOME\"\nE=${A:-}${X:-${HOME}}\n",
        );
        assert_eq!(
            got,
            pairs(&[
                ("A", "\\/h \"q\" 's' `b` \\x \t|"),
                ("B", "$HOME\\n"),
                ("C", "/h"),
                ("D", "$(id) ${HOME"),
                ("E", "\\/h \"q\" 's' `b` \\x \t|${HOME}"),
            ])
        );
    }

    #[test]
    fn expansion_bombs_are_stopped() {
        let mut src = String::from("A=0123456789abcdef\n");
        for (prev, name) in ["A", "B", "C", "D", "E", "F"]
            .iter()
            .zip(["B", "C", "D", "E", "F", "G"])
        {
            src.push_str(&format!(
                "{name}=\"{}\"\n",
                format!("${{{prev}}}").repeat(16)
            ));
        }
        let e = parse(Path::new("/p/.env"), src.as_bytes(), &|_| None).unwrap_err();
        assert!(e.to_string().contains("grows past 128 KiB"), "{e}");
    }

    #[test]
    fn pathological_input_is_linear() {
        // Each unclosed `${` must not rescan the rest of the value, nor each `"\` the file.
        let start = std::time::Instant::now();
        for src in [
            format!("A=\"{}\"\n", "${".repeat(60_000)),
            format!("A={}\n", "${x".repeat(40_000)),
            format!("A=\"{}\"\n", "\\\"".repeat(60_000)),
            "#\n".repeat(100_000),
        ] {
            parse(Path::new("/p"), src.as_bytes(), &|_| None).unwrap();
        }
        assert!(start.elapsed().as_secs() < 2, "{:?}", start.elapsed());
    }

    #[test]
    fn errors_name_the_line() {
        let e = error(b"A=1\nnot a line\n");
        assert!(e.starts_with("/p/.env:2: expected KEY=value"), "{e}");
        let e = error(b"A=1\nB=\"open\n");
        assert!(e.contains("/p/.env:2: unterminated \" quote"), "{e}");
        let e = error(b"1A=1\n");
        assert!(e.contains("invalid variable name"), "{e}");
        let e = error(b"A=1\r\rB='x'y\n");
        assert_eq!(
            e,
            "/p/.env:3: unexpected text after the quoted value of B: quote the whole value, or start a comment with `#`"
        );
        let e = error(b"A=1\nBARE\n");
        assert!(
            e.starts_with("/p/.env:2: expected KEY=value, found a name"),
            "{e}"
        );
    }

    #[test]
    fn nul_is_an_error_on_its_line() {
        for (src, line, name) in [
            (&b"A=x\0y\n"[..], 1, "A"),
            (b"A=1\nB=\"one\ntwo\0\"\n", 3, "B"),
            (b"A='\r\n\0'", 2, "A"),
            (b"A=`\0`", 1, "A"),
        ] {
            assert_eq!(
                error(src),
                format!(
                    "/p/.env:{line}: the value of {name} contains a NUL byte, which no environment variable can hold"
                ),
                "{src:?}"
            );
        }
    }

    #[test]
    fn errors_never_quote_the_file() {
        let secret = "root:$6$saltsalt$hashhashhash:19000:0:99999:7:::";
        for src in [
            format!("{secret}\n"),
            format!("A=1\n{secret}=x\n"),
            format!("A=\"{secret}\" {secret}\n"),
            format!("A='{secret}\n"),
            format!("{secret}: x\n"),
            format!("export {secret}\n"),
        ] {
            let e = error(src.as_bytes());
            assert!(e.starts_with("/p/.env:"), "{e}");
            for part in ["root", "salt", "hash", "19000", "99999"] {
                assert!(!e.contains(part), "{e}");
            }
        }
    }
}
