//! Hostile input: one test (or one group) per attack class of the hostile-input issue. Each
//! builds the attack for real — symlinks, FIFOs, forged `STRATA_STATE`, deep trees, a
//! Shift-JIS locale — and asserts what a correct strata does: no canary file appears, no
//! attacker value is applied, the run stays bounded in time and memory, the target file is
//! intact and the user's own trusted project still applies. Messages are checked only for
//! stable facts (the offending file is named, no raw control bytes, bounded size), never
//! for their wording.

use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::*;

/// How long a prompt (or a strata command) facing hostile input may take; the harness kills
/// anything at 20 s, a bounded strata answers well within this.
const BOUND: Duration = Duration::from_secs(8);

/// `ulimit -v` for runs whose attack is about allocation: 1 GiB, in KiB.
const MEM_KIB: u64 = 1 << 20;

// ---- helpers ----

/// A file whose existence proves attacker code ran.
struct Canary(PathBuf);

impl Canary {
    fn new(w: &World, name: &str) -> Canary {
        Canary(w.root().join(name))
    }

    /// The shell command that creates it (the path has no characters any shell treats
    /// specially).
    fn touch(&self) -> String {
        format!("touch {}", self.0.display())
    }

    #[track_caller]
    fn assert_absent(&self, ctx: &str) {
        assert!(
            !self.0.exists(),
            "attacker code ran: {} was created\n{ctx}",
            self.0.display()
        );
    }
}

/// Raw control bytes in terminal output: ESC and the other C0 controls except `\n` and `\t`,
/// and C1 controls (U+0080–U+009F, or a raw byte 0x80–0x9f outside UTF-8).
fn raw_controls(bytes: &[u8]) -> Vec<String> {
    let mut bad = Vec::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let u = c as u32;
            if (u < 0x20 && c != '\n' && c != '\t') || (0x80..0xa0).contains(&u) {
                bad.push(format!("{c:?}"));
            }
        }
        for &b in chunk.invalid() {
            if (0x80..0xa0).contains(&b) {
                bad.push(format!("\\x{b:02x}"));
            }
        }
    }
    bad
}

#[track_caller]
fn assert_no_controls(bytes: &[u8], what: &str, ctx: &str) {
    let bad = raw_controls(bytes);
    assert!(
        bad.is_empty(),
        "{what} carries raw control bytes {bad:?} (a terminal would interpret them)\n{}",
        safe(ctx)
    );
}

/// `s` with control characters other than `\n` and `\t` escaped, so that a failure message
/// about hostile bytes does not deliver them to the terminal running the tests.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Lines of `bytes` that start with `strata`.
fn strata_lines(bytes: &[u8]) -> Vec<&[u8]> {
    lines(bytes)
        .into_iter()
        .filter(|l| l.starts_with(b"strata"))
        .collect()
}

