//! The hook's own manners in bash, zsh and fish: exit status, cooperation with other prompt
//! hooks, idempotent installation, silence on no-op prompts, the change log line, and a
//! corrupt or foreign `STRATA_STATE`.

use crate::support::*;

fn project(toml: &str) -> World {
    World::new().dir_config("proj", toml).allow("proj")
}

/// Whitespace-separated words of a line.
fn words(line: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(line)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Asserts there is exactly one `strata` line in segment `label`, and returns its words.
#[track_caller]
fn one_log_line(r: &ShellRun, label: &str) -> Vec<String> {
    let found = r.strata_lines_at(label);
    assert_eq!(
        found.len(),
        1,
        "[{}] expected one strata line at {label:?}, got {:?}\n{}",
        sh_name(r),
        found.iter().map(|l| show(l)).collect::<Vec<_>>(),
        r.describe()
    );
    assert!(
        found[0].starts_with(b"strata: "),
        "[{}] log line should start with `strata: `: {}",
        sh_name(r),
        show(found[0])
    );
    words(found[0])
}

fn sh_name(r: &ShellRun) -> &'static str {
    r.shell.name()
}

#[track_caller]
fn assert_words(r: &ShellRun, label: &str, words: &[String], expected: &[&str]) {
    for e in expected {
        assert!(
            words.iter().any(|w| w == e),
            "[{}] log line at {label:?} lacks {e:?}: {words:?}\n{}",
            sh_name(r),
            r.describe()
        );
    }
}

/// Collapses consecutive duplicates (prompt repaints may re-run prompt functions).
fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in v {
        if out.last() != Some(&x) {
            out.push(x);
        }
    }
    out
}

