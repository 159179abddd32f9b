//! Per-session state: `$XDG_STATE_HOME/strata/sessions/<id>.toml`, written by `strata set`.
//!
//! A session file is plain TOML the user may read:
//!
//! ```toml
//! context = "prod"            # chosen with `strata context use --session`
//! [env]
//! FOO = "bar"
//! [bytes]                     # values that are not UTF-8, percent-encoded
//! WEIRD = "%FFok"
//! [prepend]                   # entries `strata set --prepend` puts in front of a list
//! PATH = ["/opt/tool/bin"]
//! [expires]                   # unix seconds, from `strata set --ttl`
//! FOO = 1764072000
//! ```
//!
//! Values are literal: what `strata set` received is what the shell gets, no interpolation.
//! Every change is a read-modify-write under the file's lock, so concurrent `strata set`
//! processes never lose an update.

use anyhow::{Context as _, Result, anyhow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Dirs, LockPolicy, ensure_private_dir, update};
use crate::display::tilde;
use crate::names::validate_name;

/// One session's stored state.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// The context this session chose with `context use --session`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Values that are valid UTF-8.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Values that are not, percent-encoded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bytes: BTreeMap<String, String>,
    /// Entries `strata set --prepend` put in front of a list (`PATH`, …), by variable.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prepend: BTreeMap<String, Vec<String>>,
    /// Entries `strata set --append` put at the back of a list, by variable.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub append: BTreeMap<String, Vec<String>>,
    /// Expiry (unix seconds) of values set with a TTL.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expires: BTreeMap<String, i64>,
}

use crate::clock::now;

/// A value that is not UTF-8, for the `[bytes]` table.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    crate::codec::percent_encode(&mut out, bytes, b"");
    String::from_utf8(out).expect("percent-encoding is ASCII")
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    crate::codec::percent_decode(text.as_bytes()).map(std::borrow::Cow::into_owned)
}

impl Session {
    /// The value of `name`, if set and not expired at `at`.
    pub fn get(&self, name: &str, at: i64) -> Option<OsString> {
        if self.expires.get(name).is_some_and(|&t| t <= at) {
            return None;
        }
        if let Some(v) = self.env.get(name) {
            return Some(v.into());
        }
        self.bytes
            .get(name)
            .and_then(|v| percent_decode(v))
            .map(OsString::from_vec)
    }

