//! `STRATA_STATE`: what one shell's strata remembers between prompts, in one environment
//! variable, and the one reader and writer of its wire format.
//!
//! One printable ASCII line, versioned and authenticated:
//! `2;c=CWD;x=CONTEXT;s=SESSION;d=DEADLINE;o=SHELL;w=PATH,STAMP;…;p=PROMPT…;v=NAME,HASH,PREV;…;l=NAME,WAS_UNSET;a=ENTRY,OLDIDX;…;m=ENTRY,OLDIDX;…;n=PROJECT,EVENT…;g=ALIAS,HASH;…;e=ERR;f=0;k=MAC`.
//! Fields are percent-encoded, so any bytes survive. It records:
//! - what the last evaluation looked at (`c`, `x`, `s`, and each watched file's identity `w`), so
//!   that a no-op prompt is decided by a few `stat` calls without parsing any config;
//! - for each variable strata set or unset, its value from before (`PREV`) and a hash of what
//!   strata set, so a value the user changed since is recognised and left alone;
//! - for each PATH-like list, the entries strata added (and where a moved entry used to be) and
//!   the entries it removed (and where they were), so they are undone entry by entry and entries
//!   the user added in between survive;
//! - which shell's hook wrote it (`o`, its stamp file), the project it told that shell of (`n`)
//!   and the aliases it defined there (`g`), which live in that shell process only.
//!
//! The variable is inherited by every child and may be forged by whoever starts the shell, so
//! it is hostile input: every name is validated, every spill id checked before a file is opened,
//! and the trailing MAC is keyed with a secret only this user's strata can read
//! (`$XDG_STATE_HOME/strata/state-key`). A state that does not decode, or that this user's
//! strata did not write, is [`Corrupt`]: strata starts over from the environment as it finds it.
//!
//! The state stays under [`BUDGET`] bytes: Linux refuses any single environment string over
//! 128 KiB, and a shell whose environment cannot be passed to `execve` cannot start a command.
//! Previous values over [`SPILL_OVER`] bytes, and a whole state over the budget, are stored in
//! the state directory under their hash and referred to by it (`@ID`, `r=ID`).

use hmac::{KeyInit, Mac};
use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::codec::{is_hex, percent_decode, percent_encode, push_hex_u64};
use crate::files::Stamp;
use crate::names::valid_name;

/// The variable that carries the state.
pub const STATE_VAR: &str = "STRATA_STATE";

/// The wire format's version, the first field.
const VERSION: &[u8] = b"2";

/// Previous values longer than this are stored outside `STRATA_STATE` when possible.
pub const SPILL_OVER: usize = 4096;

/// The largest `STRATA_STATE` printed: a state that would be longer is stored whole in the state
/// directory and the variable refers to it.
pub const BUDGET: usize = 16 * 1024;

/// The set-hash of a variable whose previous value was lost: it never equals a value's hash
/// in practice, so the variable keeps whatever value it has.
const UNRESTORABLE: u64 = 0x5354_5241_5441_4c4f;

/// FNV-1a, 64 bit: a stable, dependency-free hash for change detection of values (not for
/// security: the state as a whole is authenticated by its MAC).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The secret that authenticates states this user's strata wrote.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl Key {
    /// A key from its bytes.
    pub fn new(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// HMAC-SHA256 of `body`, truncated to 128 bits, as 32 hex digits.
    fn mac(&self, body: &[u8]) -> [u8; 32] {
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        m.update(body);
        let tag = m.finalize().into_bytes();
        let mut out = [0u8; 32];
        out.copy_from_slice(&crate::codec::hex32(&tag)[..32]);
        out
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// A path whose change means the environment must be recomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// The path (absolute).
    pub path: PathBuf,
    /// Its identity when it was read.
    pub stamp: Stamp,
}

/// A plain variable strata set or unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRecord {
    /// Variable name.
    pub name: String,
    /// Hash of the value strata gave it; `None` when strata unset it.
    pub set_hash: Option<u64>,
    /// Its value before strata touched it; `None` when it was unset.
    pub prev: Option<OsString>,
}

/// One entry strata put into a PATH-like list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The entry.
    pub entry: OsString,
    /// Where it was in the user's list before strata moved it there; `None` if strata added it.
    pub old_index: Option<usize>,
}

