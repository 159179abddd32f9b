//! Contexts and sessions in real shells: a global `context use` reaching a live shell at its
//! next prompt, per-session choices, `strata set` across shells and fresh `bash -c`s, TTLs,
//! export/import, the prompt segment, and bad input.

use std::path::Path;

use crate::support::*;

/// A wait loop for `shell`, in a `sh` of its own (the loop reads the same in every shell).
fn wait_step(sh: Shell, path: &Path) -> Step {
    let p = path.to_str().expect("test paths are UTF-8");
    raw(sh.cmd(&[
        "sh",
        "-c",
        "while [ ! -e \"$1\" ]; do sleep 0.02; done",
        "sh",
        p,
    ]))
}

fn contexts() -> World {
    let w = World::new();
    w.strata(&[
        "context",
        "create",
        "prod",
        "--set",
        "API=https://prod",
        "--set",
        "ONLY_PROD=1",
    ])
    .success();
    w.strata(&["context", "create", "dev", "--set", "API=http://localhost"])
        .success();
    w
}

per_shell! {
    fn global_context_use_reaches_a_live_shell_at_its_next_prompt(sh) {
        let w = contexts();
        w.strata(&["context", "use", "dev"]).success();
        let go = w.scratch("go");
        let ready = w.scratch("ready");
        let done = w.scratch("done");
        std::thread::scope(|s| {
            let other = s.spawn(|| {
                w.run_shell(sh, &[
                    prompt(), snap("before"),
                    raw(sh.cmd(&["touch", ready.to_str().unwrap()])),
                    wait_step(sh, &go),
                    prompt(), snap("after"),
                    raw(sh.cmd(&["touch", done.to_str().unwrap()])),
                ])
            });
            // "This" terminal, once the other one has shown a prompt: switch every terminal.
            let until = std::time::Instant::now() + TIMEOUT;
            while !ready.exists() {
                assert!(std::time::Instant::now() < until, "the other shell never prompted");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let out = w.strata(&["context", "use", "prod"]);
            out.success();
            std::fs::write(&go, "").unwrap();
            let r = other.join().unwrap();
            r.assert_set("before", "API", "http://localhost");
            r.assert_unset("before", "ONLY_PROD");
            r.assert_set("after", "API", "https://prod");
            r.assert_set("after", "ONLY_PROD", "1");
            r.assert_set("after", "STRATA_PROMPT", "prod");
        });
        assert!(done.exists());
    }

    fn use_session_switches_only_that_session(sh) {
        let w = contexts();
        w.strata(&["context", "use", "dev"]).success();
        let w = w.env("STRATA_SESSION", "one");
        let r = w.run_shell(sh, &[
            prompt(), snap("dev"),
            run_strata(&["context", "use", "--session", "prod"]),
            prompt(), snap("mine"),
        ]);
        r.assert_set("dev", "API", "http://localhost");
        r.assert_set("mine", "API", "https://prod");
        // Another session still sees the global choice.
        let other = w.env("STRATA_SESSION", "two");
        let r = other.run_shell(sh, &[prompt(), snap("other")]);
        r.assert_set("other", "API", "http://localhost");
        let out = other.strata(&["context", "current", "-v"]);
        out.success().stdout_contains("dev (chosen by global selection");
    }

    fn strata_context_env_var_affects_only_this_shell(sh) {
        let w = contexts();
        w.strata(&["context", "use", "dev"]).success();
        let r = w.run_shell(sh, &[
            prompt(), snap("dev"),
            raw(sh.export("STRATA_CONTEXT", "prod")),
            prompt(), snap("prod"),
            raw(sh.unset("STRATA_CONTEXT")),
            prompt(), snap("back"),
        ]);
        r.assert_set("dev", "API", "http://localhost");
        r.assert_set("prod", "API", "https://prod");
        r.assert_set("back", "API", "http://localhost");
        r.assert_unset("back", "ONLY_PROD");
    }

    fn directory_context_sections_apply_while_active(sh) {
        let w = contexts()
            .dir_config("proj", "[env]\nDB = \"local\"\n\n[contexts.prod.env]\nDB = \"prod-db\"\n")
            .allow("proj");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("none"),
            run_strata(&["use", "prod"]),
            prompt(), snap("prod"),
            run_strata(&["use", "-"]),
            prompt(), snap("back"),
        ]);
        r.assert_set("none", "DB", "local");
        r.assert_set("prod", "DB", "prod-db");
        r.assert_set("prod", "STRATA_PROMPT", "prod · proj");
        r.assert_set("back", "DB", "local");
    }

    fn set_is_visible_at_the_next_prompt_and_in_fresh_shells_of_the_session(sh) {
        let w = World::new().env("STRATA_SESSION", "build-42");
        let r = w.run_shell(sh, &[
            prompt(), snap("before"),
            run_strata(&["set", "GREETING=hello world", "TRICKY=it's $HOME `x`"]),
            prompt(), snap("after"),
            run_strata(&["unset", "GREETING"]),
            prompt(), snap("unset"),
        ]);
        r.assert_unset("before", "GREETING");
        r.assert_set("after", "GREETING", "hello world");
        r.assert_set("after", "TRICKY", "it's $HOME `x`");
        r.assert_unset("unset", "GREETING");
        r.assert_set("unset", "TRICKY", "it's $HOME `x`");
        // Another session does not see it.
        let other = w.env("STRATA_SESSION", "other");
        let r = other.run_shell(sh, &[prompt(), snap("other")]);
        r.assert_unset("other", "TRICKY");
    }

    fn ttl_values_expire_at_a_later_prompt(sh) {
        let w = World::new().env("STRATA_SESSION", "ttl");
        let r = w.run_shell(sh, &[
            run_strata(&["set", "--ttl", "1s", "SHORT=1"]),
            run_strata(&["set", "LONG=1"]),
            prompt(), snap("live"),
            raw(sh.cmd(&["sleep", "2.2"])),
            prompt(), snap("expired"),
        ]);
        r.assert_set("live", "SHORT", "1");
        r.assert_unset("expired", "SHORT");
        r.assert_set("expired", "LONG", "1");
    }

    fn hook_names_a_session_when_there_is_none(sh) {
        let w = World::new().env_remove("STRATA_SESSION");
        let r = w.run_shell(sh, &[
            prompt(),
            run_strata(&["set", "MINE=yes"]),
            prompt(), snap("s"),
        ]);
        let id = r.var("s", "STRATA_SESSION").expect("the hook exports STRATA_SESSION");
        assert!(!id.is_empty());
        r.assert_set("s", "MINE", "yes");
    }
}

