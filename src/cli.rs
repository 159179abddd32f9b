//! The command line, as clap definitions only. Behaviour lives in `cmd/`.

use clap::{Parser, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use std::ffi::OsString;
use std::path::PathBuf;

use crate::shells::Shell;

/// strata keeps your shell's environment in sync with `.strata.toml` files: variables appear
/// when you `cd` into a project and are restored when you leave.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Run as if strata was started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Override one setting for this run, like `git -c` (e.g. -c log=quiet).
    #[arg(short = 'c', global = true, value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// Print nothing but errors (same as -c log=quiet).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Say more about what strata evaluates (same as -c log=verbose).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Treat an untrusted directory file as an error instead of skipping it.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Use this context for this run (above STRATA_CONTEXT and every other choice); for
    /// `set`/`unset`, the context to edit, and a bare `--context` means the active one.
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        num_args = 0..=1,
        default_missing_value = "",
        add = ArgValueCandidates::new(context_names)
    )]
    pub context: Option<String>,
    /// Use session ID for this run (instead of STRATA_SESSION); bare `--session` means this
    /// session, as a scope for `set`/`unset` and `context use`.
    #[arg(
        long,
        global = true,
        value_name = "ID",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "",
        add = ArgValueCandidates::new(session_ids)
    )]
    pub session: Option<String>,
    /// No colours (also NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Show secret values where strata otherwise masks them (why, status, session show,
    /// context show, messages).
    #[arg(long, global = true)]
    pub reveal: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of `strata export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// bash code.
    Bash,
    /// zsh code.
    Zsh,
    /// fish code.
    Fish,
    /// A JSON document for the nushell hook: {"set": {…}, "unset": […]}.
    #[value(alias = "nushell")]
    Nu,
    /// elvish code.
    Elvish,
    /// A JSON document for the xonsh hook: {"set": {…}, "unset": […]}, one character per byte.
    Xonsh,
    /// tcsh code (with --hook, written to a file the hook sources).
    Tcsh,
    /// A JSON object of the changes: {"NAME": "value"}, null to unset.
    Json,
}

impl ExportFormat {
    /// The shell this format is for (`None` for JSON).
    pub fn shell(self) -> Option<Shell> {
        Some(match self {
            ExportFormat::Bash => Shell::Bash,
            ExportFormat::Zsh => Shell::Zsh,
            ExportFormat::Fish => Shell::Fish,
            ExportFormat::Nu => Shell::Nu,
            ExportFormat::Elvish => Shell::Elvish,
            ExportFormat::Xonsh => Shell::Xonsh,
            ExportFormat::Tcsh => Shell::Tcsh,
            ExportFormat::Json => return None,
        })
    }
}

impl From<Shell> for ExportFormat {
    fn from(shell: Shell) -> ExportFormat {
        match shell {
            Shell::Bash => ExportFormat::Bash,
            Shell::Zsh => ExportFormat::Zsh,
            Shell::Fish => ExportFormat::Fish,
            Shell::Nu => ExportFormat::Nu,
            Shell::Elvish => ExportFormat::Elvish,
            Shell::Xonsh => ExportFormat::Xonsh,
            Shell::Tcsh => ExportFormat::Tcsh,
        }
    }
}

/// The shells `strata completions` writes for (clap_complete's dynamic completions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
    /// elvish.
    Elvish,
    /// nushell.
    Nu,
    /// xonsh.
    Xonsh,
    /// tcsh.
    Tcsh,
}

impl CompletionShell {
    /// The shell whose quoting the registration script uses.
    pub fn shell(self) -> Shell {
        match self {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
            CompletionShell::Elvish => Shell::Elvish,
            CompletionShell::Nu => Shell::Nu,
            CompletionShell::Xonsh => Shell::Xonsh,
            CompletionShell::Tcsh => Shell::Tcsh,
        }
    }
}

/// Output formats of `strata env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvFormat {
    /// `export NAME='value'` lines for sh, bash and zsh.
    Shell,
    /// One flat JSON object, null for a variable strata unsets.
    Json,
    /// `NAME="value"` lines (variables strata unsets are listed as comments).
    Dotenv,
    /// GitHub Actions: appends to $GITHUB_ENV and $GITHUB_PATH for the job's later steps
    /// (secret values masked with ::add-mask:: on stdout).
    Gha,
    /// A GitLab CI dotenv report (artifacts:reports:dotenv), on stdout.
    Gitlab,
    /// A systemd EnvironmentFile=, on stdout.
    Systemd,
    /// A file for docker run --env-file, on stdout.
    Docker,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the shell hook; put `eval "$(strata hook bash)"` in your rc file (the README has
    /// the line for each shell).
    Hook(HookArgs),
    /// Print the code that moves the current environment to the target one.
    Export(ExportArgs),
    /// Show which files are loaded (and trusted or not) and what strata sets.
    Status(StatusArgs),
    /// Show every layer that sets VAR, in order, and which one won.
    Why(WhyArgs),
    /// Print what strata sets at a directory, without a shell.
    Env(EnvArgs),
    /// Run a command with the environment strata resolves (for scripts, CI, agents).
    Exec(ExecArgs),
    /// Trust a directory file (default: the files of the nearest directory that has one).
    Allow(AllowArgs),
    /// Block a directory file until it is allowed again.
    Deny(DenyArgs),
    /// Inspect trust decisions.
    Trust(TrustArgs),
    /// Open the nearest `.strata.toml` in $VISUAL/$EDITOR, validate it, and allow it.
    Edit(EditArgs),
    /// Make every shell re-evaluate at its next prompt.
    Reload(ReloadArgs),
    /// Pause strata in this session: its shells go back to what they had before strata changed
    /// anything, and stay there until `strata on` (--dir: drop only the directory files).
    Off(OffArgs),
    /// Resume after `strata off`.
    On(OnArgs),
    /// Named contexts: switch every terminal (or just this one) to a set of variables.
    Context(ContextArgs),
    /// Shortcut for `strata context use NAME` (`-` for the previous one; no name: list them,
    /// or pick one with fzf).
    Use(UseArgs),
    /// Persist variables: in this session (default), a context, the nearest directory file, or
    /// the global config. With --context NAME, that context; with a bare --context, the active one.
    Set(SetArgs),
    /// Remove variables set with `strata set` from a scope (same scopes as set).
    Unset(UnsetArgs),
    /// Print the resolved value of one variable here (exit 1 if strata and the shell leave it unset).
    Get(GetArgs),
    /// Per-session state.
    Session(SessionArgs),
    /// Tool settings: get, set, list, validate — each value with where it came from.
    Config(ConfigArgs),
    /// Print shell completions (contexts, sessions and setting keys complete live), or install
    /// them where the shell looks for them.
    Completions(CompletionsArgs),
    /// Write the equivalent .strata.toml for a .env or a direnv .envrc.
    Import(ImportArgs),
    /// Print a man page (roff), or install them all: strata man --install.
    Man(ManArgs),
    /// Drop trust records of deleted files, idle sessions and expired values.
    Prune(PruneArgs),
    /// Print the prompt segment, e.g. `prod · app`.
    Prompt(PromptArgs),
    /// Files encrypted with age: edit one in place, never leaving its plaintext behind.
    Secret(SecretArgs),
    /// Show the history of changes: context switches, set and unset (names, never values),
    /// allow and deny, sessions ended; when, where, and from which session.
    Log(LogArgs),
}

/// `strata hook`: Print the shell hook; put `eval "$(strata hook bash)"` in your rc file.
#[derive(Debug, clap::Args)]
pub struct HookArgs {
    /// bash, zsh, fish, nu, elvish, xonsh or tcsh.
    pub shell: Shell,
    /// Also write, at PATH (mode 0600), the start-up file of non-interactive shells: for bash
    /// a file for BASH_ENV, for zsh a .zshenv (export ZDOTDIR=its directory), for fish a file
    /// for its conf.d. Every `bash -c`, `zsh -c` or `fish -c` that reads it sees the session's
    /// state and the directory layers of its cwd, starting no process when nothing changed.
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
}

/// `strata export`: Print the code that moves the current environment to the target one.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// bash, zsh, fish, nu, elvish, xonsh, tcsh or json.
    pub format: ExportFormat,
    /// Called from the hook: also print the hook's bookkeeping variables.
    #[arg(long, hide = true)]
    pub hook: bool,
    /// The hook's stamp file, dated to when this evaluation started.
    #[arg(long, hide = true, value_name = "FILE")]
    pub stamp: Option<PathBuf>,
    /// Called from an env file (`strata hook SHELL --env-file`): also cache the result for the
    /// next shell started fresh.
    #[arg(long, hide = true, conflicts_with = "hook")]
    pub agent: bool,
}

