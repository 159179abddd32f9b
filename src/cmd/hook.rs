//! `strata hook bash|zsh|fish`: print the hook script for an rc file.
//!
//! The scripts live in `shell/` as real shell files; two placeholders are filled here: the
//! absolute path of this binary and the directory for the per-shell stamp files.

use anyhow::{Context as _, Result};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use super::Ctx;
use crate::shells::Shell;

const BASH: &str = include_str!("../../shell/hook.bash");
const ZSH: &str = include_str!("../../shell/hook.zsh");
const FISH: &str = include_str!("../../shell/hook.fish");

/// The hook for `shell`, with `bin` and `stamp_dir` filled in.
pub fn render(shell: Shell, bin: &[u8], stamp_dir: &[u8]) -> String {
    let template = match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
    };
    template
        .replace("@STRATA_BIN@", &shell.quote(bin))
        .replace("@STAMP_DIR@", &shell.quote(stamp_dir))
}

/// Print the hook.
pub fn run(ctx: &Ctx, shell: Shell) -> Result<()> {
    let bin = std::env::current_exe().context("cannot find the strata binary's own path")?;
    let text = render(
        shell,
        bin.as_os_str().as_bytes(),
        ctx.dirs.stamp_dir().as_os_str().as_bytes(),
    );
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("cannot write the hook")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_quoted_for_each_shell() {
        let bash = render(Shell::Bash, b"/opt/my tools/strata", b"/s/stamps");
        assert!(
            bash.contains("__strata_bin='/opt/my tools/strata'"),
            "{bash}"
        );
        assert!(bash.contains("__strata_stamp=/s/stamps/$$"), "{bash}");
        let fish = render(Shell::Fish, b"/opt/it's/strata", b"/s");
        assert!(
            fish.contains("set -g __strata_bin '/opt/it\\'s/strata'"),
            "{fish}"
        );
        for sh in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = render(sh, b"/b", b"/s");
            assert!(
                !text.contains("@STRATA_BIN@") && !text.contains("@STAMP_DIR@"),
                "{sh:?}"
            );
        }
    }
}
