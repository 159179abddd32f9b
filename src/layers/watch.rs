//! What an evaluation looked at: every file it read or could have read, with the identity
//! each had when it was read, so that `strata export` can later tell with one `stat` per path
//! whether the environment must be computed again.

use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::files::{self, Own, Problem, Stamp};
use crate::state::Watched;

/// The watched paths of one evaluation, in the order they were looked at.
#[derive(Debug, Default)]
pub struct Watch {
    entries: Vec<(PathBuf, Option<Stamp>)>,
    /// The last file read was reached through a symlink (its last component is one).
    last_was_link: bool,
    /// The physical working directory, when the process runs in it: files near it are opened
    /// by a relative path, which is fewer components for the kernel to walk.
    near: Option<PathBuf>,
}

impl Watch {
    /// Open files near `cwd` (the working directory, when it is the physical one) by a
    /// relative path.
    pub fn set_near(&mut self, cwd: Option<PathBuf>) {
        self.near = cwd;
    }

    /// Watch `path`, whose identity is taken when the stamps are.
    pub fn push(&mut self, path: PathBuf) {
        self.entries.push((path, None));
    }

    /// Forget the path pushed last.
    pub fn pop(&mut self) {
        self.entries.pop();
    }

    /// Watch `path` and read it with [`files::read`]: its bytes, `None` when it does not
    /// exist, a [`Problem`] when it exists but cannot be read (not a regular file, too large,
    /// not private). The identity recorded is the one of the bytes returned, or of what is
    /// there when it could not be read, so that a fix is noticed.
    pub fn read(&mut self, path: &Path, cap: u64, own: Own) -> Result<Option<Vec<u8>>, Problem> {
        let near = self.near.as_deref().and_then(|cwd| relative(cwd, path));
        let (bytes, stamp) = match files::read(near.as_deref().unwrap_or(path), cap, own) {
            Ok(Some(c)) => {
                self.last_was_link = c.link;
                (Ok(Some(c.bytes)), c.stamp)
            }
            Ok(None) => (Ok(None), Stamp::Absent),
            Err(p) => (Err(p), Stamp::of(path, None)),
        };
        self.entries.push((path.to_path_buf(), Some(stamp)));
        bytes
    }

    /// Whether the last file [`Watch::read`] returned is a symlink itself.
    pub fn last_was_link(&self) -> bool {
        self.last_was_link
    }

    /// Drop repeated paths, keeping the first.
    pub fn dedup(&mut self) {
        use std::hash::BuildHasher;
        // By the bytes: hashing a Path walks its components.
        let hasher = rustc_hash::FxBuildHasher;
        let mut seen = rustc_hash::FxHashSet::default();
        let mut kept: Vec<(PathBuf, Option<Stamp>)> = Vec::with_capacity(self.entries.len());
        for (path, stamp) in std::mem::take(&mut self.entries) {
            let bytes = path.as_os_str().as_bytes();
            if !seen.insert(hasher.hash_one(bytes))
                && kept.iter().any(|(p, _)| p.as_os_str().as_bytes() == bytes)
            {
                continue;
            }
            kept.push((path, stamp));
        }
        self.entries = kept;
    }

    /// Each path's identity: as read, or from a `stat` now. A file modified at or after
    /// `racy_after` is recorded as racy (always changed), since a later edit in the same clock
    /// tick would keep its timestamp.
    pub fn stamps(&self, racy_after: SystemTime) -> Vec<Watched> {
        let racy_sec = racy_after
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let racy_nsec = racy_after
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::from(d.subsec_nanos()));
        self.entries
            .iter()
            .map(|(path, known)| {
                let stamp = match known {
                    Some(Stamp::Present { sec, nsec, .. })
                        if (*sec, *nsec) >= (racy_sec, racy_nsec) =>
                    {
                        Stamp::Racy
                    }
                    Some(s) => *s,
                    None => Stamp::of(path, Some(racy_after)),
                };
                Watched {
                    path: path.clone(),
                    stamp,
                }
            })
            .collect()
    }
}

