//! The command line, as clap definitions only. Behaviour lives in `cmd/`.

use clap::{Parser, Subcommand, ValueEnum};
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
    /// A JSON object of the changes: {"NAME": "value"}, null to unset.
    Json,
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
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the shell hook; put `eval "$(strata hook bash)"` in your rc file.
    Hook {
        /// bash, zsh or fish.
        shell: Shell,
    },
    /// Print the code that moves the current environment to the target one.
    Export {
        /// bash, zsh, fish or json.
        format: ExportFormat,
        /// Called from the hook: also print the hook's bookkeeping variables.
        #[arg(long, hide = true)]
        hook: bool,
        /// The hook's stamp file, dated to when this evaluation started.
        #[arg(long, hide = true, value_name = "FILE")]
        stamp: Option<PathBuf>,
    },
    /// Show which files are loaded (and trusted or not) and what strata sets.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show every layer that sets VAR, in order, and which one won.
    Why {
        /// The variable.
        var: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print what strata sets at a directory, without a shell.
    Env {
        /// Output format.
        #[arg(long, value_enum, default_value = "shell")]
        format: EnvFormat,
    },
    /// Run a command with the environment strata resolves (for scripts, CI, agents).
    Exec {
        /// The command and its arguments.
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        command: Vec<OsString>,
    },
    /// Trust a directory file (default: the files of the nearest directory that has one).
    Allow {
        /// A `.strata.toml`/`.strata.local.toml`, or a directory holding them.
        path: Option<PathBuf>,
    },
    /// Block a directory file until it is allowed again.
    Deny {
        /// A `.strata.toml`/`.strata.local.toml`, or a directory holding them.
        path: Option<PathBuf>,
    },
    /// Inspect trust decisions.
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// Open the nearest `.strata.toml` in $VISUAL/$EDITOR, validate it, and allow it.
    Edit {
        /// Edit `.strata.local.toml` instead.
        #[arg(long)]
        local: bool,
    },
    /// Make every shell re-evaluate at its next prompt.
    Reload,
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
