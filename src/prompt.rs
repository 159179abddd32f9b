//! The prompt segment, rendered from [`PromptInfo`] with a format such as `{context · dir}`.
//!
//! The format language:
//! - text outside braces is literal and always shown;
//! - `{…}` holds one or more field names (`context`, `session`, `dir`, `untrusted`,
//!   `protected`: the word, while the active context's file says `protected = true`) and text
//!   around and between them. The text between two fields is a separator, shown only between
//!   fields that are not empty; the text before the first and after the last field is shown only
//!   when at least one field is not empty. So `{context · dir}` gives `prod · app`, `prod`,
//!   `app` or nothing, and `{[context] }` gives `[prod] ` or nothing;
//! - braces with no field name in them are literal text (a typo shows instead of vanishing).
//!
//! Values come from directories and files an attacker may have named: control characters are
//! escaped, and `%` is doubled for zsh, whose prompt expands it.

use crate::state::PromptInfo;

/// How the output is put into a shell's prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markers {
    /// For `$(…)` in bash's PS1: colour codes between `\001` and `\002` (bash reads `\[ \]` only
    /// in PS1's own text, never in the output of a command substitution).
    Bash,
    /// For zsh's PROMPT: colour codes between `%{ %}`, and every `%` of the text doubled.
    Zsh,
    /// Raw escape sequences (fish, tmux, anything that measures them itself).
    Raw,
}

/// The field names a format can use.
pub const FIELDS: [&str; 5] = ["context", "session", "dir", "untrusted", "protected"];

