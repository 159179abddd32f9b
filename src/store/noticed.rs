//! What the hook has already said once: `$XDG_STATE_HOME/strata/noticed`, one line per thing
//! noticed (a hash of it), the last [`KEEP`] kept.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{Dirs, LockPolicy, ensure_private_dir, update};

/// How many notices are remembered.
const KEEP: usize = 512;

/// True the first time `what` (a path) is asked about, false after: the caller says its
/// notice only then. When the file cannot be written the answer is true (say it again rather
/// than never).
pub fn first_time(dirs: &Dirs, what: &Path) -> bool {
    let key = super::trust::sha256_hex(what.as_os_str().as_bytes())[..16].to_string();
    let path = dirs.state.join("noticed");
    if ensure_private_dir(&dirs.state).is_err() {
        return true;
    }
    let seen = |bytes: &[u8]| bytes.split(|&b| b == b'\n').any(|l| l == key.as_bytes());
    if let Ok(Some(c)) = crate::files::read(&path, crate::files::LAYER_CAP, crate::files::Own::Mine)
        && seen(&c.bytes)
    {
        return false;
    }
    update(&path, LockPolicy::default(), |cur| {
        let text = cur
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let mut lines: Vec<&str> = text.lines().filter(|l| l.len() == 16).collect();
        let first = !lines.contains(&key.as_str());
        if first {
            lines.push(&key);
        }
        let start = lines.len().saturating_sub(KEEP);
        let mut out = lines[start..].join("\n");
        out.push('\n');
        Ok((Some(out.into_bytes()), first))
    })
    .unwrap_or(true)
}
