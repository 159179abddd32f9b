//! Test-support harness for strata's black-box integration tests.
//!
//! A [`World`] is a throw-away temporary directory that plays the part of a
//! user's machine: an isolated `HOME`, XDG directories, strata's own config,
//! state and data directories, and a `work/` directory holding the projects a
//! test builds with [`World::dir_config`] and friends. Nothing outside the
//! temporary directory is read or written, and no `STRATA_*` variable of the
//! process running the tests leaks into the children.
//!
//! On top of that, [`World::run_shell`] starts a real bash, zsh or fish with
//! no rc files, installs the hook exactly as a user would (`eval "$(strata hook
//! bash)"`), performs [`Step`]s (`cd`, a simulated prompt, raw shell lines) and
//! records the *exported* environment at [`snap`] points through an external
//! program (`env -0`), so what a test reads back is what a child process of
//! that shell would see, byte for byte. [`World::interactive`] does the same
//! with a truly interactive shell on a pseudo-terminal, for behaviour that only
//! a real prompt shows (the exit status `$?`).
//!
//! Every child gets a timeout: a hung shell fails the test instead of hanging
//! the suite. A missing shell is a failure with a message saying what to
//! install, never a silent skip.

#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long any shell or strata invocation may run before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Directories searched for the shells and the basic utilities the scripts use.
const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Defines one `#[test]` per shell for a behaviour: `mod name { fn bash(); fn zsh(); fn fish();
/// fn nu(); fn elvish(); fn xonsh(); fn tcsh() }`, so a failure names the behaviour and the shell
/// (`enter_sets_env::zsh`). In scope in every module declared after `#[macro_use] mod support;`
/// in `main.rs`.
macro_rules! per_shell {
    ($($(#[$meta:meta])* fn $name:ident($sh:ident) $body:block)*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                fn run($sh: $crate::support::Shell) $body
                #[test]
                fn bash() { run($crate::support::Shell::Bash) }
                #[test]
                fn zsh() { run($crate::support::Shell::Zsh) }
                #[test]
                fn fish() { run($crate::support::Shell::Fish) }
                #[test]
                fn nu() { run($crate::support::Shell::Nu) }
                #[test]
                fn elvish() { run($crate::support::Shell::Elvish) }
                #[test]
                fn xonsh() { run($crate::support::Shell::Xonsh) }
                #[test]
                fn tcsh() { run($crate::support::Shell::Tcsh) }
            }
        )*
    };
}