#[test]
fn bash_env_file_gives_non_interactive_bash_the_session_state() {
    let w = World::new()
        .dir_config("proj", "[env]\nDIRVAR = \"d\"\n")
        .allow("proj")
        .env("STRATA_SESSION", "agent-1");
    let env_file = w.path("strata-env.bash");
    w.strata(&["hook", "bash", "--env-file", env_file.to_str().unwrap()])
        .success();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&env_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    w.strata(&["set", "FROM_SESSION=s v"]).success();
    // Each command in a fresh, non-interactive bash, as an agent or CI step runs them.
    let mut cmd = w.command("bash");
    cmd.current_dir(w.path("proj"))
        .env("BASH_ENV", &env_file)
        .env("PWD", w.path("proj"))
        .args(["-c", "printf '%s|%s' \"$FROM_SESSION\" \"$DIRVAR\"; exit 3"]);
    let out = w.finish(cmd, &["bash -c"]);
    out.code_is(3);
    assert_eq!(out.stdout_str(), "s v|d", "{}", out.describe());
    assert_eq!(out.stderr_str(), "", "silent\n{}", out.describe());
    // Without a session and outside any project it still never fails the command.
    let mut cmd = w.command("bash");
    cmd.env("BASH_ENV", &env_file)
        .env_remove("STRATA_SESSION")
        .args(["-c", "echo ok"]);
    let out = w.finish(cmd, &["bash -c"]);
    out.success();
    assert_eq!(out.stdout_str(), "ok\n");
}

