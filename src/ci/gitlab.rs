//! `--format gitlab`: a dotenv report for `artifacts:reports:dotenv`, whose variables GitLab
//! gives to the later jobs of the pipeline.
//!
//! GitLab reads it with `Ci::ParseDotenvArtifactService` (app/services/ci/parse_dotenv_artifact_service.rb):
//! the file is converted to UTF-8 (invalid bytes replaced) and must be smaller than the
//! `dotenv_size` limit (5 KB by default); every line must match `^(.*?)=(.*)$`, so there are no
//! comments, no blank lines and no multi-line values; key and value are `strip`ped of leading and
//! trailing whitespace (`\t\n\v\f\r`, space, NUL); quotes are kept as they are; the key must match
//! `\A[a-zA-Z0-9_]+\z` and be at most 255 characters (`Ci::HasVariable`); more variables than
//! the `dotenv_variables` limit (20 by default on GitLab Self-Managed; 50, 100 or 150 by plan
//! on GitLab.com) fail the upload (doc/ci/yaml/artifacts_reports.md).
//!
//! The variables are stored with `raw: false`, and the runner expands a non-raw variable's value
//! before the job sees it (`JobVariables.Expand`, gitlab-runner common/variables.go: `$NAME` and
//! `${NAME}` are replaced, `$$` is a literal `$`). So every `$` is written `$$`.
//!
//! Refused by name: a newline, blanks at either end, bytes that are not UTF-8, a name over 255
//! characters. The size and count limits are each instance's own: going over them is a note.
//! A variable strata unsets is left out with a note (the report cannot unset, and may not hold
//! a comment).

use super::{Outcome, Refused, Rendered, Var, lines_file, utf8};

/// GitLab's default `dotenv_size`: the report must be smaller than this.
pub const DEFAULT_SIZE_LIMIT: usize = 5 * 1024;
/// GitLab Self-Managed's default `dotenv_variables`.
pub const DEFAULT_VARIABLE_LIMIT: usize = 20;
/// The longest key `Ci::HasVariable` accepts.
pub const MAX_KEY: usize = 255;

/// Ruby's `String#strip` removes these (and NUL, which a value cannot hold) at either end.
fn ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

/// The report for `vars`, or every variable GitLab would read back differently.
pub fn render(vars: &[Var<'_>]) -> Outcome<Rendered> {
    let mut notes = Vec::new();
    let mut checked = Vec::new();
    for v in vars {
        match v.value {
            Some(value) => checked.push(line(v.name, value)),
            None => notes.push(format!(
                "{}: strata unsets it here, but a dotenv report can only set variables: left out",
                v.name
            )),
        }
    }
    let count = checked.len();
    let text = lines_file(checked)?;
    if text.len() >= DEFAULT_SIZE_LIMIT {
        notes.push(format!(
            "the report is {} bytes, and GitLab's default limit is 5 KB (below {DEFAULT_SIZE_LIMIT} bytes); an instance may allow more (dotenv_size)",
            text.len()
        ));
    }
    if count > DEFAULT_VARIABLE_LIMIT {
        notes.push(format!(
            "the report has {} variables, and GitLab Self-Managed accepts {DEFAULT_VARIABLE_LIMIT} by default (GitLab.com: 50 Free, 100 Premium, 150 Ultimate; dotenv_variables)",
            count
        ));
    }
    Ok(Rendered { text, notes })
}

fn line(name: &str, value: &[u8]) -> Result<String, Refused> {
    if name.len() > MAX_KEY {
        return Err(Refused::new(
            name,
            format!("GitLab accepts names of at most {MAX_KEY} characters"),
        ));
    }
    let text = utf8(name, value, "GitLab")?;
    if text.contains('\n') {
        return Err(Refused::new(
            name,
            "its value has a newline, and a dotenv report holds one line per variable",
        ));
    }
    if text.starts_with(ruby_space) || text.ends_with(ruby_space) {
        return Err(Refused::new(
            name,
            "its value starts or ends with a blank, which GitLab strips",
        ));
    }
    Ok(format!("{name}={}", text.replace('$', "$$")))
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
    fn values_keep_quotes_and_double_dollars() {
        let out = render(&[
            var("A", "'quoted' \"too\" a=b"),
            var("PRICE", "$5 and ${X}"),
            Var {
                name: "OLD",
                value: None,
            },
        ])
        .unwrap();
        assert_eq!(
            String::from_utf8(out.text).unwrap(),
            "A='quoted' \"too\" a=b\nPRICE=$$5 and $${X}\n"
        );
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
        assert!(out.notes[0].starts_with("OLD: "), "{:?}", out.notes);
    }

    #[test]
    fn what_gitlab_cannot_hold_is_refused_by_name() {
        let long = "N".repeat(MAX_KEY + 1);
        let err = render(&[
            var("NL", "a\nb"),
            var("LEAD", " a"),
            var("TRAIL", "a\t"),
            var("MID", "a b\rc"),
            var(&long, "x"),
        ])
        .unwrap_err();
        let names: Vec<&str> = err.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["NL", "LEAD", "TRAIL", long.as_str()]);
    }

    #[test]
    fn limits_are_notes() {
        let names: Vec<String> = (0..21).map(|i| format!("V{i}")).collect();
        let big = "x".repeat(300);
        let vars: Vec<Var<'_>> = names.iter().map(|n| var(n, &big)).collect();
        let out = render(&vars).unwrap();
        assert_eq!(out.notes.len(), 2, "{:?}", out.notes);
    }
}
