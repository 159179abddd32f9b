//! `strata session list|show|clear|end|gc`.

use anyhow::{Result, bail};
use std::os::unix::ffi::OsStrExt;

use super::{Ctx, Run};
use crate::cli::{SessionArgs, SessionCommand};
use crate::clock::now;
use crate::store::sessions;

impl Run for SessionArgs {
    /// Dispatch a `strata session` subcommand.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        match &self.command {
            SessionCommand::List { json } => list(ctx, *json),
            SessionCommand::Show { id, json } => show(ctx, &which(ctx, id.as_deref())?, *json),
            SessionCommand::Clear => clear(ctx, &which(ctx, None)?),
            SessionCommand::End { id } => end(ctx, &which(ctx, id.as_deref())?),
            SessionCommand::Gc => {
                let settings = ctx.base_settings()?;
                let removed = sessions::gc(&ctx.dirs, settings.session_ttl, settings.lock)?;
                crate::say!("removed {} idle session(s)", removed.len());
                Ok(())
            }
        }
    }
}

/// The session `id` names, else this one.
fn which(ctx: &Ctx, id: Option<&str>) -> Result<String> {
    match (id, &ctx.session) {
        (Some(id), _) => Ok(id.to_string()),
        (None, Some(id)) => Ok(id.clone()),
        (None, None) => bail!(
            "no session is named (STRATA_SESSION is unset); give an id, or run it in a shell with the strata hook"
        ),
    }
}

fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let all = sessions::list(&ctx.dirs)?;
    let current = |id: &String| Some(id) == ctx.session.as_ref();
    if json {
        let rows: Vec<serde_json::Value> = all
            .iter()
            .map(|s| {
                let age = s.modified.elapsed().map_or(0, |d| d.as_secs());
                serde_json::json!({"id": s.id, "current": current(&s.id), "idle_seconds": age})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for s in &all {
        let mark = if current(&s.id) { "*" } else { " " };
        let idle = s.modified.elapsed().map_or(0, |d| d.as_secs());
        println!("{mark} {:<24} idle {}", s.id, human(idle));
    }
    Ok(())
}

fn show(ctx: &Ctx, id: &str, json: bool) -> Result<()> {
    let s = sessions::load(&ctx.dirs, id)?.unwrap_or_default();
    let t = now();
    if json {
        let vals: serde_json::Map<String, serde_json::Value> = s
            .values(t)
            .into_iter()
            .map(|(k, v)| (k, v.to_string_lossy().into_owned().into()))
            .collect();
        let secrets: serde_json::Map<String, serde_json::Value> = s
            .secrets(t)
            .into_iter()
            .map(|r| {
                let mut v = serde_json::json!({
                    "store": r.store.name(),
                    "exec_only": r.exec_only,
                });
                if ctx.reveal {
                    v["value"] = revealed(ctx, id, &r).into();
                }
                (r.name, v)
            })
            .collect();
        let v = serde_json::json!({
            "id": id,
            "context": s.context,
            "env": vals,
            "secrets": secrets,
            "prepend": s.prepend,
            "append": s.append,
            "expires": s.expires,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("session {id}");
    if let Some(c) = &s.context {
        println!("context {c}");
    }
    let expiry = |k: &str| {
        s.expires
            .get(k)
            .map(|e| format!("  (expires in {})", human((e - t).max(0) as u64)))
            .unwrap_or_default()
    };
    for (k, v) in s.values(t) {
        let shown = crate::shells::Shell::Bash.quote(v.as_bytes());
        println!("{k}={shown}{}", expiry(&k));
    }
    for r in s.secrets(t) {
        let shown = if ctx.reveal {
            revealed(ctx, id, &r)
        } else {
            crate::secrets::MASK.to_string()
        };
        let only = if r.exec_only {
            ", for strata exec only"
        } else {
            ""
        };
        println!(
            "{}={shown}  (secret in {}{only}){}",
            r.name,
            r.store.describe(),
            expiry(&r.name)
        );
    }
    for (var, front, back) in s.lists(t) {
        let entries = |list: &[std::ffi::OsString]| -> Vec<String> {
            list.iter()
                .map(|e| crate::display::escape_bytes(e.as_bytes()))
                .collect()
        };
        for (side, list) in [("prepend", entries(&front)), ("append", entries(&back))] {
            if !list.is_empty() {
                println!("{var} {side} {}{}", list.join(" "), expiry(&var));
            }
        }
    }
    Ok(())
}

/// A secret's value for `--reveal`, quoted for bash; what went wrong when it cannot be read.
fn revealed(ctx: &Ctx, id: &str, r: &sessions::SecretRef) -> String {
    let account = sessions::secret_account(&ctx.dirs, id, &r.name);
    match crate::secrets::get(r.store, &account, crate::secrets::WRITE_LIMIT) {
        Ok(Some(v)) => crate::shells::Shell::Bash.quote(&v),
        Ok(None) => format!("(not in {})", r.store.describe()),
        Err(e) => format!("(cannot read it: {e})"),
    }
}

fn clear(ctx: &Ctx, id: &str) -> Result<()> {
    let settings = ctx.base_settings()?;
    let secrets = sessions::modify(&ctx.dirs, id, settings.lock, |s| {
        let secrets: Vec<_> = s
            .all_secrets()
            .into_iter()
            .map(|r| (r.name, r.store))
            .collect();
        s.env.clear();
        s.bytes.clear();
        s.prepend.clear();
        s.append.clear();
        s.expires.clear();
        s.secrets = Default::default();
        Ok(secrets)
    })?;
    sessions::forget_secrets(&ctx.dirs, id, &secrets);
    crate::say!("cleared session {id}");
    Ok(())
}

fn end(ctx: &Ctx, id: &str) -> Result<()> {
    let settings = ctx.base_settings()?;
    if sessions::end(&ctx.dirs, id, settings.lock)? {
        crate::say!("ended session {id}");
    } else {
        crate::say!("session {id} has no state");
    }
    Ok(())
}

fn human(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
