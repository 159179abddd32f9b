//! Contexts that cannot hit prod by accident (issue 18): protected contexts (asked on a
//! terminal, refused without `--yes` elsewhere, marked in the prompt), `--ttl` switches that go
//! back by themselves, per-terminal switching by default, a bare `strata use` (list or fzf),
//! `use -`, the colour variables for starship, `context list` colours, and the history log.

use std::fs;

use crate::support::*;

/// Contexts `dev` (blue) and `prod` (red, protected), with `dev` in use.
fn guarded() -> World {
    let w = World::new();
    w.strata(&["context", "create", "dev", "--set", "API=http://localhost"])
        .success();
    w.strata(&["context", "set", "dev", "color=blue"]).success();
    w.strata(&["context", "create", "prod", "--set", "API=https://prod"])
        .success();
    w.strata(&["context", "set", "prod", "protected=true", "color=red"])
        .success();
    w.strata(&["use", "dev"]).success();
    w
}

fn current_file(w: &World) -> String {
    fs::read_to_string(w.state_dir().join("current-context")).unwrap_or_default()
}

/// `script` from util-linux runs a command on a pseudo-terminal of its own.
fn have_script() -> bool {
    std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `line` (a shell command line) on a terminal with `script -qec`, typing `input`.
fn on_terminal(w: &World, line: &str, input: &str) -> Output {
    let mut cmd = w.command("script");
    cmd.args(["-qec", line, "/dev/null"]);
    let file = w.scratch("typed");
    fs::write(&file, input).unwrap();
    cmd.stdin(fs::File::open(&file).unwrap());
    w.finish(cmd, &["script -qec", line])
}

fn strata_line(args: &str) -> String {
    format!("{} {args}", Shell::Bash.quote_path(&strata_bin()))
}

per_shell! {
    /// The prompt segment marks a protected context, and the colour is exported beside
    /// STRATA_PROMPT for starship's env_var module: by name, and as a variable per colour.
    fn protected_context_is_marked_and_its_colour_exported(sh) {
        let w = guarded();
        let r = w.run_shell(sh, &[
            prompt(), snap("dev"),
            run_strata(&["use", "--yes", "prod"]),
            prompt(), snap("prod"),
        ]);
        r.assert_set("dev", "STRATA_PROMPT", "dev");
        r.assert_set("dev", "STRATA_PROMPT_COLOR", "blue");
        r.assert_set("dev", "STRATA_PROMPT_BLUE", "dev");
        r.assert_unset("dev", "STRATA_PROMPT_RED");
        r.assert_set("prod", "API", "https://prod");
        r.assert_set("prod", "STRATA_PROMPT", "protected prod");
        r.assert_set("prod", "STRATA_PROMPT_COLOR", "red");
        r.assert_set("prod", "STRATA_PROMPT_RED", "protected prod");
        r.assert_unset("prod", "STRATA_PROMPT_BLUE");
    }

    /// NO_COLOR: the segment, with no colour named.
    fn no_color_names_no_colour(sh) {
        let w = guarded()
            .env("NO_COLOR", "1")
            .env("STRATA_PROMPT_GREEN", "inherited")
            .env("STRATA_PROMPT_MINE", "kept");
        let r = w.run_shell(sh, &[prompt(), snap("s")]);
        // A colour variable from elsewhere goes; a name that is no colour is not strata's.
        r.assert_unset("s", "STRATA_PROMPT_GREEN");
        r.assert_set("s", "STRATA_PROMPT_MINE", "kept");
        r.assert_set("s", "STRATA_PROMPT", "dev");
        r.assert_unset("s", "STRATA_PROMPT_COLOR");
        r.assert_unset("s", "STRATA_PROMPT_BLUE");
        r.assert_set("s", "STRATA_PROMPT_PLAIN", "dev");
    }

    /// `use --ttl 1s prod`: prod at the next prompt, dev again at a prompt after the second,
    /// with nothing rewritten in between (the hook's deadline).
    fn a_ttl_switch_goes_back_at_a_later_prompt(sh) {
        let w = guarded();
        let r = w.run_shell(sh, &[
            prompt(), snap("before"),
            run_strata(&["use", "--yes", "--ttl", "1s", "prod"]),
            prompt(), snap("during"),
            raw(sh.cmd(&["sleep", "2.1"])),
            prompt(), snap("after"),
        ]);
        r.assert_set("before", "API", "http://localhost");
        r.assert_set("during", "API", "https://prod");
        r.assert_set("during", "STRATA_PROMPT", "protected prod");
        r.assert_set("after", "API", "http://localhost");
        r.assert_set("after", "STRATA_PROMPT", "dev");
        // The file still says what happened; nothing had to rewrite it.
        assert!(current_file(&w).starts_with("prod until "), "{}", current_file(&w));
        w.strata(&["context", "current"]).success().stdout_contains("dev");
    }

    /// A session's own `--ttl` choice ends the same way: this terminal follows the global
    /// selection again at a prompt after the deadline.
    fn a_session_ttl_switch_goes_back_too(sh) {
        let w = guarded().env("STRATA_SESSION", "mine");
        let r = w.run_shell(sh, &[
            prompt(), snap("before"),
            run_strata(&["use", "--session", "--yes", "--ttl", "1s", "prod"]),
            prompt(), snap("during"),
            raw(sh.cmd(&["sleep", "2.1"])),
            prompt(), snap("after"),
        ]);
        r.assert_set("before", "API", "http://localhost");
        r.assert_set("during", "API", "https://prod");
        r.assert_set("after", "API", "http://localhost");
        assert_eq!(current_file(&w), "dev\n");
    }

    /// `use.scope = "session"`: `strata use` switches this terminal only; `use -` goes back to
    /// following the global selection; `--global` switches every terminal.
    fn session_scope_switches_only_this_terminal(sh) {
        let w = guarded()
            .global("[settings]\nuse.scope = \"session\"\n")
            .env("STRATA_SESSION", "here");
        let r = w.run_shell(sh, &[
            prompt(), snap("start"),
            run_strata(&["use", "--yes", "prod"]),
            prompt(), snap("mine"),
            run_strata(&["use", "-"]),
            prompt(), snap("back"),
        ]);
        r.assert_set("start", "API", "http://localhost");
        r.assert_set("mine", "API", "https://prod");
        r.assert_set("back", "API", "http://localhost");
        assert_eq!(current_file(&w), "dev\n");
        w.strata_env(&[("STRATA_SESSION", "other")], &["context", "current"])
            .success()
            .stdout_contains("dev");
        w.strata(&["use", "--global", "--yes", "prod"]).success();
        assert_eq!(current_file(&w), "prod\n");
    }
}

#[test]
fn a_protected_context_is_refused_without_a_terminal_unless_yes() {
    let w = guarded();
    w.strata(&["use", "prod"])
        .code_is(1)
        .stderr_contains("context prod is protected and there is no terminal to ask on")
        .stderr_contains("--yes");
    w.strata(&["context", "use", "prod"]).code_is(1);
    assert_eq!(current_file(&w), "dev\n");
    w.strata(&["use", "-y", "prod"]).success();
    assert_eq!(current_file(&w), "prod\n");
    // Back to a protected one with `use -` asks too.
    w.strata(&["use", "dev"]).success();
    w.strata(&["use", "-"]).code_is(1);
    w.strata(&["use", "--yes", "-"]).success();
    assert_eq!(current_file(&w), "prod\n");
    // Unprotected again: no question.
    w.strata(&["context", "set", "prod", "protected=false"])
        .success();
    w.strata(&["use", "dev"]).success();
    w.strata(&["use", "prod"]).success();
    w.strata(&["context", "set", "prod", "protected=maybe"])
        .code_is(1)
        .stderr_contains("protected must be true or false");
}

#[test]
fn a_protected_context_asks_on_a_terminal() {
    if !have_script() {
        eprintln!("skipped: util-linux script is not installed");
        return;
    }
    let w = guarded();
    let out = on_terminal(&w, &strata_line("use prod"), "n\n");
    out.code_is(1)
        .stdout_contains("is protected; switch every terminal to it? [y/N]");
    assert_eq!(current_file(&w), "dev\n");
    on_terminal(&w, &strata_line("use prod"), "y\n").success();
    assert_eq!(current_file(&w), "prod\n");
}

#[test]
fn bare_use_lists_the_contexts_with_the_active_one_marked() {
    let w = guarded();
    let out = w.strata(&["use"]);
    out.success();
    assert_eq!(out.stdout_str(), "* dev\n  prod  (protected)\n");
    // Not a terminal: never coloured, even with a colour.
    assert!(!out.stdout_str().contains('\x1b'));
}

#[test]
fn bare_use_on_a_terminal_picks_with_fzf() {
    if !have_script() {
        eprintln!("skipped: util-linux script is not installed");
        return;
    }
    let w = guarded();
    w.strata(&["context", "create", "staging"]).success();
    let bin = w.path("fakebin");
    fs::create_dir_all(&bin).unwrap();
    let seen = w.scratch("fzf-input");
    let fzf = bin.join("fzf");
    fs::write(
        &fzf,
        format!(
            "#!/bin/sh\ncat > {}\necho staging\n",
            Shell::Bash.quote_path(&seen)
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&fzf, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), w.base_path());
    let w = w.env("PATH", &path);
    on_terminal(&w, &strata_line("use"), "").success();
    assert_eq!(current_file(&w), "staging\n");
    // The active one first, where fzf's cursor starts.
    assert_eq!(fs::read_to_string(&seen).unwrap(), "dev\nprod\nstaging\n");
    // Without a terminal, fzf is not asked: a listing.
    w.strata(&["use"]).success().stdout_contains("* staging");
}

#[test]
fn use_dash_goes_back_also_after_a_ttl_ran_out() {
    let w = guarded();
    w.strata(&["context", "create", "qa"]).success();
    w.strata(&["use", "qa"]).success();
    w.strata(&["use", "-"]).success();
    assert_eq!(current_file(&w), "dev\n");
    w.strata(&["use", "-"]).success();
    assert_eq!(current_file(&w), "qa\n");
    // A `--ttl` choice that ended (a backdated fixture): dev is in force, and `use -` goes
    // back to the one that ran out.
    fs::write(
        w.state_dir().join("current-context"),
        "prod until 1000\ndev\n",
    )
    .unwrap();
    w.strata(&["context", "current"])
        .success()
        .stdout_contains("dev");
    w.strata(&["use", "--yes", "-"]).success();
    assert_eq!(current_file(&w), "prod\n");
    // A `--ttl` on top of a `--ttl`: each goes back to the one below it.
    w.strata(&["use", "dev"]).success();
    w.strata(&["use", "--ttl", "1h", "qa"]).success();
    w.strata(&["use", "--ttl", "10m", "--yes", "prod"])
        .success()
        .stderr_contains("then back to qa");
    let lines: Vec<String> = current_file(&w).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("prod until ") && lines[1].starts_with("qa until "));
    assert_eq!(lines[2], "dev");
    w.strata(&["-v", "context", "current"])
        .success()
        .stdout_contains("prod (chosen by global selection")
        .stdout_contains(", until 20");
    w.strata(&["status"])
        .success()
        .stdout_contains(", protected, until 20");
    let st = w.strata(&["status", "--json"]).json();
    assert_eq!(st["context"]["protected"], true);
    assert!(st["context"]["until"].as_i64().is_some());
    w.strata(&["use", "--ttl", "0s", "qa"])
        .code_is(1)
        .stderr_contains("--ttl");
}

