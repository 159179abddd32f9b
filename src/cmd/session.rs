//! `strata session list|show|clear|end|gc`.

use anyhow::{Result, bail};
use std::os::unix::ffi::OsStrExt;

use super::Ctx;
use crate::cli::SessionCommand;
use crate::clock::now;
use crate::store::sessions;

/// Dispatch a `strata session` subcommand.
pub fn run(ctx: &Ctx, command: SessionCommand) -> Result<()> {
    let settings = ctx.base_settings()?;
    let this = || -> Result<String> {
        match &ctx.session {
            Some(id) => Ok(id.clone()),
            None => bail!(
                "no session is named (STRATA_SESSION is unset); give an id, or run it in a shell with the strata hook"
            ),
        }
    };
    match command {
        SessionCommand::List { json } => {
            let all = sessions::list(&ctx.dirs)?;
            if json {
                let rows: Vec<serde_json::Value> = all
                    .iter()
                    .map(|s| {
                        let age = s.modified.elapsed().map_or(0, |d| d.as_secs());
                        serde_json::json!({
                            "id": s.id,
                            "current": Some(&s.id) == ctx.session.as_ref(),
                            "idle_seconds": age,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for s in &all {
                    let mark = if Some(&s.id) == ctx.session.as_ref() {
                        "*"
                    } else {
                        " "
                    };
                    let idle = s.modified.elapsed().map_or(0, |d| d.as_secs());
                    println!("{mark} {:<24} idle {}", s.id, human(idle));
                }
            }
        }
        SessionCommand::Show { id, json } => {
            let id = match id {
                Some(i) => i,
                None => this()?,
            };
            let s = sessions::load(&ctx.dirs, &id)?.unwrap_or_default();
            let t = now();
            if json {
                let vals: serde_json::Map<String, serde_json::Value> = s
                    .values(t)
                    .into_iter()
                    .map(|(k, v)| (k, v.to_string_lossy().into_owned().into()))
                    .collect();
                let v = serde_json::json!({"id": id, "context": s.context, "env": vals, "expires": s.expires});
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("session {id}");
                if let Some(c) = &s.context {
                    println!("context {c}");
                }
                for (k, v) in s.values(t) {
                    let exp = s
                        .expires
                        .get(&k)
                        .map(|e| format!("  (expires in {})", human((e - t).max(0) as u64)))
                        .unwrap_or_default();
                    let shown = crate::shells::Shell::Bash.quote(v.as_bytes());
                    println!("{k}={shown}{exp}");
                }
            }
        }
        SessionCommand::Clear => {
            let id = this()?;
            sessions::modify(&ctx.dirs, &id, settings.lock, |s| {
                s.env.clear();
                s.bytes.clear();
                s.expires.clear();
                Ok(())
            })?;
            crate::say!("cleared session {id}");
        }
        SessionCommand::End { id } => {
            let id = match id {
                Some(i) => i,
                None => this()?,
            };
            if sessions::end(&ctx.dirs, &id, settings.lock)? {
                crate::say!("ended session {id}");
            } else {
                crate::say!("session {id} has no state");
            }
        }
        SessionCommand::Gc => {
            let removed = sessions::gc(&ctx.dirs, settings.session_ttl, settings.lock)?;
            crate::say!("removed {} idle session(s)", removed.len());
        }
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
