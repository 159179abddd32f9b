//! strata: keeps a shell's environment in sync with state kept in files.
//!
//! `main` parses the command line and maps errors to exit codes (0 success, 1 error, 2
//! usage). The no-op `strata export` is answered before any of that, because it runs at
//! prompts and must cost no more than starting the process.

// No Rust runtime start-up: it would install a stack-overflow handler, probe fds 0-2 and
// ignore SIGPIPE, a dozen system calls on a path that runs at prompts. The C `main` below takes
// the arguments itself (on musl, std only learns them from its own start-up).
#![no_main]

use clap::Parser;
use std::ffi::{CStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStringExt;
use strata_env::{cli, cmd};

#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: musl_alloc::Dlmalloc = musl_alloc::Dlmalloc::new();

/// dlmalloc behind a spin lock. musl's own allocator maps and unmaps memory on nearly every
/// free; dlmalloc keeps freed memory for reuse. Its `global` wrapper takes a pthread mutex on
/// every call, which cost an eighth of a `strata export`: strata has one thread, so an
/// uncontended atomic is all the lock needs to be.
#[cfg(target_env = "musl")]
mod musl_alloc {
    use std::alloc::{GlobalAlloc, Layout};
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, Ordering};

    pub struct Dlmalloc {
        locked: AtomicBool,
        heap: UnsafeCell<dlmalloc::Dlmalloc>,
    }

    // SAFETY: every access to `heap` happens with `locked` held.
    unsafe impl Sync for Dlmalloc {}

    impl Dlmalloc {
        pub const fn new() -> Dlmalloc {
            Dlmalloc {
                locked: AtomicBool::new(false),
                heap: UnsafeCell::new(dlmalloc::Dlmalloc::new()),
            }
        }

        fn with<T>(&self, f: impl FnOnce(&mut dlmalloc::Dlmalloc) -> T) -> T {
            while self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                std::hint::spin_loop();
            }
            // SAFETY: the lock is held, so this is the only reference.
            let out = f(unsafe { &mut *self.heap.get() });
            self.locked.store(false, Ordering::Release);
            out
        }
    }

    // SAFETY: each method forwards to dlmalloc, which implements the GlobalAlloc contract.
    unsafe impl GlobalAlloc for Dlmalloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.with(|h| unsafe { h.malloc(layout.size(), layout.align()) })
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            self.with(|h| unsafe { h.free(ptr, layout.size(), layout.align()) })
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            self.with(|h| unsafe { h.calloc(layout.size(), layout.align()) })
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            self.with(|h| unsafe { h.realloc(ptr, layout.size(), layout.align(), new_size) })
        }
    }
}

#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let argc = usize::try_from(argc).unwrap_or(0);
    // SAFETY: the C runtime passes `argc` valid NUL-terminated strings in `argv`, which live
    // as long as the process.
    let arg = |i: usize| unsafe { CStr::from_ptr(*argv.add(i)) }.to_bytes();
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`strata config list | head`), instead of panicking on a failed print.
    // SAFETY: setting a signal's disposition to the default is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // The prompt's own call is answered from the arguments as they are, without a heap.
    let mut few: [&[u8]; 6] = [&[]; 6];
    let fast = if argc <= few.len() {
        for (i, slot) in few.iter_mut().enumerate().take(argc) {
            *slot = arg(i);
        }
        cmd::export::fast(&few[..argc])
    } else {
        None
    };
    if matches!(fast, Some(cmd::export::Fast::Done)) {
        // It flushed what it printed; touching stdout here would set up its buffer.
        return 0;
    }
    let args: Vec<OsString> = (0..argc)
        .map(|i| OsString::from_vec(arg(i).to_vec()))
        .collect();
    run(fast, args);
    // Without std's start-up there is no clean-up either: flush what is buffered.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    0
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
        }) => cmd::Ctx::from_env()
            .and_then(|ctx| cmd::export::run(&ctx, format, hook, stamp.as_deref())),
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