/// A PATH-like list strata edited entry-wise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRecord {
    /// Variable name (`PATH`, `PYTHONPATH`, …).
    pub name: String,
    /// The variable did not exist before strata created it.
    pub was_unset: bool,
    /// The entries strata added or moved.
    pub added: Vec<Added>,
    /// The entries strata removed (`[path] remove`), with where each was.
    pub removed: Vec<Removed>,
}

/// One entry strata took out of a PATH-like list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The entry.
    pub entry: OsString,
    /// Where it was in the user's list.
    pub old_index: usize,
    /// The entry that followed it there (`None`: it was last); it goes back in front of that
    /// one, wherever the user has moved it since.
    pub next: Option<OsString>,
}

/// Everything `STRATA_STATE` carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// The directory the state was computed for.
    pub cwd: OsString,
    /// `STRATA_CONTEXT` at that time.
    pub context: OsString,
    /// `STRATA_SESSION` at that time.
    pub session: OsString,
    /// Files and directories whose change triggers a new evaluation.
    pub watch: Vec<Watched>,
    /// Plain variables strata set or unset.
    pub vars: Vec<VarRecord>,
    /// Lists strata edited entry-wise.
    pub lists: Vec<ListRecord>,
    /// Hash of the warnings or error last reported, so they are not repeated until they change.
    pub notice: Option<u64>,
    /// The `hook.fast_path` setting was off: the hook must run strata at every prompt.
    pub slow_hook: bool,
    /// When (unix seconds) a session value expires: the state is stale from then on.
    pub deadline: Option<i64>,
    /// What the prompt segment shows, so `strata prompt` needs no evaluation.
    pub prompt: PromptInfo,
    /// The target's aliases: each name with a hash of its words ([`alias_hash`]).
    pub aliases: Vec<(String, u64)>,
    /// The stamp file of the shell whose hook made this state, which holds [`State::aliases`]
    /// and was told of [`State::project`] (empty: the export was not a hook's). Aliases and
    /// what the user's event functions did live in one shell process, not in the environment:
    /// a shell started from this one inherits the state but none of that.
    pub owner: OsString,
    /// The project the shell is in (the innermost directory whose directory file applied) and
    /// its `events`, so that the shell of [`State::owner`] is told when it changes.
    pub project: Option<OsString>,
    /// The `events` of that project.
    pub events: Vec<String>,
}

/// The hash an alias's words are recorded by.
pub fn alias_hash(argv: &[String]) -> u64 {
    fnv1a(argv.join("\0").as_bytes())
}

/// The facts behind the prompt segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptInfo {
    /// The active context.
    pub context: String,
    /// Its colour.
    pub color: String,
    /// The name of the nearest directory with a directory file.
    pub dir: String,
    /// A directory file nearby is not allowed (or denied).
    pub untrusted: bool,
    /// The active context is protected.
    pub protected: bool,
    /// The `prompt.format` setting, when it is not the default.
    pub format: String,
}

/// `STRATA_STATE` could not be read, or this user's strata did not write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt;

/// Where states and previous values too large for the variable are kept.
pub trait Spill {
    /// Store `bytes`, returning the id to refer to them by (their SHA-256 in hex); `None` when
    /// they cannot be stored (then they stay inline).
    fn store(&self, bytes: &[u8]) -> Option<String>;
    /// The bytes stored under `id` (already checked to be 64 hex digits), if still there.
    fn load(&self, id: &str) -> Option<Vec<u8>>;
}

/// Nowhere: everything stays inline, nothing can be loaded.
pub struct NoSpill;

