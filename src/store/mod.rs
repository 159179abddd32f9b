//! Where strata keeps its files, and the one way it writes them.
//!
//! Every write goes through [`write_atomic`] (or [`update`] for read-modify-write): an
//! exclusive `fs4` lock on a sidecar `FILE.lock`, a temp file in the same directory created
//! with `O_EXCL` and mode 0600, fsync, rename over the target, fsync of the directory. A reader
//! therefore never sees a torn file and needs no lock. Directories strata creates are 0700, and a
//! directory that is group/world-writable or owned by someone else is refused, not used. The one
//! exception is a file that other programs append to as well and read by name afterwards (CI's
//! `$GITHUB_ENV`): [`append`] adds to it in one `O_APPEND` write, never through a symlink.
//!
//! Nothing here prints except the lock-wait warning, which the spec puts on stderr.

pub mod contexts;
pub mod edit;
pub mod history;
pub mod noticed;
pub mod sessions;
pub mod trust;
pub mod values;

use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::display::tilde;

/// The directories strata reads and writes, resolved once from the environment.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// `$STRATA_CONFIG_DIR`, else `$XDG_CONFIG_HOME/strata`: `config.toml`, `contexts/`.
    pub config: PathBuf,
    /// `$STRATA_STATE_DIR`, else `$XDG_STATE_HOME/strata`: stamps, the reload marker, sessions.
    pub state: PathBuf,
    /// `$STRATA_DATA_DIR`, else `$XDG_DATA_HOME/strata`: `trust/`.
    pub data: PathBuf,
    /// `/etc/strata/config.toml` (or `$STRATA_SYSTEM_CONFIG`, for tests and packagers).
    pub system_config: PathBuf,
}

/// The user's home directory: `$HOME`, else what the system says.
pub fn home() -> Result<PathBuf> {
    if let Some(h) = abs_env("HOME") {
        return Ok(h);
    }
    directories::BaseDirs::new()
        .map(|b| b.home_dir().to_path_buf())
        .context("cannot find a home directory: set HOME or STRATA_STATE_DIR/STRATA_CONFIG_DIR/STRATA_DATA_DIR")
}

/// An absolute path from an environment variable; relative values are ignored, as the XDG
/// base directory specification asks.
fn abs_env(name: &str) -> Option<PathBuf> {
    let v = std::env::var_os(name)?;
    let p = PathBuf::from(v);
    p.is_absolute().then_some(p)
}

impl Dirs {
    /// Resolve from `STRATA_*_DIR`, then `XDG_*_HOME`, then the platform's usual defaults.
    pub fn from_env() -> Result<Dirs> {
        let pick = |own: &str, xdg: &str, fallback: &[&str]| -> Result<PathBuf> {
            if let Some(p) = abs_env(own) {
                return Ok(p);
            }
            if let Some(p) = abs_env(xdg) {
                return Ok(p.join("strata"));
            }
            let mut p = home()?;
            for part in fallback {
                p.push(part);
            }
            p.push("strata");
            Ok(p)
        };
        Ok(Dirs {
            config: pick("STRATA_CONFIG_DIR", "XDG_CONFIG_HOME", &[".config"])?,
            state: pick("STRATA_STATE_DIR", "XDG_STATE_HOME", &[".local", "state"])?,
            data: pick("STRATA_DATA_DIR", "XDG_DATA_HOME", &[".local", "share"])?,
            system_config: abs_env("STRATA_SYSTEM_CONFIG")
                .unwrap_or_else(|| PathBuf::from("/etc/strata/config.toml")),
        })
    }

    /// Everything under one directory (`config/`, `state/`, `data/`, `etc/config.toml`): for
    /// tests and tools that need an isolated strata.
    pub fn under(root: &Path) -> Dirs {
        Dirs {
            config: root.join("config"),
            state: root.join("state"),
            data: root.join("data"),
            system_config: root.join("etc/config.toml"),
        }
    }

    /// The user's global config file.
    pub fn global_config(&self) -> PathBuf {
        self.config.join("config.toml")
    }

    /// The directory holding one record per trusted or denied file.
    pub fn trust_dir(&self) -> PathBuf {
        self.data.join("trust")
    }

    /// The marker `strata reload` rewrites; every shell watches it.
    pub fn reload_marker(&self) -> PathBuf {
        self.state.join("reload")
    }

    /// Where the hook of shell `id` keeps its timestamp file.
    pub fn stamp_dir(&self) -> PathBuf {
        self.state.join("stamps")
    }
}

