//! `strata edit [--local]`: open the nearest `.strata.toml` (or `.strata.local.toml`) in
//! `$VISUAL`/`$EDITOR` and allow what was saved, once it validates. With no file anywhere above
//! the cwd, a new one is created in the cwd.
//!
//! The editor works on a private copy in strata's state directory, never on the file itself:
//! what is validated, hashed and trusted are exactly the bytes the editor saved, and they are
//! installed with the atomic writer (which never writes through a symlink). A change someone
//! makes to the real file while the editor is open cannot slip into the trust record, and an
//! edit that does not validate leaves the file as it was.

use anyhow::{Context as _, Result, bail};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::{Ctx, Run};
use crate::cli::EditArgs;
use crate::display::tilde;
use crate::files;
use crate::layers::DIR_FILES;
use crate::store::trust::{self, Decision, sha256_hex};

const TEMPLATE: &str = "# strata: variables for this directory and everything below it.\n# See `strata --help`; run `strata status` to see what applies.\n\n[env]\n# NAME = \"value\"\n";

/// Edit, validate, allow.
impl Run for EditArgs {
    /// Edit, validate, allow.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let local = self.local;
        let cwd = ctx.cwd()?;
        let name = if local { DIR_FILES[1] } else { DIR_FILES[0] };
        let exists = |p: PathBuf| std::fs::symlink_metadata(&p).is_ok();
        let dir = cwd
            .ancestors()
            .find(|d| DIR_FILES.iter().any(|n| exists(d.join(n))))
            .unwrap_or(&cwd)
            .to_path_buf();
        let file = dir.join(name);
        if let Ok(m) = std::fs::symlink_metadata(&file)
            && m.file_type().is_symlink()
        {
            let to = std::fs::read_link(&file)
                .map(|t| tilde(&t))
                .unwrap_or_default();
            bail!(
                "{} is a symlink to {to}; strata edit does not follow symlinks (edit the file it points to, then run: {})",
                tilde(&file),
                crate::display::command(&["strata", "allow", &tilde(&file)])
            );
        }
        let settings = ctx.base_settings()?;
        let original = match files::read_any(&file, settings.layer_limit)? {
            Some(b) => b,
            None => TEMPLATE.as_bytes().to_vec(),
        };
        let (key, _) = match trust::key_of(&file) {
            Ok(k) => k,
            Err(_) => (
                std::fs::canonicalize(&dir)
                    .with_context(|| format!("cannot resolve {}", tilde(&dir)))?
                    .join(name),
                None,
            ),
        };
        let edited = edit_private(ctx, name, &original, &tilde(&file), |bytes| {
            super::allow::validate(ctx, &file, &key, bytes)
        })?;
        crate::store::write_outside(&ctx.dirs, &file, &edited, settings.lock)?;
        trust::record(
            &ctx.dirs,
            &key,
            &Decision::Allow(sha256_hex(&edited)),
            None,
            settings.lock,
        )?;
        crate::say!("saved and allowed {}", tilde(&file));
        Ok(())
    }
}

/// Let the user edit `original` in their editor, on a private copy (mode 0600 in strata's state
/// directory), until `check` accepts the result; returns the accepted bytes. When the result
/// does not pass, a terminal user is asked whether to edit again; otherwise nothing is saved
/// and the error says so. The copy is removed in every case.
pub fn edit_private(
    ctx: &Ctx,
    name: &str,
    original: &[u8],
    shown: &str,
    check: impl Fn(&[u8]) -> Result<()>,
) -> Result<Vec<u8>> {
    let dir = ctx.dirs.state.join("edit");
    crate::store::ensure_private_dir(&ctx.dirs.state)?;
    crate::store::ensure_private_dir(&dir)?;
    let suffix = Path::new(name)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{}.", name.trim_start_matches('.')))
        .suffix(&suffix)
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a file to edit in {}", tilde(&dir)))?;
    tmp.write_all(original)?;
    tmp.as_file().sync_all()?;
    loop {
        open_editor(tmp.path())?;
        let edited = files::read_any(tmp.path(), files::DOTENV_CAP)?
            .context("the editor removed the file it was editing")?;
        match check(&edited) {
            Ok(()) => return Ok(edited),
            Err(e) => {
                let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
                crate::say!("{e:#}");
                if !interactive || !ask("edit again? [Y/n] ")? {
                    bail!("the edit was not saved; {shown} is unchanged");
                }
            }
        }
    }
}

/// Ask a yes/no question on the terminal; yes unless the answer starts with `n`.
pub fn ask(question: &str) -> Result<bool> {
    let mut err = std::io::stderr();
    write!(err, "strata: {question}")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(!answer.trim_start().to_ascii_lowercase().starts_with('n'))
}

/// Open `file` in `$VISUAL`, else `$EDITOR`, else `vi`, and wait; an editor that fails is an
/// error.
pub fn open_editor(file: &Path) -> Result<()> {
    let (mut cmd, prog) = editor_command(file)?;
    let status = cmd
        .status()
        .with_context(|| format!("cannot start the editor {prog:?} (set VISUAL or EDITOR)"))?;
    editor_status(status)
}

/// The command that opens `file` in `$VISUAL`, else `$EDITOR`, else `vi`, and the program's
/// name for messages.
pub fn editor_command(file: &Path) -> Result<(std::process::Command, String)> {
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
    let mut cmd = std::process::Command::new(prog);
    cmd.args(args).arg(file);
    Ok((cmd, prog.clone()))
}

/// An editor that failed is an error: nothing is saved.
pub fn editor_status(status: std::process::ExitStatus) -> Result<()> {
    if !status.success() {
        bail!("the editor exited with {status}; nothing was saved");
    }
    Ok(())
}