/// A piece of a parsed format.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    /// Literal text.
    Text(&'a str),
    /// A `{…}` group: text and fields, alternating, starting and ending with text.
    Group(Vec<Part<'a>>),
}

#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    Text(&'a str),
    Field(&'a str),
}

/// Split a group's inside into text and known field names.
/// `None` when it names no field (then the braces are literal text).
fn group(inner: &str) -> Option<Vec<Part<'_>>> {
    let bytes = inner.as_bytes();
    let mut parts = Vec::new();
    let (mut text_start, mut i) = (0, 0);
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let word_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        let word = &inner[word_start..i];
        if FIELDS.contains(&word) {
            parts.push(Part::Text(&inner[text_start..word_start]));
            parts.push(Part::Field(word));
            text_start = i;
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.push(Part::Text(&inner[text_start..]));
    Some(parts)
}

fn parse(format: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        match group(inner) {
            Some(parts) => {
                if open > 0 {
                    out.push(Piece::Text(&rest[..open]));
                }
                out.push(Piece::Group(parts));
            }
            None => out.push(Piece::Text(&rest[..open + close + 1])),
        }
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// Check a format: every `{…}` names at least one field. The error says which group does not.
pub fn check_format(format: &str) -> Result<(), String> {
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(format!(
                "unclosed {{ in {format:?} (fields are {})",
                FIELDS.join(", ")
            ));
        };
        let inner = &rest[open + 1..open + close];
        if group(inner).is_none() {
            return Err(format!(
                "{{{inner}}} names no field (fields are {})",
                FIELDS.join(", ")
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

/// A context colour as strata names it to other programs (`STRATA_PROMPT_COLOR`): lower
/// case, `bright-` with a hyphen, a 256-colour index as its number; `None` for no colour or
/// one strata does not know.
pub fn color_name(color: &str) -> Option<String> {
    crate::display::ansi_color(color)?;
    let lower = color.trim().to_ascii_lowercase();
    Some(match lower.parse::<u8>() {
        Ok(n) => n.to_string(),
        Err(_) => lower.replace('_', "-"),
    })
}

/// Text for the prompt: control characters escaped, `%` doubled for zsh.
fn clean(text: &str, markers: Option<Markers>) -> String {
    let safe = crate::display::escape(text);
    if markers == Some(Markers::Zsh) {
        safe.replace('%', "%%")
    } else {
        safe.into_owned()
    }
}

/// Render `format` with the state's facts, for the shell `markers` name (`None`: plain text);
/// with `colour`, the context is coloured with its `color`, wrapped in that shell's markers.
pub fn render(
    format: &str,
    info: &PromptInfo,
    session: &str,
    markers: Option<Markers>,
    colour: bool,
) -> String {
    let color = markers;
    let value = |name: &str| -> &str {
        match name {
            "context" => &info.context,
            "session" => session,
            "dir" => &info.dir,
            "untrusted" if info.untrusted => "untrusted",
            "protected" if info.protected && !info.context.is_empty() => "protected",
            _ => "",
        }
    };
    let sgr = markers
        .filter(|_| colour)
        .and_then(|m| crate::display::ansi_color(&info.color).map(|c| (m, c)));
    let field = |name: &str, out: &mut String| {
        let text = clean(value(name), color);
        match (&sgr, name) {
            (Some((m, code)), "context") => {
                let (open, close) = match m {
                    Markers::Bash => ("\x01", "\x02"),
                    Markers::Zsh => ("%{", "%}"),
                    Markers::Raw => ("", ""),
                };
                out.push_str(&format!(
                    "{open}\x1b[{code}m{close}{text}{open}\x1b[0m{close}"
                ));
            }
            _ => out.push_str(&text),
        }
    };
    let mut out = String::new();
    for piece in parse(format) {
        match piece {
            Piece::Text(t) => out.push_str(&clean(t, color)),
            // Text, field, text, …, field, text: the first and last texts frame the group, the
            // others separate fields.
            Piece::Group(parts) => {
                let text = |i: usize| match parts[i] {
                    Part::Text(t) => clean(t, color),
                    Part::Field(_) => String::new(),
                };
                let shown: Vec<usize> = (0..parts.len())
                    .filter(|&i| matches!(parts[i], Part::Field(f) if !value(f).is_empty()))
                    .collect();
                if shown.is_empty() {
                    continue;
                }
                out.push_str(&text(0));
                for (k, &i) in shown.iter().enumerate() {
                    if k > 0 {
                        // The separator written just before this field.
                        out.push_str(&text(i - 1));
                    }
                    if let Part::Field(f) = parts[i] {
                        field(f, &mut out);
                    }
                }
                out.push_str(&text(parts.len() - 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(context: &str, dir: &str) -> PromptInfo {
        PromptInfo {
            context: context.into(),
            color: "red".into(),
            dir: dir.into(),
            untrusted: false,
            protected: false,
            format: String::new(),
        }
    }

    #[test]
    fn colour_names_for_other_programs() {
        assert_eq!(color_name("red").as_deref(), Some("red"));
        assert_eq!(color_name(" Bright_Blue ").as_deref(), Some("bright-blue"));
        assert_eq!(color_name("0208").as_deref(), Some("208"));
        assert_eq!(color_name(""), None);
        assert_eq!(color_name("red;rm -rf"), None);
    }

    #[test]
    fn a_protected_context_is_marked_by_default() {
        let f = crate::settings::DEFAULT_PROMPT_FORMAT;
        let mut i = info("prod", "app");
        assert_eq!(render(f, &i, "", None, false), "prod · app");
        i.protected = true;
        assert_eq!(render(f, &i, "", None, false), "protected prod · app");
        assert_eq!(
            render("{context}{ [protected]}", &i, "", None, false),
            "prod [protected]"
        );
        // The marker goes with the context: none without one.
        let none = PromptInfo {
            protected: true,
            ..info("", "app")
        };
        assert_eq!(render(f, &none, "", None, false), "app");
    }

    #[test]
    fn separators_show_only_between_fields_that_are_there() {
        let f = crate::settings::DEFAULT_PROMPT_FORMAT;
        assert_eq!(
            render(f, &info("prod", "app"), "", None, false),
            "prod · app"
        );
        assert_eq!(render(f, &info("", "app"), "", None, false), "app");
        assert_eq!(render(f, &info("prod", ""), "", None, false), "prod");
        assert_eq!(render(f, &info("", ""), "", None, false), "");
        assert_eq!(
            render("{[context] }{dir}", &info("", "x"), "s1", None, false),
            "x"
        );
        assert_eq!(
            render("{[context] }{dir}", &info("p", "x"), "s1", None, false),
            "[p] x"
        );
    }

    #[test]
    fn literal_text_is_never_dropped() {
        assert_eq!(
            render("[{untrusted}]", &info("", "x"), "", None, false),
            "[]"
        );
        assert_eq!(
            render("({context}) ", &info("", "x"), "", None, false),
            "() "
        );
        assert_eq!(
            render("({context}) ", &info("p", "x"), "", None, false),
            "(p) "
        );
        assert_eq!(
            render("{nope} {dir} {", &info("", "x"), "", None, false),
            "{nope} x {"
        );
        assert!(check_format("{nope}").is_err());
        assert!(check_format("{context · dir} [{untrusted}]").is_ok());
    }

    #[test]
    fn colour_is_wrapped_for_each_shell() {
        let i = info("prod", "app");
        let f = "{context}";
        assert_eq!(
            render(f, &i, "", Some(Markers::Bash), true),
            "\x01\x1b[31m\x02prod\x01\x1b[0m\x02"
        );
        assert_eq!(
            render(f, &i, "", Some(Markers::Zsh), true),
            "%{\x1b[31m%}prod%{\x1b[0m%}"
        );
        assert_eq!(
            render(f, &i, "", Some(Markers::Raw), true),
            "\x1b[31mprod\x1b[0m"
        );
    }

    #[test]
    fn hostile_directory_names_stay_text() {
        let i = info("", "100%\x1b]0;pwned\x07");
        assert_eq!(
            render("{dir}", &i, "", Some(Markers::Zsh), false),
            "100%%\\x1b]0;pwned\\x07"
        );
        assert_eq!(
            render("{dir}", &i, "", None, false),
            "100%\\x1b]0;pwned\\x07"
        );
    }
}
