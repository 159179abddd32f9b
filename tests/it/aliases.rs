//! `[aliases]` and events (issue 18): aliases are argv words defined on entering, removed on leaving, the user's own
//! alias of that name given back exactly, trust-gated, and shown by allow, status and why.
//! Aliases are a thing of the interactive shell, so these run the real shells on a terminal.

use std::fs;

use crate::support::*;

/// Words that would mean something to a shell if they were not quoted: none of it may.
const PROJECT: &str =
    "[aliases]\nt = [\"printf\", \"%s|\", \"a b\", \"it's\", \"$HOME\", \"*\", \"!!\"]\n";

/// The line that runs `t x`, its standard output into `file`.
fn run_t(sh: Shell, file: &std::path::Path) -> String {
    let f = sh.quote_path(file);
    match sh {
        Nu => format!("t x | save -f {f}"),
        // elvish has no way to keep a function of the user's under that name (see the hook):
        // out of the project there is no `t` at all.
        Elvish => format!("try {{ t x > {f} }} catch {{ echo gone > {f} }}"),
        _ => format!("t x > {f}"),
    }
}

/// The user's own `t`, defined in the rc file before strata's.
fn users_alias(sh: Shell) -> Option<String> {
    Some(match sh {
        Bash | Zsh => "alias t='echo user-t'".into(),
        Fish => "function t; echo user-t $argv; end".into(),
        Nu => "alias t = ^echo user-t".into(),
        Xonsh => "aliases['t'] = 'echo user-t'".into(),
        Tcsh => "alias t 'echo user-t'".into(),
        Elvish => return None,
    })
}

per_shell! {
    fn aliases_come_and_go_with_the_directory_and_give_back_the_users(sh) {
        let w = World::new().dir_config("proj", PROJECT).allow("proj");
        let (inside, outside, again) = (w.scratch("in"), w.scratch("out"), w.scratch("again"));
        let setup: Vec<String> = users_alias(sh).into_iter().collect();
        let proj = sh.arg(&w.path_str("proj"));
        let work = sh.arg(&w.path_str(""));
        let lines = vec![
            format!("cd {proj}"),
            run_t(sh, &inside),
            format!("cd {work}"),
            run_t(sh, &outside),
            format!("cd {proj}"),
            run_t(sh, &again),
        ];
        let run = w.interactive(sh, &setup, &lines);
        let got = |f: &std::path::Path| String::from_utf8_lossy(&read_or_empty(f)).into_owned();
        let ctx = run.describe();
        let words = "a b|it's|$HOME|*|!!|x|";
        assert_eq!(got(&inside), words, "[{}] inside\n{ctx}", sh.name());
        let users = if sh == Elvish { "gone\n" } else { "user-t x\n" };
        assert_eq!(got(&outside), users, "[{}] out again\n{ctx}", sh.name());
        assert_eq!(got(&again), words, "[{}] back in\n{ctx}", sh.name());
    }

    fn an_untrusted_directory_defines_no_alias(sh) {
        let w = World::new().dir_config("proj", PROJECT);
        let out = w.scratch("out");
        let setup: Vec<String> = users_alias(sh).into_iter().collect();
        let lines = vec![format!("cd {}", sh.arg(&w.path_str("proj"))), run_t(sh, &out)];
        let run = w.interactive(sh, &setup, &lines);
        let users = if sh == Elvish { "gone\n" } else { "user-t x\n" };
        assert_eq!(
            String::from_utf8_lossy(&read_or_empty(&out)),
            users,
            "[{}]\n{}",
            sh.name(),
            run.describe()
        );
    }
}

only_shells! {
    // These three can tell an alias strata defined from one the user redefined in between.
    [bash Bash, zsh Zsh, fish Fish, xonsh Xonsh]
    fn an_alias_the_user_redefined_inside_stays_as_the_user_made_it(sh) {
        let w = World::new().dir_config("proj", PROJECT).allow("proj");
        let out = w.scratch("out");
        let redefine = match sh {
            Bash | Zsh => "alias t='echo mine'".to_string(),
            Fish => "function t; echo mine $argv; end".to_string(),
            _ => "aliases['t'] = 'echo mine'".to_string(),
        };
        let lines = vec![
            format!("cd {}", sh.arg(&w.path_str("proj"))),
            redefine,
            format!("cd {}", sh.arg(&w.path_str(""))),
            run_t(sh, &out),
        ];
        let run = w.interactive(sh, &[], &lines);
        assert_eq!(
            String::from_utf8_lossy(&read_or_empty(&out)),
            "mine x\n",
            "[{}]\n{}",
            sh.name(),
            run.describe()
        );
    }
}

#[test]
fn a_shell_started_inside_gets_the_aliases_too() {
    // The state is inherited, the aliases are not: the inner shell's first prompt defines them.
    let w = World::new().dir_config("proj", PROJECT).allow("proj");
    let out = w.scratch("out");
    let proj = Bash.arg(&w.path_str("proj"));
    let rc = w.scratch("inner.bash");
    fs::write(&rc, format!("{}\n", w.install_line(Bash))).unwrap();
    let inner = format!(
        "bash --norc --noprofile -i -c {}",
        Bash.quote(&format!(
            "source {}; __strata_hook; shopt -s expand_aliases\n{}",
            Bash.quote_path(&rc),
            run_t(Bash, &out)
        ))
    );
    let lines = vec![format!("cd {proj}"), inner];
    let run = w.interactive(Bash, &[], &lines);
    assert_eq!(
        String::from_utf8_lossy(&read_or_empty(&out)),
        "a b|it's|$HOME|*|!!|x|",
        "{}",
        run.describe()
    );
}

