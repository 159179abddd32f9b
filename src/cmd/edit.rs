//! `strata edit [--local]`: open the nearest `.strata.toml` (or `.strata.local.toml`) in
//! `$VISUAL`/`$EDITOR`, validate it when the editor exits, and allow it if it is valid.
//! With no file anywhere above the cwd, a new one is created in the cwd.

use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};

use super::Ctx;
use crate::display::tilde;
use crate::layers::DIR_FILES;

const TEMPLATE: &str = "# strata: variables for this directory and everything below it.\n# See `strata --help`; run `strata status` to see what applies.\n\n[env]\n# NAME = \"value\"\n";

/// Edit, validate, allow.
pub fn run(ctx: &Ctx, local: bool) -> Result<()> {
    let cwd = ctx.cwd()?;
    let name = if local { DIR_FILES[1] } else { DIR_FILES[0] };
    let dir = cwd
        .ancestors()
        .find(|d| DIR_FILES.iter().any(|n| d.join(n).is_file()))
        .unwrap_or(&cwd)
        .to_path_buf();
    let file: PathBuf = dir.join(name);
    if !file.exists() {
        std::fs::write(&file, TEMPLATE)
            .with_context(|| format!("cannot create {}", tilde(&file)))?;
    }
    open_editor(&file)?;
    super::allow::allow_file(ctx, &file, "fix it and run strata edit again")
}

/// Open `file` in `$VISUAL`, else `$EDITOR`, else `vi`, and wait; an editor that fails is an
/// error.
pub fn open_editor(file: &Path) -> Result<()> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".into());
    let words = shell_words::split(&editor)
        .with_context(|| format!("cannot parse the editor command {editor:?}"))?;
    let Some((prog, args)) = words.split_first() else {
        bail!("the editor command is empty")
    };
    let status = std::process::Command::new(prog)
        .args(args)
        .arg(file)
        .status()
        .with_context(|| format!("cannot start the editor {prog:?} (set VISUAL or EDITOR)"))?;
    if !status.success() {
        bail!(
            "the editor exited with {status}; nothing was saved from {}",
            tilde(file)
        );
    }
    Ok(())
}
