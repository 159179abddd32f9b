//! `strata context …` (and `strata use`): named contexts, switched for every terminal (the
//! current-context file every hook watches) or for this session only.

use anyhow::{Context as _, Result, bail};
use std::io::{Read, Write};
use std::path::Path;

use super::{Ctx, Run, Silent};
use crate::cli::{ContextArgs, ContextCommand, UseArgs, UseOptions};
use crate::display::tilde;
use crate::layers::ActiveContext;
use crate::layers::file::{Kind, parse};
use crate::names::validate_name;
use crate::settings::UseScope;
use crate::store::contexts::{self, Choice};
use crate::store::edit::edit_env;
use crate::store::history::Kind as HistoryKind;
use crate::store::{ensure_private_dir, sessions, write_atomic};

impl Run for ContextArgs {
    /// Dispatch a `strata context` subcommand.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        match &self.command {
            ContextCommand::List { json } => list(ctx, *json),
            ContextCommand::Current => current(ctx),
            ContextCommand::Use { name, how } => use_context(ctx, name.as_deref(), how),
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
        use_context(ctx, self.name.as_deref(), &self.how)
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
    crate::layers::choose_context(&req, session.as_ref(), &settings)
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

/// What a context's file says about the context itself: its colour and whether it is
/// protected (an unreadable file: neither).
fn own_facts(ctx: &Ctx, name: &str) -> (Option<String>, bool) {
    let path = ctx.dirs.context_file(name);
    let Ok(Some(bytes)) = crate::files::read_mine(&path, crate::files::LAYER_CAP) else {
        return (None, false);
    };
    match parse(&path, Kind::Context, &bytes) {
        Ok(f) => (f.color, f.protected),
        Err(_) => (None, false),
    }
}

/// Colour in listings: the `color` setting, `--no-color` and `NO_COLOR`, and for `auto`
/// whether standard output is a terminal.
fn listing_colour(ctx: &Ctx) -> bool {
    use crate::settings::ColorMode;
    use std::io::IsTerminal;
    if ctx.no_color {
        return false;
    }
    match ctx
        .base_settings()
        .map(|s| s.color)
        .unwrap_or(ColorMode::Auto)
    {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => std::io::stdout().is_terminal(),
    }
}

fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let names = contexts::list(&ctx.dirs)?;
    let active = active(ctx);
    let is_active = |n: &str| active.as_ref().is_some_and(|a| a.name == n);
    if json {
        let rows: Vec<serde_json::Value> = names
            .iter()
            .map(|n| {
                let (color, protected) = own_facts(ctx, n);
                let until = active
                    .as_ref()
                    .filter(|a| a.name == *n)
                    .and_then(|a| a.until);
                serde_json::json!({
                    "name": n,
                    "active": is_active(n),
                    "color": color,
                    "protected": protected,
                    "until": until,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if names.is_empty() {
        crate::say!("no contexts yet (strata context create NAME)");
    }
    let colour = listing_colour(ctx);
    let mut out = std::io::stdout().lock();
    for n in &names {
        let (color, protected) = own_facts(ctx, n);
        let here = is_active(n);
        let mark = if here { "*" } else { " " };
        let sgr = color
            .as_deref()
            .filter(|_| colour)
            .and_then(crate::display::ansi_color)
            .map(|c| if here { format!("1;{c}") } else { c });
        let shown = match sgr {
            Some(c) => format!("\x1b[{c}m{n}\x1b[0m"),
            None if here && colour => format!("\x1b[1m{n}\x1b[0m"),
            None => n.clone(),
        };
        let mut notes = Vec::new();
        if protected {
            notes.push("protected".to_string());
        }
        if here && let Some(t) = active.as_ref().and_then(|a| a.until) {
            notes.push(format!("until {}", super::log::utc(t)));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", notes.join(", "))
        };
        writeln!(out, "{mark} {shown}{notes}")?;
    }
    Ok(())
}

fn current(ctx: &Ctx) -> Result<()> {
    let verbose = ctx.flags.iter().any(|f| f == "log=verbose");
    match active(ctx) {
        Some(a) if verbose => match a.until {
            Some(t) => println!(
                "{} (chosen by {}, until {})",
                a.name,
                a.source,
                super::log::utc(t)
            ),
            None => println!("{} (chosen by {})", a.name, a.source),
        },
        Some(a) => println!("{}", a.name),
        None => {
            crate::say!("no context is active (strata context use NAME)");
            return Err(Silent(1).into());
        }
    }
    Ok(())
}

/// Where a switch goes: every terminal, or one session's own choice.
enum Target<'a> {
    Global,
    Session(&'a str),
}

/// `strata context use [NAME|-]` and `strata use`: switch every terminal (or, with
/// `--session` or `use.scope = "session"`, only this one), asking first for a protected
/// context, for `--ttl` only until then. No name: list the contexts, or pick one with fzf.
pub fn use_context(ctx: &Ctx, name: Option<&str>, how: &UseOptions) -> Result<()> {
    let settings = ctx.base_settings()?;
    let name = match name {
        Some(n) => n.to_string(),
        None => match pick(ctx)? {
            Some(n) => n,
            None => return Ok(()),
        },
    };
    if how.global && ctx.session_scope {
        bail!("--global and --session ask for two different things; give one");
    }
    let per_session = ctx.session_scope || (settings.use_scope == UseScope::Session && !how.global);
    let target = if per_session {
        match ctx.session.as_deref() {
            Some(id) => Target::Session(id),
            None if ctx.session_scope => bail!(
                "no session to switch: run it in a shell with the strata hook, or name one with --session=ID"
            ),
            None => bail!(
                "use.scope is \"session\", but no session is named here (no STRATA_SESSION): switch every terminal with --global, or name one with --session=ID"
            ),
        }
    } else {
        Target::Global
    };
    // The context to switch to: None is no context (globally) or the global one (a session).
    let to = if name == "-" {
        previous(ctx, &target)?
    } else {
        Some(name)
    };
    if let Some(n) = &to {
        require(ctx, n)?;
        if own_facts(ctx, n).1 && !how.yes {
            confirm(n, &target)?;
        }
    }
    let until = match &how.ttl {
        Some(t) => Some(ttl_end(t)?),
        None => None,
    };
    let choice = Choice {
        name: to.clone(),
        until,
    };
    let from = match &target {
        Target::Global => contexts::switch(&ctx.dirs, choice, settings.lock)?,
        Target::Session(id) => sessions::modify(&ctx.dirs, id, settings.lock, |s| {
            let now = crate::clock::now();
            let mut sel = s.selection();
            let old = sel.at(now).and_then(|c| c.name.clone());
            sel.push(choice, now);
            let new = sel.at(now).and_then(|c| c.name.clone());
            if old != new {
                s.previous_context = Some(old.clone().unwrap_or_default());
            }
            s.set_selection(sel);
            Ok(old)
        })?,
    };
    let scope = match &target {
        Target::Global => "global".to_string(),
        Target::Session(id) => format!("session {id}"),
    };
    super::log::record(ctx, HistoryKind::Context, &scope, |e| {
        e.from = from.clone();
        e.to = to.clone();
        e.until = until;
    });
    let ends = match (&how.ttl, until) {
        (Some(t), Some(at)) => format!(
            " for {t} (until {}), then back to {}",
            super::log::utc(at),
            from.as_deref().unwrap_or(match target {
                Target::Global => "no context",
                Target::Session(_) => "the global context",
            })
        ),
        _ => String::new(),
    };
    match (&target, &to) {
        (Target::Session(id), Some(n)) => {
            crate::say!("session {id} uses context {n}{ends} (other terminals are unchanged)")
        }
        (Target::Session(id), None) => {
            crate::say!("session {id} follows the global context again{ends}")
        }
        (Target::Global, None) => crate::say!("no context selected any more{ends}"),
        (Target::Global, Some(n)) => {
            crate::say!("using context {n} in every terminal from its next prompt{ends}");
            // What still wins over the global selection here says so, instead of leaving the
            // user to wonder why this shell did not switch.
            match active(ctx) {
                Some(a) if a.name != *n => crate::say!(
                    "note: here the context stays {}, chosen by {} (which wins over the global selection)",
                    a.name,
                    a.source
                ),
                _ => {}
            }
        }
    }
    Ok(())
}

/// `use -`: the context before the last switch (`None`: no context, or for a session the
/// global one). A choice that just ran out (`--ttl`) counts as the last switch.
fn previous(ctx: &Ctx, target: &Target<'_>) -> Result<Option<String>> {
    match target {
        Target::Global => {
            contexts::previous(&ctx.dirs).context("no previous context to go back to")
        }
        Target::Session(id) => {
            let s = sessions::load(&ctx.dirs, id)?.unwrap_or_default();
            if let Some(ended) = s.selection().expired_head(crate::clock::now()) {
                return Ok(ended.name.clone());
            }
            match s.previous_context {
                Some(p) if p.is_empty() => Ok(None),
                Some(p) => Ok(Some(p)),
                None => bail!("no previous context in session {id} to go back to"),
            }
        }
    }
}

/// The end of a `--ttl` switch made now, in unix seconds, rounded up.
fn ttl_end(ttl: &str) -> Result<i64> {
    let d = crate::settings::parse_duration(ttl)?;
    if d.is_zero() {
        bail!("--ttl must be longer than 0s");
    }
    // From the exact time, rounded up: the choice lasts at least its TTL.
    let at = std::time::SystemTime::now() + d;
    let d = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Ok(d.as_secs() as i64 + i64::from(d.subsec_nanos() > 0))
}

/// Ask on the terminal before switching to protected context `name`; without one to ask on,
/// refuse and say how to confirm.
fn confirm(name: &str, target: &Target<'_>) -> Result<()> {
    use std::io::{BufRead, IsTerminal};
    let mut words = vec!["strata", "use"];
    if matches!(target, Target::Session(_)) {
        words.push("--session");
    }
    words.extend(["--yes", name]);
    let fix = crate::display::command(&words);
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        bail!(
            "context {name} is protected and there is no terminal to ask on: confirm with --yes ({fix})"
        );
    }
    let where_ = match target {
        Target::Global => "every terminal".to_string(),
        Target::Session(id) => format!("session {id}"),
    };
    eprint!("strata: context {name} is protected; switch {where_} to it? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        return Ok(());
    }
    crate::say!("not switching to {name}");
    Err(Silent(1).into())
}

/// A bare `strata use`: with fzf on PATH and a terminal, the context picked in it (`None`
/// when the user picked none); otherwise the contexts are listed and `None` returned.
fn pick(ctx: &Ctx) -> Result<Option<String>> {
    use std::io::IsTerminal;
    let names = contexts::list(&ctx.dirs)?;
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let fzf = (terminal && !names.is_empty())
        .then(|| find_program("fzf"))
        .flatten();
    let Some(fzf) = fzf else {
        return list(ctx, false).map(|()| None);
    };
    let active = active(ctx).map(|a| a.name);
    // The active one first, where fzf's cursor starts.
    let mut order: Vec<&String> = names
        .iter()
        .filter(|n| Some(*n) == active.as_ref())
        .collect();
    order.extend(names.iter().filter(|n| Some(*n) != active.as_ref()));
    let mut child = std::process::Command::new(&fzf)
        .args([
            "--prompt=context> ",
            "--height=40%",
            "--reverse",
            "--no-multi",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", tilde(&fzf)))?;
    if let Some(mut input) = child.stdin.take() {
        let text: String = order.iter().map(|n| format!("{n}\n")).collect();
        // fzf may quit before reading it all; its answer is what counts.
        let _ = input.write_all(text.as_bytes());
    }
    let out = child.wait_with_output()?;
    let picked = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || picked.is_empty() {
        crate::say!("no context picked; nothing changed");
        return Ok(None);
    }
    if !names.contains(&picked) {
        bail!(
            "fzf answered {:?}, which is not a context",
            crate::display::escape(&picked)
        );
    }
    Ok(Some(picked))
}

/// `program` in a directory of `PATH`, as an executable file.
fn find_program(program: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
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
            "# strata context {name}\n# color = \"red\"   # colours the prompt segment\n# protected = true # strata use asks before switching to it\n\n[env]\n"
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

/// A context's own keys (not variables): `strata context set prod color=red` sets the prompt
/// colour, not a variable named `color`; `protected=true` makes switching to it ask first.
const OWN_KEYS: [&str; 3] = ["color", "description", "protected"];

/// The TOML value of a context's own key from `context set`: `protected` is a boolean, the
/// others are text.
fn own_value(key: &str, text: &str) -> Result<toml_edit::Value> {
    if key != "protected" {
        return Ok(text.into());
    }
    match text {
        "true" | "yes" | "1" | "on" => Ok(true.into()),
        "false" | "no" | "0" | "off" => Ok(false.into()),
        _ => bail!("protected must be true or false, not {text:?}"),
    }
}

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
        new = crate::store::edit::edit_top(path, &new, k, Some(own_value(k, v)?))?.0;
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
    // The global selection follows the new name, also where a `--ttl` choice goes back to it.
    if contexts::selection(&ctx.dirs).mentions(old) {
        contexts::edit_selection(&ctx.dirs, settings.lock, |sel, _| {
            sel.rename(old, new);
            Ok(())
        })?;
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
    } else if contexts::selection(&ctx.dirs).mentions(name) {
        // A `--ttl` choice no longer goes back to it.
        contexts::edit_selection(&ctx.dirs, settings.lock, |sel, _| {
            sel.0.retain(|c| c.name.as_deref() != Some(name));
            Ok(())
        })?;
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