    /// Every live value at `at`, sorted by name.
    pub fn values(&self, at: i64) -> Vec<(String, OsString)> {
        let names = self.env.keys().chain(self.bytes.keys());
        let mut out: Vec<(String, OsString)> = names
            .filter_map(|n| self.get(n, at).map(|v| (n.clone(), v)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Every live list edit at `at`: (variable, entries in front, entries at the back).
    pub fn lists(&self, at: i64) -> Vec<(String, Vec<OsString>, Vec<OsString>)> {
        let names: std::collections::BTreeSet<&String> =
            self.prepend.keys().chain(self.append.keys()).collect();
        names
            .into_iter()
            .filter(|n| self.expires.get(*n).is_none_or(|&t| t > at))
            .map(|n| {
                let entries = |m: &BTreeMap<String, Vec<String>>| -> Vec<OsString> {
                    m.get(n).into_iter().flatten().map(OsString::from).collect()
                };
                (n.clone(), entries(&self.prepend), entries(&self.append))
            })
            .collect()
    }

    /// Add `entry` to the front (or back) of the list `name`, once.
    pub fn add_entry(&mut self, name: &str, entry: &str, front: bool, expires: Option<i64>) {
        let list = if front {
            &mut self.prepend
        } else {
            &mut self.append
        }
        .entry(name.to_string())
        .or_default();
        if !list.iter().any(|e| e == entry) {
            list.push(entry.to_string());
        }
        if let Some(t) = expires {
            self.expires.insert(name.to_string(), t);
        }
    }

    /// The earliest expiry after `at`, when a live value has one.
    pub fn next_expiry(&self, at: i64) -> Option<i64> {
        self.expires.values().copied().filter(|&t| t > at).min()
    }

    /// Set `name`, with an optional expiry.
    pub fn set(&mut self, name: &str, value: &OsString, expires: Option<i64>) {
        self.expires.remove(name);
        self.env.remove(name);
        self.bytes.remove(name);
        match value.to_str() {
            Some(s) => {
                self.env.insert(name.to_string(), s.to_string());
            }
            None => {
                self.bytes
                    .insert(name.to_string(), percent_encode(value.as_bytes()));
            }
        }
        if let Some(t) = expires {
            self.expires.insert(name.to_string(), t);
        }
    }

    /// Remove `name` (its value and its list entries); true if it was set.
    pub fn unset(&mut self, name: &str) -> bool {
        self.expires.remove(name);
        self.env.remove(name).is_some()
            | self.bytes.remove(name).is_some()
            | self.prepend.remove(name).is_some()
            | self.append.remove(name).is_some()
    }

    /// Drop values that expired at `at`.
    pub fn prune(&mut self, at: i64) {
        let dead: Vec<String> = self
            .expires
            .iter()
            .filter(|&(_, &t)| t <= at)
            .map(|(n, _)| n.clone())
            .collect();
        for n in dead {
            self.unset(&n);
        }
    }

    /// Parse a session file's bytes; errors name the file and line.
    pub fn parse(path: &std::path::Path, bytes: &[u8]) -> Result<Session> {
        let corrupt = |detail: String| {
            anyhow!(
                "{}: {detail}; this session file is corrupt (fix it, or remove it with strata session end)",
                tilde(path)
            )
        };
        let text = std::str::from_utf8(bytes).map_err(|_| corrupt("not UTF-8 text".into()))?;
        let session: Session = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            corrupt(format!("line {line}: {}", e.message().trim()))
        })?;
        for name in session
            .env
            .keys()
            .chain(session.bytes.keys())
            .chain(session.prepend.keys())
            .chain(session.append.keys())
        {
            if !crate::names::valid_name(name) {
                return Err(corrupt(format!(
                    "invalid variable name {:?}",
                    crate::display::escape(name)
                )));
            }
        }
        for (name, value) in &session.env {
            crate::names::check_value(value.as_bytes())
                .map_err(|msg| corrupt(format!("{name}: {msg}")))?;
        }
        for (name, entries) in session.prepend.iter().chain(&session.append) {
            for e in entries {
                crate::names::check_value(e.as_bytes())
                    .map_err(|msg| corrupt(format!("{name}: {msg}")))?;
                if e.contains(':') {
                    return Err(corrupt(format!("{name}: a list entry cannot contain ':'")));
                }
            }
        }
        for (name, value) in &session.bytes {
            let ok = percent_decode(value).is_some_and(|v| !v.contains(&0));
            if !ok {
                return Err(corrupt(format!(
                    "{name}: not a percent-encoded value without NUL bytes"
                )));
            }
        }
        if let Some(c) = &session.context {
            validate_name("context", c).map_err(|e| corrupt(e.to_string()))?;
        }
        Ok(session)
    }

    fn render(&self, id: &str) -> Result<Vec<u8>> {
        let body = toml::to_string(self).context("cannot write the session file")?;
        Ok(
            format!("# strata session {id}: change it with strata set / strata unset\n{body}")
                .into_bytes(),
        )
    }
}

impl Dirs {
    /// The directory of session files.
    pub fn sessions_dir(&self) -> PathBuf {
        self.state.join("sessions")
    }

    /// The file of session `id` (validate the id first).
    pub fn session_file(&self, id: &str) -> PathBuf {
        self.sessions_dir().join(format!("{id}.toml"))
    }
}

/// The line of `name` in the session file at `path` (for `strata why`), if it is there.
pub fn line_of(path: &std::path::Path, name: &str) -> Option<usize> {
    let bytes = crate::files::read_mine(path, crate::files::LAYER_CAP).ok()??;
    let text = std::str::from_utf8(&bytes).ok()?;
    let doc = toml_edit::Document::parse(text).ok()?;
    let span = ["env", "bytes"].iter().find_map(|t| {
        let table = doc.get(t)?.as_table_like()?;
        let (key, _) = table.get_key_value(name)?;
        key.span()
    })?;
    Some(text[..span.start].matches('\n').count() + 1)
}

/// Load session `id`; `Ok(None)` when it has no file yet.
pub fn load(dirs: &Dirs, id: &str) -> Result<Option<Session>> {
    validate_name("session", id)?;
    super::check_if_present(&dirs.sessions_dir())?;
    let path = dirs.session_file(id);
    match crate::files::read_mine(&path, crate::files::LAYER_CAP)? {
        Some(bytes) => Ok(Some(Session::parse(&path, &bytes)?)),
        None => Ok(None),
    }
}

/// Change session `id` under its lock. `f` returns whether the session should still exist.
pub fn modify<T>(
    dirs: &Dirs,
    id: &str,
    policy: LockPolicy,
    f: impl FnOnce(&mut Session) -> Result<T>,
) -> Result<T> {
    validate_name("session", id)?;
    ensure_private_dir(&dirs.state)?;
    ensure_private_dir(&dirs.sessions_dir())?;
    let path = dirs.session_file(id);
    super::announce(dirs)?;
    let out = update(&path, policy, |current| {
        let mut session = match current {
            Some(bytes) => Session::parse(&path, &bytes)?,
            None => Session::default(),
        };
        session.prune(now());
        let out = f(&mut session)?;
        Ok((Some(session.render(id)?), out))
    })?;
    super::announce(dirs)?;
    Ok(out)
}

/// Delete session `id`'s file; true if it existed.
pub fn end(dirs: &Dirs, id: &str, policy: LockPolicy) -> Result<bool> {
    validate_name("session", id)?;
    let path = dirs.session_file(id);
    if !path.exists() {
        return Ok(false);
    }
    super::announce(dirs)?;
    update(&path, policy, |_| Ok((None, ())))?;
    let _ = std::fs::remove_file(super::lock_path(&path));
    super::announce(dirs)?;
    Ok(true)
}

/// One session file found on disk.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The session id.
    pub id: String,
    /// When it was last written.
    pub modified: SystemTime,
}

