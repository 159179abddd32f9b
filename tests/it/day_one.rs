//! A new user's first hour: the things the README promised that were not true, and the
//! frictions a first day hits. Each test failed on the code before the fix it covers.

use std::fs;

use crate::support::*;

/// A world with the context `prod` active (global selection) and a session named.
fn with_prod() -> World {
    let w = World::new().env("STRATA_SESSION", "day1");
    w.strata(&["context", "create", "prod"]).success();
    w.strata(&["use", "prod"]).success();
    w
}

fn prod_file(w: &World) -> String {
    fs::read_to_string(w.config_dir().join("contexts/prod.toml")).unwrap()
}

// ---- set/unset: every scope flag, a bare --context included ----

#[test]
fn set_and_unset_take_every_scope_flag() {
    let w = with_prod()
        .dir_config("p", "[env]\nKEEP = \"1\"\n")
        .allow("p");
    // A bare --context, before or after the assignment, and --context NAME / --context=NAME.
    w.strata(&["set", "--context", "A=1"]).success();
    w.strata(&["set", "B=2", "--context"]).success();
    w.strata(&["set", "--context", "prod", "C=3"]).success();
    w.strata(&["set", "--context=prod", "D=4"]).success();
    let text = prod_file(&w);
    for kv in ["A = \"1\"", "B = \"2\"", "C = \"3\"", "D = \"4\""] {
        assert!(text.contains(kv), "{kv} missing from the context:\n{text}");
    }
    w.strata(&["unset", "--context", "A"]).success();
    w.strata(&["unset", "B", "--context"]).success();
    w.strata(&["unset", "--context", "prod", "C"]).success();
    w.strata(&["unset", "--context=prod", "D"]).success();
    let text = prod_file(&w);
    for k in ["A =", "B =", "C =", "D ="] {
        assert!(!text.contains(k), "{k} still in the context:\n{text}");
    }
    // The session (default), --session, --dir, --global.
    w.strata(&["set", "S=1"]).success();
    w.strata(&["set", "--session", "S2=1"]).success();
    w.strata_in("p", &["set", "--dir", "DIRV=1"]).success();
    w.strata(&["set", "--global", "G=1"]).success();
    let show = w.strata(&["session", "show", "--json"]);
    assert_eq!(show.json()["env"]["S"], "1", "{}", show.describe());
    assert_eq!(show.json()["env"]["S2"], "1", "{}", show.describe());
    assert!(
        fs::read_to_string(w.path("p/.strata.toml"))
            .unwrap()
            .contains("DIRV = \"1\"")
    );
    assert!(
        fs::read_to_string(w.config_dir().join("config.toml"))
            .unwrap()
            .contains("G = \"1\"")
    );
    // The edited directory file stays allowed.
    let env = w.strata(&["env", "--format", "json", "-C", &w.path_str("p")]);
    assert_eq!(env.json()["DIRV"], "1", "{}", env.describe());
    w.strata(&["unset", "S", "S2"]).success();
    w.strata_in("p", &["unset", "--dir", "DIRV"]).success();
    w.strata(&["unset", "--global", "G"]).success();
    assert!(
        !fs::read_to_string(w.path("p/.strata.toml"))
            .unwrap()
            .contains("DIRV")
    );
    // No scope and no session: an error that says how to name one.
    let out = w.strata_env(&[("STRATA_SESSION", "")], &["set", "X=1"]);
    out.code_is(1).stderr_contains("STRATA_SESSION");
}

// ---- why ----

#[test]
fn why_shows_what_the_shell_gets() {
    let w = World::new()
        .env("OLD_THING", "legacy")
        .env("STRATA_SESSION", "s1")
        .dir_config("p", "[env]\nOLD_THING = false\n")
        .allow("p");
    let out = w.strata_in("p", &["why", "OLD_THING"]);
    out.success();
    let text = out.stdout_str();
    assert!(text.contains("=> OLD_THING is unset"), "{text}");
    assert!(!text.contains("=> OLD_THING=legacy"), "{text}");
    w.strata(&["set", "FROM_SESSION=1"]).success();
    let out = w.strata_in("p", &["why", "FROM_SESSION"]);
    let text = out.stdout_str();
    assert!(!text.contains(".toml:0"), "no line 0: {text}");
    assert!(text.contains("sessions/s1.toml:"), "{text}");
}

// ---- every suggested command runs as printed ----

