//! strata: keeps a shell's environment in sync with state kept in files.
//!
//! `main` parses the command line and maps errors to exit codes (0 success, 1 error, 2
//! usage). The no-op `strata export` is answered before any of that, because it runs at
//! prompts and must cost no more than starting the process.

use clap::Parser;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use strata_env::{cli, cmd};

/// musl's own allocator maps and unmaps memory on nearly every free; dlmalloc keeps freed
/// memory for reuse (bench/README.md has the figures).
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
    let args: Vec<OsString> = std::env::args_os().collect();
    let fast = {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        cmd::export::fast(&bytes)
    };
    if matches!(fast, Some(cmd::export::Fast::Done)) {
        return;
    }
    run(fast, args);
}

/// A command line clap refused (exit 2), or `--help`/`--version` (exit 0), in strata's own
/// voice: every message strata prints starts with `strata: `.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    use std::io::Write;
    let text = e.to_string();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = std::io::stdout().write_all(text.as_bytes());
        let _ = std::io::stdout().flush();
        std::process::exit(0);
    }
    let text = match text.strip_prefix("error: ") {
        Some(rest) => format!("strata: {rest}"),
        None => text,
    };
    let _ = std::io::stderr().write_all(text.as_bytes());
    std::process::exit(2);
}

fn run(fast: Option<cmd::export::Fast>, args: Vec<OsString>) {
    let result = match fast {
        // The prompt's own call: answered without building the command-line parser.
        Some(cmd::export::Fast::Done) => return,
        Some(cmd::export::Fast::Full {
            format,
            hook,
            stamp,
            agent,
        }) => cmd::Ctx::from_env()
            .and_then(|ctx| cmd::export::run(&ctx, format, hook, stamp.as_deref(), agent)),
        None => {
            cmd::completions::answer_if_asked(&args);
            match cli::Cli::try_parse_from(args) {
                Ok(cli) => cmd::run(cli),
                Err(e) => usage_error(e),
            }
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
        strata_env::say!("{msg}");
        std::process::exit(1);
    }
}
