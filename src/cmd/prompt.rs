//! `strata prompt [--format F] [--shell bash|zsh|fish|plain]`: the prompt segment.
//!
//! When `STRATA_STATE` is current for this directory (the no-op check of `export`), the facts
//! come from it and no config is read; otherwise the layers are evaluated.

use anyhow::Result;
use std::os::unix::ffi::OsStrExt;

use super::{Ctx, Run};
use crate::cli::{PromptArgs, PromptShell};
use crate::prompt::{Markers, render};
use crate::settings::{ColorMode, DEFAULT_PROMPT_FORMAT};
use crate::state::{self, STATE_VAR, State};
use crate::store::values;

/// Print the segment.
impl Run for PromptArgs {
    /// Print the segment.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let (format, shell) = (self.format.as_deref(), self.shell);
        let cwd = ctx.cwd()?;
        let session = ctx.session.clone().unwrap_or_default();
        let from_state = std::env::var_os(STATE_VAR).filter(|raw| {
            ctx.context.is_none()
                && state::unchanged(
                    raw,
                    cwd.as_os_str().as_bytes(),
                    ctx.context_env.as_deref().unwrap_or("").as_bytes(),
                    session.as_bytes(),
                    None,
                )
        });
        let decoded = from_state.and_then(|raw| {
            State::decode(&raw, &values::key(&ctx.dirs), &values::Stored(&ctx.dirs)).ok()
        });
        let (info, color_mode) = match decoded {
            Some(state) => (state.prompt, ColorMode::Auto),
            None => {
                let (_, eval) = ctx.evaluate(&cwd, &mut Default::default())?;
                (super::export::prompt_info(&eval), eval.settings.color)
            }
        };
        let format = match (format, info.format.as_str()) {
            (Some(f), _) => f.to_string(),
            (None, "") => DEFAULT_PROMPT_FORMAT.to_string(),
            (None, f) => f.to_string(),
        };
        let markers = match shell {
            PromptShell::Bash => Some(Markers::Bash),
            PromptShell::Zsh => Some(Markers::Zsh),
            PromptShell::Fish => Some(Markers::Raw),
            PromptShell::Plain => None,
        };
        let colour = color_mode != ColorMode::Never && !ctx.no_color;
        // For a shell's prompt, no newline: fish prints a function's output as it is.
        let text = render(&format, &info, &session, markers, colour);
        let end = if markers.is_none() { "\n" } else { "" };
        print!("{text}{end}");
        Ok(())
    }
}
