//! `strata secret edit FILE`: edit an age-encrypted dotenv file in place.
//!
//! The plaintext only ever exists in a private directory of its own (mode 0700, on the
//! `$XDG_RUNTIME_DIR` tmpfs when there is one, else in strata's state directory), where the
//! editor's own swap and backup files land too. That directory is wiped when the edit ends,
//! however it ends; if strata itself is killed, the next `strata secret edit` (or `strata
//! prune`) removes what a dead process left. While the editor runs, Ctrl-C is the editor's
//! alone: strata ignores it, to live and clean up.
//!
//! Who can read the result is decided by `[secrets] recipients` of the `.strata.toml` beside
//! the file, and only while that file is allowed: someone who could slip a recipient of theirs
//! into an unreviewed file would otherwise receive everything encrypted next.

use anyhow::{Context as _, Result, bail};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::{Ctx, Run};
use crate::cli::{SecretArgs, SecretCommand};
use crate::display::tilde;
use crate::files::{self, Own};
use crate::layers::file::{Kind, parse};
use crate::secrets::age::{self, Identities};
use crate::store::trust::{self, Standing};

const TEMPLATE: &[u8] =
    b"# strata secret edit: dotenv lines, encrypted when you save.\n# NAME=value\n";

impl Run for SecretArgs {
    fn run(&self, ctx: &Ctx) -> Result<()> {
        match &self.command {
            SecretCommand::Edit { file } => edit(ctx, file),
        }
    }
}

fn edit(ctx: &Ctx, file: &Path) -> Result<()> {
    let cwd = ctx.cwd()?;
    let file = cwd.join(file);
    if std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!(
            "{} is a symlink; strata secret edit does not follow symlinks (edit the file it points to)",
            tilde(&file)
        );
    }
    let settings = ctx.base_settings()?;
    let recipients = recipients(ctx, &file, &settings.trust_paths)?;
    let (plaintext, armored) = match files::read(&file, files::DOTENV_CAP, Own::Any)
        .map_err(|p| anyhow::anyhow!(p.message(&file)))?
    {
        Some(c) => {
            let ids = Identities::read_all(&age::identity_files(&ctx.dirs, &settings));
            let plain = age::decrypt(&c.bytes, &ids, files::DOTENV_CAP).map_err(|e| {
                let note = ids
                    .notes
                    .first()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                anyhow::anyhow!("cannot decrypt {}: {e}{note}", tilde(&file))
            })?;
            (plain, age::is_armored(&c.bytes))
        }
        // A new file: armored, so that it diffs and reviews as text.
        None => (TEMPLATE.to_vec(), true),
    };
    let scratch = Scratch::new(ctx, &file)?;
    scratch.write(&plaintext)?;
    let edited = loop {
        let (mut cmd, prog) = super::edit::editor_command(&scratch.file)?;
        // Spawned first: the editor must not inherit strata's ignoring of Ctrl-C.
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start the editor {prog:?} (set VISUAL or EDITOR)"))?;
        let quiet = IgnoreInterrupts::new();
        let status = child.wait();
        drop(quiet);
        super::edit::editor_status(status?)?;
        let bytes = files::read_any(&scratch.file, files::DOTENV_CAP)?
            .context("the editor removed the file it was editing")?;
        match crate::layers::dotenv::parse(&file, &bytes, &|_| None) {
            Ok(_) => break bytes,
            Err(e) => {
                crate::say!("{e:#}");
                let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
                if !interactive || !super::edit::ask("edit again? [Y/n] ")? {
                    bail!("the edit was not saved; {} is unchanged", tilde(&file));
                }
            }
        }
    };
    if edited == plaintext && file.exists() {
        crate::say!("{} is unchanged", tilde(&file));
        return Ok(());
    }
    let ciphertext = age::encrypt(&edited, &recipients, armored)?;
    drop(scratch);
    crate::store::write_outside(&ctx.dirs, &file, &ciphertext, settings.lock)?;
    crate::say!(
        "encrypted {} to {} recipient{}",
        tilde(&file),
        recipients.len(),
        if recipients.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

/// The recipients `[secrets] recipients` of the `.strata.toml` beside `file` lists, when that
/// file is allowed as it is.
fn recipients(
    ctx: &Ctx,
    file: &Path,
    trust_paths: &[PathBuf],
) -> Result<Vec<Box<dyn ::age::Recipient + Send>>> {
    let dir = file.parent().unwrap_or(Path::new("/"));
    let layer = dir.join(crate::layers::DIR_FILES[0]);
    let hint = format!(
        "list who can read it in {}: [secrets] recipients = [\"age1…\", \"ssh-ed25519 …\"]",
        tilde(&layer)
    );
    let Some(bytes) = files::read_any(&layer, files::LAYER_CAP)? else {
        bail!("{} has no recipients: {hint}", tilde(file));
    };
    let (key, target) =
        trust::key_of(&layer).with_context(|| format!("cannot resolve {}", tilde(&layer)))?;
    if trust::standing(&ctx.dirs, &key, target.as_deref(), &bytes, trust_paths)?
        != Standing::Trusted
    {
        bail!(
            "{} is not allowed, and its recipients decide who can read what you encrypt: review it, then run: {}",
            tilde(&layer),
            crate::display::command(&["strata", "allow", &tilde(&layer)])
        );
    }
    let listed = parse(&layer, Kind::Dir, &bytes)?.secrets.recipients;
    if listed.is_empty() {
        bail!("{} has no recipients: {hint}", tilde(file));
    }
    listed
        .iter()
        .map(|r| {
            age::parse_recipient(&r.text)
                .with_context(|| format!("{}:{}", tilde(&layer), r.pos.line))
        })
        .collect()
}

/// The private directory one edit's plaintext lives in, wiped when dropped.
struct Scratch {
    dir: PathBuf,
    file: PathBuf,
}

impl Scratch {
    fn new(ctx: &Ctx, file: &Path) -> Result<Scratch> {
        let root = scratch_root(ctx)?;
        remove_leftovers(&root);
        let dir = tempfile::Builder::new()
            .prefix(&format!("secret.{}.", std::process::id()))
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(&root)
            .with_context(|| format!("cannot create a private directory in {}", tilde(&root)))?
            .keep();
        // The editor shows the name: the file's own, without `.age`.
        let name = file
            .file_stem()
            .filter(|_| age::is_age_file(file))
            .or(file.file_name())
            .unwrap_or_else(|| std::ffi::OsStr::new("secret.env"));
        Ok(Scratch {
            file: dir.join(name),
            dir,
        })
    }

    fn write(&self, bytes: &[u8]) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.file)
            .with_context(|| format!("cannot create {}", tilde(&self.file)))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        wipe(&self.dir);
    }
}

