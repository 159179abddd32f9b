//! strata: keeps a shell's environment in sync with state kept in files.
//!
//! `main` parses the command line and maps errors to exit codes (0 success, 1 error, 2
//! usage). The no-op `strata export` is answered before any of that, because it runs at
//! prompts and must cost no more than starting the process.

use clap::Parser;
use strata_env::{cli, cmd};

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if cmd::export::fast(&args).is_some() {
        return;
    }
    let cli = cli::Cli::parse_from(args);
    if let Err(err) = cmd::run(cli) {
        if let Some(silent) = err.downcast_ref::<cmd::Silent>() {
            std::process::exit(silent.0);
        }
        let mut msg = err.to_string();
        for cause in err.chain().skip(1) {
            msg.push_str(": ");
            msg.push_str(&cause.to_string());
        }
        eprintln!("strata: {msg}");
        std::process::exit(1);
    }
}