impl Spill for NoSpill {
    fn store(&self, _: &[u8]) -> Option<String> {
        None
    }
    fn load(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

/// Field separators inside a record, which the percent-encoding keeps out of fields.
const RESERVED: &[u8] = b";,";

fn enc(out: &mut Vec<u8>, bytes: &[u8]) {
    percent_encode(out, bytes, RESERVED);
}

fn dec(field: &[u8]) -> Result<Cow<'_, [u8]>, Corrupt> {
    percent_decode(field).ok_or(Corrupt)
}

fn num<T: std::str::FromStr>(field: &[u8]) -> Result<T, Corrupt> {
    std::str::from_utf8(field)
        .map_err(|_| Corrupt)?
        .parse()
        .map_err(|_| Corrupt)
}

fn encode_stamp(out: &mut Vec<u8>, s: &Stamp) {
    match s {
        Stamp::Absent => out.push(b'-'),
        Stamp::Racy => out.push(b'?'),
        Stamp::Present {
            dev,
            ino,
            size,
            sec,
            nsec,
        } => out.extend_from_slice(format!("{dev}.{ino}.{size}.{sec}.{nsec}").as_bytes()),
    }
}

fn decode_stamp(field: &[u8]) -> Result<Stamp, Corrupt> {
    match field {
        b"-" => Ok(Stamp::Absent),
        b"?" => Ok(Stamp::Racy),
        _ => {
            let mut it = field.split(|&b| b == b'.');
            let mut next = || it.next().ok_or(Corrupt);
            let s = Stamp::Present {
                dev: num(next()?)?,
                ino: num(next()?)?,
                size: num(next()?)?,
                sec: num(next()?)?,
                nsec: num(next()?)?,
            };
            if it.next().is_some() {
                return Err(Corrupt);
            }
            Ok(s)
        }
    }
}

/// A variable name from a record: only names a layer could have set.
fn name(field: &[u8]) -> Result<String, Corrupt> {
    let text = String::from_utf8(dec(field)?.into_owned()).map_err(|_| Corrupt)?;
    if !valid_name(&text) {
        return Err(Corrupt);
    }
    Ok(text)
}

/// A spill id from a record: the 64 hex digits of a hash, checked before any file is opened.
fn spill_id(field: &[u8]) -> Result<&str, Corrupt> {
    if !is_hex(field, 64) {
        return Err(Corrupt);
    }
    std::str::from_utf8(field).map_err(|_| Corrupt)
}

/// Bytes that cannot be part of a path or an environment value.
fn no_nul(bytes: Cow<'_, [u8]>) -> Result<Vec<u8>, Corrupt> {
    if bytes.contains(&0) {
        return Err(Corrupt);
    }
    Ok(bytes.into_owned())
}

/// The records of a state body (after the version), each split into its tag and fields.
/// The one reader of the format: the no-op check and the full decoder both walk it.
struct Records<'a> {
    rest: std::slice::Split<'a, u8, fn(&u8) -> bool>,
}

/// One record: its tag (`c`, `w`, `v`, …) and its comma-separated fields.
struct Record<'a> {
    tag: &'a [u8],
    fields: std::slice::Split<'a, u8, fn(&u8) -> bool>,
}

impl<'a> Record<'a> {
    fn field(&mut self) -> Result<&'a [u8], Corrupt> {
        self.fields.next().ok_or(Corrupt)
    }

    /// The record has no fields left.
    fn done(mut self) -> Result<(), Corrupt> {
        match self.fields.next() {
            None => Ok(()),
            Some(_) => Err(Corrupt),
        }
    }
}

impl<'a> Records<'a> {
    /// The records of `body`, when it starts with the version.
    fn of(body: &'a [u8]) -> Result<Records<'a>, Corrupt> {
        let semi: fn(&u8) -> bool = |&b| b == b';';
        let mut rest = body.split(semi);
        if rest.next() != Some(VERSION) {
            return Err(Corrupt);
        }
        Ok(Records { rest })
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, Corrupt>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.rest.next()?;
        let comma: fn(&u8) -> bool = |&b| b == b',';
        Some(match r.iter().position(|&b| b == b'=') {
            Some(eq) if eq > 0 => Ok(Record {
                tag: &r[..eq],
                fields: r[eq + 1..].split(comma),
            }),
            _ => Err(Corrupt),
        })
    }
}

/// Split `raw` into the authenticated body and check its MAC.
fn verified<'a>(raw: &'a [u8], key: &Key) -> Result<&'a [u8], Corrupt> {
    let cut = raw.windows(3).rposition(|w| w == b";k=").ok_or(Corrupt)?;
    let (body, mac) = (&raw[..cut], &raw[cut + 3..]);
    // Not a timing oracle worth worrying about (the attacker would need to watch strata run),
    // but comparing in constant time costs nothing.
    let want = key.mac(body);
    if mac.len() != want.len() || mac.iter().zip(want).fold(0, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return Err(Corrupt);
    }
    Ok(body)
}

