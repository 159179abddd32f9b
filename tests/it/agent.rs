//! The env files of `strata hook SHELL --env-file`, for agents and scripts that start a fresh,
//! non-interactive shell for every command: `bash -c` with `BASH_ENV`, `zsh -c` with `ZDOTDIR`
//! naming the directory of the written `.zshenv`, `fish -c` with the file in fish's `conf.d`.
//!
//! Each such shell must see the state of its directory and session as it is now, whatever
//! changed since the last one (another directory, `strata set`, `strata allow`, an edit, a
//! context switch), and when nothing changed it must see it without starting any process (the
//! agent cache, `src/agent.rs`). The worlds are [`quiet`] (see `fast_path`), so that a miss is
//! the test's doing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fast_path::{Quiet, quiet};
use crate::support::*;

/// Where the env file of `sh` goes in `w`, and how a shell is told to read it.
fn env_file(w: &World, sh: Shell) -> PathBuf {
    match sh {
        Shell::Bash => w.root().join("agent/env.bash"),
        Shell::Zsh => w.root().join("agent/zdotdir/.zshenv"),
        // XDG_CONFIG_HOME is the world's config/: fish reads its conf.d there.
        Shell::Fish => w.root().join("config/fish/conf.d/strata.fish"),
        other => panic!("no env file for {}", other.name()),
    }
}

/// Writes the env file of `sh`, as the README's agent recipe does.
/// A world with one allowed project `dir` holding `toml`, a session, and the env file of `sh`.
fn one_project(sh: Shell, dir: &str, toml: &str) -> Quiet {
    quiet(|w| {
        let w = w
            .dir_config(dir, toml)
            .allow(dir)
            .env("STRATA_SESSION", "agent-1");
        install(w, sh)
    })
}

fn install(w: World, sh: Shell) -> World {
    let file = env_file(&w, sh);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    w.strata(&["hook", sh.name(), "--env-file", file.to_str().unwrap()])
        .success()
        .stderr_contains("wrote");
    w
}

/// A fresh non-interactive `sh -c script` in `work/<rel>`, as an agent starts one, with the env
/// file in place (and nothing else of a user's start-up files).
fn agent_command(w: &World, sh: Shell, rel: &str, flags: &[&str], script: &str) -> Command {
    let file = env_file(w, sh);
    let mut cmd = w.command(sh.program());
    match sh {
        Shell::Bash => {
            cmd.env("BASH_ENV", &file);
        }
        Shell::Zsh => {
            cmd.env("ZDOTDIR", file.parent().unwrap());
        }
        Shell::Fish => {}
        other => panic!("no env file for {}", other.name()),
    }
    cmd.args(flags)
        .arg("-c")
        .arg(script)
        .current_dir(w.path(rel))
        .env("PWD", w.path(rel));
    cmd
}

/// Runs `script` in an agent shell in `work/<rel>`: it must succeed, silently on stderr.
#[track_caller]
fn agent(w: &World, sh: Shell, rel: &str, script: &str) -> String {
    let cmd = agent_command(w, sh, rel, &[], script);
    let out = run_with_timeout(cmd, format!("{} -c {script}", sh.name()));
    out.success();
    assert_eq!(
        out.stderr_str(),
        "",
        "[{}] silent\n{}",
        sh.name(),
        out.describe()
    );
    out.stdout_str()
}

/// What the agent shells print: `A|D|S|C|O`, each empty when unset.
const SHOW: &str = r#"printf '%s|' "$A" "$D" "$S" "$C" "$O""#;