/// `per_shell!` for the shells listed first, for a behaviour the others do not have (say why
/// at the use): `only_shells! { [bash Bash, zsh Zsh] fn name(sh) { … } }`.
macro_rules! only_shells {
    (@one [$($test:ident $shell:ident),*] $(#[$meta:meta])* fn $name:ident($sh:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($sh: $crate::support::Shell) $body
            $(
                #[test]
                fn $test() { run($crate::support::Shell::$shell) }
            )*
        }
    };
    ($shells:tt $($(#[$meta:meta])* fn $name:ident($sh:ident) $body:block)*) => {
        $( only_shells!(@one $shells $(#[$meta])* fn $name($sh) $body); )*
    };
}

/// A shell strata supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Nu,
    Elvish,
    Xonsh,
    Tcsh,
}

pub use Shell::{Bash, Elvish, Fish, Nu, Tcsh, Xonsh, Zsh};

/// Every supported shell, for loops.
pub const ALL_SHELLS: [Shell; 7] = [Bash, Zsh, Fish, Nu, Elvish, Xonsh, Tcsh];

impl Shell {
    /// The shell's name as `strata hook` takes it (and its program's name).
    pub fn name(self) -> &'static str {
        match self {
            Bash => "bash",
            Zsh => "zsh",
            Fish => "fish",
            Nu => "nu",
            Elvish => "elvish",
            Xonsh => "xonsh",
            Tcsh => "tcsh",
        }
    }

    /// How to install the shell when it is missing.
    fn install_hint(self) -> &'static str {
        match self {
            Nu => "npm install -g nushell",
            Bash => "apt-get install -y bash",
            Zsh => "apt-get install -y zsh",
            Fish => "apt-get install -y fish",
            Elvish => "apt-get install -y elvish",
            Xonsh => "apt-get install -y xonsh",
            Tcsh => "apt-get install -y tcsh",
        }
    }

    /// Absolute path of the shell binary; panics (test failure) when it is not installed.
    pub fn program(self) -> PathBuf {
        let name = self.name();
        let parent_path = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::env::split_paths(&parent_path)
            .chain(std::env::split_paths(SYSTEM_PATH))
            .collect::<Vec<_>>();
        for dir in dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
        panic!(
            "{name} is not installed (not found on PATH or in {SYSTEM_PATH}); the shell tests \
             never skip a shell: install it, e.g. `{}`",
            self.install_hint()
        );
    }

    pub fn batch_args(self) -> &'static [&'static str] {
        match self {
            Bash => &["--norc", "--noprofile"],
            Zsh => &["-f"],
            Fish => &["--no-config"],
            Nu => &["-n"],
            Elvish => &["-norc"],
            Xonsh => &["--no-rc", "--no-script-cache"],
            Tcsh => &["-f"],
        }
    }

    /// The arguments of an interactive shell that reads no rc file of the user's. nushell
    /// reads its config (the world's, written by [`World::interactive`]); elvish reads the rc
    /// file given after `-rc`.
    fn interactive_args(self) -> &'static [&'static str] {
        match self {
            Bash => &["--norc", "--noprofile", "-i"],
            Zsh => &["-f", "-i"],
            Fish => &["--no-config", "-i"],
            Nu => &[],
            Elvish => &["-rc"],
            // The rc file follows `--rc` (typed, its line can be lost while xonsh starts).
            Xonsh => &["-i", "--shell-type=readline", "--rc"],
            Tcsh => &["-f", "-i"],
        }
    }

    /// The rc-file line a user writes to install the hook (the README's table).
    pub fn hook_install(self) -> &'static str {
        match self {
            Bash => r#"eval "$(strata hook bash)""#,
            Zsh => r#"eval "$(strata hook zsh)""#,
            Fish => "strata hook fish | source",
            Nu => {
                "mkdir ($nu.user-autoload-dirs | first); strata hook nu | save -f \
                 ($nu.user-autoload-dirs | first | path join strata.nu)"
            }
            Elvish => "eval (strata hook elvish | slurp)",
            Xonsh => {
                "execx(__import__('subprocess').run(['strata', 'hook', 'xonsh'], stdout=-1, env=__xonsh__.env.detype()).stdout.decode())"
            }
            Tcsh => r#"eval "`strata hook tcsh`""#,
        }
    }

    /// Shell code that runs one prompt's worth of hooks through the public mechanism. A script
    /// has no editor, so elvish's `edit:before-readline` does not exist there: its prompt is
    /// simulated with the hooks the hook installed in `after-chdir`, which run the same code.
    pub fn prompt(self) -> &'static str {
        match self {
            // A string PROMPT_COMMAND is element 0 of itself, so this handles both forms.
            Bash => r#"for __c in "${PROMPT_COMMAND[@]}"; do eval "$__c"; done"#,
            Zsh => {
                "if (( $+functions[precmd] )); then precmd; fi; \
                 for __f in $precmd_functions; do $__f; done"
            }
            Fish => "emit fish_prompt",
            // A hook that is code (a string, as strata's aliases hook is) cannot be called here:
            // a script is parsed whole, so nothing it defines would be seen anyway.
            Nu => {
                "for __h in ($env.config.hooks.pre_prompt | where {|h| ($h | describe) != 'string' }) { do --env $__h }"
            }
            Elvish => "for __f $after-chdir { $__f $pwd }",
            Xonsh => "events.on_pre_prompt.fire()",
            // tcsh runs its precmd alias only where there is one (no hook: no alias).
            Tcsh => "if ( $?__strata_hooked ) then\nprecmd\nendif",
        }
    }

    /// Quotes a string as one word of this shell's syntax (for xonsh a Python string: in a
    /// command line, where xonsh expands `$VAR` even inside quotes, use [`Shell::arg`]).
    pub fn quote(self, s: &str) -> String {
        match self {
            Bash | Zsh => format!("'{}'", s.replace('\'', r"'\''")),
            Fish => format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'")),
            Nu => {
                let mut hashes = String::from("#");
                while s.contains(&format!("'{hashes}")) {
                    hashes.push('#');
                }
                format!("r{hashes}'{s}'{hashes}")
            }
            Elvish => format!("'{}'", s.replace('\'', "''")),
            Xonsh => {
                let mut out = String::from("'");
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str(r"\\"),
                        '\'' => out.push_str(r"\'"),
                        '\n' => out.push_str(r"\n"),
                        '\r' => out.push_str(r"\r"),
                        '\t' => out.push_str(r"\t"),
                        c if (c as u32) < 0x20 || c == '\u{7f}' => {
                            out.push_str(&format!("\\x{:02x}", c as u32))
                        }
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
            Tcsh => {
                let mut out = String::from("'");
                for c in s.chars() {
                    match c {
                        '\'' => out.push_str(r"'\''"),
                        '!' => out.push_str(r"'\!'"),
                        '\\' => out.push_str(r"'\\'"),
                        '\n' => out.push_str("\\\n"),
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
        }
    }

    /// Quotes a path as one word.
    pub fn quote_path(self, p: &Path) -> String {
        self.quote(p.to_str().expect("test paths are UTF-8"))
    }

    /// One argument of a command line, taken literally.
    pub fn arg(self, s: &str) -> String {
        match self {
            Xonsh => format!("@({})", self.quote(s)),
            _ => self.quote(s),
        }
    }

    /// A command line that runs the external program `argv[0]` with literal arguments, never a
    /// function, alias or builtin of that name.
    pub fn cmd(self, argv: &[&str]) -> String {
        let args: Vec<String> = argv[1..].iter().map(|a| self.arg(a)).collect();
        let mut line = match self {
            Bash | Zsh | Fish => format!("command {}", argv[0]),
            Nu => format!("^{}", argv[0]),
            Elvish => format!("e:{}", argv[0]),
            // tcsh: a quoted command word is never an alias.
            Tcsh => format!("\\{}", argv[0]),
            Xonsh => argv[0].to_string(),
        };
        for a in args {
            line.push(' ');
            line.push_str(&a);
        }
        line
    }

    /// [`Shell::cmd`] with its standard output written to `file`.
    pub fn cmd_to(self, argv: &[&str], file: &Path) -> String {
        let f = file.to_str().expect("test paths are UTF-8");
        match self {
            Nu => format!("{} | save -f {}", self.cmd(argv), self.quote(f)),
            _ => format!("{} > {}", self.cmd(argv), self.arg(f)),
        }
    }

    /// POSIX sh code run by `sh -c` from this shell (for file manipulations that read the same
    /// in every shell).
    pub fn sh_c(self, code: &str) -> String {
        self.cmd(&["sh", "-c", code])
    }

    /// `export NAME=value` in this shell.
    pub fn export(self, name: &str, value: &str) -> String {
        match self {
            Bash | Zsh => format!("export {name}={}", self.quote(value)),
            Fish => format!("set -gx {name} {}", self.quote(value)),
            Nu => format!("$env.{name} = {}", self.quote(value)),
            Elvish => format!("set-env {name} {}", self.quote(value)),
            Xonsh => format!("${name} = {}", self.quote(value)),
            Tcsh => format!("setenv {name} {}", self.quote(value)),
        }
    }

    /// A variable of the shell that is not exported.
    pub fn local(self, name: &str, value: &str) -> String {
        match self {
            Bash | Zsh => format!("{name}={}", self.quote(value)),
            Fish => format!("set -g {name} {}", self.quote(value)),
            Nu => format!("let {name} = {}", self.quote(value)),
            Elvish => format!("var {name} = {}", self.quote(value)),
            Xonsh => format!("{name} = {}", self.quote(value)),
            Tcsh => format!("set {name} = {}", self.quote(value)),
        }
    }

    /// `unset NAME` in this shell.
    pub fn unset(self, name: &str) -> String {
        match self {
            Bash | Zsh => format!("unset {name}"),
            Fish => format!("set -e {name}"),
            Nu => format!("hide-env {name}"),
            Elvish => format!("unset-env {name}"),
            Xonsh => format!("del ${name}"),
            Tcsh => format!("unsetenv {name}"),
        }
    }

    /// Puts `dir` in front of PATH, as a user would in this shell.
    pub fn prepend_path(self, dir: &str) -> String {
        match self {
            Bash | Zsh => format!(r#"export PATH={}:"$PATH""#, self.quote(dir)),
            Fish => format!("set -gx PATH {} $PATH", self.quote(dir)),
            Nu => format!("$env.PATH = ($env.PATH | prepend {})", self.quote(dir)),
            Elvish => format!("set paths = [{} $@paths]", self.quote(dir)),
            Xonsh => format!("$PATH.insert(0, {})", self.quote(dir)),
            Tcsh => format!("set path = ( {} $path:q )", self.quote(dir)),
        }
    }

    /// Puts `dir` at the end of PATH, as a user would in this shell.
    pub fn append_path(self, dir: &str) -> String {
        match self {
            Bash | Zsh => format!(r#"export PATH="$PATH":{}"#, self.quote(dir)),
            Fish => format!("set -gx PATH $PATH {}", self.quote(dir)),
            Nu => format!("$env.PATH = ($env.PATH | append {})", self.quote(dir)),
            Elvish => format!("set paths = [$@paths {}]", self.quote(dir)),
            Xonsh => format!("$PATH.append({})", self.quote(dir)),
            Tcsh => format!("set path = ( $path:q {} )", self.quote(dir)),
        }
    }

    /// The variable holding the last exit status, as the shell calls it (`None`: elvish keeps
    /// none; a failing command raises an exception instead).
    pub fn status_var(self) -> Option<&'static str> {
        match self {
            Bash | Zsh => Some("$?"),
            Fish | Tcsh => Some("$status"),
            Nu => Some("$env.LAST_EXIT_CODE"),
            Xonsh => Some("$LAST_RETURN_CODE"),
            Elvish => None,
        }
    }

    /// A line that appends `prefix` and the last exit status to `file`, run as a command
    /// (so it reports the status of the command before it).
    pub fn log_status(self, prefix: &str, file: &Path) -> String {
        let f = self.quote_path(file);
        match self {
            Bash | Zsh => format!("echo \"{prefix}$?\" >> {f}"),
            Fish | Tcsh => format!("echo \"{prefix}$status\" >> {f}"),
            Nu => format!("$\"{prefix}($env.LAST_EXIT_CODE)\\n\" | save -a {f}"),
            Xonsh => format!("print('{prefix}' + str($LAST_RETURN_CODE), file=open({f}, 'a'))"),
            Elvish => panic!("elvish keeps no exit status"),
        }
    }

    /// A command that fails with exit status `code`.
    pub fn fail_with(self, code: u8) -> String {
        self.cmd(&["sh", "-c", &format!("exit {code}")])
    }

    /// Whether an inherited variable that is not UTF-8 reaches the shell's children as it was
    /// (nushell decodes the environment at start-up, with U+FFFD for bad bytes).
    pub fn holds_any_bytes(self) -> bool {
        self != Nu
    }

    /// What the shell's children see of an inherited value: the bytes, or for nushell the text
    /// it decoded them to.
    pub fn as_held(self, bytes: &[u8]) -> Vec<u8> {
        if self.holds_any_bytes() {
            bytes.to_vec()
        } else {
            String::from_utf8_lossy(bytes).into_owned().into_bytes()
        }
    }

    /// Whether the hook can tell with builtins alone that nothing changed (elvish 0.19 has no
    /// builtin for a file's modification time, so its hook runs strata at every prompt).
    pub fn has_fast_path(self) -> bool {
        self != Elvish
    }

    /// A line that opens `file` with a builtin, starting no process (a mark in a trace).
    pub fn open_builtin(self, file: &Path) -> String {
        let f = self.quote_path(file);
        match self {
            Bash | Zsh | Fish => format!("read __m < {f} ; true"),
            Nu => format!("open --raw {f} | ignore"),
            Elvish => format!("var __m = (slurp < {f})"),
            Xonsh => format!("__m = open({f}).read()"),
            Tcsh => format!("source {f}"),
        }
    }

    /// `line`, whose failure does not end the script (elvish and nushell raise an error for a
    /// command that exits non-zero).
    pub fn may_fail(self, line: &str) -> String {
        match self {
            Nu | Elvish => format!("try {{ {line} }} catch {{ }}"),
            _ => line.to_string(),
        }
    }

    /// A line that deletes the hook's stamp file.
    pub fn remove_stamp(self) -> String {
        match self {
            Bash | Zsh | Fish => "command rm -f $__strata_stamp".into(),
            Nu => "^rm -f $env.__strata.stamp".into(),
            Elvish => panic!("elvish's hook keeps no stamp"),
            Xonsh => "for __h in [h for h in events.on_pre_prompt if getattr(h, '__name__', '') == '__strata_hook']:\n    __import__('os').remove(__h.stamp)\n".into(),
            Tcsh => "\\rm -f $__strata_stamp:q".into(),
        }
    }

    /// Picks the bash/zsh or the fish spelling of a line, for a case that only those three
    /// shells run (`only_shells!`).
    pub fn pick<'a>(self, posix: &'a str, fish: &'a str) -> &'a str {
        match self {
            Bash | Zsh => posix,
            Fish => fish,
            other => panic!(
                "{} runs no case spelled for bash, zsh and fish",
                other.name()
            ),
        }
    }

    /// Whether this shell is one of bash and zsh (the `$'…'`, `[[ ]]` kind).
    pub fn is_posix(self) -> bool {
        matches!(self, Bash | Zsh)
    }
}

/// Renders bytes for a failure message: printable ASCII as is, everything else escaped.
pub fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Renders an optional variable value for a failure message.
pub fn show_var(value: Option<&[u8]>) -> String {
    match value {
        None => "<unset>".to_string(),
        Some(v) => format!("\"{}\"", show(v)),
    }
}

/// The result of running one process: exit status and raw output.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// What was run, for failure messages.
    pub what: String,
    /// How long it took.
    pub elapsed: Duration,
}

impl Output {
    /// The exit code; `-signal` when killed by a signal.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| -self.status.signal().unwrap_or(0))
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// A readable dump of the whole result, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "`{}` exited {} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.code(),
            self.elapsed,
            show(&self.stdout),
            show(&self.stderr)
        )
    }

    /// Asserts exit code 0.
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(self.code(), 0, "expected success\n{}", self.describe());
        self
    }

    /// Asserts a specific exit code.
    #[track_caller]
    pub fn code_is(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "unexpected exit code\n{}",
            self.describe()
        );
        self
    }

    /// Asserts stderr contains `needle`.
    #[track_caller]
    pub fn stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            contains(&self.stderr, needle.as_bytes()),
            "expected stderr to contain {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Asserts stdout contains `needle`.
    #[track_caller]
    pub fn stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            contains(&self.stdout, needle.as_bytes()),
            "expected stdout to contain {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not valid JSON: {e}\n{}", self.describe()))
    }
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Number of non-overlapping occurrences of `needle` in `haystack`.
pub fn count(haystack: &[u8], needle: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = haystack;
    while let Some(i) = find(rest, needle) {
        n += 1;
        rest = &rest[i + needle.len()..];
    }
    n
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Non-empty lines of some output.
pub fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

/// The environment of a process, as bytes, read from `env -0`.
#[derive(Clone, Debug, Default)]
pub struct Env(pub HashMap<Vec<u8>, Vec<u8>>);

impl Env {
    /// Parses `env -0` output.
    pub fn parse(raw: &[u8]) -> Env {
        let mut map = HashMap::new();
        for entry in raw.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let eq = entry.iter().position(|&b| b == b'=').unwrap_or(entry.len());
            let value = entry.get(eq + 1..).unwrap_or_default();
            map.insert(entry[..eq].to_vec(), value.to_vec());
        }
        Env(map)
    }

    /// The value of `name`, or `None` when it is not exported.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name.as_bytes()).map(Vec::as_slice)
    }
}

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

