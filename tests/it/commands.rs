//! The commands that work without a hook: `export json`, `env`, `exec`, `why`, `status`,
//! `trust list`, `edit`, `reload`.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use crate::support::*;

const PROJ: &str = "[env]\nFOO = \"bar\"\nOLD = false\n\n[path]\nprepend = [\"bin\"]\n";

fn project() -> World {
    World::new()
        .dir_config("proj", PROJ)
        .allow("proj")
        .env("OLD", "x")
}

/// Values for exact round trips through output formats (valid UTF-8: JSON needs it).
const TRICKY: &[(&str, &str)] = &[
    ("T_QUOTES", "it's \"q\" 'x'"),
    ("T_DOLLAR", "$HOME ${X} $(id) `id`"),
    ("T_BACKSLASH", "a\\b\\n\\"),
    ("T_NEWLINES", "l1\nl2\n"),
    ("T_TAB_CTRL", "a\tb\u{1}\u{1b}[0m"),
    ("T_EMOJI", "🦀 ünï"),
    ("T_HASH", "x # not a comment"),
    ("T_EQUALS", "a=b=c"),
    ("T_EMPTY", ""),
    ("T_SPACES", "  padded  "),
];

/// A project setting every TRICKY value (with `$` escaped as `$$` for strata's interpolation).
fn tricky_project() -> World {
    let mut toml = String::from("[env]\n");
    for (name, value) in TRICKY {
        toml += &format!("{name} = {}\n", toml_string(&value.replace('$', "$$")));
    }
    World::new().dir_config("proj", &toml).allow("proj")
}

#[test]
fn export_json_moves_to_target_and_then_is_silent() {
    let w = project();
    let out = w.strata_in("proj", &["export", "json"]);
    out.success();
    let v = out.json();
    assert_eq!(v.get("FOO"), Some(&json!("bar")), "{}", out.describe());
    assert_eq!(v.get("OLD"), Some(&Value::Null), "{}", out.describe());
    let p = w.path_str("proj");
    assert_eq!(
        v.get("PATH"),
        Some(&json!(format!("{p}/bin:{}", w.base_path()))),
        "{}",
        out.describe()
    );

    // Apply it as a shell would, then ask again: nothing changed, so nothing to do.
    let mut cmd = w.strata_command("proj", &["export", "json"]);
    for (k, val) in v.as_object().expect("export json prints an object") {
        match val {
            Value::Null => cmd.env_remove(k),
            Value::String(s) => cmd.env(k, s),
            other => panic!("{k} is {other}, expected a string or null"),
        };
    }
    let again = w.finish(cmd, &["export", "json", "(second)"]);
    again.success();
    let text = again.stdout_str();
    assert!(
        text.trim().is_empty() || text.trim() == "{}",
        "expected no changes on the second export\n{}",
        again.describe()
    );
}

#[test]
fn env_json_is_exactly_what_strata_sets() {
    let w = project();
    let p = w.path_str("proj");
    let out = w.strata(&["env", "--format", "json", "-C", &p]);
    out.success();
    assert_eq!(
        out.json(),
        json!({"FOO": "bar", "OLD": null, "PATH": format!("{p}/bin:{}", w.base_path())}),
        "{}",
        out.describe()
    );
}

#[test]
fn env_json_tricky_values_exact() {
    let w = tricky_project();
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    out.success();
    let v = out.json();
    for (name, value) in TRICKY {
        assert_eq!(
            v.get(*name),
            Some(&json!(value)),
            "{name}\n{}",
            out.describe()
        );
    }
}