per_shell! {
    /// The "not allowed" line's command, pasted into the shell in that directory, allows the
    /// file, even under a path with spaces and quotes.
    fn the_suggested_allow_command_pastes(sh) {
        let dir = "my app's \"dir\"";
        let w = World::new().dir_config(dir, "[env]\nPASTED = \"yes\"\n");
        let r = w.run_shell(sh, &[cd(dir), prompt(), mark("end")]);
        let line = String::from_utf8_lossy(r.stderr_until("end")).into_owned();
        let cmd = line
            .lines()
            .find_map(|l| l.split("then run: ").nth(1))
            .unwrap_or_else(|| panic!("no suggested command in {line:?}"))
            .to_string();
        let r = w.run_shell(sh, &[cd(dir), prompt(), raw(cmd.clone()), prompt(), snap("after")]);
        r.assert_set("after", "PASTED", "yes");
        let _ = cmd;
    }
}

// ---- allow validates as the hook would ----

#[test]
fn allow_refuses_a_file_the_hook_could_not_apply() {
    let w = World::new().dir_config("p", "[env]\nREF = \"${UNDEFINED_VAR}\"\n");
    let out = w.strata(&["allow", &w.path_str("p")]);
    out.code_is(1).stderr_contains("UNDEFINED_VAR");
    // Defined in the environment allow runs in (the user's shell), it is fine.
    let out = w.strata_env(&[("UNDEFINED_VAR", "x")], &["allow", &w.path_str("p")]);
    out.success();
}

// ---- optional dotenv files ----

per_shell! {
    fn an_optional_dotenv_file_may_be_missing_quietly(sh) {
        let w = World::new()
            .dir_config(
                "p",
                "[dotenv]\nfiles = [{ path = \".env\", optional = true }, \"needed.env\"]\n[env]\nA = \"1\"\n",
            )
            .allow("p");
        let r = w.run_shell(sh, &[cd("p"), prompt(), snap("in"), mark("end")]);
        r.assert_set("in", "A", "1");
        let err = String::from_utf8_lossy(r.stderr_until("end")).into_owned();
        assert!(!err.contains("p/.env not found"), "{err}");
        assert!(err.contains("needed.env not found"), "{err}");
    }
}

// ---- contexts ----

#[test]
fn context_create_from_names_itself_and_set_color_colours() {
    let w = with_prod();
    w.strata(&["context", "create", "dev", "--from", "prod"])
        .success();
    let dev = fs::read_to_string(w.config_dir().join("contexts/dev.toml")).unwrap();
    assert!(dev.starts_with("# strata context dev\n"), "{dev}");
    w.strata(&["context", "set", "prod", "color=red"]).success();
    let text = prod_file(&w);
    assert!(text.contains("\ncolor = \"red\""), "{text}");
    assert!(!text.contains("[env]\ncolor"), "{text}");
    let env = w.strata(&["env", "--format", "json"]);
    assert!(env.json().get("color").is_none(), "{}", env.describe());
    let out = w.strata(&["prompt", "--shell", "fish"]);
    assert!(
        out.stdout_str().contains("\x1b[31mprod"),
        "{}",
        out.describe()
    );
}

#[test]
fn use_says_when_this_directory_stays_on_another_context() {
    let w = with_prod();
    w.strata(&["context", "create", "dev"]).success();
    let w = w
        .dir_config("pinned", "[settings]\ncontext = \"dev\"\n")
        .allow("pinned");
    let out = w.strata_in("pinned", &["use", "prod"]);
    out.success().stderr_contains("stays dev");
}

// ---- PATH is a list ----

per_shell! {
    fn set_path_is_refused_and_prepend_edits_it(sh) {
        let w = World::new().env("STRATA_SESSION", "lists");
        let out = w.strata(&["set", "PATH=/x"]);
        out.code_is(1).stderr_contains("--prepend");
        w.strata(&["set", "--prepend", "PATH=/opt/front"]).success();
        w.strata(&["set", "--append", "PATH=/opt/back"]).success();
        let r = w.run_shell(sh, &[prompt(), snap("set"), run_strata(&["unset", "PATH"]), prompt(), snap("unset")]);
        let path = String::from_utf8_lossy(r.var("set", "PATH").unwrap()).into_owned();
        assert!(path.starts_with("/opt/front:"), "{path}");
        assert!(path.ends_with(":/opt/back"), "{path}");
        assert!(path.contains("/usr/bin"), "the user's entries stay: {path}");
        let path = String::from_utf8_lossy(r.var("unset", "PATH").unwrap()).into_owned();
        assert!(!path.contains("/opt/"), "{path}");
        w.strata(&["set", "--force", "PATH=/only/this"]).success();
    }
}