fn unique() -> usize {
    UNIQUE.fetch_add(1, Ordering::Relaxed)
}

/// An isolated machine for one test: a temp dir with HOME, XDG dirs, strata dirs and `work/`.
pub struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    env: Vec<(OsString, Option<OsString>)>,
    /// Resource limits every later child starts with (what `ulimit` lines in an rc file
    /// would set: elvish has no builtin for them).
    limits: std::sync::Mutex<Limits>,
}

/// Resource limits for a world's children.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// No file may grow (`ulimit -f 0`), as on a full disk.
    pub full_disk: bool,
    /// The address space, in KiB (`ulimit -v`).
    pub memory_kib: Option<u64>,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// Creates the directory tree; nothing of strata's own is created.
    pub fn new() -> World {
        Self::new_in(&std::env::temp_dir())
    }

    /// Like [`World::new`], under `parent` (created if needed): for tests that must not see
    /// other tests create files next to them (every ancestor of a project is watched).
    pub fn new_in(parent: &Path) -> World {
        fs::create_dir_all(parent).expect("create the parent of the temp dir");
        let tmp = tempfile::Builder::new()
            .prefix("strata-test-")
            .tempdir_in(parent)
            .expect("create temp dir");
        let root = tmp.path().canonicalize().expect("canonicalize temp dir");
        for sub in [
            "home", "config", "state", "data", "cache", "work", ".harness",
        ] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).unwrap();
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        }
        World {
            _tmp: tmp,
            root,
            env: Vec::new(),
            limits: std::sync::Mutex::new(Limits::default()),
        }
    }

    // ---- paths ----

    /// The temp dir everything lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The fake `$HOME`.
    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    /// Where projects live; shells start here.
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// A path under `work/` (an absolute `rel` is returned as is).
    pub fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.work()
        } else {
            self.work().join(rel)
        }
    }

    /// A path under `work/` as a `String`.
    pub fn path_str(&self, rel: &str) -> String {
        self.path(rel).to_str().unwrap().to_string()
    }

    /// `$STRATA_CONFIG_DIR`.
    pub fn config_dir(&self) -> PathBuf {
        self.root.join("config/strata")
    }

    /// `$STRATA_STATE_DIR`.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join("state/strata")
    }

    /// `$STRATA_DATA_DIR`.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data/strata")
    }

    fn harness(&self) -> PathBuf {
        self.root.join(".harness")
    }

    /// A fresh path for a harness-owned file (logs, captured output).
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.harness().join(format!("{}-{name}", unique()))
    }

    // ---- builders ----

    /// Writes a file under `work/`, creating parent directories.
    pub fn file(self, rel: &str, contents: impl AsRef<[u8]>) -> Self {
        self.write(rel, contents);
        self
    }

    /// Writes (replaces) a file under `work/` now, creating parent directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
    }

    /// Dates `work/<rel>` `secs` seconds in the past (see [`backdate_path`]).
    pub fn backdate(&self, rel: &str, secs: u64) {
        backdate_path(&self.path(rel), secs);
    }

    /// Dates every file and directory of the world, its root included, `secs` seconds in the
    /// past; strata's own state and data directories (which the hook does not test) are left
    /// as strata wrote them. After this, nothing the world holds is in strata's racy window: the
    /// first export already records final stamps, as it would after waiting that long.
    pub fn backdate_all(&self, secs: u64) {
        backdate_tree(&self.root, secs, &[self.state_dir(), self.data_dir()]);
    }

    /// Creates a directory under `work/`.
    pub fn mkdir(self, rel: &str) -> Self {
        fs::create_dir_all(self.path(rel)).unwrap();
        self
    }

    /// Writes `<rel_dir>/.strata.toml`.
    pub fn dir_config(self, rel_dir: &str, toml: &str) -> Self {
        self.file(&join_rel(rel_dir, ".strata.toml"), toml)
    }

    /// Writes `<rel_dir>/.strata.local.toml`.
    pub fn local_config(self, rel_dir: &str, toml: &str) -> Self {
        self.file(&join_rel(rel_dir, ".strata.local.toml"), toml)
    }

    /// Creates a symlink `work/<link>` pointing at `work/<target>`.
    pub fn symlink(self, link: &str, target: &str) -> Self {
        let link = self.path(link);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(self.path(target), link).unwrap();
        self
    }

    /// Runs `strata allow <work/rel>`, which must succeed.
    #[track_caller]
    pub fn allow(self, rel: &str) -> Self {
        let path = self.path_str(rel);
        self.strata(&["allow", &path]).success();
        self
    }

    /// Runs `strata deny <work/rel>`, which must succeed.
    #[track_caller]
    pub fn deny(self, rel: &str) -> Self {
        let path = self.path_str(rel);
        self.strata(&["deny", &path]).success();
        self
    }

    /// Writes the global config, `$STRATA_CONFIG_DIR/config.toml`.
    pub fn global(self, toml: &str) -> Self {
        let dir = self.config_dir();
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(dir.join("config.toml"), toml).unwrap();
        self
    }

    /// Global config trusting every file under `work/` (`settings.trust.paths`), so a test can
    /// get a file that `strata allow` would refuse into the hook and into `strata env`.
    pub fn trust_work(self) -> Self {
        let toml = format!(
            "[settings.trust]\npaths = [{}]\n",
            toml_string(&self.path_str(""))
        );
        self.global(&toml)
    }

    /// Sets a variable in every child's initial environment.
    pub fn env(self, name: &str, value: &str) -> Self {
        self.env_os(name, value.as_bytes())
    }

    /// Sets a variable to raw bytes (e.g. invalid UTF-8) in every child's initial environment.
    pub fn env_os(mut self, name: &str, value: &[u8]) -> Self {
        self.env.push((
            OsString::from(name),
            Some(OsStr::from_bytes(value).to_os_string()),
        ));
        self
    }

    /// Sets a variable (raw bytes) in every later child's initial environment.
    pub fn set_env(&mut self, name: &str, value: &[u8]) {
        self.env.push((
            OsString::from(name),
            Some(OsStr::from_bytes(value).to_os_string()),
        ));
    }

    /// Removes a variable from every child's initial environment.
    pub fn env_remove(mut self, name: &str) -> Self {
        self.env.push((OsString::from(name), None));
        self
    }

    /// Every child started from now on gets these limits (shells from their start, as a
    /// `ulimit` line in an rc file would give them).
    pub fn set_limits(&self, limits: Limits) {
        *self.limits.lock().unwrap() = limits;
    }

    /// The PATH children start with.
    pub fn base_path(&self) -> String {
        format!("{}:{SYSTEM_PATH}", bin_dir().display())
    }

    // ---- running things ----

    /// A command with the world's environment (and nothing inherited), started in `work/`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear();
        let user = std::env::var_os("USER").unwrap_or_else(|| "tester".into());
        let base: Vec<(&str, OsString)> = vec![
            ("PATH", self.base_path().into()),
            ("HOME", self.home().into()),
            ("USER", user.clone()),
            ("LOGNAME", user),
            ("LANG", "C.UTF-8".into()),
            ("LC_ALL", "C.UTF-8".into()),
            ("TERM", "dumb".into()),
            ("XDG_CONFIG_HOME", self.root.join("config").into()),
            ("XDG_STATE_HOME", self.root.join("state").into()),
            ("XDG_DATA_HOME", self.root.join("data").into()),
            ("XDG_CACHE_HOME", self.root.join("cache").into()),
            ("STRATA_CONFIG_DIR", self.config_dir().into()),
            ("STRATA_STATE_DIR", self.state_dir().into()),
            ("STRATA_DATA_DIR", self.data_dir().into()),
        ];
        for (k, v) in base {
            cmd.env(k, v);
        }
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.current_dir(self.work());
        cmd.stdin(Stdio::null());
        let limits = *self.limits.lock().unwrap();
        if limits.full_disk || limits.memory_kib.is_some() {
            // SAFETY: setrlimit is async-signal-safe, and nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let set = |resource, cur: u64| {
                        let lim = libc::rlimit {
                            rlim_cur: cur as libc::rlim_t,
                            rlim_max: libc::RLIM_INFINITY,
                        };
                        if libc::setrlimit(resource, &lim) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        Ok(())
                    };
                    if limits.full_disk {
                        set(libc::RLIMIT_FSIZE, 0)?;
                    }
                    if let Some(kib) = limits.memory_kib {
                        set(libc::RLIMIT_AS, kib * 1024)?;
                    }
                    Ok(())
                });
            }
        }
        cmd
    }

    /// Runs `strata ARGS` in `work/`.
    #[track_caller]
    pub fn strata(&self, args: &[&str]) -> Output {
        self.strata_in("", args)
    }

    /// Runs `strata ARGS` in `work/<rel_cwd>`.
    #[track_caller]
    pub fn strata_in(&self, rel_cwd: &str, args: &[&str]) -> Output {
        let mut cmd = self.command(strata_bin());
        cmd.args(args).current_dir(self.path(rel_cwd));
        self.run_strata(cmd, args)
    }

    /// A `strata ARGS` command in `work/<rel_cwd>` to customise and pass to [`World::finish`].
    pub fn strata_command(&self, rel_cwd: &str, args: &[&str]) -> Command {
        let mut cmd = self.command(strata_bin());
        cmd.args(args).current_dir(self.path(rel_cwd));
        cmd
    }

    /// Runs a command from [`World::strata_command`], checking it did not panic.
    #[track_caller]
    pub fn finish(&self, cmd: Command, args: &[&str]) -> Output {
        self.run_strata(cmd, args)
    }

    /// Runs `strata ARGS` in `work/` with extra environment variables.
    #[track_caller]
    pub fn strata_env(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut cmd = self.command(strata_bin());
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        self.run_strata(cmd, args)
    }

    #[track_caller]
    fn run_strata(&self, cmd: Command, args: &[&str]) -> Output {
        let out = run_with_timeout(cmd, format!("strata {}", args.join(" ")));
        assert!(
            !contains(&out.stderr, b"panicked"),
            "strata panicked\n{}",
            out.describe()
        );
        out
    }

    /// The line that installs the hook in a script of `shell`: the README's, except for
    /// nushell, which reads the saved hook file it writes only at its next start-up (and parses
    /// a script whole before running it): there the hook `strata hook nu` prints is written to
    /// a file first and sourced, as nushell sources that file at start-up.
    pub fn install_line(&self, shell: Shell) -> String {
        if shell != Nu {
            return shell.hook_install().to_string();
        }
        let hook = self.strata(&["hook", "nu"]);
        hook.success();
        let file = self.scratch("hook.nu");
        fs::write(&file, &hook.stdout).unwrap();
        format!("source {}", shell.quote_path(&file))
    }

    /// Runs a shell script (no hook, no harness) in the world's environment.
    pub fn sh(&self, shell: Shell, script: &str) -> Output {
        let file = self.scratch("script");
        fs::write(&file, script).unwrap();
        let mut cmd = self.command(shell.program());
        cmd.args(shell.batch_args()).arg(&file);
        run_with_timeout(cmd, format!("{} {}", shell.name(), file.display()))
    }

    /// Starts `shell` non-interactively with no rc files, installs the hook as a user would,
    /// runs `steps`, and returns what happened. Panics (test failure) when the shell did not
    /// reach the end of the script, or when strata panicked.
    #[track_caller]
    pub fn run_shell(&self, shell: Shell, steps: &[Step]) -> ShellRun {
        self.run_shell_pre(shell, &[], steps)
    }

    /// Like [`World::run_shell`], with `pre_hook` lines run before the hook is installed (what
    /// a user's rc file does above the `eval` line).
    #[track_caller]
    pub fn run_shell_pre(&self, shell: Shell, pre_hook: &[&str], steps: &[Step]) -> ShellRun {
        let program = shell.program();
        let mut script = String::new();
        for line in pre_hook {
            script.push_str(line);
            script.push('\n');
        }
        script.push_str(&self.install_line(shell));
        script.push('\n');
        let mut snaps = Vec::new();
        let mut stamps = Vec::new();
        for step in steps {
            match step {
                Step::Cd(rel) => {
                    script += &format!("cd {}\n", shell.arg(self.path(rel).to_str().unwrap()));
                }
                Step::Prompt => {
                    script += shell.prompt();
                    script.push('\n');
                }
                Step::Raw(line) => {
                    script += line;
                    script.push('\n');
                }
                Step::Snap(label) => {
                    let file = self.scratch("snap");
                    script += &shell.cmd_to(&["env", "-0"], &file);
                    script.push('\n');
                    snaps.push((label.clone(), file));
                }
                Step::Stamp(label) => {
                    // The stamp file's date, to the nanosecond (empty when there is none yet).
                    let file = self.scratch("stamp");
                    script += &stamp_date(shell, &file);
                    script.push('\n');
                    stamps.push((label.clone(), file));
                }
                Step::Backdate(rel, secs) => {
                    let epoch = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap()
                        .as_secs()
                        - secs;
                    let at = format!("@{epoch}");
                    let path = self.path_str(rel);
                    script += &shell.cmd(&["touch", "-h", "-d", &at, "--", &path]);
                    script.push('\n');
                }
                Step::Mark(label) => {
                    script += &print_both(shell, &mark_line(label));
                    script.push('\n');
                }
                Step::Write(rel, contents) => {
                    let blob = self.scratch("blob");
                    fs::write(&blob, contents).unwrap();
                    let target = self.path(rel);
                    let tmp = target.with_extension("harness-tmp");
                    let (blob, tmp, target) = (
                        blob.to_str().unwrap(),
                        tmp.to_str().unwrap(),
                        target.to_str().unwrap(),
                    );
                    script += &shell.cmd(&["cp", blob, tmp]);
                    script.push('\n');
                    script += &shell.cmd(&["mv", tmp, target]);
                    script.push('\n');
                }
                Step::Strata(args) => {
                    let mut argv = vec!["strata"];
                    argv.extend(args.iter().map(String::as_str));
                    script += &strata_line(shell, &argv);
                    script.push('\n');
                }
            }
        }
        script += &print_line(shell, DONE);
        script.push('\n');
        let file = self.scratch(&format!("run.{}", shell.name()));
        fs::write(&file, &script).unwrap();
        let mut cmd = self.command(&program);
        cmd.args(shell.batch_args()).arg(&file);
        let out = run_with_timeout(cmd, format!("{} {}", shell.name(), file.display()));
        let mut run = ShellRun {
            shell,
            script,
            out,
            snaps: HashMap::new(),
            stamps: HashMap::new(),
        };
        assert!(
            !contains(&run.out.stderr, b"panicked"),
            "[{}] strata panicked\n{}",
            shell.name(),
            run.describe()
        );
        assert!(
            contains(&run.out.stdout, DONE.as_bytes()),
            "[{}] the shell did not reach the end of the script\n{}",
            shell.name(),
            run.describe()
        );
        for (label, file) in snaps {
            let raw = fs::read(&file).unwrap_or_else(|e| {
                panic!(
                    "[{}] snapshot {label:?} missing ({e})\n{}",
                    shell.name(),
                    run.describe()
                )
            });
            run.snaps.insert(label, Env::parse(&raw));
        }
        for (label, file) in stamps {
            let date = String::from_utf8_lossy(&read_or_empty(&file))
                .trim()
                .to_string();
            run.stamps.insert(label, (!date.is_empty()).then_some(date));
        }
        run
    }

    /// Starts `shell` interactively on a pseudo-terminal with no rc files, sources a setup file
    /// that sets a recognisable prompt, installs the hook and then runs `setup` lines, then types
    /// `lines` one at a time, each after the previous prompt appeared, and finally `exit`.
    /// Results are best written to files by the typed lines; the transcript is for messages.
    #[track_caller]
    pub fn interactive(&self, shell: Shell, setup: &[String], lines: &[String]) -> PtyRun {
        let mut pty = self.start_interactive(shell, false, setup);
        let mut prompts_seen = 1;
        for line in lines {
            pty.type_line(line);
            prompts_seen += 1;
            pty.wait_for_prompts(prompts_seen, shell);
        }
        pty.type_line("exit");
        let status = pty.wait_exit(shell);
        PtyRun {
            shell,
            status,
            transcript: pty.transcript(),
        }
    }

    /// Starts `shell` on a pseudo-terminal with an rc file that sets the prompt to [`PROMPT`]
    /// (after `rc=$? `, when `status`), installs the hook as the README says and runs `setup`,
    /// and waits for the first prompt after it. bash, zsh, fish, xonsh and tcsh source the rc
    /// file as a typed command; elvish reads it with `-rc`; nushell reads its config (the
    /// README's line) and then its autoload files, the harness's last, so that `setup` (and
    /// the line that shows the prompt, there a pre_prompt hook) comes after strata's hook.
    fn start_interactive(&self, shell: Shell, status: bool, setup: &[String]) -> Pty {
        let prompt = shell.quote(PROMPT);
        let (before, after): (Vec<String>, Vec<String>) = match shell {
            Bash | Zsh => {
                let ps1 = match (shell, status) {
                    (Bash, true) => format!("PS1='rc=$? '{prompt}"),
                    (_, true) => format!("PS1='rc=%? '{prompt}"),
                    _ => format!("PS1={prompt}"),
                };
                (vec![ps1, "PS2=''".into()], vec![])
            }
            Fish => {
                let f = if status {
                    format!("function fish_prompt; printf 'rc=%s %s' $status {prompt}; end")
                } else {
                    format!("function fish_prompt; printf '%s' {prompt}; end")
                };
                (vec![f, "function fish_greeting; end".into()], vec![])
            }
            Nu => {
                let show = if status {
                    format!("print -n $\"rc=($env.LAST_EXIT_CODE) \"; print -n {prompt}")
                } else {
                    format!("print -n {prompt}")
                };
                (
                    vec![
                        "$env.config.show_banner = false".into(),
                        "$env.PROMPT_COMMAND = {|| '' }".into(),
                        "$env.PROMPT_COMMAND_RIGHT = {|| '' }".into(),
                        "$env.PROMPT_INDICATOR = ''".into(),
                        "$env.PROMPT_MULTILINE_INDICATOR = ''".into(),
                    ],
                    vec![format!(
                        "$env.config.hooks.pre_prompt = ($env.config.hooks.pre_prompt | append {{|| {show} }})"
                    )],
                )
            }
            Elvish => (
                vec![
                    "set edit:prompt = { put '' }".into(),
                    "set edit:rprompt = { put '' }".into(),
                ],
                vec![format!(
                    "set edit:before-readline = [$@edit:before-readline {{ print {prompt} }}]"
                )],
            ),
            Xonsh => {
                let p = if status {
                    format!("'rc={{last_return_code}} ' + {prompt}")
                } else {
                    prompt.clone()
                };
                (
                    vec![
                        format!("$PROMPT = {p}"),
                        "$RIGHT_PROMPT = ''".into(),
                        "$BOTTOM_TOOLBAR = ''".into(),
                        "$TITLE = ''".into(),
                    ],
                    vec![],
                )
            }
            Tcsh => {
                let p = if status {
                    format!("set prompt = 'rc=%? '{prompt}")
                } else {
                    format!("set prompt = {prompt}")
                };
                (vec![p, "set prompt2 = ''".into()], vec![])
            }
        };
        let lines = |v: &[String]| v.iter().map(|l| format!("{l}\n")).collect::<String>();
        let mut cmd = self.command(shell.program());
        cmd.args(shell.interactive_args());
        cmd.env("TERM", "xterm");
        let typed = match shell {
            Nu => {
                let dir = self.root.join("config/nushell");
                fs::create_dir_all(dir.join("autoload")).unwrap();
                let config = format!("{}{}\n", lines(&before), shell.hook_install());
                fs::write(dir.join("config.nu"), config).unwrap();
                fs::write(dir.join("env.nu"), "").unwrap();
                let harness = format!("{}{}", lines(&after), lines(setup));
                fs::write(dir.join("autoload/zz-harness.nu"), harness).unwrap();
                None
            }
            _ => {
                let rc = format!(
                    "{}{}\n{}{}",
                    lines(&before),
                    shell.hook_install(),
                    lines(&after),
                    lines(setup)
                );
                let rc_file = self.scratch(&format!("rc.{}", shell.name()));
                fs::write(&rc_file, &rc).unwrap();
                if matches!(shell, Elvish | Xonsh) {
                    cmd.arg(&rc_file);
                    None
                } else {
                    Some(format!("source {}", shell.quote_path(&rc_file)))
                }
            }
        };
        let mut pty = Pty::spawn(cmd);
        pty.deadline = Instant::now() + TIMEOUT * 3;
        if let Some(line) = typed {
            pty.type_line(&line);
        }
        pty.wait_for_prompts(1, shell);
        pty
    }
}

