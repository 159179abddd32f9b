//! The target environment versus the current one, and the restore data that travels in
//! `STRATA_STATE`.
//!
//! `STRATA_STATE` is one printable ASCII line, versioned and checksummed:
//! `1;c=CWD;x=CONTEXT;s=SESSION;w=PATH,STAMP;…;v=NAME,HASH,PREV;…;l=NAME,WAS_UNSET;a=ENTRY,OLDIDX;…;e=ERR;k=SUM`.
//! Fields are percent-encoded, so any bytes (including invalid UTF-8) survive. It records:
//! - what the last evaluation looked at (`c`, `x`, `s`, and each watched file's identity `w`), so
//!   that a no-op prompt is decided by a few `stat` calls without parsing any config;
//! - for each variable strata set or unset, its value from before (`PREV`) and a hash of what
//!   strata set, so a value the user changed since is recognised and left alone;
//! - for each PATH-like list, the entries strata added (and where a moved entry used to be), so
//!   they are removed entry by entry and entries the user added in between survive.
//!
//! A state that does not decode, or whose checksum does not match, is treated as absent: strata
//! starts over from the environment as it finds it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A map that keeps insertion order (the order layers assigned things) with fast lookups.
pub type Ordered<V> = indexmap::IndexMap<String, V, rustc_hash::FxBuildHasher>;

/// The current environment, by name (hashed with FxHash: short keys, no untrusted input that
/// could aim at collisions beyond the user's own environment).
pub type Env = HashMap<OsString, OsString>;

/// The variable that carries the state.
pub const STATE_VAR: &str = "STRATA_STATE";

/// Previous values longer than this are stored outside `STRATA_STATE` when possible.
pub const SPILL_OVER: usize = 4096;

/// The set-hash of a variable whose previous value was lost: it never equals a value's hash
/// in practice, so the variable keeps whatever value it has.
const UNRESTORABLE: u64 = 0x5354_5241_5441_4c4f;

/// Files modified this close to the start of an evaluation are recorded as "racy": filesystem
/// timestamps are coarse, so an edit in the same tick could otherwise go unnoticed.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// FNV-1a, 64 bit: a stable, dependency-free hash for change detection (not for security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// What `stat` said about a watched path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// The path does not exist (or cannot be read).
    Absent,
    /// Modified too recently to trust its timestamp: always counts as changed.
    Racy,
    /// Device, inode, size, mtime seconds and nanoseconds.
    Present {
        dev: u64,
        ino: u64,
        size: u64,
        sec: i64,
        nsec: i64,
    },
}

