//! Quoting for tcsh.
//!
//! tcsh has no escape for a byte (no `$'\xHH'`), so values are written as they are, in single
//! quotes, where everything is literal but three things: `!` starts a history substitution
//! (tcsh does that in sourced files too), a newline must be escaped with `\`, and `'` ends the
//! quotes. So `!`, `'` and `\` are written outside the quotes, escaped (`\!`, `\'`, `\\`), and
//! a newline inside them as `\` and the newline. Control characters, tabs and carriage returns
//! are literal inside the quotes.
//!
//! Bytes outside ASCII are where the locale matters: tcsh reads its input as characters of its
//! locale, and in a multibyte encoding other than UTF-8 (Shift-JIS, Big5, GBK…) a byte above
//! 0x7f swallows the byte after it, even a closing quote (measured: in ja_JP.SJIS,
//! `'\x81'\\'x'` gives `\x81\\x`, the quote is gone, and what was quoted is not any more). In
//! the C locale and in UTF-8 ones, every byte above 0x7f is read as it is, whatever follows it
//! (measured for every byte and for random runs of them before `'`, `\`, `!` and a newline).
//! So strata writes such bytes only when the locale tcsh runs in is one of those
//! ([`reads_bytes_as_they_are`]), and always closes the quotes right after them; otherwise a
//! value with them is refused, and the caller says so.

/// Append `value` as one tcsh word to `out`. Bytes above 0x7f are written as they are: see
/// the module documentation for when that is safe.
pub fn push(out: &mut Vec<u8>, value: &[u8]) {
    if super::is_plain(value) {
        out.extend_from_slice(value);
        return;
    }
    let start = out.len();
    let mut quoted = false;
    let mut quote = |out: &mut Vec<u8>, on: bool| {
        if quoted != on {
            out.push(b'\'');
            quoted = on;
        }
    };
    for (i, &b) in value.iter().enumerate() {
        match b {
            b'\'' | b'\\' | b'!' => {
                quote(out, false);
                out.extend_from_slice(&[b'\\', b]);
            }
            b'\n' => {
                quote(out, true);
                out.extend_from_slice(b"\\\n");
            }
            0x80.. => {
                quote(out, true);
                out.push(b);
                // Nothing may follow a raw byte but the closing quote (see above).
                if value.get(i + 1).is_none_or(|&n| n < 0x80) {
                    quote(out, false);
                }
            }
            _ => {
                quote(out, true);
                out.push(b);
            }
        }
    }
    quote(out, false);
    if out.len() == start {
        out.extend_from_slice(b"''");
    }
}

/// Why tcsh cannot be given `value`, if it cannot: a NUL, or bytes above 0x7f when its locale
/// does not read them as they are (`raw_bytes` false).
pub fn refusal(value: &[u8], raw_bytes: bool) -> Option<String> {
    if value.contains(&0) {
        return Some("its value holds a NUL byte".into());
    }
    if !raw_bytes && !value.is_ascii() {
        return Some(
            "its value has bytes outside ASCII, and in this locale tcsh would read them as part of the characters around them (use a UTF-8 locale)"
                .into(),
        );
    }
    None
}

/// Whether tcsh, started with these locale variables, reads every byte above 0x7f as it is:
/// the C locale (no locale variable set, `C`, `POSIX`) or a UTF-8 one. The first of `LC_ALL`,
/// `LC_CTYPE` and `LANG` that is set and not empty decides, as it does for tcsh.
pub fn reads_bytes_as_they_are(
    lc_all: Option<&[u8]>,
    lc_ctype: Option<&[u8]>,
    lang: Option<&[u8]>,
) -> bool {
    let Some(locale) = [lc_all, lc_ctype, lang]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty())
    else {
        return true;
    };
    if locale == b"C" || locale == b"POSIX" {
        return true;
    }
    let Some(dot) = locale.iter().position(|&b| b == b'.') else {
        return false;
    };
    let codeset = &locale[dot + 1..];
    let codeset = codeset
        .iter()
        .position(|&b| b == b'@')
        .map_or(codeset, |at| &codeset[..at]);
    let normal: Vec<u8> = codeset
        .iter()
        .filter(|&&b| b != b'-')
        .map(u8::to_ascii_lowercase)
        .collect();
    normal == b"utf8"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        push(&mut out, value);
        out
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(quote(b""), b"''");
        assert_eq!(quote(b"/usr/bin"), b"/usr/bin");
        assert_eq!(quote(b"a b"), b"'a b'");
        assert_eq!(quote(b"it's"), b"'it'\\''s'");
        assert_eq!(quote(b"a!b\\"), b"'a'\\!'b'\\\\");
        assert_eq!(quote(b"l1\nl2"), b"'l1\\\nl2'");
        assert_eq!(quote(b"$x `y` \"z\" *"), b"'$x `y` \"z\" *'");
        assert_eq!(quote(b"\x81\\"), b"'\x81'\\\\");
        assert_eq!(quote(b"a\xc3\xa9b"), b"'a\xc3\xa9''b'");
    }

    #[test]
    fn locales() {
        assert!(reads_bytes_as_they_are(None, None, None));
        assert!(reads_bytes_as_they_are(None, None, Some(b"C.UTF-8")));
        assert!(reads_bytes_as_they_are(
            Some(b""),
            None,
            Some(b"en_US.utf8")
        ));
        assert!(reads_bytes_as_they_are(
            None,
            Some(b"de_DE.UTF-8@euro"),
            Some(b"ja_JP.SJIS")
        ));
        assert!(!reads_bytes_as_they_are(
            Some(b"ja_JP.SJIS"),
            None,
            Some(b"C.UTF-8")
        ));
        assert!(!reads_bytes_as_they_are(None, None, Some(b"zh_TW.Big5")));
        assert!(!reads_bytes_as_they_are(None, None, Some(b"en_US")));
        assert!(reads_bytes_as_they_are(None, None, Some(b"POSIX")));
    }

    #[test]
    fn refusals() {
        assert!(refusal(b"plain", false).is_none());
        assert!(refusal("é".as_bytes(), false).is_some());
        assert!(refusal("é".as_bytes(), true).is_none());
        assert!(refusal(b"a\0b", true).is_some());
    }
}
