//! The history of state changes: `$XDG_STATE_HOME/strata/history.log`, one JSON object a
//! line, oldest first, so that "who switched this to prod, and when?" has an answer.
//!
//! Recorded: context switches, `set`/`unset` (the names, never a value), `allow`/`deny` and
//! sessions ended, each with its time, scope, session and terminal. The log is bounded: when
//! an entry would take it past [`MAX_BYTES`] the file becomes `history.log.1` (replacing the
//! one before) and a new one starts. Every write goes through the store's atomic writer under
//! the log's lock, like any other strata file; a line that does not parse is skipped on reading.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::{Dirs, LockPolicy, ensure_private_dir, lock, replace_locked};

/// The size past which the log is rotated.
pub const MAX_BYTES: usize = 256 << 10;

/// What kind of change an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A context switch (`strata use`, `strata context use`).
    Context,
    /// `strata set`.
    Set,
    /// `strata unset`.
    Unset,
    /// `strata allow`.
    Allow,
    /// `strata deny`.
    Deny,
    /// `strata session end` (or `clear`).
    SessionEnd,
}

impl Kind {
    /// The kind as `--kind` and the log spell it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Context => "context",
            Kind::Set => "set",
            Kind::Unset => "unset",
            Kind::Allow => "allow",
            Kind::Deny => "deny",
            Kind::SessionEnd => "session-end",
        }
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When, unix seconds.
    pub time: i64,
    /// What kind of change.
    pub kind: Kind,
    /// Where: `global`, `session ID`, `context NAME`, or a file's path.
    pub scope: String,
    /// The session it was made from (`STRATA_SESSION`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The terminal it was made on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty: Option<String>,
    /// The variables set or unset (names only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// A switch: the context in force before (none: no context).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A switch: the context chosen (none: no context, or back to the global one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A switch with `--ttl`: when it ends, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

impl Entry {
    /// An entry of `kind` in `scope`, made now; the rest is for the caller to fill in.
    pub fn new(kind: Kind, scope: impl Into<String>) -> Entry {
        Entry {
            time: crate::clock::now(),
            kind,
            scope: scope.into(),
            session: None,
            tty: None,
            names: Vec::new(),
            from: None,
            to: None,
            until: None,
        }
    }
}

impl Dirs {
    /// `$XDG_STATE_HOME/strata/history.log`.
    pub fn history_file(&self) -> PathBuf {
        self.state.join("history.log")
    }

    /// The rotated log before it, `history.log.1`.
    pub fn history_rotated(&self) -> PathBuf {
        self.state.join("history.log.1")
    }
}

/// Add `entry` to the log, rotating it when it would grow past [`MAX_BYTES`].
pub fn record(dirs: &Dirs, entry: &Entry, policy: LockPolicy) -> Result<()> {
    ensure_private_dir(&dirs.state)?;
    let target = dirs.history_file();
    let mut line = serde_json::to_vec(entry)?;
    line.push(b'\n');
    let _guard = lock(&target, policy)?;
    let mut text = read(&target);
    if !text.is_empty() && text.len() + line.len() > MAX_BYTES {
        replace_locked(&dirs.history_rotated(), &text)?;
        text.clear();
    }
    // A file cut short (by hand) must not glue this entry to a partial line.
    if !text.is_empty() && !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    text.extend_from_slice(&line);
    replace_locked(&target, &text)
}

/// Every entry in the log, oldest first (the rotated file's before the current one's).
pub fn entries(dirs: &Dirs) -> Vec<Entry> {
    [dirs.history_rotated(), dirs.history_file()]
        .iter()
        .flat_map(|p| {
            let text = read(p);
            text.split(|&b| b == b'\n')
                .filter_map(|l| serde_json::from_slice::<Entry>(l).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One of the log files (empty when missing, not private, or too large).
fn read(path: &std::path::Path) -> Vec<u8> {
    crate::files::read_mine(path, (MAX_BYTES * 2) as u64)
        .ok()
        .flatten()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_the_log_rotates() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(tmp.path());
        let mut e = Entry::new(Kind::Context, "global");
        e.from = Some("dev".into());
        e.to = Some("prod".into());
        record(&dirs, &e, LockPolicy::default()).unwrap();
        assert_eq!(entries(&dirs), [e.clone()]);
        let mut big = Entry::new(Kind::Set, "session s1");
        big.names = vec!["N".repeat(1000)];
        for _ in 0..600 {
            record(&dirs, &big, LockPolicy::default()).unwrap();
        }
        let size = std::fs::metadata(dirs.history_file()).unwrap().len();
        assert!(size as usize <= MAX_BYTES, "{size}");
        assert!(dirs.history_rotated().is_file());
        let all = entries(&dirs);
        assert!(all.len() > 200 && all.len() < 601, "{}", all.len());
        assert_eq!(all.last(), Some(&big));
    }
}
