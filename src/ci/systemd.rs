//! `--format systemd`: a file for a unit's `EnvironmentFile=` (systemd.exec(5)).
//!
//! systemd reads it with `parse_env_file_internal` (src/basic/env-file.c), documented under
//! `EnvironmentFile=` in systemd.exec(5): `NAME=value` per line; `#` and `;` start comments;
//! an unquoted value loses leading and trailing blanks and takes backslash escapes; a
//! single-quoted value is verbatim but cannot hold a `'`; a double-quoted value may span lines
//! and keeps every byte verbatim except `\` followed by one of `` "\`$ `` (which yields that
//! character) or by a newline (which joins lines). Each assignment must then be valid UTF-8
//! in systemd's sense (`utf8_is_valid`: Unicode scalar values other than the noncharacters
//! U+FDD0–U+FDEF and U+xFFFE/U+xFFFF), or systemd ignores it with a log line. No `$VAR` is
//! expanded in an `EnvironmentFile=`.
//!
//! So every value is written double-quoted with those four characters escaped, which carries
//! newlines, tabs, quotes and control characters as they are, and a value systemd would drop
//! is refused by name. A variable strata unsets becomes a comment: the file cannot unset
//! (`UnsetEnvironment=` in the unit can).

use super::{Outcome, Refused, Rendered, Var, lines_file, utf8};

/// The file for `vars`, or every variable systemd would ignore.
pub fn render(vars: &[Var<'_>]) -> Outcome<Rendered> {
    Ok(Rendered {
        text: lines_file(vars.iter().map(line).collect())?,
        notes: Vec::new(),
    })
}

fn line(v: &Var<'_>) -> Result<String, Refused> {
    let Some(value) = v.value else {
        return Ok(format!(
            "# {} is unset by strata (an EnvironmentFile cannot unset; UnsetEnvironment={} in the unit can)",
            v.name, v.name
        ));
    };
    let text = utf8(v.name, value, "systemd")?;
    if let Some(c) = text.chars().find(|&c| is_noncharacter(c)) {
        return Err(Refused::new(
            v.name,
            format!(
                "its value holds U+{:04X}, a Unicode noncharacter, and systemd ignores an assignment with one",
                u32::from(c)
            ),
        ));
    }
    let mut out = String::with_capacity(v.name.len() + text.len() + 3);
    out.push_str(v.name);
    out.push_str("=\"");
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// What systemd's `unichar_is_valid` rejects besides surrogates (which UTF-8 cannot hold).
fn is_noncharacter(c: char) -> bool {
    let c = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_double_quoted_with_four_escapes() {
        let out = render(&[
            Var {
                name: "A",
                value: Some("a \"b\" \\ `c` $D\nline2\t;#".as_bytes()),
            },
            Var {
                name: "OLD",
                value: None,
            },
        ])
        .unwrap();
        assert_eq!(
            String::from_utf8(out.text).unwrap(),
            "A=\"a \\\"b\\\" \\\\ \\`c\\` \\$D\nline2\t;#\"\n# OLD is unset by strata (an EnvironmentFile cannot unset; UnsetEnvironment=OLD in the unit can)\n"
        );
    }

    #[test]
    fn values_systemd_ignores_are_refused() {
        let err = render(&[
            Var {
                name: "BIN",
                value: Some(b"\xc3"),
            },
            Var {
                name: "NONCHAR",
                value: Some("a\u{FFFE}".as_bytes()),
            },
            Var {
                name: "FINE",
                value: Some("\u{FEFF}é😀".as_bytes()),
            },
        ])
        .unwrap_err();
        let names: Vec<&str> = err.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["BIN", "NONCHAR"]);
    }
}
