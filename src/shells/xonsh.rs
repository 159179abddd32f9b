//! Values for xonsh.
//!
//! xonsh is Python: the hook (`shell/hook.xsh`) reads a JSON document (`Data` in `mod.rs`) with
//! Python's `json` module, so nothing strata prints is ever evaluated as code. Environment
//! values are bytes and xonsh's are `str`: each value is written as a JSON string of its bytes
//! in hex, and the hook turns it back into those bytes and then into the `str` that xonsh
//! passes on as exactly those bytes (`os.fsdecode`, the decoding Python uses for the
//! environment itself, with `surrogateescape`). So every byte but NUL round-trips, invalid
//! UTF-8 included, and the document is ASCII: neither the locale nor Python's file system
//! encoding changes what it says.

/// Append `value` as a JSON string of its bytes in hex.
pub fn push(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(crate::codec::hex(value).as_bytes());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_strings() {
        let mut out = Vec::new();
        push(&mut out, b"a'\"\\\xff\n");
        assert_eq!(out, b"\"6127225cff0a\"");
    }
}