// Agents start bash, zsh or fish: the env files are for those.
only_shells! { [bash Bash, zsh Zsh, fish Fish]
    fn agent_shells_see_every_change(sh) {
        let w = quiet(|w| {
            let w = w
                .dir_config("proj", "[env]\nA = \"1\"\n[dotenv]\nfiles = [\".env\"]\n")
                .file("proj/.env", "D=d1\n")
                .dir_config("other", "[env]\nO = \"o\"\n")
                .allow("proj")
                .allow("other")
                .env("STRATA_SESSION", "agent-1");
            w.strata(&["context", "create", "prod", "--set", "C=prod"]).success();
            w.strata(&["context", "create", "dev", "--set", "C=dev"]).success();
            install(w, sh)
        });
        let run = |rel: &str| agent(&w, sh, rel, SHOW);
        assert_eq!(run("proj"), "1|d1||||");
        // The same again: the cached entry.
        assert_eq!(run("proj"), "1|d1||||");
        // Another directory, and back.
        assert_eq!(run("other"), "||||o|");
        assert_eq!(run(""), "|||||");
        assert_eq!(run("proj"), "1|d1||||");
        // A value of the session set from elsewhere.
        w.strata(&["set", "S=s1"]).success();
        assert_eq!(run("proj"), "1|d1|s1|||");
        assert_eq!(run("other"), "||s1||o|");
        // An edit of a dotenv file (not trust-checked) and of the directory file (which then
        // needs allowing again).
        w.write("proj/.env", "D=d2\n");
        assert_eq!(run("proj"), "1|d2|s1|||");
        w.write("proj/.strata.toml", "[env]\nA = \"2\"\n[dotenv]\nfiles = [\".env\"]\n");
        assert_eq!(run("proj"), "||s1|||", "an edited file is not trusted yet");
        w.strata_in("proj", &["allow"]).success();
        assert_eq!(run("proj"), "2|d2|s1|||");
        // The current context, switched for every shell, and one named in the environment.
        w.strata(&["context", "use", "prod"]).success();
        assert_eq!(run("proj"), "2|d2|s1|prod||");
        let cmd = agent_command(&w, sh, "proj", &[], SHOW);
        let mut cmd = cmd;
        cmd.env("STRATA_CONTEXT", "dev");
        let out = run_with_timeout(cmd, "agent with STRATA_CONTEXT".into());
        assert_eq!(out.success().stdout_str(), "2|d2|s1|dev||", "{}", out.describe());
        assert_eq!(run("proj"), "2|d2|s1|prod||");
        // Another session sees none of this one's values.
        let mut cmd = agent_command(&w, sh, "proj", &[], SHOW);
        cmd.env("STRATA_SESSION", "agent-2");
        let out = run_with_timeout(cmd, "agent of another session".into());
        assert_eq!(out.success().stdout_str(), "2|d2||prod||", "{}", out.describe());
        w.strata(&["unset", "S"]).success();
        assert_eq!(run("proj"), "2|d2||prod||");
    }

    fn an_agent_with_other_values_gets_its_own_result(sh) {
        // Two agents in the same directory and session, with another PATH and another value of
        // a variable the file reads: neither may replay what was computed for the other.
        let w = quiet(|w| {
            let w = w
                .dir_config("proj", "[env]\nA = \"${USER_VAR:-none}\"\n[path]\nprepend = [\"bin\"]\n")
                .allow("proj")
                .mkdir("proj/bin")
                .env("STRATA_SESSION", "agent-1");
            install(w, sh)
        });
        let script = sh.pick(
            r#"printf '%s|%s' "$A" "${PATH%%:*}""#,
            r#"printf '%s|%s' "$A" "$PATH[1]""#,
        );
        let bin = w.path_str("proj/bin");
        for _ in 0..2 {
            assert_eq!(agent(&w, sh, "proj", script), format!("none|{bin}"));
            let mut cmd = agent_command(&w, sh, "proj", &[], script);
            cmd.env("USER_VAR", "mine").env("PATH", format!("/opt/x:{}", w.base_path()));
            let out = run_with_timeout(cmd, "agent with other values".into());
            assert_eq!(out.success().stdout_str(), format!("mine|{bin}"), "{}", out.describe());
            let path_out = {
                let mut cmd = agent_command(&w, sh, "proj", &[], sh.pick(
                    r#"printf '%s' "$PATH""#, r#"printf '%s' (string join : $PATH)"#));
                cmd.env("PATH", format!("/opt/x:{}", w.base_path()));
                run_with_timeout(cmd, "agent PATH".into())
            };
            assert_eq!(path_out.success().stdout_str(), format!("{bin}:/opt/x:{}", w.base_path()));
        }
    }
}

// Agents start bash, zsh or fish: the env files are for those.
only_shells! { [bash Bash, zsh Zsh, fish Fish]
    fn replayed_values_are_byte_exact(sh) {
        // Quotes, `$`, a backslash, a newline, a tab, a glob and non-ASCII, on the miss that
        // asks strata and on the hit that replays the entry.
        let value = "it's \"$HOME\" \\ $(x) *\n\tline2 \u{e9}\u{1f600}";
        let w = one_project(
            sh,
            "p",
            &format!("[env]\nQ = {}\nEMPTY = \"\"\n", toml_string(value)),
        );
        for _ in 0..3 {
            let script = sh.pick(
                r#"printf '%s|%s' "$Q" "${EMPTY-unset}""#,
                r#"set -q EMPTY; or set EMPTY unset; printf '%s|%s' "$Q" "$EMPTY""#,
            );
            let out = agent(&w, sh, "p", script);
            assert_eq!(out, format!("{value}|"));
        }
    }
}

/// The process-creating syscalls of one traced agent shell, but its own start (its first
/// `execve`) and its threads (`clone` with `CLONE_THREAD`: fish starts some whatever its config).
fn spawns(w: &World, sh: Shell, rel: &str, script: &str) -> (Vec<String>, String) {
    let trace = w.scratch("trace");
    let inner = agent_command(w, sh, rel, &[], script);
    let mut cmd = w.command("strace");
    cmd.args([
        "-f",
        "-qq",
        "-e",
        "trace=execve,clone,clone3,fork,vfork",
        "-o",
    ])
    .arg(&trace)
    .arg(inner.get_program())
    .args(inner.get_args())
    .current_dir(inner.get_current_dir().unwrap());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = run_with_timeout(cmd, format!("strace {} -c", sh.name()));
    out.success();
    let text = fs::read_to_string(&trace).unwrap();
    let lines = text
        .lines()
        .filter(|l| {
            ["execve(", "clone(", "clone3(", "fork(", "vfork("]
                .iter()
                .any(|s| l.contains(s))
        })
        .skip(1)
        .filter(|l| !l.contains("CLONE_THREAD"))
        .map(str::to_string)
        .collect();
    (lines, out.stdout_str())
}

/// Whether a traced line is the start of `strata export SHELL --agent`.
fn asks_strata(line: &str) -> bool {
    line.contains("execve(") && line.contains("\"export\"") && line.contains("\"--agent\"")
}

#[test]
fn an_agent_shell_starts_no_process_when_nothing_changed() {
    for sh in [Bash, Zsh, Fish] {
        let w = quiet(|w| {
            let w = w
                .dir_config("proj", "[env]\nA = \"1\"\n[path]\nprepend = [\"bin\"]\n")
                .allow("proj")
                .mkdir("proj/bin")
                .mkdir("proj/sub")
                .env("STRATA_SESSION", "agent-1");
            install(w, sh)
        });
        let show = r#"printf '%s|%s' "$A" "$S""#;
        // The first shell asks strata and caches what it printed; everything is dated back,
        // so the entry's stamp is final at once.
        let (first, out) = spawns(&w, sh, "proj", show);
        assert_eq!(out, "1|");
        assert!(
            first.iter().any(|l| asks_strata(l)),
            "[{}] {first:?}",
            sh.name()
        );
        for _ in 0..3 {
            let (spawned, out) = spawns(&w, sh, "proj", show);
            assert_eq!(out, "1|");
            assert!(
                spawned.is_empty(),
                "[{}] a no-op agent shell started processes:\n{}",
                sh.name(),
                spawned.join("\n")
            );
        }
        // A change from elsewhere: the next shell asks strata again, and the one after that
        // is a no-op again.
        w.strata(&["set", "S=s"]).success();
        let (spawned, out) = spawns(&w, sh, "proj", show);
        assert_eq!(out, "1|s");
        assert!(
            spawned.iter().any(|l| asks_strata(l)),
            "[{}] {spawned:?}",
            sh.name()
        );
        let (spawned, out) = spawns(&w, sh, "proj", show);
        assert_eq!(out, "1|s");
        assert!(
            spawned.is_empty(),
            "[{}] after the change:\n{}",
            sh.name(),
            spawned.join("\n")
        );
        // A second directory has an entry of its own, and the first keeps its.
        let (_, out) = spawns(&w, sh, "proj/sub", show);
        assert_eq!(out, "1|s");
        for rel in ["proj/sub", "proj"] {
            let (spawned, out) = spawns(&w, sh, rel, show);
            assert_eq!(out, "1|s");
            assert!(
                spawned.is_empty(),
                "[{}] in {rel}:\n{}",
                sh.name(),
                spawned.join("\n")
            );
        }
    }
}

#[test]
fn bash_and_zsh_agents_under_set_eu_and_xtrace() {
    for sh in [Shell::Bash, Shell::Zsh] {
        let w = one_project(sh, "proj", "[env]\nA = \"secret-ish value\"\n");
        for _ in 0..2 {
            // Miss, then hit: neither trips `set -eu`, and the command's own status is kept.
            let cmd = agent_command(&w, sh, "proj", &["-eu"], r#"printf '%s' "$A"; exit 7"#);
            let out = run_with_timeout(cmd, format!("{} -eu -c", sh.name()));
            out.code_is(7);
            assert_eq!(out.stdout_str(), "secret-ish value", "{}", out.describe());
            assert_eq!(out.stderr_str(), "", "{}", out.describe());
        }
        // xtrace on: the env file prints none of the values it applies.
        let cmd = agent_command(&w, sh, "proj", &["-x"], r#"printf '%s' "${#A}""#);
        let out = run_with_timeout(cmd, format!("{} -x -c", sh.name()));
        out.success();
        assert_eq!(out.stdout_str(), "16");
        assert!(
            !contains(&out.stderr, b"secret-ish"),
            "[{}] xtrace shows the value\n{}",
            sh.name(),
            out.describe()
        );
    }
}

/// The written env files are the user's own, 0600, and pass shellcheck where it applies.
#[test]
fn env_files_are_private_and_bash_is_shellcheck_clean() {
    use std::os::unix::fs::PermissionsExt;
    for sh in [Bash, Zsh, Fish] {
        let w = install(World::new(), sh);
        let file = env_file(&w, sh);
        let mode = fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "[{}]", sh.name());
        if sh == Shell::Bash {
            let out = run_with_timeout(
                {
                    let mut c = w.command("shellcheck");
                    c.args(["-s", "bash"]).arg(&file);
                    c
                },
                "shellcheck".into(),
            );
            assert!(out.status.success(), "{}", out.describe());
        }
        check_parses(&w, sh, &file);
    }
}

fn check_parses(w: &World, sh: Shell, file: &Path) {
    let mut cmd = w.command(sh.program());
    match sh {
        Shell::Bash | Shell::Zsh => cmd.arg("-n").arg(file),
        Shell::Fish => cmd.arg("--no-execute").arg(file),
        other => panic!("no env file for {}", other.name()),
    };
    let out = run_with_timeout(cmd, format!("{} -n", sh.name()));
    assert!(out.status.success(), "[{}] {}", sh.name(), out.describe());
}

only_shells! { [bash Bash, zsh Zsh, fish Fish]
    /// `strata off` reaches the agent path too: the next agent shell gets nothing of strata's,
    /// and `strata on` gives it all back.
    fn agent_shells_honour_a_pause(sh) {
        let w = one_project(sh, "proj", "[env]\nA = \"1\"\n");
        w.strata(&["set", "S=s1"]).success();
        assert_eq!(agent(&w, sh, "proj", SHOW), "1||s1|||");
        w.strata(&["off", "--dir"]).success();
        assert_eq!(agent(&w, sh, "proj", SHOW), "||s1|||");
        w.strata(&["off"]).success();
        assert_eq!(agent(&w, sh, "proj", SHOW), "|||||");
        assert_eq!(agent(&w, sh, "proj", SHOW), "|||||");
        w.strata(&["on"]).success();
        assert_eq!(agent(&w, sh, "proj", SHOW), "1||s1|||");
    }
}