// ---- a new terminal is quiet ----

per_shell! {
    fn a_new_shell_does_not_list_the_global_context(sh) {
        let w = with_prod();
        w.strata(&["context", "set", "prod", "API_URL=https://api"]).success();
        let r = w.run_shell(sh, &[mark("first"), prompt(), snap("env"), mark("end")]);
        r.assert_set("env", "API_URL", "https://api");
        let lines = r.strata_lines_at("first");
        assert!(lines.is_empty(), "[{}] a new shell printed {:?}", sh.name(), lines);
    }
}

// ---- edit keeps the last good file ----

#[test]
fn edit_keeps_the_last_good_file_when_the_edit_is_broken() {
    let w = World::new()
        .dir_config("p", "[env]\nGOOD = \"1\"\n")
        .allow("p");
    let editor = w.root().join("editor.sh");
    fs::write(&editor, "#!/bin/sh\nprintf '[env\\nbroken' > \"$1\"\n").unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut fs::metadata(&editor).unwrap().permissions(),
        0o755,
    );
    fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = w.strata_env(
        &[("EDITOR", editor.to_str().unwrap())],
        &["-C", &w.path_str("p"), "edit"],
    );
    out.code_is(1).stderr_contains("unchanged");
    assert_eq!(
        fs::read_to_string(w.path("p/.strata.toml")).unwrap(),
        "[env]\nGOOD = \"1\"\n"
    );
    let env = w.strata(&["env", "--format", "json", "-C", &w.path_str("p")]);
    assert_eq!(env.json()["GOOD"], "1", "still allowed: {}", env.describe());
}

// ---- completions and man pages install where the shells look ----

#[test]
fn completions_install_where_each_shell_finds_them() {
    let w = World::new()
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME");
    // Completions exist for bash, zsh and fish.
    for sh in [Bash, Zsh, Fish] {
        w.strata(&["completions", "--install", sh.name()]).success();
    }
    let home = w.home();
    let bash = home.join(".local/share/bash-completion/completions/strata");
    let zsh = home.join(".local/share/zsh/site-functions/_strata");
    let fish = home.join(".config/fish/completions/strata.fish");
    for f in [&bash, &zsh, &fish] {
        assert!(f.is_file(), "{} was not written", f.display());
    }
    // bash: sourced as bash-completion would, completing `strata con`.
    let script = format!(
        "source {}\nCOMP_WORDS=(strata con); COMP_CWORD=1; COMP_LINE='strata con'; COMP_POINT=10\n_clap_complete_strata strata con strata\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        Bash.quote_path(&bash)
    );
    w.sh(Bash, &script).success().stdout_contains("context");
    // fish: found by itself in its completions directory (fish with its usual start-up, which
    // sets fish_complete_path; the world's HOME has no config of its own).
    let mut cmd = w.command(Fish.program());
    cmd.args(["-c", "complete -C 'strata con'"]);
    let out = run_with_timeout(cmd, "fish -c complete".into());
    out.success().stdout_contains("context");
}

#[test]
fn man_pages_name_their_arguments_and_install() {
    let w = World::new().env_remove("XDG_DATA_HOME");
    let page = w.strata(&["man"]).success().stdout_str();
    assert!(
        !page.contains("[\\fB\\-C \\fR]"),
        "the synopsis drops value names:\n{page}"
    );
    for section in [
        ".SH FILES",
        ".SH ENVIRONMENT",
        ".SH \"EXIT STATUS\"",
        ".SH PRECEDENCE",
        ".SH \"SEE ALSO\"",
    ] {
        let plain = section.replace('"', "");
        assert!(
            page.contains(section) || page.contains(&plain),
            "strata(1) has no {section}"
        );
    }
    let set = w.strata(&["man", "set"]).success().stdout_str();
    assert!(set.contains("strata set"), "{set}");
    assert!(set.contains("\\-\\-prepend"), "{set}");
    w.strata(&["man", "--install"]).success();
    let dir = w.home().join(".local/share/man/man1");
    for p in ["strata.1", "strata-set.1", "strata-context-use.1"] {
        assert!(dir.join(p).is_file(), "{p} not installed");
    }
    // What a pager gets: man renders the installed page.
    let out = w.sh(
        Bash,
        &format!(
            "MANPATH={}: man -P cat strata-set | head -20\n",
            w.home().join(".local/share/man").display()
        ),
    );
    out.success().stdout_contains("strata set");
}

// ---- status, config, exec, errors, licence ----

