//! Reading files safely, whoever made them: the one reader behind every layer, dotenv, record,
//! session and spill file strata opens.
//!
//! A directory the user `cd`s into may hold anything under a file's name: a FIFO (a blocking
//! `open` or `read` would hang every prompt), a symlink to `/dev/zero` (an unbounded read), a
//! directory, a file of gigabytes. So every read here opens without blocking, requires a regular
//! file (`fstat` on the open descriptor, so a swap after the check changes nothing), and reads at
//! most a cap. Files in strata's own directories must also belong to the user and not be
//! writable by others ([`Own`]).
//!
//! The identity of what was read ([`Stamp`]) comes from the same `fstat`, so a watcher compares
//! later `stat` results with exactly the file that was read.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::SystemTime;

/// The largest layer file (`.strata.toml`, a context, the global config) read by default.
pub const LAYER_CAP: u64 = 1 << 20;
/// The largest dotenv file read by default.
pub const DOTENV_CAP: u64 = 8 << 20;
/// The largest of strata's own small files (trust records, the context selection, keys).
pub const SMALL_CAP: u64 = 64 << 10;

/// Files modified this close to the start of an evaluation are recorded as "racy": filesystem
/// timestamps are coarse, so an edit in the same tick could otherwise go unnoticed.
pub const RACY_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

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
    /// The identity in `meta`.
    pub fn of_meta(meta: &std::fs::Metadata) -> Stamp {
        Stamp::Present {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            sec: meta.mtime(),
            nsec: meta.mtime_nsec(),
        }
    }

    /// The stamp of `path` now, following symlinks (a `stat` never blocks, whatever the file
    /// is). With `racy_after`, a file modified after that instant is recorded as
    /// [`Stamp::Racy`].
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
                Stamp::of_meta(&m)
            }
        }
    }
}

/// A file's bytes and what is known about it.
#[derive(Debug)]
pub struct Contents {
    /// Everything in it (at most the cap).
    pub bytes: Vec<u8>,
    /// Its identity, from the descriptor the bytes were read from.
    pub stamp: Stamp,
    /// The path's last component is a symlink (the bytes are its target's).
    pub link: bool,
}

/// Why a file that exists could not be read.
#[derive(Debug)]
pub enum Problem {
    /// A directory, FIFO, socket or device: `what` says which.
    NotRegular(&'static str),
    /// Larger than the cap.
    TooLarge {
        /// Its size (at least; it may still be growing).
        size: u64,
        /// The cap it exceeds.
        cap: u64,
    },
    /// One of strata's own files that someone else owns or can write.
    NotPrivate(String),
    /// `open` or `read` failed (permission denied, I/O error, too many symlinks…).
    Io(std::io::Error),
}

impl Problem {
    /// The problem as a message naming `path` (shown with [`crate::display::tilde`]).
    pub fn message(&self, path: &Path) -> String {
        let p = crate::display::tilde(path);
        match self {
            Problem::NotRegular(what) => format!("{p} is {what}, not a regular file"),
            Problem::TooLarge { size, cap } => format!(
                "{p} is {}, larger than the {} strata reads",
                human_size(*size),
                human_size(*cap)
            ),
            Problem::NotPrivate(why) => format!("refusing to use {p}: {why}"),
            Problem::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                format!("cannot read {p}: permission denied")
            }
            Problem::Io(e) => format!("cannot read {p}: {e}"),
        }
    }
}

/// `n` bytes as people write sizes: `512 B`, `64 KiB`, `1 MiB`, `3.2 GiB`.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() < 0.05 || v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// How a file is checked besides being regular and under the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Own {
    /// Anyone's file (a project's): no owner check.
    Any,
    /// One of strata's own files: it must belong to the user and not be writable by group or
    /// others, or someone else could have put words in strata's mouth.
    Mine,
}

/// The effective user id.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Why `meta` (of `path`) is not private to the user, if it is not: owned by someone else,
/// or writable by group or others. `mode` is what `chmod` should make it.
pub fn check_private(meta: &std::fs::Metadata, path: &Path, mode: &str) -> Result<(), String> {
    if meta.uid() != euid() {
        return Err(format!(
            "it is owned by uid {}, not by you (uid {}); remove it or fix its owner",
            meta.uid(),
            euid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "it is writable by group or others (mode {:o}); run: chmod {mode} {}",
            meta.mode() & 0o777,
            shell_words::quote(&path.to_string_lossy())
        ));
    }
    Ok(())
}

/// Read `path` whole: `Ok(None)` when it does not exist (or a directory on its way does not);
/// a [`Problem`] when it exists but is not a regular file of at most `cap` bytes (and, for
/// [`Own::Mine`], private to the user). Never blocks: the open is non-blocking, and nothing is
/// read from anything but a regular file.
pub fn read(path: &Path, cap: u64, own: Own) -> Result<Option<Contents>, Problem> {
    read_at(rustix::fs::CWD, path, cap, own)
}

