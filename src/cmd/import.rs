//! `strata import dotenv FILE`, `strata import direnv [.envrc]` and `strata import mise
//! [mise.toml]`: write the equivalent
//! `.strata.toml` beside the file, listing every line that could not be translated.

use anyhow::{Context as _, Result, bail};
use std::path::Path;

use super::{Ctx, Run};
use crate::cli::{ImportArgs, ImportSource};
use crate::display::tilde;
use crate::import::{Translation, from_dotenv, from_envrc, from_mise};
use crate::layers::DIR_FILES;

impl Run for ImportArgs {
    /// Translate and write.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        translate(ctx, &self.source)
    }
}

fn translate(ctx: &Ctx, source: &ImportSource) -> Result<()> {
    let cwd = ctx.cwd()?;
    let (translation, dir, force) = match source {
        ImportSource::Dotenv { file, force } => {
            let file = cwd.join(file);
            let dir = file.parent().unwrap_or(&cwd).to_path_buf();
            (from_dotenv(&file, &dir)?, dir, *force)
        }
        ImportSource::Direnv { file, force } => {
            let file = cwd.join(file.clone().unwrap_or_else(|| ".envrc".into()));
            let bytes = crate::files::read_any(&file, crate::files::LAYER_CAP)?
                .with_context(|| format!("{} does not exist", tilde(&file)))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", tilde(&file)))?;
            let dir = file.parent().unwrap_or(&cwd).to_path_buf();
            (from_envrc(&text), dir, *force)
        }
        ImportSource::Mise { file, force } => {
            let file = match file {
                Some(f) => cwd.join(f),
                None if !cwd.join("mise.toml").exists() && cwd.join(".mise.toml").exists() => {
                    cwd.join(".mise.toml")
                }
                None => cwd.join("mise.toml"),
            };
            let bytes = crate::files::read_any(&file, crate::files::LAYER_CAP)?
                .with_context(|| format!("{} does not exist", tilde(&file)))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", tilde(&file)))?;
            let dir = file.parent().unwrap_or(&cwd).to_path_buf();
            let t = from_mise(&text).map_err(|e| anyhow::anyhow!("{}: {e}", tilde(&file)))?;
            (t, dir, *force)
        }
    };
    write(ctx, &dir, &translation, force)
}

fn write(ctx: &Ctx, dir: &Path, t: &Translation, force: bool) -> Result<()> {
    let target = dir.join(DIR_FILES[0]);
    if std::fs::symlink_metadata(&target).is_ok() && !force {
        bail!(
            "{} already exists; use --force to replace it",
            tilde(&target)
        );
    }
    crate::layers::file::parse(&target, crate::layers::file::Kind::Dir, t.toml.as_bytes())
        .context("the translation does not validate (please report this)")?;
    let settings = ctx.base_settings()?;
    crate::store::write_outside(&ctx.dirs, &target, t.toml.as_bytes(), settings.lock)?;
    crate::say!("wrote {}", tilde(&target));
    for note in &t.notes {
        crate::say!("note: {note}");
    }
    for (line, text, reason) in &t.untranslated {
        crate::say!("line {line} not translated ({reason}): {text}");
    }
    crate::say!(
        "review it, then run: {}",
        crate::display::command(&["strata", "allow", &tilde(&target)])
    );
    Ok(())
}