#[test]
fn status_lists_the_session_and_dotenv_files() {
    let w = World::new()
        .env("STRATA_SESSION", "st")
        .dir_config("p", "[dotenv]\nfiles = [\".env\"]\n")
        .file("p/.env", "A=1\n")
        .allow("p");
    w.strata(&["set", "X=1"]).success();
    let out = w.strata_in("p", &["status"]);
    let text = out.stdout_str();
    assert!(text.contains("p/.env"), "{text}");
    assert!(text.contains("sessions/st.toml"), "{text}");
}

#[test]
fn durations_print_as_people_write_them() {
    let w = World::new();
    let out = w.strata(&["config", "get", "session.ttl"]);
    assert_eq!(out.stdout_str().trim(), "7d");
    let out = w.strata(&["config", "list"]);
    out.stdout_contains("session.ttl=7d")
        .stdout_contains("lock.timeout=30s");
}

#[test]
fn exec_exits_like_a_shell_when_the_command_cannot_run() {
    let w = World::new();
    w.strata(&["exec", "--", "no-such-command-anywhere"])
        .code_is(127);
    let f = w.root().join("not-executable");
    fs::write(&f, "#!/bin/sh\n").unwrap();
    w.strata(&["exec", "--", f.to_str().unwrap()]).code_is(126);
}

#[test]
fn every_error_starts_with_strata() {
    let w = World::new();
    let out = w.strata(&["--no-such-flag"]);
    out.code_is(2);
    assert!(
        out.stderr_str().starts_with("strata: "),
        "{}",
        out.describe()
    );
    let out = w.strata(&["context", "use", "nope"]);
    out.code_is(1);
    assert!(
        out.stderr_str().starts_with("strata: "),
        "{}",
        out.describe()
    );
}

#[test]
fn the_licence_files_cargo_names_are_there() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT OR Apache-2.0\""));
    assert!(
        fs::read_to_string(root.join("LICENSE-MIT"))
            .unwrap()
            .contains("Permission is hereby granted")
    );
    assert!(
        fs::read_to_string(root.join("LICENSE-APACHE"))
            .unwrap()
            .contains("Apache License")
    );
}

/// Asserts what the REPL tests below wrote: in `subs` the candidates for `strata con`, in
/// `ctxs` those for `strata context use ''`, which hold the context `prod`.
#[track_caller]
fn assert_completed(run: &PtyRun, subs: &std::path::Path, ctxs: &std::path::Path) {
    let got = |f: &std::path::Path| String::from_utf8_lossy(&read_or_empty(f)).into_owned();
    let (s, c) = (got(subs), got(ctxs));
    let has = |text: &str, want: &str| text.lines().any(|l| l == want);
    assert!(
        has(&s, "context") && has(&s, "config"),
        "{s:?}\n{}",
        run.describe()
    );
    assert!(has(&c, "prod"), "{c:?}\n{}", run.describe());
}

/// elvish has no completion directory: `--install elvish` writes a module, which `use` in the
/// real REPL loads. It completes subcommands and live context names, and the variable that
/// makes strata answer a completion does not stay in the shell's environment.
#[test]
fn elvish_completions_load_as_a_module_and_complete_live_names() {
    let w = World::new()
        .dir_config("proj", "[env]\nFOO = \"bar\"\n")
        .allow("proj");
    w.strata(&["context", "create", "prod"]).success();
    let out = w.strata(&["completions", "--install", "elvish"]);
    out.success().stderr_contains("use strata-completions");
    let module = w.root().join("config/elvish/lib/strata-completions.elv");
    assert!(module.is_file(), "{} was not written", module.display());
    let (subs, ctxs, after) = (w.scratch("subs"), w.scratch("ctxs"), w.scratch("after"));
    let q = |p: &std::path::Path| Elvish.quote_path(p);
    let lines = vec![
        format!(
            "$edit:completion:arg-completer[strata] strata con > {}",
            q(&subs)
        ),
        format!(
            "$edit:completion:arg-completer[strata] strata context use '' > {}",
            q(&ctxs)
        ),
        format!("cd {}", Elvish.arg(&w.path_str("proj"))),
        format!("echo (has-env STRATA_COMPLETE) $E:FOO > {}", q(&after)),
    ];
    let run = w.interactive(Elvish, &["use strata-completions".to_string()], &lines);
    assert_completed(&run, &subs, &ctxs);
    let got = String::from_utf8_lossy(&read_or_empty(&after)).into_owned();
    // The hook's strata, after the completions, still exports (it would answer as a
    // completion with STRATA_COMPLETE left set).
    assert_eq!(got, "$false bar\n", "{}", run.describe());
}

