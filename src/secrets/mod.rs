//! Secrets: values strata never writes to a file of its own.
//!
//! `strata set --secret NAME` keeps the value in an OS keyring and records in the session,
//! context, directory or global file only that NAME is a secret and which keyring holds it.
//! The keyrings:
//! - the Secret Service over D-Bus (GNOME Keyring, KeePassXC…), where a session bus offers one,
//!   and the macOS Keychain, through keyring-core and its stores;
//! - the Linux kernel keyring otherwise, through linux-keyutils: the user keyring (`@u`), which
//!   every process of the user shares until reboot. A value with a TTL gets a kernel timeout,
//!   so it is gone at its expiry even if strata never runs again. (keyring-core's own keyutils
//!   store links every key into the persistent keyring, which the kernel refuses inside user
//!   namespaces, i.e. most containers and CI runners.)
//!
//! Every keyring call runs on a thread of its own and is given up after a bound: a keyring
//! that waits for a password dialog, or a D-Bus peer that never answers, must not hang a
//! prompt. Files encrypted with age are in [`age`].

pub mod age;

use anyhow::{Result, anyhow, bail};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The service name every entry is stored under.
const SERVICE: &str = "strata";

/// How long the hook waits for a keyring before it goes on without the value.
pub const READ_LIMIT: Duration = Duration::from_secs(3);

/// How long a command waits (a locked keyring may be asking for its password).
pub const WRITE_LIMIT: Duration = Duration::from_secs(60);

/// The largest secret: an environment string Linux still passes to a program.
pub const MAX_LEN: usize = 128 * 1024 - 1;

/// A keyring strata can keep a value in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// The freedesktop Secret Service, over the D-Bus session bus.
    SecretService,
    /// The Linux kernel keyring.
    Keyutils,
    /// The macOS Keychain.
    Keychain,
}

impl Store {
    /// The name written in files (`[secrets.keyring] NAME = "keyutils"`).
    pub fn name(self) -> &'static str {
        match self {
            Store::SecretService => "secret-service",
            Store::Keyutils => "keyutils",
            Store::Keychain => "keychain",
        }
    }

    /// The store a file names.
    pub fn parse(name: &str) -> Option<Store> {
        match name {
            "secret-service" => Some(Store::SecretService),
            "keyutils" => Some(Store::Keyutils),
            "keychain" => Some(Store::Keychain),
            _ => None,
        }
    }

    /// Every name [`Store::parse`] knows.
    pub const NAMES: &'static [&'static str] = &["secret-service", "keyutils", "keychain"];

    /// How messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            Store::SecretService => "the Secret Service",
            Store::Keyutils => "the kernel keyring",
            Store::Keychain => "the macOS Keychain",
        }
    }
}

/// The keyring entry of `name` in a scope: `session/ID`, `context/NAME`, `global`, or
/// `dir/PATH` (the directory file's path where it applies). `install` tells strata
/// installations with different state directories apart (tests, several users of one uid).
pub fn account(install: &str, scope: &str, name: &str) -> String {
    format!("{install}:{scope}/{name}")
}

/// The installation id of a state directory: 8 hex digits of its path's SHA-256.
pub fn install_id(state_dir: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    crate::store::trust::sha256_hex(state_dir.as_os_str().as_bytes())[..8].to_string()
}

/// Run `f` on a thread of its own; give up after `limit`. The thread is left behind when it
/// does not answer (the process ends soon after).
fn bounded<T: Send + 'static>(
    what: String,
    limit: Duration,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| anyhow!("{what}: cannot start a thread: {e}"))?;
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(_) => bail!(
            "{what}: no answer within {} (is the keyring locked, waiting for its password?)",
            crate::settings::duration_text(limit)
        ),
    }
}

type CredentialStore = keyring_core::CredentialStore;

