//! `strata completions bash|zsh|fish` and `strata man`.
//!
//! Completions are clap_complete's dynamic kind: the script asks strata itself (with
//! `STRATA_COMPLETE` set) for candidates, so context names, session ids and setting keys
//! complete from what exists at that moment.

use anyhow::{Context as _, Result};
use clap::CommandFactory;
use clap_complete::env::EnvCompleter;
use std::io::Write;

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

/// Stands for the binary's path in clap_complete's script, until strata's own quoting puts
/// the real path there (clap_complete's quoting breaks on paths with quotes or `$(…)`).
const PLACEHOLDER: &str = "QZX0QZX1QZX2";

/// The registration script for `shell`, calling the binary at `bin`.
pub fn registration(shell: Shell, bin: &[u8]) -> Result<String> {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
    };
    let mut out = Vec::new();
    completer
        .write_registration(COMPLETE_VAR, "strata", "strata", PLACEHOLDER, &mut out)
        .context("cannot write the completion script")?;
    let text = String::from_utf8(out).context("the completion script is not UTF-8")?;
    Ok(match shell {
        // `"PLACEHOLDER"`: one word of its own.
        Shell::Bash | Shell::Zsh => text
            .replace(&format!("\"{PLACEHOLDER}\""), &shell.quote(bin))
            .replace(PLACEHOLDER, &shell.quote(bin)),
        // Inside a double-quoted string that fish evaluates later: a fish word, escaped for
        // the double quotes around it.
        Shell::Fish => {
            let word = shell.quote(bin);
            let mut escaped = String::with_capacity(word.len());
            for c in word.chars() {
                if matches!(c, '\\' | '"' | '$') {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            text.replace(PLACEHOLDER, &escaped)
        }
    })
}

/// Print the registration script for `shell`.
pub fn run(shell: Shell) -> Result<()> {
    let bin = super::hook::own_path()?;
    let text = registration(
        shell,
        std::os::unix::ffi::OsStrExt::as_bytes(bin.as_os_str()),
    )?;
    std::io::stdout()
        .write_all(text.as_bytes())
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
