//! `strata off [--dir]` and `strata on`: pause strata in this session and resume it.
//!
//! The pause is a field of the session file, so every shell of the session (the hook sets one per
//! terminal; the shells and agents started from it inherit it) sees it at its next prompt, and
//! the agent path too: writing the session file expires every stamp, and the next evaluation
//! leaves the paused layers out, which restores what they had changed.

use anyhow::{Result, bail};

use super::{Ctx, Run};
use crate::cli::{OffArgs, OnArgs};
use crate::store::sessions::{self, Pause};

/// The session `strata off`/`on` acts on.
fn session(ctx: &Ctx) -> Result<&str> {
    match &ctx.session {
        Some(id) => Ok(id),
        None => bail!(
            "no session is named: run this in a shell with the strata hook (it sets STRATA_SESSION), or name one with --session=ID"
        ),
    }
}

/// Pause: the session's shells leave the paused layers out from their next prompt.
impl Run for OffArgs {
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let id = session(ctx)?;
        let lock = ctx.base_settings()?.lock;
        let what = if self.in_dir { Pause::Dirs } else { Pause::All };
        sessions::modify(&ctx.dirs, id, lock, |s| {
            s.paused = Some(what);
            Ok(())
        })?;
        match what {
            Pause::All => crate::say!(
                "paused: session {id} is back to its environment without strata at the next prompt; strata on resumes"
            ),
            Pause::Dirs => crate::say!(
                "paused the directory files for session {id} (contexts and the session still apply); strata on resumes"
            ),
        }
        Ok(())
    }
}

/// Resume after a pause.
impl Run for OnArgs {
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let id = session(ctx)?;
        let lock = ctx.base_settings()?.lock;
        let was = sessions::modify(&ctx.dirs, id, lock, |s| Ok(s.paused.take()))?;
        match was {
            Some(_) => {
                crate::say!("resumed: session {id} applies everything again at the next prompt")
            }
            None => crate::say!("session {id} was not paused"),
        }
        Ok(())
    }
}