/// `strata status`: Show which files are loaded (and trusted or not) and what strata sets.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `strata why`: Show every layer that sets VAR, in order, and which one won.
#[derive(Debug, clap::Args)]
pub struct WhyArgs {
    /// The variable (or alias).
    pub var: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `strata env`: Print what strata sets at a directory, without a shell.
#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "shell")]
    pub format: EnvFormat,
}

/// `strata exec`: Run a command with the environment strata resolves (for scripts, CI, agents).
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<OsString>,
}

/// `strata allow`: Trust a directory file (default: the files of the nearest directory that has one).
#[derive(Debug, clap::Args)]
pub struct AllowArgs {
    /// A `.strata.toml`/`.strata.local.toml`, or a directory holding them.
    pub path: Option<PathBuf>,
}

/// `strata deny`: Block a directory file until it is allowed again.
#[derive(Debug, clap::Args)]
pub struct DenyArgs {
    /// A `.strata.toml`/`.strata.local.toml`, or a directory holding them.
    pub path: Option<PathBuf>,
}

/// `strata trust`: Inspect trust decisions.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    #[command(subcommand)]
    pub command: TrustCommand,
}

/// `strata secret`: Files encrypted with age.
#[derive(Debug, clap::Args)]
pub struct SecretArgs {
    #[command(subcommand)]
    pub command: SecretCommand,
}