#[test]
fn env_shell_format_evaluates_to_the_same_values() {
    let w = tricky_project()
        .env("OLD", "x")
        .dir_config("proj2", "[env]\nOLD = false\nPLAIN = \"p\"\n");
    let w = w.allow("proj2");
    for (rel, names) in [
        ("proj", TRICKY.iter().map(|t| t.0).collect::<Vec<_>>()),
        ("proj2", vec!["PLAIN"]),
    ] {
        let out = w.strata(&["env", "--format", "shell", "-C", &w.path_str(rel)]);
        out.success();
        let file = w.scratch("env.sh");
        fs::write(&file, &out.stdout).unwrap();
        let run = w.sh(
            Bash,
            &format!(". {}\ncommand env -0\n", Bash.quote_path(&file)),
        );
        run.success();
        let env = Env::parse(&run.stdout);
        for name in names {
            let expected = TRICKY
                .iter()
                .find(|t| t.0 == name)
                .map(|t| t.1)
                .unwrap_or("p");
            assert_eq!(
                env.get(name).map(show),
                Some(show(expected.as_bytes())),
                "{name} after sourcing\n{}",
                out.describe()
            );
        }
        if rel == "proj2" {
            assert_eq!(
                env.get("OLD"),
                None,
                "OLD = false should unset\n{}",
                out.describe()
            );
        }
    }
}

#[test]
fn env_dotenv_format_round_trips_through_dotenv_loading() {
    let w = tricky_project();
    let out = w.strata(&["env", "--format", "dotenv", "-C", &w.path_str("proj")]);
    out.success();
    let w = w
        .file("copy/.env", &out.stdout)
        .dir_config("copy", "[dotenv]\nfiles = [\".env\"]\n")
        .allow("copy");
    let back = w.strata(&["env", "--format", "json", "-C", &w.path_str("copy")]);
    back.success();
    let v = back.json();
    for (name, value) in TRICKY {
        assert_eq!(
            v.get(*name),
            Some(&json!(value)),
            "{name} after a dotenv round trip\n--- dotenv ---\n{}\n{}",
            out.stdout_str(),
            back.describe()
        );
    }
}

#[test]
fn exec_runs_with_resolved_env() {
    let w = project();
    let p = w.path_str("proj");
    let out = w.strata(&["exec", "-C", &p, "--", "printenv", "FOO"]);
    out.success();
    assert_eq!(show(&out.stdout), "bar\\n");
    let out = w.strata(&[
        "exec",
        "-C",
        &p,
        "--",
        "sh",
        "-c",
        "echo \"${OLD-unset}:$PATH\"",
    ]);
    out.success();
    assert_eq!(
        out.stdout_str(),
        format!("unset:{p}/bin:{}\n", w.base_path())
    );
}

#[test]
fn exec_passes_tricky_values_and_arguments_exactly() {
    let w = tricky_project();
    let p = w.path_str("proj");
    for (name, value) in TRICKY {
        let out = w.strata(&["exec", "-C", &p, "--", "printenv", name]);
        out.success();
        assert_eq!(
            show(&out.stdout),
            show(format!("{value}\n").as_bytes()),
            "{name}"
        );
    }
    let out = w.strata(&[
        "exec", "-C", &p, "--", "printf", "%s|", "a b", "$HOME", "-n", "",
    ]);
    assert_eq!(out.stdout_str(), "a b|$HOME|-n||", "{}", out.describe());
}

#[test]
fn exec_propagates_exit_code() {
    let w = project();
    let out = w.strata(&[
        "exec",
        "-C",
        &w.path_str("proj"),
        "--",
        "sh",
        "-c",
        "exit 3",
    ]);
    out.code_is(3);
}

#[test]
fn exec_skips_untrusted_file_with_warning_and_strict_fails() {
    let w = World::new().dir_config("proj", PROJ);
    let p = w.path_str("proj");
    let file = w.path_str("proj/.strata.toml");
    let out = w.strata(&["exec", "-C", &p, "--", "sh", "-c", "echo \"${FOO-unset}\""]);
    out.success().stderr_contains(&file);
    assert_eq!(out.stdout_str(), "unset\n");
    let out = w.strata(&["--strict", "exec", "-C", &p, "--", "sh", "-c", "echo ran"]);
    out.code_is(1).stderr_contains(&file);
    assert_eq!(
        out.stdout_str(),
        "",
        "the command must not run under --strict"
    );
}

#[test]
fn env_skips_untrusted_file_with_warning() {
    let w = World::new().dir_config("proj", PROJ);
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    out.success()
        .stderr_contains(&w.path_str("proj/.strata.toml"))
        .stderr_contains("strata allow");
    assert_eq!(out.json().get("FOO"), None, "{}", out.describe());
}