/// A line printing `text` on stdout.
fn print_line(shell: Shell, text: &str) -> String {
    let q = shell.quote(text);
    match shell {
        Bash | Zsh | Fish => format!("printf '%s\\n' {q}"),
        Nu => format!("print {q}"),
        Elvish | Tcsh => format!("echo {q}"),
        Xonsh => format!("print({q}, flush=True)"),
    }
}

/// Lines printing `text` on stdout and then on stderr.
fn print_both(shell: Shell, text: &str) -> String {
    let q = shell.quote(text);
    match shell {
        Bash | Zsh | Fish => format!("printf '%s\\n' {q}\nprintf '%s\\n' {q} >&2"),
        Nu => format!("print {q}\nprint -e {q}"),
        Elvish => format!("echo {q}\necho {q} >&2"),
        Xonsh => {
            format!("print({q}, flush=True)\nprint({q}, file=__import__('sys').stderr, flush=True)")
        }
        Tcsh => format!("echo {q}\necho {q} > /dev/stderr"),
    }
}

/// `strata ARGS…` found through PATH, as a user types it.
fn strata_line(shell: Shell, argv: &[&str]) -> String {
    let mut line = String::from(argv[0]);
    for a in &argv[1..] {
        line.push(' ');
        line.push_str(&shell.arg(a));
    }
    line
}

