//! `strata allow`, `strata deny` and `strata trust list`.
//!
//! `allow` validates a file before trusting it: it must parse, and the stack must evaluate
//! with it applied (so an interpolation cycle or unknown variable is caught now, not at the
//! next prompt). The record holds the hash of exactly the bytes that were validated.

use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};

use super::{Ctx, current_env, current_state};
use crate::display::tilde;
use crate::env_diff::base_env;
use crate::layers::{self, DIR_FILES};
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

/// `strata allow [PATH]`.
pub fn allow(ctx: &Ctx, path: Option<&Path>) -> Result<()> {
    for file in targets(ctx, path)? {
        allow_file(ctx, &file, "fix the error, then run strata allow again")?;
    }
    Ok(())
}

/// Validate `file` and, if it is valid, record the hash of exactly the bytes validated.
/// `fix` says what to do when it is not.
pub fn allow_file(ctx: &Ctx, file: &Path, fix: &str) -> Result<()> {
    let settings = ctx.base_settings()?;
    let canonical =
        std::fs::canonicalize(file).with_context(|| format!("cannot resolve {}", tilde(file)))?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", tilde(file)))?;
    validate(ctx, file, &canonical)
        .with_context(|| format!("not allowing {}: {fix}", tilde(file)))?;
    trust::record(
        &ctx.dirs,
        &canonical,
        &Decision::Allow(sha256_hex(&bytes)),
        settings.lock,
    )?;
    eprintln!("strata: allowed {}", tilde(file));
    Ok(())
}

/// Evaluate the stack at the file's directory with the file treated as trusted.
pub fn validate(ctx: &Ctx, file: &Path, canonical: &Path) -> Result<()> {
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
    let state = current_state(&current).ok().flatten();
    let base = base_env(&current, state.as_ref());
    let dir = file.parent().unwrap_or(Path::new("/"));
    layers::evaluate(
        &ctx.request(dir, &base, Some(canonical)),
        &mut layers::Watch::default(),
    )?;
    Ok(())
}

/// `strata deny [PATH]`.
pub fn deny(ctx: &Ctx, path: Option<&Path>) -> Result<()> {
    let settings = ctx.base_settings()?;
    for file in targets(ctx, path)? {
        let canonical = std::fs::canonicalize(&file)
            .with_context(|| format!("cannot resolve {}", tilde(&file)))?;
        trust::record(&ctx.dirs, &canonical, &Decision::Deny, settings.lock)?;
        eprintln!("strata: denied {}", tilde(&file));
    }
    Ok(())
}

/// `strata trust list [--json]`.
pub fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let records = trust::list(&ctx.dirs)?;
    let rows: Vec<(String, &PathBuf)> = records
        .iter()
        .map(|r| {
            let state = match (&r.decision, std::fs::read(&r.path)) {
                (Decision::Deny, _) => "denied",
                (Decision::Allow(_), Err(_)) => "allowed (file missing)",
                (Decision::Allow(h), Ok(b)) if *h == sha256_hex(&b) => "allowed",
                (Decision::Allow(_), Ok(_)) => "allowed (changed since: untrusted)",
            };
            (state.to_string(), &r.path)
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
