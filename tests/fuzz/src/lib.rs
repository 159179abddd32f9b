//! The properties the fuzz targets check, shared by the libFuzzer targets in `fuzz_targets/`
//! and by the stable corpus replay in `tests/corpus.rs`.
//!
//! Beyond "never panics on any bytes":
//! - `layer_file`: a file that parses names only settable variables (no `STRATA_*`, no shell
//!   internals, valid names), and every error names the file and a line.
//! - `dotenv`: parsed names are valid, lines are within the file, errors name the file and line,
//!   and expansion is bounded: no value over [`MAX_VALUE`] (a file of a few lines of
//!   `B="${A}${A}…"` must not make strata allocate gigabytes on every prompt).
//! - `state_decode`: `decode(encode(x)) == x` for any state built from the input, for any state
//!   `decode` accepts, the encoding is one printable-ASCII line, and the hot-path check
//!   `unchanged` never panics on any bytes.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use libfuzzer_sys::arbitrary::{Arbitrary, Unstructured};
use strata_env::env_diff::{Added, ListRecord, Stamp, State, VarRecord, Watched, unchanged};
use strata_env::layers::file::{Kind, parse, valid_name};

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
    let lines = 1 + data.iter().filter(|&&b| b == b'\n').count();
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
        };
        for _ in 0..u.int_in_range(0..=3u8)? {
            l.added.push(Added {
                entry: os(u)?,
                old_index: u.arbitrary()?,
            });
        }
        st.lists.push(l);
    }
    st.notice = u.arbitrary()?;
    st.slow_hook = u.arbitrary()?;
    Ok(st)
}

fn check_encoding(st: &State) {
    let enc = st.encode();
    assert!(
        enc.as_bytes().iter().all(|&b| (0x21..=0x7e).contains(&b)),
        "STRATA_STATE is not one printable-ASCII word: {}",
        enc.as_bytes().escape_ascii()
    );
    match State::decode(&enc) {
        Ok(back) => assert_eq!(&back, st, "decode(encode(x)) != x"),
        Err(_) => panic!(
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
    );
}

/// `STRATA_STATE` decoder and encoder.
pub fn state_decode(data: &[u8]) {
    let raw = OsStr::from_bytes(data);
    if let Ok(st) = State::decode(raw) {
        check_encoding(&st);
    }
    let _ = unchanged(raw, b"/", b"", b"");
    let mut u = Unstructured::new(data);
    if let Ok(st) = arbitrary_state(&mut u) {
        check_encoding(&st);
    }
}