impl Stamp {
    /// The stamp of `path` now, following symlinks. With `racy_after`, a file modified after that
    /// instant is recorded as [`Stamp::Racy`].
    pub fn of(path: &Path, racy_after: Option<SystemTime>) -> Stamp {
        match std::fs::metadata(path) {
            Err(_) => Stamp::Absent,
            Ok(m) => {
                if let Some(limit) = racy_after
                    && let Ok(modified) = m.modified()
                    && modified >= limit
                {
                    return Stamp::Racy;
                }
                Stamp::Present {
                    dev: m.dev(),
                    ino: m.ino(),
                    size: m.size(),
                    sec: m.mtime(),
                    nsec: m.mtime_nsec(),
                }
            }
        }
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
    /// The `prompt.format` setting, when it is not the default.
    pub format: String,
}

/// `STRATA_STATE` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt;

fn enc(out: &mut Vec<u8>, bytes: &[u8]) {
    let plain = |b: u8| b > b' ' && b < 0x7f && !matches!(b, b'%' | b';' | b',');
    if bytes.iter().all(|&b| plain(b)) {
        out.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        if !plain(b) {
            out.push(b'%');
            out.push(b"0123456789ABCDEF"[usize::from(b >> 4)]);
            out.push(b"0123456789ABCDEF"[usize::from(b & 15)]);
        } else {
            out.push(b);
        }
    }
}

/// `h` in lowercase hex without leading zeros, as `{h:x}` writes it (without the formatter,
/// which costs more than the rest of a record).
fn push_hex(out: &mut Vec<u8>, h: u64) {
    let digits = (64 - h.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(b"0123456789abcdef"[((h >> (i * 4)) & 15) as usize]);
    }
}

fn dec(field: &[u8]) -> Result<Vec<u8>, Corrupt> {
    dec_cow(field).map(std::borrow::Cow::into_owned)
}

/// [`dec`] without a copy when nothing is escaped (the usual case on the hot path).
fn dec_cow(field: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Corrupt> {
    if !field.contains(&b'%') {
        return Ok(std::borrow::Cow::Borrowed(field));
    }
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'%' {
            let hex = field.get(i + 1..i + 3).ok_or(Corrupt)?;
            let s = std::str::from_utf8(hex).map_err(|_| Corrupt)?;
            out.push(u8::from_str_radix(s, 16).map_err(|_| Corrupt)?);
            i += 3;
        } else {
            out.push(field[i]);
            i += 1;
        }
    }
    Ok(std::borrow::Cow::Owned(out))
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

impl State {
    /// Encode as the value of `STRATA_STATE`.
    pub fn encode(&self) -> OsString {
        self.encode_with(&|_| None)
    }

    /// Encode, handing each previous value longer than [`SPILL_OVER`] bytes to `spill`, which
    /// may store it elsewhere and return an id to record instead (`STRATA_STATE` must stay well
    /// under Linux's 128 KiB limit for one environment string).
    pub fn encode_with(&self, spill: &dyn Fn(&[u8]) -> Option<String>) -> OsString {
        // Sized once: regrowing a buffer of this size copies it and touches fresh pages.
        let mut out = Vec::with_capacity(
            256 + 64 * self.watch.len() + 48 * self.vars.len() + 64 * self.lists.len(),
        );
        out.push(b'1');
        let rec = |out: &mut Vec<u8>, tag: &[u8]| {
            out.push(b';');
            out.extend_from_slice(tag);
            out.push(b'=');
        };
        rec(&mut out, b"c");
        enc(&mut out, self.cwd.as_bytes());
        rec(&mut out, b"x");
        enc(&mut out, self.context.as_bytes());
        rec(&mut out, b"s");
        enc(&mut out, self.session.as_bytes());
        if let Some(d) = self.deadline {
            rec(&mut out, b"d");
            out.extend_from_slice(d.to_string().as_bytes());
        }
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
        }
        for v in &self.vars {
            rec(&mut out, b"v");
            enc(&mut out, v.name.as_bytes());
            out.push(b',');
            match v.set_hash {
                Some(h) => push_hex(&mut out, h),
                None => out.push(b'-'),
            }
            out.push(b',');
            match &v.prev {
                Some(p) => match (p.len() > SPILL_OVER)
                    .then(|| spill(p.as_bytes()))
                    .flatten()
                {
                    Some(id) => {
                        out.push(b'@');
                        enc(&mut out, id.as_bytes());
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
        }
        if let Some(e) = self.notice {
            rec(&mut out, b"e");
            out.extend_from_slice(format!("{e:x}").as_bytes());
        }
        if self.slow_hook {
            rec(&mut out, b"f");
            out.push(b'0');
        }
        let sum = fnv1a(&out);
        out.extend_from_slice(format!(";k={sum:x}").as_bytes());
        OsString::from_vec(out)
    }

    /// Decode a `STRATA_STATE` value, verifying version and checksum.
    pub fn decode(raw: &OsStr) -> Result<State, Corrupt> {
        Self::decode_with(raw, &|_| None)
    }

    /// Decode, asking `load` for previous values stored by [`State::encode_with`]. A value that
    /// cannot be loaded any more makes its variable unrestorable: it keeps whatever it has.
    pub fn decode_with(
        raw: &OsStr,
        load: &dyn Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<State, Corrupt> {
        let raw = raw.as_bytes();
        let cut = raw.windows(3).rposition(|w| w == b";k=").ok_or(Corrupt)?;
        let (body, sum) = (&raw[..cut], &raw[cut + 3..]);
        let sum = u64::from_str_radix(std::str::from_utf8(sum).map_err(|_| Corrupt)?, 16)
            .map_err(|_| Corrupt)?;
        if fnv1a(body) != sum {
            return Err(Corrupt);
        }
        let mut recs = body.split(|&b| b == b';');
        if recs.next() != Some(b"1") {
            return Err(Corrupt);
        }
        let mut st = State::default();
        for r in recs {
            let (tag, val) = r.split_at_checked(2).ok_or(Corrupt)?;
            let mut fields = val.split(|&b| b == b',');
            let mut field = || fields.next().ok_or(Corrupt);
            let text = |v: Vec<u8>| String::from_utf8(v).map_err(|_| Corrupt);
            match tag {
                b"c=" => st.cwd = OsString::from_vec(dec(field()?)?),
                b"x=" => st.context = OsString::from_vec(dec(field()?)?),
                b"s=" => st.session = OsString::from_vec(dec(field()?)?),
                b"d=" => st.deadline = Some(num(field()?)?),
                b"p=" => {
                    st.prompt.context = text(dec(field()?)?)?;
                    st.prompt.color = text(dec(field()?)?)?;
                    st.prompt.dir = text(dec(field()?)?)?;
                    st.prompt.untrusted = field()? == b"1";
                    st.prompt.format = text(dec(field()?)?)?;
                }
                b"w=" => st.watch.push(Watched {
                    path: PathBuf::from(OsString::from_vec(dec(field()?)?)),
                    stamp: decode_stamp(field()?)?,
                }),
                b"v=" => {
                    let name = text(dec(field()?)?)?;
                    let set_hash = match field()? {
                        b"-" => None,
                        h => Some(
                            u64::from_str_radix(std::str::from_utf8(h).map_err(|_| Corrupt)?, 16)
                                .map_err(|_| Corrupt)?,
                        ),
                    };
                    let (set_hash, prev) = match field()? {
                        b"!" => (set_hash, None),
                        [b'=', rest @ ..] => (set_hash, Some(OsString::from_vec(dec(rest)?))),
                        [b'@', id @ ..] => match load(&text(dec(id)?)?) {
                            Some(v) => (set_hash, Some(OsString::from_vec(v))),
                            // Never matches a value, so the variable is left as it is.
                            None => (Some(UNRESTORABLE), None),
                        },
                        _ => return Err(Corrupt),
                    };
                    st.vars.push(VarRecord {
                        name,
                        set_hash,
                        prev,
                    });
                }
                b"l=" => {
                    let name = text(dec(field()?)?)?;
                    let was_unset = match field()? {
                        b"1" => true,
                        b"0" => false,
                        _ => return Err(Corrupt),
                    };
                    st.lists.push(ListRecord {
                        name,
                        was_unset,
                        added: Vec::new(),
                    });
                }
                b"a=" => {
                    let entry = OsString::from_vec(dec(field()?)?);
                    let old_index = match field()? {
                        b"-" => None,
                        i => Some(num(i)?),
                    };
                    st.lists
                        .last_mut()
                        .ok_or(Corrupt)?
                        .added
                        .push(Added { entry, old_index });
                }
                b"f=" if field()? == b"0" => st.slow_hook = true,
                b"e=" => {
                    let h = std::str::from_utf8(field()?).map_err(|_| Corrupt)?;
                    st.notice = Some(u64::from_str_radix(h, 16).map_err(|_| Corrupt)?);
                }
                _ => return Err(Corrupt),
            }
            if fields.next().is_some() {
                return Err(Corrupt);
            }
        }
        Ok(st)
    }
}

/// The hot path: true when `raw` is a state for this cwd, context and session and no watched
/// path changed. Reads only the header and the `w=` records, verifies no checksum, allocates
/// little; any doubt returns false and the caller does the full evaluation.
pub fn unchanged(raw: &OsStr, cwd: &[u8], context: &[u8], session: &[u8]) -> bool {
    let raw = raw.as_bytes();
    let mut recs = raw.split(|&b| b == b';');
    if recs.next() != Some(b"1") {
        return false;
    }
    let mut seen_header = 0;
    for r in recs {
        let Some((tag, val)) = r.split_at_checked(2) else {
            return false;
        };
        let ok = match tag {
            b"c=" => {
                seen_header += 1;
                dec_cow(val).is_ok_and(|v| *v == *cwd)
            }
            b"x=" => {
                seen_header += 1;
                dec_cow(val).is_ok_and(|v| *v == *context)
            }
            b"s=" => {
                seen_header += 1;
                dec_cow(val).is_ok_and(|v| *v == *session)
            }
            b"d=" => num::<i64>(val).is_ok_and(|d| crate::store::sessions::now() < d),
            b"w=" => {
                let Some(comma) = val.iter().position(|&b| b == b',') else {
                    return false;
                };
                let (Ok(path), Ok(stamp)) =
                    (dec_cow(&val[..comma]), decode_stamp(&val[comma + 1..]))
                else {
                    return false;
                };
                stamp != Stamp::Racy
                    && Stamp::of(Path::new(OsStr::from_bytes(&path)), None) == stamp
            }
            // Everything after the watch records is restore data the hot path does not need.
            _ => return seen_header == 3,
        };
        if !ok {
            return false;
        }
    }
    false
}

fn split_list(value: &OsStr) -> Vec<OsString> {
    if value.is_empty() {
        return Vec::new();
    }
    value
        .as_bytes()
        .split(|&b| b == b':')
        .map(|e| OsString::from_vec(e.to_vec()))
        .collect()
}

fn join_list(entries: &[OsString]) -> OsString {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        out.extend_from_slice(e.as_bytes());
    }
    OsString::from_vec(out)
}

fn hash_of(v: Option<&OsString>) -> Option<u64> {
    v.map(|v| fnv1a(v.as_bytes()))
}

/// The environment as it would be without strata: `current` with strata's own changes undone.
/// A variable the user changed since strata set it keeps the user's value; entries the user
/// added to a list since stay in it.
pub fn base_env(current: &Env, state: Option<&State>) -> Env {
    let mut base = current.clone();
    let Some(state) = state else { return base };
    for v in &state.vars {
        let key = OsString::from(&v.name);
        if hash_of(current.get(&key)) != v.set_hash {
            continue; // the user changed it: their value wins
        }
        match &v.prev {
            Some(p) => base.insert(key, p.clone()),
            None => base.remove(&key),
        };
    }
    for l in &state.lists {
        let key = OsString::from(&l.name);
        let Some(cur) = current.get(&key) else {
            continue;
        };
        let mut entries = split_list(cur);
        for a in &l.added {
            if let Some(pos) = entries.iter().position(|e| *e == a.entry) {
                entries.remove(pos);
            }
        }
        let mut moved: Vec<&Added> = l.added.iter().filter(|a| a.old_index.is_some()).collect();
        moved.sort_by_key(|a| a.old_index);
        for a in moved {
            let at = a.old_index.unwrap_or(0).min(entries.len());
            entries.insert(at, a.entry.clone());
        }
        if entries.is_empty() && l.was_unset {
            base.remove(&key);
        } else {
            base.insert(key, join_list(&entries));
        }
    }
    base
}

/// Entries to put at the front and back of one PATH-like list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListEdit {
    /// In final order: innermost file first.
    pub prepend: Vec<OsString>,
    /// In final order: outermost file first.
    pub append: Vec<OsString>,
}

/// What the layers ask for, relative to the base environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Plain variables: `Some` to set, `None` to unset.
    pub vars: Ordered<Option<OsString>>,
    /// Entry-wise list edits, for variables not also set outright in `vars`.
    pub lists: Ordered<ListEdit>,
}

/// The result of applying a target to a base environment.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Every variable strata manages now or managed before, with its new value.
    pub values: Ordered<Option<OsString>>,
    /// Restore records for the new state.
    pub vars: Vec<VarRecord>,
    /// List records for the new state.
    pub lists: Vec<ListRecord>,
}

/// Apply `target` to `base`. `previously` names the variables the old state managed, so those
/// no longer in the target get their base value back.
///
/// Re-applying what strata already applied is a no-op for each variable: when the old state
/// set a variable to the same value (or put the same entries in a list), the variable keeps
/// its value in `current`, so a change the user made since (a value, an entry added in front)
/// stands until the configuration itself changes.
pub fn apply(base: &Env, target: Target, previously: Option<&State>, current: &Env) -> Applied {
    let mut out = Applied::default();
    let n = target.vars.len() + target.lists.len();
    out.values.reserve(n);
    out.vars.reserve(target.vars.len());
    let old_vars: HashMap<&str, &VarRecord> = previously
        .map(|s| s.vars.iter().map(|v| (v.name.as_str(), v)).collect())
        .unwrap_or_default();
    for (name, val) in target.vars {
        if let Some(old) = old_vars.get(name.as_str())
            && old.set_hash == hash_of(val.as_ref())
        {
            out.vars.push((*old).clone());
            let cur = current.get(OsStr::new(&name)).cloned();
            out.values.insert(name, cur);
            continue;
        }
        let prev = base.get(OsStr::new(&name)).cloned();
        out.vars.push(VarRecord {
            name: name.clone(),
            set_hash: hash_of(val.as_ref()),
            prev,
        });
        out.values.insert(name, val);
    }
    for (name, edit) in &target.lists {
        if out.values.contains_key(name) {
            continue;
        }
        let before = base.get(OsStr::new(name));
        let mut rest = before.map(|v| split_list(v)).unwrap_or_default();
        let mut added = Vec::new();
        let mut seen = HashSet::default();
        let mut take = |entry: &OsString, rest: &mut Vec<OsString>, original: &[OsString]| {
            if !seen.insert(entry.clone()) {
                return false;
            }
            let old_index = original.iter().position(|e| e == entry);
            if let Some(pos) = rest.iter().position(|e| e == entry) {
                rest.remove(pos);
            }
            added.push(Added {
                entry: entry.clone(),
                old_index,
            });
            true
        };
        let original = rest.clone();
        let front: Vec<OsString> = edit
            .prepend
            .iter()
            .filter(|e| take(e, &mut rest, &original))
            .cloned()
            .collect();
        let back: Vec<OsString> = edit
            .append
            .iter()
            .filter(|e| take(e, &mut rest, &original))
            .cloned()
            .collect();
        let mut all = front;
        all.extend(rest);
        all.extend(back);
        let cur = current.get(OsStr::new(name));
        if let Some(old) = previously.and_then(|s| s.lists.iter().find(|l| l.name == *name))
            && let Some(cur) = cur
            && old
                .added
                .iter()
                .map(|a| &a.entry)
                .eq(added.iter().map(|a| &a.entry))
            && old.added.iter().all(|a| split_list(cur).contains(&a.entry))
        {
            out.values.insert(name.clone(), Some(cur.clone()));
            out.lists.push(old.clone());
            continue;
        }
        out.values.insert(name.clone(), Some(join_list(&all)));
        out.lists.push(ListRecord {
            name: name.clone(),
            was_unset: before.is_none(),
            added,
        });
    }
    if let Some(old) = previously {
        let names = old
            .vars
            .iter()
            .map(|v| &v.name)
            .chain(old.lists.iter().map(|l| &l.name));
        for name in names {
            if !out.values.contains_key(name) {
                out.values
                    .insert(name.clone(), base.get(OsStr::new(name)).cloned());
            }
        }
    }
    out
}

/// One variable's change from the current environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<'a> {
    /// Newly set.
    Added(&'a str, &'a OsStr),
    /// Set to a different value.
    Changed(&'a str, &'a OsStr),
    /// Removed.
    Removed(&'a str),
}

/// The changes that move `current` to `values` (borrowed from `values`).
pub fn changes<'a>(current: &Env, values: &'a Ordered<Option<OsString>>) -> Vec<Change<'a>> {
    let mut out = Vec::with_capacity(values.len());
    for (name, new) in values {
        let cur = current.get(OsStr::new(name));
        match (cur, new) {
            (None, Some(v)) => out.push(Change::Added(name, v)),
            (Some(c), Some(v)) if c != v => out.push(Change::Changed(name, v)),
            (Some(_), None) => out.push(Change::Removed(name)),
            _ => {}
        }
    }
    out
}

