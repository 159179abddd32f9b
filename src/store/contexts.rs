//! Named contexts on disk: `$XDG_CONFIG_HOME/strata/contexts/<name>.toml`, the global
//! selection in `$XDG_STATE_HOME/strata/current-context` and the one before it in
//! `previous-context` (for `strata context use -`).

use anyhow::{Result, bail};

use crate::names::validate_name;

use std::path::{Path, PathBuf};

use super::{Dirs, LockPolicy, ensure_private_dir, lock};
use crate::display::tilde;

impl Dirs {
    /// The directory of context files.
    pub fn contexts_dir(&self) -> PathBuf {
        self.config.join("contexts")
    }

    /// The file of context `name` (validate the name first).
    pub fn context_file(&self, name: &str) -> PathBuf {
        self.contexts_dir().join(format!("{name}.toml"))
    }

    /// The file naming the globally selected context.
    pub fn current_context_file(&self) -> PathBuf {
        self.state.join("current-context")
    }

    fn previous_context_file(&self) -> PathBuf {
        self.state.join("previous-context")
    }
}

/// The first line of one of strata's own small files, as text (`None` when missing, not
/// private, or not text).
fn read_line(path: &Path) -> Option<String> {
    let bytes = crate::files::read_mine(path, crate::files::SMALL_CAP).ok()??;
    let text = String::from_utf8(bytes).ok()?;
    Some(text.lines().next().unwrap_or("").trim().to_string())
}

fn read_name(path: &Path) -> Option<String> {
    let name = read_line(path)?;
    validate_name("context", &name).ok().map(|()| name)
}

/// The globally selected context, if any (an unreadable or invalid file counts as none).
pub fn current(dirs: &Dirs) -> Option<String> {
    read_name(&dirs.current_context_file())
}

/// The selection before the current one: `None` when there was no switch yet,
/// `Some(None)` when no context was selected before.
pub fn previous(dirs: &Dirs) -> Option<Option<String>> {
    let name = read_line(&dirs.previous_context_file())?;
    if name.is_empty() {
        return Some(None);
    }
    validate_name("context", &name).ok().map(|()| Some(name))
}

/// Select `name` globally (None clears the selection), remembering the old one for `use -`.
pub fn set_current(dirs: &Dirs, name: Option<&str>, policy: LockPolicy) -> Result<()> {
    ensure_private_dir(&dirs.state)?;
    let target = dirs.current_context_file();
    let _guard = lock(&target, policy)?;
    let old = current(dirs);
    // previous-context is written under this same lock, so its stale temps are ours to clear.
    super::remove_stale_temps(&dirs.state, "previous-context");
    if old.as_deref() != name {
        let text = old.map(|o| format!("{o}\n")).unwrap_or_default();
        super::replace_locked(&dirs.previous_context_file(), text.as_bytes())?;
    }
    super::announce(dirs)?;
    match name {
        Some(n) => super::replace_locked(&target, format!("{n}\n").as_bytes())?,
        None => match std::fs::remove_file(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("cannot remove {}: {e}", tilde(&target)),
        },
    }
    super::announce(dirs)
}

/// Every context name, sorted.
pub fn list(dirs: &Dirs) -> Result<Vec<String>> {
    let files = super::named_toml_files(&dirs.contexts_dir(), "context")?;
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_are_refused() {
        for bad in [
            "",
            "../x",
            "a/b",
            "/etc/x",
            "-x",
            ".hidden",
            "..",
            &"x".repeat(65),
        ] {
            assert!(validate_name("context", bad).is_err(), "{bad:?}");
        }
        for good in ["prod", "eu-west-1", "a.b_c", "0"] {
            validate_name("context", good).unwrap();
        }
    }
}
