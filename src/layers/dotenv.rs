//! The common dotenv dialect: `KEY=value`, `export KEY=value`, `# comments`, single quotes
//! literal, double quotes with `\n`-style escapes and `$VAR` / `${VAR}` / `${VAR:-default}`
//! expansion, multi-line quoted values, unquoted values trimmed and cut at ` #`.
//!
//! Expansion sees keys defined earlier in the same file, then the caller's lookup (the
//! environment resolved so far); an unknown variable expands to nothing, as in other dotenv
//! loaders. Errors name the file and line.

use anyhow::{Result, anyhow};
use std::borrow::Cow;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use super::file::valid_name;
use crate::display::tilde;

/// One `KEY=value` line, expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Variable name.
    pub name: String,
    /// Expanded value.
    pub value: OsString,
    /// Line the key is on, 1-based.
    pub line: usize,
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }
    fn skip_blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }
    fn rest_of_line(&mut self) -> &[u8] {
        let start = self.i;
        while !matches!(self.peek(), None | Some(b'\n')) {
            self.bump();
        }
        &self.s[start..self.i]
    }
}

/// Parse and expand a dotenv file's bytes.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    lookup: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Vec<Assignment>> {
    let mut c = Cursor {
        s: bytes,
        i: 0,
        line: 1,
    };
    let mut out: Vec<Assignment> =
        Vec::with_capacity(bytes.iter().filter(|&&b| b == b'\n').count() + 1);
    // Keys defined so far, by name (borrowed from `bytes`): their index in `out`.
    let mut defined: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let err = |line: usize, msg: String| anyhow!("{}:{line}: {msg}", tilde(path));
    loop {
        // Skip blank lines and comments.
        loop {
            c.skip_blank();
            match c.peek() {
                Some(b'\n' | b'\r') => {
                    c.bump();
                }
                Some(b'#') => {
                    c.rest_of_line();
                }
                _ => break,
            }
        }
        if c.peek().is_none() {
            break;
        }
        let line = c.line;
        let mut key_bytes = read_word(&mut c);
        if key_bytes == b"export" && matches!(c.peek(), Some(b' ' | b'\t')) {
            c.skip_blank();
            key_bytes = read_word(&mut c);
        }
        let key = String::from_utf8_lossy(key_bytes).into_owned();
        c.skip_blank();
        if c.bump() != Some(b'=') {
            return Err(err(
                line,
                format!("expected KEY=value, found {key:?} without `=`"),
            ));
        }
        if !valid_name(&key) {
            return Err(err(line, format!("invalid variable name {key:?}")));
        }
        c.skip_blank();
        let expand = |raw: Cow<[u8]>, defined: &rustc_hash::FxHashMap<&str, usize>| {
            expand(raw, &|n: &str| {
                defined
                    .get(n)
                    .map(|&i| out[i].value.clone())
                    .or_else(|| lookup(n))
            })
            .map_err(|msg| err(line, format!("{key}: {msg}")))
        };
        let value = match c.peek() {
            Some(q @ (b'\'' | b'"')) => {
                c.bump();
                let start_line = c.line;
                // Sized for the common case, a value without escapes on one line.
                let mut raw = Vec::with_capacity(
                    c.s[c.i..]
                        .iter()
                        .position(|&b| b == q || b == b'\n')
                        .unwrap_or(0),
                );
                loop {
                    match c.bump() {
                        None => {
                            return Err(err(
                                start_line,
                                format!("unterminated {} quote in the value of {key}", q as char),
                            ));
                        }
                        Some(b) if b == q => break,
                        Some(b'\\') if q == b'"' => match c.bump() {
                            Some(b'n') => raw.push(b'\n'),
                            Some(b't') => raw.push(b'\t'),
                            Some(b'r') => raw.push(b'\r'),
                            Some(b'$') => raw.extend_from_slice(b"\\$"),
                            Some(b) => raw.push(b),
                            None => {
                                return Err(err(
                                    start_line,
                                    format!("unterminated \" quote in the value of {key}"),
                                ));
                            }
                        },
                        Some(b) => raw.push(b),
                    }
                }
                let trailing = c.rest_of_line();
                let trailing = trailing.trim_ascii();
                if !trailing.is_empty() && !trailing.starts_with(b"#") {
                    return Err(err(
                        c.line,
                        format!("unexpected text after the quoted value of {key}"),
                    ));
                }
                if q == b'"' {
                    expand(Cow::Owned(raw), &defined)?
                } else {
                    OsString::from_vec(raw)
                }
            }
            _ => {
                let rest = c.rest_of_line();
                let cut = rest
                    .windows(2)
                    .position(|w| matches!(w[0], b' ' | b'\t') && w[1] == b'#')
                    .map_or(rest, |k| &rest[..k]);
                let cut = if cut.starts_with(b"#") {
                    &cut[..0]
                } else {
                    cut
                };
                expand(Cow::Borrowed(cut.trim_ascii()), &defined)?
            }
        };
        if let Ok(name) = std::str::from_utf8(key_bytes) {
            defined.insert(name, out.len());
        }
        out.push(Assignment {
            name: key,
            value,
            line,
        });
    }
    Ok(out)
}

