//! `strata hook bash|zsh|fish [--env-file PATH]`: print the hook script for an rc file.
//!
//! The scripts live in `shell/` as real shell files; placeholders are filled here: the absolute
//! path of this binary, the directory for the per-shell stamp files, a fresh session id for
//! a shell that has none, and the hook as it is until the first export (`shell/fresh.*`).
//! `--env-file PATH` also writes, at PATH, the shell's start-up file for non-interactive shells
//! (`shell/env.bash` for `BASH_ENV`, `shell/env.zsh` as a `.zshenv`, `shell/env.fish` for
//! fish's `conf.d`), which applies the agent cache ([`crate::agent`]).

use anyhow::{Context as _, Result};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use super::{Ctx, Run};
use crate::cli::HookArgs;
use crate::shells::Shell;
use crate::store::sessions::new_id;

const BASH: &str = include_str!("../../shell/hook.bash");
const ZSH: &str = include_str!("../../shell/hook.zsh");
const FISH: &str = include_str!("../../shell/hook.fish");
const ENV_BASH: &str = include_str!("../../shell/env.bash");
const ENV_ZSH: &str = include_str!("../../shell/env.zsh");
const ENV_FISH: &str = include_str!("../../shell/env.fish");

/// The hook for `shell`, with its placeholders filled in.
pub fn render(shell: Shell, bin: &[u8], stamp_dir: &[u8], session: &str) -> String {
    let template = match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
    };
    // The hook before the first export is the one every export writes, without a test.
    let mut initial = crate::shells::Script::new(shell);
    initial.define_fresh(None);
    template
        .replace("@INITIAL_HOOK@\n", &initial.finish())
        .replace("@STRATA_BIN@", &shell.quote(bin))
        .replace("@STAMP_DIR@", &shell.quote(stamp_dir))
        .replace("@SESSION@", &shell.quote(session.as_bytes()))
}

/// This binary's path. When it was replaced while running (an upgrade), Linux reports
/// `PATH (deleted)`; the new binary at PATH is the one the hook should call.
pub fn own_path() -> Result<std::path::PathBuf> {
    let bin = std::env::current_exe().context("cannot find the strata binary's own path")?;
    if let Some(s) = bin.to_str()
        && let Some(orig) = s.strip_suffix(" (deleted)")
        && Path::new(orig).is_file()
    {
        return Ok(orig.into());
    }
    Ok(bin)
}

/// Print the hook (and write the BASH_ENV file when asked).
impl Run for HookArgs {
    /// Print the hook (and write the BASH_ENV file when asked).
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let (shell, env_file) = (self.shell, self.env_file.as_deref());
        let bin = own_path()?;
        let bin = bin.as_os_str().as_bytes();
        if let Some(path) = env_file {
            write_env_file(ctx, shell, path, bin)?;
        }
        let text = render(
            shell,
            bin,
            ctx.dirs.stamp_dir().as_os_str().as_bytes(),
            &new_id(),
        );
        std::io::stdout()
            .write_all(text.as_bytes())
            .context("cannot write the hook")?;
        Ok(())
    }
}

/// The env file for `shell`: its template with the binary and the agent index filled in, and
/// no comment lines but the first (a shell reads every byte it sources, at every start).
pub fn render_env_file(shell: Shell, bin: &[u8], index: &[u8]) -> String {
    let template = match shell {
        Shell::Bash => ENV_BASH,
        Shell::Zsh => ENV_ZSH,
        Shell::Fish => ENV_FISH,
    };
    let mut out = String::with_capacity(template.len());
    for (i, line) in template.lines().enumerate() {
        if i > 0 && line.starts_with('#') {
            continue;
        }
        out.push_str(
            &line
                .replace("@STRATA_BIN@", &shell.quote(bin))
                .replace("@INDEX@", &shell.quote(index)),
        );
        out.push('\n');
    }
    out
}

/// What the user does with the env file written at `path`, for `shell`.
fn env_file_hint(shell: Shell, path: &Path) -> String {
    let shown = crate::display::tilde(path);
    let dir = path.parent().map(crate::display::tilde).unwrap_or_default();
    match shell {
        Shell::Bash => format!(
            "wrote {shown}: export BASH_ENV={shown} where non-interactive bash should apply strata"
        ),
        Shell::Zsh if path.file_name().is_some_and(|n| n == ".zshenv") => format!(
            "wrote {shown}: export ZDOTDIR={dir} where non-interactive zsh should apply strata (zsh then reads this .zshenv instead of ~/.zshenv)"
        ),
        Shell::Zsh => format!(
            "wrote {shown}: name it .zshenv and export ZDOTDIR=its directory, or source it from ~/.zshenv"
        ),
        Shell::Fish
            if path
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "conf.d") =>
        {
            format!("wrote {shown}: every non-interactive fish reads it")
        }
        Shell::Fish => format!(
            "wrote {shown}: source it from config.fish, or write it into ~/.config/fish/conf.d/"
        ),
    }
}

fn write_env_file(ctx: &Ctx, shell: Shell, path: &Path, bin: &[u8]) -> Result<()> {
    let index = ctx.dirs.agent_index(shell);
    let text = render_env_file(shell, bin, index.as_os_str().as_bytes());
    // Like every file strata writes: temp file (0600) + rename, so a running `bash -c` never
    // sources half of it, and never through a symlink.
    let settings = ctx.base_settings()?;
    if let Some(dir) = std::path::absolute(path)?.parent() {
        // Created like strata's own directories: the file says which binary runs in every shell.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", crate::display::tilde(dir)))?;
    }
    crate::store::write_outside(&ctx.dirs, path, text.as_bytes(), settings.lock)?;
    crate::say!("{}", env_file_hint(shell, path));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_quoted_for_each_shell() {
        let bash = render(Shell::Bash, b"/opt/my tools/strata", b"/s/stamps", "ab12");
        assert!(
            bash.contains("__strata_bin='/opt/my tools/strata'"),
            "{bash}"
        );
        assert!(bash.contains("__strata_stamp=/s/stamps/$$"), "{bash}");
        assert!(bash.contains("export STRATA_SESSION=ab12"), "{bash}");
        let fish = render(Shell::Fish, b"/opt/it's/strata", b"/s", "ab12");
        assert!(
            fish.contains("set -g __strata_bin '/opt/it\\'s/strata'"),
            "{fish}"
        );
        for sh in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = render(sh, b"/b", b"/s", "x");
            assert!(
                !text.contains("@STRATA_BIN@") && !text.contains("@STAMP_DIR@"),
                "{sh:?}"
            );
            assert!(!text.contains("@SESSION@"), "{sh:?}");
        }
    }
}
