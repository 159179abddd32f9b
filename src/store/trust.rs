//! Trust records for directory files (`.strata.toml`, `.strata.local.toml`).
//!
//! Trust belongs to a file *where it applies*: the record's key is the canonical path of the
//! file's directory joined with the file's own name, never the target of a symlink. A symlinked
//! layer file therefore needs its own `strata allow` (which names the target), and cannot
//! borrow the trust of the file it points to. One record per key, at
//! `$XDG_DATA_HOME/strata/trust/<sha256 of the key>`:
//!
//! ```text
//! allow <sha256 of the content>
//! /canonical/dir/.strata.toml
//! target /canonical/path/it/points/to      (only for a symlink)
//! ```
//!
//! or `deny` on the first line. An allow holds for those bytes reached that way: a file
//! replaced by a symlink, or a symlink pointed elsewhere, is untrusted even with the same bytes. The path is stored as bytes (any file name works). A file is
//! trusted only while its content hashes to what was allowed, so any edit makes it untrusted
//! again. Records are written through the locked atomic writer like every other state file, and
//! read only from a private trust directory, as private files of the user.

use anyhow::{Result, anyhow, bail};
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::{Dirs, LockPolicy, ensure_private_dir, write_atomic};
use crate::display::tilde;
use crate::files::{self, Own};

/// What the user decided about a directory file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed with this content hash.
    Allow(String),
    /// Explicitly blocked.
    Deny,
}

/// A file's standing right now, given its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Allowed and unchanged since, or under a `trust.paths` prefix.
    Trusted,
    /// Never allowed, or edited since it was allowed.
    Untrusted,
    /// Blocked by `strata deny`.
    Denied,
}

/// One line of `strata trust list`.
#[derive(Debug, Clone)]
pub struct Record {
    /// The key: where the file applies.
    pub path: PathBuf,
    /// The decision.
    pub decision: Decision,
    /// For a symlink that was allowed: what it pointed to.
    pub target: Option<PathBuf>,
}

/// Where a directory file applies, for its trust record: the canonical path of its directory
/// joined with its own name; and, when the file is a symlink, the canonical path of its target.
pub fn key_of(path: &Path) -> std::io::Result<(PathBuf, Option<PathBuf>)> {
    let abs = std::path::absolute(path)?;
    let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) else {
        return Err(std::io::ErrorKind::InvalidInput.into());
    };
    let key = std::fs::canonicalize(dir)?.join(name);
    let target = if std::fs::symlink_metadata(&key)?.file_type().is_symlink() {
        Some(std::fs::canonicalize(&key)?)
    } else {
        None
    };
    Ok((key, target))
}

/// Lowercase hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::codec::hex32(&Sha256::digest(bytes))
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

/// The record file for a key.
pub fn record_path(dirs: &Dirs, key: &Path) -> PathBuf {
    dirs.trust_dir()
        .join(sha256_hex(key.as_os_str().as_bytes()))
}

fn parse_record(bytes: &[u8]) -> Option<Record> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut lines = body.split(|&b| b == b'\n');
    let (first, path) = (lines.next()?, lines.next()?);
    let target = match lines.next() {
        Some(line) => Some(line.strip_prefix(b"target ")?),
        None => None,
    };
    if path.is_empty() || lines.next().is_some() || target.is_some_and(<[u8]>::is_empty) {
        return None;
    }
    let os = |b: &[u8]| PathBuf::from(OsString::from_vec(b.to_vec()));
    let decision = match first {
        b"deny" => Decision::Deny,
        _ => {
            let hash = first.strip_prefix(b"allow ")?;
            if hash.len() != 64 || !hash.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return None;
            }
            Decision::Allow(String::from_utf8(hash.to_vec()).ok()?)
        }
    };
    Some(Record {
        path: os(path),
        decision,
        target: target.map(os),
    })
}