/// Tell every shell that strata's own state changed. Trust records, session files and the
/// context selection are not watched one by one: instead every writer calls this, before its
/// write and after it, which
/// - touches the reload marker, which every evaluation watches (so `strata export` sees it), and
/// - dates every hook stamp back to 1970, so each hook's next prompt runs strata (a hook stamps
///   before it reads anything, so a stamp written after this saw the write).
pub fn announce(dirs: &Dirs) -> Result<()> {
    ensure_private_dir(&dirs.state)?;
    let marker = dirs.reload_marker();
    touch(&marker, std::time::SystemTime::now()).with_context(|| {
        format!(
            "cannot touch {} (shells will not notice this change until you run: strata reload)",
            tilde(&marker)
        )
    })?;
    for entry in entries(&dirs.stamp_dir())? {
        expire_stamp(&entry.path());
    }
    Ok(())
}

/// Set `path`'s modification and access times to `when`, creating it (0600) if needed; a
/// symlink there is refused, not followed.
pub fn touch(path: &Path, when: std::time::SystemTime) -> std::io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?
        .set_times(fs::FileTimes::new().set_modified(when).set_accessed(when))
}

/// Date a hook stamp back to the epoch (not following a symlink), so its hook asks strata.
fn expire_stamp(path: &Path) {
    use rustix::fs::{AtFlags, CWD, Timespec, Timestamps, utimensat};
    let epoch = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let times = Timestamps {
        last_access: epoch,
        last_modification: epoch,
    };
    let _ = utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW);
}

/// How long to wait for a lock, from the `lock.*` settings.
#[derive(Debug, Clone, Copy)]
pub struct LockPolicy {
    /// Print `waiting for lock` after this long.
    pub warn_after: Duration,
    /// Give up with an error after this long.
    pub timeout: Duration,
}

impl Default for LockPolicy {
    fn default() -> Self {
        LockPolicy {
            warn_after: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
        }
    }
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Create `dir` (and missing parents) with mode 0700, then check that it is safe to keep state
/// in: a directory, owned by us, not writable by group or others.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) => bail!("cannot create directory {}: {e}", tilde(dir)),
    }
    check_private_dir(dir)
}

/// [`check_private_dir`] for a directory that exists; nothing to check otherwise. Used before
/// reading what strata keeps there (trust records, contexts, sessions): a directory someone
/// else can write to could hold records that trust an attacker's file.
pub fn check_if_present(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) => check_private_meta(dir, &meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", tilde(dir))),
    }
}

/// Refuse a directory that another user could write to or that belongs to another user.
pub fn check_private_dir(dir: &Path) -> Result<()> {
    let meta = fs::metadata(dir).with_context(|| format!("cannot read {}", tilde(dir)))?;
    check_private_meta(dir, &meta)
}

fn check_private_meta(dir: &Path, meta: &fs::Metadata) -> Result<()> {
    if !meta.is_dir() {
        bail!("{} is not a directory", tilde(dir));
    }
    if meta.uid() != euid() {
        bail!(
            "refusing to use {}: it is owned by uid {}, not by you (uid {}); remove it or fix its owner",
            tilde(dir),
            meta.uid(),
            euid()
        );
    }
    if meta.mode() & 0o022 != 0 {
        bail!(
            "refusing to use {}: it is writable by group or others (mode {:o}); run: chmod 700 {}",
            tilde(dir),
            meta.mode() & 0o777,
            shell_words::quote(&dir.to_string_lossy())
        );
    }
    Ok(())
}