/// Connect to `store`.
fn open(store: Store) -> Result<Arc<CredentialStore>> {
    let unavailable =
        |e: &dyn std::fmt::Display| anyhow!("{} is not available: {e}", store.describe());
    match store {
        #[cfg(target_os = "linux")]
        Store::SecretService => {
            if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|v| v.is_empty()) {
                bail!(
                    "{} is not available: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
                    store.describe()
                );
            }
            let s: Arc<CredentialStore> =
                zbus_secret_service_keyring_store::Store::new().map_err(|e| unavailable(&e))?;
            Ok(s)
        }
        #[cfg(target_os = "macos")]
        Store::Keychain => {
            let s: Arc<CredentialStore> =
                apple_native_keyring_store::keychain::Store::new().map_err(|e| unavailable(&e))?;
            Ok(s)
        }
        #[allow(unreachable_patterns)]
        _ => bail!("{} is not available on this system", store.describe()),
    }
}

fn entry(store: Store, account: &str) -> Result<keyring_core::Entry> {
    let s = open(store)?;
    keyring_core::Entry::new_in_store(&s, SERVICE, account)
        .map_err(|e| anyhow!("{}: {e}", store.describe()))
}

/// Which keyring `strata set --secret` uses: `preferred`, or (`None`) the Secret Service
/// when it answers, else the kernel keyring (the Keychain on macOS). No keyring at all is an
/// error that says what is missing: strata never falls back to a file.
pub fn choose(preferred: Option<Store>) -> Result<Store> {
    if let Some(store) = preferred {
        bounded(store.describe().into(), WRITE_LIMIT, move || probe(store))?;
        return Ok(store);
    }
    let candidates: &[Store] = if cfg!(target_os = "macos") {
        &[Store::Keychain]
    } else {
        &[Store::SecretService, Store::Keyutils]
    };
    let mut why = Vec::new();
    for &store in candidates {
        match bounded(store.describe().into(), WRITE_LIMIT, move || probe(store)) {
            Ok(()) => return Ok(store),
            Err(e) => why.push(e.to_string()),
        }
    }
    bail!(
        "no keyring to keep the secret in: {}; strata never writes a secret to a file (start a Secret Service such as gnome-keyring, or make the kernel keyring available)",
        why.join("; ")
    )
}

/// `store` can be used here.
fn probe(store: Store) -> Result<()> {
    match store {
        Store::Keyutils => kernel::ring().map(drop),
        _ => open(store).map(drop),
    }
}

/// Store `value` under `account`, replacing what was there. With `ttl`, the kernel keyring
/// also times the key out by itself.
pub fn put(store: Store, account: &str, value: &[u8], ttl: Option<Duration>) -> Result<()> {
    let account = account.to_string();
    let value = value.to_vec();
    bounded(store.describe().into(), WRITE_LIMIT, move || {
        if store == Store::Keyutils {
            return kernel::put(&account, &value, ttl);
        }
        entry(store, &account)?
            .set_secret(&value)
            .map_err(|err| anyhow!("cannot store the secret in {}: {err}", store.describe()))
    })
}