#[test]
fn use_completes_dash_and_the_context_names() {
    let w = guarded();
    let out = w.strata(&["completions", "bash"]);
    out.success();
    let file = w.scratch("complete.bash");
    fs::write(&file, &out.stdout).unwrap();
    let out = w.sh(
        Shell::Bash,
        &format!(
            "source {}\nCOMP_WORDS=(strata use ''); COMP_CWORD=2; COMP_TYPE=9\n_clap_complete_strata strata '' use\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
            Shell::Bash.quote_path(&file)
        ),
    );
    out.success();
    let lines: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
    for want in ["-", "dev", "prod"] {
        assert!(
            lines.iter().any(|l| l == want),
            "{want} not offered: {lines:?}"
        );
    }
}

#[test]
fn context_list_colours_the_contexts_on_request_only() {
    let w = guarded();
    let out = w.strata(&["-c", "color=always", "context", "list"]);
    out.success();
    let text = out.stdout_str();
    assert!(text.contains("* \x1b[1;34mdev\x1b[0m"), "{text:?}");
    assert!(
        text.contains("  \x1b[31mprod\x1b[0m  (protected)"),
        "{text:?}"
    );
    let plain = w.strata_env(
        &[("NO_COLOR", "1")],
        &["-c", "color=always", "context", "list"],
    );
    assert_eq!(plain.stdout_str(), "* dev\n  prod  (protected)\n");
    let plain = w.strata(&["--no-color", "-c", "color=always", "context", "list"]);
    assert!(!plain.stdout_str().contains('\x1b'));
    let json = w.strata(&["context", "list", "--json"]).json();
    assert_eq!(json[1]["name"], "prod");
    assert_eq!(json[1]["protected"], true);
    assert_eq!(json[1]["color"], "red");
    assert_eq!(json[0]["active"], true);
}

