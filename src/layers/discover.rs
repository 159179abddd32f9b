//! Discovery: every directory file from the cwd up to the root (or a trusted `root = true`),
//! read with the bounded reader, its trust decided where it applies, and parsed when trusted.
//! Every path looked at is watched, so that a file that appears, changes or goes is noticed.

use anyhow::{Result, anyhow, bail};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::file::{self, Kind, LayerFile};
use super::{DIR_FILES, FileReport, FileState, Request, Watch, relative};
use crate::display::tilde;
use crate::files::Own;
use crate::settings::Settings;
use crate::store::trust::{self, Standing};

/// Canonical paths of the directories up a chain, sharing the work: a directory's canonical
/// path is its parent's plus its name unless it is a symlink (one `lstat`), where `realpath`
/// would `readlink` every component again (310 calls at depth 20). When the cwd is the
/// physical one (`getcwd` gives the same path), each of its ancestors is already canonical
/// and costs nothing.
struct Canonical<'a> {
    /// The physical cwd, if the cwd is one.
    physical: Option<&'a Path>,
    dirs: rustc_hash::FxHashMap<PathBuf, PathBuf>,
}

/// Whether `dir` is `path` or one of its ancestors, by the bytes (both absolute and plain).
fn is_ancestor(dir: &Path, path: &Path) -> bool {
    let (d, p) = (dir.as_os_str().as_bytes(), path.as_os_str().as_bytes());
    d == b"/" || (p.starts_with(d) && matches!(p.get(d.len()), None | Some(b'/')))
}

impl<'a> Canonical<'a> {
    fn new(physical: Option<&'a Path>) -> Canonical<'a> {
        Canonical {
            physical,
            dirs: Default::default(),
        }
    }

    fn dir(&mut self, dir: &Path) -> std::io::Result<PathBuf> {
        if let Some(c) = self.dirs.get(dir) {
            return Ok(c.clone());
        }
        if self.physical.is_some_and(|cwd| is_ancestor(dir, cwd)) {
            return Ok(dir.to_path_buf());
        }
        let simple = dir.is_absolute()
            && dir.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::RootDir | std::path::Component::Normal(_)
                )
            });
        let resolved = match (simple, dir.parent(), dir.file_name()) {
            (true, Some(parent), Some(name)) => {
                let candidate = self.dir(parent)?.join(name);
                if std::fs::symlink_metadata(&candidate)?
                    .file_type()
                    .is_symlink()
                {
                    std::fs::canonicalize(&candidate)?
                } else {
                    candidate
                }
            }
            (true, None, _) => dir.to_path_buf(),
            _ => std::fs::canonicalize(dir)?,
        };
        self.dirs.insert(dir.to_path_buf(), resolved.clone());
        Ok(resolved)
    }
}

/// The message for a skipped directory file, with the command that allows it, which pastes as
/// it is in `cwd` (the path in it is relative to `cwd` when that is shorter).
pub fn untrusted_message(path: &Path, state: FileState, cwd: &Path) -> String {
    let shown = tilde(path);
    let arg = match relative(cwd, path) {
        Some(r) if r.as_os_str().len() < shown.len() => {
            crate::display::escape_bytes(r.as_os_str().as_bytes())
        }
        _ => shown,
    };
    let allow = crate::display::command(&["strata", "allow", &arg]);
    match state {
        FileState::Denied => format!(
            "{} is denied — it stays blocked until you run: {allow}",
            tilde(path)
        ),
        _ => format!(
            "{} is not allowed — review it, then run: {allow}",
            tilde(path)
        ),
    }
}

/// The process's working directory as `getcwd` gives it, asked once (strata never changes
/// directory).
pub fn physical_cwd() -> Option<&'static Path> {
    static CWD: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    CWD.get_or_init(|| std::env::current_dir().ok()).as_deref()
}

/// The directory files found from the cwd up.
pub(super) struct Discovered {
    /// Trusted files, parsed, with their reports; outermost first.
    pub found: Vec<(LayerFile, FileReport)>,
    /// Files that exist but were skipped, outermost first.
    pub skipped: Vec<FileReport>,
    /// The innermost directory with a directory file.
    pub nearest: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// Walk from the cwd to the root (or a trusted `root = true`), reading every directory file
/// and keeping those that are trusted. `trusting` holds the settings trust decisions may use:
/// only the user's own files and flags set them.
pub(super) fn discover(
    req: &Request<'_>,
    trusting: &Settings,
    watch: &mut Watch,
) -> Result<Discovered> {
    let physical = physical_cwd() == Some(req.cwd);
    watch.set_near(physical.then(|| req.cwd.to_path_buf()));
    let mut walk = Walk {
        req,
        trusting,
        watch,
        canon: Canonical::new(physical.then_some(req.cwd)),
        store: None,
        out: Discovered {
            found: Vec::new(),
            skipped: Vec::new(),
            nearest: None,
            warnings: Vec::new(),
        },
    };
    for dir in req.cwd.ancestors() {
        if walk.directory(dir)? {
            walk.above_root(dir);
            break;
        }
    }
    let mut out = walk.out;
    out.found.reverse();
    out.skipped.reverse();
    Ok(out)
}

/// The walk in progress.
struct Walk<'r, 'a> {
    req: &'r Request<'a>,
    trusting: &'r Settings,
    watch: &'r mut Watch,
    canon: Canonical<'a>,
    /// Opened when first needed: most directories have no file and no record.
    store: Option<trust::TrustStore>,
    /// Innermost directory first while walking.
    out: Discovered,
}

impl Walk<'_, '_> {
    /// Both files of `dir`; true when a trusted one says `root = true`.
    fn directory(&mut self, dir: &Path) -> Result<bool> {
        let mut here: Vec<(LayerFile, FileReport)> = Vec::new();
        for (name, kind) in DIR_FILES.iter().zip([Kind::Dir, Kind::DirLocal]) {
            if let Some(found) = self.file(dir, name, kind)? {
                here.push(found);
            }
        }
        let root = here.iter().any(|(f, _)| f.root);
        self.out.found.extend(here.into_iter().rev());
        Ok(root)
    }

