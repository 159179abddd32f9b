//! `strata config`: the precedence table with origins, in-place edits that keep comments,
//! validation of bad files, completions that load in real shells, and the man page.

use std::fs;

use crate::support::*;

fn get_origin(w: &World, rel_cwd: &str, env: &[(&str, &str)], flags: &[&str]) -> String {
    let mut args: Vec<&str> = flags.to_vec();
    args.extend(["-C", ""]);
    let cwd = w.path_str(rel_cwd);
    let last = args.len() - 1;
    args[last] = &cwd;
    args.extend(["config", "get", "lock.timeout", "--show-origin"]);
    let out = w.strata_env(env, &args);
    out.success();
    out.stdout_str()
}

#[test]
fn precedence_table_names_each_source() {
    let w = World::new()
        .env("STRATA_SYSTEM_CONFIG", "")
        .dir_config("proj", "[settings]\nlock.timeout = \"4s\"\n")
        .dir_config("proj/inner", "# inner\n[settings]\nlock.timeout = \"5s\"\n")
        .trust_work();
    let system = w.path("etc/config.toml");
    fs::create_dir_all(system.parent().unwrap()).unwrap();
    fs::write(&system, "[settings]\nlock.timeout = \"1s\"\n").unwrap();
    let w = w.env("STRATA_SYSTEM_CONFIG", system.to_str().unwrap());
    // trust_work wrote the global config; add a global value to it, as a user would.
    let global = w.config_dir().join("config.toml");
    w.strata(&["config", "set", "--global", "lock.timeout", "2s"])
        .success();
    let text = fs::read_to_string(&global).unwrap();
    w.strata(&["context", "create", "prod"]).success();
    fs::write(
        w.config_dir().join("contexts/prod.toml"),
        "[settings]\nlock.timeout = \"3s\"\n",
    )
    .unwrap();
    w.strata(&["use", "prod"]).success();

    let inner = w.path_str("proj/inner/.strata.toml");
    let proj = w.path_str("proj/.strata.toml");
    let ctx = w
        .config_dir()
        .join("contexts/prod.toml")
        .display()
        .to_string();
    let glob = global.display().to_string();
    let sys = system.display().to_string();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>, String);
    let cases: Vec<Case> = vec![
        (
            "proj/inner",
            vec![("STRATA_LOCK_TIMEOUT", "6s")],
            vec!["-c", "lock.timeout=7s"],
            "flag -c lock.timeout=7s\t7s\n".into(),
        ),
        (
            "proj/inner",
            vec![("STRATA_LOCK_TIMEOUT", "6s")],
            vec![],
            "env STRATA_LOCK_TIMEOUT\t6s\n".into(),
        ),
        ("proj/inner", vec![], vec![], format!("{inner}:3\t5s\n")),
        ("proj", vec![], vec![], format!("{proj}:2\t4s\n")),
        ("", vec![], vec![], format!("{ctx}:2\t3s\n")),
    ];
    for (cwd, env, flags, want) in cases {
        assert_eq!(
            get_origin(&w, cwd, &env, &flags),
            want,
            "at {cwd:?} with {env:?} {flags:?}"
        );
    }
    // Remove the context, then the global value, then the system file, level by level.
    w.strata(&["use", "-"]).success();
    let line = text.lines().position(|l| l.contains("timeout")).unwrap() + 1;
    assert_eq!(get_origin(&w, "", &[], &[]), format!("{glob}:{line}\t2s\n"));
    w.strata(&["config", "unset", "lock.timeout"]).success();
    assert_eq!(get_origin(&w, "", &[], &[]), format!("{sys}:2\t1s\n"));
    fs::remove_file(&system).unwrap();
    assert_eq!(get_origin(&w, "", &[], &[]), "default\t30s\n");
}

#[test]
fn config_set_keeps_every_comment() {
    let w = World::new();
    let global = w.config_dir().join("config.toml");
    fs::create_dir_all(w.config_dir()).unwrap();
    let original = "# my strata config\n\n[env]\n# editor of choice\nEDITOR = \"hx\" # yes\n\n[settings]\n# be quiet\nlog = \"quiet\"   # for now\n";
    fs::write(&global, original).unwrap();
    w.strata(&["config", "set", "lock.timeout", "2s"]).success();
    w.strata(&["config", "set", "log", "info"]).success();
    let text = fs::read_to_string(&global).unwrap();
    assert_eq!(
        text,
        "# my strata config\n\n[env]\n# editor of choice\nEDITOR = \"hx\" # yes\n\n[settings]\n# be quiet\nlog = \"info\"   # for now\nlock.timeout = \"2s\"\n"
    );
    w.strata(&["config", "unset", "lock.timeout"]).success();
    assert!(!fs::read_to_string(&global).unwrap().contains("timeout"));
}

#[test]
fn trust_paths_cannot_be_set_from_a_directory_file() {
    let w = World::new()
        .dir_config("proj", "[env]\nA = \"1\"\n")
        .allow("proj");
    let out = w.strata_in("proj", &["config", "set", "--local", "trust.paths", "/"]);
    out.code_is(1).stderr_contains("only be set in the global");
    w.strata(&["config", "set", "trust.paths", "/srv/mine"])
        .success();
    let out = w.strata(&["config", "get", "trust.paths"]);
    assert_eq!(out.stdout_str(), "/srv/mine\n");
}

