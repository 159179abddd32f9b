//! Per-session state: `$XDG_STATE_HOME/strata/sessions/<id>.toml`, written by `strata set`.
//!
//! A session file is plain TOML the user may read:
//!
//! ```toml
//! context = "prod"            # chosen for this session: `strata use --session prod`
//! context_until = 1764072000  # `strata use --ttl 30m`: in force until then (unix seconds)…
//! context_then = ["dev"]      # …then the first of these still in force (none: the global one)
//! previous_context = "dev"    # what `strata use -` goes back to ("": the global selection)
//! [env]
//! FOO = "bar"
//! [bytes]                     # values that are not UTF-8, percent-encoded
//! WEIRD = "%FFok"
//! [prepend]                   # entries `strata set --prepend` puts in front of a list
//! PATH = ["/opt/tool/bin"]
//! [expires]                   # unix seconds, from `strata set --ttl`
//! FOO = 1764072000
//! [secrets]                   # `strata set --secret`: the value is in a keyring, not here
//! exec_only = ["DEPLOY_KEY"]  # reaches `strata exec` only, never the shell
//! [secrets.keyring]
//! GITHUB_TOKEN = "secret-service"
//! DEPLOY_KEY = "keyutils"
//! ```
//!
//! Values are literal: what `strata set` received is what the shell gets, no interpolation.
//! Every change is a read-modify-write under the file's lock, so concurrent `strata set`
//! processes never lose an update.

use anyhow::{Context as _, Result, anyhow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::contexts::{Choice, Selection};
use super::{Dirs, LockPolicy, ensure_private_dir, update};
use crate::display::tilde;
use crate::names::validate_name;
use crate::secrets::Store;

/// One session's stored state.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// The context this session chose with `context use --session`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// When that choice ends (`strata use --ttl`), unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_until: Option<i64>,
    /// The choices it goes back to then, newest first, as lines of a selection
    /// ([`crate::store::contexts::Choice`]); none left: the session follows the global one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_then: Vec<String>,
    /// The context this session used before its last switch (`""`: it followed the global
    /// selection), for `strata use -`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_context: Option<String>,
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
    /// Values kept in a keyring.
    #[serde(default, skip_serializing_if = "SecretRefs::is_empty")]
    pub secrets: SecretRefs,
    /// `strata off`: what this session's shells stop applying until `strata on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Pause>,
}

/// What `strata off` pauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pause {
    /// Every layer: the shell is back to what it had before strata.
    All,
    /// The directory files only (`strata off --dir`): contexts and the session still apply.
    Dirs,
}

/// Which variables are secrets and where their values live: the `[secrets]` table of a
/// session file (a directory, context or global file has the same, see
/// [`crate::layers::file::Secrets`]).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRefs {
    /// Variables that reach `strata exec` only.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub exec_only: BTreeSet<String>,
    /// Variable → the keyring that holds its value (`secret-service`, `keyutils`, `keychain`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keyring: BTreeMap<String, String>,
}

impl SecretRefs {
    fn is_empty(&self) -> bool {
        self.exec_only.is_empty() && self.keyring.is_empty()
    }
}

