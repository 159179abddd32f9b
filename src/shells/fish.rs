//! Quoting for fish.
//!
//! fish's single quotes know only `\\` and `\'`; everything else inside is literal. Bytes that
//! are not printable text (control characters, anything non-ASCII) are written outside the
//! quotes as `\xHH` (ASCII) or `\XHH` (a raw byte), which fish joins with the quoted parts into
//! one word. Non-ASCII is always escaped byte by byte, so the result does not depend on the
//! locale fish runs in.

/// Append `value` as one fish word to `out` (printable ASCII only).
pub fn push(out: &mut Vec<u8>, value: &[u8]) {
    if super::is_plain(value) {
        out.extend_from_slice(value);
        return;
    }
    let start = out.len();
    out.reserve(value.len() + 2);
    let mut quoted = false;
    for &b in value {
        let printable = (0x20..0x7f).contains(&b);
        if printable != quoted {
            out.push(b'\'');
            quoted = printable;
        }
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            0x20..0x7f => out.push(b),
            0x00..0x80 => super::push_hex_escape(out, b'x', b),
            _ => super::push_hex_escape(out, b'X', b),
        }
    }
    if quoted {
        out.push(b'\'');
    }
    if out.len() == start {
        out.extend_from_slice(b"''");
    }
}

#[cfg(test)]
mod tests {
    fn quote(value: &[u8]) -> String {
        crate::shells::Shell::Fish.quote(value)
    }

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