/// `strata secret` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Decrypt FILE (e.g. .env.age) to a private temporary file, open it in $VISUAL/$EDITOR,
    /// then encrypt what you saved to the recipients in `[secrets] recipients` of the
    /// `.strata.toml` beside it. A FILE that does not exist yet is created.
    Edit {
        /// The encrypted dotenv file.
        file: PathBuf,
    },
}

/// `strata edit`: Open the nearest `.strata.toml` in $VISUAL/$EDITOR, validate it, and allow it.
#[derive(Debug, clap::Args)]
pub struct EditArgs {
    /// Edit `.strata.local.toml` instead.
    #[arg(long)]
    pub local: bool,
}

/// `strata reload`.
#[derive(Debug, clap::Args)]
pub struct ReloadArgs {}

/// `strata off`.
#[derive(Debug, clap::Args)]
pub struct OffArgs {
    /// Drop only the directory files; contexts, the global config and the session still apply.
    #[arg(long = "dir", id = "in_dir")]
    pub in_dir: bool,
}

/// `strata on`.
#[derive(Debug, clap::Args)]
pub struct OnArgs {}

/// `strata context`: Named contexts: switch every terminal (or just this one) to a set of variables.
#[derive(Debug, clap::Args)]
pub struct ContextArgs {
    #[command(subcommand)]
    pub command: ContextCommand,
}

/// `strata use`: Shortcut for `strata context use NAME` (`-` for the previous one).
#[derive(Debug, clap::Args)]
pub struct UseArgs {
    /// The context, or `-` for the previous one; none: list the contexts (with fzf on PATH
    /// and a terminal, pick one).
    #[arg(add = ArgValueCandidates::new(use_names))]
    pub name: Option<String>,
    #[command(flatten)]
    pub how: UseOptions,
}