/// The entries of `dir`; none when it does not exist yet, an error naming it otherwise.
pub fn entries(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    match fs::read_dir(dir) {
        Ok(e) => Ok(e.flatten().collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => bail!("cannot read {}: {e}", tilde(dir)),
    }
}

/// The `<name>.toml` files of `dir` whose name is a valid context/session name (`what`),
/// sorted by name.
pub fn named_toml_files(dir: &Path, what: &str) -> Result<Vec<(String, fs::DirEntry)>> {
    let mut out: Vec<(String, fs::DirEntry)> = entries(dir)?
        .into_iter()
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            let name = file.strip_suffix(".toml")?;
            crate::names::validate_name(what, name).ok()?;
            Some((name.to_string(), e))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// An exclusive lock on `FILE.lock`, released when dropped.
pub struct Lock {
    _file: File,
}

pub(crate) fn lock_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().map(OsString::from).unwrap_or_default();
    name.push(".lock");
    target.with_file_name(name)
}

/// Take the exclusive lock that guards writes to `target`, waiting per `policy`.
pub fn lock(target: &Path, policy: LockPolicy) -> Result<Lock> {
    lock_file(&lock_path(target), policy)
}

/// Take the exclusive lock on the lock file `path`, waiting per `policy`.
pub fn lock_file(path: &Path, policy: LockPolicy) -> Result<Lock> {
    let path = path.to_path_buf();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", tilde(&path)))?;
    let start = Instant::now();
    let mut warned = false;
    loop {
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => return Ok(Lock { _file: file }),
            Err(fs4::TryLockError::WouldBlock) => {}
            Err(fs4::TryLockError::Error(e)) => {
                bail!("cannot lock {}: {e}", tilde(&path))
            }
        }
        let waited = start.elapsed();
        if waited >= policy.timeout {
            bail!(
                "gave up waiting for the lock on {} after {:?}: another strata process holds it (set lock.timeout to wait longer, or end that process)",
                tilde(&path),
                policy.timeout
            );
        }
        if !warned && waited >= policy.warn_after {
            crate::say!("waiting for lock on {}…", tilde(&path));
            warned = true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Replace `target` with `contents` atomically, under its lock. The parent directory must
/// already exist and have passed [`ensure_private_dir`].
pub fn write_atomic(target: &Path, contents: &[u8], policy: LockPolicy) -> Result<()> {
    let _lock = lock(target, policy)?;
    replace_locked(target, contents)
}

/// Where the lock of a file outside strata's own directories lives: in strata's state
/// directory, named after the file's path. A lock file beside a project's file could be held
/// by anyone who can write there (and litters the repository).
pub fn outside_lock(dirs: &Dirs, target: &Path) -> Result<PathBuf> {
    let abs =
        std::path::absolute(target).with_context(|| format!("cannot resolve {}", tilde(target)))?;
    let dir = dirs.state.join("locks");
    ensure_private_dir(&dirs.state)?;
    ensure_private_dir(&dir)?;
    use std::os::unix::ffi::OsStrExt;
    Ok(dir.join(trust::sha256_hex(abs.as_os_str().as_bytes())))
}

/// [`write_atomic`] for a file outside strata's own directories (a project's file, an export
/// the user asked for): the lock is kept in strata's state directory ([`outside_lock`]).
pub fn write_outside(
    dirs: &Dirs,
    target: &Path,
    contents: &[u8],
    policy: LockPolicy,
) -> Result<()> {
    let _lock = lock_file(&outside_lock(dirs, target)?, policy)?;
    replace_locked(target, contents)
}

/// Append `contents` to `target` in one `write`: the writer for files other programs append to
/// at the same time and read later by name (GitHub Actions' `$GITHUB_ENV`, `$GITHUB_PATH`),
/// where a replace would drop what another writer appended in between and a lock would exclude
/// nobody but strata. `O_APPEND` puts each write whole at the end. The file is created (0600)
/// when missing; a symlink at `target` is refused (`O_NOFOLLOW`), and so is anything but a
/// regular file. When the file does not end with a newline, one goes first, so that a last
/// line someone left unterminated is not joined to the first of ours. Then fsync.
pub fn append(target: &Path, contents: &[u8]) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let file = OpenOptions::new()
        .append(true)
        .read(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(target)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                anyhow::anyhow!(
                    "{} is a symlink; strata does not write through symlinks",
                    tilde(target)
                )
            } else {
                anyhow::anyhow!("cannot open {}: {e}", tilde(target))
            }
        })?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", tilde(target)))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", tilde(target));
    }
    let mut buf = Vec::with_capacity(contents.len() + 1);
    if meta.len() > 0 {
        let mut last = [0u8; 1];
        if file.read_exact_at(&mut last, meta.len() - 1).is_ok() && last[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    buf.extend_from_slice(contents);
    (&file)
        .write_all(&buf)
        .and_then(|()| file.sync_all())
        .map_err(|e| anyhow::anyhow!("cannot append to {}: {e}", tilde(target)))
}

/// Read-modify-write of `target` under its lock: `f` gets the current contents (None when the
/// file does not exist) and returns the new ones (None to delete the file). Concurrent callers
/// are serialised, so no update is lost.
pub fn update<T>(
    target: &Path,
    policy: LockPolicy,
    f: impl FnOnce(Option<Vec<u8>>) -> Result<(Option<Vec<u8>>, T)>,
) -> Result<T> {
    let _lock = lock(target, policy)?;
    update_locked(target, crate::files::Own::Mine, f)
}

/// [`update`] for a file outside strata's own directories ([`outside_lock`]).
pub fn update_outside<T>(
    dirs: &Dirs,
    target: &Path,
    policy: LockPolicy,
    f: impl FnOnce(Option<Vec<u8>>) -> Result<(Option<Vec<u8>>, T)>,
) -> Result<T> {
    let _lock = lock_file(&outside_lock(dirs, target)?, policy)?;
    update_locked(target, crate::files::Own::Any, f)
}

fn update_locked<T>(
    target: &Path,
    own: crate::files::Own,
    f: impl FnOnce(Option<Vec<u8>>) -> Result<(Option<Vec<u8>>, T)>,
) -> Result<T> {
    refuse_symlink(target)?;
    let current = match crate::files::read(target, crate::files::LAYER_CAP, own) {
        Ok(c) => c.map(|c| c.bytes),
        Err(p) => bail!(p.message(target)),
    };
    let (new, out) = f(current)?;
    match new {
        Some(new) => replace_locked(target, &new)?,
        None => match fs::remove_file(target) {
            Ok(()) => sync_dir(target)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("cannot remove {}: {e}", tilde(target)),
        },
    }
    Ok(out)
}

/// Past a file size limit (`ulimit -f`), a write raises SIGXFSZ, which kills the process: ignored,
/// the write fails with EFBIG instead, and strata reports it like a full disk. For the hook's
/// `export`, which must never die at a prompt (its writes, the state key and stored values,
/// are optional); other commands die like any tool would.
pub fn ignore_file_size_signal() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: setting a signal's disposition to "ignore" is always sound.
    ONCE.call_once(|| unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    });
}