#[test]
fn why_names_every_layer_with_file_and_line() {
    let w = World::new()
        .dir_config("outer", "[env]\nFOO = \"outer\"\n")
        .dir_config("outer/inner", "[env]\nX = \"1\"\nFOO = \"inner\"\n")
        .allow("outer")
        .allow("outer/inner");
    let out = w.strata_in("outer/inner", &["why", "FOO"]);
    out.success();
    let text = out.stdout_str();
    let o = format!("{}:2", w.path_str("outer/.strata.toml"));
    let i = format!("{}:3", w.path_str("outer/inner/.strata.toml"));
    let (po, pi) = (text.find(&o), text.find(&i));
    assert!(
        po.is_some() && pi.is_some(),
        "why should name {o} and {i}\n{}",
        out.describe()
    );
    assert!(
        po < pi,
        "layers should be listed outer first\n{}",
        out.describe()
    );
    assert!(text.contains("inner"), "{}", out.describe());
}

#[test]
fn status_lists_files_and_trust() {
    let w = World::new()
        .dir_config("proj", "[env]\nFOO = \"bar\"\n")
        .allow("proj")
        .dir_config("proj/sub", "[env]\nBAR = \"x\"\n");
    let out = w.strata_in("proj/sub", &["status"]);
    out.success()
        .stdout_contains(&w.path_str("proj/.strata.toml"))
        .stdout_contains(&w.path_str("proj/sub/.strata.toml"));
    let json_out = w.strata_in("proj/sub", &["status", "--json"]);
    json_out.success();
    let text = json_out.json().to_string();
    for f in ["proj/.strata.toml", "proj/sub/.strata.toml"] {
        let needle = serde_json::to_string(&w.path_str(f)).unwrap();
        assert!(
            text.contains(&needle),
            "status --json lacks {needle}\n{}",
            json_out.describe()
        );
    }
}

#[test]
fn trust_list_shows_canonical_path() {
    let w = World::new()
        .dir_config("real", "[env]\nFOO = \"bar\"\n")
        .symlink("link", "real")
        .allow("link");
    let real = w.path_str("real/.strata.toml");
    w.strata(&["trust", "list"])
        .success()
        .stdout_contains(&real);
    let out = w.strata(&["trust", "list", "--json"]);
    out.success();
    let needle = serde_json::to_string(&real).unwrap();
    assert!(
        out.json().to_string().contains(&needle),
        "{}",
        out.describe()
    );
}

#[test]
fn edit_validates_and_allows_on_save() {
    let w = World::new().dir_config("proj", "[env]\nFOO = \"old\"\n");
    let editor = w.root().join("editor.sh");
    fs::write(
        &editor,
        "#!/bin/sh\nprintf '[env]\\nFOO = \"edited\"\\n' > \"$1\"\n",
    )
    .unwrap();
    fs::set_permissions(&editor, fs::Permissions::from_mode(0o755)).unwrap();
    let editor = editor.to_str().unwrap();
    let out = w.strata_env(
        &[("EDITOR", editor), ("VISUAL", editor)],
        &["-C", &w.path_str("proj"), "edit"],
    );
    out.success();
    assert_eq!(
        fs::read_to_string(w.path("proj/.strata.toml")).unwrap(),
        "[env]\nFOO = \"edited\"\n"
    );
    let env = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    env.success();
    assert_eq!(
        env.json().get("FOO"),
        Some(&json!("edited")),
        "{}",
        env.describe()
    );
}

per_shell! {
    fn reload_reevaluates_at_next_prompt(sh) {
        let w = World::new()
            .dir_config("proj", "[env]\nGREETING = \"hi ${NAME}\"\n")
            .env("NAME", "alice")
            .allow("proj");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"),
            raw(sh.export("NAME", "bob")),
            run_strata(&["reload"]),
            prompt(), snap("reloaded"),
        ]);
        r.assert_set("in", "GREETING", "hi alice");
        r.assert_set("reloaded", "GREETING", "hi bob");
    }
}