/// How `strata use` and `strata context use` switch.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct UseOptions {
    /// Go back to the context in force before after DUR (30s, 10m, 2h, 1d): every terminal
    /// that switched does at its next prompt after that.
    #[arg(long, value_name = "DUR")]
    pub ttl: Option<String>,
    /// Switch to a protected context without asking (needed where there is no terminal to
    /// ask on).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Switch every terminal, also where the use.scope setting makes `strata use` switch
    /// only this one.
    #[arg(long)]
    pub global: bool,
}

/// `strata log`: the history of changes.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Only changes of these kinds (repeat it, or separate them with commas).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KIND")]
    pub kind: Vec<crate::store::history::Kind>,
    /// Only changes made in the last DUR (30m, 2h, 7d).
    #[arg(long, value_name = "DUR")]
    pub since: Option<String>,
    /// Only the last N changes.
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `strata get`: Print the resolved value of one variable here (exit 1 if strata and the shell leave it unset).
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The variable.
    pub name: String,
}

/// `strata session`: Per-session state.
#[derive(Debug, clap::Args)]
pub struct SessionArgs {
    #[command(subcommand)]
    pub command: SessionCommand,
}

/// `strata config`: Tool settings: get, set, list, validate — each value with where it came from.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// `strata completions`: Print shell completions (contexts, sessions and setting keys complete live), or install
/// them where the shell looks for them.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh or fish.
    pub shell: CompletionShell,
    /// Write them where the shell finds them (under $XDG_DATA_HOME or $XDG_CONFIG_HOME) and
    /// say what, if anything, the rc file needs.
    #[arg(long)]
    pub install: bool,
}

/// `strata import`: Write the equivalent .strata.toml for a .env or a direnv .envrc.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

/// `strata man`: Print a man page (roff), or install them all: strata man --install.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// A subcommand's page (`set`, `context`, `context-use`…) instead of strata(1).
    pub page: Option<String>,
    /// Write strata(1) and a page per subcommand under $XDG_DATA_HOME/man/man1.
    #[arg(long, conflicts_with = "page")]
    pub install: bool,
}

/// `strata prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {}

/// `strata prompt`: Print the prompt segment, e.g. `prod · app`.
#[derive(Debug, clap::Args)]
pub struct PromptArgs {
    /// Placeholders: {context}, {session}, {dir}, {untrusted}.
    #[arg(long)]
    pub format: Option<String>,
    /// Wrap colours in this shell's non-printing markers.
    #[arg(long, value_enum, default_value = "plain")]
    pub shell: PromptShell,
}

/// `strata set`.
#[derive(Debug, Clone, clap::Args)]
pub struct SetArgs {
    /// Edit the nearest .strata.toml (or create one here).
    #[arg(long = "dir", id = "in_dir", conflicts_with = "global")]
    pub in_dir: bool,
    /// Edit the global config.
    #[arg(long)]
    pub global: bool,
    /// Expire the values after this long (session scope only): 30s, 10m, 2h, 1d.
    #[arg(long, value_name = "DUR")]
    pub ttl: Option<String>,
    /// Put each VALUE in front of the list NAME (PATH, MANPATH…) instead of replacing it.
    #[arg(long, conflicts_with = "append")]
    pub prepend: bool,
    /// Put each VALUE at the back of the list NAME instead of replacing it.
    #[arg(long)]
    pub append: bool,
    /// Replace a list variable (PATH, *PATH) outright, dropping all its entries.
    #[arg(long)]
    pub force: bool,
    /// Keep NAME's value in the OS keyring, never in a file: give NAME alone, the value comes
    /// from standard input (not echoed on a terminal), never from the command line.
    #[arg(long, conflicts_with_all = ["prepend", "append"])]
    pub secret: bool,
    /// With --secret: the value reaches `strata exec` only, never the shell's environment.
    #[arg(long, requires = "secret")]
    pub exec_only: bool,
    /// NAME=VALUE pairs (NAME alone with --secret).
    #[arg(value_name = "NAME=VALUE")]
    pub assignments: Vec<OsString>,
}