#[test]
fn alias_names_and_words_are_checked() {
    for (toml, needle) in [
        ("[aliases]\n\"a b\" = [\"x\"]\n", "cannot be an alias name"),
        ("[aliases]\n\"-x\" = [\"x\"]\n", "cannot be an alias name"),
        (
            "[aliases]\ncd = [\"x\"]\n",
            "the shells' hooks depend on that name",
        ),
        (
            "[aliases]\n__strata_x = [\"x\"]\n",
            "the shells' hooks depend on that name",
        ),
        (
            "[aliases]\nt = \"cargo test\"\n",
            "must be an array of words",
        ),
        ("[aliases]\nt = []\n", "must be an array of words"),
        ("[aliases]\nt = [\"\"]\n", "must be an array of words"),
        ("[aliases]\nt = [\"a\", 1]\n", "must contain only strings"),
        ("[aliases]\nt = [\"a\\u0000b\"]\n", "NUL"),
    ] {
        let w = World::new().dir_config("proj", toml);
        let out = w.strata(&["allow", &w.path_str("proj")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{toml}: allowed\n{err}");
        assert!(err.contains(needle), "{toml}: {err}");
        assert!(
            err.contains(".strata.toml:"),
            "{toml}: names the file: {err}"
        );
    }
}

#[test]
fn allow_status_and_why_show_the_aliases() {
    let w = World::new()
        .global("[aliases]\ng = [\"git\", \"status\"]\nt = [\"echo\", \"global\"]\n")
        .dir_config(
            "proj",
            "[aliases]\nt = [\"cargo\", \"test\", \"--\"]\ng = false\n",
        );
    let out = w.strata(&["allow", &w.path_str("proj")]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("alias t = cargo test --"), "allow: {text}");
    let out = w.strata_in("proj", &["status"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("aliases"), "status: {text}");
    assert!(text.contains("t = cargo test --"), "status: {text}");
    assert!(
        !text.contains("g = git status"),
        "status shows only what applies: {text}"
    );
    let out = w.strata_in("proj", &["why", "t"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("config.toml:3"),
        "why cites the global line: {text}"
    );
    assert!(
        text.contains(".strata.toml:2"),
        "why cites the project line: {text}"
    );
    assert!(text.contains("=> alias t = cargo test --"), "why: {text}");
    let out = w.strata_in("proj", &["why", "g"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("=> no alias g"),
        "why of a removed alias: {text}"
    );
}

/// The user's `strata_on_*` handlers, each appending `KIND ARG…` to `log`.
fn handlers(sh: Shell, log: &std::path::Path) -> Vec<String> {
    let q = sh.quote_path(log);
    let kinds = ["enter", "leave", "context"];
    match sh {
        Bash | Zsh => kinds
            .iter()
            .map(|k| format!("strata_on_{k}() {{ echo \"{k} $*\" >> {q}; }}"))
            .collect(),
        Fish => kinds
            .iter()
            .map(|k| format!("function strata_on_{k}; echo \"{k} $argv\" >> {q}; end"))
            .collect(),
        Nu => kinds
            .iter()
            .map(|k| {
                format!(
                    "$env.STRATA_ON_{} = {{|...a| $\"{k} ($a | str join ' ')\\n\" | save -a {q} }}",
                    k.to_uppercase()
                )
            })
            .collect(),
        Xonsh => kinds
            .iter()
            .map(|k| {
                format!("def strata_on_{k}(*a): print('{k} ' + ' '.join(a), file=open({q}, 'a'))")
            })
            .collect(),
        Tcsh => kinds
            .iter()
            .flat_map(|k| {
                [
                    format!("alias strata_on_{k} 'echo {k} \\!* >> {q}'"),
                    format!("set strata_on_{k}"),
                ]
            })
            .collect(),
        Elvish => Vec::new(),
    }
}

only_shells! {
    // elvish gives a hook no way to find the user's functions (see shell/hook.elv).
    [bash Bash, zsh Zsh, fish Fish, nu Nu, xonsh Xonsh, tcsh Tcsh]
    fn enter_leave_and_context_events_call_the_users_functions(sh) {
        let w = World::new()
            .dir_config("proj", "events = [\"venv\", \"node\"]\n[env]\nA = \"1\"\n")
            .allow("proj")
            .dir_config("plain", "[env]\nB = \"1\"\n")
            .allow("plain");
        for args in [&["context", "create", "dev"][..], &["context", "create", "prod"], &["use", "dev"]] {
            w.strata(args).success();
        }
        let log = w.scratch("events");
        let proj = w.path_str("proj");
        let lines = vec![
            format!("cd {}", sh.arg(&proj)),
            sh.cmd(&["strata", "use", "prod"]),
            format!("cd {}", sh.arg(&w.path_str("plain"))),
        ];
        let run = w.interactive(sh, &handlers(sh, &log), &lines);
        let got: Vec<String> = String::from_utf8_lossy(&read_or_empty(&log))
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let plain = w.path_str("plain");
        assert_eq!(
            got,
            [
                "context dev".to_string(),
                format!("enter {proj} dev venv node"),
                "context prod dev".to_string(),
                format!("leave {proj} prod venv node"),
                format!("enter {plain} prod"),
            ],
            "[{}]\n{}",
            sh.name(),
            run.describe()
        );
    }
}

#[test]
fn event_names_are_names_and_only_directory_files_have_them() {
    let w = World::new().dir_config("proj", "events = [\"rm -rf /\"]\n");
    let out = w.strata(&["allow", &w.path_str("proj")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("cannot be an event name"),
        "{err}"
    );
    let w = World::new().global("events = [\"x\"]\n");
    let out = w.strata(&["status"]);
    let all =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(all.contains("unknown") && all.contains("events"), "{all}");
}
