//! `--format docker`: a file for `docker run --env-file FILE` (and `docker create`, `exec`).
//!
//! docker's parser is `parseKeyValueFile` in docker/cli `pkg/kvfile/kvfile.go` (formerly
//! `opts/envfile.go`): a `bufio.Scanner` reads lines (split at `\n`; a `\r` that ends a line is
//! dropped), each at most `bufio.MaxScanTokenSize` (64 KiB) long; the file must be valid UTF-8;
//! leading whitespace is trimmed; empty lines and lines starting with `#` are skipped; the name
//! is everything before the first `=`, the value everything after it, verbatim: no quoting, no
//! escapes, trailing blanks kept. A line without `=` is not an unset but "copy this variable
//! from the environment of `docker`" (`lookupFn`).
//!
//! So a value is written as it is, and refused when docker would read it back differently: a
//! newline in it, a `\r` at its end, bytes that are not UTF-8, a line over the limit, and a value
//! that starts and ends with the same quote character: newer docker CLIs strip that pair
//! (`trimQuotes`, docker/cli#6805 for issue #3630), older ones keep it, so the same file means two
//! values. A variable strata unsets becomes a comment: the file cannot unset anything.

use super::{Outcome, Refused, Rendered, Var, lines_file, utf8};

/// `bufio.MaxScanTokenSize`: the longest line (its newline included) the scanner takes.
pub const MAX_LINE: usize = 64 * 1024;

/// The file for `vars`, or every variable docker would read back differently.
pub fn render(vars: &[Var<'_>]) -> Outcome<Rendered> {
    Ok(Rendered {
        text: lines_file(vars.iter().map(line).collect())?,
        notes: Vec::new(),
    })
}

fn line(v: &Var<'_>) -> Result<String, Refused> {
    let Some(value) = v.value else {
        return Ok(format!(
            "# {} is unset by strata (an --env-file cannot unset a variable)",
            v.name
        ));
    };
    let text = utf8(v.name, value, "docker")?;
    if text.contains('\n') {
        return Err(Refused::new(
            v.name,
            "its value has a newline, and docker reads one line per variable",
        ));
    }
    if text.ends_with('\r') {
        return Err(Refused::new(
            v.name,
            "its value ends with a carriage return, which docker drops with the line ending",
        ));
    }
    let quoted = text.len() >= 2
        && (text.starts_with('"') && text.ends_with('"')
            || text.starts_with('\'') && text.ends_with('\''));
    if quoted {
        return Err(Refused::new(
            v.name,
            "its value starts and ends with the same quote, which newer docker CLIs strip and older ones keep",
        ));
    }
    let line = format!("{}={text}", v.name);
    if line.len() + 1 > MAX_LINE {
        return Err(Refused::new(
            v.name,
            format!(
                "its line would be {} bytes, and docker reads lines of at most 64 KiB",
                line.len() + 1
            ),
        ));
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var<'a>(name: &'a str, value: &'a str) -> Var<'a> {
        Var {
            name,
            value: Some(value.as_bytes()),
        }
    }

    #[test]
    fn values_are_written_verbatim_and_unsets_are_comments() {
        let out = render(&[
            var("A", " spaced $HOME 'q' \"x "),
            Var {
                name: "OLD",
                value: None,
            },
        ])
        .unwrap();
        assert_eq!(
            String::from_utf8(out.text).unwrap(),
            "A= spaced $HOME 'q' \"x \n# OLD is unset by strata (an --env-file cannot unset a variable)\n"
        );
    }

    #[test]
    fn what_docker_cannot_read_back_is_refused_by_name() {
        let long = "x".repeat(MAX_LINE);
        let err = render(&[
            var("NL", "a\nb"),
            var("CR", "a\r"),
            var("Q1", "'a'"),
            var("Q2", "\"\""),
            var("OK", "'a\""),
            var("LONG", &long),
            Var {
                name: "BIN",
                value: Some(b"\xff"),
            },
        ])
        .unwrap_err();
        let names: Vec<&str> = err.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["NL", "CR", "Q1", "Q2", "LONG", "BIN"]);
    }
}