/// `strata unset`.
#[derive(Debug, Clone, clap::Args)]
pub struct UnsetArgs {
    /// Edit the nearest .strata.toml.
    #[arg(long = "dir", id = "in_dir", conflicts_with = "global")]
    pub in_dir: bool,
    /// Edit the global config.
    #[arg(long)]
    pub global: bool,
    /// Variable names.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
}

/// Completion candidates: context names.
fn context_names() -> Vec<CompletionCandidate> {
    crate::store::Dirs::from_env()
        .ok()
        .and_then(|d| crate::store::contexts::list(&d).ok())
        .unwrap_or_default()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// Completion candidates for `use`: `-` (the previous context), then every context name.
fn use_names() -> Vec<CompletionCandidate> {
    let previous = CompletionCandidate::new("-").help(Some("the previous context".into()));
    std::iter::once(previous).chain(context_names()).collect()
}

/// Completion candidates: session ids.
fn session_ids() -> Vec<CompletionCandidate> {
    crate::store::Dirs::from_env()
        .ok()
        .and_then(|d| crate::store::sessions::list(&d).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|s| CompletionCandidate::new(s.id))
        .collect()
}

/// Completion candidates: setting keys.
fn setting_keys() -> Vec<CompletionCandidate> {
    crate::settings::keys()
        .map(CompletionCandidate::new)
        .collect()
}

/// Where the prompt segment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PromptShell {
    /// `\[ \]` around colour codes.
    Bash,
    /// `%{ %}` around colour codes.
    Zsh,
    /// Raw colour codes.
    Fish,
    /// No markers.
    Plain,
}