/// The trust directory, opened once per evaluation: asked which keys may have a record
/// (`fstatat` on a handle to it costs a fraction of a microsecond, while listing it cost tens
/// and grew with the number of records) and for the records themselves.
pub struct TrustStore {
    dir: TrustDir,
    /// The hash state after the last directory asked about (with its `/`): both file names of
    /// a directory share it.
    prefix: Option<(Vec<u8>, Sha256)>,
}

enum TrustDir {
    /// No trust directory: nothing is recorded.
    Absent,
    Open(OwnedFd),
}

impl TrustStore {
    /// Open the trust directory (a missing one holds no records). One that someone else owns
    /// or can write is refused: its records could trust anything.
    pub fn open(dirs: &Dirs) -> Result<TrustStore> {
        use rustix::fs::{Mode, OFlags};
        let path = dirs.trust_dir();
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = match rustix::fs::open(&path, flags, Mode::empty()) {
            Ok(fd) => {
                let meta = std::fs::File::from(fd.try_clone()?).metadata()?;
                files::check_private(&meta, &path, "700")
                    .map_err(|why| anyhow!("refusing to use {}: {why}", tilde(&path)))?;
                TrustDir::Open(fd)
            }
            Err(rustix::io::Errno::NOENT) => TrustDir::Absent,
            Err(e) => bail!("cannot open {}: {e}", tilde(&path)),
        };
        Ok(TrustStore { dir, prefix: None })
    }

    /// The record name of `key`, sharing the hash of its directory with the previous call.
    fn name(&mut self, key: &Path) -> [u8; 64] {
        let bytes = key.as_os_str().as_bytes();
        let cut = bytes.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let (dir, file) = bytes.split_at(cut);
        let mut state = match &self.prefix {
            Some((d, state)) if d == dir => state.clone(),
            _ => {
                let mut state = Sha256::new();
                state.update(dir);
                self.prefix = Some((dir.to_vec(), state.clone()));
                state
            }
        };
        state.update(file);
        crate::codec::hex32(&state.finalize())
    }

    /// Whether `key` may have a record.
    pub fn may_have(&mut self, key: &Path) -> bool {
        let name = self.name(key);
        let TrustDir::Open(fd) = &self.dir else {
            return false;
        };
        match rustix::fs::statat(fd, &name[..], rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => true,
            Err(e) => e != rustix::io::Errno::NOENT,
        }
    }

    /// The record for `key`, if any. A corrupt record counts as no decision (the file is then
    /// untrusted, the safe side); one that is not the user's private file is an error.
    pub fn lookup(&mut self, key: &Path) -> Result<Option<Record>> {
        let name = self.name(key);
        let TrustDir::Open(fd) = &self.dir else {
            return Ok(None);
        };
        let name = Path::new(std::ffi::OsStr::from_bytes(&name));
        let bytes = match files::read_at(fd, name, files::SMALL_CAP, Own::Mine) {
            Ok(Some(c)) => c.bytes,
            Ok(None) => return Ok(None),
            Err(p) => bail!("trust record for {}: {}", tilde(key), p.message(name)),
        };
        Ok(parse_record(&bytes).filter(|rec| rec.path == key))
    }

    /// A file's standing from its key, content and (for a symlink) target. A `trust.paths`
    /// prefix trusts a file only when both where it applies and what it points to are under it.
    pub fn standing(
        &mut self,
        key: &Path,
        target: Option<&Path>,
        content: &[u8],
        trusted_prefixes: &[PathBuf],
    ) -> Result<Standing> {
        let under = |p: &Path| trusted_prefixes.iter().any(|t| p.starts_with(t));
        let rec = self.lookup(key)?;
        Ok(
            match rec.as_ref().map(|r| (&r.decision, r.target.as_deref())) {
                Some((Decision::Deny, _)) => Standing::Denied,
                Some((Decision::Allow(h), t)) if *h == sha256_hex(content) && t == target => {
                    Standing::Trusted
                }
                _ if under(key) && target.is_none_or(under) => Standing::Trusted,
                _ => Standing::Untrusted,
            },
        )
    }
}