/// A secret of a session: its name, its keyring, and whether it is exec-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// The variable.
    pub name: String,
    /// Where its value is.
    pub store: Store,
    /// It reaches `strata exec` only.
    pub exec_only: bool,
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
    /// This session's own choice of context and the ones it goes back to, newest first
    /// (empty: it follows the global selection).
    pub fn selection(&self) -> Selection {
        let head = (self.context.is_some() || self.context_until.is_some()).then(|| Choice {
            name: self.context.clone(),
            until: self.context_until,
        });
        let rest = Selection::parse(self.context_then.iter().map(String::as_str)).0;
        Selection(head.into_iter().chain(rest).collect())
    }

    /// Make `sel` this session's choice of context.
    pub fn set_selection(&mut self, sel: Selection) {
        let mut choices = sel.0.into_iter();
        let head = choices.next();
        self.context = head.as_ref().and_then(|c| c.name.clone());
        self.context_until = head.and_then(|c| c.until);
        self.context_then = choices.map(|c| c.render()).collect();
    }

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

    /// The live secrets at `at`.
    pub fn secrets(&self, at: i64) -> Vec<SecretRef> {
        self.secrets
            .keyring
            .iter()
            .filter(|(n, _)| self.expires.get(*n).is_none_or(|&t| t > at))
            .filter_map(|(n, store)| {
                Some(SecretRef {
                    name: n.clone(),
                    store: Store::parse(store)?,
                    exec_only: self.secrets.exec_only.contains(n),
                })
            })
            .collect()
    }

    /// Every secret, live or expired.
    pub fn all_secrets(&self) -> Vec<SecretRef> {
        self.secrets(i64::MIN)
    }

    /// Some secret expired at `at` (its keyring entry is to be removed).
    pub fn has_expired_secret(&self, at: i64) -> bool {
        self.secrets
            .keyring
            .keys()
            .any(|n| self.expires.get(n).is_some_and(|&t| t <= at))
    }

    /// Record that `name` is a secret kept in `store`; its value is not in this file. Returns
    /// the keyring of the secret it replaces, when that is another one.
    pub fn set_secret(
        &mut self,
        name: &str,
        store: Store,
        exec_only: bool,
        expires: Option<i64>,
    ) -> Option<Store> {
        let old = self.unset(name).filter(|s| *s != store);
        self.secrets
            .keyring
            .insert(name.to_string(), store.name().to_string());
        if exec_only {
            self.secrets.exec_only.insert(name.to_string());
        }
        if let Some(t) = expires {
            self.expires.insert(name.to_string(), t);
        }
        old
    }

    /// Set `name`, with an optional expiry. Returns the keyring of a secret it replaces (whose
    /// entry is to be removed).
    pub fn set(&mut self, name: &str, value: &OsString, expires: Option<i64>) -> Option<Store> {
        let old = self.unset(name);
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
        old
    }

    /// Remove `name` (its value, its list entries, or its secret); `None` if it was not set,
    /// else `Some` of the keyring that held it when it was a secret (whose entry is to be
    /// removed).
    pub fn remove(&mut self, name: &str) -> Option<Option<Store>> {
        self.expires.remove(name);
        self.secrets.exec_only.remove(name);
        let secret = self.secrets.keyring.remove(name);
        let was = self.env.remove(name).is_some()
            | self.bytes.remove(name).is_some()
            | self.prepend.remove(name).is_some()
            | self.append.remove(name).is_some();
        match secret {
            Some(store) => Some(Store::parse(&store)),
            None => was.then_some(None),
        }
    }

    /// Remove `name`; the keyring of the secret it was, if it was one.
    fn unset(&mut self, name: &str) -> Option<Store> {
        self.remove(name).flatten()
    }

    /// Drop values that expired at `at`; returns the secrets among them (whose keyring
    /// entries are to be removed).
    pub fn prune(&mut self, at: i64) -> Vec<(String, Store)> {
        let dead: Vec<String> = self
            .expires
            .iter()
            .filter(|&(_, &t)| t <= at)
            .map(|(n, _)| n.clone())
            .collect();
        dead.into_iter()
            .filter_map(|n| self.unset(&n).map(|s| (n, s)))
            .collect()
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
        for (name, store) in &session.secrets.keyring {
            if !crate::names::valid_name(name) {
                return Err(corrupt(format!(
                    "invalid variable name {:?}",
                    crate::display::escape(name)
                )));
            }
            if Store::parse(store).is_none() {
                return Err(corrupt(format!(
                    "{name}: unknown keyring {:?} (one of: {})",
                    crate::display::escape(store),
                    Store::NAMES.join(", ")
                )));
            }
        }
        for name in &session.secrets.exec_only {
            if !session.secrets.keyring.contains_key(name) {
                return Err(corrupt(format!(
                    "{:?} is listed in exec_only but is not a secret",
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
        for line in &session.context_then {
            if Choice::parse(line).is_none() {
                return Err(corrupt(format!(
                    "context_then: {:?} is not NAME, NAME until UNIX-SECONDS or -",
                    crate::display::escape(line)
                )));
            }
        }
        if let Some(p) = session
            .previous_context
            .as_deref()
            .filter(|p| !p.is_empty())
        {
            validate_name("context", p).map_err(|e| corrupt(e.to_string()))?;
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
    let keyring = doc
        .get("secrets")
        .and_then(|s| s.as_table_like())
        .and_then(|s| s.get("keyring"));
    let span = ["env", "bytes"]
        .iter()
        .filter_map(|t| doc.get(t))
        .chain(keyring)
        .find_map(|item| {
            let table = item.as_table_like()?;
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
    let (out, expired) = update(&path, policy, |current| {
        let mut session = match current {
            Some(bytes) => Session::parse(&path, &bytes)?,
            None => Session::default(),
        };
        let expired = session.prune(now());
        let out = f(&mut session)?;
        Ok((Some(session.render(id)?), (out, expired)))
    })?;
    super::announce(dirs)?;
    forget_secrets(dirs, id, &expired);
    Ok(out)
}

/// The keyring entry of secret `name` of session `id`.
pub fn secret_account(dirs: &Dirs, id: &str, name: &str) -> String {
    crate::secrets::account(
        &crate::secrets::install_id(&dirs.state),
        &format!("session/{id}"),
        name,
    )
}

/// Remove secrets of session `id` from their keyrings. A keyring that cannot be reached is
/// said once per secret: the entry stays there until the next attempt (`strata session gc`).
pub fn forget_secrets(dirs: &Dirs, id: &str, secrets: &[(String, Store)]) {
    for (name, store) in secrets {
        if let Err(e) = crate::secrets::delete(*store, &secret_account(dirs, id, name)) {
            crate::say!("{name}: could not remove it from {}: {e}", store.describe());
        }
    }
}

/// Delete session `id`'s file; true if it existed.
pub fn end(dirs: &Dirs, id: &str, policy: LockPolicy) -> Result<bool> {
    validate_name("session", id)?;
    let path = dirs.session_file(id);
    if !path.exists() {
        return Ok(false);
    }
    super::announce(dirs)?;
    let secrets = update(&path, policy, |current| {
        // A corrupt file still goes; its secrets cannot be named then.
        let secrets = current
            .and_then(|b| Session::parse(&path, &b).ok())
            .map(|s| {
                s.all_secrets()
                    .into_iter()
                    .map(|r| (r.name, r.store))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        Ok((None, secrets))
    })?;
    forget_secrets(dirs, id, &secrets);
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
    fn a_session_choice_with_an_end_round_trips() {
        let mut s = Session::default();
        assert!(s.selection().0.is_empty());
        let mut sel = Selection::default();
        sel.push(Choice::plain(Some("dev")), 0);
        sel.push(
            Choice {
                name: Some("prod".into()),
                until: Some(100),
            },
            0,
        );
        s.set_selection(sel.clone());
        assert_eq!(s.context.as_deref(), Some("prod"));
        assert_eq!(s.context_until, Some(100));
        assert_eq!(s.context_then, ["dev"]);
        let text = String::from_utf8(s.render("x").unwrap()).unwrap();
        let back = Session::parse(std::path::Path::new("/s/x.toml"), text.as_bytes()).unwrap();
        assert_eq!(back.selection(), sel);
        let bad = "context = \"prod\"\ncontext_then = [\"dev until soon\"]\n";
        let e = Session::parse(std::path::Path::new("/s/x.toml"), bad.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("context_then"), "{e}");
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