#[test]
fn context_export_import_round_trips_exactly() {
    let w = contexts();
    let file = w.path("prod-export.toml");
    w.strata(&["context", "export", "prod", "-o", file.to_str().unwrap()])
        .success();
    let exported = std::fs::read(&file).unwrap();
    w.strata(&[
        "context",
        "import",
        file.to_str().unwrap(),
        "--name",
        "prod-copy",
    ])
    .success();
    let copy = std::fs::read(w.config_dir().join("contexts/prod-copy.toml")).unwrap();
    assert_eq!(copy, exported);
    assert_eq!(
        std::fs::read(w.config_dir().join("contexts/prod.toml")).unwrap(),
        exported
    );
    // Importing over an existing one needs --force.
    w.strata(&[
        "context",
        "import",
        file.to_str().unwrap(),
        "--name",
        "prod",
    ])
    .code_is(1)
    .stderr_contains("already exists");
    // The default name is the file name.
    w.strata(&["context", "import", file.to_str().unwrap()])
        .success();
    assert!(w.config_dir().join("contexts/prod-export.toml").exists());
}

#[test]
fn active_context_cannot_be_renamed_or_deleted_without_force() {
    let w = contexts();
    w.strata(&["use", "prod"]).success();
    w.strata(&["context", "delete", "prod"])
        .code_is(1)
        .stderr_contains("active");
    w.strata(&["context", "rename", "prod", "live"])
        .code_is(1)
        .stderr_contains("active");
    w.strata(&["context", "rename", "prod", "live", "--force"])
        .success();
    let out = w.strata(&["context", "current"]);
    out.success();
    assert_eq!(
        out.stdout_str(),
        "live\n",
        "the selection follows the rename"
    );
    w.strata(&["context", "delete", "dev"]).success();
    w.strata(&["context", "delete", "live", "--force"])
        .success();
    w.strata(&["context", "current"]).code_is(1);
    let list = w.strata(&["context", "list", "--json"]);
    assert_eq!(list.json(), serde_json::json!([]));
}

#[test]
fn context_set_and_unset_keep_comments() {
    let w = contexts();
    let path = w.config_dir().join("contexts/prod.toml");
    std::fs::write(
        &path,
        "# production!\ncolor = \"red\"\n\n[env]\n# the api\nAPI = \"x\" # note\n",
    )
    .unwrap();
    w.strata(&["context", "set", "prod", "API=y", "NEW=n"])
        .success();
    w.strata(&["context", "unset", "prod", "NEW"]).success();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# production!\ncolor = \"red\"\n\n[env]\n# the api\nAPI = \"y\" # note\n"
    );
}

#[test]
fn fifty_concurrent_sets_lose_nothing() {
    let w = World::new().env("STRATA_SESSION", "busy");
    let mut children = Vec::new();
    for i in 0..60 {
        let mut cmd = w.strata_command("", &["set", &format!("K{i}=v{i}")]);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        children.push(cmd.spawn().unwrap());
    }
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let show = w.strata(&["session", "show", "--json"]);
    let env = show.json()["env"].clone();
    for i in 0..60 {
        assert_eq!(
            env[format!("K{i}")],
            serde_json::json!(format!("v{i}")),
            "K{i} lost\n{}",
            show.describe()
        );
    }
}

#[test]
fn prompt_segment_with_colours_per_shell_and_no_color() {
    let w = World::new()
        .dir_config("my app", "[env]\nA = \"1\"\n")
        .allow("my app");
    w.strata(&["context", "create", "prod"]).success();
    let path = w.config_dir().join("contexts/prod.toml");
    std::fs::write(&path, "color = \"red\"\n").unwrap();
    w.strata(&["use", "prod"]).success();
    let out = w.strata_in("my app", &["prompt"]);
    assert_eq!(out.stdout_str(), "prod · my app\n");
    // bash reads \[ \] only in PS1's own text: the output of $(…) marks colours with \001 \002.
    let out = w.strata_in("my app", &["prompt", "--shell", "bash"]);
    assert_eq!(
        out.stdout_str(),
        "\x01\x1b[31m\x02prod\x01\x1b[0m\x02 · my app"
    );
    let out = w.strata_in(
        "my app",
        &["prompt", "--shell", "zsh", "--format", "[{context}]"],
    );
    assert_eq!(out.stdout_str(), "[%{\x1b[31m%}prod%{\x1b[0m%}]");
    let out = w.strata_env(
        &[("NO_COLOR", "1")],
        &["-C", &w.path_str("my app"), "prompt", "--shell", "bash"],
    );
    assert_eq!(out.stdout_str(), "prod · my app");
    let out = w.strata(&["prompt", "--format", "{dir}{untrusted}"]);
    assert_eq!(out.stdout_str(), "\n", "outside any project: empty");
}