/// Decide a file's standing from its key and content (opens the store for one question).
pub fn standing(
    dirs: &Dirs,
    key: &Path,
    target: Option<&Path>,
    content: &[u8],
    trusted_prefixes: &[PathBuf],
) -> Result<Standing> {
    TrustStore::open(dirs)?.standing(key, target, content, trusted_prefixes)
}

/// Record a decision for `key`; `target` is what the file points to when it is a symlink (an
/// allow holds only while it still points there).
pub fn record(
    dirs: &Dirs,
    key: &Path,
    decision: &Decision,
    target: Option<&Path>,
    policy: LockPolicy,
) -> Result<()> {
    ensure_private_dir(&dirs.data)?;
    ensure_private_dir(&dirs.trust_dir())?;
    let mut body = match decision {
        Decision::Allow(h) => format!("allow {h}\n").into_bytes(),
        Decision::Deny => b"deny\n".to_vec(),
    };
    for p in std::iter::once(key).chain(target) {
        if p.as_os_str().as_bytes().contains(&b'\n') {
            bail!(
                "cannot record trust for a path containing a newline: {}",
                tilde(p)
            );
        }
    }
    body.extend_from_slice(key.as_os_str().as_bytes());
    body.push(b'\n');
    if let (Decision::Allow(_), Some(t)) = (decision, target) {
        body.extend_from_slice(b"target ");
        body.extend_from_slice(t.as_os_str().as_bytes());
        body.push(b'\n');
    }
    super::announce(dirs)?;
    write_atomic(&record_path(dirs, key), &body, policy)?;
    super::announce(dirs)
}

/// Forget the decision for `key`.
pub fn forget(dirs: &Dirs, key: &Path, policy: LockPolicy) -> Result<()> {
    let file = record_path(dirs, key);
    super::announce(dirs)?;
    super::update(&file, policy, |_| Ok((None, ())))?;
    let _ = std::fs::remove_file(super::lock_path(&file));
    super::announce(dirs)
}

