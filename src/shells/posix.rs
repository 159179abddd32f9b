//! Quoting for bash and zsh.
//!
//! Plain words stay bare, printable text goes in single quotes, and anything with control
//! characters or invalid UTF-8 uses ANSI-C quoting (`$'…'`, supported by bash and zsh), where
//! every such byte is written as a two-digit `\xHH` escape.

/// `value` as one bash/zsh word.
pub fn quote(value: &[u8]) -> String {
    let mut out = String::new();
    push(&mut out, value);
    out
}

/// Append `value` as one bash/zsh word to `out`.
pub fn push(out: &mut String, value: &[u8]) {
    if super::is_plain(value) {
        // Plain bytes are ASCII.
        out.push_str(std::str::from_utf8(value).unwrap_or_default());
        return;
    }
    let no_c0 = !value.iter().any(|&b| b < 0x20 || b == 0x7f);
    if no_c0
        && let Ok(text) = std::str::from_utf8(value)
        && (text.is_ascii() || !text.chars().any(char::is_control))
    {
        out.reserve(text.len() + 2);
        out.push('\'');
        for (i, part) in text.split('\'').enumerate() {
            if i > 0 {
                out.push_str("'\\''");
            }
            out.push_str(part);
        }
        out.push('\'');
        return;
    }
    out.reserve(value.len() * 2 + 3);
    out.push_str("$'");
    for chunk in value.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        push_hex(out, b);
                    }
                }
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            push_hex(out, b);
        }
    }
    out.push('\'');
}

fn push_hex(out: &mut String, b: u8) {
    use std::fmt::Write;
    let _ = write!(out, "\\x{b:02x}");
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn single_quotes_for_printable_text() {
        assert_eq!(quote(b""), "''");
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's"), "'it'\\''s'");
        assert_eq!(quote(b"$HOME `x` \"q\""), "'$HOME `x` \"q\"'");
        assert_eq!(
            quote("caf\u{e9} \u{1f600}".as_bytes()),
            "'caf\u{e9} \u{1f600}'"
        );
    }

    #[test]
    fn ansi_c_for_control_and_invalid_bytes() {
        assert_eq!(quote(b"a\nb"), "$'a\\nb'");
        assert_eq!(quote(b"\x01\x1b[0m"), "$'\\x01\\x1b[0m'");
        assert_eq!(quote(b"\xff'\\"), "$'\\xff\\'\\\\'");
        assert_eq!(quote(b"\x7f"), "$'\\x7f'");
    }
}
