//! `strata import dotenv FILE` and `strata import direnv [.envrc]`: write the equivalent
//! `.strata.toml` beside the file, listing every line that could not be translated.

use anyhow::{Context as _, Result, bail};
use std::path::Path;

use super::Ctx;
use crate::cli::ImportSource;
use crate::display::tilde;
use crate::import::{Translation, from_dotenv, from_envrc};
use crate::layers::DIR_FILES;

/// Translate and write.
pub fn run(ctx: &Ctx, source: ImportSource) -> Result<()> {
    let cwd = ctx.cwd()?;
    let (translation, dir, force) = match source {
        ImportSource::Dotenv { file, force } => {
            let file = cwd.join(file);
            let dir = file.parent().unwrap_or(&cwd).to_path_buf();
            (from_dotenv(&file, &dir)?, dir, force)
        }
        ImportSource::Direnv { file, force } => {
            let file = cwd.join(file.unwrap_or_else(|| ".envrc".into()));
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", tilde(&file)))?;
            let dir = file.parent().unwrap_or(&cwd).to_path_buf();
            (from_envrc(&text), dir, force)
        }
    };
    write(&dir, &translation, force)
}

fn write(dir: &Path, t: &Translation, force: bool) -> Result<()> {
    let target = dir.join(DIR_FILES[0]);
    if target.exists() && !force {
        bail!(
            "{} already exists; use --force to replace it",
            tilde(&target)
        );
    }
    crate::layers::file::parse(&target, crate::layers::file::Kind::Dir, t.toml.as_bytes())
        .context("the translation does not validate (please report this)")?;
    std::fs::write(&target, &t.toml).with_context(|| format!("cannot write {}", tilde(&target)))?;
    eprintln!("strata: wrote {}", tilde(&target));
    for note in &t.notes {
        eprintln!("strata: note: {note}");
    }
    for (line, text, reason) in &t.untranslated {
        eprintln!("strata: line {line} not translated ({reason}): {text}");
    }
    eprintln!(
        "strata: review it, then run 'strata allow {}'",
        tilde(&target)
    );
    Ok(())
}
