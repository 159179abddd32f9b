//! What `STRATA_STATE` keeps outside the variable: values and whole states too large for it
//! (`$XDG_STATE_HOME/strata/values/<sha256>`), and the secret that authenticates states
//! (`$XDG_STATE_HOME/strata/state-key`, 32 random bytes, mode 0600).

use std::path::{Path, PathBuf};

use super::{Dirs, LockPolicy, ensure_private_dir, write_atomic};
use crate::files::{self, Own};
use crate::state::{Key, Spill};

/// The largest stored value or state read back: a state is at most a few MiB even for a
/// 20,000-line dotenv file, and a value at most 128 KiB.
const STORED_CAP: u64 = 16 << 20;

impl Dirs {
    /// Large values strata must restore later, stored by content hash.
    pub fn values_dir(&self) -> PathBuf {
        self.state.join("values")
    }

    /// The secret that authenticates `STRATA_STATE`.
    pub fn state_key_file(&self) -> PathBuf {
        self.state.join("state-key")
    }
}

/// The state directory as a [`Spill`] for [`crate::state::State`].
pub struct Stored<'a>(pub &'a Dirs);

impl Spill for Stored<'_> {
    fn store(&self, bytes: &[u8]) -> Option<String> {
        let dirs = self.0;
        let id = super::trust::sha256_hex(bytes);
        let path = dirs.values_dir().join(&id);
        if path.is_file() {
            // Still in use: dated now, so that `session gc` keeps it.
            let _ = super::touch(&path, std::time::SystemTime::now());
            return Some(id);
        }
        ensure_private_dir(&dirs.state).ok()?;
        ensure_private_dir(&dirs.values_dir()).ok()?;
        write_atomic(&path, bytes, LockPolicy::default()).ok()?;
        Some(id)
    }

    fn load(&self, id: &str) -> Option<Vec<u8>> {
        let dir = self.0.values_dir();
        super::check_private_dir(&dir).ok()?;
        // `id` was checked to be a hash: it names a file in this directory and nothing else.
        let bytes = files::read(&dir.join(id), STORED_CAP, Own::Mine)
            .ok()??
            .bytes;
        (super::trust::sha256_hex(&bytes) == id).then_some(bytes)
    }
}

/// The key that authenticates states, when this user's strata has made one. `None` means no
/// state can be this user's: every state is foreign.
pub fn read_key(dirs: &Dirs) -> Option<Key> {
    let bytes = files::read(&dirs.state_key_file(), 64, Own::Mine)
        .ok()??
        .bytes;
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    Some(Key::new(bytes))
}

/// The key that authenticates states, made (32 random bytes) on first use. When the state
/// directory cannot hold one, a key derived from the user and the directory is used: it still
/// tells strata's own states from corrupt ones, but no longer from forged ones.
pub fn key(dirs: &Dirs) -> Key {
    // Asked for twice per export (to check the old state and seal the new one): read once.
    static KEY: std::sync::OnceLock<(PathBuf, Key)> = std::sync::OnceLock::new();
    if let Some((for_dir, k)) = KEY.get()
        && *for_dir == dirs.state
    {
        return k.clone();
    }
    let k = load_or_make(dirs);
    let _ = KEY.set((dirs.state.clone(), k.clone()));
    k
}

fn load_or_make(dirs: &Dirs) -> Key {
    if let Some(k) = read_key(dirs) {
        return k;
    }
    let mut bytes = [0u8; 32];
    let made = rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty())
        .is_ok_and(|n| n == bytes.len())
        && ensure_private_dir(&dirs.state).is_ok()
        && write_atomic(&dirs.state_key_file(), &bytes, LockPolicy::default()).is_ok();
    if made {
        // Another strata may have won the race: use whatever is on disk now.
        return read_key(dirs).unwrap_or(Key::new(bytes));
    }
    fallback(&dirs.state)
}

fn fallback(state: &Path) -> Key {
    use sha2::Digest;
    use std::os::unix::ffi::OsStrExt;
    let mut h = sha2::Sha256::new();
    h.update(b"strata state key, fallback\0");
    h.update(files::euid().to_le_bytes());
    h.update(state.as_os_str().as_bytes());
    Key::new(h.finalize().into())
}
