//! `strata set`, `strata unset` and `strata get`.
//!
//! Scopes: the session (default; a persistent `export` for every shell and later invocation of
//! the session), a context (`--context [NAME]`), the nearest directory file (`--dir`), or the
//! global config (`--global`). TOML scopes are edited in place, keeping comments.
//!
//! `set --secret NAME` keeps the value in an OS keyring ([`crate::secrets`]); the scope's file
//! records only that NAME is a secret and which keyring holds it. Setting, unsetting or ending
//! what holds a secret removes its keyring entry too.

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
use crate::secrets::Store;
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

/// The keyring entries of a scope's secrets are named by it (see [`crate::secrets::account`]).
fn secret_scope(scope: &Scope) -> Result<String> {
    Ok(match scope {
        Scope::Session(id) => format!("session/{id}"),
        Scope::Context(name) => format!("context/{name}"),
        Scope::File(_, Kind::Global) => "global".into(),
        Scope::File(path, _) => {
            let dir = path.parent().unwrap_or(Path::new("/"));
            let name = path.file_name().context("a directory file needs a name")?;
            let dir = std::fs::canonicalize(dir)
                .with_context(|| format!("cannot resolve {}", tilde(dir)))?;
            format!("dir/{}", dir.join(name).display())
        }
    })
}

/// Secrets a scope no longer has, with the keyring of each.
type Gone = Vec<(String, Store)>;

/// Remove the keyring entries of secrets a scope no longer has.
fn forget(ctx: &Ctx, scope: &str, gone: &[(String, Store)]) {
    let install = crate::secrets::install_id(&ctx.dirs.state);
    for (name, store) in gone {
        let account = crate::secrets::account(&install, scope, name);
        if let Err(e) = crate::secrets::delete(*store, &account) {
            crate::say!("{name}: could not remove it from {}: {e}", store.describe());
        }
    }
}

/// `strata set --secret NAME`: the value from standard input into a keyring, the scope's file
/// told only where it is.
fn set_secret(ctx: &Ctx, a: &SetArgs, scope: Scope, args: &[OsString]) -> Result<()> {
    let [word] = args else {
        bail!("give one name: printf %s \"$VALUE\" | strata set --secret NAME");
    };
    let name = word.to_string_lossy();
    if name.contains('=') {
        bail!(
            "the value of a secret comes from standard input, never the command line (where shell history and ps see it): printf %s \"$VALUE\" | strata set --secret {}",
            name.split('=').next().unwrap_or_default()
        );
    }
    crate::names::check_settable(&name).map_err(|e| anyhow!(e))?;
    if crate::names::is_list(&name) {
        bail!("{name} is a list of directories, not a secret");
    }
    if a.ttl.is_some() && !matches!(scope, Scope::Session(_)) {
        bail!("--ttl applies to session values only");
    }
    let settings = ctx.base_settings()?;
    let expires = expiry(a.ttl.as_deref())?;
    let value = crate::secrets::read_value(&name)?;
    let store = crate::secrets::choose(settings.secrets_store)?;
    let scope_name = secret_scope(&scope)?;
    let account = crate::secrets::account(
        &crate::secrets::install_id(&ctx.dirs.state),
        &scope_name,
        &name,
    );
    let ttl = a.ttl.as_deref().map(parse_duration).transpose()?;
    crate::secrets::put(store, &account, &value, ttl)?;
    let recorded = match &scope {
        Scope::Session(id) => sessions::modify(&ctx.dirs, id, settings.lock, |s| {
            Ok(s.set_secret(&name, store, a.exec_only, expires))
        })
        .map(|old| old.map(|o| (name.to_string(), o)).into_iter().collect()),
        Scope::Context(c) => {
            let path = super::context::require(ctx, c)?;
            edit_toml_secret(ctx, &path, Kind::Context, &name, store, a.exec_only)
        }
        Scope::File(path, kind) => edit_toml_secret(ctx, path, *kind, &name, store, a.exec_only),
    };
    match recorded {
        // A secret of the same name in another keyring is replaced: its entry goes.
        Ok(replaced) => forget(ctx, &scope_name, &replaced),
        Err(e) => {
            let _ = crate::secrets::delete(store, &account);
            return Err(e);
        }
    }
    if matches!(scope, Scope::Session(_)) {
        collect_now_and_then(ctx, &settings);
    }
    Ok(())
}

/// When a value set now with `ttl` expires, in whole seconds rounded up: a value lives at
/// least its TTL.
fn expiry(ttl: Option<&str>) -> Result<Option<i64>> {
    Ok(match ttl {
        Some(t) => {
            let at = std::time::SystemTime::now() + parse_duration(t)?;
            let d = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            Some(d.as_secs() as i64 + i64::from(d.subsec_nanos() > 0))
        }
        None => None,
    })
}