#[test]
fn set_local_keeps_an_allowed_file_allowed() {
    let w = World::new()
        .dir_config("proj", "[env]\nA = \"1\"\n")
        .allow("proj");
    w.strata_in("proj", &["config", "set", "--local", "hide_diff", "true"])
        .success();
    let out = w.strata_in("proj", &["env", "--format", "json"]);
    out.success();
    assert_eq!(
        out.json()["A"],
        serde_json::json!("1"),
        "{}",
        out.describe()
    );
    let out = w.strata_in("proj", &["config", "get", "hide_diff"]);
    assert_eq!(out.stdout_str(), "true\n");
}

#[test]
fn validate_reports_each_bad_file_with_line_and_hint() {
    let w = World::new();
    let cases = [
        (
            "typo.toml",
            "[settings]\nlock.timout = \"1s\"\n",
            ":2:6: unknown setting `lock.timout` (did you mean `lock.timeout`?)",
        ),
        (
            "type.toml",
            "[settings]\nhide_diff = \"maybe\"\n",
            ":2:1: hide_diff must be true or false",
        ),
        (
            "dur.toml",
            "[settings]\nsession.ttl = \"a week\"\n",
            "invalid duration",
        ),
        (
            "log.toml",
            "[settings]\nlog = \"loud\"\n",
            "log must be quiet, info or verbose",
        ),
        ("top.toml", "[evn]\nA = \"1\"\n", "did you mean `env`?"),
        ("broken.toml", "[settings\n", "invalid TOML"),
    ];
    let mut paths = Vec::new();
    for (name, body, _) in &cases {
        let p = w.path(name);
        fs::write(&p, body).unwrap();
        paths.push(p.display().to_string());
    }
    let mut args = vec!["config", "validate"];
    args.extend(paths.iter().map(String::as_str));
    let out = w.strata(&args);
    out.code_is(1).stderr_contains("6 of 6 file(s) have errors");
    for ((name, _, want), path) in cases.iter().zip(&paths) {
        let line = out
            .stdout_str()
            .lines()
            .find(|l| l.contains(path.as_str()))
            .unwrap_or_else(|| panic!("{name} not reported\n{}", out.describe()))
            .to_string();
        assert!(line.contains(want), "{name}: {line}");
    }
    // A good file passes.
    fs::write(w.path("good.toml"), "[settings]\nlog = \"quiet\"\n").unwrap();
    w.strata(&["config", "validate", &w.path_str("good.toml")])
        .success()
        .stdout_contains("ok");
}

#[test]
fn completion_scripts_load_in_real_shells_and_complete_live_names() {
    let w = World::new();
    w.strata(&["context", "create", "prod"]).success();
    w.strata(&["context", "create", "staging"]).success();
    let mut bash_script = None;
    for (sh, check) in [
        ("bash", vec!["bash", "-n"]),
        ("zsh", vec!["zsh", "-n"]),
        ("fish", vec!["fish", "-n"]),
    ] {
        let out = w.strata(&["completions", sh]);
        out.success();
        let file = w.scratch(&format!("complete.{sh}"));
        if sh == "bash" {
            bash_script = Some(file.clone());
        }
        fs::write(&file, &out.stdout).unwrap();
        let mut cmd = w.command(check[0]);
        cmd.args(&check[1..]).arg(&file);
        let res = cmd
            .output()
            .unwrap_or_else(|e| panic!("{sh} must be installed: {e}"));
        assert!(
            res.status.success(),
            "{sh} rejects the script: {}",
            String::from_utf8_lossy(&res.stderr)
        );
    }
    // A real completion query in bash: `strata context use <TAB>` lists the contexts.
    let script = bash_script.unwrap();
    let out = w.sh(
        Shell::Bash,
        &format!(
            "source {}\nCOMP_WORDS=(strata context use ''); COMP_CWORD=3; COMP_TYPE=9\n_clap_complete_strata strata '' use\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\nCOMP_WORDS=(strata config get lock.); COMP_CWORD=3\n_clap_complete_strata strata lock. get\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
            Shell::Bash.quote_path(&script)
        ),
    );
    out.success();
    let lines: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
    for want in ["prod", "staging", "lock.timeout", "lock.warn_after"] {
        assert!(
            lines.iter().any(|l| l == want),
            "{want} not offered: {lines:?}"
        );
    }
}

#[test]
fn man_page_and_help_are_generated_from_the_cli() {
    let w = World::new();
    let out = w.strata(&["man"]);
    out.success()
        .stdout_contains(".TH strata 1")
        .stdout_contains("context");
    let out = w.strata(&["config", "--help"]);
    out.success().stdout_contains("validate");
}

#[test]
fn prune_forgets_deleted_files() {
    let w = World::new()
        .dir_config("gone", "[env]\nA = \"1\"\n")
        .allow("gone")
        .dir_config("kept", "[env]\nB = \"1\"\n")
        .allow("kept");
    fs::remove_dir_all(w.path("gone")).unwrap();
    w.strata(&["prune"]).success().stderr_contains("forgot");
    let out = w.strata(&["trust", "list", "--json"]);
    let rows = out.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", out.describe());
    assert!(
        rows[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("kept/.strata.toml")
    );
}