/// Code that writes the date of the hook's stamp file (`%s.%N`) to `file`, and nothing when
/// there is none. elvish's hook keeps none.
fn stamp_date(shell: Shell, file: &Path) -> String {
    let f = shell.quote_path(file);
    match shell {
        Bash | Zsh | Fish => {
            format!("command date -r \"$__strata_stamp\" +%s.%N > {f} 2>/dev/null; true")
        }
        Nu => format!(
            "try {{ ^date -r $env.__strata.stamp '+%s.%N' err> /dev/null | save -f {f} }} catch {{ }}"
        ),
        Elvish => "# elvish's hook keeps no stamp".to_string(),
        Xonsh => format!(
            "for __h in [h for h in events.on_pre_prompt if getattr(h, '__name__', '') == '__strata_hook']:\n    \
             __ns = __import__('os').stat(__h.stamp).st_mtime_ns if __import__('os').path.exists(__h.stamp) else None\n    \
             if __ns is not None: open({f}, 'w').write('%d.%09d' % divmod(__ns, 10**9))\n"
        ),
        Tcsh => format!("( \\date -r $__strata_stamp:q +%s.%N > {f} ) >& /dev/null"),
    }
}

const DONE: &str = "@@strata-test-done@@";
const PROMPT: &str = "READY> ";