    /// One directory file: read, trusted or not, parsed; `None` when absent or skipped.
    fn file(
        &mut self,
        dir: &Path,
        name: &str,
        kind: Kind,
    ) -> Result<Option<(LayerFile, FileReport)>> {
        let path = dir.join(name);
        let read = self.watch.read(&path, self.trusting.layer_limit, Own::Any);
        // The file under review is evaluated with the bytes given, on disk or not.
        let candidate = self.req.candidate.filter(|c| {
            c.key.file_name() == Some(OsStr::new(name))
                && self
                    .canon
                    .dir(dir)
                    .is_ok_and(|d| c.key.parent() == Some(d.as_path()))
        });
        let bytes = match (read, candidate) {
            (_, Some(c)) => c.bytes.to_vec(),
            (Ok(Some(bytes)), None) => bytes,
            (Ok(None), None) => {
                self.absent(dir, name)?;
                return Ok(None);
            }
            (Err(problem), None) => {
                // Anyone may put anything under this name in a directory above: skip it,
                // once, and go on with the files that can apply.
                self.out.nearest.get_or_insert_with(|| dir.to_path_buf());
                self.out.warnings.push(format!(
                    "{}; skipped (remove or rename it)",
                    problem.message(&path)
                ));
                self.out.skipped.push(FileReport {
                    path,
                    kind,
                    state: FileState::Unreadable,
                });
                return Ok(None);
            }
        };
        self.out.nearest.get_or_insert_with(|| dir.to_path_buf());
        let link = candidate.is_none() && self.watch.last_was_link();
        let base = self
            .canon
            .dir(dir)
            .map_err(|e| anyhow!("cannot resolve {}: {e}", tilde(dir)))?;
        let state = if candidate.is_some() {
            FileState::Applied
        } else {
            self.standing(&path, &base.join(name), link, &bytes)?
        };
        let report = FileReport {
            path: path.clone(),
            kind,
            state,
        };
        if state != FileState::Applied {
            if self.req.strict {
                bail!(
                    "{} (--strict)",
                    untrusted_message(&path, state, self.req.cwd)
                );
            }
            self.out
                .warnings
                .push(untrusted_message(&path, state, self.req.cwd));
            self.out.skipped.push(report);
            return Ok(None);
        }
        let mut f = file::parse(&path, kind, &bytes)?;
        f.set_dir(base);
        Ok(Some((f, report)))
    }

    /// Whether the file at `path` may apply. Trust belongs to the file where it applies
    /// (`key`: the canonical directory and the file's own name), never to the target of a
    /// symlink, which is checked too.
    fn standing(&mut self, path: &Path, key: &Path, link: bool, bytes: &[u8]) -> Result<FileState> {
        let target = if link {
            Some(
                std::fs::canonicalize(key)
                    .map_err(|e| anyhow!("cannot resolve {}: {e}", tilde(path)))?,
            )
        } else {
            None
        };
        let prefixes = &self.trusting.trust_paths;
        let standing = match &mut self.store {
            Some(s) => s,
            slot => slot.insert(trust::TrustStore::open(self.req.dirs)?),
        }
        .standing(key, target.as_deref(), bytes, prefixes)?;
        Ok(match standing {
            Standing::Trusted => FileState::Applied,
            Standing::Untrusted => FileState::Untrusted,
            Standing::Denied => FileState::Denied,
        })
    }

    /// No file at `dir`/`name`. One that appears there later changes the environment only if
    /// it is trusted on arrival: a decision recorded for its path, or a trust.paths prefix.
    /// Only then is the place watched (and always in the cwd itself, so that a new file there
    /// is reported at once). Anything else shows at the next change.
    fn absent(&mut self, dir: &Path, name: &str) -> Result<()> {
        if dir == self.req.cwd {
            return Ok(());
        }
        let may_apply = match self.canon.dir(dir) {
            Ok(d) => {
                let key = d.join(name);
                self.trusting.trust_paths.iter().any(|p| key.starts_with(p))
                    || self.store()?.may_have(&key)
            }
            Err(_) => true,
        };
        if !may_apply {
            self.watch.pop();
        }
        Ok(())
    }

    /// The files in the directories above a `root = true` one, reported as ignored.
    fn above_root(&mut self, dir: &Path) {
        for above in dir.ancestors().skip(1) {
            for name in DIR_FILES {
                let path = above.join(name);
                if std::fs::symlink_metadata(&path).is_ok() {
                    self.out.skipped.push(FileReport {
                        path,
                        kind: Kind::Dir,
                        state: FileState::AboveRoot,
                    });
                }
            }
        }
    }

    fn store(&mut self) -> Result<&mut trust::TrustStore> {
        if self.store.is_none() {
            self.store = Some(trust::TrustStore::open(self.req.dirs)?);
        }
        Ok(self.store.as_mut().expect("opened above"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn shared_canonicalisation_matches_realpath() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        fs::create_dir_all(root.join("real/deep/x")).unwrap();
        std::os::unix::fs::symlink(root.join("real/deep"), root.join("link")).unwrap();
        let mut c = Canonical::new(None);
        for p in [
            root.join("link/x"),
            root.join("real/deep/x"),
            root.join("link"),
            root.join("real/deep/../deep/x"),
        ] {
            assert_eq!(
                c.dir(&p).unwrap(),
                fs::canonicalize(&p).unwrap(),
                "{}",
                p.display()
            );
        }
    }
}
