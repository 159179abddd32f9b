//! Quoting for elvish.
//!
//! elvish never expands anything inside quotes. Printable ASCII goes in single quotes (where
//! `''` is a quote); anything else in double quotes, where `\\`, `\"` and `\xHH` are the only
//! escapes used and `\xHH` is one byte, so every byte but NUL round-trips, invalid UTF-8
//! included. Nothing but ASCII is printed, so the locale elvish runs in does not matter.

/// Append `value` as one elvish word to `out`.
pub fn push(out: &mut Vec<u8>, value: &[u8]) {
    let printable = |b: &u8| (0x20..0x7f).contains(b);
    if value.iter().all(printable) {
        out.reserve(value.len() + 2);
        out.push(b'\'');
        for &b in value {
            if b == b'\'' {
                out.push(b'\'');
            }
            out.push(b);
        }
        out.push(b'\'');
        return;
    }
    out.reserve(value.len() * 2 + 2);
    out.push(b'"');
    for &b in value {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            0x20..0x7f => out.push(b),
            _ => super::push_hex_escape(out, b'x', b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    fn quote(value: &[u8]) -> String {
        crate::shells::Shell::Elvish.quote(value)
    }

    #[test]
    fn single_quotes_for_printable_text() {
        assert_eq!(quote(b""), "''");
        assert_eq!(quote(b"it's $x"), "'it''s $x'");
        assert_eq!(quote(b"/usr/bin"), "'/usr/bin'");
    }

    #[test]
    fn double_quotes_and_byte_escapes_for_the_rest() {
        assert_eq!(quote(b"a\nb\"\\"), "\"a\\x0ab\\\"\\\\\"");
        assert_eq!(quote(b"\xff'"), "\"\\xff'\"");
        assert_eq!(quote("é".as_bytes()), "\"\\xc3\\xa9\"");
    }
}