/// Every session, sorted by id.
pub fn list(dirs: &Dirs) -> Result<Vec<Listed>> {
    let files = super::named_toml_files(&dirs.sessions_dir(), "session")?;
    Ok(files
        .into_iter()
        .filter_map(|(id, e)| {
            let modified = e.metadata().ok()?.modified().ok()?;
            Some(Listed { id, modified })
        })
        .collect())
}

/// Remove sessions nobody wrote to for `ttl`, and hook stamps and stored values as old; returns the ids
/// removed. A session that is in use but idle simply starts empty again.
pub fn gc(dirs: &Dirs, ttl: Duration, policy: LockPolicy) -> Result<Vec<String>> {
    let cutoff = SystemTime::now().checked_sub(ttl).unwrap_or(UNIX_EPOCH);
    let mut removed = Vec::new();
    for s in list(dirs)? {
        if s.modified < cutoff && end(dirs, &s.id, policy)? {
            removed.push(s.id);
        }
    }
    for dir in [dirs.stamp_dir(), dirs.values_dir()] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| m < cutoff)
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(removed)
}

/// A new random session id (8 hex digits).
pub fn new_id() -> String {
    let mut buf = [0u8; 4];
    let ok = rustix::rand::getrandom(&mut buf, rustix::rand::GetRandomFlags::empty())
        .is_ok_and(|n| n == buf.len());
    if !ok {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        buf = (nanos ^ std::process::id().rotate_left(16)).to_le_bytes();
    }
    crate::codec::hex(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(tmp: &std::path::Path) -> Dirs {
        Dirs::under(tmp)
    }

    #[test]
    fn set_get_expire_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dirs(tmp.path());
        let weird = OsString::from_vec(b"\xff%ok\n".to_vec());
        modify(&d, "s1", LockPolicy::default(), |s| {
            s.set("A", &"a b".into(), None);
            s.set("W", &weird, None);
            s.set("T", &"t".into(), Some(now() + 100));
            s.set("GONE", &"g".into(), Some(now() - 1));
            Ok(())
        })
        .unwrap();
        let s = load(&d, "s1").unwrap().unwrap();
        let t = now();
        assert_eq!(s.get("A", t), Some("a b".into()));
        assert_eq!(s.get("W", t), Some(weird));
        assert_eq!(s.get("T", t + 101), None);
        assert_eq!(s.get("GONE", t), None);
        assert_eq!(s.next_expiry(t), Some(s.expires["T"]));
        assert!(end(&d, "s1", LockPolicy::default()).unwrap());
        assert!(load(&d, "s1").unwrap().is_none());
    }

    #[test]
    fn corrupt_file_names_itself() {
        let e = Session::parse(std::path::Path::new("/s/x.toml"), b"[env\n").unwrap_err();
        assert!(e.to_string().starts_with("/s/x.toml: line 1"), "{e}");
        let e = Session::parse(
            std::path::Path::new("/s/x.toml"),
            b"[env]\n\"a b\" = \"1\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("invalid variable name"), "{e}");
        assert!(load(&dirs(std::path::Path::new("/nonexistent")), "../x").is_err());
    }

    #[test]
    fn ids_are_valid_names() {
        let id = new_id();
        validate_name("session", &id).unwrap();
        assert_eq!(id.len(), 8);
    }
}
