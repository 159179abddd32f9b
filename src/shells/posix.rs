//! Quoting for bash and zsh.
//!
//! Plain words stay bare, printable ASCII goes in single quotes, and anything else uses ANSI-C
//! quoting (`$'…'`, supported by bash and zsh), where every byte outside printable ASCII is
//! written as a two-digit `\xHH` escape. Nothing but ASCII is ever printed raw: how a shell
//! splits raw bytes into characters depends on its locale (in Shift-JIS, `0x81 0x5C` is one
//! character, which would swallow the `\` of a `\'`), so the result must not.

/// Append `value` as one bash/zsh word to `out` (printable ASCII only).
pub fn push(out: &mut Vec<u8>, value: &[u8]) {
    if super::is_plain(value) {
        out.extend_from_slice(value);
        return;
    }
    let printable = |b: &u8| (0x20..0x7f).contains(b);
    if value.iter().all(printable) {
        out.reserve(value.len() + 2);
        out.push(b'\'');
        for (i, run) in value.split(|&b| b == b'\'').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"'\\''");
            }
            out.extend_from_slice(run);
        }
        out.push(b'\'');
        return;
    }
    out.reserve(value.len() * 2 + 3);
    out.extend_from_slice(b"$'");
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x20..0x7f => out.push(b),
            _ => super::push_hex_escape(out, b'x', b),
        }
    }
    out.push(b'\'');
}

#[cfg(test)]
mod tests {
    fn quote(value: &[u8]) -> String {
        crate::shells::Shell::Bash.quote(value)
    }

    #[test]
    fn single_quotes_for_printable_text() {
        assert_eq!(quote(b""), "''");
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's"), "'it'\\''s'");
        assert_eq!(quote(b"$HOME `x` \"q\""), "'$HOME `x` \"q\"'");
        assert_eq!(quote("caf\u{e9}".as_bytes()), "$'caf\\xc3\\xa9'");
    }

    #[test]
    fn ansi_c_for_control_and_invalid_bytes() {
        assert_eq!(quote(b"a\nb"), "$'a\\nb'");
        assert_eq!(quote(b"\x01\x1b[0m"), "$'\\x01\\x1b[0m'");
        assert_eq!(quote(b"\xff'\\"), "$'\\xff\\'\\\\'");
        assert_eq!(quote(b"\x7f"), "$'\\x7f'");
        // Shift-JIS reads 0x81 0x5C as one character: no raw byte may precede a backslash.
        assert_eq!(
            quote("\u{c1}'; touch x; #".as_bytes()),
            "$'\\xc3\\x81\\'; touch x; #'"
        );
    }
}
