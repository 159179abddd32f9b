//! `strata status [--json]`: which files apply here (and whether they are trusted), the
//! session, and the variables strata currently manages in this shell.

use crate::store::sessions::Pause;
use anyhow::Result;
use std::ffi::OsStr;

use super::{Ctx, Run, current_env, current_state};
use crate::cli::StatusArgs;
use crate::display::{escape, escape_bytes, tilde};
use crate::layers::FileState;
use crate::state::STATE_VAR;
use std::os::unix::ffi::OsStrExt;

/// Print the status.
impl Run for StatusArgs {
    /// Print the status.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let json = self.json;
        let cwd = ctx.cwd()?;
        let current = current_env();
        let state = current_state(&ctx.dirs, &current);
        let (_, eval) = match ctx.evaluate(&cwd, &mut Default::default()) {
            Ok(r) => (Some(r.0), Ok(r.1)),
            Err(e) => (None, Err(e)),
        };
        let session = std::env::var_os("STRATA_SESSION");
        let managed: Vec<String> = match &state {
            Ok(Some(s)) => s
                .vars
                .iter()
                .map(|v| v.name.clone())
                .chain(s.lists.iter().map(|l| l.name.clone()))
                .collect(),
            _ => Vec::new(),
        };
        let state_text = match (&state, current.get(OsStr::new(STATE_VAR))) {
            (Ok(Some(_)), _) => "hook active",
            (Ok(None), _) => {
                "no hook in this shell (add eval \"$(strata hook bash)\" to your rc file)"
            }
            (Err(_), _) => "STRATA_STATE is corrupt (the next prompt starts over)",
        };
        let paused = eval.as_ref().ok().and_then(|e| e.paused);
        // A file `strata off` leaves out is found, trusted, and not applied.
        let file_state = |f: &crate::layers::FileReport| match (paused, f.state) {
            (Some(Pause::All), FileState::Applied) => "paused",
            (Some(Pause::Dirs), FileState::Applied) if f.kind.is_dir() => "paused",
            (_, s) => state_name(s),
        };
        let aliases = eval.as_ref().ok().map(|e| &e.aliases);
        if json {
            let files: Vec<serde_json::Value> = match &eval {
                Ok(e) => e
                    .files
                    .iter()
                    .map(|f| {
                        serde_json::json!({
                            "path": f.path.to_string_lossy(),
                            "layer": f.kind.label(),
                            "state": file_state(f),
                        })
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            let v = serde_json::json!({
                "cwd": cwd.to_string_lossy(),
                "files": files,
                "error": eval.as_ref().err().map(|e| e.to_string()),
                "session": session.as_ref().map(|s| s.to_string_lossy()),
                "context": eval.as_ref().ok().and_then(|e| e.context.as_ref()).map(|c| {
                    serde_json::json!({
                        "name": c.name,
                        "chosen_by": c.source.to_string(),
                        "protected": c.protected,
                        "until": c.until,
                    })
                }),
                "migrate": eval.as_ref().ok().and_then(|e| e.legacy.as_ref()).map(|l| {
                    serde_json::json!({"file": l.path.to_string_lossy(), "what": l.what, "import": l.import})
                }),
                "paused": paused.map(|p| match p {
                    Pause::All => "all",
                    Pause::Dirs => "dirs",
                }),
                "hook": state_text,
                "managed": managed,
                "aliases": aliases,
                "config_dir": ctx.dirs.config.to_string_lossy(),
                "state_dir": ctx.dirs.state.to_string_lossy(),
                "data_dir": ctx.dirs.data.to_string_lossy(),
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        println!("directory  {}", tilde(&cwd));
        match &eval {
            Ok(e) if e.files.is_empty() => {
                println!("files      none (create a .strata.toml, then strata allow)")
            }
            Ok(e) => {
                println!("files");
                for f in &e.files {
                    println!(
                        "  {:<20} {:<18} {}",
                        file_state(f),
                        f.kind.label(),
                        tilde(&f.path)
                    );
                }
            }
            Err(e) => println!("error      {}", escape(&e.to_string())),
        }
        match paused {
            Some(Pause::All) => println!("paused     everything (strata off); strata on resumes"),
            Some(Pause::Dirs) => {
                println!("paused     directory files (strata off --dir); strata on resumes")
            }
            None => {}
        }
        if let Some(l) = eval.as_ref().ok().and_then(|e| e.legacy.as_ref()) {
            println!(
                "migrate    {} has {} and no .strata.toml; translate it with: {}",
                tilde(l.path.parent().unwrap_or(&cwd)),
                l.what,
                crate::display::command(&l.import.iter().map(String::as_str).collect::<Vec<_>>())
            );
        }
        match eval.as_ref().ok().and_then(|e| e.context.as_ref()) {
            Some(c) => println!(
                "context    {} (chosen by {}){}",
                c.name,
                c.source,
                context_notes(c)
            ),
            None => println!("context    none"),
        }
        match &session {
            Some(s) => println!("session    {}", escape_bytes(s.as_bytes())),
            None => println!("session    none"),
        }
        println!("shell      {state_text}");
        if managed.is_empty() {
            println!("variables  none set by strata in this shell");
        } else {
            println!("variables  {}", managed.join(" "));
        }
        match aliases {
            Some(a) if !a.is_empty() => {
                println!("aliases");
                for (name, argv) in a {
                    println!("  {name} = {}", crate::display::words(argv));
                }
            }
            _ => println!("aliases    none"),
        }
        Ok(())
    }
}

fn state_name(s: FileState) -> &'static str {
    match s {
        FileState::Applied => "applied",
        FileState::Untrusted => "not allowed",
        FileState::Denied => "denied",
        FileState::AboveRoot => "ignored (above root)",
        FileState::Unreadable => "skipped (unreadable)",
    }
}

/// What status adds after a context's name: protected, and until when a `--ttl` choice lasts.
fn context_notes(c: &crate::layers::ActiveContext) -> String {
    let mut notes = String::new();
    if c.protected {
        notes.push_str(", protected");
    }
    if let Some(t) = c.until {
        notes.push_str(&format!(", until {}", super::log::utc(t)));
    }
    notes
}
