//! What strata shows people: paths with `~` for the home directory, text with every control
//! character escaped, and the one way messages reach stderr.
//!
//! Paths, names and file content come from directories an attacker may have made: a directory
//! named `ESC]0;…` or a key with `ESC[2K` in it must not reach the terminal as an escape
//! sequence. So everything printed for a person goes through [`escape`]: C0 and C1 controls,
//! DEL and the Unicode bidirectional overrides are written as `\xHH` / `\u{…}`, invalid UTF-8
//! as `\xHH`.

use std::borrow::Cow;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Whether `c` must not reach a terminal as it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `text` with every character that could act on a terminal escaped.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Bytes as text for a person: valid UTF-8 as [`escape`] writes it, invalid bytes as `\xHH`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `path` for a message, with the home directory written as `~` and control bytes escaped.
pub fn tilde(path: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty() && h != "/")
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return if rest.as_os_str().is_empty() {
            "~".to_string()
        } else {
            format!("~/{}", escape_bytes(rest.as_os_str().as_bytes()))
        };
    }
    escape_bytes(path.as_os_str().as_bytes())
}

/// A command strata suggests, quoted so that it runs as printed when pasted into a shell:
/// `strata allow '/home/me/my app/.strata.toml'`. Arguments that begin with `~/` keep the `~`
/// unquoted so the shell expands it.
/// Words as they would be typed in a shell, each quoted where it needs to be, with anything that
/// could act on a terminal escaped (for aliases' words, which are argv, not shell code).
pub fn words(words: &[String]) -> String {
    let quoted: Vec<_> = words.iter().map(|w| shell_words::quote(w)).collect();
    escape(&quoted.join(" ")).into_owned()
}

pub fn command(words: &[&str]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match w.strip_prefix("~/") {
            Some(rest) if !rest.is_empty() => {
                out.push_str("~/");
                out.push_str(&shell_words::quote(rest));
            }
            _ => out.push_str(&shell_words::quote(w)),
        }
    }
    escape(&out).into_owned()
}

/// Print one message line per element of `lines` on stderr, each as `strata: …`, escaped,
/// in one write (stderr is unbuffered).
pub fn say_all<S: AsRef<str>>(lines: &[S]) {
    if lines.is_empty() {
        return;
    }
    let mut text = String::new();
    for l in lines {
        text.push_str("strata: ");
        text.push_str(&escape(l.as_ref()));
        text.push('\n');
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Print one message on stderr as `strata: …`, escaped.
pub fn say(line: &str) {
    say_all(&[line]);
}

/// `say!("…", args)`: [`say`] with `format!` arguments.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::display::say(&format!($($arg)*))
    };
}

/// The SGR parameters for a colour name (`red`, `bright-blue`, …) or a 256-colour index.
pub fn ansi_color(name: &str) -> Option<String> {
    const BASE: [&str; 8] = [
        "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
    ];
    let lower = name.trim().to_ascii_lowercase();
    if let Ok(n) = lower.parse::<u8>() {
        return Some(format!("38;5;{n}"));
    }
    let (bright, base) = match lower
        .strip_prefix("bright-")
        .or_else(|| lower.strip_prefix("bright_"))
    {
        Some(rest) => (true, rest),
        None => (false, lower.as_str()),
    };
    let i = BASE.iter().position(|c| *c == base)?;
    Some(format!("{}", if bright { 90 + i } else { 30 + i }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_never_pass() {
        assert_eq!(escape("plain ~/src/app é"), "plain ~/src/app é");
        assert_eq!(
            escape("a\x1b]0;pwned\x07b\x1b[2K"),
            "a\\x1b]0;pwned\\x07b\\x1b[2K"
        );
        assert_eq!(escape("\u{9b}x\u{202e}"), "\\x9bx\\u{202e}");
        assert_eq!(escape("l1\nl2\t"), "l1\\nl2\\t");
        assert_eq!(escape_bytes(b"ok\xff\x1b"), "ok\\xff\\x1b");
    }

    #[test]
    fn suggested_commands_paste() {
        assert_eq!(
            command(&["strata", "allow", "~/src/my app/.strata.toml"]),
            "strata allow ~/'src/my app/.strata.toml'"
        );
        assert_eq!(
            command(&["strata", "allow", "/tmp/it's"]),
            "strata allow '/tmp/it'\\''s'"
        );
        assert_eq!(command(&["strata", "allow"]), "strata allow");
    }
}
