//! `strata why VAR`: every layer that sets VAR, in order, with file and line, and which won.

use anyhow::Result;
use std::ffi::OsStr;

use super::{Ctx, Run};
use crate::cli::WhyArgs;
use crate::display::{escape_bytes, tilde};
use crate::env_diff::apply;
use crate::layers::{Action, FileState};
use std::os::unix::ffi::OsStrExt;

/// Explain one variable.
impl Run for WhyArgs {
    /// Explain one variable.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let (var, json) = (self.var.as_str(), self.json);
        let cwd = ctx.cwd()?;
        let (base, eval) = ctx.evaluate(&cwd, &mut Default::default())?;
        let mut steps: Vec<_> = eval
            .assignments
            .iter()
            .filter(|a| a.var == var)
            .cloned()
            .collect();
        // Session values carry no position from the merge: find their line in the file.
        for a in &mut steps {
            if a.pos.line == 0 {
                a.pos.line = crate::store::sessions::line_of(&a.path, &a.var).unwrap_or(0);
            }
        }
        let applied = apply(&base, eval.target.clone(), None, &base);
        // What the shell ends up with: strata's value (`None` when a file unsets it), else the
        // shell's own.
        let from_exec = eval.exec_only.iter().find(|(n, _)| n == var);
        let result = match (from_exec, applied.values.get(var)) {
            (Some((_, v)), _) => Some(v.clone()),
            (None, Some(v)) => v.clone(),
            (None, None) => base.get(OsStr::new(var)).cloned(),
        };
        let winner = steps.iter().rposition(|a| {
            !matches!(
                a.action,
                Action::Prepend(_) | Action::Append(_) | Action::Remove(_)
            )
        });
        // A secret's values are masked, every step of it, unless --reveal.
        let masked = eval.is_secret(var) && !ctx.reveal;
        let show = |v: &std::ffi::OsString| -> String {
            if masked {
                crate::secrets::MASK.to_string()
            } else {
                escape_bytes(v.as_bytes())
            }
        };
        let exec_only = from_exec.is_some();
        let skipped: Vec<_> = eval
            .files
            .iter()
            .filter(|f| f.state != FileState::Applied)
            .collect();
        // `why NAME` also explains an alias of that name.
        let alias_steps: Vec<_> = eval.alias_steps.iter().filter(|a| a.name == var).collect();
        let alias = eval.aliases.get(var);
        if json {
            let alias_rows: Vec<serde_json::Value> = alias_steps
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "file": a.path.to_string_lossy(),
                        "line": a.pos.line,
                        "words": a.argv,
                    })
                })
                .collect();
            let rows: Vec<serde_json::Value> = steps
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let (what, value) = describe(&a.action, &show);
                    serde_json::json!({
                        "file": a.path.to_string_lossy(),
                        "line": a.pos.line,
                        "action": what,
                        "value": value,
                        "wins": Some(i) == winner,
                    })
                })
                .collect();
            let v = serde_json::json!({
                "var": var,
                "steps": rows,
                "value": result.as_ref().map(|v| if masked { crate::secrets::MASK.into() } else { v.to_string_lossy() }),
                "from_shell": base.get(OsStr::new(var)).map(|v| if masked { crate::secrets::MASK.into() } else { v.to_string_lossy() }),
                "secret": eval.is_secret(var),
                "exec_only": exec_only,
                "alias": (!alias_steps.is_empty()).then(|| serde_json::json!({
                    "steps": alias_rows,
                    "words": alias,
                })),
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        if steps.is_empty() && !alias_steps.is_empty() && !base.contains_key(OsStr::new(var)) {
            // Only an alias by that name: nothing to say of a variable.
        } else if steps.is_empty() {
            match base.get(OsStr::new(var)) {
                Some(v) => println!(
                    "{var} is not set by strata here; the shell has {var}={}",
                    show(v)
                ),
                None => println!("{var} is not set by strata here, nor by the shell"),
            }
        } else {
            if let Some(v) = base.get(OsStr::new(var)) {
                println!("  shell      {var}={}", show(v));
            }
            for (i, a) in steps.iter().enumerate() {
                let (what, value) = describe(&a.action, &show);
                let mark = if Some(i) == winner { "wins" } else { "    " };
                let at = match a.pos.line {
                    0 => tilde(&a.path),
                    line => format!("{}:{line}", tilde(&a.path)),
                };
                println!("{mark} {at}  {what} {}", value.unwrap_or_default());
            }
            match &result {
                Some(v) if exec_only => println!(
                    "=> {var}={} for strata exec only (a secret kept out of the shell)",
                    show(v)
                ),
                Some(v) if masked => {
                    println!("=> {var}={} (a secret; --reveal shows it)", show(v))
                }
                Some(v) => println!("=> {var}={}", show(v)),
                None => println!("=> {var} is unset"),
            }
        }
        for (i, a) in alias_steps.iter().enumerate() {
            let mark = if i + 1 == alias_steps.len() {
                "wins"
            } else {
                "    "
            };
            let what = match &a.argv {
                Some(argv) => format!("alias {var} = {}", crate::display::words(argv)),
                None => format!("no alias {var} (false)"),
            };
            println!("{mark} {}:{}  {what}", tilde(&a.path), a.pos.line);
        }
        if !alias_steps.is_empty() {
            match alias {
                Some(argv) => println!("=> alias {var} = {}", crate::display::words(argv)),
                None => println!("=> no alias {var}"),
            }
        }
        for f in skipped {
            println!(
                "(skipped {}: {})",
                tilde(&f.path),
                match f.state {
                    FileState::Denied => "denied",
                    FileState::AboveRoot => "above a root = true file",
                    FileState::Unreadable => "not a regular file, too large, or unreadable",
                    _ => "not allowed; run strata allow",
                }
            );
        }
        Ok(())
    }
}

fn describe(
    a: &Action,
    show: &dyn Fn(&std::ffi::OsString) -> String,
) -> (&'static str, Option<String>) {
    let shown = |v: &std::ffi::OsString| Some(show(v));
    match a {
        Action::Set(v) => ("sets", shown(v)),
        Action::Dotenv(v) => ("sets (dotenv)", shown(v)),
        Action::Unset => ("unsets", None),
        Action::Session(v) => ("sets (session)", shown(v)),
        Action::Prepend(v) => ("prepends", shown(v)),
        Action::Append(v) => ("appends", shown(v)),
        Action::Remove(v) => ("removes", shown(v)),
    }
}