/// Where scratch directories go: `$XDG_RUNTIME_DIR/strata` (a tmpfs, emptied at logout) when
/// it is an absolute path, else strata's state directory.
fn scratch_root(ctx: &Ctx) -> Result<PathBuf> {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir());
    let root = match runtime {
        Some(r) => r.join("strata"),
        None => {
            crate::store::ensure_private_dir(&ctx.dirs.state)?;
            ctx.dirs.state.join("secret-edit")
        }
    };
    crate::store::ensure_private_dir(&root)?;
    Ok(root)
}

/// Remove scratch directories whose strata is gone (killed before it could clean up).
fn remove_leftovers(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("secret."))
            .and_then(|n| n.split('.').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = rustix::process::Pid::from_raw(pid)
            .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
        if !alive {
            wipe(&e.path());
        }
    }
}

/// Remove every leftover scratch directory of strata's (for `strata prune`).
pub fn prune_leftovers(ctx: &Ctx) {
    if let Ok(root) = scratch_root(ctx) {
        remove_leftovers(&root);
    }
}

/// Overwrite the regular files in `dir` with zeros, then remove it.
fn wipe(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_file())
                && let Ok(len) = e.metadata().map(|m| m.len())
                && let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(e.path())
            {
                let _ = f.write_all(&vec![0u8; usize::try_from(len).unwrap_or(0)]);
                let _ = f.sync_all();
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// While the editor runs, Ctrl-C and Ctrl-\ are the editor's: strata must live to clean up.
struct IgnoreInterrupts;

impl IgnoreInterrupts {
    fn new() -> IgnoreInterrupts {
        // SAFETY: setting a signal's disposition to "ignore" is always sound.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        }
        IgnoreInterrupts
    }
}

impl Drop for IgnoreInterrupts {
    fn drop(&mut self) {
        // SAFETY: restoring the default disposition is always sound.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
        }
    }
}