#[test]
fn the_history_log_records_changes_without_values() {
    let w = guarded()
        .dir_config("proj", "[env]\nP = \"1\"\n")
        .env("STRATA_SESSION", "s1");
    w.strata(&["use", "--yes", "--ttl", "30m", "prod"])
        .success();
    w.strata(&["set", "TOKEN=hunter2-value"]).success();
    w.strata(&["unset", "TOKEN"]).success();
    w.strata(&["allow", "proj"]).success();
    w.strata(&["deny", "proj"]).success();
    w.strata(&["session", "end"]).success();
    let log = w.state_dir().join("history.log");
    let raw = fs::read_to_string(&log).unwrap();
    assert!(
        !raw.contains("hunter2"),
        "a value reached the history: {raw}"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&log).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let all = w.strata(&["log", "--json"]).json();
    let kinds: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "context",
            "context",
            "set",
            "unset",
            "allow",
            "deny",
            "session-end"
        ]
    );
    let switch = &all[1];
    assert_eq!(switch["scope"], "global");
    assert_eq!(switch["from"], "dev");
    assert_eq!(switch["to"], "prod");
    assert_eq!(switch["session"], "s1");
    assert!(switch["until"].as_i64().unwrap() > switch["time"].as_i64().unwrap() + 1700);
    assert_eq!(all[2]["names"][0], "TOKEN");
    assert_eq!(all[2]["scope"], "session s1");
    let only = w.strata(&["log", "--json", "--kind", "allow,deny"]).json();
    assert_eq!(only.as_array().unwrap().len(), 2);
    let last = w.strata(&["log", "-n", "1"]);
    last.success()
        .stdout_contains("session-end")
        .stdout_contains("session s1");
    assert_eq!(last.stdout_str().lines().count(), 1);
    let human = w.strata(&["log", "--kind", "context", "--since", "1h"]);
    human.success().stdout_contains("dev -> prod until ");
    w.strata(&["log", "--kind", "nope"]).code_is(2);
}
