//! The properties the fuzz targets check, shared by the libFuzzer targets in `fuzz_targets/`
//! and by the stable corpus replay in `tests/corpus.rs`.
//!
//! Beyond "never panics on any bytes":
//! - `layer_file`: a file that parses names only settable variables (no `STRATA_*`, no shell
//!   internals, valid names), and every error names the file and a line.
//! - `dotenv`: parsed names are valid, lines are within the file, errors name the file and line,
//!   and expansion is bounded: no value over [`MAX_VALUE`] (a file of a few lines of
//!   `B="${A}${A}…"` must not make strata allocate gigabytes on every prompt).
//! - `state_decode`: `decode(encode(x)) == x` for any valid state built from the input (valid
//!   names, absolute paths, no NUL), `decode` refuses every invalid one; for any state `decode`
//!   accepts, the encoding is one printable-ASCII line; the hot-path check `unchanged` never
//!   panics on any bytes.
//! - `export_state`: any bytes as the body of an authenticated `STRATA_STATE` (sealed with the
//!   key, as if strata itself had written it), through decode, restore and the bash, zsh and
//!   fish renderers: the printed code matches a strict grammar (only valid names after
//!   `export`/`unset`/`set`, only well-formed quoted words).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use libfuzzer_sys::arbitrary::{Arbitrary, Unstructured};
use strata_env::env_diff::{Change, Env, apply, base_env, changes};
use strata_env::files::Stamp;
use strata_env::layers::file::{Kind, parse};
use strata_env::names::valid_name;
use strata_env::shells::{Script, Shell};
use strata_env::state::{
    Added, Key, ListRecord, NoSpill, Removed, State, VarRecord, Watched, seal, unchanged,
};

/// The key every fuzz state is sealed with.
fn key() -> Key {
    Key::new([0x5a; 32])
}

const LAYER_PATH: &str = "/fuzz/.strata.toml";
const DOTENV_PATH: &str = "/fuzz/.env";

/// The largest value the dotenv parser may produce. No environment string over 128 KiB can be
/// passed to a program on Linux anyway; 1 MiB leaves room.
pub const MAX_VALUE: usize = 1 << 20;

/// What the spec lets a layer set: a valid name, not `STRATA_*`, not the shell's own.
fn settable(name: &str) -> bool {
    valid_name(name)
        && !name.starts_with("STRATA_")
        && !matches!(name, "PWD" | "OLDPWD" | "SHLVL" | "_")
}

/// Layer-file parser, every kind of layer.
pub fn layer_file(data: &[u8]) {
    for kind in [Kind::System, Kind::Global, Kind::Dir, Kind::DirLocal] {
        match parse(Path::new(LAYER_PATH), kind, data) {
            Ok(file) => {
                let names = file
                    .env
                    .iter()
                    .map(|e| e.name.as_str())
                    .chain(
                        file.contexts
                            .iter()
                            .flat_map(|(_, es)| es.iter().map(|e| e.name.as_str())),
                    )
                    .chain(file.lists.iter().map(|l| l.var.as_str()));
                for name in names {
                    assert!(
                        settable(name),
                        "{kind:?}: parse accepted a variable it must refuse: {name:?}"
                    );
                }
                if !kind.is_dir() {
                    assert!(
                        !file.root,
                        "{kind:?}: `root` accepted outside a directory file"
                    );
                }
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("{LAYER_PATH}:")),
                    "{kind:?}: the error does not name the file: {msg:?}"
                );
            }
        }
    }
}