/// The value stored under `account`; `Ok(None)` when there is none.
pub fn get(store: Store, account: &str, limit: Duration) -> Result<Option<Vec<u8>>> {
    let account = account.to_string();
    bounded(store.describe().into(), limit, move || {
        if store == Store::Keyutils {
            return kernel::get(&account);
        }
        match entry(store, &account)?.get_secret() {
            Ok(v) => Ok(Some(v)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(err) => Err(anyhow!("{}: {err}", store.describe())),
        }
    })
}

/// Remove the value stored under `account`; true if there was one.
pub fn delete(store: Store, account: &str) -> Result<bool> {
    let account = account.to_string();
    bounded(store.describe().into(), WRITE_LIMIT, move || {
        if store == Store::Keyutils {
            return kernel::delete(&account);
        }
        match entry(store, &account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(err) => Err(anyhow!("{}: {err}", store.describe())),
        }
    })
}

/// The kernel keyring: keys of type `user` in the user keyring, described `strata:ACCOUNT`.
#[cfg(target_os = "linux")]
mod kernel {
    use anyhow::{Result, anyhow};
    use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};
    use std::time::Duration;

    fn unavailable(e: KeyError) -> anyhow::Error {
        anyhow!("the kernel keyring is not available: {e:?}")
    }

    pub fn ring() -> Result<KeyRing> {
        KeyRing::from_special_id(KeyRingIdentifier::User, true).map_err(unavailable)
    }

    fn description(account: &str) -> String {
        format!("{}:{account}", super::SERVICE)
    }

    pub fn put(account: &str, value: &[u8], ttl: Option<Duration>) -> Result<()> {
        let key = ring()?
            .add_key(&description(account), value)
            .map_err(|e| anyhow!("cannot store the secret in the kernel keyring: {e:?}"))?;
        if let Some(ttl) = ttl {
            let secs = usize::try_from(ttl.as_secs().max(1)).unwrap_or(usize::MAX);
            key.set_timeout(secs)
                .map_err(|e| anyhow!("the kernel keyring cannot time the secret out: {e:?}"))?;
        }
        Ok(())
    }

    pub fn get(account: &str) -> Result<Option<Vec<u8>>> {
        match ring()?.search(&description(account)) {
            Ok(key) => match key.read_to_vec() {
                Ok(v) => Ok(Some(v)),
                Err(KeyError::KeyExpired | KeyError::KeyRevoked | KeyError::KeyDoesNotExist) => {
                    Ok(None)
                }
                Err(e) => Err(anyhow!("the kernel keyring: {e:?}")),
            },
            Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {
                Ok(None)
            }
            Err(e) => Err(anyhow!("the kernel keyring: {e:?}")),
        }
    }

    pub fn delete(account: &str) -> Result<bool> {
        match ring()?.search(&description(account)) {
            Ok(key) => key
                .invalidate()
                .map(|()| true)
                .map_err(|e| anyhow!("the kernel keyring: {e:?}")),
            Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {
                Ok(false)
            }
            Err(e) => Err(anyhow!("the kernel keyring: {e:?}")),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod kernel {
    use anyhow::{Result, bail};
    use std::time::Duration;

    pub fn ring() -> Result<()> {
        bail!("the kernel keyring is Linux's")
    }
    pub fn put(_: &str, _: &[u8], _: Option<Duration>) -> Result<()> {
        ring()
    }
    pub fn get(_: &str) -> Result<Option<Vec<u8>>> {
        ring().map(|()| None)
    }
    pub fn delete(_: &str) -> Result<bool> {
        ring().map(|()| false)
    }
}

/// The value of a secret from standard input: typed without echo on a terminal (after a
/// prompt on stderr), else everything piped in. One trailing newline is dropped. Never from
/// the command line, so it never lands in shell history or `ps`.
pub fn read_value(name: &str) -> Result<Vec<u8>> {
    use std::io::{BufRead, Read, Write};
    let stdin = std::io::stdin();
    let mut value = Vec::new();
    if rustix::termios::isatty(&stdin) {
        eprint!("strata: value of {name} (not shown): ");
        let _ = std::io::stderr().flush();
        let saved = rustix::termios::tcgetattr(&stdin).ok();
        if let Some(t) = &saved {
            let mut quiet = t.clone();
            quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
            let _ =
                rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet);
        }
        let read = stdin
            .lock()
            .take(MAX_LEN as u64 + 2)
            .read_until(b'\n', &mut value);
        if let Some(t) = &saved {
            let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, t);
        }
        eprintln!();
        read.map_err(|e| anyhow!("cannot read the value of {name}: {e}"))?;
    } else {
        stdin
            .lock()
            .take(MAX_LEN as u64 + 2)
            .read_to_end(&mut value)
            .map_err(|e| anyhow!("cannot read the value of {name} from standard input: {e}"))?;
    }
    if value.ends_with(b"\n") {
        value.pop();
        if value.ends_with(b"\r") {
            value.pop();
        }
    }
    if value.is_empty() {
        bail!(
            "no value for {name} on standard input (pipe it in: printf %s \"$VALUE\" | strata set --secret {name}; to remove it: strata unset {name})"
        );
    }
    if value.len() > MAX_LEN {
        bail!(
            "the value of {name} is over 128 KiB, more than a program can receive in its environment"
        );
    }
    crate::names::check_value(&value).map_err(|msg| anyhow!("{name}: {msg}"))?;
    Ok(value)
}

/// How human-facing output shows a secret's value.
pub const MASK: &str = "********";