impl State {
    /// Encode as the value of `STRATA_STATE`, authenticated with `key`. Previous values over
    /// [`SPILL_OVER`] bytes go to `spill` (when it can take them), and so does the whole state
    /// when it would be over [`BUDGET`].
    pub fn encode(&self, key: &Key, spill: &dyn Spill) -> OsString {
        let body = self.body(spill);
        if body.len() + 36 > BUDGET {
            let mut whole = body.clone();
            push_mac(&mut whole, key);
            if let Some(id) = spill.store(&whole) {
                let mut short = self.header();
                short.extend_from_slice(b";r=");
                short.extend_from_slice(id.as_bytes());
                push_mac(&mut short, key);
                return OsString::from_vec(short);
            }
        }
        let mut out = body;
        push_mac(&mut out, key);
        OsString::from_vec(out)
    }

    /// The records that say what the state is for: version, cwd, context, session, deadline.
    fn header(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.cwd.len());
        out.extend_from_slice(VERSION);
        for (tag, value) in [
            (b"c", &self.cwd),
            (b"x", &self.context),
            (b"s", &self.session),
        ] {
            out.push(b';');
            out.extend_from_slice(tag);
            out.push(b'=');
            enc(&mut out, value.as_bytes());
        }
        if let Some(d) = self.deadline {
            out.extend_from_slice(b";d=");
            out.extend_from_slice(d.to_string().as_bytes());
        }
        if !self.owner.is_empty() || !self.aliases.is_empty() || self.project.is_some() {
            out.extend_from_slice(b";o=");
            enc(&mut out, self.owner.as_bytes());
        }
        out
    }

    /// Everything but the MAC.
    fn body(&self, spill: &dyn Spill) -> Vec<u8> {
        let mut out = self.header();
        // Sized once: regrowing a buffer of this size copies it and touches fresh pages.
        out.reserve(256 + 64 * self.watch.len() + 48 * self.vars.len() + 64 * self.lists.len());
        let rec = |out: &mut Vec<u8>, tag: &[u8]| {
            out.push(b';');
            out.extend_from_slice(tag);
            out.push(b'=');
        };
        for w in &self.watch {
            rec(&mut out, b"w");
            enc(&mut out, w.path.as_os_str().as_bytes());
            out.push(b',');
            encode_stamp(&mut out, &w.stamp);
        }
        if self.prompt != PromptInfo::default() {
            let p = &self.prompt;
            rec(&mut out, b"p");
            enc(&mut out, p.context.as_bytes());
            out.push(b',');
            enc(&mut out, p.color.as_bytes());
            out.push(b',');
            enc(&mut out, p.dir.as_bytes());
            out.push(b',');
            out.push(if p.untrusted { b'1' } else { b'0' });
            out.push(b',');
            enc(&mut out, p.format.as_bytes());
            // Written only when set, so the states of unprotected contexts stay as they were.
            if p.protected {
                out.extend_from_slice(b",1");
            }
        }
        for v in &self.vars {
            rec(&mut out, b"v");
            enc(&mut out, v.name.as_bytes());
            out.push(b',');
            match v.set_hash {
                Some(h) => push_hex_u64(&mut out, h),
                None => out.push(b'-'),
            }
            out.push(b',');
            match &v.prev {
                Some(p) => match (p.len() > SPILL_OVER)
                    .then(|| spill.store(p.as_bytes()))
                    .flatten()
                {
                    Some(id) => {
                        out.push(b'@');
                        out.extend_from_slice(id.as_bytes());
                    }
                    None => {
                        out.push(b'=');
                        enc(&mut out, p.as_bytes());
                    }
                },
                None => out.push(b'!'),
            }
        }
        for l in &self.lists {
            rec(&mut out, b"l");
            enc(&mut out, l.name.as_bytes());
            out.push(b',');
            out.push(if l.was_unset { b'1' } else { b'0' });
            for a in &l.added {
                rec(&mut out, b"a");
                enc(&mut out, a.entry.as_bytes());
                out.push(b',');
                match a.old_index {
                    Some(i) => out.extend_from_slice(i.to_string().as_bytes()),
                    None => out.push(b'-'),
                }
            }
            for m in &l.removed {
                rec(&mut out, b"m");
                enc(&mut out, m.entry.as_bytes());
                out.push(b',');
                out.extend_from_slice(m.old_index.to_string().as_bytes());
                out.push(b',');
                match &m.next {
                    Some(n) => {
                        out.push(b'=');
                        enc(&mut out, n.as_bytes());
                    }
                    None => out.push(b'!'),
                }
            }
        }
        if let Some(p) = &self.project {
            rec(&mut out, b"n");
            enc(&mut out, p.as_bytes());
            for e in &self.events {
                out.push(b',');
                out.extend_from_slice(e.as_bytes());
            }
        }
        for (name, hash) in &self.aliases {
            rec(&mut out, b"g");
            out.extend_from_slice(name.as_bytes());
            out.push(b',');
            push_hex_u64(&mut out, *hash);
        }
        if let Some(e) = self.notice {
            rec(&mut out, b"e");
            push_hex_u64(&mut out, e);
        }
        if self.slow_hook {
            rec(&mut out, b"f");
            out.push(b'0');
        }
        out
    }

    /// Decode a `STRATA_STATE` value: version, MAC under `key`, and every record validated.
    /// Values stored by [`State::encode`] come from `spill`; a previous value that cannot be
    /// loaded any more makes its variable unrestorable (it keeps whatever it has).
    pub fn decode(raw: &OsStr, key: &Key, spill: &dyn Spill) -> Result<State, Corrupt> {
        let body = verified(raw.as_bytes(), key)?;
        let st = Self::decode_body(body, spill)?;
        let Some(id) = st.1 else { return Ok(st.0) };
        // The whole state was stored: it must be one of ours too, for the same place.
        let whole = spill.load(id).ok_or(Corrupt)?;
        let (inner, nested) = Self::decode_body(verified(&whole, key)?, spill)?;
        let same = inner.cwd == st.0.cwd
            && inner.context == st.0.context
            && inner.session == st.0.session
            && inner.deadline == st.0.deadline
            && inner.owner == st.0.owner;
        if nested.is_some() || !same {
            return Err(Corrupt);
        }
        Ok(inner)
    }

    /// The records of an authenticated body, and the id of a stored whole state (`r=`).
    fn decode_body<'a>(
        body: &'a [u8],
        spill: &dyn Spill,
    ) -> Result<(State, Option<&'a str>), Corrupt> {
        let mut st = State::default();
        let mut stored = None;
        for r in Records::of(body)? {
            let mut r = r?;
            match r.tag {
                b"c" => st.cwd = OsString::from_vec(no_nul(dec(r.field()?)?)?),
                b"x" => st.context = OsString::from_vec(no_nul(dec(r.field()?)?)?),
                b"s" => st.session = OsString::from_vec(no_nul(dec(r.field()?)?)?),
                b"d" => st.deadline = Some(num(r.field()?)?),
                b"o" => st.owner = OsString::from_vec(no_nul(dec(r.field()?)?)?),
                b"n" => {
                    st.project = Some(OsString::from_vec(no_nul(dec(r.field()?)?)?));
                    for e in r.fields.by_ref() {
                        let e = std::str::from_utf8(e).map_err(|_| Corrupt)?;
                        crate::layers::file::check_event_name(e).map_err(|_| Corrupt)?;
                        st.events.push(e.to_string());
                    }
                }
                b"g" => {
                    let name = std::str::from_utf8(r.field()?).map_err(|_| Corrupt)?;
                    crate::layers::file::check_alias_name(name).map_err(|_| Corrupt)?;
                    st.aliases.push((name.to_string(), hex_u64(r.field()?)?));
                }
                b"r" => stored = Some(spill_id(r.field()?)?),
                b"p" => st.prompt = decode_prompt(&mut r)?,
                b"w" => {
                    let path = no_nul(dec(r.field()?)?)?;
                    if !path.starts_with(b"/") {
                        return Err(Corrupt);
                    }
                    st.watch.push(Watched {
                        path: PathBuf::from(OsString::from_vec(path)),
                        stamp: decode_stamp(r.field()?)?,
                    });
                }
                b"v" => st.vars.push(decode_var(&mut r, spill)?),
                b"l" => st.lists.push(ListRecord {
                    name: name(r.field()?)?,
                    was_unset: flag(r.field()?)?,
                    added: Vec::new(),
                    removed: Vec::new(),
                }),
                b"a" => {
                    let entry = OsString::from_vec(no_nul(dec(r.field()?)?)?);
                    let old_index = match r.field()? {
                        b"-" => None,
                        i => Some(num(i)?),
                    };
                    let list = st.lists.last_mut().ok_or(Corrupt)?;
                    list.added.push(Added { entry, old_index });
                }
                b"m" => {
                    let entry = OsString::from_vec(no_nul(dec(r.field()?)?)?);
                    let old_index = num(r.field()?)?;
                    let next = match r.field()? {
                        b"!" => None,
                        [b'=', rest @ ..] => Some(OsString::from_vec(no_nul(dec(rest)?)?)),
                        _ => return Err(Corrupt),
                    };
                    let list = st.lists.last_mut().ok_or(Corrupt)?;
                    list.removed.push(Removed {
                        entry,
                        old_index,
                        next,
                    });
                }
                b"f" => match r.field()? {
                    b"0" => st.slow_hook = true,
                    _ => return Err(Corrupt),
                },
                b"e" => st.notice = Some(hex_u64(r.field()?)?),
                _ => return Err(Corrupt),
            }
            r.done()?;
        }
        Ok((st, stored))
    }
}

