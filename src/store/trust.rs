//! Trust records for directory files (`.strata.toml`, `.strata.local.toml`).
//!
//! One record per canonical path, at `$XDG_DATA_HOME/strata/trust/<sha256 of the path>`:
//!
//! ```text
//! allow <sha256 of the content>
//! /canonical/path/.strata.toml
//! ```
//!
//! or `deny` on the first line. A file is trusted only while its content hashes to what was
//! allowed, so any edit makes it untrusted again. Records are written through the locked atomic
//! writer like every other state file.

use anyhow::{Result, bail};
use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{Dirs, LockPolicy, ensure_private_dir, write_atomic};

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
    /// The canonical path the decision is about.
    pub path: PathBuf,
    /// The decision.
    pub decision: Decision,
}

/// Lowercase hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex64(&Sha256::digest(bytes))
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

/// The record file for a canonical path.
pub fn record_path(dirs: &Dirs, canonical: &Path) -> PathBuf {
    dirs.trust_dir()
        .join(sha256_hex(canonical.as_os_str().as_bytes()))
}

fn parse_record(bytes: &[u8]) -> Option<Record> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (first, path) = text.split_once('\n')?;
    let path = PathBuf::from(path.strip_suffix('\n').unwrap_or(path));
    let decision = match first.split_once(' ') {
        Some(("allow", hash)) if hash.len() == 64 => Decision::Allow(hash.to_string()),
        None if first == "deny" => Decision::Deny,
        _ => return None,
    };
    Some(Record { path, decision })
}

/// The recorded decision for `canonical`, if any. An unreadable or corrupt record counts as no
/// decision (the file is then untrusted, the safe side).
pub fn lookup(dirs: &Dirs, canonical: &Path) -> Option<Decision> {
    let bytes = read_small(&record_path(dirs, canonical))?;
    let rec = parse_record(&bytes)?;
    (rec.path == canonical).then_some(rec.decision)
}

/// Which canonical paths have a record, asked of the trust directory one name at a time:
/// `fstatat` on a handle to it costs a fraction of a microsecond, while listing it (ext4
/// hashes every name of an indexed directory to list it) cost tens and grew with the number
/// of records.
pub struct RecordProbe {
    dir: TrustDir,
    /// The hash state after the last directory asked about (with its `/`): both file names of
    /// a directory share it.
    prefix: Option<(Vec<u8>, Sha256)>,
}

enum TrustDir {
    /// No trust directory: nothing is recorded.
    Absent,
    Open(std::os::fd::OwnedFd),
    /// It cannot be opened: anything may be recorded.
    Unknown,
}

impl RecordProbe {
    /// Open the trust directory (a missing one holds no records).
    pub fn open(dirs: &Dirs) -> RecordProbe {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = match rustix::fs::open(dirs.trust_dir(), flags, Mode::empty()) {
            Ok(fd) => TrustDir::Open(fd),
            Err(rustix::io::Errno::NOENT) => TrustDir::Absent,
            Err(_) => TrustDir::Unknown,
        };
        RecordProbe { dir, prefix: None }
    }

    /// Whether `canonical` may have a record.
    pub fn may_have(&mut self, canonical: &Path) -> bool {
        let fd = match &self.dir {
            TrustDir::Absent => return false,
            TrustDir::Unknown => return true,
            TrustDir::Open(fd) => fd,
        };
        let bytes = canonical.as_os_str().as_bytes();
        let cut = bytes.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let (dir, file) = bytes.split_at(cut);
        let state = match &self.prefix {
            Some((d, state)) if d == dir => state.clone(),
            _ => {
                let mut state = Sha256::new();
                state.update(dir);
                self.prefix = Some((dir.to_vec(), state.clone()));
                state
            }
        };
        let mut state = state;
        state.update(file);
        let name = hex64(&state.finalize());
        match rustix::fs::statat(fd, &name[..], rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => true,
            Err(e) => e != rustix::io::Errno::NOENT,
        }
    }
}