/// `path` relative to `cwd` (a physical directory, so `..` is its parent), when that takes
/// fewer lookups to resolve than the absolute path; `./` keeps it from looking like an option.
/// Works on the bytes (it runs for every file an evaluation looks at).
pub fn relative(cwd: &Path, path: &Path) -> Option<PathBuf> {
    let (here, there) = (cwd.as_os_str().as_bytes(), path.as_os_str().as_bytes());
    // Segments of a plain absolute path: no empty, `.` or `..` ones ("/" has none).
    let segments = |p: &[u8]| -> Option<usize> {
        let rest = p.strip_prefix(b"/")?;
        if rest.is_empty() {
            return Some(0);
        }
        let mut n = 0;
        for s in rest.split(|&b| b == b'/') {
            if s.is_empty() || s == b"." || s == b".." {
                return None;
            }
            n += 1;
        }
        Some(n)
    };
    let (here_n, there_n) = (segments(here)?, segments(there)?);
    // The common leading segments, and where they end in `there`.
    let (mut common, mut end) = (0, 0);
    let (mut h, mut t) = (
        here[1..].split(|&b| b == b'/'),
        there[1..].split(|&b| b == b'/'),
    );
    while common < here_n.min(there_n) {
        match (h.next(), t.next()) {
            (Some(a), Some(b)) if a == b => {
                common += 1;
                end += 1 + b.len();
            }
            _ => break,
        }
    }
    let ups = here_n - common;
    let rest = there_n - common;
    if ups.max(1) + rest >= there_n {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(3 * ups + there.len() - end + 2);
    if ups == 0 {
        out.push(b'.');
    } else {
        out.extend_from_slice(b"..");
        for _ in 1..ups {
            out.extend_from_slice(b"/..");
        }
    }
    out.extend_from_slice(&there[end..]);
    Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
}

#[cfg(test)]
mod tests {
    use super::relative;
    use std::path::{Path, PathBuf};

    fn rel(cwd: &str, path: &str) -> Option<PathBuf> {
        relative(Path::new(cwd), Path::new(path))
    }

    #[test]
    fn relative_only_when_it_takes_fewer_lookups() {
        assert_eq!(rel("/a/b/c/d", "/a/b/c/d"), Some(".".into()));
        assert_eq!(
            rel("/a/b/c/d", "/a/b/c/d/.strata.toml"),
            Some("./.strata.toml".into())
        );
        assert_eq!(
            rel("/a/b/c/d", "/a/b/c/.strata.toml"),
            Some("../.strata.toml".into())
        );
        assert_eq!(rel("/a/b/c/d/e", "/a/b/c"), Some("../..".into()));
        assert_eq!(rel("/a/b/c/d", "/a/b"), None);
        // ../../../x is three lookups, /a/x two.
        assert_eq!(rel("/a/b/c/d", "/a/x"), None);
        assert_eq!(rel("/a/b/c/d", "/etc"), None);
        assert_eq!(rel("/a", "/a"), None);
        // Anything not plain stays absolute.
        assert_eq!(rel("/a/b/c/d", "/a/b/c/../c/x"), None);
        assert_eq!(rel("/a/b/../b/c", "/a/b/c"), None);
        assert_eq!(rel("/a/b/c/d", "/a/b/c/d/e/f"), Some("./e/f".into()));
        assert_eq!(rel("/a/bb/c/d", "/a/b/c/.env"), None);
        assert_eq!(
            rel("/a/b/c/d/e/f/g", "/a/b/c/d/x/.env"),
            Some("../../../x/.env".into())
        );
        assert_eq!(rel("/a/b/c/d/e", "/a/b/x/.env"), None);
        assert_eq!(rel("/a//b/c/d", "/a/b/c/.env"), None);
        assert_eq!(rel("/", "/a"), None);
    }
}