fn mark_line(label: &str) -> String {
    format!("@@mark:{label}@@")
}

fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// A TOML basic string holding `s`.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Path of the strata binary under test: the one cargo built for this test run, or the one
/// `STRATA_TEST_BIN` names (CI runs the suite again against the binary the install command made).
pub fn strata_bin() -> PathBuf {
    match std::env::var_os("STRATA_TEST_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_strata")),
    }
}

fn bin_dir() -> PathBuf {
    strata_bin().parent().unwrap().to_path_buf()
}

/// One thing a scripted shell does, in order. Build them with [`cd`], [`prompt`], [`raw`],
/// [`snap`], [`mark`], [`write`] and [`run_strata`].
#[derive(Clone, Debug)]
pub enum Step {
    /// `cd` to a directory under `work/` ("" is `work/` itself).
    Cd(String),
    /// One prompt: run the prompt hooks through the shell's public mechanism.
    Prompt,
    /// A raw line of shell code.
    Raw(String),
    /// Record the exported environment under a label.
    Snap(String),
    /// Print a marker on stdout and stderr, so output can be attributed to the steps after it.
    Mark(String),
    /// Replace a file under `work/` (new inode, as editors do) with these bytes.
    Write(String, Vec<u8>),
    /// Run `strata ARGS` from the shell (found through PATH).
    Strata(Vec<String>),
    /// Record the date of the hook's stamp file under a label (see [`ShellRun::assert_no_export`]).
    Stamp(String),
    /// Date `work/<rel>` this many seconds in the past (`touch -d`), from inside the script.
    Backdate(String, u64),
}

/// `cd work/<rel>`.
pub fn cd(rel: &str) -> Step {
    Step::Cd(rel.to_string())
}

/// One simulated prompt.
pub fn prompt() -> Step {
    Step::Prompt
}

/// A raw shell line.
pub fn raw(line: impl Into<String>) -> Step {
    Step::Raw(line.into())
}

/// Records the exported environment as `label`.
pub fn snap(label: &str) -> Step {
    Step::Snap(label.to_string())
}

/// Starts a new output segment named `label`.
pub fn mark(label: &str) -> Step {
    Step::Mark(label.to_string())
}

/// Replaces `work/<rel>` with `contents`.
pub fn write(rel: &str, contents: impl AsRef<[u8]>) -> Step {
    Step::Write(rel.to_string(), contents.as_ref().to_vec())
}

/// `strata ARGS` run from inside the shell.
pub fn run_strata(args: &[&str]) -> Step {
    Step::Strata(args.iter().map(|s| s.to_string()).collect())
}

/// Records the date of the hook's stamp file as `label`. Every `strata export --hook` re-dates
/// that file before anything else, so two equal dates mean no export ran in between.
pub fn stamp(label: &str) -> Step {
    Step::Stamp(label.to_string())
}

/// Dates `work/<rel>` `secs` seconds in the past, at this point of the script: what waiting
/// that long after the last change to it would do to its timestamp, without the wait.
pub fn backdate(rel: &str, secs: u64) -> Step {
    Step::Backdate(rel.to_string(), secs)
}

/// What a scripted shell did: its output, split by [`mark`]s, and its [`snap`]shots.
pub struct ShellRun {
    pub shell: Shell,
    pub script: String,
    pub out: Output,
    snaps: HashMap<String, Env>,
    stamps: HashMap<String, Option<String>>,
}

