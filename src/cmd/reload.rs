//! `strata reload`: make every shell re-evaluate at its next prompt.
//!
//! Every evaluation watches the reload marker, and every hook's stamp is dated back to 1970, so
//! each shell runs a full `strata export` at its next prompt.

use anyhow::Result;

use super::{Ctx, Run};
use crate::cli::ReloadArgs;

/// Touch the reload marker and expire every hook's stamp.
impl Run for ReloadArgs {
    /// Touch the reload marker and expire every hook's stamp.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        crate::store::announce(&ctx.dirs)
    }
}
