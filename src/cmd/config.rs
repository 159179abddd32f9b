//! `strata config get|set|unset|list|show|validate`: tool settings, each value with where it
//! came from (file and line, environment variable, flag, or the built-in default).

use anyhow::{Result, anyhow, bail};
use std::path::{Path, PathBuf};

use super::{Ctx, Run, Silent};
use crate::cli::{ConfigArgs, ConfigCommand, ConfigScope};
use crate::display::tilde;
use crate::layers::DIR_FILES;
use crate::layers::file::{Kind, parse};
use crate::settings::{self, Settings};
use crate::store::edit::edit_setting;
use crate::store::sessions::Session;

impl Run for ConfigArgs {
    /// Dispatch a `strata config` subcommand.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        match &self.command {
            ConfigCommand::Get { key, show_origin } => get(ctx, key, *show_origin),
            ConfigCommand::Set { key, value, scope } => set(ctx, key, Some(value), scope),
            ConfigCommand::Unset { key, scope } => set(ctx, key, None, scope),
            ConfigCommand::List { show_origin, json } => list(ctx, *show_origin, *json),
            ConfigCommand::Show {
                effective: _,
                source,
            } => show(ctx, *source),
            ConfigCommand::Validate { files } => validate(ctx, files),
        }
    }
}

/// The settings in effect here (every layer, environment and flags).
fn effective(ctx: &Ctx) -> Result<Settings> {
    let cwd = ctx.cwd()?;
    Ok(ctx.evaluate(&cwd, &mut Default::default())?.1.settings)
}

fn check_key(key: &str) -> Result<()> {
    settings::entry(key).map(|_| ())
}

fn origin_text(s: &Settings, key: &str) -> String {
    s.origin(key)
        .map_or_else(|| "default".to_string(), |o| o.to_string())
}

fn get(ctx: &Ctx, key: &str, show_origin: bool) -> Result<()> {
    check_key(key)?;
    let s = effective(ctx)?;
    let value = s.get_text(key).unwrap_or_default();
    if show_origin {
        println!("{}\t{value}", origin_text(&s, key));
    } else {
        println!("{value}");
    }
    Ok(())
}