/// Lowercase hex of a SHA-256 digest, as the record file names are written.
fn hex64(digest: &[u8]) -> [u8; 64] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in digest.iter().take(32).enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
    out
}

/// A record's bytes (a few hundred at most): one `read` into the stack, no `fstat`. `None`
/// when missing, unreadable or implausibly long.
fn read_small(path: &Path) -> Option<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    use std::io::Read;
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut f = fs::File::from(fd);
    let mut buf = [0u8; 4096];
    let mut len = 0;
    loop {
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
        // A regular file that gave less than asked for is at its end (on Linux).
        if len < buf.len() {
            break;
        }
        return None;
    }
    Some(buf[..len].to_vec())
}

/// Decide a file's standing from its canonical path and content.
pub fn standing(
    dirs: &Dirs,
    canonical: &Path,
    content: &[u8],
    trusted_prefixes: &[PathBuf],
) -> Standing {
    match lookup(dirs, canonical) {
        Some(Decision::Deny) => Standing::Denied,
        Some(Decision::Allow(h)) if h == sha256_hex(content) => Standing::Trusted,
        _ if trusted_prefixes.iter().any(|p| canonical.starts_with(p)) => Standing::Trusted,
        _ => Standing::Untrusted,
    }
}

/// Record a decision for `canonical`.
pub fn record(
    dirs: &Dirs,
    canonical: &Path,
    decision: &Decision,
    policy: LockPolicy,
) -> Result<()> {
    ensure_private_dir(&dirs.data)?;
    ensure_private_dir(&dirs.trust_dir())?;
    let mut body = match decision {
        Decision::Allow(h) => format!("allow {h}\n").into_bytes(),
        Decision::Deny => b"deny\n".to_vec(),
    };
    if canonical.as_os_str().as_bytes().contains(&b'\n') {
        bail!(
            "cannot record trust for a path containing a newline: {}",
            canonical.display()
        );
    }
    body.extend_from_slice(canonical.as_os_str().as_bytes());
    body.push(b'\n');
    super::announce(dirs)?;
    write_atomic(&record_path(dirs, canonical), &body, policy)?;
    super::announce(dirs)
}

/// Forget the decision for `canonical`.
pub fn forget(dirs: &Dirs, canonical: &Path, policy: LockPolicy) -> Result<()> {
    let file = record_path(dirs, canonical);
    super::announce(dirs)?;
    super::update(&file, policy, |_| Ok((None, ())))?;
    let _ = fs::remove_file(super::lock_path(&file));
    super::announce(dirs)
}

/// Every record in the trust directory, sorted by path.
pub fn list(dirs: &Dirs) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for entry in super::entries(&dirs.trust_dir())? {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        if let Ok(bytes) = fs::read(entry.path())
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
        assert_eq!(standing(&d, &p, b"a", &[]), Standing::Untrusted);
        record(
            &d,
            &p,
            &Decision::Allow(sha256_hex(b"a")),
            LockPolicy::default(),
        )
        .unwrap();
        assert_eq!(standing(&d, &p, b"a", &[]), Standing::Trusted);
        assert_eq!(standing(&d, &p, b"a edited", &[]), Standing::Untrusted);
        record(&d, &p, &Decision::Deny, LockPolicy::default()).unwrap();
        assert_eq!(
            standing(&d, &p, b"a", &[tmp.path().to_path_buf()]),
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
            !RecordProbe::open(&d).may_have(&a),
            "no trust directory yet"
        );
        record(&d, &a, &Decision::Deny, LockPolicy::default()).unwrap();
        for i in 0..300 {
            let p = tmp.path().join(format!("many/{i}/.strata.toml"));
            record(&d, &p, &Decision::Deny, LockPolicy::default()).unwrap();
        }
        let mut probe = RecordProbe::open(&d);
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
            standing(&d, &p, b"", &[tmp.path().join("work")]),
            Standing::Trusted
        );
        assert_eq!(
            standing(&d, &p, b"", &[tmp.path().join("wor")]),
            Standing::Untrusted
        );
    }
}