/// `1` or `0`.
fn flag(field: &[u8]) -> Result<bool, Corrupt> {
    match field {
        b"1" => Ok(true),
        b"0" => Ok(false),
        _ => Err(Corrupt),
    }
}

fn hex_u64(field: &[u8]) -> Result<u64, Corrupt> {
    u64::from_str_radix(std::str::from_utf8(field).map_err(|_| Corrupt)?, 16).map_err(|_| Corrupt)
}

/// A `p=` record: what the prompt segment shows.
fn decode_prompt(r: &mut Record<'_>) -> Result<PromptInfo, Corrupt> {
    let text = |v: Cow<'_, [u8]>| String::from_utf8(v.into_owned()).map_err(|_| Corrupt);
    Ok(PromptInfo {
        context: text(dec(r.field()?)?)?,
        color: text(dec(r.field()?)?)?,
        dir: text(dec(r.field()?)?)?,
        untrusted: flag(r.field()?)?,
        format: text(dec(r.field()?)?)?,
        protected: r.fields.next().map(flag).transpose()?.unwrap_or(false),
    })
}

/// A `v=` record: a variable strata set (or unset), with its value from before, inline or
/// stored.
fn decode_var(r: &mut Record<'_>, spill: &dyn Spill) -> Result<VarRecord, Corrupt> {
    let name = name(r.field()?)?;
    let set_hash = match r.field()? {
        b"-" => None,
        h => Some(hex_u64(h)?),
    };
    let (set_hash, prev) = match r.field()? {
        b"!" => (set_hash, None),
        [b'=', rest @ ..] => (set_hash, Some(OsString::from_vec(no_nul(dec(rest)?)?))),
        [b'@', id @ ..] => match spill.load(spill_id(id)?) {
            Some(v) if !v.contains(&0) => (set_hash, Some(OsString::from_vec(v))),
            // Never matches a value, so the variable is left as it is.
            _ => (Some(UNRESTORABLE), None),
        },
        _ => return Err(Corrupt),
    };
    Ok(VarRecord {
        name,
        set_hash,
        prev,
    })
}

