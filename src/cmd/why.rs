//! `strata why VAR`: every layer that sets VAR, in order, with file and line, and which won.

use anyhow::Result;
use std::ffi::OsStr;

use super::Ctx;
use crate::display::tilde;
use crate::env_diff::apply;
use crate::layers::{Action, FileState};

/// Explain one variable.
pub fn run(ctx: &Ctx, var: &str, json: bool) -> Result<()> {
    let cwd = ctx.cwd()?;
    let (base, eval) = ctx.evaluate(&cwd, &mut Default::default())?;
    let steps: Vec<_> = eval.assignments.iter().filter(|a| a.var == var).collect();
    let applied = apply(&base, eval.target.clone(), None, &base);
    let result = applied
        .values
        .get(var)
        .cloned()
        .flatten()
        .or_else(|| base.get(OsStr::new(var)).cloned());
    let winner = steps
        .iter()
        .rposition(|a| !matches!(a.action, Action::Prepend(_) | Action::Append(_)));
    let skipped: Vec<_> = eval
        .files
        .iter()
        .filter(|f| f.state != FileState::Applied)
        .collect();
    if json {
        let rows: Vec<serde_json::Value> = steps
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let (what, value) = describe(&a.action);
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
            "value": result.as_ref().map(|v| v.to_string_lossy()),
            "from_shell": base.get(OsStr::new(var)).map(|v| v.to_string_lossy()),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if steps.is_empty() {
        match base.get(OsStr::new(var)) {
            Some(v) => println!(
                "{var} is not set by strata here; the shell has {var}={}",
                v.to_string_lossy()
            ),
            None => println!("{var} is not set by strata here, nor by the shell"),
        }
    } else {
        if let Some(v) = base.get(OsStr::new(var)) {
            println!("  shell      {var}={}", v.to_string_lossy());
        }
        for (i, a) in steps.iter().enumerate() {
            let (what, value) = describe(&a.action);
            let mark = if Some(i) == winner { "wins" } else { "    " };
            println!(
                "{mark} {}:{}  {what} {}",
                tilde(&a.path),
                a.pos.line,
                value.unwrap_or_default()
            );
        }
        match &result {
            Some(v) => println!("=> {var}={}", v.to_string_lossy()),
            None => println!("=> {var} is unset"),
        }
    }
    for f in skipped {
        println!(
            "(skipped {}: {})",
            tilde(&f.path),
            match f.state {
                FileState::Denied => "denied",
                FileState::AboveRoot => "above a root = true file",
                _ => "not allowed; run strata allow",
            }
        );
    }
    Ok(())
}

fn describe(a: &Action) -> (&'static str, Option<String>) {
    match a {
        Action::Set(v) => ("sets", Some(v.to_string_lossy().into_owned())),
        Action::Dotenv(v) => ("sets (dotenv)", Some(v.to_string_lossy().into_owned())),
        Action::Unset => ("unsets", None),
        Action::Session(v) => ("sets (session)", Some(v.to_string_lossy().into_owned())),
        Action::Prepend(v) => ("prepends", Some(v.to_string_lossy().into_owned())),
        Action::Append(v) => ("appends", Some(v.to_string_lossy().into_owned())),
    }
}