/// `strata set`.
fn set(ctx: &Ctx, a: &SetArgs) -> Result<()> {
    let mut args = a.assignments.clone();
    let scope = scope(ctx, a.in_dir, a.global, &mut args, a.secret)?;
    if a.secret {
        return set_secret(ctx, a, scope, &args);
    }
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
    let expires = expiry(a.ttl.as_deref())?;
    let scope_name = secret_scope(&scope)?;
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
            let replaced = sessions::modify(&ctx.dirs, &id, settings.lock, |s| {
                let mut replaced = Vec::new();
                match list_edit {
                    Some(front) => {
                        for (k, e) in &adds {
                            s.add_entry(k, e, front, expires);
                        }
                    }
                    None => {
                        for (k, v) in &pairs {
                            if let Some(old) = s.set(k, v, expires) {
                                replaced.push((k.clone(), old));
                            }
                        }
                    }
                }
                Ok(replaced)
            })?;
            forget(ctx, &scope_name, &replaced);
            collect_now_and_then(ctx, &settings);
        }
        _ if a.ttl.is_some() => bail!("--ttl applies to session values only"),
        Scope::Context(name) => {
            let path = super::context::require(ctx, &name)?;
            let (_, gone) = edit_toml(ctx, &path, Kind::Context, &pairs, list_edit, &[])?;
            forget(ctx, &scope_name, &gone);
        }
        Scope::File(path, kind) => {
            let (_, gone) = edit_toml(ctx, &path, kind, &pairs, list_edit, &[])?;
            forget(ctx, &scope_name, &gone);
        }
    }
    Ok(())
}

/// Record secret `name` in a TOML layer file; returns the secret it replaces when that one
/// was in another keyring.
fn edit_toml_secret(
    ctx: &Ctx,
    path: &Path,
    kind: Kind,
    name: &str,
    store: Store,
    exec_only: bool,
) -> Result<Gone> {
    edit_layer_file(ctx, path, kind, |text| {
        let names = [name.to_string()];
        let (text, old) = crate::store::edit::remove_secrets(path, text, &names)?;
        let text = crate::store::edit::edit_secret(path, &text, name, store, exec_only)?;
        Ok((text, old.into_iter().filter(|(_, s)| *s != store).collect()))
    })
}

/// Set `pairs` (as list entries when `list_edit` says front or back) and remove `unsets` in
/// one TOML layer file; returns the names removed, and the secrets that went (a plain value
/// set over a secret replaces it).
fn edit_toml(
    ctx: &Ctx,
    path: &Path,
    kind: Kind,
    pairs: &[(String, OsString)],
    list_edit: Option<bool>,
    unsets: &[String],
) -> Result<(Vec<String>, Gone)> {
    let utf8: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| {
            v.to_str().map(|v| (k.clone(), v.to_string())).ok_or_else(|| {
                anyhow!("the value of {k} is not UTF-8 and a TOML file cannot hold it (a session can: strata set {k}=…)")
            })
        })
        .collect::<Result<_>>()?;
    // A plain value set over a secret, or an unset one, takes it out of [secrets] too.
    let touched: Vec<String> = match list_edit {
        Some(_) => Vec::new(),
        None => utf8
            .iter()
            .map(|(k, _)| k.clone())
            .chain(unsets.iter().cloned())
            .collect(),
    };
    let edit = |text: &str| -> Result<(String, (Vec<String>, Gone))> {
        let (text, gone) = crate::store::edit::remove_secrets(path, text, &touched)?;
        let (text, mut removed) = match list_edit {
            Some(front) => {
                let mut text = text;
                for (k, v) in &utf8 {
                    text = crate::store::edit::edit_list(
                        path,
                        &text,
                        k,
                        std::slice::from_ref(v),
                        front,
                    )?;
                }
                (text, Vec::new())
            }
            None if kind == Kind::Context => super::context::edit_text(path, &text, &utf8, unsets)?,
            None => edit_env(path, &text, &utf8, unsets)?,
        };
        for (n, _) in &gone {
            if unsets.contains(n) && !removed.contains(n) {
                removed.push(n.clone());
            }
        }
        Ok((text, (removed, gone)))
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
    let scope_name = secret_scope(&scope)?;
    let (removed, gone): (Vec<String>, Gone) = match scope {
        Scope::Session(id) => sessions::modify(&ctx.dirs, &id, settings.lock, |s| {
            let mut removed = Vec::new();
            let mut gone = Vec::new();
            for n in &names {
                match s.remove(n) {
                    Some(Some(store)) => {
                        removed.push(n.clone());
                        gone.push((n.clone(), store));
                    }
                    Some(None) => removed.push(n.clone()),
                    None => {}
                }
            }
            Ok((removed, gone))
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
    forget(ctx, &scope_name, &gone);
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
