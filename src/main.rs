//! strata: keeps a shell's environment in sync with state kept in files.
//!
//! `main` parses the command line and maps errors to exit codes (0 success, 1 error, 2
//! usage). The no-op `strata export` is answered before any of that, because it runs at
//! prompts and must cost no more than starting the process.

use clap::Parser;
use strata_env::{cli, cmd};

#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`strata config list | head`), instead of panicking on a failed print.
    // SAFETY: setting a signal's disposition to the default is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let result = match cmd::export::fast(&args) {
        // The prompt's own call: answered without building the command-line parser.
        Some(cmd::export::Fast::Done) => return,
        Some(cmd::export::Fast::Full {
            format,
            hook,
            stamp,
        }) => cmd::Ctx::from_env()
            .and_then(|ctx| cmd::export::run(&ctx, format, hook, stamp.as_deref())),
        None => {
            cmd::completions::answer_if_asked();
            cmd::run(cli::Cli::parse_from(args))
        }
    };
    if let Err(err) = result {
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
