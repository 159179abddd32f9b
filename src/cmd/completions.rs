//! `strata completions bash|zsh|fish|elvish|nu|xonsh|tcsh [--install]`.
//!
//! Completions are clap_complete's dynamic kind: the script asks strata itself (with
//! `STRATA_COMPLETE` set) for candidates, so context names, session ids and setting keys
//! complete from what exists at that moment.

use anyhow::{Context as _, Result};
use clap::CommandFactory;
use clap_complete::env::EnvCompleter;
use std::io::Write;

use super::{Ctx, Run};
use crate::cli::CompletionShell;
use crate::cli::{Cli, CompletionsArgs};
use crate::display::tilde;
use crate::shells::Shell;
use std::path::{Path, PathBuf};

/// The variable that switches the binary into answering a completion request.
pub const COMPLETE_VAR: &str = "STRATA_COMPLETE";

/// Answer a completion request and exit, when the shell made one; otherwise return.
pub fn answer_if_asked(args: &[std::ffi::OsString]) {
    if std::env::var_os(COMPLETE_VAR).is_some_and(|v| v == "tcsh") {
        answer_tcsh();
    }
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

/// tcsh's request (clap_complete knows no tcsh): its `complete` runs strata from a backquote
/// with the line so far in `COMMAND_LINE`. Prints the candidates for the word being typed (the
/// last one; an empty one after a space), one per line, and exits.
fn answer_tcsh() -> ! {
    let line = std::env::var("COMMAND_LINE").unwrap_or_default();
    let mut words = shell_words::split(&line)
        .unwrap_or_else(|_| line.split_whitespace().map(str::to_string).collect());
    if words.is_empty() || line.ends_with(char::is_whitespace) {
        words.push(String::new());
    }
    let index = words.len() - 1;
    let mut cmd = Cli::command();
    let args = words.into_iter().map(std::ffi::OsString::from).collect();
    let cwd = std::env::current_dir().ok();
    let found = clap_complete::engine::complete(&mut cmd, args, index, cwd.as_deref());
    let mut out = std::io::stdout().lock();
    for candidate in found.unwrap_or_default() {
        let _ = writeln!(out, "{}", candidate.get_value().to_string_lossy());
    }
    let _ = out.flush();
    std::process::exit(0)
}

/// Stands for the binary's path in clap_complete's script, until strata's own quoting puts
/// the real path there (clap_complete's quoting breaks on paths with quotes or `$(…)`).
const PLACEHOLDER: &str = "QZX0QZX1QZX2";

/// elvish's registration: strata's own, since clap_complete's sets the variable that makes
/// strata answer with `set E:`, for the rest of the shell's life (every strata after the first
/// TAB, the hook's too, would answer as a completion).
const ELVISH: &str = include_str!("../../shell/complete.elv");

/// nushell's and xonsh's: clap_complete has none. They ask strata for elvish's
/// newline-separated answer.
const NU: &str = include_str!("../../shell/complete.nu");
const XONSH: &str = include_str!("../../shell/complete.xsh");

/// tcsh's: its `complete` asks strata, which answers a request clap_complete does not know
/// ([`answer_tcsh`]).
const TCSH: &str = include_str!("../../shell/complete.tcsh");

/// The registration script for `shell`, calling the binary at `bin`.
pub fn registration(shell: CompletionShell, bin: &[u8]) -> Result<String> {
    let completer: &dyn EnvCompleter = match shell {
        CompletionShell::Bash => &clap_complete::env::Bash,
        CompletionShell::Zsh => &clap_complete::env::Zsh,
        CompletionShell::Fish => &clap_complete::env::Fish,
        CompletionShell::Elvish => return own_registration(Shell::Elvish, ELVISH, bin),
        CompletionShell::Nu => return own_registration(Shell::Nu, NU, bin),
        CompletionShell::Xonsh => return own_registration(Shell::Xonsh, XONSH, bin),
        CompletionShell::Tcsh => return own_registration(Shell::Tcsh, TCSH, bin),
    };
    let quote = |bin: &[u8]| shell.shell().quote(bin);
    let mut out = Vec::new();
    completer
        .write_registration(COMPLETE_VAR, "strata", "strata", PLACEHOLDER, &mut out)
        .context("cannot write the completion script")?;
    let text = String::from_utf8(out).context("the completion script is not UTF-8")?;
    Ok(match shell {
        // `"PLACEHOLDER"`: one word of its own.
        CompletionShell::Bash | CompletionShell::Zsh => text
            .replace(&format!("\"{PLACEHOLDER}\""), &quote(bin))
            .replace(PLACEHOLDER, &quote(bin)),
        // Inside a double-quoted string that fish evaluates later: a fish word, escaped for
        // the double quotes around it.
        CompletionShell::Fish => {
            let word = quote(bin);
            let mut escaped = String::with_capacity(word.len());
            for c in word.chars() {
                if matches!(c, '\\' | '"' | '$') {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            text.replace(PLACEHOLDER, &escaped)
        }
        CompletionShell::Elvish
        | CompletionShell::Nu
        | CompletionShell::Xonsh
        | CompletionShell::Tcsh => unreachable!("these registrations are strata's own"),
    })
}

/// A registration of strata's own (`template`, for `shell`), calling the binary at `bin`.
/// tcsh's is its one line of code: `eval` of command output takes one line.
fn own_registration(shell: Shell, template: &str, bin: &[u8]) -> Result<String> {
    let raw_bytes = shell != Shell::Tcsh || crate::shells::tcsh_reads_bytes();
    let bin = shell
        .script_literal(bin, raw_bytes)
        .map_err(|why| anyhow::anyhow!("cannot write the completion script: {why}"))?;
    let bin = String::from_utf8(bin).context("the completion script is not UTF-8")?;
    let mut text = template.replace("@COMPLETE_VAR@", COMPLETE_VAR);
    if shell == Shell::Tcsh {
        text = crate::shells::uncommented(&text);
    }
    Ok(text.replace("@STRATA_BIN@", &bin))
}

/// Where `shell` looks for completion files of its own accord, and what (if anything) the rc
/// file still needs for it.
fn install_place(ctx: &Ctx, shell: CompletionShell) -> Result<(PathBuf, String)> {
    let home = crate::store::home()?;
    let xdg = |var: &str, fallback: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(fallback))
    };
    let _ = ctx;
    Ok(match shell {
        CompletionShell::Bash => {
            let dir = std::env::var_os("BASH_COMPLETION_USER_DIR")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| xdg("XDG_DATA_HOME", ".local/share").join("bash-completion"))
                .join("completions");
            let file = dir.join("strata");
            let loaded = [
                "/usr/share/bash-completion/bash_completion",
                "/etc/bash_completion",
            ]
            .iter()
            .any(|p| Path::new(p).is_file());
            let advice = if loaded {
                "bash-completion loads it at the first TAB on strata (new shells)".to_string()
            } else {
                format!(
                    "bash-completion is not installed, so add to ~/.bashrc: source {}",
                    crate::display::command(&[&tilde(&file)])
                )
            };
            (file, advice)
        }
        CompletionShell::Zsh => {
            let dir = xdg("XDG_DATA_HOME", ".local/share").join("zsh/site-functions");
            let advice = format!(
                "add to ~/.zshrc, before compinit: fpath=({} $fpath); autoload -Uz compinit && compinit",
                crate::display::command(&[&tilde(&dir)])
            );
            (dir.join("_strata"), advice)
        }
        CompletionShell::Fish => {
            let dir = xdg("XDG_CONFIG_HOME", ".config").join("fish/completions");
            (
                dir.join("strata.fish"),
                "fish loads it by itself (new shells)".to_string(),
            )
        }
        // elvish has no directory it loads completions from: a module, loaded by `use`.
        CompletionShell::Elvish => (
            xdg("XDG_CONFIG_HOME", ".config").join("elvish/lib/strata-completions.elv"),
            "add to ~/.config/elvish/rc.elv: use strata-completions".to_string(),
        ),
        // nushell's autoload directory (`$nu.user-autoload-dirs`): read after config.nu.
        CompletionShell::Nu => (
            xdg("XDG_CONFIG_HOME", ".config").join("nushell/autoload/strata-completions.nu"),
            "nushell loads it by itself (new shells)".to_string(),
        ),
        // tcsh has no directory it loads completions from.
        CompletionShell::Tcsh => {
            let file = xdg("XDG_DATA_HOME", ".local/share").join("strata/complete.tcsh");
            let advice = format!(
                "add to ~/.tcshrc: source {}",
                crate::display::command(&[&tilde(&file)])
            );
            (file, advice)
        }
        // $XONSHRC_DIR's default: xonsh reads every file there at start.
        CompletionShell::Xonsh => (
            xdg("XDG_CONFIG_HOME", ".config").join("xonsh/rc.d/strata-completions.xsh"),
            "xonsh loads it by itself (new shells)".to_string(),
        ),
    })
}

/// Print the registration script for `shell`, or install it.
impl Run for CompletionsArgs {
    /// Print the registration script for the shell, or install it.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let (shell, install) = (self.shell, self.install);
        let bin = super::hook::own_path()?;
        let text = registration(
            shell,
            std::os::unix::ffi::OsStrExt::as_bytes(bin.as_os_str()),
        )?;
        if !install {
            std::io::stdout()
                .write_all(text.as_bytes())
                .context("cannot write the completion script")?;
            return Ok(());
        }
        let (file, advice) = install_place(ctx, shell)?;
        write_public(ctx, &file, text.as_bytes())?;
        crate::say!("wrote {}; {advice}", tilde(&file));
        Ok(())
    }
}

/// Write a file meant for other programs (a completion script, a man page): created with its
/// directories (0755, as the user's other data), atomically, never through a symlink.
pub fn write_public(ctx: &Ctx, file: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = file.parent().context("a file needs a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", tilde(dir)))?;
    let settings = ctx.base_settings()?;
    crate::store::write_outside(&ctx.dirs, file, bytes, settings.lock)?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("cannot make {} readable", tilde(file)))?;
    Ok(())
}