per_shell! {
    /// In a real interactive shell on a pty: the user's `$?` survives the hook, both for the
    /// next command and for prompt code that runs after the hook. (elvish keeps no exit status:
    /// there the hook must simply work, and a failing command must not disturb it.)
    fn exit_status_preserved_in_interactive_shell(sh) {
        let w = project("[env]\nFOO = \"bar\"\n");
        let log = w.scratch("status-log");
        let q = sh.quote_path(&log);
        let setup = match sh {
            Bash => vec![format!("PS1='$(echo \"pc:$?\" >> {q})READY> '")],
            Zsh => vec![
                format!("__rec() {{ echo \"pc:$?\" >> {q}; }}"),
                "precmd_functions+=(__rec)".to_string(),
            ],
            Fish => vec![format!(
                "function fish_prompt; echo \"pc:$status\" >> {q}; printf '%s' 'READY> '; end"
            )],
            Nu => vec![format!(
                "$env.config.hooks.pre_prompt = ($env.config.hooks.pre_prompt | append {{|| $\"pc:($env.LAST_EXIT_CODE)\\n\" | save -a {q} }})"
            )],
            Xonsh => vec![
                "@events.on_pre_prompt".to_string(),
                format!("def __rec(**_): print('pc:' + str($LAST_RETURN_CODE), file=open({q}, 'a'))"),
            ],
            // tcsh has one precmd alias: code of the user's that runs after the hook calls it.
            Tcsh => vec![format!("alias precmd '__strata_hook; echo pc:$status >> {q}'")],
            Elvish => vec![],
        };
        let proj = sh.arg(&w.path_str("proj"));
        let work = sh.arg(&w.path_str(""));
        let show_foo = sh.sh_c(&format!("echo \"foo:$FOO\" >> '{}'", log.display()));
        let status = |lines: &mut Vec<String>| {
            if sh.status_var().is_some() {
                lines.push(sh.log_status("st:", &log));
            }
        };
        let mut lines = vec![sh.cmd(&["false"])];
        status(&mut lines);
        lines.push(format!("cd {proj}; {}", sh.cmd(&["false"])));
        status(&mut lines);
        lines.push(show_foo.clone());
        lines.push(format!("cd {work}; {}", sh.fail_with(7)));
        status(&mut lines);
        lines.push(show_foo);
        let run = w.interactive(sh, &setup, &lines);
        let text = String::from_utf8_lossy(&read_or_empty(&log)).into_owned();
        let pick = |prefix: &str| -> Vec<String> {
            text.lines().filter(|l| l.starts_with(prefix)).map(str::to_string).collect()
        };
        let ctx = format!("[{}] log:\n{text}\n{}", sh.name(), run.describe());
        assert_eq!(pick("foo:"), ["foo:bar", "foo:"], "hook did not apply/unload\n{ctx}");
        if sh.status_var().is_none() {
            return;
        }
        assert_eq!(pick("st:"), ["st:1", "st:1", "st:7"], "$? seen by the next command\n{ctx}");
        // tcsh itself gives its precmd alias a status of 0 (with no hook as well).
        let expected: &[&str] = if sh == Tcsh {
            &["pc:0"]
        } else {
            &["pc:0", "pc:1", "pc:0", "pc:1", "pc:0", "pc:7", "pc:0"]
        };
        assert_eq!(dedup(pick("pc:")), expected, "$? seen by prompt code after the hook\n{ctx}");
    }

    // The prompt hook alone, in the real REPL: no `cd`, so only what the shell runs before
    // its prompt (elvish's edit:before-readline, nu's pre_prompt…) can apply the change.
    fn a_change_made_at_the_prompt_applies_at_the_next_prompt(sh) {
        let w = World::new();
        let log = w.scratch("seen");
        let show = sh.sh_c(&format!("echo \"x:${{X-unset}}\" >> '{}'", log.display()));
        let lines = vec![
            show.clone(),
            sh.cmd(&["strata", "set", "X=one"]),
            show.clone(),
            sh.cmd(&["strata", "set", "X=two"]),
            show.clone(),
            sh.cmd(&["strata", "unset", "X"]),
            show,
        ];
        let run = w.interactive(sh, &[], &lines);
        let text = String::from_utf8_lossy(&read_or_empty(&log)).into_owned();
        assert_eq!(
            text,
            "x:unset\nx:one\nx:two\nx:unset\n",
            "[{}]\n{}",
            sh.name(),
            run.describe()
        );
    }

    fn sourcing_hook_twice_installs_once(sh) {
        let w = project("[env]\nFOO = \"bar\"\n");
        let (f1, f2) = (w.scratch("machinery1"), w.scratch("machinery2"));
        let dump = |f: &std::path::Path| {
            let q = sh.quote_path(f);
            match sh {
                Bash => format!("declare -p PROMPT_COMMAND > {q} 2>&1"),
                Zsh => format!(
                    "print -r -- \"precmd=${{precmd_functions[*]}} chpwd=${{chpwd_functions[*]}}\" > {q}"
                ),
                Fish => format!("functions --handlers > {q}"),
                Nu => format!("$env.config.hooks.pre_prompt | each {{|h| if ($h | describe) == 'string' {{ $h }} else {{ view source $h }} }} | to json | save -f {q}"),
                Elvish => format!("each {{|f| put $f[def] }} $after-chdir | to-lines > {q}"),
                Xonsh => format!(
                    "print([h.__name__ for e in (events.on_pre_prompt, events.on_chdir) for h in e], file=open({q}, 'w'))"
                ),
                Tcsh => format!("alias precmd > {q}; alias cwdcmd >> {q}"),
            }
        };
        let r = w.run_shell(sh, &[
            raw(dump(&f1)),
            raw(w.install_line(sh)),
            raw(dump(&f2)),
            mark("enter"),
            cd("proj"),
            prompt(),
            snap("in"),
            mark("end"),
        ]);
        let (m1, m2) = (read_or_empty(&f1), read_or_empty(&f2));
        assert_eq!(show(&m1), show(&m2), "[{}] second install changed the prompt machinery\n{}", sh.name(), r.describe());
        if sh != Fish {
            assert!(
                contains(&m1, b"strata"),
                "[{}] the hook is not in the prompt machinery: {}",
                sh.name(),
                show(&m1)
            );
        }
        r.assert_set("in", "FOO", "bar");
        one_log_line(&r, "enter");
    }

    fn noop_prompts_print_nothing(sh) {
        let w = project("[env]\nFOO = \"bar\"\n");
        let r = w.run_shell(sh, &[
            mark("fresh"),
            prompt(),
            prompt(),
            mark("enter"),
            cd("proj"),
            prompt(),
            mark("noop"),
            prompt(),
            prompt(),
            snap("in"),
            mark("end"),
        ]);
        r.assert_set("in", "FOO", "bar");
        for label in ["fresh", "noop"] {
            assert_eq!(show(r.stdout_at(label)), "", "[{}] stdout at {label}\n{}", sh.name(), r.describe());
            assert_eq!(show(r.stderr_at(label)), "", "[{}] stderr at {label}\n{}", sh.name(), r.describe());
        }
        assert_eq!(show(r.stdout_at("enter")), "", "[{}] stdout when entering\n{}", sh.name(), r.describe());
    }

    fn change_log_line_on_enter_and_leave(sh) {
        let w = project("[env]\nFOO = \"bar\"\nCHG = \"new\"\nOLD = false\n\n[path]\nprepend = [\"bin\"]\n")
            .env("CHG", "old")
            .env("OLD", "x");
        let r = w.run_shell(sh, &[
            mark("enter"), cd("proj"), prompt(),
            mark("stay"), prompt(),
            mark("leave"), cd(""), prompt(),
            mark("end"),
        ]);
        let enter = one_log_line(&r, "enter");
        assert_words(&r, "enter", &enter, &["+FOO", "~CHG", "-OLD", "~PATH"]);
        assert_eq!(r.strata_lines_at("stay").len(), 0, "[{}] log line on a no-op prompt\n{}", sh.name(), r.describe());
        let leave = one_log_line(&r, "leave");
        assert_words(&r, "leave", &leave, &["-FOO", "~CHG", "+OLD", "~PATH"]);
    }

    fn strata_log_quiet_silences_change_line(sh) {
        let w = project("[env]\nFOO = \"bar\"\n").env("STRATA_LOG", "quiet");
        let r = w.run_shell(sh, &[
            mark("enter"), cd("proj"), prompt(), snap("in"),
            mark("leave"), cd(""), prompt(), mark("end"),
        ]);
        r.assert_set("in", "FOO", "bar");
        assert_eq!(show(r.stderr_at("enter")), "", "[{}]\n{}", sh.name(), r.describe());
        assert_eq!(show(r.stderr_at("leave")), "", "[{}]\n{}", sh.name(), r.describe());
    }

    fn log_quiet_setting_silences_change_line(sh) {
        let w = project("[env]\nFOO = \"bar\"\n").global("[settings]\nlog = \"quiet\"\n");
        let r = w.run_shell(sh, &[mark("enter"), cd("proj"), prompt(), snap("in"), mark("end")]);
        r.assert_set("in", "FOO", "bar");
        assert_eq!(show(r.stderr_at("enter")), "", "[{}]\n{}", sh.name(), r.describe());
    }

    fn corrupt_state_does_not_break_shell(sh) {
        for case in 0..4 {
            let mut w = project("[env]\nFOO = \"bar\"\n")
                .env("FOO", "orig")
                .env("MINE", "mine");
            let pwned = w.scratch("pwned");
            let p = pwned.display();
            let state = match case {
                0 => b"garbage".to_vec(),
                1 => b"".to_vec(),
                2 => b"v1:\xff\xfe{}".to_vec(),
                _ => format!("garbage'\"$(touch {p})`touch {p}`;touch {p}\n\\").into_bytes(),
            };
            w.set_env("STRATA_STATE", &state);
            let r = w.run_shell(sh, &[
                prompt(), snap("start"), mark("entering"),
                cd("proj"), prompt(), snap("in"),
                cd(""), prompt(), snap("out"),
            ]);
            let ctx = format!("STRATA_STATE={}", show(&state));
            let early = lines(r.stderr_until("entering"));
            assert!(early.len() <= 1, "[{}] {ctx}: more than one warning line: {:?}\n{}", sh.name(),
                early.iter().map(|l| show(l)).collect::<Vec<_>>(), r.describe());
            for label in ["start", "in", "out"] {
                r.assert_set(label, "MINE", "mine");
            }
            r.assert_set("start", "FOO", "orig");
            r.assert_set("in", "FOO", "bar");
            r.assert_set("out", "FOO", "orig");
            r.assert_set("out", "PATH", &w.base_path());
            assert!(!pwned.exists(), "[{}] {ctx}: STRATA_STATE was executed", sh.name());
        }
    }

    // An empty value is a word of its own in every test the hook makes (in tcsh an unquoted
    // `$X:q` of an empty variable is no word at all, and `if` fails with a syntax error).
    fn empty_context_and_session_variables_do_not_break_the_hook(sh) {
        for (name, other) in [("STRATA_CONTEXT", "STRATA_SESSION"), ("STRATA_SESSION", "STRATA_CONTEXT")] {
            let w = project("[env]\nFOO = \"bar\"\n").env(name, "").env(other, "");
            let r = w.run_shell(sh, &[
                prompt(), mark("enter"), cd("proj"), prompt(), prompt(), snap("in"),
                mark("leave"), cd(""), prompt(), snap("out"), mark("end"),
            ]);
            r.assert_set("in", "FOO", "bar");
            r.assert_unset("out", "FOO");
            let said: Vec<String> = lines(r.stderr_until("end")).iter().map(|l| show(l)).collect();
            assert!(
                said.iter().all(|l| l.starts_with("strata: ") || l.starts_with("@@mark:")),
                "[{}] {name} and {other} empty: {said:?}\n{}", sh.name(), r.describe()
            );
        }
    }

    fn state_inherited_from_another_shell_does_not_clobber(sh) {
        let mut w = project("[env]\nFOO = \"bar\"\n\n[path]\nprepend = [\"bin\"]\n");
        let first = w.run_shell(sh, &[cd("proj"), prompt(), snap("in")]);
        first.assert_set("in", "FOO", "bar");
        let state = first
            .var("in", "STRATA_STATE")
            .unwrap_or_else(|| panic!("[{}] no STRATA_STATE exported inside a project\n{}", sh.name(), first.describe()))
            .to_vec();
        // A new tmux pane: the old STRATA_STATE, but an environment the user built themselves.
        w.set_env("STRATA_STATE", &state);
        w.set_env("FOO", b"my own");
        let r = w.run_shell(sh, &[prompt(), snap("start"), prompt(), snap("again")]);
        for label in ["start", "again"] {
            r.assert_set(label, "FOO", "my own");
            r.assert_set(label, "PATH", &w.base_path());
        }
    }

    fn hook_script_is_valid_shell(sh) {
        let w = World::new();
        let hook = w.strata(&["hook", sh.name()]);
        hook.success();
        assert!(!hook.stdout.is_empty(), "[{}] `strata hook` printed nothing", sh.name());
        let file = w.scratch("hook");
        std::fs::write(&file, &hook.stdout).unwrap();
        let f = Bash.quote_path(&file);
        let check = match sh {
            Bash => format!("bash -n {f}"),
            Zsh => format!("zsh -n {f}"),
            Fish => format!("fish --no-execute {f}"),
            Nu => format!("nu -n -c {}", Bash.quote(&format!("if not (nu-check {}) {{ exit 1 }}", Nu.quote_path(&file)))),
            Elvish => format!("elvish -compileonly {f}"),
            Xonsh => format!("xonsh --no-rc -c {} >/dev/null", Bash.quote(&format!("compilex(open({}).read())", Xonsh.quote_path(&file)))),
            // tcsh -n checks almost nothing: run the line, and the files it sources, instead.
            Tcsh => format!("tcsh -f -c {} 2>&1 | (! grep .)", Bash.quote(&format!("source {f}"))),
        };
        let out = w.sh(Bash, &check);
        out.success();
        if sh == Tcsh {
            assert!(out.stderr.is_empty(), "[tcsh] {}", out.describe());
        }
    }
}