/// Dotenv parser, with a lookup that knows a few names.
pub fn dotenv(data: &[u8]) {
    let lookup = |name: &str| -> Option<OsString> {
        match name {
            "HOME" => Some("/home/fuzz".into()),
            "EMPTY" => Some(OsString::new()),
            "RAW" => Some(OsString::from_vec(b"\xff$x\n".to_vec())),
            _ => None,
        }
    };
    // Line breaks as the dialect counts them: `\n`, `\r\n` (once) and a lone `\r`.
    let breaks = data
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count();
    let lines = 1 + breaks;
    match strata_env::layers::dotenv::parse(Path::new(DOTENV_PATH), data, &lookup) {
        Ok(assignments) => {
            for a in &assignments {
                assert!(
                    a.value.len() <= MAX_VALUE,
                    "{}:{}: expanded to {} bytes: expansion is unbounded",
                    a.name,
                    a.line,
                    a.value.len()
                );
                assert!(valid_name(&a.name), "invalid name accepted: {:?}", a.name);
                assert!(
                    a.line >= 1 && a.line <= lines,
                    "line {} outside the file ({lines} lines)",
                    a.line
                );
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("{DOTENV_PATH}:")),
                "the error does not name the file: {msg:?}"
            );
        }
    }
}

fn os(u: &mut Unstructured<'_>) -> libfuzzer_sys::arbitrary::Result<OsString> {
    Ok(OsString::from_vec(Vec::<u8>::arbitrary(u)?))
}

fn stamp(u: &mut Unstructured<'_>) -> libfuzzer_sys::arbitrary::Result<Stamp> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => Stamp::Absent,
        1 => Stamp::Racy,
        _ => Stamp::Present {
            dev: u.arbitrary()?,
            ino: u.arbitrary()?,
            size: u.arbitrary()?,
            sec: u.arbitrary()?,
            nsec: u.arbitrary()?,
        },
    })
}

/// A state built from fuzz input: every field, any bytes where the type allows.
pub fn arbitrary_state(u: &mut Unstructured<'_>) -> libfuzzer_sys::arbitrary::Result<State> {
    let mut st = State {
        cwd: os(u)?,
        context: os(u)?,
        session: os(u)?,
        ..State::default()
    };
    for _ in 0..u.int_in_range(0..=4u8)? {
        st.watch.push(Watched {
            path: PathBuf::from(os(u)?),
            stamp: stamp(u)?,
        });
    }
    for _ in 0..u.int_in_range(0..=4u8)? {
        st.vars.push(VarRecord {
            name: String::arbitrary(u)?,
            set_hash: u.arbitrary()?,
            prev: if bool::arbitrary(u)? {
                Some(os(u)?)
            } else {
                None
            },
        });
    }
    for _ in 0..u.int_in_range(0..=3u8)? {
        let mut l = ListRecord {
            name: String::arbitrary(u)?,
            was_unset: u.arbitrary()?,
            added: Vec::new(),
            removed: Vec::new(),
        };
        for _ in 0..u.int_in_range(0..=3u8)? {
            l.added.push(Added {
                entry: os(u)?,
                old_index: u.arbitrary()?,
            });
        }
        for _ in 0..u.int_in_range(0..=2u8)? {
            l.removed.push(Removed {
                entry: os(u)?,
                old_index: u.arbitrary()?,
                next: if u.arbitrary()? { Some(os(u)?) } else { None },
            });
        }
        st.lists.push(l);
    }
    st.notice = u.arbitrary()?;
    st.slow_hook = u.arbitrary()?;
    Ok(st)
}

/// Whether the decoder must accept `st`: names a layer could set, absolute paths, no NUL.
fn valid(st: &State) -> bool {
    let no_nul = |b: &[u8]| !b.contains(&0);
    let names = st
        .vars
        .iter()
        .map(|v| &v.name)
        .chain(st.lists.iter().map(|l| &l.name));
    names.into_iter().all(|n| valid_name(n))
        && st.watch.iter().all(|w| {
            w.path.as_os_str().as_bytes().starts_with(b"/") && no_nul(w.path.as_os_str().as_bytes())
        })
        && [&st.cwd, &st.context, &st.session]
            .iter()
            .all(|v| no_nul(v.as_bytes()))
        && st
            .vars
            .iter()
            .all(|v| v.prev.as_ref().is_none_or(|p| no_nul(p.as_bytes())))
        && st
            .lists
            .iter()
            .all(|l| l.added.iter().all(|a| no_nul(a.entry.as_bytes())))
}

