//! The small encodings strata writes in more than one place: lowercase hex and percent-encoding.
//! One writer and one reader each, so that the state variable, session files and record names
//! can never disagree about them.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hex, two digits each.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// A SHA-256 digest as the 64 lowercase hex digits strata names files by, without the heap.
pub fn hex32(digest: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (i, b) in digest.iter().take(32).enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
    out
}

/// Append `n` in lowercase hex without leading zeros, as `{n:x}` writes it (without the
/// formatter, which costs more than the rest of a state record).
pub fn push_hex_u64(out: &mut Vec<u8>, n: u64) {
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(HEX[((n >> (i * 4)) & 15) as usize]);
    }
}

/// Whether `text` is `len` lowercase hex digits (a file name strata made: a hash, a key).
pub fn is_hex(text: &[u8], len: usize) -> bool {
    text.len() == len && text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Append `bytes` percent-encoded: printable ASCII stays as it is, except `%` and the bytes in
/// `reserved`; everything else (space, controls, non-ASCII) becomes `%HH`.
pub fn percent_encode(out: &mut Vec<u8>, bytes: &[u8], reserved: &[u8]) {
    let plain = |b: u8| b > b' ' && b < 0x7f && b != b'%' && !reserved.contains(&b);
    if bytes.iter().all(|&b| plain(b)) {
        out.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        if plain(b) {
            out.push(b);
        } else {
            out.push(b'%');
            out.push(HEX[usize::from(b >> 4)].to_ascii_uppercase());
            out.push(HEX[usize::from(b & 15)].to_ascii_uppercase());
        }
    }
}

/// Decode `%HH` escapes (either case); `None` for a `%` not followed by two hex digits.
/// Borrows when there is nothing to decode.
pub fn percent_decode(field: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    if !field.contains(&b'%') {
        return Some(std::borrow::Cow::Borrowed(field));
    }
    let digit = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'%' {
            let hi = digit(*field.get(i + 1)?)?;
            let lo = digit(*field.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(field[i]);
            i += 1;
        }
    }
    Some(std::borrow::Cow::Owned(out))
}

/// `text` as a one-line TOML basic string: quotes, backslashes and every control character
/// escaped, so that a value can never be read as more lines of TOML by a person reviewing it.
pub fn toml_basic(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_matches_the_formatter() {
        for n in [0u64, 1, 15, 16, 255, 0xdead_beef, u64::MAX, 1 << 63] {
            let mut out = Vec::new();
            push_hex_u64(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{n:x}"));
        }
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert!(is_hex(b"00ab", 4) && !is_hex(b"00AB", 4) && !is_hex(b"00a", 4));
    }

    #[test]
    fn toml_strings_stay_on_one_line() {
        let v = "a\n[env]\nX = \"y\"\t\u{1b}\\";
        let text = toml_basic(v);
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        let doc: toml_edit::DocumentMut = format!("k = {text}").parse().unwrap();
        assert_eq!(doc["k"].as_str(), Some(v));
    }

    #[test]
    fn percent_round_trips_any_bytes() {
        let all: Vec<u8> = (0..=255).collect();
        let mut out = Vec::new();
        percent_encode(&mut out, &all, b";,");
        assert!(
            out.iter()
                .all(|b| (0x21..0x7f).contains(b) && !b";,".contains(b))
        );
        assert_eq!(percent_decode(&out).unwrap().as_ref(), &all[..]);
        assert!(percent_decode(b"%4").is_none());
        assert!(percent_decode(b"%zz").is_none());
        assert_eq!(percent_decode(b"%ff%FF").unwrap().as_ref(), b"\xff\xff");
    }
}
