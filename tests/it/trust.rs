//! Trust in real shells: an untrusted, denied or edited directory file is never applied, says so
//! in one line, and `strata allow` makes it apply at the next prompt.

use crate::support::*;

/// Asserts that segment `label` holds exactly one strata line, naming `file` and `strata allow`.
#[track_caller]
fn assert_not_allowed_line(r: &ShellRun, label: &str, file: &str) {
    let found = r.strata_lines_at(label);
    let shown: Vec<String> = found.iter().map(|l| show(l)).collect();
    assert_eq!(
        found.len(),
        1,
        "[{}] expected one line about the untrusted file at {label:?}, got {shown:?}\n{}",
        r.shell.name(),
        r.describe()
    );
    let line = found[0];
    assert!(
        contains(line, file.as_bytes()) && contains(line, b"strata allow"),
        "[{}] the line should name {file} and `strata allow`: {}\n{}",
        r.shell.name(),
        show(line),
        r.describe()
    );
}

per_shell! {
    fn untrusted_file_is_skipped_with_one_line(sh) {
        let w = World::new().dir_config("proj", "[env]\nFOO = \"bar\"\n\n[path]\nprepend = [\"bin\"]\n");
        let file = w.path_str("proj/.strata.toml");
        let r = w.run_shell(sh, &[mark("enter"), cd("proj"), prompt(), snap("in"), mark("end")]);
        r.assert_unset("in", "FOO");
        r.assert_set("in", "PATH", &w.base_path());
        assert_not_allowed_line(&r, "enter", &file);
    }

    fn allow_applies_at_next_prompt(sh) {
        let w = World::new().dir_config("proj", "[env]\nFOO = \"bar\"\n");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("untrusted"),
            run_strata(&["allow"]),
            prompt(), snap("allowed"),
            cd(""), prompt(), snap("out"),
        ]);
        r.assert_unset("untrusted", "FOO");
        r.assert_set("allowed", "FOO", "bar");
        r.assert_unset("out", "FOO");
    }

    fn deny_removes_and_blocks(sh) {
        let w = World::new()
            .dir_config("proj", "[env]\nFOO = \"bar\"\n")
            .allow("proj")
            .env("FOO", "orig");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"),
            run_strata(&["deny"]),
            prompt(), snap("denied"),
            cd(""), prompt(), cd("proj"), prompt(), snap("reentered"),
        ]);
        r.assert_set("in", "FOO", "bar");
        r.assert_set("denied", "FOO", "orig");
        r.assert_set("reentered", "FOO", "orig");
    }

    fn denied_file_is_not_applied(sh) {
        let w = World::new().dir_config("proj", "[env]\nFOO = \"bar\"\n").deny("proj");
        let file = w.path_str("proj/.strata.toml");
        let r = w.run_shell(sh, &[mark("enter"), cd("proj"), prompt(), snap("in"), mark("end")]);
        r.assert_unset("in", "FOO");
        let found = r.strata_lines_at("enter");
        assert!(
            found.len() == 1 && contains(found[0], file.as_bytes()),
            "[{}] expected one line naming {file}\n{}",
            sh.name(),
            r.describe()
        );
    }

    fn edited_file_is_untrusted_again(sh) {
        let w = World::new()
            .dir_config("proj", "[env]\nFOO = \"bar\"\n\n[path]\nprepend = [\"bin\"]\n")
            .allow("proj");
        let file = w.path_str("proj/.strata.toml");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"),
            mark("edit"),
            write("proj/.strata.toml", "[env]\nFOO = \"evil\"\nMORE = \"1\"\n\n[path]\nprepend = [\"evil\"]\n"),
            prompt(), snap("edited"),
            mark("allow"),
            run_strata(&["allow"]),
            prompt(), snap("reallowed"),
        ]);
        let p = w.path_str("proj");
        let base = w.base_path();
        r.assert_set("in", "FOO", "bar");
        r.assert_set("in", "PATH", &format!("{p}/bin:{base}"));
        r.assert_unset("edited", "FOO");
        r.assert_unset("edited", "MORE");
        r.assert_set("edited", "PATH", &base);
        assert!(
            r.strata_lines_at("edit").iter().any(|l| contains(l, file.as_bytes()) && contains(l, b"strata allow")),
            "[{}] no line saying the edited file needs `strata allow`\n{}",
            sh.name(),
            r.describe()
        );
        r.assert_set("reallowed", "FOO", "evil");
        r.assert_set("reallowed", "PATH", &format!("{p}/evil:{base}"));
    }

    fn untrusted_inner_does_not_block_trusted_outer(sh) {
        let w = World::new()
            .dir_config("outer", "[env]\nA = \"outer\"\n")
            .dir_config("outer/inner", "[env]\nA = \"inner\"\nB = \"inner\"\n")
            .allow("outer");
        let r = w.run_shell(sh, &[cd("outer/inner"), prompt(), snap("in")]);
        r.assert_set("in", "A", "outer");
        r.assert_unset("in", "B");
    }

    fn untrusted_local_file_is_skipped(sh) {
        let w = World::new()
            .dir_config("proj", "[env]\nFOO = \"team\"\n")
            .local_config("proj", "[env]\nFOO = \"local\"\n")
            .allow("proj/.strata.toml");
        let r = w.run_shell(sh, &[cd("proj"), prompt(), snap("in")]);
        r.assert_set("in", "FOO", "team");
    }

    fn trust_paths_in_directory_file_are_ignored(sh) {
        let w = World::new();
        let toml = format!(
            "[settings.trust]\npaths = [{}]\n\n[env]\nA = \"a\"\n",
            toml_string(&w.path_str(""))
        );
        let w = w
            .dir_config("a", &toml)
            .allow("a")
            .dir_config("a/b", "[env]\nB = \"b\"\n");
        let r = w.run_shell(sh, &[cd("a/b"), prompt(), snap("in")]);
        r.assert_set("in", "A", "a");
        r.assert_unset("in", "B");
    }

    fn trust_paths_in_global_config_trust_without_asking(sh) {
        let w = World::new()
            .dir_config("proj", "[env]\nFOO = \"bar\"\n")
            .trust_work();
        let r = w.run_shell(sh, &[mark("enter"), cd("proj"), prompt(), snap("in"), mark("end")]);
        r.assert_set("in", "FOO", "bar");
        assert!(
            !contains(r.stderr_at("enter"), b"allow"),
            "[{}] a trusted-by-prefix file should not ask for `strata allow`\n{}",
            sh.name(),
            r.describe()
        );
    }
}