/// nushell has one external completer for every command: `--install nu` puts strata's into
/// the autoload directory, the real REPL loads it, it answers for strata with live names, and
/// it hands other commands to the completer that was set before it.
#[test]
fn nu_completions_load_from_autoload_and_keep_the_users_completer() {
    let w = World::new();
    w.strata(&["context", "create", "prod"]).success();
    w.strata(&["completions", "--install", "nu"]).success();
    let file = w
        .root()
        .join("config/nushell/autoload/strata-completions.nu");
    assert!(file.is_file(), "{} was not written", file.display());
    let (subs, ctxs, other, env) = (
        w.scratch("subs"),
        w.scratch("ctxs"),
        w.scratch("other"),
        w.scratch("env"),
    );
    let ask = |spans: &str, out: &std::path::Path| {
        format!(
            "do $env.config.completions.external.completer {spans} | get value | str join \"\\n\" | save -f {}",
            Nu.quote_path(out)
        )
    };
    let lines = vec![
        ask("[strata con]", &subs),
        ask("[strata context use '']", &ctxs),
        // A completer the user set before strata's (as config.nu would): kept for other commands.
        "$env.config.completions.external.completer = {|spans| [{value: mine}] }".to_string(),
        format!("source {}", Nu.quote_path(&file)),
        ask("[ls x]", &other),
        format!(
            "$env.STRATA_COMPLETE? | default unset | save -f {}",
            Nu.quote_path(&env)
        ),
    ];
    let run = w.interactive(Nu, &[], &lines);
    assert_completed(&run, &subs, &ctxs);
    let got = |f: &std::path::Path| String::from_utf8_lossy(&read_or_empty(f)).into_owned();
    assert_eq!(got(&other), "mine", "{}", run.describe());
    assert_eq!(got(&env), "unset", "{}", run.describe());
}

/// xonsh: `--install xonsh` writes into `rc.d`; in the real REPL the completer answers for
/// strata with live names through xonsh's own completion machinery.
#[test]
fn xonsh_completions_install_into_rc_d_and_complete_live_names() {
    let w = World::new();
    w.strata(&["context", "create", "prod"]).success();
    w.strata(&["completions", "--install", "xonsh"]).success();
    let file = w.root().join("config/xonsh/rc.d/strata-completions.xsh");
    assert!(file.is_file(), "{} was not written", file.display());
    let (subs, ctxs, env) = (w.scratch("subs"), w.scratch("ctxs"), w.scratch("env"));
    let ask = |line: &str, out: &std::path::Path| {
        let n = line.len();
        format!(
            "open({}, 'w').write('\\n'.join(sorted(str(c) for c in __import__('xonsh.completer').completer.Completer().complete('', {line:?}, {n}, {n}, {{}}, multiline_text={line:?}, cursor_index={n})[0])))",
            Xonsh.quote_path(out)
        )
    };
    let lines = vec![
        format!("source {}", Xonsh.arg(&file.display().to_string())),
        ask("strata con", &subs),
        ask("strata context use ", &ctxs),
        format!(
            "open({}, 'w').write(str(__xonsh__.env.get('STRATA_COMPLETE')))",
            Xonsh.quote_path(&env)
        ),
    ];
    let run = w.interactive(Xonsh, &[], &lines);
    assert_completed(&run, &subs, &ctxs);
    let got = String::from_utf8_lossy(&read_or_empty(&env)).into_owned();
    assert_eq!(got, "None", "{}", run.describe());
}

/// tcsh: `--install tcsh` writes a file to `source`; in the real REPL a typed TAB completes a
/// subcommand and a live context name (the commands then run as completed).
#[test]
fn tcsh_completions_complete_at_a_real_tab() {
    let w = World::new();
    w.strata(&["context", "create", "prodlike"]).success();
    w.strata(&["context", "set", "prodlike", "WHERE=here"])
        .success();
    let out = w.strata(&["completions", "--install", "tcsh"]);
    out.success().stderr_contains("source ");
    let file = w.root().join("data/strata/complete.tcsh");
    assert!(file.is_file(), "{} was not written", file.display());
    let shown = w.scratch("shown");
    let lines = vec![
        format!("source {}", Tcsh.quote_path(&file)),
        format!("strata context sh\tprodl\t> {}", Tcsh.quote_path(&shown)),
    ];
    let run = w.interactive(Tcsh, &[], &lines);
    let got = String::from_utf8_lossy(&read_or_empty(&shown)).into_owned();
    assert!(got.contains("WHERE"), "{got:?}\n{}", run.describe());
}
