//! `strata set`, `strata unset` and `strata get`.
//!
//! Scopes: the session (default; a persistent `export` for every shell and later invocation of
//! the session), a context (`--context [NAME]`), the nearest directory file (`--dir`), or the
//! global config (`--global`). TOML scopes are edited in place, keeping comments.

use anyhow::{Context as _, Result, anyhow, bail};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::layer_edit::{edit_layer_file, parse_assignments_os};
use super::{Ctx, Run, Silent};
use crate::cli::{GetArgs, SetArgs, UnsetArgs};
use crate::display::tilde;
use crate::env_diff::apply;
use crate::layers::DIR_FILES;
use crate::layers::file::Kind;
use crate::settings::parse_duration;
use crate::store::edit::edit_env;
use crate::store::sessions;

enum Scope {
    Session(String),
    Context(String),
    File(PathBuf, Kind),
}

/// Which scope the flags choose. `--context` takes a value when one follows, so
/// `set --context K=V` and `unset --context K` hand their first word to it: a value with `=`
/// (for `set`), or the only word (for `unset`), is given back to `args` and the scope is the
/// active context, as with a bare `--context`.
fn scope(
    ctx: &Ctx,
    dir: bool,
    global: bool,
    args: &mut Vec<OsString>,
    unsetting: bool,
) -> Result<Scope> {
    if dir {
        let cwd = ctx.cwd()?;
        let found = cwd
            .ancestors()
            .find(|d| d.join(DIR_FILES[0]).is_file())
            .map(|d| d.join(DIR_FILES[0]));
        return Ok(Scope::File(
            found.unwrap_or_else(|| cwd.join(DIR_FILES[0])),
            Kind::Dir,
        ));
    }
    if global {
        return Ok(Scope::File(ctx.dirs.global_config(), Kind::Global));
    }
    let active = || {
        super::context::active_without_flag(ctx)
            .context("no context is active; name one: --context=NAME")
    };
    if ctx.context_scope {
        return Ok(Scope::Context(active()?));
    }
    if let Some(c) = &ctx.context {
        let swallowed = if unsetting {
            args.is_empty()
        } else {
            c.contains('=')
        };
        if swallowed {
            args.insert(0, OsString::from(c));
            return Ok(Scope::Context(active()?));
        }
        return Ok(Scope::Context(c.clone()));
    }
    match &ctx.session {
        Some(id) => Ok(Scope::Session(id.clone())),
        None => bail!(
            "no session is named: run this in a shell with the strata hook (it sets STRATA_SESSION), or name one with export STRATA_SESSION=build-42 (or --session=ID); or choose another scope: --context[=NAME], --dir, --global"
        ),
    }
}

impl Run for SetArgs {
    fn run(&self, ctx: &Ctx) -> Result<()> {
        set(ctx, self)
    }
}

impl Run for UnsetArgs {
    fn run(&self, ctx: &Ctx) -> Result<()> {
        unset(ctx, self)
    }
}

impl Run for GetArgs {
    fn run(&self, ctx: &Ctx) -> Result<()> {
        get(ctx, &self.name)
    }
}

/// `strata set`.
fn set(ctx: &Ctx, a: &SetArgs) -> Result<()> {
    let mut args = a.assignments.clone();
    let scope = scope(ctx, a.in_dir, a.global, &mut args, false)?;
    if args.is_empty() {
        bail!("give the variables to set: strata set [SCOPE] NAME=VALUE…");
    }
    let list_edit = match (a.prepend, a.append) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let pairs = parse_assignments_os(&args)?;
    if list_edit.is_none()
        && !a.force
        && let Some((name, value)) = pairs.iter().find(|(n, _)| crate::names::is_list(n))
    {
        {
            let entry = value.to_string_lossy();
            bail!(
                "{name} is a list: setting it replaces every entry, in every shell of the scope (strata's own included); add an entry instead with: {} (or --append), or replace it with --force",
                crate::display::command(&[
                    "strata",
                    "set",
                    "--prepend",
                    &format!("{name}={entry}")
                ])
            );
        }
    }
    let settings = ctx.base_settings()?;
    // Expiry is kept in whole seconds, rounded up: a value lives at least its TTL.
    let expires = match &a.ttl {
        Some(t) => {
            let at = std::time::SystemTime::now() + parse_duration(t)?;
            let d = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            Some(d.as_secs() as i64 + i64::from(d.subsec_nanos() > 0))
        }
        None => None,
    };
    let entries = |pairs: &[(String, OsString)]| -> Result<Vec<(String, String)>> {
        pairs
            .iter()
            .map(|(n, v)| {
                let e = v
                    .to_str()
                    .ok_or_else(|| anyhow!("a list entry for {n} must be UTF-8 text"))?;
                if e.is_empty() || e.contains(':') {
                    bail!("a list entry for {n} is one directory, not empty and without ':'");
                }
                Ok((n.clone(), e.to_string()))
            })
            .collect()
    };
    match scope {
        Scope::Session(id) => {
            let adds = match list_edit {
                Some(_) => entries(&pairs)?,
                None => Vec::new(),
            };
            sessions::modify(&ctx.dirs, &id, settings.lock, |s| {
                match list_edit {
                    Some(front) => {
                        for (k, e) in &adds {
                            s.add_entry(k, e, front, expires);
                        }
                    }
                    None => {
                        for (k, v) in &pairs {
                            s.set(k, v, expires);
                        }
                    }
                }
                Ok(())
            })?;
            collect_now_and_then(ctx, &settings);
        }
        _ if a.ttl.is_some() => bail!("--ttl applies to session values only"),
        Scope::Context(name) => {
            let path = super::context::require(ctx, &name)?;
            edit_toml(ctx, &path, Kind::Context, &pairs, list_edit, &[])?;
        }
        Scope::File(path, kind) => {
            edit_toml(ctx, &path, kind, &pairs, list_edit, &[])?;
        }
    }
    Ok(())
}

