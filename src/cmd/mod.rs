//! One module per subcommand, plus what they share: the resolved directories, flags, the
//! working directory and the environment without strata's changes.

pub mod allow;
pub mod completions;
pub mod config;
pub mod context;
pub mod edit;
pub mod env;
pub mod exec;
pub mod export;
pub mod hook;
pub mod import;
mod layer_edit;
pub mod log;
pub mod man;
pub mod pause;
pub mod prompt;
pub mod prune;
pub mod reload;
pub mod secret;
pub mod session;
pub mod set;
pub mod status;
pub mod why;

use anyhow::{Context as _, Result, bail};
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command};
use crate::display::tilde;
use crate::env_diff::{Env, base_env};
use crate::layers::{self, Evaluation, Request};
use crate::settings::Settings;
use crate::state::{Corrupt, STATE_VAR, State};
use crate::store::Dirs;
use crate::store::values;

/// An error whose message was already printed; only the exit code is left to give.
#[derive(Debug)]
pub struct Silent(pub i32);

impl std::fmt::Display for Silent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Silent {}

/// What every command gets: global flags resolved once.
#[derive(Clone)]
pub struct Ctx {
    /// strata's directories.
    pub dirs: Dirs,
    /// `-c` flags, plus `-q`/`-v` translated to `log=…`.
    pub flags: Vec<String>,
    /// `--strict`.
    pub strict: bool,
    /// `-C DIR`.
    pub dir: Option<PathBuf>,
    /// `--context NAME`.
    pub context: Option<String>,
    /// A bare `--context`: "the active context" as a scope for `set`/`unset`.
    pub context_scope: bool,
    /// `STRATA_CONTEXT`, when set and not empty.
    pub context_env: Option<String>,
    /// `--session=ID`, else `STRATA_SESSION` when set and not empty.
    pub session: Option<String>,
    /// A bare `--session`: "this session" as a scope.
    pub session_scope: bool,
    /// `--no-color` or `NO_COLOR`.
    pub no_color: bool,
    /// `--reveal`: show secret values in human-facing output.
    pub reveal: bool,
}

impl Ctx {
    /// Build from the environment and the global flags.
    pub fn new(cli: &Cli) -> Result<Ctx> {
        let mut flags = cli.config.clone();
        if cli.quiet {
            flags.push("log=quiet".into());
        }
        if cli.verbose {
            flags.push("log=verbose".into());
        }
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Ctx {
            dirs: Dirs::from_env()?,
            flags,
            strict: cli.strict,
            dir: cli.dir.clone(),
            context: cli.context.clone().filter(|c| !c.is_empty()),
            context_scope: cli.context.as_deref() == Some(""),
            context_env: non_empty("STRATA_CONTEXT"),
            session: cli
                .session
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| non_empty("STRATA_SESSION")),
            session_scope: cli.session.as_deref() == Some(""),
            no_color: cli.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            reveal: cli.reveal,
        })
    }

    /// For `strata export` called by the hook: the environment only, no flags.
    pub fn from_env() -> Result<Ctx> {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Ctx {
            dirs: Dirs::from_env()?,
            flags: Vec::new(),
            strict: false,
            dir: None,
            context: None,
            context_scope: false,
            context_env: non_empty("STRATA_CONTEXT"),
            session: non_empty("STRATA_SESSION"),
            session_scope: false,
            no_color: false,
            reveal: false,
        })
    }

    /// A layer request at `cwd` against `base`, with this invocation's flags.
    pub fn request<'a>(
        &'a self,
        cwd: &'a Path,
        base: &'a Env,
        candidate: Option<layers::Candidate<'a>>,
    ) -> Request<'a> {
        Request {
            dirs: &self.dirs,
            cwd,
            base,
            flags: &self.flags,
            strict: self.strict && candidate.is_none(),
            candidate,
            context_flag: self.context.as_deref(),
            context_env: self.context_env.as_deref(),
            session: self.session.as_deref(),
        }
    }

    /// The directory to work in: `-C DIR`, else the shell's logical `$PWD` when it names the
    /// current directory (so symlinked paths keep their names), else the physical one.
    pub fn cwd(&self) -> Result<PathBuf> {
        if let Some(d) = &self.dir {
            let abs =
                std::path::absolute(d).with_context(|| format!("cannot use -C {}", d.display()))?;
            if !abs.is_dir() {
                bail!("-C {}: not a directory", tilde(&abs));
            }
            return Ok(abs);
        }
        logical_cwd()
    }

    /// Settings from system and global config, environment and flags (no directory files).
    pub fn base_settings(&self) -> Result<Settings> {
        layers::base_settings(&self.dirs, &self.flags)
    }

    /// Evaluate the layers at `cwd` against the environment as it would be without strata.
    pub fn evaluate(&self, cwd: &Path, watch: &mut layers::Watch) -> Result<(Env, Evaluation)> {
        let current = current_env();
        let state = current_state(&self.dirs, &current).ok().flatten();
        let base = base_env(&current, state.as_ref());
        let eval = layers::evaluate(&self.request(cwd, &base, None), watch)?;
        Ok((base, eval))
    }
}