/// The `+FOO ~PATH -OLD` summary of a set of changes.
pub fn summary(changes: &[Change]) -> String {
    let mut names: Vec<(u8, &str)> = changes
        .iter()
        .map(|c| match c {
            Change::Added(n, _) => (0, *n),
            Change::Changed(n, _) => (1, *n),
            Change::Removed(n) => (2, *n),
        })
        .collect();
    names.sort_unstable();
    let mut out = String::new();
    for (kind, name) in names {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push(['+', '~', '-'][usize::from(kind)]);
        out.push_str(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_matches_the_formatter() {
        for h in [
            0u64,
            1,
            15,
            16,
            255,
            0xdead_beef,
            u64::MAX,
            1 << 63,
            0x0100_0000_01b3,
        ] {
            let mut out = Vec::new();
            push_hex(&mut out, h);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{h:x}"));
        }
    }

    fn env(pairs: &[(&str, &[u8])]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from_vec(v.to_vec())))
            .collect()
    }

    fn os(b: &[u8]) -> OsString {
        OsString::from_vec(b.to_vec())
    }

    #[test]
    fn state_round_trips_any_bytes() {
        let st = State {
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
            }],
            notice: Some(0xabc),
            slow_hook: true,
            deadline: Some(1_700_000_000),
            prompt: PromptInfo {
                context: "prod".into(),
                color: "red".into(),
                dir: "my app".into(),
                untrusted: true,
                format: "{dir}".into(),
            },
        };
        let raw = st.encode();
        assert!(raw.as_bytes().iter().all(|b| (0x21..0x7f).contains(b)));
        assert_eq!(State::decode(&raw).unwrap(), st);
    }

    #[test]
    fn corrupt_states_are_rejected() {
        let good = State::default().encode();
        let mut bad = good.as_bytes().to_vec();
        bad[3] ^= 1;
        assert_eq!(State::decode(OsStr::from_bytes(&bad)), Err(Corrupt));
        assert_eq!(State::decode(OsStr::new("garbage")), Err(Corrupt));
        assert_eq!(State::decode(OsStr::new("")), Err(Corrupt));
        assert!(State::decode(&good).is_ok());
    }

    #[test]
    fn apply_then_restore_is_identity() {
        let base = env(&[
            ("PATH", b"/usr/bin:/bin:/opt/x"),
            ("KEEP", b"k"),
            ("OLD", b"o"),
        ]);
        let mut target = Target::default();
        target.vars.insert("FOO".into(), Some(os(b"foo")));
        target.vars.insert("OLD".into(), None);
        target.lists.insert(
            "PATH".into(),
            ListEdit {
                prepend: vec![os(b"/p/bin"), os(b"/opt/x")],
                append: vec![os(b"/z")],
            },
        );
        let applied = apply(&base, target.clone(), None, &base);
        assert_eq!(
            applied.values["PATH"],
            Some(os(b"/p/bin:/opt/x:/usr/bin:/bin:/z")),
            "an existing entry is moved, not duplicated"
        );
        let mut current = base.clone();
        for (k, v) in &applied.values {
            match v {
                Some(v) => current.insert(k.into(), v.clone()),
                None => current.remove(OsStr::new(k)),
            };
        }
        let st = State {
            vars: applied.vars,
            lists: applied.lists,
            ..State::default()
        };
        assert_eq!(base_env(&current, Some(&st)), base);
    }

    #[test]
    fn user_changes_survive_restore() {
        let base = env(&[("PATH", b"/usr/bin")]);
        let mut target = Target::default();
        target.vars.insert("FOO".into(), Some(os(b"strata")));
        target.lists.insert(
            "PATH".into(),
            ListEdit {
                prepend: vec![os(b"/p")],
                append: vec![],
            },
        );
        let applied = apply(&base, target.clone(), None, &base);
        let st = State {
            vars: applied.vars,
            lists: applied.lists,
            ..State::default()
        };
        let current = env(&[("PATH", b"/mine:/p:/usr/bin"), ("FOO", b"user")]);
        let restored = base_env(&current, Some(&st));
        assert_eq!(restored[OsStr::new("FOO")], os(b"user"));
        assert_eq!(restored[OsStr::new("PATH")], os(b"/mine:/usr/bin"));
    }

    #[test]
    fn list_created_by_strata_is_unset_again() {
        let base = env(&[]);
        let mut target = Target::default();
        target.lists.insert(
            "PYTHONPATH".into(),
            ListEdit {
                prepend: vec![os(b"/a")],
                append: vec![],
            },
        );
        let applied = apply(&base, target.clone(), None, &base);
        assert_eq!(applied.values["PYTHONPATH"], Some(os(b"/a")));
        let st = State {
            lists: applied.lists,
            ..State::default()
        };
        let current = env(&[("PYTHONPATH", b"/a")]);
        assert!(base_env(&current, Some(&st)).is_empty());
    }

    #[test]
    fn summary_orders_added_changed_removed() {
        let ch = vec![
            Change::Removed("OLD"),
            Change::Changed("PATH", OsStr::new("")),
            Change::Added("FOO", OsStr::new("")),
        ];
        assert_eq!(summary(&ch), "+FOO ~PATH -OLD");
    }
}
