//! Which context is active, and what chose it: `--context`, `STRATA_CONTEXT`, the session's
//! choice, a `context` setting (usually a directory's), the global selection. The one place
//! this precedence is written.

use anyhow::{Result, anyhow, bail};

use super::file::{self, Kind, LayerFile};
use super::{Request, Watch};
use crate::files::{self as read, Own};
use crate::names::validate_name;
use crate::settings::{Origin, Settings};
use crate::store::contexts;
use crate::store::sessions::Session;

/// What chose the active context, highest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextSource {
    /// `--context NAME`.
    Flag,
    /// `STRATA_CONTEXT`.
    Env,
    /// `strata context use --session`.
    Session,
    /// A `context` setting, in a file (usually a directory's) or a `-c` flag.
    Setting(Origin),
    /// The global selection, `strata context use`.
    Global,
}

impl std::fmt::Display for ContextSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContextSource::Flag => f.write_str("--context flag"),
            ContextSource::Env => f.write_str("STRATA_CONTEXT"),
            ContextSource::Session => f.write_str("this session (strata context use --session)"),
            ContextSource::Setting(o) => write!(f, "context setting at {o}"),
            ContextSource::Global => f.write_str("global selection (strata context use)"),
        }
    }
}

/// The active context.
#[derive(Debug, Clone)]
pub struct ActiveContext {
    /// Its name.
    pub name: String,
    /// What chose it.
    pub source: ContextSource,
    /// Its prompt colour.
    pub color: Option<String>,
    /// Its file says `protected = true`.
    pub protected: bool,
    /// When the choice ends (`strata use --ttl`), unix seconds: from then on another context
    /// is active.
    pub until: Option<i64>,
}

impl ActiveContext {
    /// `name`, chosen by `source` until `until`; colour and protection are its file's to say.
    fn chosen(name: String, source: ContextSource, until: Option<i64>) -> ActiveContext {
        ActiveContext {
            name,
            source,
            color: None,
            protected: false,
            until,
        }
    }
}

/// The context chosen for an evaluation, with its file.
pub(super) struct Chosen {
    /// The active context and its file, if one is chosen.
    pub context: Option<(ActiveContext, LayerFile)>,
    /// What applying the directory files' settings (to find a `context` setting) warned about.
    pub warnings: Vec<String>,
}

/// Choose the context: the directory files' settings (with the user's below them and the
/// flags above) may name one, the session and the environment may override that; then read
/// its file.
pub(super) fn choose(
    req: &Request<'_>,
    session: Option<&Session>,
    user: &Settings,
    dir_layers: &[LayerFile],
    watch: &mut Watch,
) -> Result<Chosen> {
    let mut choosing = user.clone();
    let mut warnings = Vec::new();
    for f in dir_layers {
        warnings.extend(choosing.apply_file(f.kind, &f.path, &f.settings)?);
    }
    choosing.apply_flags(req.flags)?;
    let context = match choose_context(req, session, &choosing) {
        Some(mut active) => {
            let f = read_context(req, &active.name, &active.source, watch)?;
            active.color = f.color.clone();
            active.protected = f.protected;
            Some((active, f))
        }
        None => None,
    };
    Ok(Chosen { context, warnings })
}

/// The active context and what chose it, highest first: `--context`, `STRATA_CONTEXT`, the
/// session's choice, a `context` setting (of a directory file, usually), the global selection.
/// A session's or the global choice made with `--ttl` is in force until it ends, then the one
/// it went back to. Colour and protection are left for the context's file to fill in.
pub fn choose_context(
    req: &Request<'_>,
    session: Option<&Session>,
    choosing: &Settings,
) -> Option<ActiveContext> {
    let now = crate::clock::now();
    if let Some(c) = req.context_flag {
        return Some(ActiveContext::chosen(c.into(), ContextSource::Flag, None));
    }
    if let Some(c) = req.context_env {
        return Some(ActiveContext::chosen(c.into(), ContextSource::Env, None));
    }
    if let Some(choice) = session.and_then(|s| s.selection().at(now).cloned())
        && let Some(name) = choice.name
    {
        return Some(ActiveContext::chosen(
            name,
            ContextSource::Session,
            choice.until,
        ));
    }
    if let Some(c) = choosing.context.clone() {
        let origin = choosing
            .origin("context")
            .cloned()
            .unwrap_or(Origin::Flag("-c context".into()));
        return Some(ActiveContext::chosen(
            c,
            ContextSource::Setting(origin),
            None,
        ));
    }
    let choice = contexts::current_choice(req.dirs)?;
    Some(ActiveContext::chosen(
        choice.name?,
        ContextSource::Global,
        choice.until,
    ))
}

/// Read the file of the chosen context.
pub(super) fn read_context(
    req: &Request<'_>,
    name: &str,
    source: &ContextSource,
    watch: &mut Watch,
) -> Result<LayerFile> {
    validate_name("context", name).map_err(|e| anyhow!("{e} (from {source})"))?;
    crate::store::check_if_present(&req.dirs.contexts_dir())?;
    let path = req.dirs.context_file(name);
    let bytes = watch
        .read(&path, read::LAYER_CAP, Own::Mine)
        .map_err(|p| anyhow!(p.message(&path)))?;
    let Some(bytes) = bytes else {
        bail!(
            "context {name:?} does not exist (chosen by {source}); create it with: strata context create {name} (or see: strata context list)"
        );
    };
    file::parse(&path, Kind::Context, &bytes)
}