/// The process environment as a map.
pub fn current_env() -> Env {
    std::env::vars_os().collect()
}

/// The decoded `STRATA_STATE` of `env`: `Ok(None)` when absent, `Err` when corrupt or not
/// written by this user's strata.
pub fn current_state(dirs: &Dirs, env: &Env) -> Result<Option<State>, Corrupt> {
    match env.get(OsStr::new(STATE_VAR)) {
        None => Ok(None),
        Some(raw) if raw.is_empty() => Ok(None),
        Some(raw) => State::decode(raw, &values::key(dirs), &values::Stored(dirs)).map(Some),
    }
}

/// `$PWD` if it is an absolute path to the current directory, else `getcwd()`.
pub fn logical_cwd() -> Result<PathBuf> {
    let pwd = std::env::var_os("PWD").map(PathBuf::from);
    // The usual case, one syscall: $PWD is the physical path.
    if let Some(physical) = crate::layers::physical_cwd()
        && pwd.as_deref() == Some(physical)
    {
        return Ok(physical.to_path_buf());
    }
    let dot = std::fs::metadata(".").map_err(|_| {
        anyhow::anyhow!("the current directory no longer exists (cd somewhere else)")
    })?;
    if let Some(pwd) = pwd
        && pwd.is_absolute()
        && let Ok(m) = std::fs::metadata(&pwd)
        && m.dev() == dot.dev()
        && m.ino() == dot.ino()
    {
        return Ok(pwd);
    }
    std::env::current_dir().context("cannot determine the current directory")
}

/// A subcommand: its parsed arguments (the clap struct, whole), run with what every command
/// gets.
pub trait Run {
    /// Do what the subcommand does.
    fn run(&self, ctx: &Ctx) -> Result<()>;
}

impl Run for Command {
    fn run(&self, ctx: &Ctx) -> Result<()> {
        match self {
            Command::Hook(a) => a.run(ctx),
            Command::Export(a) => a.run(ctx),
            Command::Status(a) => a.run(ctx),
            Command::Why(a) => a.run(ctx),
            Command::Env(a) => a.run(ctx),
            Command::Exec(a) => a.run(ctx),
            Command::Allow(a) => a.run(ctx),
            Command::Deny(a) => a.run(ctx),
            Command::Trust(a) => a.run(ctx),
            Command::Edit(a) => a.run(ctx),
            Command::Reload(a) => a.run(ctx),
            Command::Off(a) => a.run(ctx),
            Command::On(a) => a.run(ctx),
            Command::Context(a) => a.run(ctx),
            Command::Use(a) => a.run(ctx),
            Command::Set(a) => a.run(ctx),
            Command::Unset(a) => a.run(ctx),
            Command::Get(a) => a.run(ctx),
            Command::Session(a) => a.run(ctx),
            Command::Config(a) => a.run(ctx),
            Command::Completions(a) => a.run(ctx),
            Command::Import(a) => a.run(ctx),
            Command::Man(a) => a.run(ctx),
            Command::Prune(a) => a.run(ctx),
            Command::Prompt(a) => a.run(ctx),
            Command::Secret(a) => a.run(ctx),
            Command::Log(a) => a.run(ctx),
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::new(&cli)?;
    cli.command.run(&ctx)
}