fn check_encoding(st: &State) {
    let enc = st.encode(&key(), &NoSpill);
    assert!(
        enc.as_bytes().iter().all(|&b| (0x21..=0x7e).contains(&b)),
        "STRATA_STATE is not one printable-ASCII word: {}",
        enc.as_bytes().escape_ascii()
    );
    match State::decode(&enc, &key(), &NoSpill) {
        Ok(back) => {
            assert!(valid(st), "decode accepted an invalid state: {st:?}");
            assert_eq!(&back, st, "decode(encode(x)) != x")
        }
        Err(_) => assert!(
            !valid(st),
            "decode refused its own encoding: {}\nof {st:?}",
            enc.as_bytes().escape_ascii()
        ),
    }
    // The hot path agrees that nothing changed in the header it was made for (it may still say
    // "changed" because of the watched files); it must not panic either way.
    let _ = unchanged(
        &enc,
        st.cwd.as_bytes(),
        st.context.as_bytes(),
        st.session.as_bytes(),
        Some(st.owner.as_bytes()),
    );
}

/// `STRATA_STATE` decoder and encoder.
pub fn state_decode(data: &[u8]) {
    let raw = OsStr::from_bytes(data);
    if let Ok(st) = State::decode(raw, &key(), &NoSpill) {
        check_encoding(&st);
    }
    let _ = unchanged(raw, b"/", b"", b"", Some(b""));
    let mut u = Unstructured::new(data);
    if let Ok(st) = arbitrary_state(&mut u) {
        check_encoding(&st);
    }
}

/// A word as the POSIX renderer writes it: bare safe characters, `'…'` of printable ASCII
/// (with `'\\''` for a quote), or `$'…'` of printable ASCII with `\\`, `\'`, `\n`, `\t` and
/// `\xHH` escapes only. Returns the rest of the line after the word.
fn posix_word(s: &[u8]) -> Result<&[u8], String> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"_-./:,+@".contains(&b);
    if let Some(rest) = s.strip_prefix(b"$'") {
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                b'\'' => return Ok(&rest[i + 1..]),
                b'\\' => match rest.get(i + 1) {
                    Some(b'\\' | b'\'' | b'n' | b't') => i += 2,
                    Some(b'x')
                        if rest.len() > i + 3
                            && rest[i + 2].is_ascii_hexdigit()
                            && rest[i + 3].is_ascii_hexdigit() =>
                    {
                        i += 4
                    }
                    _ => return Err("bad escape in $'…'".into()),
                },
                0x20..0x7f => i += 1,
                b => return Err(format!("raw byte {b:#x} in $'…'")),
            }
        }
        return Err("unterminated $'…'".into());
    }
    let mut rest = s;
    let mut any = false;
    loop {
        if let Some(r) = rest.strip_prefix(b"'\\''") {
            rest = r;
            any = true;
        } else if let Some(r) = rest.strip_prefix(b"'") {
            let end = r
                .iter()
                .position(|&b| b == b'\'')
                .ok_or("unterminated '…'")?;
            if !r[..end].iter().all(|b| (0x20..0x7f).contains(b)) {
                return Err("non-printable byte in '…'".into());
            }
            rest = &r[end + 1..];
            any = true;
        } else if rest.first().is_some_and(|&b| safe(b)) {
            let n = rest.iter().take_while(|&&b| safe(b)).count();
            rest = &rest[n..];
            any = true;
        } else {
            break;
        }
    }
    if !any {
        return Err("empty word".into());
    }
    Ok(rest)
}