/// `body` with its MAC under `key` appended: a state as strata would write it (for tools and
/// fuzz targets that build bodies by hand).
pub fn seal(body: &[u8], key: &Key) -> OsString {
    let mut out = body.to_vec();
    push_mac(&mut out, key);
    OsString::from_vec(out)
}

/// Append the MAC of everything in `out` so far.
fn push_mac(out: &mut Vec<u8>, key: &Key) {
    let mac = key.mac(out);
    out.extend_from_slice(b";k=");
    out.extend_from_slice(&mac);
}

/// The hot path: true when `raw` is a state for this cwd, context and session, written (when
/// it names a shell) by the hook of the shell of `owner` (its stamp file, empty without one;
/// `None`: which shell does not matter to the caller), and no watched path changed. Reads only
/// the header and the `w=` records and verifies no MAC (answering "nothing changed" applies
/// nothing, whoever wrote the state); any doubt, including a state stored whole in the state
/// directory, returns false and the caller does the full evaluation.
pub fn unchanged(
    raw: &OsStr,
    cwd: &[u8],
    context: &[u8],
    session: &[u8],
    owner: Option<&[u8]>,
) -> bool {
    let Ok(records) = Records::of(raw.as_bytes()) else {
        return false;
    };
    let mut seen_header = 0;
    for r in records {
        let Ok(mut r) = r else { return false };
        let Ok(first) = r.field() else { return false };
        let same = |want: &[u8]| dec(first).is_ok_and(|v| *v == *want);
        let ok = match r.tag {
            b"c" => same(cwd),
            b"x" => same(context),
            b"s" => same(session),
            b"d" => num::<i64>(first).is_ok_and(|d| crate::clock::now() < d),
            b"o" => owner.is_none_or(same),
            b"w" => {
                let (Ok(path), Ok(Ok(stamp))) = (dec(first), r.field().map(decode_stamp)) else {
                    return false;
                };
                stamp != Stamp::Racy
                    && Stamp::of(Path::new(OsStr::from_bytes(&path)), None) == stamp
            }
            // Everything after the watch records is restore data the hot path does not need;
            // a state stored whole (`r=`) is decided by the full path.
            b"r" => return false,
            _ => return seen_header == 3,
        };
        if !ok {
            return false;
        }
        if matches!(r.tag, b"c" | b"x" | b"s") {
            seen_header += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(b: &[u8]) -> OsString {
        OsString::from_vec(b.to_vec())
    }

    fn key() -> Key {
        Key::new([7; 32])
    }

    fn sample() -> State {
        State {
            cwd: os(b"/tmp/a b;c,d%e\n\xff"),
            context: os(b"prod"),
            session: os(b""),
            watch: vec![
                Watched {
                    path: "/x/.strata.toml".into(),
                    stamp: Stamp::Absent,
                },
                Watched {
                    path: "/y".into(),
                    stamp: Stamp::Racy,
                },
                Watched {
                    path: "/z".into(),
                    stamp: Stamp::Present {
                        dev: 1,
                        ino: 2,
                        size: 3,
                        sec: -4,
                        nsec: 5,
                    },
                },
            ],
            vars: vec![
                VarRecord {
                    name: "FOO".into(),
                    set_hash: Some(7),
                    prev: None,
                },
                VarRecord {
                    name: "BAR".into(),
                    set_hash: None,
                    prev: Some(os(b"\x01'\"$`")),
                },
            ],
            lists: vec![ListRecord {
                name: "PATH".into(),
                was_unset: false,
                added: vec![Added {
                    entry: os(b"/p q"),
                    old_index: Some(3),
                }],
                removed: vec![
                    Removed {
                        entry: os(b"/old,bin"),
                        old_index: 0,
                        next: Some(os(b"/=x!")),
                    },
                    Removed {
                        entry: os(b"/last"),
                        old_index: 4,
                        next: None,
                    },
                ],
            }],
            notice: Some(0xabc),
            slow_hook: true,
            deadline: Some(1_700_000_000),
            prompt: PromptInfo {
                context: "prod".into(),
                color: "red".into(),
                dir: "my app".into(),
                untrusted: true,
                protected: true,
                format: "{dir}".into(),
            },
            aliases: vec![("t".into(), 9), ("my-tool_2".into(), u64::MAX)],
            owner: os(b"/state/stamps/12;3"),
            project: Some(os(b"/src/my,app")),
            events: vec!["venv".into(), "node-18".into()],
        }
    }

    #[test]
    fn aliases_belong_to_the_shell_that_defined_them() {
        let st = State {
            cwd: os(b"/w"),
            aliases: vec![("t".into(), 1)],
            owner: os(b"/s/1"),
            ..State::default()
        };
        let raw = st.encode(&key(), &NoSpill);
        assert!(unchanged(&raw, b"/w", b"", b"", Some(b"/s/1")));
        assert!(
            !unchanged(&raw, b"/w", b"", b"", Some(b"/s/2")),
            "another shell"
        );
        assert!(!unchanged(&raw, b"/w", b"", b"", Some(b"")), "no shell");
        assert!(
            unchanged(&raw, b"/w", b"", b"", None),
            "aliases do not matter"
        );
        let bad = seal(b"2;c=/w;x=;s=;o=;g=a b,1", &key());
        assert_eq!(
            State::decode(&bad, &key(), &NoSpill),
            Err(Corrupt),
            "alias names are checked"
        );
    }

    #[test]
    fn state_round_trips_any_bytes() {
        let st = sample();
        let raw = st.encode(&key(), &NoSpill);
        assert!(raw.as_bytes().iter().all(|b| (0x21..0x7f).contains(b)));
        assert_eq!(State::decode(&raw, &key(), &NoSpill).unwrap(), st);
    }

    #[test]
    fn states_this_user_did_not_write_are_rejected() {
        let good = State::default().encode(&key(), &NoSpill);
        let mut bad = good.as_bytes().to_vec();
        bad[3] ^= 1;
        assert_eq!(
            State::decode(OsStr::from_bytes(&bad), &key(), &NoSpill),
            Err(Corrupt)
        );
        assert_eq!(
            State::decode(OsStr::new("garbage"), &key(), &NoSpill),
            Err(Corrupt)
        );
        assert_eq!(
            State::decode(OsStr::new(""), &key(), &NoSpill),
            Err(Corrupt)
        );
        assert!(State::decode(&good, &key(), &NoSpill).is_ok());
        // A well-formed state under another key is foreign.
        let other = State::default().encode(&Key::new([8; 32]), &NoSpill);
        assert_eq!(State::decode(&other, &key(), &NoSpill), Err(Corrupt));
    }

    #[test]
    fn invalid_names_and_ids_make_a_state_foreign() {
        // Authenticated but hostile bodies: only a bug could write them, and they must still
        // never decode into something that prints code.
        for body in [
            &b"2;c=;x=;s=;v=X%3Btouch /tmp/x%3BY,-,=val"[..],
            b"2;c=;x=;s=;v=A B,-,!",
            b"2;c=;x=;s=;l=$(x),0",
            b"2;c=;x=;s=;v=A,-,@/dev/zero",
            b"2;c=;x=;s=;v=A,-,@../../x",
            b"2;c=;x=;s=;w=relative,-",
            b"2;c=;x=;s=;r=../x",
            b"2;c=x%00y;x=;s=",
        ] {
            let raw = seal(body, &key());
            assert_eq!(
                State::decode(&raw, &key(), &NoSpill),
                Err(Corrupt),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn a_prompt_record_without_the_protected_field_still_decodes() {
        let raw = seal(b"2;c=;x=;s=;p=prod,red,app,0,", &key());
        let st = State::decode(&raw, &key(), &NoSpill).unwrap();
        assert_eq!(st.prompt.context, "prod");
        assert!(!st.prompt.protected);
        let raw = seal(b"2;c=;x=;s=;p=prod,red,app,0,,1", &key());
        assert!(
            State::decode(&raw, &key(), &NoSpill)
                .unwrap()
                .prompt
                .protected
        );
        for bad in [
            &b"2;c=;x=;s=;p=prod,red,app,0,,2"[..],
            b"2;c=;x=;s=;p=prod,red,app,0,,1,1",
        ] {
            assert_eq!(
                State::decode(&seal(bad, &key()), &key(), &NoSpill),
                Err(Corrupt)
            );
        }
    }

    struct Mem(std::cell::RefCell<Vec<(String, Vec<u8>)>>);

    impl Spill for Mem {
        fn store(&self, bytes: &[u8]) -> Option<String> {
            let id = crate::store::trust::sha256_hex(bytes);
            self.0.borrow_mut().push((id.clone(), bytes.to_vec()));
            Some(id)
        }
        fn load(&self, id: &str) -> Option<Vec<u8>> {
            self.0
                .borrow()
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, b)| b.clone())
        }
    }

    #[test]
    fn big_states_stay_under_the_budget() {
        let mut st = sample();
        for i in 0..5000 {
            st.vars.push(VarRecord {
                name: format!("V{i}"),
                set_hash: Some(i),
                prev: Some(os(&vec![b'x'; if i == 0 { 10_000 } else { 3 }])),
            });
        }
        let mem = Mem(Default::default());
        let raw = st.encode(&key(), &mem);
        assert!(raw.len() < BUDGET, "{}", raw.len());
        assert_eq!(State::decode(&raw, &key(), &mem).unwrap(), st);
        // Without the stored copy, it is foreign.
        assert_eq!(State::decode(&raw, &key(), &NoSpill), Err(Corrupt));
        // The no-op check leaves a stored state to the full path.
        assert!(!unchanged(&raw, st.cwd.as_bytes(), b"prod", b"", None));
    }

    #[test]
    fn the_hot_path_reads_the_same_format() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        std::fs::write(&f, "x").unwrap();
        let st = State {
            cwd: os(b"/w"),
            watch: vec![Watched {
                path: f.clone(),
                stamp: Stamp::of(&f, None),
            }],
            ..State::default()
        };
        let raw = st.encode(&key(), &NoSpill);
        assert!(unchanged(&raw, b"/w", b"", b"", None));
        assert!(!unchanged(&raw, b"/other", b"", b"", None));
        std::fs::write(&f, "xy").unwrap();
        assert!(!unchanged(&raw, b"/w", b"", b"", None));
    }
}