/// Set `pairs` (as list entries when `list_edit` says front or back) and remove `unsets` in
/// one TOML layer file; returns the names removed.
fn edit_toml(
    ctx: &Ctx,
    path: &Path,
    kind: Kind,
    pairs: &[(String, OsString)],
    list_edit: Option<bool>,
    unsets: &[String],
) -> Result<Vec<String>> {
    let utf8: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| {
            v.to_str().map(|v| (k.clone(), v.to_string())).ok_or_else(|| {
                anyhow!("the value of {k} is not UTF-8 and a TOML file cannot hold it (a session can: strata set {k}=…)")
            })
        })
        .collect::<Result<_>>()?;
    let edit = |text: &str| -> Result<(String, Vec<String>)> {
        match list_edit {
            Some(front) => {
                let mut text = text.to_string();
                for (k, v) in &utf8 {
                    text = crate::store::edit::edit_list(
                        path,
                        &text,
                        k,
                        std::slice::from_ref(v),
                        front,
                    )?;
                }
                Ok((text, Vec::new()))
            }
            None if kind == Kind::Context => super::context::edit_text(path, text, &utf8, unsets),
            None => edit_env(path, text, &utf8, unsets),
        }
    };
    edit_layer_file(ctx, path, kind, edit)
}

/// `strata unset`.
fn unset(ctx: &Ctx, a: &UnsetArgs) -> Result<()> {
    let mut words: Vec<OsString> = a.names.iter().map(OsString::from).collect();
    let scope = scope(ctx, a.in_dir, a.global, &mut words, true)?;
    let names: Vec<String> = words
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        bail!("name the variables to unset: strata unset [SCOPE] NAME…");
    }
    let settings = ctx.base_settings()?;
    let removed: Vec<String> = match scope {
        Scope::Session(id) => sessions::modify(&ctx.dirs, &id, settings.lock, |s| {
            Ok(names.iter().filter(|n| s.unset(n)).cloned().collect())
        })?,
        Scope::Context(name) => {
            let path = super::context::require(ctx, &name)?;
            edit_toml(ctx, &path, Kind::Context, &[], None, &names)?
        }
        Scope::File(path, kind) => {
            if !path.exists() {
                bail!("{} does not exist", tilde(&path));
            }
            edit_toml(ctx, &path, kind, &[], None, &names)?
        }
    };
    for n in names.iter().filter(|n| !removed.contains(n)) {
        crate::say!("{n} was not set there");
    }
    Ok(())
}

/// `strata get NAME`: the value the shell would have here.
fn get(ctx: &Ctx, name: &str) -> Result<()> {
    let cwd = ctx.cwd()?;
    let (base, eval) = ctx.evaluate(&cwd, &mut Default::default())?;
    let applied = apply(&base, eval.target.clone(), None, &base);
    let value = match applied.values.get(name) {
        Some(v) => v.clone(),
        None => base.get(OsStr::new(name)).cloned(),
    };
    match value {
        Some(v) => {
            let mut out = std::io::stdout().lock();
            out.write_all(v.as_bytes())?;
            out.write_all(b"\n")?;
            Ok(())
        }
        None => Err(Silent(1).into()),
    }
}

/// Collect idle sessions at most once a day, after a write (never on the prompt path).
fn collect_now_and_then(ctx: &Ctx, settings: &crate::settings::Settings) {
    let marker = ctx.dirs.state.join("last-gc");
    let due = std::fs::metadata(&marker)
        .and_then(|m| m.modified())
        .map_or(true, |t| t.elapsed().map_or(true, |e| e.as_secs() > 86400));
    if due && crate::store::write_atomic(&marker, b"", settings.lock).is_ok() {
        let _ = sessions::gc(&ctx.dirs, settings.session_ttl, settings.lock);
    }
}