/// [`read`] of `path` relative to the directory `dir` (an `O_PATH` handle will do).
pub fn read_at(
    dir: impl std::os::fd::AsFd,
    path: &Path,
    cap: u64,
    own: Own,
) -> Result<Option<Contents>, Problem> {
    use rustix::fs::{Mode, OFlags};
    let dir = dir.as_fd();
    let open = |flags| {
        rustix::fs::openat(
            dir,
            path,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY | flags,
            Mode::empty(),
        )
    };
    // Without following a symlink first: that also tells whether the path is one.
    let (fd, link) = match open(OFlags::NOFOLLOW) {
        Ok(fd) => (fd, false),
        Err(rustix::io::Errno::LOOP) => match open(OFlags::empty()) {
            Ok(fd) => (fd, true),
            Err(e) => return absent_or(e),
        },
        Err(e) => return absent_or(e),
    };
    let mut file = File::from(fd);
    let meta = file.metadata().map_err(Problem::Io)?;
    let kind = meta.file_type();
    if !kind.is_file() {
        use std::os::unix::fs::FileTypeExt;
        return Err(Problem::NotRegular(if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else {
            "not a file"
        }));
    }
    if own == Own::Mine {
        check_private(&meta, path, "600").map_err(Problem::NotPrivate)?;
    }
    if meta.size() > cap {
        return Err(Problem::TooLarge {
            size: meta.size(),
            cap,
        });
    }
    // One byte more than the size, so that the read that would return 0 is usually saved: a
    // regular file that gives less than asked for is at its end (on Linux).
    let want = usize::try_from(meta.size()).unwrap_or(0) + 1;
    let mut bytes = vec![0u8; want];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            // It grew since the fstat: read on, up to the cap.
            if len as u64 > cap {
                return Err(Problem::TooLarge {
                    size: len as u64,
                    cap,
                });
            }
            bytes.resize(len + 8192, 0);
        }
        let n = match file.read(&mut bytes[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Problem::Io(e)),
        };
        len += n;
        if n == 0 || len < bytes.len() {
            break;
        }
    }
    if len as u64 > cap {
        return Err(Problem::TooLarge {
            size: len as u64,
            cap,
        });
    }
    bytes.truncate(len);
    Ok(Some(Contents {
        bytes,
        stamp: Stamp::of_meta(&meta),
        link,
    }))
}

fn absent_or<T>(e: rustix::io::Errno) -> Result<Option<T>, Problem> {
    match e {
        rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR => Ok(None),
        rustix::io::Errno::ISDIR => Err(Problem::NotRegular("a directory")),
        e => Err(Problem::Io(e.into())),
    }
}

/// [`read`] for one of strata's own files, as an error naming it.
pub fn read_mine(path: &Path, cap: u64) -> anyhow::Result<Option<Vec<u8>>> {
    match read(path, cap, Own::Mine) {
        Ok(c) => Ok(c.map(|c| c.bytes)),
        Err(p) => Err(anyhow::anyhow!(p.message(path))),
    }
}

/// [`read`] for a file the user named on the command line, as an error naming it.
pub fn read_any(path: &Path, cap: u64) -> anyhow::Result<Option<Vec<u8>>> {
    match read(path, cap, Own::Any) {
        Ok(c) => Ok(c.map(|c| c.bytes)),
        Err(p) => Err(anyhow::anyhow!(p.message(path))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_bounded_regular_files_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let f = dir.join("f");
        std::fs::write(&f, b"hello").unwrap();
        let c = read(&f, 5, Own::Any).unwrap().unwrap();
        assert_eq!(c.bytes, b"hello");
        assert!(!c.link);
        assert!(matches!(
            read(&f, 4, Own::Any),
            Err(Problem::TooLarge { size: 5, cap: 4 })
        ));
        assert!(read(&dir.join("nope"), 5, Own::Any).unwrap().is_none());
        assert!(read(&dir.join("nope/x"), 5, Own::Any).unwrap().is_none());
        assert!(matches!(
            read(dir, 5, Own::Any),
            Err(Problem::NotRegular("a directory"))
        ));
        let fifo = dir.join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(matches!(
            read(&fifo, 5, Own::Any),
            Err(Problem::NotRegular("a FIFO"))
        ));
        let zero = dir.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read(&zero, 5, Own::Any),
            Err(Problem::NotRegular("a device"))
        ));
        let link = dir.join("link");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(read(&link, 5, Own::Any).unwrap().unwrap().link);
    }

    #[test]
    fn own_files_must_be_private() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&f, 5, Own::Mine).is_ok());
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        let err = read(&f, 5, Own::Mine).unwrap_err().message(&f);
        assert!(err.contains("writable by group or others"), "{err}");
        assert!(read(&f, 5, Own::Any).is_ok());
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1 << 20), "1 MiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(50 * 1000 * 1000), "47.7 MiB");
    }
}