impl ShellRun {
    /// Everything, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "--- {} script ---\n{}\n{}",
            self.shell.name(),
            self.script,
            self.out.describe()
        )
    }

    /// The environment recorded at `snap(label)`.
    #[track_caller]
    pub fn env(&self, label: &str) -> &Env {
        self.snaps
            .get(label)
            .unwrap_or_else(|| panic!("no snapshot named {label:?}"))
    }

    /// The date of the hook's stamp file at `stamp(label)` (`None`: there was none).
    #[track_caller]
    pub fn stamp_at(&self, label: &str) -> Option<&str> {
        self.stamps
            .get(label)
            .unwrap_or_else(|| panic!("no stamp step named {label:?}"))
            .as_deref()
    }

    /// Asserts that no `strata export` ran between `stamp(from)` and `stamp(to)`: the prompts in
    /// between took the hook's fork-free path (each export re-dates the stamp file first).
    #[track_caller]
    pub fn assert_no_export(&self, from: &str, to: &str) {
        let (a, b) = (self.stamp_at(from), self.stamp_at(to));
        assert!(
            a.is_some() && a == b,
            "[{}] strata ran between {from:?} and {to:?} (stamp {a:?} -> {b:?}): the prompts \
             there did not take the fork-free path\n{}",
            self.shell.name(),
            self.describe()
        );
    }

    /// Asserts that a `strata export` ran between `stamp(from)` and `stamp(to)`.
    #[track_caller]
    pub fn assert_exported(&self, from: &str, to: &str) {
        let (a, b) = (self.stamp_at(from), self.stamp_at(to));
        assert!(
            b.is_some() && a != b,
            "[{}] no strata export between {from:?} and {to:?} (stamp {a:?} -> {b:?})\n{}",
            self.shell.name(),
            self.describe()
        );
    }

    /// The exported value of `name` at `snap(label)`; `None` when unset.
    #[track_caller]
    pub fn var(&self, label: &str, name: &str) -> Option<&[u8]> {
        self.env(label).get(name)
    }

    /// Asserts the exported value of `name` at `snap(label)`, byte-exact.
    #[track_caller]
    pub fn assert_var(&self, label: &str, name: &str, expected: Option<&[u8]>) {
        let actual = self.var(label, name);
        assert!(
            actual == expected,
            "[{}] at {label:?}: {name} is {}, expected {}\n{}",
            self.shell.name(),
            show_var(actual),
            show_var(expected),
            self.describe()
        );
    }

    /// Asserts `name` is set to `expected` (a string) at `snap(label)`.
    #[track_caller]
    pub fn assert_set(&self, label: &str, name: &str, expected: &str) {
        self.assert_var(label, name, Some(expected.as_bytes()));
    }

    /// Asserts `name` is not exported at `snap(label)`.
    #[track_caller]
    pub fn assert_unset(&self, label: &str, name: &str) {
        self.assert_var(label, name, None);
    }

    /// Stderr printed after `mark(label)` and before the next mark (or the end).
    #[track_caller]
    pub fn stderr_at(&self, label: &str) -> &[u8] {
        segment(&self.out.stderr, label)
            .unwrap_or_else(|| panic!("no mark {label:?} on stderr\n{}", self.describe()))
    }

    /// Stderr printed before `mark(label)` (including what installing the hook printed).
    #[track_caller]
    pub fn stderr_until(&self, label: &str) -> &[u8] {
        let marker = format!("{}\n", mark_line(label));
        let end = find(&self.out.stderr, marker.as_bytes())
            .unwrap_or_else(|| panic!("no mark {label:?} on stderr\n{}", self.describe()));
        &self.out.stderr[..end]
    }

    /// Stdout printed after `mark(label)` and before the next mark (or the end).
    #[track_caller]
    pub fn stdout_at(&self, label: &str) -> &[u8] {
        let seg = segment(&self.out.stdout, label)
            .unwrap_or_else(|| panic!("no mark {label:?} on stdout\n{}", self.describe()));
        match find(seg, DONE.as_bytes()) {
            Some(i) => &seg[..i],
            None => seg,
        }
    }

    /// Lines of stderr after `mark(label)` that start with `strata`.
    #[track_caller]
    pub fn strata_lines_at(&self, label: &str) -> Vec<&[u8]> {
        lines(self.stderr_at(label))
            .into_iter()
            .filter(|l| l.starts_with(b"strata"))
            .collect()
    }
}

fn segment<'a>(output: &'a [u8], label: &str) -> Option<&'a [u8]> {
    let marker = format!("{}\n", mark_line(label));
    let start = find(output, marker.as_bytes())? + marker.len();
    let rest = &output[start..];
    let end = find(rest, b"@@mark:").unwrap_or(rest.len());
    Some(&rest[..end])
}