/// Steps that make planted code run if it got in: another prompt (bash runs PROMPT_COMMAND,
/// the hook runs `$__strata_bin`), a child bash (BASH_ENV), a child zsh (ZDOTDIR), an
/// interactive sh (ENV) and, in bash and zsh, a traced command (PS4).
fn triggers(sh: Shell) -> Vec<Step> {
    let mut steps = vec![
        mark("triggers"),
        prompt(),
        raw(sh.sh_c("bash -c 'true; :' </dev/null >/dev/null 2>&1")),
        raw(sh.sh_c("zsh -c : </dev/null >/dev/null 2>&1")),
        raw(sh.sh_c("sh -i -c : </dev/null >/dev/null 2>&1")),
    ];
    if sh.is_posix() {
        steps.push(raw("{ set -x; : ; set +x; } 2>/dev/null"));
    }
    if sh == Bash {
        // bash expands a prompt string on demand, command substitutions included.
        steps.push(raw(r#": "${PS1@P}" "${PS0@P}" "${PS4@P}""#));
    }
    steps.extend([cd(""), prompt()]);
    steps
}

/// FNV-1a 64 as `env_diff` computes `STRATA_STATE`'s checksum (written out here, so the test
/// does not depend on the code it checks).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A hand-made `STRATA_STATE`: `body` (records after the version, `;`-separated, already
/// percent-encoded) with the checksum today's strata accepts.
fn forge_state(body: &str) -> String {
    let body = format!("1;c=/nowhere;x=;s=;{body}");
    let sum = fnv1a(body.as_bytes());
    format!("{body};k={sum:x}")
}

/// Percent-encodes every byte that is not plain in a `STRATA_STATE` field.
fn pct(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b > b' ' && b < 0x7f && !matches!(b, b'%' | b';' | b',') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs `program ARGS` (with the world's environment plus `env`) under `ulimit -v`.
fn run_limited(w: &World, env: &[(&str, &[u8])], program: &Path, args: &[&str]) -> Output {
    let mut cmd = w.command("/bin/sh");
    cmd.arg("-c")
        .arg("ulimit -v \"$0\" && exec \"$@\"")
        .arg(MEM_KIB.to_string())
        .arg(program)
        .args(args);
    for (k, v) in env {
        cmd.env(k, std::ffi::OsStr::from_bytes(v));
    }
    run_with_timeout(
        cmd,
        format!(
            "ulimit -v {MEM_KIB}; {} {}",
            program.display(),
            args.join(" ")
        ),
    )
}

/// Peak resident memory allowed for one strata run facing endless or huge input.
const RSS_MAX_KIB: i64 = 128 * 1024;

/// Runs `cmd` (made by `World::command`, so with a cleared environment) like the harness does
/// (output captured, killed after [`TIMEOUT`]), and returns its peak resident set size in KiB
/// too, as GNU `time -f %M` reports it. Not `wait4` on our own child: a child spawned from the
/// test process is charged the test process's own resident set (the exec'd image inherits the
/// high-water mark of the address space it replaced), which under a parallel test run is over
/// 100 MiB; `time` forks from its own small image.
#[allow(clippy::zombie_processes)]
fn run_measured(inner: std::process::Command, what: &str) -> (Output, i64) {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::Stdio;
    let report = tempfile::NamedTempFile::new().expect("a file for time's report");
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report.path())
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    if let Some(d) = inner.get_current_dir() {
        cmd.current_dir(d);
    }
    assert!(
        Path::new("/usr/bin/time").is_file(),
        "GNU time is not installed (apt-get install -y time): it measures peak memory here"
    );
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let pid = child.id() as libc::pid_t;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: wait4 on our own child, with valid pointers.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if rc == pid {
            break;
        }
        if start.elapsed() > TIMEOUT {
            // SAFETY: kill(2) on the process group we created.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            timed_out = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: as above; the group may hold leftovers.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    let output = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        what: what.to_string(),
        elapsed: start.elapsed(),
    };
    assert!(
        !timed_out,
        "timed out after {TIMEOUT:?} (killed): strata hung\n{}",
        output.describe()
    );
    let _ = usage;
    // time writes "Command exited with non-zero status N" (or "terminated by signal") first.
    let text = fs::read_to_string(report.path()).unwrap_or_default();
    let rss = text
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<i64>().ok())
        .unwrap_or_else(|| panic!("no peak RSS from time: {text:?}\n{}", output.describe()));
    (output, rss)
}

/// Creates a FIFO.
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

/// Dates a file two hours back, so it is not "racy" (modified within the last 2 s).
fn backdate(path: &Path) {
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    let f = fs::File::options()
        .write(true)
        .open(path)
        .or_else(|_| fs::File::open(path))
        .unwrap();
    f.set_times(fs::FileTimes::new().set_modified(old).set_accessed(old))
        .unwrap();
}

#[track_caller]
fn assert_bounded(elapsed: Duration, ctx: &str) {
    assert!(
        elapsed < BOUND,
        "took {elapsed:?} (bound {BOUND:?}): strata stalled on hostile input\n{ctx}"
    );
}

/// The PATH entries of a snapshot.
fn path_entries(r: &ShellRun, label: &str) -> Vec<Vec<u8>> {
    r.var(label, "PATH")
        .unwrap_or_default()
        .split(|&b| b == b':')
        .map(<[u8]>::to_vec)
        .collect()
}

// ---- 1. trust borrowed through a symlink ----

/// An allowed project: its reviewed `.strata.toml` loads `.env` and puts `bin` on PATH,
/// relative to the directory the file is in.
const BORROWED: &str = "[dotenv]\nfiles = [\".env\"]\n\n[path]\nprepend = [\"bin\"]\n";

/// Repository `repo`'s own payload beside a borrowed file: a `.env` that plants
/// PROMPT_COMMAND and a variable, and a `bin/` with a fake command.
fn plant_payload(w: &World, repo: &str, canary: &Canary) {
    w.write(
        &format!("{repo}/.env"),
        format!("PROMPT_COMMAND='{}'\nB_VAR=from-b\n", canary.touch()),
    );
    w.write(&format!("{repo}/bin/fakecmd"), "#!/bin/sh\necho fake\n");
    fs::set_permissions(
        w.path(&format!("{repo}/bin/fakecmd")),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
}

/// cd into `repo` and back, then asserts nothing of `repo` applied and its file was named.
fn assert_repo_inert(w: &World, sh: Shell, repo: &str, file: &str, canary: &Canary) {
    let mut steps = vec![mark("in"), cd(repo), prompt(), snap("in")];
    steps.extend(triggers(sh));
    let r = w.run_shell(sh, &steps);
    let ctx = r.describe();
    canary.assert_absent(&ctx);
    r.assert_unset("in", "B_VAR");
    let bin = w.path(&format!("{repo}/bin"));
    assert!(
        !path_entries(&r, "in").contains(&bytes_of(&bin)),
        "[{}] {repo}/bin is on PATH\n{ctx}",
        sh.name()
    );
    let named = w.path_str(&format!("{repo}/{file}"));
    assert!(
        strata_lines(r.stderr_at("in"))
            .iter()
            .any(|l| contains(l, named.as_bytes())),
        "[{}] no line names {named} as not allowed\n{ctx}",
        sh.name()
    );
}

per_shell! {
    /// Repo `b` ships `.strata.toml -> ../a/.strata.toml` (allowed) and its own `.env` and
    /// `bin/`: the allowed content, read in `b`, would load `b`'s files.
    fn symlink_to_an_allowed_file_borrows_no_trust(sh) {
        let w = World::new()
            .dir_config("a", BORROWED)
            .file("a/.env", "A_OWN=a\n")
            .mkdir("a/bin")
            .allow("a")
            .mkdir("b");
        let canary = Canary::new(&w, "CANARY");
        plant_payload(&w, "b", &canary);
        symlink("../a/.strata.toml", w.path("b/.strata.toml")).unwrap();
        // The setup is sound: the allowed project itself applies.
        let r = w.run_shell(sh, &[cd("a"), prompt(), snap("a")]);
        r.assert_set("a", "A_OWN", "a");
        assert!(path_entries(&r, "a").contains(&bytes_of(&w.path("a/bin"))), "{}", r.describe());
        assert_repo_inert(&w, sh, "b", ".strata.toml", &canary);
    }

    /// The same with the local file: `b/.strata.local.toml -> ../a/.strata.toml`.
    fn local_file_symlink_borrows_no_trust(sh) {
        let w = World::new()
            .dir_config("a", BORROWED)
            .file("a/.env", "A_OWN=a\n")
            .allow("a")
            .mkdir("b");
        let canary = Canary::new(&w, "CANARY");
        plant_payload(&w, "b", &canary);
        symlink("../a/.strata.toml", w.path("b/.strata.local.toml")).unwrap();
        assert_repo_inert(&w, sh, "b", ".strata.local.toml", &canary);
    }

    /// `trust.paths` covers `trusted/`; repo `b` (outside it) links its `.strata.toml` to a
    /// file in there, and a file inside the prefix links out to an attacker's file.
    fn symlink_across_a_trust_paths_prefix_borrows_no_trust(sh) {
        let w = World::new();
        let trusted = w.path_str("trusted");
        let w = w
            .global(&format!("[settings]\ntrust.paths = [{}]\n", toml_string(&trusted)))
            .dir_config("trusted/p", BORROWED)
            .file("trusted/p/.env", "P_OWN=p\n")
            .mkdir("b")
            .mkdir("trusted/q");
        let canary = Canary::new(&w, "CANARY");
        plant_payload(&w, "b", &canary);
        symlink("../trusted/p/.strata.toml", w.path("b/.strata.toml")).unwrap();
        // Inside the prefix, pointing out of it: the attacker's file is not under trust.paths.
        plant_payload(&w, "trusted/q", &canary);
        w.write("evil/x.toml", BORROWED);
        symlink("../../evil/x.toml", w.path("trusted/q/.strata.toml")).unwrap();
        let r = w.run_shell(sh, &[cd("trusted/p"), prompt(), snap("p")]);
        r.assert_set("p", "P_OWN", "p");
        assert_repo_inert(&w, sh, "b", ".strata.toml", &canary);
        assert_repo_inert(&w, sh, "trusted/q", ".strata.toml", &canary);
    }

    /// `attacker/link -> ../proj` (proj allowed, `[path] prepend = ["bin"]`): PATH gets the
    /// canonical `proj/bin`, never `attacker/link/bin`, which the attacker could retarget.
    fn symlinked_directory_gets_canonical_paths(sh) {
        let w = World::new()
            .dir_config("proj", "[path]\nprepend = [\"bin\"]\n\n[env]\nWHERE = \"${STRATA_DIR}\"\n")
            .mkdir("proj/bin")
            .allow("proj")
            .mkdir("attacker");
        symlink("../proj", w.path("attacker/link")).unwrap();
        let r = w.run_shell(sh, &[cd("attacker/link"), prompt(), snap("in")]);
        let entries = path_entries(&r, "in");
        let ctx = r.describe();
        assert!(
            entries.contains(&bytes_of(&w.path("proj/bin"))),
            "[{}] the canonical proj/bin is not on PATH\n{ctx}", sh.name()
        );
        assert!(
            !entries.iter().any(|e| contains(e, b"attacker/link")),
            "[{}] PATH holds a path through the attacker's symlink\n{ctx}", sh.name()
        );
        assert!(
            !r.var("in", "WHERE").is_some_and(|v| contains(v, b"attacker/link")),
            "[{}] STRATA_DIR went through the attacker's symlink\n{ctx}", sh.name()
        );
    }
}

// ---- 2. forged STRATA_STATE ----

/// A forged state whose variable records carry names that are shell code, and records that
/// "restore" LD_PRELOAD and put a directory on PATH.
fn hostile_state(w: &World, canaries: &[Canary; 3]) -> String {
    let names: [Vec<u8>; 3] = [
        format!("X;{};Y", canaries[0].touch()).into_bytes(),
        format!("$({})", canaries[1].touch()).into_bytes(),
        format!("A\n{}\nB", canaries[2].touch()).into_bytes(),
    ];
    let mut body: Vec<String> = names
        .iter()
        .map(|n| format!("v={},-,=val", pct(n)))
        .collect();
    body.push("v=TWO%20WORDS,-,=val".to_string());
    body.push(format!(
        "v=LD_PRELOAD,-,={}",
        pct(w.root().join("evil.so").as_os_str().as_bytes())
    ));
    body.push(format!(
        "l=PATH,0;a={},0",
        pct(w.root().join("evilbin").as_os_str().as_bytes())
    ));
    forge_state(&body.join(";"))
}

/// Every line of `strata export SHELL` output is one statement on a valid variable name.
#[track_caller]
fn assert_statements_only(shell: &str, out: &Output) {
    let text = out.stdout_str();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let rest = [
            "builtin export ",
            "builtin unset -v ",
            "export ",
            "unset ",
            "set -gx ",
            "set -e -g ",
            "set -e ",
        ]
        .iter()
        .find_map(|p| line.strip_prefix(p));
        let Some(rest) = rest else {
            panic!(
                "[{shell}] a line of export output is not a statement: {line:?}\n{}",
                out.describe()
            );
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let after = rest[name.len()..].chars().next();
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && matches!(after, Some('=' | ' ' | ';'));
        assert!(
            valid,
            "[{shell}] export output names an invalid variable: {line:?}\n{}",
            out.describe()
        );
    }
}

per_shell! {
    /// The shell starts with a forged `STRATA_STATE`: after the first prompt no canary, no
    /// LD_PRELOAD, no forged PATH entry.
    fn forged_state_runs_nothing_and_restores_nothing(sh) {
        let w = World::new();
        let canaries = [Canary::new(&w, "C1"), Canary::new(&w, "C2"), Canary::new(&w, "C3")];
        let state = hostile_state(&w, &canaries);
        let w = w.env("STRATA_STATE", &state);
        let mut steps = vec![prompt(), snap("first")];
        steps.extend(triggers(sh));
        let r = w.run_shell(sh, &steps);
        let ctx = r.describe();
        for c in &canaries {
            c.assert_absent(&ctx);
        }
        r.assert_unset("first", "LD_PRELOAD");
        assert!(
            !path_entries(&r, "first").contains(&bytes_of(&w.root().join("evilbin"))),
            "[{}] a forged list record put a directory on PATH\n{ctx}", sh.name()
        );
    }

    /// A well-formed forged state with a correct FNV-1a checksum is not strata's own (a
    /// fixed strata keys the checksum to a per-user secret): it restores nothing.
    fn well_formed_foreign_state_is_ignored(sh) {
        let w = World::new();
        // HOME's set-hash is the hash of its current value: "strata set it, restore it".
        let home_hash = fnv1a(w.home().as_os_str().as_bytes());
        let state = forge_state(&format!("v=FORGED,-,=forged-value;v=HOME,{home_hash:x},=/forged-home"));
        let w = w.env("STRATA_STATE", &state);
        let r = w.run_shell(sh, &[prompt(), snap("first")]);
        r.assert_unset("first", "FORGED");
        r.assert_set("first", "HOME", w.home().to_str().unwrap());
    }
}

#[test]
fn forged_state_export_output_holds_only_valid_names() {
    let w = World::new();
    let canaries = [
        Canary::new(&w, "C1"),
        Canary::new(&w, "C2"),
        Canary::new(&w, "C3"),
    ];
    let state = hostile_state(&w, &canaries);
    for shell in ["bash", "zsh", "fish"] {
        let out = w.strata_env(&[("STRATA_STATE", &state)], &["export", shell]);
        assert_statements_only(shell, &out);
        assert!(
            !contains(&out.stdout, b"evil.so"),
            "[{shell}] the forged state restores LD_PRELOAD\n{}",
            out.describe()
        );
    }
}

// ---- 3. `import direnv` writes through a planted symlink ----

#[test]
fn import_does_not_write_through_a_planted_symlink() {
    for args in [
        &["import", "direnv"][..],
        &["import", "direnv", "--force"],
        &["import", "dotenv", ".env"],
        &["import", "dotenv", ".env", "--force"],
    ] {
        let what = args.join(" ");
        let w = World::new()
            .file("p/.envrc", "export A=1\n")
            .file("p/.env", "A=1\n");
        // Dangling: the target does not exist yet (a shell rc file strata would create).
        let target = w.home().join(".bash_profile_canary");
        symlink(&target, w.path("p/.strata.toml")).unwrap();
        let out = w.strata_in("p", args);
        assert!(
            !target.exists(),
            "`strata {what}` created {} through a dangling .strata.toml symlink\n{}",
            target.display(),
            out.describe()
        );
        if !args.contains(&"--force") {
            continue;
        }
        // Pointing at an existing file: with --force it keeps its content all the same.
        let victim = w.home().join(".bashrc");
        fs::write(&victim, "V\n").unwrap();
        fs::remove_file(w.path("p/.strata.toml")).unwrap();
        symlink(&victim, w.path("p/.strata.toml")).unwrap();
        let out = w.strata_in("p", args);
        assert_eq!(
            fs::read(&victim).unwrap(),
            b"V\n",
            "`strata {what}` wrote through a .strata.toml symlink\n{}",
            out.describe()
        );
    }
}

/// `.envrc` strings spanning lines whose later lines look like TOML: the translation, once
/// allowed, sets only what the `.envrc` exported (no PROMPT_COMMAND, no EVIL).
#[test]
fn import_multiline_strings_do_not_become_toml() {
    let envrcs = [
        r#"export FOO="line1
[env]
PROMPT_COMMAND = \"touch CANARY\"
"
"#,
        r#"export FOO='a"""
PROMPT_COMMAND = "touch CANARY"
EVIL = """'
"#,
        r#"export FOO="a'''\"\"\"
PROMPT_COMMAND = 'touch CANARY'
EVIL = '''"
"#,
        r#"some_tool "x
[env]
PROMPT_COMMAND = \"touch CANARY\"
"
export FOO=1
"#,
        "cat <<EOF\n[env]\nPROMPT_COMMAND = \"touch CANARY\"\nEOF\nexport FOO=1\n",
        "export FOO=\"a\r\n[env]\r\nPROMPT_COMMAND = \\\"touch CANARY\\\"\r\n\"\n",
        "export FOO=\"a\u{2028}EVIL = 1\u{85}PROMPT_COMMAND = 2\"\n",
    ];
    for envrc in envrcs {
        let w = World::new().file("p/.envrc", envrc);
        let out = w.strata_in("p", &["import", "direnv"]);
        let written = w.path("p/.strata.toml");
        if out.code() != 0 || !written.exists() {
            continue; // refusing is safe
        }
        let toml = fs::read_to_string(&written).unwrap();
        let doc: toml::Table = toml::from_str(&toml).unwrap_or_else(|e| {
            panic!(
                "the written file is not TOML: {e}\n{toml}\n{}",
                out.describe()
            )
        });
        let env = doc.get("env").and_then(|e| e.as_table());
        for key in ["PROMPT_COMMAND", "EVIL"] {
            assert!(
                env.is_none_or(|e| !e.contains_key(key)),
                "the translation of {envrc:?} sets {key}:\n{toml}"
            );
        }
        if w.strata(&["allow", &w.path_str("p")]).code() == 0 {
            let env = w.strata(&["env", "-C", &w.path_str("p"), "--format", "json"]);
            for key in ["PROMPT_COMMAND", "EVIL"] {
                assert!(
                    !contains(&env.stdout, format!("\"{key}\"").as_bytes()),
                    "{envrc:?}: {key} applies\n{toml}\n{}",
                    env.describe()
                );
            }
        }
    }
}

// ---- 4. one file in a parent directory stalls or disables the hook ----

/// The user's own allowed project, `parent/proj`, below a directory the attacker controls;
/// `outer` makes `parent` an allowed project too, whose `.env` the attacker replaces.
fn user_project_below(outer: bool) -> World {
    let w = World::new();
    let w = if outer {
        w.dir_config(
            "parent",
            "[dotenv]\nfiles = [\".env\"]\n\n[env]\nOUTER = \"1\"\n",
        )
        .file("parent/.env", "FROM_DOTENV=1\n")
        .allow("parent")
    } else {
        w.mkdir("parent")
    };
    w.dir_config("parent/proj", "[env]\nMINE = \"1\"\n")
        .allow("parent/proj")
}

/// Planted after the projects were allowed (allowing would read them too).
fn plant(w: &World, rel: &str, junk: &str) {
    let p = w.path(rel);
    let _ = fs::remove_file(&p);
    match junk {
        "fifo" => mkfifo(&p),
        "dev-zero" => symlink("/dev/zero", &p).unwrap(),
        "directory" => fs::create_dir(&p).unwrap(),
        // Unreadable even for root: reading a process's memory at offset 0 fails with EIO.
        "eio" => symlink("/proc/self/mem", &p).unwrap(),
        "unreadable" => {
            fs::write(&p, "[env]\nX = \"1\"\n").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o000)).unwrap();
        }
        // A sparse 8 GiB regular file: no disk, but reading it whole cannot work.
        "sparse" => fs::File::create(&p).unwrap().set_len(8 << 30).unwrap(),
        // 50 MB of real content (one long TOML comment).
        "50mb" => fs::write(&p, vec![b'#'; 50_000_000]).unwrap(),
        _ => unreachable!("{junk}"),
    }
}

/// cd into the user's project under `ulimit -v`: the prompt returns in time, the project
/// applies, and strata says at most one line besides the change line.
fn assert_junk_tolerated(w: &World, sh: Shell, what: &str) {
    w.set_limits(Limits {
        memory_kib: Some(MEM_KIB),
        ..Limits::default()
    });
    let r = w.run_shell(sh, &[mark("in"), cd("parent/proj"), prompt(), snap("in")]);
    w.set_limits(Limits::default());
    let ctx = format!("[{}] {what}\n{}", sh.name(), r.describe());
    assert_bounded(r.out.elapsed, &ctx);
    r.assert_set("in", "MINE", "1");
    let said = strata_lines(r.stderr_at("in"));
    assert!(
        said.len() <= 2,
        "{what}: more than one warning line besides the change line\n{ctx}"
    );
}

per_shell! {
    /// A FIFO named `.strata.toml` in a parent directory (nobody ever writes to it).
    fn parent_fifo_does_not_stall_the_hook(sh) {
        let w = user_project_below(false);
        plant(&w, "parent/.strata.toml", "fifo");
        assert_junk_tolerated(&w, sh, "parent/.strata.toml is a FIFO");
    }

    /// `parent/.strata.toml -> /dev/zero`: endless bytes (run under `ulimit -v`).
    fn parent_dev_zero_does_not_exhaust_memory(sh) {
        let w = user_project_below(false);
        plant(&w, "parent/.strata.toml", "dev-zero");
        assert_junk_tolerated(&w, sh, "parent/.strata.toml -> /dev/zero");
    }

    /// A directory named `.strata.toml` in a parent directory.
    fn parent_directory_named_like_the_file_does_not_disable_the_hook(sh) {
        let w = user_project_below(false);
        plant(&w, "parent/.strata.toml", "directory");
        assert_junk_tolerated(&w, sh, "parent/.strata.toml is a directory");
    }

    /// A parent `.strata.toml` that cannot be read (EIO, which root gets too).
    fn parent_unreadable_file_does_not_disable_the_hook(sh) {
        let w = user_project_below(false);
        plant(&w, "parent/.strata.toml", "eio");
        assert_junk_tolerated(&w, sh, "parent/.strata.toml cannot be read (EIO)");
    }

    /// A sparse 8 GiB `.strata.toml` above: skipped by size, not read whole.
    fn parent_huge_file_is_skipped(sh) {
        let w = user_project_below(false);
        plant(&w, "parent/.strata.toml", "sparse");
        assert_junk_tolerated(&w, sh, "parent/.strata.toml is 8 GiB (sparse)");
    }

    /// An allowed outer project's `.env` (trusted through it, not hashed) becomes a FIFO.
    fn dotenv_fifo_does_not_stall_the_hook(sh) {
        let w = user_project_below(true);
        plant(&w, "parent/.env", "fifo");
        assert_junk_tolerated(&w, sh, "parent/.env is a FIFO");
    }

    /// … or a symlink to /dev/zero.
    fn dotenv_dev_zero_does_not_exhaust_memory(sh) {
        let w = user_project_below(true);
        plant(&w, "parent/.env", "dev-zero");
        assert_junk_tolerated(&w, sh, "parent/.env -> /dev/zero");
    }
}

#[test]
#[ignore = "needs a non-root user: root reads a mode-000 file anyway"]
fn parent_mode_000_file_does_not_disable_the_hook() {
    needs_non_root("root reads a mode-000 file anyway");
    for sh in ALL_SHELLS {
        let w = user_project_below(false);
        plant(&w, "parent/.strata.toml", "unreadable");
        assert_junk_tolerated(&w, sh, "parent/.strata.toml is mode 000");
    }
}

/// The size cap, with real content: a 50 MB `.strata.toml` above is skipped without being
/// held in memory (strata runs under a 48 MiB address-space limit, plenty for itself).
#[test]
fn parent_50mb_file_is_skipped_by_size() {
    let w = user_project_below(false);
    plant(&w, "parent/.strata.toml", "50mb");
    let mut cmd = w.command("/bin/sh");
    cmd.current_dir(w.path("parent/proj"))
        .arg("-c")
        .arg("ulimit -v 49152 && exec \"$0\" export json")
        .arg(strata_bin());
    let out = run_with_timeout(cmd, "ulimit -v 49152; strata export json".into());
    let ctx = out.describe();
    assert_bounded(out.elapsed, &ctx);
    out.success();
    assert_eq!(
        out.json().get("MINE").and_then(|v| v.as_str()),
        Some("1"),
        "{ctx}"
    );
    assert!(
        strata_lines(&out.stderr).len() <= 2,
        "more than one warning besides the change line\n{ctx}"
    );
}

/// `strata allow` of a project whose dotenv is a FIFO or /dev/zero: bounded, refused.
#[test]
fn allow_refuses_a_fifo_or_endless_dotenv() {
    for junk in ["fifo", "dev-zero"] {
        let w = World::new()
            .dir_config("p", "[dotenv]\nfiles = [\".env\"]\n\n[env]\nMINE = \"1\"\n")
            .mkdir("p");
        plant(&w, "p/.env", junk);
        let out = run_limited(&w, &[], &strata_bin(), &["allow", &w.path_str("p")]);
        let ctx = format!("dotenv {junk}\n{}", out.describe());
        assert_bounded(out.elapsed, &ctx);
        assert_eq!(out.code(), 1, "allow should refuse with an error\n{ctx}");
        assert!(
            contains(&out.stderr, b".env"),
            "the error should name the dotenv file\n{ctx}"
        );
    }
}

/// `strata allow` of the user's project under a FIFO or /dev/zero `.strata.toml` above:
/// bounded (whether it then allows or refuses).
#[test]
fn allow_below_parent_junk_is_bounded() {
    for junk in ["fifo", "dev-zero", "directory", "eio", "sparse"] {
        let w = World::new().dir_config("parent/proj", "[env]\nMINE = \"1\"\n");
        plant(&w, "parent/.strata.toml", junk);
        let out = run_limited(
            &w,
            &[],
            &strata_bin(),
            &["allow", &w.path_str("parent/proj")],
        );
        let ctx = format!("parent .strata.toml: {junk}\n{}", out.describe());
        assert_bounded(out.elapsed, &ctx);
        assert!(out.code() == 0 || out.code() == 1, "allow crashed\n{ctx}");
        assert!(strata_lines(&out.stderr).len() <= 2, "{ctx}");
    }
}

// ---- 5. oversized STRATA_STATE ----

/// `STRATA_STATE` must stay far below Linux's 128 KiB limit for one environment string.
const STATE_MAX: usize = 64 * 1024;
/// The change line (and any other line strata prints) stays short.
const LINE_MAX: usize = 4 * 1024;

/// After entering `rel`: an external command still runs, `STRATA_STATE` is small and every
/// line on stderr is short.
fn assert_state_bounded(w: &World, sh: Shell, rel: &str, what: &str) {
    // An external command started by the shell itself, which needs the environment to fit.
    let probe = sh.cmd(&["sh", "-c", "echo EXEC_OK"]);
    let r = w.run_shell(sh, &[mark("in"), cd(rel), prompt(), raw(probe), snap("in")]);
    let ctx = format!("[{}] {what}\n{}", sh.name(), r.describe());
    let ctx: String = ctx.chars().take(20_000).collect();
    assert!(
        contains(r.stdout_at("in"), b"EXEC_OK"),
        "an external command no longer runs in the shell\n{ctx}"
    );
    let state = r.var("in", "STRATA_STATE").unwrap_or_default();
    assert!(
        state.len() < STATE_MAX,
        "STRATA_STATE is {} bytes (limit {STATE_MAX})\n{ctx}",
        state.len()
    );
    for line in lines(r.stderr_at("in")) {
        assert!(
            line.len() < LINE_MAX,
            "a {}-byte line on stderr (limit {LINE_MAX}): {}…\n{ctx}",
            line.len(),
            show(&line[..200.min(line.len())])
        );
    }
}

per_shell! {
    /// 200 nested directories, each with an untrusted `.strata.toml`; cwd at the bottom.
    fn deep_tree_of_untrusted_files_keeps_the_state_small(sh) {
        let w = World::new();
        let mut rel = String::from("deep");
        for i in 0..200 {
            rel.push_str(&format!("/level-{i:03}"));
            w.write(&format!("{rel}/.strata.toml"), "[env]\nX = \"1\"\n");
        }
        assert_state_bounded(&w, sh, &rel, "200 nested untrusted files");
    }
}

// tcsh's setenv takes time in proportion to the variables there are, so 20,000 of them take it
// two minutes (2,000: one second); nushell's hook takes more than the timeout too. Both are
// known limits, stated in the README's shell table.
only_shells! { [bash Bash, zsh Zsh, fish Fish, elvish Elvish, xonsh Xonsh]
    /// An allowed project whose `.env` has 20,000 lines.
    fn huge_dotenv_keeps_the_state_small(sh) {
        let w = World::new()
            .dir_config("p", "[dotenv]\nfiles = [\".env\"]\n")
            .allow("p");
        let dotenv: String = (0..20_000).map(|i| format!("VAR_{i:05}=value-{i}\n")).collect();
        w.write("p/.env", dotenv);
        assert_state_bounded(&w, sh, "p", "a 20,000-line .env");
    }
}

// ---- 6. `set --dir` re-allows an attacker's edit ----

/// The test holds the lock on `p/.strata.toml.lock`; `strata set --dir X=1` waits for it;
/// meanwhile the attacker appends to the allowed file; then the lock is released. The
/// attacker's lines were never reviewed, so they must not end up trusted.
#[test]
fn set_dir_does_not_re_allow_a_concurrent_edit() {
    let w = World::new()
        .dir_config("p", "[env]\nFOO = \"1\"\n")
        .allow("p");
    let canary = Canary::new(&w, "CANARY");
    let file = w.path("p/.strata.toml");
    backdate(&file);
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(w.path("p/.strata.toml.lock"))
        .unwrap();
    lock.lock().unwrap();
    let mut cmd = w.strata_command("p", &["-c", "lock.warn_after=0s", "set", "--dir", "X=1"]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = said.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    // Until it says it waits (or 5 s, if a fixed strata says nothing while waiting).
    let start = Instant::now();
    while !contains(&said.lock().unwrap(), b"lock") && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut f = fs::OpenOptions::new().append(true).open(&file).unwrap();
    std::io::Write::write_all(
        &mut f,
        format!("PROMPT_COMMAND = \"{}\"\nEVIL = \"1\"\n", canary.touch()).as_bytes(),
    )
    .unwrap();
    drop(f);
    lock.unlock().unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    reader.join().unwrap();
    let said = String::from_utf8_lossy(&said.lock().unwrap()).into_owned();
    let ctx = format!(
        "strata set --dir: {status:?}\nstderr: {said}\nfile now:\n{}",
        fs::read_to_string(&file).unwrap_or_default()
    );
    assert!(status.is_some(), "strata set --dir hung\n{ctx}");
    let env = w.strata(&["env", "-C", &w.path_str("p"), "--format", "json"]);
    for key in ["EVIL", "PROMPT_COMMAND"] {
        assert!(
            env.json().get(key).is_none(),
            "the attacker's unreviewed {key} line is trusted\n{ctx}\n{}",
            env.describe()
        );
    }
    for sh in ALL_SHELLS {
        let mut steps = vec![cd("p"), prompt(), snap("in")];
        steps.extend(triggers(sh));
        let r = w.run_shell(sh, &steps);
        canary.assert_absent(&format!("{ctx}\n{}", r.describe()));
        r.assert_unset("in", "EVIL");
    }
}

// ---- 7. permissions of strata's own directories ----

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn chown_nobody(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid path; 65534 is `nobody` on Debian and most distributions.
    let rc = unsafe { libc::lchown(c.as_ptr(), 65534, 65534) };
    assert_eq!(
        rc,
        0,
        "chown nobody {} (the tests run as root): {}",
        p.display(),
        std::io::Error::last_os_error()
    );
}

/// `strata export SHELL` for every shell (and `env`): `name` must not be applied.
#[track_caller]
fn assert_not_applied(w: &World, cwd: &str, name: &str, ctx: &str) {
    for shell in ["bash", "zsh", "fish", "json"] {
        let out = w.strata_in(cwd, &["export", shell]);
        assert!(
            !contains(&out.stdout, name.as_bytes()),
            "[{shell}] {ctx}: {name} is applied\n{}",
            out.describe()
        );
    }
    let out = w.strata_in(cwd, &["env", "--format", "json"]);
    assert!(
        !contains(&out.stdout, name.as_bytes()),
        "[env] {ctx}: {name} is applied\n{}",
        out.describe()
    );
}

#[test]
fn world_writable_sessions_dir_is_not_used() {
    let w = World::new().env("STRATA_SESSION", "s1");
    w.strata(&["set", "FROM_SESSION=1"]).success();
    assert!(contains(
        &w.strata(&["export", "bash"]).stdout,
        b"FROM_SESSION"
    ));
    chmod(&w.state_dir().join("sessions"), 0o777);
    assert_not_applied(&w, "", "FROM_SESSION", "sessions/ is mode 0777");
}

#[test]
fn world_writable_contexts_dir_is_not_used() {
    let w = World::new();
    w.strata(&["context", "create", "prod", "--set", "FROM_CONTEXT=1"])
        .success();
    w.strata(&["use", "prod"]).success();
    assert!(contains(
        &w.strata(&["export", "bash"]).stdout,
        b"FROM_CONTEXT"
    ));
    chmod(&w.config_dir().join("contexts"), 0o777);
    assert_not_applied(&w, "", "FROM_CONTEXT", "contexts/ is mode 0777");
}

#[test]
fn world_writable_trust_dir_is_not_used() {
    let w = World::new()
        .dir_config("p", "[env]\nFROM_DIR = \"1\"\n")
        .allow("p");
    assert!(contains(
        &w.strata_in("p", &["export", "bash"]).stdout,
        b"FROM_DIR"
    ));
    chmod(&w.data_dir().join("trust"), 0o777);
    assert_not_applied(&w, "p", "FROM_DIR", "trust/ is mode 0777");
}

#[test]
#[ignore = "needs root: only root can give a trust record to another user"]
fn trust_record_owned_by_another_user_trusts_nothing() {
    needs_root("only root can give a trust record to another user");
    let w = World::new()
        .dir_config("p", "[env]\nFROM_DIR = \"1\"\n")
        .allow("p");
    let records: Vec<PathBuf> = fs::read_dir(w.data_dir().join("trust"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".lock"))
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    chown_nobody(&records[0]);
    assert_not_applied(&w, "p", "FROM_DIR", "the trust record is owned by nobody");
    // The whole trust directory owned by someone else (mode 0700 still).
    chown_nobody(&w.data_dir().join("trust"));
    assert_not_applied(&w, "p", "FROM_DIR", "trust/ is owned by nobody");
}

// ---- 8. variables that make the shell or the loader run code ----

/// A shell script that creates `canary`.
fn evil_script(w: &World, name: &str, canary: &Canary) -> PathBuf {
    let p = w.root().join(name);
    fs::write(&p, format!("#!/bin/sh\n{}\n", canary.touch())).unwrap();
    chmod(&p, 0o755);
    p
}

/// A shared object whose constructor creates `canary` (cargo needs a C toolchain to link, so
/// `cc` is there wherever these tests build).
fn evil_so(w: &World, canary: &Canary) -> PathBuf {
    let src = w.root().join("evil.c");
    let so = w.root().join("evil.so");
    fs::write(
        &src,
        format!(
            "#include <fcntl.h>\n#include <unistd.h>\n__attribute__((constructor)) static void evil(void) {{ int fd = open(\"{}\", O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd); }}\n",
            canary.0.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&src)
        .output()
        .expect("cc is needed to build the LD_PRELOAD attack (apt-get install -y gcc)");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    so
}

/// `(name, dotenv value, canary)` for every variable that makes a shell or the loader run
/// code; each canary is created if its variable takes effect.
fn dangerous_dotenv(w: &World) -> Vec<(String, String, Canary)> {
    let mut out = Vec::new();
    let mut add = |name: &str, value: String, canary: Canary| {
        out.push((name.to_string(), value, canary));
    };
    let c = |n: &str| Canary::new(w, &format!("CANARY-{n}"));
    let k = c("PROMPT_COMMAND");
    add("PROMPT_COMMAND", format!("'{}'", k.touch()), k);
    for name in ["PS1", "PS0", "PS4"] {
        let k = c(name);
        add(name, format!("'$({})'", k.touch()), k);
    }
    for name in ["BASH_ENV", "ENV"] {
        let k = c(name);
        let script = evil_script(w, &format!("evil-{name}.sh"), &k);
        add(name, script.display().to_string(), k);
    }
    let k = c("ZDOTDIR");
    let zdot = w.root().join("evil-zdotdir");
    fs::create_dir_all(&zdot).unwrap();
    fs::write(zdot.join(".zshenv"), format!("{}\n", k.touch())).unwrap();
    add("ZDOTDIR", zdot.display().to_string(), k);
    let k = c("LD_PRELOAD");
    let so = evil_so(w, &k);
    add("LD_PRELOAD", so.display().to_string(), k);
    let k = c("LD_LIBRARY_PATH");
    add(
        "LD_LIBRARY_PATH",
        w.root().join("evil-lib").display().to_string(),
        k,
    );
    let k = c("BASH_FUNC");
    add("BASH_FUNC_true%%", format!("'() {{ {}; }}'", k.touch()), k);
    let k = c("PATH");
    let bin = w.root().join("evil-bin");
    fs::create_dir_all(&bin).unwrap();
    for cmd in ["true", "bash", "zsh", "sh"] {
        evil_script(w, &format!("evil-bin/{cmd}"), &k);
    }
    add("PATH", format!("{}:${{PATH}}", bin.display()), k);
    let k = c("strata_bin");
    let script = evil_script(w, "evil-strata", &k);
    add("__strata_bin", script.display().to_string(), k);
    // The stamp path: strata creates (and dates) whatever file it names.
    let k = c("strata_stamp");
    add("__strata_stamp", k.0.display().to_string(), k);
    out
}

per_shell! {
    /// An allowed project's dotenv file (not covered by the content hash) sets, on line 2,
    /// one variable that makes a shell or the loader run code: none applies, nothing runs, a
    /// warning names the file and line.
    fn dotenv_cannot_set_code_running_variables(sh) {
        let w = World::new();
        let cases = dangerous_dotenv(&w);
        let mut failures = Vec::new();
        let mut runs = String::new();
        // One shell per variable: one that takes effect (PROMPT_COMMAND) can disable the hook.
        for (i, (name, value, canary)) in cases.iter().enumerate() {
            let dir = format!("p{i}");
            w.write(&format!("{dir}/.strata.toml"), "[dotenv]\nfiles = [\".env\"]\n");
            w.strata(&["allow", &w.path_str(&dir)]).success();
            // Edited after the review: dotenv files are trusted through the file listing them.
            w.write(&format!("{dir}/.env"), format!("SAFE=1\n{name}={value}\n"));
            let mut steps = vec![mark(&dir), cd(&dir), prompt(), snap(&dir)];
            steps.extend(triggers(sh));
            let r = w.run_shell(sh, &steps);
            if canary.0.exists() {
                failures.push(format!("{name}: attacker code ran ({} was created)", canary.0.display()));
            }
            let value = r.var(&dir, name);
            let applied = if name == "PATH" {
                value != Some(w.base_path().as_bytes())
            } else {
                value.is_some()
            };
            if applied {
                failures.push(format!("{name}: applied, {name}={}", show_var(value)));
            }
            let at = format!("{dir}/.env:2");
            if !strata_lines(r.stderr_at(&dir)).iter().any(|l| contains(l, at.as_bytes())) {
                failures.push(format!("{name}: no warning names {at}"));
            }
            if failures.last().is_some_and(|f| f.starts_with(name.as_str())) {
                runs.push_str(&r.describe());
            }
        }
        assert!(
            failures.is_empty(),
            "[{}] dotenv set code-running variables:\n  {}\n{}",
            sh.name(),
            failures.join("\n  "),
            runs.chars().take(30_000).collect::<String>()
        );
    }

    /// `__strata_*` are the hook's own variables: a reviewed `[env]` cannot set them either.
    fn toml_cannot_set_the_hooks_own_variables(sh) {
        let w = World::new();
        let canary = Canary::new(&w, "CANARY");
        let evil = evil_script(&w, "evil-strata", &canary);
        let toml = format!(
            "[env]\n__strata_bin = {}\n__strata_stamp = {}\n__strata_hook = \"x\"\n",
            toml_string(&evil.display().to_string()),
            toml_string(&w.root().join("stamp-canary").display().to_string())
        );
        let w = w.dir_config("p", &toml);
        let out = w.strata(&["allow", &w.path_str("p")]);
        let mut failures = Vec::new();
        if out.code() == 0 {
            failures.push("strata allow accepted a file setting __strata_* variables".to_string());
        }
        // Even if it gets in some other way (trusted by prefix), it is not applied.
        let w = w.trust_work();
        let mut steps = vec![cd("p"), prompt(), snap("in")];
        steps.extend(triggers(sh));
        let r = w.run_shell(sh, &steps);
        if canary.0.exists() {
            failures.push("the hook ran the __strata_bin a file chose".into());
        }
        if w.root().join("stamp-canary").exists() {
            failures.push("strata created the stamp file a file chose".into());
        }
        for name in ["__strata_bin", "__strata_stamp", "__strata_hook"] {
            if let Some(v) = r.var("in", name) {
                failures.push(format!("{name} is exported: {}", show(v)));
            }
        }
        assert!(
            failures.is_empty(),
            "[{}] {}\n{}\n{}",
            sh.name(),
            failures.join("\n"),
            out.describe(),
            r.describe()
        );
    }
}

// ---- 9. bash quoting depends on the locale ----

/// Fails (with what CI must run) when the Shift-JIS locale is missing; never skips.
fn require_sjis_locale(w: &World) {
    let mut cmd = w.command("locale");
    cmd.arg("charmap").env("LC_ALL", "ja_JP.SJIS");
    let out = run_with_timeout(cmd, "LC_ALL=ja_JP.SJIS locale charmap".into());
    assert!(
        out.stdout_str().trim() == "SHIFT_JIS",
        "the Shift-JIS locale ja_JP.SJIS is not installed; run (as root, package `locales`):\n  \
         localedef --no-warnings=ascii -f SHIFT_JIS -i ja_JP ja_JP.SJIS\n{}",
        out.describe()
    );
}

/// Values mixing characters whose UTF-8 bytes include a Shift-JIS lead byte (0x81–0x9f,
/// 0xe0–0xfc) with `'` and `\`: in Shift-JIS, the lead byte and a following `\` (0x5c) are
/// one character, so an escape `\'` loses its backslash and the quote ends the word.
fn sjis_values(canary: &Canary) -> Vec<String> {
    let inject = format!("; {}; #", canary.touch());
    let mut out = Vec::new();
    for c in ["Á", "ā", "—", "ё", "表", "ソ"] {
        for pre in ["", "\t"] {
            out.push(format!("{pre}{c}'{inject}"));
            out.push(format!("{pre}{c}\\'{inject}"));
            out.push(format!("{pre}{c}\\"));
            out.push(format!("{pre}{c}\\\\x41"));
            out.push(format!("{pre}x{c}'y\\z\n{c}"));
        }
    }
    out
}

// tcsh under Shift-JIS stops at the hook's own code (a known gap, in the README's shell table).
only_shells! { [bash Bash, zsh Zsh, fish Fish, nu Nu, elvish Elvish, xonsh Xonsh]
    /// Under `LC_ALL=ja_JP.SJIS`, an allowed project's values round-trip byte for byte and
    /// none of them runs anything.
    fn values_round_trip_in_a_shift_jis_locale(sh) {
        let w = World::new();
        require_sjis_locale(&w);
        let canary = Canary::new(&w, "CANARY");
        let values = sjis_values(&canary);
        let mut toml = String::from("[env]\n");
        for (i, v) in values.iter().enumerate() {
            toml.push_str(&format!("K{i} = {}\n", toml_string(v)));
        }
        let w = w
            .dir_config("p", &toml)
            .allow("p")
            .env("LC_ALL", "ja_JP.SJIS")
            .env("LANG", "ja_JP.SJIS");
        let r = w.run_shell(sh, &[cd("p"), prompt(), snap("in"), prompt()]);
        canary.assert_absent(&r.describe());
        let wrong: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(i, v)| r.var("in", &format!("K{i}")) != Some(v.as_bytes()))
            .map(|(i, v)| format!("K{i}: {v:?} came back as {}", show_var(r.var("in", &format!("K{i}")))))
            .collect();
        assert!(
            wrong.is_empty(),
            "[{}] {} of {} values did not round-trip under Shift-JIS:\n  {}\n{}",
            sh.name(),
            wrong.len(),
            values.len(),
            wrong.join("\n  "),
            r.describe().chars().take(20_000).collect::<String>()
        );
    }
}

// ---- 10. terminal and prompt escapes ----

/// A directory name that retitles the terminal (OSC 0 … BEL) and erases the line (CSI 2K).
const ESC_DIR: &str = "esc\u{1b}]0;pwned\u{7}-\u{1b}[2K-\u{9b}1A";

// nushell's cd takes control characters out of a path: it cannot enter these directories.
only_shells! { [bash Bash, zsh Zsh, fish Fish, elvish Elvish, xonsh Xonsh, tcsh Tcsh]
    /// An untrusted file in a directory whose name is terminal escapes: the "not allowed"
    /// line names it without raw control bytes.
    fn untrusted_warning_carries_no_raw_escapes(sh) {
        let w = World::new().dir_config(ESC_DIR, "[env]\nX = \"1\"\n");
        let r = w.run_shell(sh, &[mark("in"), cd(ESC_DIR), prompt(), snap("in")]);
        let said = r.stderr_at("in");
        assert!(!strata_lines(said).is_empty(), "[{}] nothing said about the untrusted file\n{}", sh.name(), safe(&r.describe()));
        assert_no_controls(said, &format!("[{}] the hook's stderr", sh.name()), &r.describe());
        assert!(contains(said, b"pwned"), "[{}] the file is not named\n{}", sh.name(), safe(&r.describe()));
    }
}

// nushell's cd takes control characters out of a path: it cannot enter these directories.
only_shells! { [bash Bash, zsh Zsh, fish Fish, elvish Elvish, xonsh Xonsh, tcsh Tcsh]
    /// STRATA_PROMPT (which prompts show as is) names the nearest directory with a directory
    /// file, trusted or not: it must not carry the name's raw control bytes either.
    fn prompt_variable_carries_no_raw_escapes(sh) {
        let w = World::new().dir_config(ESC_DIR, "[env]\nX = \"1\"\n");
        let r = w.run_shell(sh, &[cd(ESC_DIR), prompt(), snap("in")]);
        let shown = r.var("in", "STRATA_PROMPT").unwrap_or_default();
        assert_no_controls(shown, &format!("[{}] STRATA_PROMPT", sh.name()), &r.describe());
    }
}

/// The same directory through the commands that name files: `env`, `status`, `why`, `allow`,
/// `deny`, `trust list`, `prompt`.
#[test]
fn commands_name_hostile_paths_without_raw_escapes() {
    let w = World::new().dir_config(ESC_DIR, "[env]\nX = \"1\"\n");
    let dir = w.path_str(ESC_DIR);
    let runs: Vec<Vec<&str>> = vec![
        vec!["env", "-C", &dir],
        vec!["status", "-C", &dir],
        vec!["why", "-C", &dir, "X"],
        vec!["deny", &dir],
        vec!["allow", &dir],
        vec!["trust", "list"],
        vec!["why", "-C", &dir, "X"],
        vec!["status", "-C", &dir],
        vec!["prompt", "-C", &dir],
        vec!["prompt", "--shell", "zsh", "-C", &dir],
    ];
    let mut failures = Vec::new();
    for args in runs {
        let out = w.strata(&args);
        for (stream, bytes) in [("stderr", &out.stderr), ("stdout", &out.stdout)] {
            let bad = raw_controls(bytes);
            if !bad.is_empty() {
                let cmd = args.join(" ").escape_debug().to_string();
                failures.push(format!("`strata {cmd}` {stream}: {bad:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "raw control bytes in what strata prints:\n  {}",
        failures.join("\n  ")
    );
}

/// `strata prompt --shell zsh` in a directory whose name holds zsh prompt escapes: rendered
/// by a real zsh (`print -P`), the name comes out literally.
#[test]
fn zsh_prompt_segment_escapes_percent() {
    let mut failures = Vec::new();
    for name in [
        "100%F{red}x",
        "a%(?.ok.no)b",
        "%B%Sbold%s%b",
        "x%{%}y%%z",
        "n%n%~",
    ] {
        let w = World::new().dir_config(name, "[env]\nX = \"1\"\n");
        let out = w.sh(
            Zsh,
            &format!(
                "cd {}\nprint -rn -- \"$(print -P -- \"$(strata prompt --shell zsh)\")\"\n",
                Zsh.quote_path(&w.path(name))
            ),
        );
        if out.stdout != name.as_bytes() {
            failures.push(format!("{name:?} rendered as {:?}", show(&out.stdout)));
        }
    }
    assert!(
        failures.is_empty(),
        "zsh renders prompt escapes from a directory name:\n  {}",
        failures.join("\n  ")
    );
}

// ---- 11. NUL in a value ----

per_shell! {
    /// `[env] A = "x\u0000y"` (trusted) and a dotenv line with a raw NUL: no variable can
    /// hold a NUL, so A must not be set to a truncated `x`; an error names the file.
    fn nul_in_a_value_is_an_error_not_a_truncation(sh) {
        let w = World::new()
            .dir_config("toml", "[env]\nA = \"x\\u0000y\"\n")
            .dir_config("dotenv", "[dotenv]\nfiles = [\".env\"]\n")
            .allow("dotenv")
            .file("dotenv/.env", b"A=x\0y\nB=after\n")
            .trust_work();
        for (dir, file) in [("toml", ".strata.toml"), ("dotenv", ".env")] {
            let r = w.run_shell(sh, &[mark("in"), cd(dir), prompt(), snap("in")]);
            r.assert_unset("in", "A");
            let named = w.path_str(&format!("{dir}/{file}"));
            assert!(
                strata_lines(r.stderr_at("in")).iter().any(|l| contains(l, named.as_bytes())),
                "[{}] no error names {named}\n{}", sh.name(), r.describe()
            );
        }
    }
}

// ---- 12. `allow` in a non-UTF-8 directory ----

// nushell's paths are strings: a directory not named in UTF-8 cannot be entered there.
only_shells! { [bash Bash, zsh Zsh, fish Fish, elvish Elvish, xonsh Xonsh, tcsh Tcsh]
    /// A project in a directory named with byte 0xff: after `strata allow` there, the file
    /// applies at the next prompt.
    fn allow_in_a_non_utf8_directory_applies(sh) {
        let w = World::new();
        let dir = w.work().join(std::ffi::OsStr::from_bytes(b"proj-\xff"));
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join(".strata.toml"), "[env]\nNON_UTF8 = \"yes\"\n").unwrap();
        let work = w.path_str("");
        let cd_line = match sh {
            Bash | Zsh => format!("cd {}/$'proj-\\xff'", sh.quote(&work)),
            Fish => format!("cd {}/proj-\\Xff", sh.quote(&work)),
            Elvish => format!("cd {}\"/proj-\\xff\"", sh.quote(&work)),
            Xonsh => format!("cd @(__import__('os').fsdecode({}.encode() + b'/proj-\\xff'))", sh.quote(&work)),
            Tcsh => format!("cd {}/\"`printf 'proj-\\377'`\"", sh.quote(&work)),
            Nu => unreachable!(),
        };
        let r = w.run_shell(sh, &[
            raw(cd_line), prompt(), snap("before"),
            mark("allow"), raw("strata allow"), prompt(), snap("after"),
            prompt(), snap("again"),
        ]);
        r.assert_unset("before", "NON_UTF8");
        r.assert_set("after", "NON_UTF8", "yes");
        r.assert_set("again", "NON_UTF8", "yes");
    }
}

// ---- 13. spill ids opened before validation ----

/// A forged state (with today's checksum) whose `v=` record's previous value is "stored"
/// under `@ID`; ids are 64 hex digits naming a file in `values/`, and must be checked before
/// anything is opened: `/dev/zero`, a path out of `values/` to a FIFO, a valid-looking id
/// that is a FIFO.
#[test]
fn spill_ids_are_validated_before_anything_is_opened() {
    let w = World::new();
    let values = w.state_dir().join("values");
    fs::create_dir_all(&values).unwrap();
    for d in [w.state_dir(), values.clone()] {
        chmod(&d, 0o700);
    }
    mkfifo(&w.root().join("state/fifo"));
    let hex_id = "ab".repeat(32);
    mkfifo(&values.join(&hex_id));
    for id in ["/dev/zero", "../../fifo", hex_id.as_str()] {
        let state = forge_state(&format!("v=SPILLED,-,@{}", pct(id.as_bytes())));
        let mut cmd = w.command("/bin/sh");
        cmd.arg("-c")
            .arg("ulimit -v \"$0\" && exec \"$1\" export bash")
            .arg(MEM_KIB.to_string())
            .arg(strata_bin())
            .env("STRATA_STATE", &state);
        let (out, rss) = run_measured(cmd, "strata export bash");
        let ctx = format!("spill id {id:?}\n{}", out.describe());
        assert_bounded(out.elapsed, &ctx);
        assert!(
            out.code() == 0 || out.code() == 1,
            "strata crashed (under ulimit -v {MEM_KIB})\n{ctx}"
        );
        assert!(
            rss < RSS_MAX_KIB,
            "strata grew to {rss} KiB resident (bound {RSS_MAX_KIB}): it read what the id named\n{ctx}"
        );
    }
}

// ---- 14. echoed content ----

/// A secret-looking string on malformed dotenv lines: no strata output repeats it.
const SECRET: &str = "s3cr3t-CONTENT-xyz";

per_shell! {
    fn malformed_dotenv_lines_are_not_echoed(sh) {
        let malformed = [
            format!("{SECRET}\n"),
            format!("{SECRET}=1\n"),
            format!("export {SECRET}\n"),
            format!("export {SECRET} more\n"),
            // (An unclosed `${` in an unquoted value is literal text in the dialect, so a
            // value, which `env` and `export` rightly print; inside an open quote it is not.)
            format!("A=\"${{{SECRET}\n"),
            format!("TOKEN=\"{SECRET}\" trailing\n"),
            format!("KEY='{SECRET}\n"),
            format!("K {SECRET}\n"),
        ];
        let mut failures = Vec::new();
        for (i, line) in malformed.iter().enumerate() {
            let dir = format!("p{i}");
            let w = World::new()
                .dir_config(&dir, "[dotenv]\nfiles = [\".env\"]\n\n[env]\nOK = \"1\"\n")
                .file(&format!("{dir}/.env"), format!("FIRST=1\n{line}"));
            // `allow` validates the dotenv file too.
            let out = w.strata(&["allow", &w.path_str(&dir)]);
            if contains(&out.stderr, SECRET.as_bytes()) || contains(&out.stdout, SECRET.as_bytes()) {
                failures.push(format!("{line:?}: strata allow echoed it: {}", show(&out.stderr)));
            }
            // Allowed before the dotenv went bad: the hook, env, why and status.
            w.write(&format!("{dir}/.env"), "FIRST=1\n");
            w.strata(&["allow", &w.path_str(&dir)]).success();
            w.write(&format!("{dir}/.env"), format!("FIRST=1\n{line}"));
            let r = w.run_shell(sh, &[cd(&dir), prompt(), prompt(), cd(""), prompt()]);
            if contains(&r.out.stderr, SECRET.as_bytes()) || contains(&r.out.stdout, SECRET.as_bytes()) {
                failures.push(format!("{line:?}: the hook echoed it: {}", show(&r.out.stderr)));
            }
            let p = w.path_str(&dir);
            for args in [
                vec!["env", "-C", &p],
                vec!["export", "bash"],
                vec!["why", "-C", &p, "FIRST"],
                vec!["status", "-C", &p],
            ] {
                let out = w.strata_in(&dir, &args);
                if contains(&out.stderr, SECRET.as_bytes()) || contains(&out.stdout, SECRET.as_bytes()) {
                    failures.push(format!("{line:?}: strata {} echoed it: {}", args[0], show(&out.stderr)));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "[{}] dotenv content repeated in strata's output:\n  {}",
            sh.name(),
            failures.join("\n  ")
        );
    }
}

// ---- 15. `context export -o` follows symlinks ----

#[test]
fn context_export_does_not_write_through_a_symlink() {
    let w = World::new();
    w.strata(&["context", "create", "prod", "--set", "A=1"])
        .success();
    let victim = w.root().join("victim");
    fs::write(&victim, "V\n").unwrap();
    symlink(&victim, w.path("out.toml")).unwrap();
    let out = w.strata(&["context", "export", "prod", "-o", "out.toml"]);
    assert_eq!(
        fs::read(&victim).unwrap(),
        b"V\n",
        "`context export -o out.toml` wrote through out.toml -> victim\n{}",
        out.describe()
    );
    // Dangling: nothing is created at the far end either.
    let far = w.root().join("created-through-symlink");
    symlink(&far, w.path("dangling.toml")).unwrap();
    let out = w.strata(&["context", "export", "prod", "-o", "dangling.toml"]);
    assert!(
        !far.exists(),
        "`context export -o` created a file through a dangling symlink\n{}",
        out.describe()
    );
}

// ---- 16. a repository moves strata's own directories ----

/// strata finding its directories the way it does for most users: from HOME alone (no
/// `STRATA_*_DIR`, no `XDG_*`).
fn home_only_world() -> World {
    let mut w = World::new();
    for name in [
        "STRATA_CONFIG_DIR",
        "STRATA_STATE_DIR",
        "STRATA_DATA_DIR",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "XDG_DATA_HOME",
    ] {
        w = w.env_remove(name);
    }
    w
}

/// Writes `rel` (under work/) with private parent directories, as strata wants its own.
fn write_private(w: &World, rel: &str, contents: &str) {
    let p = w.path(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    let mut d = p.parent().unwrap();
    while d.starts_with(w.path("p")) && d != w.path("p") {
        chmod(d, 0o700);
        d = d.parent().unwrap();
    }
    fs::write(&p, contents).unwrap();
}

per_shell! {
    /// An allowed project sets HOME (or XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME) to a
    /// directory it ships, holding a strata config with `trust.paths = ["/"]`, a trust record,
    /// or a context selection. In its subdirectory an untrusted file must still not apply.
    fn a_project_cannot_move_stratas_directories(sh) {
        let variants: [(&str, &str); 5] = [
            ("HOME", "[env]\nHOME = \"${STRATA_DIR}/.h\"\n"),
            ("XDG_CONFIG_HOME", "[env]\nXDG_CONFIG_HOME = \"${STRATA_DIR}/.x\"\n"),
            ("XDG_DATA_HOME", "[env]\nXDG_DATA_HOME = \"${STRATA_DIR}/.d\"\n"),
            ("XDG_STATE_HOME", "[env]\nXDG_STATE_HOME = \"${STRATA_DIR}/.s\"\n"),
            ("HOME from .env", "[dotenv]\nfiles = [\".env\"]\n"),
        ];
        let mut failures = Vec::new();
        for (what, toml) in variants {
            let w = home_only_world();
            let canary = Canary::new(&w, "CANARY");
            // The user's own context, not active.
            w.strata(&["context", "create", "prod", "--set", "PROD=1"]).success();
            let w = w.dir_config("p", toml);
            // Refusing the file at `allow` is a defence too (strata reserves these names): then
            // the reviewed file never applies, and neither does anything it could have pointed at.
            let allow = w.strata(&["allow", &w.path_str("p")]);
            if allow.code() != 0 {
                let var = what.split(' ').next().unwrap_or(what);
                assert!(
                    allow.stderr_str().contains(var),
                    "{what}: allow failed without naming {var}\n{}",
                    allow.describe()
                );
                continue;
            }
            let sub = format!("[env]\nPROMPT_COMMAND = \"{}\"\nSUB = \"1\"\n", canary.touch());
            w.write("p/sub/.strata.toml", &sub);
            let trust_all = "[settings]\ntrust.paths = [\"/\"]\n";
            write_private(&w, "p/.h/.config/strata/config.toml", trust_all);
            write_private(&w, "p/.x/strata/config.toml", trust_all);
            let sub_path = w.path("p/sub/.strata.toml");
            let record = format!(
                "allow {}\n{}\n",
                strata_env::store::trust::sha256_hex(sub.as_bytes()),
                sub_path.display()
            );
            let name = strata_env::store::trust::sha256_hex(sub_path.as_os_str().as_bytes());
            write_private(&w, &format!("p/.d/strata/trust/{name}"), &record);
            write_private(&w, "p/.s/strata/current-context", "prod\n");
            w.write("p/.env", format!("HOME={}\n", w.path_str("p/.h")));
            let mut steps = vec![cd("p"), prompt(), snap("p"), cd("p/sub"), prompt(), snap("sub")];
            steps.extend(triggers(sh));
            let r = w.run_shell(sh, &steps);
            if canary.0.exists() {
                failures.push(format!("{what}: attacker code ran"));
            }
            for var in ["SUB", "PROD"] {
                if r.var("sub", var).is_some() {
                    failures.push(format!("{what}: {var} applied in p/sub"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "[{}] a project moved strata's directories:\n  {}",
            sh.name(),
            failures.join("\n  ")
        );
    }
}

/// `trust.paths` is honoured from the system and global config only: set in a context file,
/// `config get`/`list` must not show it in force, and it must not trust anything.
#[test]
fn trust_paths_in_a_context_is_neither_shown_nor_honoured() {
    let w = World::new();
    w.strata(&["context", "create", "ctx"]).success();
    fs::write(
        w.config_dir().join("contexts/ctx.toml"),
        "[settings]\ntrust.paths = [\"/\"]\n",
    )
    .unwrap();
    w.strata(&["use", "ctx"]).success();
    let w = w.dir_config("p", "[env]\nFROM_DIR = \"1\"\n");
    let get = w.strata_in("p", &["config", "get", "trust.paths"]);
    assert_ne!(
        get.stdout_str().trim(),
        "/",
        "config get shows the context's trust.paths in force\n{}",
        get.describe()
    );
    let list = w.strata_in("p", &["config", "list", "--json"]);
    let shown = list.json()["trust.paths"]["value"].clone();
    assert!(
        shown.as_str().is_none_or(|v| v.is_empty()),
        "config list shows trust.paths = {shown} (from the context) in force\n{}",
        list.describe()
    );
    let env = w.strata_in("p", &["env", "--format", "json"]);
    assert!(
        env.json().get("FROM_DIR").is_none(),
        "the context's trust.paths trusted a directory file\n{}",
        env.describe()
    );
}

// ---- 17. `strata edit` follows a dangling symlink; review-then-swap ----

/// An editor that writes valid content A to the file it is given; with `SWAP_REAL` set, it
/// also writes the attacker's content (from `SWAP_FROM`) straight to that path before it
/// exits, as a process racing the user's save would.
fn editor_script(w: &World) -> PathBuf {
    let p = w.root().join("editor.sh");
    fs::write(
        &p,
        "#!/bin/sh\nprintf '[env]\\nEDITED = \"a\"\\n' > \"$1\"\nif [ -n \"$SWAP_REAL\" ]; then cat \"$SWAP_FROM\" > \"$SWAP_REAL\"; fi\n",
    )
    .unwrap();
    chmod(&p, 0o755);
    p
}

#[test]
fn edit_does_not_follow_a_dangling_symlink() {
    let w = World::new().mkdir("p");
    let target = w.home().join(".bashrc_d_evil.sh");
    symlink(&target, w.path("p/.strata.toml")).unwrap();
    let mut cmd = w.strata_command("p", &["edit"]);
    cmd.env("EDITOR", editor_script(&w));
    let out = w.finish(cmd, &["edit"]);
    assert!(
        !target.exists(),
        "`strata edit` created {} through a dangling .strata.toml symlink\n{}",
        target.display(),
        out.describe()
    );
    let list = w.strata(&["trust", "list", "--json"]);
    assert!(
        !contains(&list.stdout, b".bashrc_d_evil.sh"),
        "`strata edit` trusted the symlink's target\n{}",
        list.describe()
    );
}

#[test]
fn edit_trusts_what_the_editor_wrote_not_a_swapped_file() {
    let w = World::new()
        .dir_config("p", "[env]\nORIG = \"1\"\n")
        .allow("p");
    let canary = Canary::new(&w, "CANARY");
    let attacker = w.root().join("attacker.toml");
    fs::write(
        &attacker,
        format!(
            "[env]\nPROMPT_COMMAND = \"{}\"\nFROM_B = \"b\"\n",
            canary.touch()
        ),
    )
    .unwrap();
    let mut cmd = w.strata_command("p", &["edit"]);
    cmd.env("EDITOR", editor_script(&w))
        .env("SWAP_REAL", w.path("p/.strata.toml"))
        .env("SWAP_FROM", &attacker);
    let out = w.finish(cmd, &["edit"]);
    let env = w.strata(&["env", "-C", &w.path_str("p"), "--format", "json"]);
    let json = env.json();
    let ctx = format!("{}\n{}", out.describe(), env.describe());
    assert!(
        json.get("FROM_B").is_none() && json.get("PROMPT_COMMAND").is_none(),
        "the content swapped in behind the editor is trusted\n{ctx}"
    );
    assert_eq!(
        json.get("EDITED").and_then(|v| v.as_str()),
        Some("a"),
        "what the editor wrote is not what applies\n{ctx}"
    );
    for sh in ALL_SHELLS {
        let mut steps = vec![cd("p"), prompt(), snap("in")];
        steps.extend(triggers(sh));
        let r = w.run_shell(sh, &steps);
        canary.assert_absent(&r.describe());
        r.assert_unset("in", "FROM_B");
    }
}

// ---- 18. escape sequences from untrusted content ----

/// OSC 0 (title), CSI 2K (erase line), CSI 1A (cursor up), OSC 52 (set the clipboard).
const ESCAPES: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2K\u{1b}[1A\u{1b}]52;c;cHduZWQ=\u{7}";

/// A `.strata.toml` whose unknown key decodes to terminal escapes (the file itself is clean
/// TOML: the escapes are `\u001b` sequences in a quoted key).
fn escape_key_toml() -> String {
    format!("[env]\nA = \"1\"\n\n[{}]\nx = 1\n", toml_string(ESCAPES))
}

#[test]
fn allow_and_import_errors_carry_no_raw_escapes() {
    let mut failures = Vec::new();
    let mut check = |what: &str, out: &Output| {
        for (stream, bytes) in [("stderr", &out.stderr), ("stdout", &out.stdout)] {
            let bad = raw_controls(bytes);
            if !bad.is_empty() {
                failures.push(format!("{what} {stream}: {bad:?}"));
            }
        }
    };
    // An unknown key made of escapes.
    let w = World::new().dir_config("p", &escape_key_toml());
    check(
        "allow (unknown key)",
        &w.strata(&["allow", &w.path_str("p")]),
    );
    check(
        "config validate (unknown key)",
        &w.strata_in("p", &["config", "validate"]),
    );
    // Raw escape bytes in the file: not TOML, and the parse error quotes the line.
    let w = World::new().dir_config("p", &format!("[env]\nA = \"{ESCAPES}\"\n"));
    check("allow (raw bytes)", &w.strata(&["allow", &w.path_str("p")]));
    let w = World::new().dir_config("p", &format!("[env]\nA = 1 {ESCAPES}\n"));
    check(
        "allow (raw bytes, bare)",
        &w.strata(&["allow", &w.path_str("p")]),
    );
    // `strata edit`: the editor leaves the escapes in.
    let w = World::new().mkdir("p");
    let editor = w.root().join("bad-editor.sh");
    fs::write(
        &editor,
        format!(
            "#!/bin/sh\nprintf '%s' {} > \"$1\"\n",
            Bash.quote(&escape_key_toml())
        ),
    )
    .unwrap();
    chmod(&editor, 0o755);
    let mut cmd = w.strata_command("p", &["edit"]);
    cmd.env("EDITOR", &editor);
    check("edit (unknown key)", &w.finish(cmd, &["edit"]));
    // `import direnv`: untranslatable lines holding raw escapes are listed.
    for envrc in [
        format!("printf '{ESCAPES}'\nexport A=1\n"),
        format!("layout {ESCAPES}\n"),
        format!("export A=\"$(printf '{ESCAPES}')\"\n"),
        format!("watch_file {ESCAPES}\n"),
    ] {
        let w = World::new().file("p/.envrc", &envrc);
        check(
            &format!("import direnv ({:?})", envrc.escape_debug().to_string()),
            &w.strata_in("p", &["import", "direnv"]),
        );
    }
    assert!(
        failures.is_empty(),
        "raw control bytes from untrusted content:\n  {}",
        failures.join("\n  ")
    );
}

per_shell! {
    /// A file trusted by `trust.paths` (then edited by the attacker) with an unknown key made
    /// of escapes: the hook's error line carries no raw control bytes.
    fn hook_errors_carry_no_raw_escapes(sh) {
        let w = World::new().dir_config("p", "[env]\nA = \"1\"\n").trust_work();
        w.write("p/.strata.toml", escape_key_toml());
        let r = w.run_shell(sh, &[mark("in"), cd("p"), prompt(), snap("in")]);
        let said = r.stderr_at("in");
        assert!(!strata_lines(said).is_empty(), "[{}] no error shown\n{}", sh.name(), r.describe());
        assert_no_controls(said, &format!("[{}] the hook's stderr", sh.name()), &r.describe());
    }
}

// ---- 19. completions quote the binary's path ----

/// A copy of strata in a directory named `name`.
fn binary_in(w: &World, name: &str) -> PathBuf {
    let dir = w.root().join(name);
    fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("strata");
    fs::copy(strata_bin(), &bin).unwrap();
    chmod(&bin, 0o755);
    bin
}

/// The completion script for `sh` made by a copy of strata in a directory named `name`, in a
/// file named as that shell sources it (xonsh: only `*.xsh`).
fn completion_script_from(w: &World, name: &str, sh: Shell) -> PathBuf {
    let bin = binary_in(w, name);
    let mut cmd = w.command(&bin);
    cmd.args(["completions", sh.name()]);
    let made = run_with_timeout(cmd, format!("strata completions {}", sh.name()));
    made.success();
    let ext = if sh == Xonsh { "xsh" } else { sh.name() };
    let script = w.root().join(format!("completion.{ext}"));
    fs::write(&script, &made.stdout).unwrap();
    script
}

// Completions exist for every shell; elvish, nushell, xonsh and tcsh complete only in their
// REPLs (repl_completions_quote_the_binarys_path and tcsh_completions_…, below).
only_shells! { [bash Bash, zsh Zsh, fish Fish]
    /// The completion script made by a copy of strata in a directory whose name holds a
    /// space, a `'` and `$(touch CANARY)` (and one without the `'`), sourced in the real
    /// shell and asked to complete `strata con`: nothing runs, and the subcommands come back.
    fn completions_quote_the_binarys_path(sh) {
        let mut failures = Vec::new();
        for name in ["tools a b'c$(touch CANARY)", "tools $(touch CANARY) x"] {
            let w = World::new();
            let script = completion_script_from(&w, name, sh);
            let out = w.root().join("candidates");
            let (s, o) = (sh.quote_path(&script), sh.quote_path(&out));
            let driver = match sh {
                Bash => format!(
                    "source {s}\n\
                     f=$(complete -p strata | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')\n\
                     COMP_WORDS=(strata con); COMP_CWORD=1; COMP_LINE='strata con'; COMP_POINT=10; COMP_TYPE=9\n\
                     \"$f\" strata con strata\n\
                     printf '%s\\n' \"${{COMPREPLY[@]}}\" > {o}\n"
                ),
                Zsh => format!(
                    "compdef() {{ __f=$1; }}\n\
                     _describe() {{ local n=${{@[-1]}}; print -rl -- \"${{(@P)n}}\" >> {o}; }}\n\
                     source {s}\n\
                     words=(strata con); CURRENT=2\n\
                     $__f\n"
                ),
                Fish => format!("source {s}\ncomplete -C 'strata con' > {o}\n"),
                _ => unreachable!("the three shells whose completions a script can drive"),
            };
            let run = w.sh(sh, &driver);
            if [w.path("CANARY"), w.root().join("CANARY")].iter().any(|c| c.exists()) {
                failures.push(format!("{name:?}: sourcing or using the completion script ran code"));
            }
            let got = fs::read_to_string(&out).unwrap_or_default();
            if !(got.contains("context") && got.contains("config")) {
                failures.push(format!(
                    "{name:?}: completing `strata con` gave {got:?}\n{}\n--- completion script ---\n{}",
                    run.describe(),
                    fs::read_to_string(&script).unwrap_or_default()
                ));
            }
        }
        assert!(failures.is_empty(), "[{}] {}", sh.name(), failures.join("\n"));
    }
}

/// The same for elvish, nushell and xonsh, whose completers exist only in their REPLs: a copy
/// of strata in a directory whose name holds `'`, `$(…)`, elvish's `(…)` and nushell's `'#`,
/// its script loaded in the real REPL and asked to complete `strata con`.
#[test]
fn repl_completions_quote_the_binarys_path() {
    for sh in [Elvish, Nu, Xonsh] {
        for name in ["tools a b'c$(touch CANARY)", "tools (touch CANARY) x'#"] {
            let w = World::new();
            let script = completion_script_from(&w, name, sh);
            let (s, o) = (
                sh.quote_path(&script),
                sh.quote_path(&w.root().join("candidates")),
            );
            let lines = match sh {
                Elvish => vec![
                    format!("eval (slurp < {s})"),
                    format!("$edit:completion:arg-completer[strata] strata con > {o}"),
                ],
                Nu => vec![
                    format!("source {s}"),
                    format!(
                        "do $env.config.completions.external.completer [strata con] | get value | str join \"\\n\" | save -f {o}"
                    ),
                ],
                _ => vec![
                    format!("source {}", sh.arg(&script.display().to_string())),
                    format!(
                        "open({o}, 'w').write('\\n'.join(str(c) for c in __import__('xonsh.completer').completer.Completer().complete('', 'strata con', 10, 10, {{}}, multiline_text='strata con', cursor_index=10)[0]))"
                    ),
                ],
            };
            let run = w.interactive(sh, &[], &lines);
            for canary in [w.path("CANARY"), w.root().join("CANARY")] {
                assert!(
                    !canary.exists(),
                    "[{}] {name:?}: the completion script ran code\n{}",
                    sh.name(),
                    run.describe()
                );
            }
            let got = fs::read_to_string(w.root().join("candidates")).unwrap_or_default();
            assert!(
                got.lines().any(|l| l == "context") && got.lines().any(|l| l == "config"),
                "[{}] {name:?}: completing `strata con` gave {got:?}\n{}",
                sh.name(),
                run.describe()
            );
        }
    }
}

/// tcsh's completion runs the binary from a backquote inside `complete`'s pattern: a copy of
/// strata in a directory whose name holds `'`, `` ` ``, `$(…)` and `/`-free `!`, sourced in
/// the real REPL, completes `strata contex` at a typed TAB and runs nothing else.
#[test]
fn tcsh_completions_quote_the_binarys_path() {
    for name in ["tools a b'c$(touch CANARY)", "tools `touch CANARY` x!y"] {
        let w = World::new();
        let script = completion_script_from(&w, name, Tcsh);
        let out = w.root().join("helped");
        let lines = vec![
            format!("source {}", Tcsh.quote_path(&script)),
            format!("strata contex\t--help > {}", Tcsh.quote_path(&out)),
        ];
        let run = w.interactive(Tcsh, &[], &lines);
        for canary in [w.path("CANARY"), w.root().join("CANARY")] {
            assert!(
                !canary.exists(),
                "{name:?}: the completion script ran code\n{}",
                run.describe()
            );
        }
        let got = fs::read_to_string(&out).unwrap_or_default();
        assert!(
            got.contains("strata context"),
            "{name:?}: `strata contex<TAB>` did not complete: {got:?}\n{}",
            run.describe()
        );
    }
}

// ---- 20. the hook under users' shell options ----

/// A project the scenarios load and unload.
fn options_world() -> World {
    World::new()
        .dir_config("p", "[env]\nFOO = \"in\"\n\n[path]\nprepend = [\"bin\"]\n")
        .mkdir("p/bin")
        .allow("p")
}

/// One scenario: `pre` lines before the hook (the user's rc file above the `eval` line),
/// `setup` steps after it, then cd into the project and out again with `cd_cmd` and
/// `prompt_cmd`, then `teardown`. The project loads and unloads, the shell reaches the end,
/// the canary stays absent, and stderr holds nothing but strata's own lines. Returns what
/// went wrong, if anything.
#[allow(clippy::too_many_arguments)]
fn hook_failure(
    w: &World,
    sh: Shell,
    what: &str,
    pre: &[&str],
    setup: &[Step],
    cd_cmd: &str,
    prompt_cmd: &str,
    teardown: &[Step],
    canary: &Canary,
) -> Option<String> {
    let mut steps: Vec<Step> = setup.to_vec();
    steps.extend([
        raw(format!("{cd_cmd} {}", sh.quote_path(&w.path("p")))),
        raw(prompt_cmd),
        snap("in"),
        raw(format!("{cd_cmd} {}", sh.quote_path(&w.path("")))),
        raw(prompt_cmd),
        snap("out"),
        raw(prompt_cmd),
    ]);
    steps.extend(teardown.iter().cloned());
    let _ = fs::remove_file(&canary.0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        w.run_shell_pre(sh, pre, &steps)
    }));
    let Ok(r) = r else {
        return Some(format!(
            "[{}] {what}: the shell did not reach the end of the script",
            sh.name()
        ));
    };
    let mut wrong = Vec::new();
    if canary.0.exists() {
        wrong.push("the user's function or alias ran (canary created)".to_string());
    }
    if r.var("in", "FOO") != Some(&b"in"[..]) {
        wrong.push("the project did not load".into());
    }
    if !path_entries(&r, "in").contains(&bytes_of(&w.path("p/bin"))) {
        wrong.push("PATH did not get p/bin".into());
    }
    if r.var("out", "FOO").is_some() {
        wrong.push("the project did not unload".into());
    }
    if r.var("out", "PATH") != Some(w.base_path().as_bytes()) {
        wrong.push("PATH was not restored".into());
    }
    let noise: Vec<String> = lines(&r.out.stderr)
        .into_iter()
        .filter(|l| !l.starts_with(b"strata: ") && !l.starts_with(b"@@mark:"))
        .map(show)
        .collect();
    if !noise.is_empty() {
        wrong.push(format!("stderr holds more than strata's lines: {noise:?}"));
    }
    (!wrong.is_empty()).then(|| {
        format!(
            "[{}] {what}: {}\n{}",
            sh.name(),
            wrong.join("; "),
            r.describe().chars().take(6000).collect::<String>()
        )
    })
}

#[track_caller]
fn assert_no_failures(failures: Vec<String>) {
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const BASH_PROMPT: &str = r#"for __c in "${PROMPT_COMMAND[@]}"; do eval "$__c"; done"#;
/// The same without `eval`, for scenarios that redefine it.
const BASH_PROMPT_BUILTIN: &str =
    r#"for __c in "${PROMPT_COMMAND[@]}"; do builtin eval "$__c"; done"#;
/// zsh runs every `precmd_functions` entry, whatever KSH_ARRAYS says (the harness's own
/// `$precmd_functions` would see only the first under it).
const ZSH_PROMPT: &str = r#"if (( ${+functions[precmd]} )); then precmd; fi; for __f in "${precmd_functions[@]}"; do "$__f"; done"#;

#[test]
fn bash_hook_survives_errexit_nounset_pipefail() {
    let w = options_world();
    let canary = Canary::new(&w, "CANARY");
    let mut failures = Vec::new();
    // A prompt right after a command that left `$?` at 1 without tripping errexit (the left
    // side of `&&`): the hook hands `$?` back, and a failing PROMPT_COMMAND makes an
    // interactive bash under `set -e` exit.
    let after_failure = format!("false && true; {BASH_PROMPT}");
    for (what, pre, prompt_cmd) in [
        ("set -euo pipefail", "set -euo pipefail", BASH_PROMPT),
        ("set -u", "set -u", BASH_PROMPT),
        (
            "shopt -s failglob nullglob; set -u",
            "shopt -s failglob nullglob; set -u",
            BASH_PROMPT,
        ),
        (
            "set -e; shopt -s failglob",
            "set -e; shopt -s failglob",
            BASH_PROMPT,
        ),
        (
            "set -euo pipefail, prompt after `false && true`",
            "set -euo pipefail",
            &after_failure,
        ),
    ] {
        failures.extend(hook_failure(
            &w,
            Bash,
            what,
            &[pre],
            &[],
            "cd",
            prompt_cmd,
            &[],
            &canary,
        ));
    }
    assert_no_failures(failures);
}

#[test]
fn zsh_hook_survives_user_options() {
    let w = options_world();
    let canary = Canary::new(&w, "CANARY");
    let mut failures = Vec::new();
    for opt in [
        "KSH_ARRAYS",
        "WARN_CREATE_GLOBAL",
        "NO_UNSET",
        "SH_WORD_SPLIT",
        "ERR_EXIT",
        "NO_CLOBBER",
        "NOMATCH",
        "GLOB_SUBST",
    ] {
        let pre = format!("setopt {opt}");
        failures.extend(hook_failure(
            &w,
            Zsh,
            opt,
            &[&pre],
            &[],
            "cd",
            ZSH_PROMPT,
            &[],
            &canary,
        ));
    }
    assert_no_failures(failures);
}

/// Under KSH_ARRAYS the hook must keep every one of the user's own `precmd_functions`
/// (and `chpwd_functions`), not only the first.
#[test]
fn zsh_ksh_arrays_keeps_the_users_precmd_functions() {
    let w = options_world();
    let mark_file = |n: &str| w.root().join(format!("ran-{n}"));
    let pre = format!(
        "setopt KSH_ARRAYS\n\
         u1() {{ command touch {}; }}\nu2() {{ command touch {}; }}\nu3() {{ command touch {}; }}\n\
         precmd_functions=(u1 u2)\nchpwd_functions=(u3 u1)",
        mark_file("u1").display(),
        mark_file("u2").display(),
        mark_file("u3").display()
    );
    let r = w.run_shell_pre(
        Zsh,
        &[&pre],
        &[
            raw("print -rl -- \"${precmd_functions[@]}\" > /dev/null"),
            cd("p"),
            raw(ZSH_PROMPT),
            snap("in"),
            raw(format!(
                "print -r -- \"${{precmd_functions[@]}}|${{chpwd_functions[@]}}\" > {}",
                Zsh.quote_path(&mark_file("arrays"))
            )),
        ],
    );
    let arrays = fs::read_to_string(mark_file("arrays")).unwrap_or_default();
    let ctx = format!("precmd|chpwd = {arrays:?}\n{}", r.describe());
    for f in ["u1", "u2", "u3"] {
        assert!(
            mark_file(f).exists(),
            "the user's {f} no longer runs (KSH_ARRAYS)\n{ctx}"
        );
    }
    let (precmd, chpwd) = arrays.trim().split_once('|').unwrap_or_default();
    for (list, want) in [(precmd, ["u1", "u2"]), (chpwd, ["u3", "u1"])] {
        for f in want {
            assert!(
                list.split(' ').any(|x| x == f),
                "{f} was dropped from the user's hook functions\n{ctx}"
            );
        }
    }
    r.assert_set("in", "FOO", "in");
}

/// The builtins the hook leans on, redefined by the user as functions (after the hook line,
/// as rc files do) that create the canary and print noise.
fn shadowing_functions(sh: Shell, canary: &Canary) -> (String, String) {
    let body = format!("command {}; builtin printf 'noise\\n' >&2", canary.touch());
    match sh {
        Bash | Zsh => {
            let names = [
                "eval", "export", "unset", "cd", "test", "local", "source", "echo", "printf",
                "return", "typeset", "declare", "command", "read", "shift", "set", "true", "false",
            ];
            let names: Vec<&str> = names
                .into_iter()
                .filter(|n| sh == Zsh || !matches!(*n, "typeset"))
                .filter(|n| !matches!(*n, "command" | "return" | "set"))
                .collect();
            let defs = names
                .iter()
                .map(|n| format!("function {n} {{ {body}; }}"))
                .collect::<Vec<_>>()
                .join("\n");
            let undo = match sh {
                Bash => format!("builtin unset -f {}", names.join(" ")),
                _ => format!("builtin unfunction {}", names.join(" ")),
            };
            (defs, undo)
        }
        Fish => {
            let names = [
                "source",
                "emit",
                "echo",
                "printf",
                "cd",
                "contains",
                "functions",
                "true",
                "false",
            ];
            let body = format!("command {}; builtin printf 'noise\\n' >&2", canary.touch());
            let defs = names
                .iter()
                .map(|n| format!("function {n}; {body}; end"))
                .collect::<Vec<_>>()
                .join("\n");
            (defs, format!("builtin functions -e {}", names.join(" ")))
        }
        _ => unreachable!("only bash, zsh and fish run this"),
    }
}

// The other shells' hooks call no command a user function can take the name of: nu, elvish
// and xonsh resolve their builtins before functions. tcsh expands aliases in the file its hook
// sources, so an alias of the user's own named `set` or `source` would take the hook over; a
// directory file cannot define one (those are reserved alias names, `check_alias_name`).
only_shells! { [bash Bash, zsh Zsh, fish Fish]
    /// Functions named like the builtins the hook uses: the hook still loads and unloads the
    /// project, nothing of the user's runs, no noise.
    fn hook_ignores_functions_named_like_builtins(sh) {
        let w = options_world();
        let canary = Canary::new(&w, "CANARY");
        let (defs, undo) = shadowing_functions(sh, &canary);
        let prompt_cmd = match sh {
            Bash => BASH_PROMPT_BUILTIN,
            Zsh => ZSH_PROMPT,
            Fish => "builtin emit fish_prompt",
            _ => unreachable!("only bash, zsh and fish run this"),
        };
        assert_no_failures(hook_failure(
            &w, sh, "functions named like builtins", &[], &[raw(defs)], "builtin cd",
            prompt_cmd, &[raw(undo)], &canary,
        ).into_iter().collect());
    }
}

/// Aliases for them: an alias is expanded when a function definition is read, and the hook
/// is redefined by every export.
#[test]
fn hook_ignores_aliases_named_like_builtins() {
    let mut failures = Vec::new();
    for sh in [Bash, Zsh] {
        let w = options_world();
        let canary = Canary::new(&w, "CANARY");
        let names = [
            "eval", "export", "unset", "local", "test", "source", "echo", "printf", "return",
        ];
        let mut defs = String::from(if sh == Bash {
            "shopt -s expand_aliases\n"
        } else {
            ""
        });
        for n in names {
            defs.push_str(&format!(
                "alias {n}='command {}; builtin {n}'\n",
                canary.touch()
            ));
        }
        let undo = format!("builtin unalias {}", names.join(" "));
        let prompt_cmd = match sh {
            Bash => BASH_PROMPT_BUILTIN,
            _ => ZSH_PROMPT,
        };
        failures.extend(hook_failure(
            &w,
            sh,
            "aliases named like builtins",
            &[],
            &[raw(defs)],
            "builtin cd",
            prompt_cmd,
            &[raw(undo)],
            &canary,
        ));
    }
    assert_no_failures(failures);
}
