//! `strata reload`: make every shell re-evaluate at its next prompt.
//!
//! Every evaluation watches the reload marker, so rewriting it changes what every shell's
//! hook sees, and each one runs a full `strata export` at its next prompt.

use anyhow::Result;

use super::Ctx;
use crate::store::{ensure_private_dir, write_atomic};

/// Rewrite the reload marker.
pub fn run(ctx: &Ctx) -> Result<()> {
    let settings = ctx.base_settings()?;
    ensure_private_dir(&ctx.dirs.state)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    write_atomic(
        &ctx.dirs.reload_marker(),
        format!("{now}\n").as_bytes(),
        settings.lock,
    )?;
    Ok(())
}