/// `cmd.spawn()`, again for up to a second while it fails with ETXTBSY. A program a test has
/// just written (a copy of strata, a script) cannot be executed while a child that another test
/// thread forked during the write still holds the write descriptor, which it does until its own
/// exec: a moment, but with tests on parallel threads it happens (hostile.rs hit it).
pub fn spawn_retrying(cmd: &mut Command) -> std::io::Result<Child> {
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

/// Runs a command with stdout and stderr captured; kills its process group after [`TIMEOUT`].
pub fn run_with_timeout(mut cmd: Command, what: String) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.process_group(0);
    let start = Instant::now();
    let mut child =
        spawn_retrying(&mut cmd).unwrap_or_else(|e| panic!("could not start `{what}`: {e}"));
    let out_reader = drain(child.stdout.take().unwrap());
    let err_reader = drain(child.stderr.take().unwrap());
    let status = wait_or_kill(&mut child, start + TIMEOUT);
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    let out = Output {
        status: status.unwrap_or_else(|| ExitStatus::from_raw(9)),
        stdout,
        stderr,
        what,
        elapsed: start.elapsed(),
    };
    if status.is_none() {
        panic!(
            "timed out after {TIMEOUT:?} (killed); a hung shell or strata is a failure\n{}",
            out.describe()
        );
    }
    out
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// Waits for `child` until `deadline`; on timeout kills its whole process group and returns None.
fn wait_or_kill(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            // Anything the script left running in the background goes too.
            kill_group(child.id());
            return Some(status);
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kill_group(pid: u32) {
    // SAFETY: kill(2) with a negative pid signals the process group we created for this child.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// A background process started by the test (e.g. `flock FILE sleep 30`), killed on drop.
pub struct Background {
    child: Child,
}

impl Background {
    /// Starts `cmd` in its own process group.
    pub fn start(mut cmd: Command) -> Background {
        cmd.process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Background {
            child: cmd.spawn().expect("start background process"),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// What an interactive shell on a pty did.
pub struct PtyRun {
    pub shell: Shell,
    pub status: ExitStatus,
    pub transcript: Vec<u8>,
}

impl PtyRun {
    pub fn describe(&self) -> String {
        format!(
            "--- {} pty transcript (exit {:?}) ---\n{}",
            self.shell.name(),
            self.status,
            show(&self.transcript)
        )
    }
}

/// One command typed at a real interactive prompt, and what followed it up to the next prompt.
#[derive(Debug)]
pub struct Typed {
    /// What was typed (several lines for a heredoc).
    pub input: String,
    /// Everything the terminal showed from the command to the next prompt: its echo, its
    /// output and the hook's lines at that prompt.
    pub output: Vec<u8>,
    /// The exit status the next prompt reported (`$?`), when the prompt shows it.
    pub status: Option<i32>,
}

impl World {
    /// Like [`World::interactive`], but each command is typed only once the prompt before it
    /// has appeared, so that what each command printed (and what the hook printed at the
    /// prompt after it) can be told apart; the prompt reports `$?` (bash and zsh).
    pub fn interactive_steps(
        &self,
        shell: Shell,
        setup: &[String],
        commands: &[String],
    ) -> (PtyRun, Vec<Typed>) {
        let mut pty = self.start_interactive(shell, true, setup);
        let mut marks = Vec::new();
        for (i, c) in commands.iter().enumerate() {
            marks.push(pty.transcript().len());
            pty.type_line(c);
            pty.wait_for_prompts(2 + i, shell);
        }
        marks.push(pty.transcript().len());
        pty.type_line("exit");
        let status = pty.wait_exit(shell);
        let transcript = pty.transcript();
        let typed = commands
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let output = transcript[marks[i]..marks[i + 1]].to_vec();
                // "rc=N READY> " ends the segment.
                let status = find(&output, PROMPT.as_bytes()).and_then(|at| {
                    let before = &output[..at];
                    let start = before.windows(3).rposition(|w| w == b"rc=")? + 3;
                    std::str::from_utf8(&before[start..])
                        .ok()?
                        .trim()
                        .parse()
                        .ok()
                });
                Typed {
                    input: c.clone(),
                    output,
                    status,
                }
            })
            .collect();
        (
            PtyRun {
                shell,
                status,
                transcript,
            },
            typed,
        )
    }
}

/// A child process whose stdin, stdout and stderr are the slave side of a pseudo-terminal and
/// which has it as its controlling terminal.
struct Pty {
    child: Child,
    master: fs::File,
    output: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    deadline: Instant,
}

impl Pty {
    fn spawn(mut cmd: Command) -> Pty {
        let mut master: libc::c_int = -1;
        let mut slave: libc::c_int = -1;
        let ws = libc::winsize {
            ws_row: 50,
            ws_col: 250,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fds into the provided ints; the other pointers are
        // null (defaults) or a valid winsize.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(rc, 0, "openpty failed: {}", std::io::Error::last_os_error());
        // SAFETY: both fds were just returned by openpty and are owned by nobody else.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        // SAFETY: fcntl on an fd we own; the child must not inherit the master side.
        unsafe {
            libc::fcntl(master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
        }
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start shell on a pty");
        drop(cmd); // closes our copies of the slave side
        let master = fs::File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader_file = master.try_clone().unwrap();
        let mut answer = master.try_clone().unwrap();
        let sink = Arc::clone(&output);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader_file.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut seen = sink.lock().unwrap();
                        let from = seen.len().saturating_sub(3);
                        seen.extend_from_slice(&buf[..n]);
                        // A terminal answers "where is the cursor?" (nushell's line editor
                        // waits for the answer before it reads a key).
                        for _ in 0..count(&seen[from..], b"\x1b[6n") {
                            let _ = answer.write_all(b"\x1b[1;1R");
                        }
                    }
                }
            }
        });
        Pty {
            child,
            master,
            output,
            reader: Some(reader),
            deadline: Instant::now() + TIMEOUT,
        }
    }

    fn transcript(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    fn type_line(&mut self, line: &str) {
        self.master.write_all(line.as_bytes()).unwrap();
        self.master.write_all(b"\r").unwrap();
        self.master.flush().unwrap();
    }

    #[track_caller]
    fn wait_for_prompts(&mut self, n: usize, shell: Shell) {
        loop {
            if count(&self.output.lock().unwrap(), PROMPT.as_bytes()) >= n {
                return;
            }
            if Instant::now() >= self.deadline || self.child.try_wait().unwrap().is_some() {
                kill_group(self.child.id());
                let _ = self.child.wait();
                panic!(
                    "[{}] interactive shell: prompt #{n} never appeared (timeout or exit)\n{}",
                    shell.name(),
                    show(&self.transcript())
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[track_caller]
    fn wait_exit(&mut self, shell: Shell) -> ExitStatus {
        let status = wait_or_kill(&mut self.child, self.deadline);
        if let Some(reader) = self.reader.take() {
            // The reader ends when the last slave fd closes; don't wait forever for it.
            let until = Instant::now() + Duration::from_secs(2);
            while !reader.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        status.unwrap_or_else(|| {
            panic!(
                "[{}] interactive shell did not exit after `exit`\n{}",
                shell.name(),
                show(&self.transcript())
            )
        })
    }
}

/// Sets `path`'s access and modification times to `secs` seconds ago (a final symlink itself,
/// not what it points to).
pub fn backdate_path(path: &Path, secs: u64) {
    let when = SystemTime::now() - Duration::from_secs(secs);
    let since = when.duration_since(UNIX_EPOCH).unwrap();
    let ts = libc::timespec {
        tv_sec: since.as_secs() as libc::time_t,
        tv_nsec: since.subsec_nanos() as _,
    };
    let times = [ts, ts];
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path and two valid timespecs.
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(
        rc,
        0,
        "backdate {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
}

/// [`backdate_path`] for `root` and everything under it (symlinks not followed), except the
/// subtrees in `skip`.
pub fn backdate_tree(root: &Path, secs: u64, skip: &[PathBuf]) {
    if skip.iter().any(|s| s == root) {
        return;
    }
    let meta = fs::symlink_metadata(root).unwrap();
    if meta.is_dir() {
        for e in fs::read_dir(root).unwrap() {
            backdate_tree(&e.unwrap().path(), secs, skip);
        }
    }
    backdate_path(root, secs);
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Fails the test unless it runs as root. For tests marked `#[ignore = "needs root: …"]`, which
/// CI runs as root (`.ci/run`); `why` says what only root can do.
#[track_caller]
pub fn needs_root(why: &str) {
    assert!(
        is_root(),
        "this test needs root ({why}); run it as root with `cargo test -- --ignored NAME`"
    );
}

/// Fails the test when it runs as root. For tests marked `#[ignore = "needs a non-root user:
/// …"]`, which CI runs as an unprivileged user (`.ci/run`); `why` says what root would bypass.
#[track_caller]
pub fn needs_non_root(why: &str) {
    assert!(
        !is_root(),
        "this test needs a non-root user ({why}); run it as one with `cargo test -- --ignored NAME`"
    );
}

/// Reads a file as bytes (empty when missing), for logs written by scripts.
pub fn read_or_empty(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_default()
}

/// Bytes of an `OsString`, for comparing paths with variable values.
pub fn bytes_of(p: &Path) -> Vec<u8> {
    p.as_os_str().to_os_string().into_vec()
}

// ---- killing writers, for the crash trials ----

/// Where a SIGKILL from [`stop_look_kill`] landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kill {
    /// The writer had a temp file open in one of the directories given: it had started writing
    /// a file and had not yet renamed it into place.
    MidWrite,
    /// Killed at any other point (starting up, waiting for a lock, after the rename).
    Elsewhere,
    /// It had already exited; it was not killed.
    TooLate,
}

/// Stops `child` (SIGSTOP, and waits until it is stopped), looks at the files it has open, then
/// kills it with SIGKILL: what it was doing when stopped is what it was doing when killed. The
/// child stays waitable for `Child::wait`.
pub fn stop_look_kill(child: &Child, temp_dirs: &[&Path]) -> Kill {
    let pid = child.id() as libc::pid_t;
    // SAFETY: signalling our own child, which has not been waited for (so the pid is its).
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    // SAFETY: an all-zero siginfo_t is a valid value to be overwritten.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid on our own child with a valid siginfo_t; WNOWAIT leaves it waitable.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WSTOPPED | libc::WEXITED | libc::WNOWAIT,
        )
    };
    assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
    if info.si_code != libc::CLD_STOPPED {
        return Kill::TooLate;
    }
    let mid_write = fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.flatten().any(|fd| {
            fs::read_link(fd.path()).is_ok_and(|to| {
                to.to_string_lossy().ends_with(".tmp")
                    && to.parent().is_some_and(|d| temp_dirs.contains(&d))
            })
        })
    });
    // SAFETY: as above; SIGKILL ends a stopped process too.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    if mid_write {
        Kill::MidWrite
    } else {
        Kill::Elsewhere
    }
}

// ---- seeded randomness for the crash trials ----

/// xorshift64*: small, seeded, good enough for kill timing.
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A number from the environment variable `name`, if set (a test failure if it is not one).
pub fn env_num(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

/// `STRATA_CRASH_SEED`, else a fresh random seed (printed by the tests on failure).
pub fn crash_seed() -> u64 {
    env_num("STRATA_CRASH_SEED").unwrap_or_else(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(u64::from(std::process::id()));
        h.finish() | 1
    })
}
