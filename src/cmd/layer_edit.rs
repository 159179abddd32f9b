//! What `set`, `unset`, `config set` and `context set` share: `NAME=VALUE` arguments, and
//! the one way a layer file is rewritten (under its lock, validated, trust kept only for the
//! bytes that were trusted).

use anyhow::{Context as _, Result, anyhow};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use super::Ctx;
use crate::display::tilde;
use crate::layers::file::{Kind, parse};
use crate::names::check_settable;
use crate::store::trust::{self, Decision, Standing, sha256_hex};
use crate::store::{ensure_private_dir, update, update_outside};

/// `NAME=VALUE` arguments, checked: a valid, settable name and (for TOML files) UTF-8.
pub fn parse_assignments_os(args: &[OsString]) -> Result<Vec<(String, OsString)>> {
    args.iter()
        .map(|a| {
            let bytes = a.as_bytes();
            let eq = bytes.iter().position(|&b| b == b'=').ok_or_else(|| {
                anyhow!(
                    "{:?} is not NAME=VALUE (to remove a variable, use strata unset NAME)",
                    a.to_string_lossy()
                )
            })?;
            let name = std::str::from_utf8(&bytes[..eq])
                .map_err(|_| anyhow!("invalid variable name {:?}", a.to_string_lossy()))?;
            check_settable(name).map_err(|e| anyhow!(e))?;
            Ok((
                name.to_string(),
                OsString::from_vec(bytes[eq + 1..].to_vec()),
            ))
        })
        .collect()
}

/// Like [`parse_assignments_os`], for TOML files, which hold only UTF-8.
pub fn parse_assignments(args: &[OsString]) -> Result<Vec<(String, String)>> {
    parse_assignments_os(args)?
        .into_iter()
        .map(|(k, v)| {
            let v = v.into_string().map_err(|_| {
                anyhow!("the value of {k} is not UTF-8 and a TOML file cannot hold it (a session can: strata set {k}=…)")
            })?;
            Ok((k, v))
        })
        .collect()
}

/// Rewrite a layer file with `f` under its lock, validating the result. A directory file is
/// trusted again with its new content only if the bytes read under the lock were the trusted
/// ones (or the file is new): an edit someone slipped in before the lock is never blessed.
pub fn edit_layer_file<T>(
    ctx: &Ctx,
    path: &Path,
    kind: Kind,
    f: impl FnOnce(&str) -> Result<(String, T)>,
) -> Result<T> {
    let settings = ctx.base_settings()?;
    if kind == Kind::Global {
        ensure_private_dir(&ctx.dirs.config)?;
    }
    // Where a directory file applies: its trust key.
    let key = if kind.is_dir() {
        let dir = path.parent().unwrap_or(Path::new("/"));
        let name = path.file_name().context("a directory file needs a name")?;
        Some(
            std::fs::canonicalize(dir)
                .with_context(|| format!("cannot resolve {}", tilde(dir)))?
                .join(name),
        )
    } else {
        None
    };
    let edit = |cur: Option<Vec<u8>>| {
        let was_trusted = match (&key, &cur) {
            (Some(key), Some(bytes)) => {
                trust::standing(&ctx.dirs, key, None, bytes, &settings.trust_paths)?
                    == Standing::Trusted
            }
            _ => true,
        };
        let text = String::from_utf8(cur.unwrap_or_default())
            .map_err(|_| anyhow!("{} is not UTF-8 text", tilde(path)))?;
        let (new, out) = f(&text)?;
        parse(path, kind, new.as_bytes())?;
        Ok((Some(new.clone().into_bytes()), (out, new, was_trusted)))
    };
    let (out, new, was_trusted) = match kind {
        Kind::Global | Kind::Context => update(path, settings.lock, edit)?,
        _ => update_outside(&ctx.dirs, path, settings.lock, edit)?,
    };
    if let Some(key) = key {
        if was_trusted {
            trust::record(
                &ctx.dirs,
                &key,
                &Decision::Allow(sha256_hex(new.as_bytes())),
                None,
                settings.lock,
            )?;
        } else {
            crate::say!(
                "{} was not allowed, so it stays that way; review it, then run: {}",
                tilde(path),
                crate::display::command(&["strata", "allow", &tilde(path)])
            );
        }
    }
    Ok(out)
}