/// Refuse to write `target` when it is a symlink: strata never writes through one (a planted
/// link could point anywhere), and replacing the link with a file would surprise whoever made it.
fn refuse_symlink(target: &Path) -> Result<()> {
    match fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_symlink() => {
            let to = fs::read_link(target)
                .map(|t| format!(" (it points to {})", tilde(&t)))
                .unwrap_or_default();
            bail!(
                "{} is a symlink{to}; strata does not write through symlinks: edit the file it points to, or replace the link with a file",
                tilde(target)
            )
        }
        Ok(m) if !m.is_file() => bail!(
            "{} is not a regular file; remove or rename it first",
            tilde(target)
        ),
        _ => Ok(()),
    }
}

/// Replace `target` while already holding its lock: a temp file (0600) in the same directory,
/// fsync, rename over `target` (which never follows a symlink), fsync of the directory. A
/// symlink at `target` is refused.
pub(crate) fn replace_locked(target: &Path, contents: &[u8]) -> Result<()> {
    let target = &std::path::absolute(target)
        .with_context(|| format!("cannot resolve {}", tilde(target)))?;
    refuse_symlink(target)?;
    let dir = target
        .parent()
        .context("a state file needs a parent directory")?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_temps(dir, &name);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", tilde(dir)))?;
    let write = tmp
        .write_all(contents)
        .and_then(|()| tmp.as_file().sync_all());
    if let Err(e) = write {
        bail!(
            "cannot write {}: {e} (is the disk full?); the old file is unchanged",
            tilde(target)
        );
    }
    tmp.persist(target)
        .map_err(|e| anyhow::anyhow!("cannot replace {}: {}", tilde(target), e.error))?;
    sync_dir(target)
}

/// Remove temp files a killed writer of `name` left behind. Only called with `name`'s lock
/// held, so no live writer of it can own one.
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let file = file.to_string_lossy();
        if file.starts_with(&prefix) && file.ends_with(".tmp") {
            let _ = fs::remove_file(e.path());
        }
    }
}

fn sync_dir(target: &Path) -> Result<()> {
    if let Some(dir) = target.parent() {
        let d = File::open(dir).with_context(|| format!("cannot open {}", tilde(dir)))?;
        d.sync_all()
            .with_context(|| format!("cannot sync {}", tilde(dir)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_keeps_private_modes_and_leaves_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let f = dir.join("x");
        write_atomic(&f, b"one", LockPolicy::default()).unwrap();
        assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
        write_atomic(&f, b"two", LockPolicy::default()).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn group_writable_dir_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("open");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o775)).unwrap();
        let err = check_private_dir(&dir).unwrap_err().to_string();
        assert!(err.contains("writable by group or others"), "{err}");
        assert!(err.contains("chmod 700"), "{err}");
    }

    #[test]
    fn held_lock_times_out_with_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("x");
        let _held = lock(&f, LockPolicy::default()).unwrap();
        let policy = LockPolicy {
            warn_after: Duration::from_secs(10),
            timeout: Duration::from_millis(50),
        };
        let err = write_atomic(&f, b"x", policy).unwrap_err().to_string();
        assert!(err.contains("gave up waiting for the lock"), "{err}");
        assert!(!f.exists());
    }
}