/// A word as the fish renderer writes it: bare safe characters, `'…'` of printable ASCII with
/// only `\\\\` and `\\'` escaped inside, and `\xHH`/`\XHH` outside quotes.
fn fish_word(s: &[u8]) -> Result<&[u8], String> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"_-./:,+@".contains(&b);
    let mut rest = s;
    let mut any = false;
    loop {
        if let Some(r) = rest.strip_prefix(b"'") {
            let mut i = 0;
            loop {
                match r.get(i) {
                    None => return Err("unterminated '…'".into()),
                    Some(b'\'') => break,
                    Some(b'\\') if matches!(r.get(i + 1), Some(b'\\' | b'\'')) => i += 2,
                    Some(b'\\') => return Err("lone backslash in '…'".into()),
                    Some(b) if (0x20..0x7f).contains(b) => i += 1,
                    Some(b) => return Err(format!("raw byte {b:#x} in '…'")),
                }
            }
            rest = &r[i + 1..];
        } else if rest.len() >= 4
            && rest[0] == b'\\'
            && matches!(rest[1], b'x' | b'X')
            && rest[2].is_ascii_hexdigit()
            && rest[3].is_ascii_hexdigit()
        {
            rest = &rest[4..];
        } else if rest.first().is_some_and(|&b| safe(b)) {
            let n = rest.iter().take_while(|&&b| safe(b)).count();
            rest = &rest[n..];
        } else {
            break;
        }
        any = true;
    }
    if !any {
        return Err("empty word".into());
    }
    Ok(rest)
}

/// Check one rendered script line by line against the grammar of what strata prints.
fn check_script(shell: Shell, code: &str) {
    for line in code.lines() {
        let bytes = line.as_bytes();
        let (name_and_rest, setting) = match shell {
            Shell::Fish => match (
                bytes.strip_prefix(b"set -gx "),
                bytes.strip_prefix(b"set -e -g "),
            ) {
                (Some(r), _) => (r, true),
                (_, Some(r)) => (r, false),
                _ => panic!("unexpected fish line {:?}", line),
            },
            _ => match (
                bytes.strip_prefix(b"builtin export "),
                bytes.strip_prefix(b"builtin unset -v "),
            ) {
                (Some(r), _) => (r, true),
                (_, Some(r)) => (r, false),
                _ => panic!("unexpected {shell:?} line {:?}", line),
            },
        };
        let sep = if shell == Shell::Fish { b' ' } else { b'=' };
        let end = name_and_rest
            .iter()
            .position(|&b| b == sep || b == b';')
            .unwrap_or(name_and_rest.len());
        let name = std::str::from_utf8(&name_and_rest[..end]).unwrap_or("");
        assert!(valid_name(name), "invalid name printed: {line:?}");
        let rest = &name_and_rest[end..];
        let rest = if setting {
            let word = rest
                .strip_prefix(&[sep][..])
                .unwrap_or_else(|| panic!("no value: {line:?}"));
            match shell {
                Shell::Fish => fish_word(word),
                _ => posix_word(word),
            }
            .unwrap_or_else(|e| panic!("{e}: {line:?}"))
        } else {
            rest
        };
        assert_eq!(rest, b";", "trailing text after the statement: {line:?}");
    }
}

/// Any bytes as the body of a state strata authenticated, through what `export` does with it:
/// restore the base environment, move back to it, print the code for every shell.
pub fn export_state(data: &[u8]) {
    let mut raw = b"2;".to_vec();
    raw.extend_from_slice(data);
    let raw = seal(&raw, &key());
    let _ = unchanged(&raw, b"/", b"", b"", None);
    let Ok(st) = State::decode(&raw, &key(), &NoSpill) else {
        return;
    };
    // The shell as a forged state would want to find it: every name it mentions set to
    // something (so that "restore" has work to do), plus a few ordinary variables.
    let mut current: Env = Env::default();
    for v in &st.vars {
        current.insert(v.name.clone().into(), OsString::from("x"));
    }
    current.insert("HOME".into(), "/home/u".into());
    let base = base_env(&current, Some(&st));
    let applied = apply(&base, Default::default(), Some(&st), &current);
    let diff = changes(&current, &applied.values);
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut script = Script::new(shell);
        for c in &diff {
            match c {
                Change::Added(n, v) | Change::Changed(n, v) => {
                    // A value the shell cannot hold is refused (one line), never printed.
                    let _ = script.set(n, v.as_bytes());
                }
                Change::Removed(n) => script.unset(n),
            }
        }
        let code = script.finish();
        let code = std::str::from_utf8(&code).expect("bash, zsh and fish code is ASCII");
        check_script(shell, code);
    }
}