#[test]
fn bad_input_is_refused_clearly() {
    let w = contexts().env("STRATA_SESSION", "ok");
    for bad in ["../x", "a/b", "/etc/x", "..", "-x"] {
        w.strata(&["context", "create", "--", bad])
            .code_is(1)
            .stderr_contains("invalid context name");
    }
    w.strata(&["context", "use", "nope"])
        .code_is(1)
        .stderr_contains("no context named \"nope\"");
    w.strata(&["set", "NOEQUALS"])
        .code_is(1)
        .stderr_contains("is not NAME=VALUE");
    w.strata(&["set", "1BAD=x"])
        .code_is(1)
        .stderr_contains("invalid variable name");
    w.strata(&["set", "STRATA_STATE=x"])
        .code_is(1)
        .stderr_contains("cannot be set");
    for ttl in ["soon", "5 parsecs", "-1s", "", "1e99d"] {
        w.strata(&["set", &format!("--ttl={ttl}"), "A=1"])
            .code_is(1)
            .stderr_contains("duration");
    }
    w.strata_env(&[("STRATA_SESSION", "../escape")], &["set", "A=1"])
        .code_is(1)
        .stderr_contains("invalid session name");
    let out = w.strata_env(&[("STRATA_SESSION", "")], &["set", "A=1"]);
    out.code_is(1).stderr_contains("export STRATA_SESSION=");
    // A corrupt session file: a clear error naming it; other sessions unaffected.
    w.strata(&["set", "GOOD=1"]).success();
    let bad = w.state_dir().join("sessions/broken.toml");
    std::fs::write(&bad, "[env\n").unwrap();
    let out = w.strata_env(&[("STRATA_SESSION", "broken")], &["set", "A=1"]);
    out.code_is(1)
        .stderr_contains("broken.toml")
        .stderr_contains("corrupt");
    let out = w.strata(&["get", "GOOD"]);
    out.success();
    assert_eq!(out.stdout_str(), "1\n");
    w.strata(&["get", "NEVER_SET"]).code_is(1);
    // Deleting an unknown context, and renaming onto an existing one.
    w.strata(&["context", "delete", "nope"])
        .code_is(1)
        .stderr_contains("no context named");
    w.strata(&["context", "rename", "dev", "prod"])
        .code_is(1)
        .stderr_contains("already exists");
}

#[test]
fn set_dir_and_global_edit_files_in_place() {
    let w = World::new()
        .dir_config("proj", "# team settings\n[env]\nA = \"1\" # keep me\n")
        .allow("proj");
    w.strata_in("proj", &["set", "--dir", "B=2"]).success();
    assert_eq!(
        std::fs::read_to_string(w.path("proj/.strata.toml")).unwrap(),
        "# team settings\n[env]\nA = \"1\" # keep me\nB = \"2\"\n"
    );
    // It was trusted before the edit, so it stays trusted.
    let out = w.strata_in("proj", &["env", "--format", "json"]);
    assert_eq!(
        out.json()["B"],
        serde_json::json!("2"),
        "{}",
        out.describe()
    );
    w.strata(&["set", "--global", "G=g"]).success();
    let out = w.strata(&["get", "G"]);
    assert_eq!(out.stdout_str(), "g\n");
    w.strata(&["unset", "--global", "G"]).success();
    w.strata(&["get", "G"]).code_is(1);
    w.strata(&["set", "--global", "--ttl", "1m", "G=g"])
        .code_is(1)
        .stderr_contains("session values only");
}

#[test]
fn status_names_the_context_and_what_chose_it() {
    let w = contexts().env("STRATA_SESSION", "st");
    w.strata(&["use", "prod"]).success();
    let out = w.strata(&["status"]);
    out.success()
        .stdout_contains("context    prod (chosen by global selection");
    let out = w.strata_env(&[("STRATA_CONTEXT", "dev")], &["status", "--json"]);
    let json = out.json();
    assert_eq!(json["context"]["name"], serde_json::json!("dev"));
    assert_eq!(
        json["context"]["chosen_by"],
        serde_json::json!("STRATA_CONTEXT")
    );
    assert_eq!(json["session"], serde_json::json!("st"));
}
