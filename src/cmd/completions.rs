//! `strata completions bash|zsh|fish` and `strata man`.
//!
//! Completions are clap_complete's dynamic kind: the script asks strata itself (with
//! `STRATA_COMPLETE` set) for candidates, so context names, session ids and setting keys
//! complete from what exists at that moment.

use anyhow::{Context as _, Result};
use clap::CommandFactory;
use clap_complete::env::EnvCompleter;

use crate::cli::Cli;
use crate::shells::Shell;

/// The variable that switches the binary into answering a completion request.
pub const COMPLETE_VAR: &str = "STRATA_COMPLETE";

/// Answer a completion request and exit, when the shell made one; otherwise return.
pub fn answer_if_asked(args: &[std::ffi::OsString]) {
    let asked = clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .try_complete(
            args.iter().cloned(),
            std::env::current_dir().ok().as_deref(),
        );
    match asked {
        Ok(true) => std::process::exit(0),
        Ok(false) => {}
        Err(e) => e.exit(),
    }
}

/// Print the registration script for `shell`.
pub fn run(shell: Shell) -> Result<()> {
    let bin = super::hook::own_path()?;
    let bin = bin.to_string_lossy();
    let mut out = std::io::stdout().lock();
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
    };
    completer
        .write_registration(COMPLETE_VAR, "strata", "strata", &bin, &mut out)
        .context("cannot write the completion script")?;
    Ok(())
}

/// Print the man page.
pub fn man() -> Result<()> {
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .context("cannot write the man page")?;
    Ok(())
}