#[test]
fn bash_hook_passes_shellcheck() {
    let w = World::new();
    let hook = w.strata(&["hook", "bash"]);
    hook.success();
    assert!(
        !hook.stdout.is_empty(),
        "`strata hook bash` printed nothing"
    );
    let file = w.scratch("hook.bash");
    std::fs::write(&file, &hook.stdout).unwrap();
    let mut cmd = w.command("shellcheck");
    cmd.args(["-s", "bash"]).arg(&file);
    let out = run_with_timeout(cmd, "shellcheck -s bash <hook>".into());
    assert_eq!(
        out.code(),
        0,
        "shellcheck (install it if missing: apt-get install -y shellcheck)\n{}",
        out.describe()
    );
}

/// Runs one prompt in bash after `pre` set up PROMPT_COMMAND, and checks both the user's
/// commands (in `log`) and strata ran, exactly once per prompt.
fn bash_with_prompt_command(pre: impl Fn(&str) -> String, expected_per_prompt: &str) {
    let w = project("[env]\nFOO = \"bar\"\n");
    let log = w.scratch("pc-log");
    let q = Bash.quote_path(&log);
    let pre = pre(&q);
    let r = w.run_shell_pre(
        Bash,
        &[&pre],
        &[cd("proj"), prompt(), snap("in"), prompt(), snap("again")],
    );
    r.assert_set("in", "FOO", "bar");
    r.assert_set("again", "FOO", "bar");
    assert_eq!(
        show(&read_or_empty(&log)),
        show(expected_per_prompt.repeat(2).as_bytes()),
        "user PROMPT_COMMAND did not run once per prompt\n{}",
        r.describe()
    );
}

#[test]
fn bash_keeps_existing_prompt_command_string() {
    bash_with_prompt_command(|q| format!("PROMPT_COMMAND='echo user >> {q}'"), "user\n");
}

#[test]
fn bash_keeps_existing_prompt_command_string_with_trailing_semicolon() {
    bash_with_prompt_command(|q| format!("PROMPT_COMMAND='echo user >> {q};'"), "user\n");
}

#[test]
fn bash_keeps_existing_prompt_command_array() {
    bash_with_prompt_command(
        |q| format!("PROMPT_COMMAND=('echo a >> {q}' 'echo b >> {q}')"),
        "a\nb\n",
    );
}

#[test]
fn bash_prompt_command_added_after_hook_still_works() {
    let w = project("[env]\nFOO = \"bar\"\n");
    let log = w.scratch("pc-log");
    let q = Bash.quote_path(&log);
    let r = w.run_shell(
        Bash,
        &[
            raw(format!("PROMPT_COMMAND+=('echo after >> {q}')")),
            cd("proj"),
            prompt(),
            snap("in"),
        ],
    );
    r.assert_set("in", "FOO", "bar");
    assert_eq!(show(&read_or_empty(&log)), "after\\n", "{}", r.describe());
}
