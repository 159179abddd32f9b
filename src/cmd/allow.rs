//! `strata allow`, `strata deny` and `strata trust list`.
//!
//! `allow` validates a file before trusting it: it must parse, and the stack must evaluate
//! with it applied (so an interpolation cycle or unknown variable is caught now, not at the
//! next prompt). The record holds the hash of exactly the bytes that were validated.

use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};

use super::{Ctx, Run, current_env, current_state};
use crate::cli::{AllowArgs, DenyArgs, TrustArgs, TrustCommand};
use crate::display::tilde;
use crate::env_diff::base_env;
use crate::files;
use crate::layers::{self, DIR_FILES};
use crate::store::history::Kind as HistoryKind;
use crate::store::trust::{self, Decision, sha256_hex};

/// The directory files `path` designates: the file itself, the files in a directory, or with
/// no path the files of the nearest directory (from the cwd up) that has any.
fn targets(ctx: &Ctx, path: Option<&Path>) -> Result<Vec<PathBuf>> {
    let in_dir = |dir: &Path| -> Vec<PathBuf> {
        DIR_FILES
            .iter()
            .map(|n| dir.join(n))
            .filter(|p| p.is_file())
            .collect()
    };
    match path {
        Some(p) => {
            let p =
                std::path::absolute(p).with_context(|| format!("cannot use {}", p.display()))?;
            if p.is_dir() {
                let found = in_dir(&p);
                if found.is_empty() {
                    bail!("{} has no .strata.toml or .strata.local.toml", tilde(&p));
                }
                Ok(found)
            } else if p.is_file() {
                Ok(vec![p])
            } else {
                bail!("{} does not exist", tilde(&p))
            }
        }
        None => {
            let cwd = ctx.cwd()?;
            for dir in cwd.ancestors() {
                let found = in_dir(dir);
                if !found.is_empty() {
                    return Ok(found);
                }
            }
            bail!(
                "no .strata.toml in {} or any directory above it (create one, or name a file: strata allow PATH)",
                tilde(&cwd)
            )
        }
    }
}

impl Run for AllowArgs {
    /// `strata allow [PATH]`.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        allow(ctx, self.path.as_deref())
    }
}

impl Run for DenyArgs {
    /// `strata deny [PATH]`.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        deny(ctx, self.path.as_deref())
    }
}

impl Run for TrustArgs {
    /// `strata trust list [--json]`.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        match &self.command {
            TrustCommand::List { json } => list(ctx, *json),
        }
    }
}

fn allow(ctx: &Ctx, path: Option<&Path>) -> Result<()> {
    for file in targets(ctx, path)? {
        allow_file(ctx, &file, "fix the error, then run strata allow again")?;
    }
    Ok(())
}

/// Validate `file` and, if it is valid, record the hash of exactly the bytes validated, for
/// the place where the file applies. `fix` says what to do when it is not valid.
pub fn allow_file(ctx: &Ctx, file: &Path, fix: &str) -> Result<()> {
    let settings = ctx.base_settings()?;
    let (key, target) =
        trust::key_of(file).with_context(|| format!("cannot resolve {}", tilde(file)))?;
    let bytes = files::read_any(file, settings.layer_limit)?
        .with_context(|| format!("{} does not exist", tilde(file)))?;
    validate(ctx, file, &key, &bytes)
        .with_context(|| format!("not allowing {}: {fix}", tilde(file)))?;
    trust::record(
        &ctx.dirs,
        &key,
        &Decision::Allow(sha256_hex(&bytes)),
        target.as_deref(),
        settings.lock,
    )?;
    match target {
        Some(t) => crate::say!(
            "allowed {} here, a symlink to {} (its own allow: the target's does not count here)",
            tilde(file),
            tilde(&t)
        ),
        None => crate::say!("allowed {}", tilde(file)),
    }
    // Aliases run commands when their names are typed: say which ones this file defines.
    if let Ok(parsed) = crate::layers::file::parse(file, crate::layers::file::Kind::Dir, &bytes) {
        for a in &parsed.aliases {
            match &a.argv {
                Some(argv) => crate::say!("  alias {} = {}", a.name, crate::display::words(argv)),
                None => crate::say!("  no alias {} here", a.name),
            }
        }
    }
    super::log::record(ctx, HistoryKind::Allow, &tilde(file), |_| {});
    Ok(())
}

/// Evaluate the stack at the file's directory as if the file (at `key`) held `bytes` and were
/// trusted: exactly the bytes that will be recorded, whatever is on disk by then.
pub fn validate(ctx: &Ctx, file: &Path, key: &Path, bytes: &[u8]) -> Result<()> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if !DIR_FILES.contains(&name) {
        bail!(
            "{} is not a directory file (expected .strata.toml or .strata.local.toml)",
            tilde(file)
        );
    }
    let current = current_env();
    let state = current_state(&ctx.dirs, &current).ok().flatten();
    let base = base_env(&current, state.as_ref());
    let dir = file.parent().unwrap_or(Path::new("/"));
    let candidate = layers::Candidate { key, bytes };
    layers::evaluate(
        &ctx.request(dir, &base, Some(candidate)),
        &mut layers::Watch::default(),
    )?;
    Ok(())
}

fn deny(ctx: &Ctx, path: Option<&Path>) -> Result<()> {
    let settings = ctx.base_settings()?;
    for file in targets(ctx, path)? {
        let (key, _) =
            trust::key_of(&file).with_context(|| format!("cannot resolve {}", tilde(&file)))?;
        trust::record(&ctx.dirs, &key, &Decision::Deny, None, settings.lock)?;
        crate::say!("denied {}", tilde(&file));
        super::log::record(ctx, HistoryKind::Deny, &tilde(&file), |_| {});
    }
    Ok(())
}

fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let settings = ctx.base_settings()?;
    let records = trust::list(&ctx.dirs)?;
    let rows: Vec<(String, &PathBuf)> = records
        .iter()
        .map(|r| {
            let now_target = trust::key_of(&r.path).ok().and_then(|(_, t)| t);
            let state = match (&r.decision, files::read_any(&r.path, settings.layer_limit)) {
                (Decision::Deny, _) => "denied".to_string(),
                (Decision::Allow(_), Ok(None)) => "allowed (file missing)".to_string(),
                (Decision::Allow(_), Err(_)) => "allowed (file unreadable)".to_string(),
                (Decision::Allow(_), _) if now_target != r.target => {
                    "allowed (link changed since: untrusted)".to_string()
                }
                (Decision::Allow(h), Ok(Some(b))) if *h == sha256_hex(&b) => match &r.target {
                    Some(t) => format!("allowed (symlink to {})", tilde(t)),
                    None => "allowed".to_string(),
                },
                (Decision::Allow(_), Ok(Some(_))) => {
                    "allowed (changed since: untrusted)".to_string()
                }
            };
            (state, &r.path)
        })
        .collect();
    if json {
        let arr: Vec<serde_json::Value> = rows
            .iter()
            .map(|(s, p)| serde_json::json!({"path": p.to_string_lossy(), "state": s}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
    } else if rows.is_empty() {
        println!("no trusted or denied files yet (run strata allow in a project)");
    } else {
        for (s, p) in rows {
            println!("{s:<36} {}", tilde(p));
        }
    }
    Ok(())
}
