//! Quoting for fish.
//!
//! fish's single quotes know only `\\` and `\'`; everything else inside is literal. Bytes that
//! are not printable text (control characters, anything non-ASCII) are written outside the
//! quotes as `\xHH` (ASCII) or `\XHH` (a raw byte), which fish joins with the quoted parts into
//! one word. Non-ASCII is always escaped byte by byte, so the result does not depend on the
//! locale fish runs in.

/// `value` as one fish word.
pub fn quote(value: &[u8]) -> String {
    let mut out = String::new();
    push(&mut out, value);
    out
}

/// Append `value` as one fish word to `out`.
pub fn push(out: &mut String, value: &[u8]) {
    if super::is_plain(value) {
        // Plain bytes are ASCII.
        out.push_str(std::str::from_utf8(value).unwrap_or_default());
        return;
    }
    let start = out.len();
    out.reserve(value.len() + 2);
    let mut quoted = false;
    for &b in value {
        let printable = (0x20..0x7f).contains(&b);
        if printable && !quoted {
            out.push('\'');
            quoted = true;
        } else if !printable && quoted {
            out.push('\'');
            quoted = false;
        }
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            0x20..0x7f => out.push(b as char),
            0x00..0x80 => push_hex(out, 'x', b),
            _ => push_hex(out, 'X', b),
        }
    }
    if quoted {
        out.push('\'');
    }
    if out.len() == start {
        out.push_str("''");
    }
}

fn push_hex(out: &mut String, letter: char, b: u8) {
    super::push_hex_escape(out, letter, b);
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(quote(b""), "''");
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's \\"), "'it\\'s \\\\'");
        assert_eq!(quote(b"a\nb"), "'a'\\x0a'b'");
        assert_eq!(quote(b"\xff"), "\\Xff");
        assert_eq!(quote("\u{e9}".as_bytes()), "\\Xc3\\Xa9");
    }
}
