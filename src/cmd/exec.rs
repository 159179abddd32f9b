//! `strata exec [-C DIR] -- CMD ARGS…`: run a command with the resolved environment.
//!
//! The command runs in DIR (or the current directory) with the environment strata would give
//! a shell there, computed from the environment without strata's own changes. Untrusted files
//! are skipped with a warning, or refused with `--strict`. Exec-only secrets (`[secrets]
//! exec_only`, `strata set --secret --exec-only`) are given to this command only.

use anyhow::{Result, bail};

use std::os::unix::process::CommandExt;

use super::{Ctx, Run};
use crate::cli::ExecArgs;
use crate::env_diff::apply;
use crate::state::STATE_VAR;

/// Replace this process with `command`.
impl Run for ExecArgs {
    /// Replace this process with the command.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let command: &[std::ffi::OsString] = &self.command;
        let cwd = ctx.cwd()?;
        let (base, eval) = ctx.evaluate(&cwd, &mut Default::default())?;
        for w in &eval.warnings {
            crate::say!("{w}");
        }
        let applied = apply(&base, eval.target.clone(), None, &base);
        let Some((program, args)) = command.split_first() else {
            bail!("no command given: strata exec -- CMD ARGS…");
        };
        let mut cmd = std::process::Command::new(program);
        cmd.args(args)
            .current_dir(&cwd)
            .env_clear()
            .envs(&base)
            .env_remove(STATE_VAR);
        for (name, value) in &applied.values {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        // Exec-only secrets reach this command and nothing else.
        for (name, value) in &eval.exec_only {
            cmd.env(name, value);
        }
        cmd.env("PWD", &cwd);
        let err = cmd.exec();
        // As shells do: 127 when there is no such command, 126 when it cannot be executed.
        let code = match err.kind() {
            std::io::ErrorKind::NotFound => 127,
            std::io::ErrorKind::PermissionDenied => 126,
            _ => 126,
        };
        crate::say!(
            "cannot run {}: {err}",
            crate::display::escape_bytes(std::os::unix::ffi::OsStrExt::as_bytes(
                program.as_os_str()
            ))
        );
        Err(super::Silent(code).into())
    }
}
