//! The prompt segment: `{context} · {dir}` and friends, rendered from [`PromptInfo`].
//!
//! A placeholder that is empty disappears together with the separator next to it, so the
//! default format gives `prod · app`, `prod`, `app`, or nothing.

use crate::state::PromptInfo;

/// How colour codes are wrapped so the shell does not count them as printed characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markers {
    /// `\[ … \]` for bash's PS1.
    Bash,
    /// `%{ … %}` for zsh's PROMPT.
    Zsh,
    /// Raw escape sequences (fish, tmux, anything that measures them itself).
    Raw,
}

enum Piece {
    Text(String),
    Field(String),
}

fn parse(format: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(Piece::Text(rest[..open + 1].to_string()));
            rest = &rest[open + 1..];
            continue;
        }
        if open > 0 {
            out.push(Piece::Text(rest[..open].to_string()));
        }
        out.push(Piece::Field(name.to_string()));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    out
}

fn is_separator(text: &str) -> bool {
    text.chars().all(|c| !c.is_alphanumeric())
}

/// Render `format` with the state's facts. `color` wraps the context's colour in the given
/// markers; `None` means no colour at all.
pub fn render(format: &str, info: &PromptInfo, session: &str, color: Option<Markers>) -> String {
    let value = |name: &str| -> String {
        match name {
            "context" => info.context.clone(),
            "session" => session.to_string(),
            "dir" => info.dir.clone(),
            "untrusted" if info.untrusted => "untrusted".to_string(),
            _ => String::new(),
        }
    };
    let mut pieces: Vec<(bool, String, bool)> = parse(format)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => (false, t, false),
            Piece::Field(f) => {
                let v = value(&f);
                (true, v, f == "context")
            }
        })
        .collect();
    // Drop empty fields and one separator beside each (the one after, else the one before).
    let mut i = 0;
    while i < pieces.len() {
        if pieces[i].0 && pieces[i].1.is_empty() {
            pieces.remove(i);
            if i < pieces.len() && !pieces[i].0 && is_separator(&pieces[i].1) {
                pieces.remove(i);
            } else if i > 0 && !pieces[i - 1].0 && is_separator(&pieces[i - 1].1) {
                pieces.remove(i - 1);
                i -= 1;
            }
            continue;
        }
        i += 1;
    }
    let sgr = color.and_then(|m| crate::display::ansi_color(&info.color).map(|c| (m, c)));
    let mut out = String::new();
    for (is_field, text, is_context) in pieces {
        match (is_field && is_context, &sgr) {
            (true, Some((m, code))) => {
                let (open, close) = match m {
                    Markers::Bash => ("\\[", "\\]"),
                    Markers::Zsh => ("%{", "%}"),
                    Markers::Raw => ("", ""),
                };
                out.push_str(&format!(
                    "{open}\x1b[{code}m{close}{text}{open}\x1b[0m{close}"
                ));
            }
            _ => out.push_str(&text),
        }
    }
    out.trim().to_string()
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
            format: String::new(),
        }
    }

    #[test]
    fn empty_parts_take_their_separator_along() {
        let f = crate::settings::DEFAULT_PROMPT_FORMAT;
        assert_eq!(render(f, &info("prod", "app"), "", None), "prod · app");
        assert_eq!(render(f, &info("", "app"), "", None), "app");
        assert_eq!(render(f, &info("prod", ""), "", None), "prod");
        assert_eq!(render(f, &info("", ""), "", None), "");
        assert_eq!(
            render("[{session}] {dir}{untrusted}", &info("", "x"), "s1", None),
            "[s1] x"
        );
        assert_eq!(render("{nope} {dir} {", &info("", "x"), "", None), "x {");
    }

    #[test]
    fn colour_is_wrapped_for_each_shell() {
        let i = info("prod", "app");
        let f = "{context}";
        assert_eq!(
            render(f, &i, "", Some(Markers::Bash)),
            "\\[\x1b[31m\\]prod\\[\x1b[0m\\]"
        );
        assert_eq!(
            render(f, &i, "", Some(Markers::Zsh)),
            "%{\x1b[31m%}prod%{\x1b[0m%}"
        );
        assert_eq!(render(f, &i, "", Some(Markers::Raw)), "\x1b[31mprod\x1b[0m");
    }
}