fn read_word<'a>(c: &mut Cursor<'a>) -> &'a [u8] {
    let start = c.i;
    while matches!(c.peek(), Some(b) if !matches!(b, b'=' | b' ' | b'\t' | b'\n' | b'\r')) {
        c.bump();
    }
    &c.s[start..c.i]
}

/// Expand `$VAR`, `${VAR}`, `${VAR:-default}`; `\$` is a literal `$`. Fails when the value
/// grows past [`super::interp::MAX_VALUE`] (a chain of references doubling it, say).
fn expand(raw: Cow<[u8]>, lookup: &dyn Fn(&str) -> Option<OsString>) -> Result<OsString, String> {
    let too_big = || {
        format!(
            "the value grows past {} KiB while expanding variables (no environment variable can be that large)",
            super::interp::MAX_VALUE / 1024
        )
    };
    if !raw.contains(&b'$') {
        return Ok(OsString::from_vec(raw.into_owned()));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if out.len() > super::interp::MAX_VALUE {
            return Err(too_big());
        }
        match raw[i] {
            b'\\' if raw.get(i + 1) == Some(&b'$') => {
                out.push(b'$');
                i += 2;
            }
            b'$' if raw.get(i + 1) == Some(&b'{') => {
                let Some(end) = raw[i + 2..].iter().position(|&b| b == b'}') else {
                    out.extend_from_slice(&raw[i..]);
                    break;
                };
                let inner = String::from_utf8_lossy(&raw[i + 2..i + 2 + end]).into_owned();
                let (name, default) = match inner.split_once(":-") {
                    Some((n, d)) => (n.to_string(), Some(d.to_string())),
                    None => (inner.clone(), None),
                };
                match (lookup(&name), default) {
                    (Some(v), Some(d)) if v.is_empty() => out.extend_from_slice(d.as_bytes()),
                    (Some(v), _) => out.extend_from_slice(v.as_bytes()),
                    (None, Some(d)) => out
                        .extend_from_slice(expand(Cow::Borrowed(d.as_bytes()), lookup)?.as_bytes()),
                    (None, None) => {}
                }
                i += end + 3;
            }
            b'$' if raw
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') =>
            {
                let len = raw[i + 1..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .unwrap_or(raw.len() - i - 1);
                let name = String::from_utf8_lossy(&raw[i + 1..i + 1 + len]).into_owned();
                if let Some(v) = lookup(&name) {
                    out.extend_from_slice(v.as_bytes());
                }
                i += 1 + len;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    if out.len() > super::interp::MAX_VALUE {
        return Err(too_big());
    }
    Ok(OsString::from_vec(out))
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
    fn errors_name_the_line() {
        let e = parse(Path::new("/p/.env"), b"A=1\nnot a line\n", &|_| None).unwrap_err();
        assert!(
            e.to_string().starts_with("/p/.env:2: expected KEY=value"),
            "{e}"
        );
        let e = parse(Path::new("/p/.env"), b"A=1\nB=\"open\n", &|_| None).unwrap_err();
        assert!(
            e.to_string().contains("/p/.env:2: unterminated \" quote"),
            "{e}"
        );
        let e = parse(Path::new("/p/.env"), b"1A=1\n", &|_| None).unwrap_err();
        assert!(e.to_string().contains("invalid variable name"), "{e}");
    }
}
