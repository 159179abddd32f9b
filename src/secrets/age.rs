//! Files encrypted with age (<https://age-encryption.org>), decrypted in-process with the
//! user's identities: a team commits one `.env.age` encrypted to every member's recipient, and
//! each member's strata loads it with their own key. Interoperates with the `age` tool, armored
//! (`age -a`) and binary.
//!
//! Identities are read from the files `secrets.identities` lists (by default
//! `identities.txt` in strata's config directory): the format `age-keygen` writes, or an
//! unencrypted SSH ed25519/RSA private key, as `age -i` takes them. Identity files must be the
//! user's own; a passphrase-protected one is skipped with a note (a prompt has no one to ask).

use anyhow::{Result, anyhow, bail};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::display::tilde;
use crate::files::{self, Own};

/// The largest identity file read.
const IDENTITY_CAP: u64 = 64 * 1024;

/// What `age` files begin with when armored.
const ARMOR_BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// A file's name says it is age-encrypted.
pub fn is_age_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "age")
}

/// What reading one identity file gives: its bytes, nothing (no such file), or the problem.
pub type ReadResult = Result<Option<Vec<u8>>, files::Problem>;

/// The identities that could decrypt, and a note for each identity file that could not be
/// used (missing files are not worth one: the default file need not exist).
pub struct Identities {
    keys: Vec<Box<dyn age::Identity>>,
    /// One line per unusable identity file.
    pub notes: Vec<String>,
}

impl Identities {
    /// Read the identity files `paths`; `read` reads one (bounded, the user's own), so the
    /// caller can watch them.
    pub fn load(paths: &[PathBuf], read: &mut dyn FnMut(&Path) -> ReadResult) -> Identities {
        let mut out = Identities {
            keys: Vec::new(),
            notes: Vec::new(),
        };
        for path in paths {
            let bytes = match read(path) {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(p) => {
                    out.notes.push(format!("identity file {}", p.message(path)));
                    continue;
                }
            };
            match parse_identities(path, &bytes) {
                Ok(mut keys) => out.keys.append(&mut keys),
                Err(e) => out.notes.push(e.to_string()),
            }
        }
        out
    }

    /// The identity files of `paths`, read as strata reads any file of the user's own.
    pub fn read_all(paths: &[PathBuf]) -> Identities {
        Identities::load(paths, &mut |p| {
            files::read(p, IDENTITY_CAP, Own::Mine).map(|c| c.map(|c| c.bytes))
        })
    }

    /// No identity could be read.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The age identity files in force: `secrets.identities`, or `identities.txt` in strata's
/// config directory.
pub fn identity_files(
    dirs: &crate::store::Dirs,
    settings: &crate::settings::Settings,
) -> Vec<PathBuf> {
    if settings.identities.is_empty() {
        vec![dirs.config.join("identities.txt")]
    } else {
        settings.identities.clone()
    }
}

/// The cap for [`Identities::load`]'s reader.
pub fn identity_cap() -> u64 {
    IDENTITY_CAP
}

fn parse_identities(path: &Path, bytes: &[u8]) -> Result<Vec<Box<dyn age::Identity>>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| anyhow!("identity file {} is not text", tilde(path)))?;
    if text.contains("-----BEGIN") {
        let id = age::ssh::Identity::from_buffer(text.as_bytes(), Some(tilde(path)))
            .map_err(|e| anyhow!("identity file {}: {e}", tilde(path)))?;
        return match id {
            age::ssh::Identity::Unencrypted(_) => Ok(vec![Box::new(id)]),
            age::ssh::Identity::Encrypted(_) => bail!(
                "identity file {} is protected by a passphrase, which strata cannot ask for; skipped (decrypt files with it using the age tool)",
                tilde(path)
            ),
            age::ssh::Identity::Unsupported(_) => {
                bail!(
                    "identity file {}: this kind of SSH key is not supported by age",
                    tilde(path)
                )
            }
        };
    }
    let file = age::IdentityFile::from_buffer(text.as_bytes())
        .map_err(|e| anyhow!("identity file {}: {e}", tilde(path)))?;
    let keys = file
        .into_identities()
        .map_err(|e| anyhow!("identity file {}: {e}", tilde(path)))?;
    Ok(keys
        .into_iter()
        .map(|k| -> Box<dyn age::Identity> { k })
        .collect())
}

/// Decrypt `ciphertext` (armored or binary) with `ids`. `limit` bounds the plaintext.
pub fn decrypt(ciphertext: &[u8], ids: &Identities, limit: u64) -> Result<Vec<u8>> {
    if ids.keys.is_empty() {
        bail!(
            "no age identity to decrypt it with (put yours in the files secrets.identities lists)"
        );
    }
    let reader = age::armor::ArmoredReader::new(ciphertext);
    let decryptor = age::Decryptor::new(reader).map_err(|e| anyhow!("not an age file: {e}"))?;
    if decryptor.is_scrypt() {
        bail!(
            "it is encrypted to a passphrase, which strata cannot ask for; encrypt it to recipients"
        );
    }
    let mut plain = Vec::new();
    let mut stream = decryptor
        .decrypt(ids.keys.iter().map(|k| k.as_ref()))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => {
                anyhow!("none of your age identities is among its recipients")
            }
            e => anyhow!("{e}"),
        })?;
    (&mut stream)
        .take(limit + 1)
        .read_to_end(&mut plain)
        .map_err(|e| anyhow!("cannot decrypt it: {e}"))?;
    if plain.len() as u64 > limit {
        bail!("its plaintext is over {}", files::human_size(limit));
    }
    Ok(plain)
}

/// The ciphertext is armored (`age -a`).
pub fn is_armored(ciphertext: &[u8]) -> bool {
    ciphertext.trim_ascii_start().starts_with(ARMOR_BEGIN)
}

/// A recipient as people write them: `age1…`, or an SSH public key line.
pub fn parse_recipient(text: &str) -> Result<Box<dyn age::Recipient + Send>> {
    let text = text.trim();
    if let Ok(r) = text.parse::<age::x25519::Recipient>() {
        return Ok(Box::new(r));
    }
    if let Ok(r) = text.parse::<age::ssh::Recipient>() {
        return Ok(Box::new(r));
    }
    bail!(
        "{:?} is not an age recipient (age1…) or an SSH public key (ssh-ed25519 …, ssh-rsa …)",
        crate::display::escape(text)
    )
}

/// Encrypt `plaintext` to `recipients`, armored or binary.
pub fn encrypt(
    plaintext: &[u8],
    recipients: &[Box<dyn age::Recipient + Send>],
    armored: bool,
) -> Result<Vec<u8>> {
    use std::io::Write;
    if recipients.is_empty() {
        bail!("no recipients to encrypt to");
    }
    let encryptor = age::Encryptor::with_recipients(
        recipients.iter().map(|r| r.as_ref() as &dyn age::Recipient),
    )
    .map_err(|e| anyhow!("cannot encrypt: {e}"))?;
    let format = if armored {
        age::armor::Format::AsciiArmor
    } else {
        age::armor::Format::Binary
    };
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, format)?;
    let mut w = encryptor.wrap_output(armor)?;
    w.write_all(plaintext)?;
    w.finish()?.finish()?;
    Ok(out)
}