/// `strata context …`.
#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// List contexts, the active one marked (and coloured on a terminal).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the active context (-v: and what chose it).
    Current,
    /// Switch every terminal to NAME at its next prompt (`-`: the previous one); with a bare
    /// --session (or use.scope = "session"), only this terminal's session. No NAME: list the
    /// contexts, or pick one with fzf.
    Use {
        /// The context, or `-` for the previous one.
        #[arg(add = ArgValueCandidates::new(use_names))]
        name: Option<String>,
        #[command(flatten)]
        how: UseOptions,
    },
    /// Create a context.
    Create {
        /// Its name.
        name: String,
        /// Start from a copy of this context.
        #[arg(long, value_name = "CONTEXT")]
        from: Option<String>,
        /// Set NAME=VALUE in it (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<OsString>,
    },
    /// Print a context's file.
    Show {
        /// The context (default: the active one).
        #[arg(add = ArgValueCandidates::new(context_names))]
        name: Option<String>,
    },
    /// Set variables in a context.
    Set {
        /// The context.
        #[arg(add = ArgValueCandidates::new(context_names))]
        name: String,
        /// NAME=VALUE pairs.
        #[arg(required = true, value_name = "NAME=VALUE")]
        assignments: Vec<OsString>,
    },
    /// Remove variables from a context.
    Unset {
        /// The context.
        #[arg(add = ArgValueCandidates::new(context_names))]
        name: String,
        /// Variable names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Rename a context (refused for the active one without --force).
    Rename {
        /// Current name.
        #[arg(add = ArgValueCandidates::new(context_names))]
        old: String,
        /// New name.
        new: String,
        /// Rename even if it is active (the selection follows it).
        #[arg(long)]
        force: bool,
    },
    /// Delete a context (refused for the active one without --force).
    Delete {
        /// The context.
        #[arg(add = ArgValueCandidates::new(context_names))]
        name: String,
        /// Delete even if it is active.
        #[arg(long)]
        force: bool,
    },
    /// Write a context as a self-contained TOML file (stdout, or -o FILE).
    Export {
        /// The context.
        #[arg(add = ArgValueCandidates::new(context_names))]
        name: String,
        /// Write here instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Create a context from an exported file (`-` for stdin).
    Import {
        /// The file.
        file: PathBuf,
        /// The name (default: the file name without .toml).
        #[arg(long)]
        name: Option<String>,
        /// Replace an existing context of that name.
        #[arg(long)]
        force: bool,
    },
    /// Open a context in $VISUAL/$EDITOR; the old file is kept if the new one does not validate.
    Edit {
        /// The context.
        #[arg(add = ArgValueCandidates::new(context_names))]
        name: String,
    },
}

/// Which file `strata config set|unset` edits.
#[derive(Debug, clap::Args)]
pub struct ConfigScope {
    /// The global config (the default).
    #[arg(long, conflicts_with_all = ["local", "system"])]
    pub global: bool,
    /// The nearest directory file (.strata.toml), or a new one here.
    #[arg(long, conflicts_with = "system")]
    pub local: bool,
    /// /etc/strata/config.toml (needs permission to write there).
    #[arg(long)]
    pub system: bool,
}

/// `strata config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print one setting's value here.
    Get {
        /// The key, e.g. lock.timeout.
        #[arg(add = ArgValueCandidates::new(setting_keys))]
        key: String,
        /// Also print where it came from (file:line, env var, flag, or default).
        #[arg(long)]
        show_origin: bool,
    },
    /// Set a setting in a file, keeping its comments (--global by default, --local, --system,
    /// or --context NAME).
    Set {
        /// The key.
        #[arg(add = ArgValueCandidates::new(setting_keys))]
        key: String,
        /// The value (lists: colon-separated, as for trust.paths).
        value: String,
        #[command(flatten)]
        scope: ConfigScope,
    },
    /// Remove a setting from a file.
    Unset {
        /// The key.
        #[arg(add = ArgValueCandidates::new(setting_keys))]
        key: String,
        #[command(flatten)]
        scope: ConfigScope,
    },
    /// Every setting with its value here.
    List {
        /// Also print where each value came from.
        #[arg(long)]
        show_origin: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The effective settings as TOML.
    Show {
        /// Resolve every layer (the only mode; kept for clarity in scripts).
        #[arg(long)]
        effective: bool,
        /// Comment each value with where it came from.
        #[arg(long)]
        source: bool,
    },
    /// Check files (default: every layer file that applies here) for errors.
    Validate {
        /// Files to check.
        files: Vec<PathBuf>,
    },
}

/// `strata import …`.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A dotenv file: the .strata.toml beside it loads it ([dotenv] files).
    Dotenv {
        /// The file.
        file: PathBuf,
        /// Replace an existing .strata.toml.
        #[arg(long)]
        force: bool,
    },
    /// A direnv .envrc: exports, PATH_add, dotenv, source_up; anything else is listed.
    Direnv {
        /// The .envrc (default: ./.envrc).
        file: Option<PathBuf>,
        /// Replace an existing .strata.toml.
        #[arg(long)]
        force: bool,
    },
    /// The [env] of a mise.toml: values, _.path, _.file; templates and _.source are listed.
    Mise {
        /// The mise.toml (default: ./mise.toml, else ./.mise.toml).
        file: Option<PathBuf>,
        /// Replace an existing .strata.toml.
        #[arg(long)]
        force: bool,
    },
}

/// `strata session …`.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List sessions.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a session's values (default: this one).
    Show {
        /// The session id.
        #[arg(add = ArgValueCandidates::new(session_ids))]
        id: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove every value of this session.
    Clear,
    /// Delete a session's file (default: this one); its values go away at the next prompt.
    End {
        /// The session id.
        #[arg(add = ArgValueCandidates::new(session_ids))]
        id: Option<String>,
    },
    /// Delete sessions idle longer than session.ttl, and expired values.
    Gc,
}

/// `strata trust …`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// List every allowed and denied file.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
