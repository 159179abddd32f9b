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

/// Defines one `#[test]` per shell for a behaviour: `mod name { fn bash(); fn zsh(); fn fish() }`,
/// so a failure names the behaviour and the shell (`enter_sets_env::zsh`).
/// In scope in every module declared after `#[macro_use] mod support;` in `main.rs`.
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
            }
        )*
    };
}

/// A shell strata supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

pub use Shell::{Bash, Fish, Zsh};

/// Every supported shell, for loops.
pub const ALL_SHELLS: [Shell; 3] = [Bash, Zsh, Fish];

impl Shell {
    /// The shell's name as `strata hook` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Bash => "bash",
            Zsh => "zsh",
            Fish => "fish",
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
             never skip a shell: install it, e.g. `apt-get install -y {name}`"
        );
    }

    pub fn batch_args(self) -> &'static [&'static str] {
        match self {
            Bash => &["--norc", "--noprofile"],
            Zsh => &["-f"],
            Fish => &["--no-config"],
        }
    }

    fn interactive_args(self) -> &'static [&'static str] {
        match self {
            Bash => &["--norc", "--noprofile", "-i"],
            Zsh => &["-f", "-i"],
            Fish => &["--no-config", "-i"],
        }
    }

    /// The rc-file line a user writes to install the hook.
    pub fn hook_install(self) -> &'static str {
        match self {
            Bash => r#"eval "$(strata hook bash)""#,
            Zsh => r#"eval "$(strata hook zsh)""#,
            Fish => "strata hook fish | source",
        }
    }

    /// Shell code that runs one prompt's worth of hooks through the public mechanism.
    pub fn prompt(self) -> &'static str {
        match self {
            // A string PROMPT_COMMAND is element 0 of itself, so this handles both forms.
            Bash => r#"for __c in "${PROMPT_COMMAND[@]}"; do eval "$__c"; done"#,
            Zsh => {
                "if (( $+functions[precmd] )); then precmd; fi; \
                 for __f in $precmd_functions; do $__f; done"
            }
            Fish => "emit fish_prompt",
        }
    }

    /// Quotes a string as one word of this shell's syntax.
    pub fn quote(self, s: &str) -> String {
        match self {
            Bash | Zsh => format!("'{}'", s.replace('\'', r"'\''")),
            Fish => format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'")),
        }
    }

    /// Quotes a path as one word.
    pub fn quote_path(self, p: &Path) -> String {
        self.quote(p.to_str().expect("test paths are UTF-8"))
    }

    /// `export NAME=value` in this shell.
    pub fn export(self, name: &str, value: &str) -> String {
        match self {
            Bash | Zsh => format!("export {name}={}", self.quote(value)),
            Fish => format!("set -gx {name} {}", self.quote(value)),
        }
    }

    /// `unset NAME` in this shell.
    pub fn unset(self, name: &str) -> String {
        match self {
            Bash | Zsh => format!("unset {name}"),
            Fish => format!("set -e {name}"),
        }
    }

    /// Puts `dir` in front of PATH, as a user would in this shell.
    pub fn prepend_path(self, dir: &str) -> String {
        match self {
            Bash | Zsh => format!(r#"export PATH={}:"$PATH""#, self.quote(dir)),
            Fish => format!("set -gx PATH {} $PATH", self.quote(dir)),
        }
    }

    /// The variable holding the last exit status.
    pub fn status_var(self) -> &'static str {
        match self {
            Bash | Zsh => "$?",
            Fish => "$status",
        }
    }

    /// Picks the POSIX-ish (bash and zsh) or the fish spelling of a line.
    pub fn pick<'a>(self, posix: &'a str, fish: &'a str) -> &'a str {
        match self {
            Bash | Zsh => posix,
            Fish => fish,
        }
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
        script.push_str(shell.hook_install());
        script.push('\n');
        let mut snaps = Vec::new();
        let mut stamps = Vec::new();
        for step in steps {
            match step {
                Step::Cd(rel) => {
                    script += &format!("cd {}\n", shell.quote_path(&self.path(rel)));
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
                    script += &format!("command env -0 > {}\n", shell.quote_path(&file));
                    snaps.push((label.clone(), file));
                }
                Step::Stamp(label) => {
                    // The stamp file's date, to the nanosecond (empty when there is none yet).
                    let file = self.scratch("stamp");
                    script += &format!(
                        "command date -r \"$__strata_stamp\" +%s.%N > {} 2>/dev/null; true\n",
                        shell.quote_path(&file)
                    );
                    stamps.push((label.clone(), file));
                }
                Step::Backdate(rel, secs) => {
                    let epoch = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap()
                        .as_secs()
                        - secs;
                    script += &format!(
                        "command touch -h -d @{epoch} -- {}\n",
                        shell.quote_path(&self.path(rel))
                    );
                }
                Step::Mark(label) => {
                    let m = shell.quote(&mark_line(label));
                    script += &format!("printf '%s\\n' {m}\nprintf '%s\\n' {m} >&2\n");
                }
                Step::Write(rel, contents) => {
                    let blob = self.scratch("blob");
                    fs::write(&blob, contents).unwrap();
                    let target = self.path(rel);
                    let tmp = target.with_extension("harness-tmp");
                    script += &format!(
                        "command cp {} {} && command mv {} {}\n",
                        shell.quote_path(&blob),
                        shell.quote_path(&tmp),
                        shell.quote_path(&tmp),
                        shell.quote_path(&target)
                    );
                }
                Step::Strata(args) => {
                    let words: Vec<String> = args.iter().map(|a| shell.quote(a)).collect();
                    script += &format!("strata {}\n", words.join(" "));
                }
            }
        }
        script += &format!("printf '%s\\n' {}\n", shell.quote(DONE));
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
        let program = shell.program();
        let mut rc = String::new();
        match shell {
            Bash | Zsh => rc += &format!("PS1={}\nPS2=''\n", shell.quote(PROMPT)),
            Fish => {
                rc += &format!(
                    "function fish_prompt; printf '%s' {}; end\nfunction fish_greeting; end\n",
                    shell.quote(PROMPT)
                )
            }
        }
        rc += shell.hook_install();
        rc.push('\n');
        for line in setup {
            rc += line;
            rc.push('\n');
        }
        let rc_file = self.scratch(&format!("rc.{}", shell.name()));
        fs::write(&rc_file, &rc).unwrap();

        let mut cmd = self.command(&program);
        cmd.args(shell.interactive_args());
        cmd.env("TERM", "xterm");
        let mut pty = Pty::spawn(cmd);
        let mut typed = vec![format!("source {}", shell.quote_path(&rc_file))];
        typed.extend(lines.iter().cloned());
        let mut prompts_seen = 0;
        for line in &typed {
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
        let mut setup = setup.to_vec();
        match shell {
            Bash => setup.push(format!("PS1='rc=$? '{}", shell.quote(PROMPT))),
            Zsh => setup.push(format!("PS1='rc=%? '{}", shell.quote(PROMPT))),
            Fish => setup.push(format!(
                "function fish_prompt; printf 'rc=%s %s' $status {}; end",
                shell.quote(PROMPT)
            )),
        }
        let program = shell.program();
        let mut rc = String::new();
        match shell {
            Bash | Zsh => rc += &format!("PS1={}\nPS2=''\n", shell.quote(PROMPT)),
            Fish => rc += "function fish_greeting; end\n",
        }
        rc += shell.hook_install();
        rc.push('\n');
        for line in &setup {
            rc += line;
            rc.push('\n');
        }
        let rc_file = self.scratch(&format!("rc-steps.{}", shell.name()));
        fs::write(&rc_file, &rc).unwrap();
        let mut cmd = self.command(&program);
        cmd.args(shell.interactive_args());
        cmd.env("TERM", "xterm");
        let mut pty = Pty::spawn(cmd);
        pty.deadline = Instant::now() + TIMEOUT * 3;
        // The rc file sets the prompt that is counted: its first one follows the rc file.
        pty.type_line(&format!("source {}", shell.quote_path(&rc_file)));
        pty.wait_for_prompts(1, shell);
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
        let sink = Arc::clone(&output);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader_file.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
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