fn list(ctx: &Ctx, show_origin: bool, json: bool) -> Result<()> {
    let s = effective(ctx)?;
    if json {
        let rows: serde_json::Map<String, serde_json::Value> = settings::keys()
            .map(|k| {
                let v = serde_json::json!({
                    "value": s.get_text(k).unwrap_or_default(),
                    "origin": origin_text(&s, k),
                });
                (k.to_string(), v)
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for k in settings::keys() {
        let v = s.get_text(k).unwrap_or_default();
        if show_origin {
            println!("{:<28}{k}={v}", origin_text(&s, k));
        } else {
            println!("{k}={v}");
        }
    }
    Ok(())
}

fn show(ctx: &Ctx, source: bool) -> Result<()> {
    let s = effective(ctx)?;
    println!("[settings]");
    for k in settings::keys() {
        let v = s.get_text(k).unwrap_or_default();
        let value = Settings::toml_value(k, &v).unwrap_or_else(|_| v.as_str().into());
        let line = format!("{k} = {}", value.to_string().trim());
        if source {
            println!("{line:<40} # {}", origin_text(&s, k));
        } else {
            println!("{line}");
        }
    }
    Ok(())
}

/// The file a scope names, and its layer kind.
fn scope_file(ctx: &Ctx, scope: &ConfigScope) -> Result<(PathBuf, Kind)> {
    if scope.local {
        let cwd = ctx.cwd()?;
        let dir = cwd
            .ancestors()
            .find(|d| d.join(DIR_FILES[0]).is_file())
            .unwrap_or(&cwd)
            .to_path_buf();
        return Ok((dir.join(DIR_FILES[0]), Kind::Dir));
    }
    if scope.system {
        return Ok((ctx.dirs.system_config.clone(), Kind::System));
    }
    if let Some(name) = &ctx.context {
        crate::names::validate_name("context", name)?;
        let path = ctx.dirs.context_file(name);
        if !path.is_file() {
            bail!("no context named {name:?} (strata context create {name})");
        }
        return Ok((path, Kind::Context));
    }
    Ok((ctx.dirs.global_config(), Kind::Global))
}

fn set(ctx: &Ctx, key: &str, value: Option<&str>, scope: &ConfigScope) -> Result<()> {
    check_key(key)?;
    let (path, kind) = scope_file(ctx, scope)?;
    if key == "trust.paths" && matches!(kind, Kind::Dir | Kind::Context) {
        bail!(
            "trust.paths can only be set in the global (or system) config: a {} file must not decide what is trusted (strata config set --global trust.paths …)",
            kind.label()
        );
    }
    if key == "context" && kind == Kind::Context {
        bail!(
            "a context cannot choose the context; set `context` in a directory or the global config"
        );
    }
    let new = value.map(|v| Settings::toml_value(key, v)).transpose()?;
    let removing = new.is_none();
    if kind == Kind::System
        && let Some(dir) = path.parent()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let changed = super::layer_edit::edit_layer_file(ctx, &path, kind, |text| {
        edit_setting(&path, text, key, new)
    })?;
    if removing && !changed {
        crate::say!("{key} was not set in {}", tilde(&path));
    }
    Ok(())
}

/// The kind of layer a file is, from its name and place.
fn kind_of(ctx: &Ctx, path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    if name == DIR_FILES[0] {
        return Some(Kind::Dir);
    }
    if name == DIR_FILES[1] {
        return Some(Kind::DirLocal);
    }
    let parent = path.parent()?;
    if parent == ctx.dirs.contexts_dir() {
        return Some(Kind::Context);
    }
    if path == ctx.dirs.system_config {
        return Some(Kind::System);
    }
    Some(Kind::Global)
}

/// Every layer file that applies here, for `validate` without arguments.
fn layer_files(ctx: &Ctx) -> Result<Vec<PathBuf>> {
    let mut out = vec![ctx.dirs.system_config.clone(), ctx.dirs.global_config()];
    out.extend(
        crate::store::contexts::list(&ctx.dirs)?
            .into_iter()
            .map(|n| ctx.dirs.context_file(&n)),
    );
    let cwd = ctx.cwd()?;
    for dir in cwd.ancestors() {
        for name in DIR_FILES {
            out.push(dir.join(name));
        }
    }
    if let Some(id) = &ctx.session {
        out.push(ctx.dirs.session_file(id));
    }
    out.retain(|p| p.is_file());
    Ok(out)
}

fn validate_one(ctx: &Ctx, path: &Path) -> Result<()> {
    let bytes = crate::files::read_any(path, crate::files::LAYER_CAP)?
        .ok_or_else(|| anyhow!("{} does not exist", tilde(path)))?;
    if path.parent() == Some(ctx.dirs.sessions_dir().as_path()) {
        Session::parse(path, &bytes)?;
        return Ok(());
    }
    let kind = kind_of(ctx, path).unwrap_or(Kind::Global);
    let file = parse(path, kind, &bytes)?;
    let mut scratch = Settings::default();
    for w in scratch.apply_file(kind, path, &file.settings)? {
        crate::say!("{w}");
    }
    Ok(())
}

fn validate(ctx: &Ctx, files: &[PathBuf]) -> Result<()> {
    let files = if files.is_empty() {
        layer_files(ctx)?
    } else {
        files.to_vec()
    };
    let mut bad = 0;
    for f in &files {
        match validate_one(ctx, f) {
            Ok(()) => println!("ok      {}", tilde(f)),
            Err(e) => {
                bad += 1;
                println!("error   {}", crate::display::escape(&e.to_string()));
            }
        }
    }
    if files.is_empty() {
        println!("no layer files apply here");
    }
    if bad > 0 {
        crate::say!("{bad} of {} file(s) have errors", files.len());
        return Err(Silent(1).into());
    }
    Ok(())
}
