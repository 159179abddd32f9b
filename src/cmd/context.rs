//! `strata context …` (and `strata use`): named contexts, switched for every terminal (the
//! current-context file every hook watches) or for this session only.

use anyhow::{Context as _, Result, bail};
use std::io::{Read, Write};
use std::path::Path;

use super::{Ctx, Run, Silent};
use crate::cli::{ContextArgs, ContextCommand, UseArgs};
use crate::display::tilde;
use crate::layers::ActiveContext;
use crate::layers::file::{Kind, parse};
use crate::names::validate_name;
use crate::store::contexts;
use crate::store::edit::edit_env;
use crate::store::{ensure_private_dir, sessions, write_atomic};

impl Run for ContextArgs {
    /// Dispatch a `strata context` subcommand.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        match &self.command {
            ContextCommand::List { json } => list(ctx, *json),
            ContextCommand::Current => current(ctx),
            ContextCommand::Use { name } => use_context(ctx, name),
            ContextCommand::Create { name, from, set } => create(ctx, name, from.as_deref(), set),
            ContextCommand::Show { name } => show(ctx, name.as_deref()),
            ContextCommand::Set { name, assignments } => {
                let pairs = super::layer_edit::parse_assignments(assignments)?;
                edit(ctx, name, &pairs, &[])
            }
            ContextCommand::Unset { name, names } => edit(ctx, name, &[], names),
            ContextCommand::Rename { old, new, force } => rename(ctx, old, new, *force),
            ContextCommand::Delete { name, force } => delete(ctx, name, *force),
            ContextCommand::Export { name, output } => export(ctx, name, output.as_deref()),
            ContextCommand::Import { file, name, force } => {
                import(ctx, file, name.as_deref(), *force)
            }
            ContextCommand::Edit { name } => edit_in_editor(ctx, name),
        }
    }
}

impl Run for UseArgs {
    /// `strata use NAME`: the shortcut for `strata context use NAME`.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        use_context(ctx, &self.name)
    }
}

/// The context active here: the full evaluation at the cwd when it succeeds, else the choice
/// made without directory files (flag, environment, session, settings, global selection), by
/// the same precedence.
pub fn active(ctx: &Ctx) -> Option<ActiveContext> {
    let cwd = ctx.cwd().ok();
    if let Some(cwd) = &cwd
        && let Ok((_, eval)) = ctx.evaluate(cwd, &mut Default::default())
    {
        return eval.context;
    }
    let session = ctx
        .session
        .as_deref()
        .and_then(|id| sessions::load(&ctx.dirs, id).ok().flatten());
    let settings = ctx.base_settings().ok()?;
    let base = crate::env_diff::Env::default();
    let cwd = cwd.unwrap_or_else(|| "/".into());
    let req = ctx.request(&cwd, &base, None);
    let (name, source) = crate::layers::choose_context(&req, session.as_ref(), &settings)?;
    Some(ActiveContext {
        name,
        source,
        color: None,
    })
}

/// The active context's name, ignoring `--context` (which `strata set --context K=V` used for
/// an assignment).
pub fn active_without_flag(ctx: &Ctx) -> Option<String> {
    let mut plain = ctx.clone();
    plain.context = None;
    active(&plain).map(|a| a.name)
}

/// The file of context `name`, which must exist.
pub fn require(ctx: &Ctx, name: &str) -> Result<std::path::PathBuf> {
    validate_name("context", name)?;
    let path = ctx.dirs.context_file(name);
    if !path.is_file() {
        bail!(
            "no context named {name:?} (see strata context list, or create it: strata context create {name})"
        );
    }
    Ok(path)
}

fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let names = contexts::list(&ctx.dirs)?;
    let active = active(ctx).map(|a| a.name);
    if json {
        let rows: Vec<serde_json::Value> = names
            .iter()
            .map(|n| serde_json::json!({"name": n, "active": Some(n) == active.as_ref()}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if names.is_empty() {
        crate::say!("no contexts yet (strata context create NAME)");
    }
    let mut out = std::io::stdout().lock();
    for n in &names {
        let mark = if Some(n) == active.as_ref() { "*" } else { " " };
        writeln!(out, "{mark} {n}")?;
    }
    Ok(())
}

fn current(ctx: &Ctx) -> Result<()> {
    let verbose = ctx.flags.iter().any(|f| f == "log=verbose");
    match active(ctx) {
        Some(a) if verbose => println!("{} (chosen by {})", a.name, a.source),
        Some(a) => println!("{}", a.name),
        None => {
            crate::say!("no context is active (strata context use NAME)");
            return Err(Silent(1).into());
        }
    }
    Ok(())
}

/// `strata context use NAME|-` and `strata use`.
pub fn use_context(ctx: &Ctx, name: &str) -> Result<()> {
    let settings = ctx.base_settings()?;
    if ctx.session_scope {
        let Some(id) = ctx.session.as_deref() else {
            bail!(
                "no session to switch: run it in a shell with the strata hook, or name one with --session=ID"
            );
        };
        if name == "-" {
            bail!("`use -` switches the global selection; name the context for this session");
        }
        require(ctx, name)?;
        sessions::modify(&ctx.dirs, id, settings.lock, |s| {
            s.context = Some(name.to_string());
            Ok(())
        })?;
        crate::say!("session {id} uses context {name} (other terminals are unchanged)");
        return Ok(());
    }
    let name = if name == "-" {
        match contexts::previous(&ctx.dirs).context("no previous context to go back to")? {
            Some(prev) => prev,
            None => {
                contexts::set_current(&ctx.dirs, None, settings.lock)?;
                crate::say!("no context selected any more (as before)");
                return Ok(());
            }
        }
    } else {
        name.to_string()
    };
    require(ctx, &name)?;
    contexts::set_current(&ctx.dirs, Some(&name), settings.lock)?;
    crate::say!("using context {name} in every terminal from its next prompt");
    // What still wins over the global selection here says so, instead of leaving the user to
    // wonder why this shell did not switch.
    match active(ctx) {
        Some(a) if a.name != name => crate::say!(
            "note: here the context stays {}, chosen by {} (which wins over the global selection)",
            a.name,
            a.source
        ),
        _ => {}
    }
    Ok(())
}

fn write_context(ctx: &Ctx, name: &str, bytes: &[u8]) -> Result<()> {
    let path = ctx.dirs.context_file(name);
    parse(&path, Kind::Context, bytes)?;
    let settings = ctx.base_settings()?;
    ensure_private_dir(&ctx.dirs.config)?;
    ensure_private_dir(&ctx.dirs.contexts_dir())?;
    write_atomic(&path, bytes, settings.lock)
}

fn create(ctx: &Ctx, name: &str, from: Option<&str>, set: &[std::ffi::OsString]) -> Result<()> {
    validate_name("context", name)?;
    if ctx.dirs.context_file(name).exists() {
        bail!("context {name:?} already exists (strata context set {name} K=V to change it)");
    }
    let mut text = match from {
        Some(src) => {
            let from = require(ctx, src)?;
            let bytes = crate::files::read_mine(&from, crate::files::LAYER_CAP)?
                .with_context(|| format!("{} disappeared", tilde(&from)))?;
            let text = String::from_utf8(bytes)
                .with_context(|| format!("{} is not UTF-8", tilde(&from)))?;
            // The copy is the new context: its header says so.
            let old_header = format!("# strata context {src}");
            match text.strip_prefix(&old_header) {
                Some(rest) if rest.is_empty() || rest.starts_with('\n') => {
                    format!("# strata context {name}{rest}")
                }
                _ => text,
            }
        }
        None => format!(
            "# strata context {name}\n# color = \"red\"   # colours the prompt segment\n\n[env]\n"
        ),
    };
    let pairs = super::layer_edit::parse_assignments(set)?;
    if !pairs.is_empty() {
        text = edit_env(&ctx.dirs.context_file(name), &text, &pairs, &[])?.0;
    }
    write_context(ctx, name, text.as_bytes())?;
    crate::say!("created context {name}");
    Ok(())
}

fn show(ctx: &Ctx, name: Option<&str>) -> Result<()> {
    let name = match name {
        Some(n) => n.to_string(),
        None => active(ctx)
            .map(|a| a.name)
            .context("no context is active; name one")?,
    };
    let path = require(ctx, &name)?;
    let bytes = crate::files::read_mine(&path, crate::files::LAYER_CAP)?
        .with_context(|| format!("{} disappeared", tilde(&path)))?;
    let masked = crate::layers::file::parse(&path, Kind::Context, &bytes)?
        .secrets
        .mask;
    if masked.is_empty() || ctx.reveal {
        std::io::stdout().write_all(&bytes)?;
        return Ok(());
    }
    // Values `[secrets] mask` names are shown masked, as everywhere else.
    let mut doc: toml_edit::DocumentMut = String::from_utf8_lossy(&bytes).parse()?;
    if let Some(env) = doc
        .get_mut("env")
        .and_then(toml_edit::Item::as_table_like_mut)
    {
        for name in &masked {
            if let Some(item) = env.get_mut(name)
                && item.is_str()
            {
                *item = toml_edit::value(crate::secrets::MASK);
            }
        }
    }
    print!("{doc}");
    Ok(())
}

/// Set or remove `[env]` keys of a context, in place.
/// A context's own keys (not variables): `strata context set prod color=red` sets the prompt
/// colour, not a variable named `color`.
const OWN_KEYS: [&str; 2] = ["color", "description"];

/// Set or remove `[env]` keys of a context in place; `color` and `description` are the
/// context's own keys.
pub fn edit(ctx: &Ctx, name: &str, sets: &[(String, String)], unsets: &[String]) -> Result<()> {
    let path = require(ctx, name)?;
    let removed = super::layer_edit::edit_layer_file(ctx, &path, Kind::Context, |text| {
        edit_text(&path, text, sets, unsets)
    })?;
    for u in unsets.iter().filter(|u| !removed.contains(u)) {
        crate::say!("{u} was not set in context {name}");
    }
    Ok(())
}

/// The text of a context with `sets` set and `unsets` removed: `[env]` keys, except the
/// context's own `color` and `description`.
pub fn edit_text(
    path: &Path,
    text: &str,
    sets: &[(String, String)],
    unsets: &[String],
) -> Result<(String, Vec<String>)> {
    let own = |k: &str| OWN_KEYS.contains(&k);
    let (env_sets, own_sets): (Vec<_>, Vec<_>) = sets.iter().cloned().partition(|(k, _)| !own(k));
    let (env_unsets, own_unsets): (Vec<_>, Vec<_>) = unsets.iter().cloned().partition(|k| !own(k));
    let (mut new, mut removed) = edit_env(path, text, &env_sets, &env_unsets)?;
    for (k, v) in &own_sets {
        new = crate::store::edit::edit_top(path, &new, k, Some(v))?.0;
    }
    for k in &own_unsets {
        let (text, changed) = crate::store::edit::edit_top(path, &new, k, None)?;
        new = text;
        if changed {
            removed.push(k.clone());
        }
    }
    Ok((new, removed))
}

fn is_active(ctx: &Ctx, name: &str) -> bool {
    active(ctx).is_some_and(|a| a.name == name)
        || contexts::current(&ctx.dirs).as_deref() == Some(name)
}

fn rename(ctx: &Ctx, old: &str, new: &str, force: bool) -> Result<()> {
    let from = require(ctx, old)?;
    validate_name("context", new)?;
    let to = ctx.dirs.context_file(new);
    if to.exists() {
        bail!("context {new:?} already exists");
    }
    if is_active(ctx, old) && !force {
        bail!(
            "context {old} is active; switch to another one first, or use --force (the global selection follows the new name)"
        );
    }
    let settings = ctx.base_settings()?;
    let _guard = crate::store::lock(&from, settings.lock)?;
    std::fs::rename(&from, &to).with_context(|| format!("cannot rename {}", tilde(&from)))?;
    if contexts::current(&ctx.dirs).as_deref() == Some(old) {
        contexts::set_current(&ctx.dirs, Some(new), settings.lock)?;
    }
    crate::say!("renamed context {old} to {new}");
    Ok(())
}

fn delete(ctx: &Ctx, name: &str, force: bool) -> Result<()> {
    let path = require(ctx, name)?;
    if is_active(ctx, name) && !force {
        bail!("context {name} is active; switch to another one first, or use --force");
    }
    let settings = ctx.base_settings()?;
    crate::store::update(&path, settings.lock, |_| Ok((None, ())))?;
    let _ = std::fs::remove_file(crate::store::lock_path(&path));
    if contexts::current(&ctx.dirs).as_deref() == Some(name) {
        contexts::set_current(&ctx.dirs, None, settings.lock)?;
    }
    crate::say!("deleted context {name}");
    Ok(())
}

fn export(ctx: &Ctx, name: &str, output: Option<&Path>) -> Result<()> {
    let path = require(ctx, name)?;
    let bytes = crate::files::read_mine(&path, crate::files::LAYER_CAP)?
        .with_context(|| format!("{} disappeared", tilde(&path)))?;
    match output {
        None => std::io::stdout().write_all(&bytes)?,
        // Written like every file strata writes: atomically, 0600, never through a symlink.
        Some(p) => {
            let settings = ctx.base_settings()?;
            crate::store::write_outside(&ctx.dirs, p, &bytes, settings.lock)?;
        }
    }
    Ok(())
}

fn import(ctx: &Ctx, file: &Path, name: Option<&str>, force: bool) -> Result<()> {
    let mut bytes = Vec::new();
    let from_stdin = file.as_os_str() == "-";
    if from_stdin {
        std::io::stdin()
            .take(crate::files::LAYER_CAP + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > crate::files::LAYER_CAP {
            bail!(
                "the context on standard input is larger than {}",
                crate::files::human_size(crate::files::LAYER_CAP)
            );
        }
    } else {
        bytes = crate::files::read_any(file, crate::files::LAYER_CAP)?
            .with_context(|| format!("{} does not exist", tilde(file)))?;
    }
    let name = match name {
        Some(n) => n.to_string(),
        None if from_stdin => bail!("name the context: strata context import - --name NAME"),
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .context("name the context with --name")?,
    };
    validate_name("context", &name)?;
    if ctx.dirs.context_file(&name).exists() && !force {
        bail!(
            "context {name:?} already exists (use --force to replace it, or --name to pick another name)"
        );
    }
    parse(file, Kind::Context, &bytes)?;
    write_context(ctx, &name, &bytes)?;
    crate::say!("imported context {name}");
    Ok(())
}

fn edit_in_editor(ctx: &Ctx, name: &str) -> Result<()> {
    let path = require(ctx, name)?;
    let original = crate::files::read_mine(&path, crate::files::LAYER_CAP)?
        .with_context(|| format!("{} disappeared", tilde(&path)))?;
    let edited = super::edit::edit_private(
        ctx,
        &format!("{name}.toml"),
        &original,
        &tilde(&path),
        |bytes| parse(&path, Kind::Context, bytes).map(|_| ()),
    )?;
    let settings = ctx.base_settings()?;
    write_atomic(&path, &edited, settings.lock)?;
    crate::say!("saved context {name}");
    Ok(())
}
