//! `${VAR}` interpolation: `${VAR}`, `${VAR:-default}` (the default is interpolated too), and
//! `$$` for a literal `$`. A `$` followed by anything else is kept as is.
//!
//! The caller supplies the lookup, which decides what a name means (the environment so far,
//! another key of the same file, `STRATA_DIR`) and reports cycles; this module only scans.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The largest value interpolation may produce: Linux refuses any single environment string
/// over 128 KiB, and a chain of `${…}` could otherwise double a value line after line.
pub const MAX_VALUE: usize = 128 * 1024;

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpError {
    /// `${NAME}` with NAME not defined and no default.
    Unknown(String),
    /// `${` without its `}`, or a name that is not a variable name.
    Syntax(String),
    /// Raised by the lookup, passed through (e.g. a cycle).
    Lookup(String),
}

impl std::fmt::Display for InterpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterpError::Unknown(n) => write!(
                f,
                "unknown variable {n} in ${{{n}}} (define it above, or write ${{{n}:-default}})"
            ),
            InterpError::Syntax(m) | InterpError::Lookup(m) => f.write_str(m),
        }
    }
}

/// Interpolate `text`. `lookup(name)` returns the value of `name`, `Ok(None)` if undefined.
pub fn interpolate(
    text: &str,
    lookup: &mut dyn FnMut(&str) -> Result<Option<OsString>, InterpError>,
) -> Result<OsString, InterpError> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if out.len() > MAX_VALUE {
            return Err(too_big());
        }
        match (bytes[i], bytes.get(i + 1)) {
            (b'$', Some(b'$')) => {
                out.push(b'$');
                i += 2;
            }
            (b'$', Some(b'{')) => {
                let end = matching_brace(bytes, i + 2).ok_or_else(|| {
                    InterpError::Syntax(format!(
                        "unterminated ${{ in {text:?} (close it with }}, or write $$ for a literal $)"
                    ))
                })?;
                let inner = &text[i + 2..end];
                let (name, default) = match inner.find(":-") {
                    Some(k) => (&inner[..k], Some(&inner[k + 2..])),
                    None => (inner, None),
                };
                if !crate::names::valid_name(name) {
                    return Err(InterpError::Syntax(format!(
                        "invalid variable name {name:?} in ${{{inner}}}"
                    )));
                }
                let value = match lookup(name)? {
                    Some(v) if !(default.is_some() && v.is_empty()) => v,
                    _ => match default {
                        Some(d) => interpolate(d, lookup)?,
                        None => return Err(InterpError::Unknown(name.to_string())),
                    },
                };
                out.extend_from_slice(value.as_bytes());
                i = end + 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    if out.len() > MAX_VALUE {
        return Err(too_big());
    }
    Ok(OsString::from_vec(out))
}

fn too_big() -> InterpError {
    InterpError::Syntax(format!(
        "the value grows past {} KiB (no environment variable can be that large)",
        MAX_VALUE / 1024
    ))
}

/// Index of the `}` closing a `${` whose contents start at `from`, allowing nested `${…}`.
fn matching_brace(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<String, InterpError> {
        interpolate(text, &mut |n| {
            Ok(match n {
                "HOME" => Some("/home/u".into()),
                "EMPTY" => Some("".into()),
                _ => None,
            })
        })
        .map(|v| v.into_string().unwrap())
    }

    #[test]
    fn expands_defaults_and_dollars() {
        assert_eq!(run("${HOME}/x").unwrap(), "/home/u/x");
        assert_eq!(run("${NOPE:-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(run("${NOPE:-${HOME}}").unwrap(), "/home/u");
        assert_eq!(run("$$HOME $5 a$").unwrap(), "$HOME $5 a$");
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = run("${NOPE}").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown variable NOPE in ${NOPE} (define it above, or write ${NOPE:-default})"
        );
        assert!(matches!(run("${HOME"), Err(InterpError::Syntax(_))));
        assert!(matches!(run("${1X}"), Err(InterpError::Syntax(_))));
    }
}
