//! `strata hook bash|zsh|fish [--env-file PATH]`: print the hook script for an rc file.
//!
//! The scripts live in `shell/` as real shell files; placeholders are filled here: the absolute
//! path of this binary, the directory for the per-shell stamp files, a fresh session id for
//! a shell that has none, and the hook as it is until the first export (`shell/fresh.*`). `--env-file` also writes `shell/env.bash` for `BASH_ENV`.

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
const ENV_FILE: &str = include_str!("../../shell/env.bash");

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
            write_env_file(ctx, path, bin)?;
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

fn write_env_file(ctx: &Ctx, path: &Path, bin: &[u8]) -> Result<()> {
    let text = ENV_FILE.replace("@STRATA_BIN@", &Shell::Bash.quote(bin));
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
    crate::store::write_outside(&ctx.dirs, path, text.as_bytes(), settings.lock)
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
