//! `strata prune`: drop trust records of files that no longer exist, idle sessions, expired
//! values (their keyring entries too), stale hook stamps, and what a killed `strata secret
//! edit` left.

use anyhow::Result;

use super::{Ctx, Run};
use crate::cli::PruneArgs;
use crate::display::tilde;
use crate::store::{sessions, trust};

/// Prune everything that is no longer needed.
impl Run for PruneArgs {
    /// Prune everything that is no longer needed.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let settings = ctx.base_settings()?;
        let mut gone = 0;
        for rec in trust::list(&ctx.dirs)? {
            if !rec.path.exists() {
                trust::forget(&ctx.dirs, &rec.path, settings.lock)?;
                crate::say!("forgot {} (deleted)", tilde(&rec.path));
                gone += 1;
            }
        }
        let removed = sessions::gc(&ctx.dirs, settings.session_ttl, settings.lock)?;
        for id in &removed {
            crate::say!("removed idle session {id}");
        }
        let mut pruned = 0;
        for s in sessions::list(&ctx.dirs)? {
            let expired = sessions::load(&ctx.dirs, &s.id)
                .ok()
                .flatten()
                .is_some_and(|v| v.expires.values().any(|&t| t <= crate::clock::now()));
            if expired {
                sessions::modify(&ctx.dirs, &s.id, settings.lock, |_| Ok(()))?;
                pruned += 1;
            }
        }
        // Plaintext a killed `strata secret edit` left behind.
        super::secret::prune_leftovers(ctx);
        crate::say!(
            "pruned {gone} trust record(s), {} idle session(s), expired values in {pruned} session(s)",
            removed.len()
        );
        Ok(())
    }
}