/// Every record in the trust directory, sorted by path.
pub fn list(dirs: &Dirs) -> Result<Vec<Record>> {
    super::check_if_present(&dirs.trust_dir())?;
    let mut out = Vec::new();
    for entry in super::entries(&dirs.trust_dir())? {
        let name = entry.file_name();
        let name = name.as_bytes();
        if name.len() != 64 || !name.iter().all(u8::is_ascii_hexdigit) {
            continue;
        }
        if let Some(bytes) = files::read_mine(&entry.path(), files::SMALL_CAP)?
            && let Some(rec) = parse_record(&bytes)
        {
            out.push(rec);
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(tmp: &std::path::Path) -> Dirs {
        Dirs::under(tmp)
    }

    #[test]
    fn allow_then_edit_then_deny() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dirs(tmp.path());
        let p = tmp.path().join("proj/.strata.toml");
        assert_eq!(
            standing(&d, &p, None, b"a", &[]).unwrap(),
            Standing::Untrusted
        );
        record(
            &d,
            &p,
            &Decision::Allow(sha256_hex(b"a")),
            None,
            LockPolicy::default(),
        )
        .unwrap();
        assert_eq!(
            standing(&d, &p, None, b"a", &[]).unwrap(),
            Standing::Trusted
        );
        assert_eq!(
            standing(&d, &p, None, b"a edited", &[]).unwrap(),
            Standing::Untrusted
        );
        record(&d, &p, &Decision::Deny, None, LockPolicy::default()).unwrap();
        assert_eq!(
            standing(&d, &p, None, b"a", &[tmp.path().to_path_buf()]).unwrap(),
            Standing::Denied
        );
        let all = list(&d).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].decision, Decision::Deny);
    }

    #[test]
    fn record_names_are_lowercase_sha256_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn record_probe_knows_recorded_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dirs(tmp.path());
        let a = tmp.path().join("a/.strata.toml");
        assert!(
            !TrustStore::open(&d).unwrap().may_have(&a),
            "no trust directory yet"
        );
        record(&d, &a, &Decision::Deny, None, LockPolicy::default()).unwrap();
        for i in 0..300 {
            let p = tmp.path().join(format!("many/{i}/.strata.toml"));
            record(&d, &p, &Decision::Deny, None, LockPolicy::default()).unwrap();
        }
        let mut probe = TrustStore::open(&d).unwrap();
        assert!(probe.may_have(&a));
        // Same directory twice in a row (the shared state), then another.
        assert!(!probe.may_have(&tmp.path().join("a/.strata.local.toml")));
        assert!(probe.may_have(&a));
        assert!(probe.may_have(&tmp.path().join("many/299/.strata.toml")));
        assert!(!probe.may_have(&tmp.path().join("b/.strata.toml")));
    }

    #[test]
    fn prefix_trusts_without_a_record() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dirs(tmp.path());
        let p = tmp.path().join("work/x/.strata.toml");
        assert_eq!(
            standing(&d, &p, None, b"", &[tmp.path().join("work")]).unwrap(),
            Standing::Trusted
        );
        assert_eq!(
            standing(&d, &p, None, b"", &[tmp.path().join("wor")]).unwrap(),
            Standing::Untrusted
        );
        // A symlink is trusted by a prefix only when its target is under it too.
        let inside = tmp.path().join("work/y");
        assert_eq!(
            standing(&d, &p, Some(&inside), b"", &[tmp.path().join("work")]).unwrap(),
            Standing::Trusted
        );
        assert_eq!(
            standing(
                &d,
                &p,
                Some(Path::new("/tmp/evil")),
                b"",
                &[tmp.path().join("work")]
            )
            .unwrap(),
            Standing::Untrusted
        );
    }

    #[test]
    fn an_allowed_symlink_holds_only_while_it_points_there() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dirs(tmp.path());
        let p = tmp.path().join("proj/.strata.toml");
        let t = tmp.path().join("shared/team.toml");
        let allow = Decision::Allow(sha256_hex(b"x"));
        record(&d, &p, &allow, Some(&t), LockPolicy::default()).unwrap();
        assert_eq!(
            standing(&d, &p, Some(&t), b"x", &[]).unwrap(),
            Standing::Trusted
        );
        let elsewhere = tmp.path().join("other.toml");
        assert_eq!(
            standing(&d, &p, Some(&elsewhere), b"x", &[]).unwrap(),
            Standing::Untrusted
        );
        assert_eq!(
            standing(&d, &p, None, b"x", &[]).unwrap(),
            Standing::Untrusted
        );
        assert_eq!(list(&d).unwrap()[0].target.as_deref(), Some(t.as_path()));
    }

    #[test]
    fn records_hold_any_path_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dirs(tmp.path());
        let p = tmp
            .path()
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9 \xff/.strata.toml"));
        record(
            &d,
            &p,
            &Decision::Allow(sha256_hex(b"x")),
            None,
            LockPolicy::default(),
        )
        .unwrap();
        assert_eq!(
            standing(&d, &p, None, b"x", &[]).unwrap(),
            Standing::Trusted
        );
        assert_eq!(list(&d).unwrap()[0].path, p);
        assert!(parse_record(b"allow 12\n/x\n").is_none());
        assert!(parse_record(b"deny\n").is_none());
    }

    #[test]
    fn a_shared_trust_directory_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let d = dirs(tmp.path());
        let p = tmp.path().join("proj/.strata.toml");
        record(&d, &p, &Decision::Deny, None, LockPolicy::default()).unwrap();
        std::fs::set_permissions(d.trust_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = standing(&d, &p, None, b"", &[]).unwrap_err().to_string();
        assert!(err.contains("writable by group or others"), "{err}");
        std::fs::set_permissions(d.trust_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(record_path(&d, &p), std::fs::Permissions::from_mode(0o666))
            .unwrap();
        let err = standing(&d, &p, None, b"", &[]).unwrap_err().to_string();
        assert!(err.contains("writable by group or others"), "{err}");
    }
}
