//! The hook in real bash, zsh and fish: entering and leaving projects, layering, interpolation,
//! PATH-like lists, dotenv, and values that must round-trip byte for byte.

use crate::support::*;

/// A world with one allowed project `proj` holding `toml`.
fn project(toml: &str) -> World {
    World::new().dir_config("proj", toml).allow("proj")
}

/// Enter `proj`, prompt, snapshot "in"; leave to `work/`, prompt, snapshot "out".
fn enter_and_leave() -> Vec<Step> {
    vec![
        prompt(),
        snap("before"),
        cd("proj"),
        prompt(),
        snap("in"),
        cd(""),
        prompt(),
        snap("out"),
    ]
}

/// Values that break naive quoting, as (name, value written in TOML, expected bytes).
fn tricky_values() -> Vec<(&'static str, &'static str, &'static [u8])> {
    vec![
        ("T_SPACES", "  two  spaces  ", b"  two  spaces  "),
        ("T_SQUOTE", "it's 'quoted'", b"it's 'quoted'"),
        ("T_DQUOTE", "say \"hi\"", b"say \"hi\""),
        ("T_DOLLAR", "$$HOME $$(id) $${X} $$", b"$HOME $(id) ${X} $"),
        ("T_BACKTICK", "`id` `", b"`id` `"),
        ("T_BACKSLASH", "a\\b\\\\c\\n\\", b"a\\b\\\\c\\n\\"),
        ("T_NEWLINE", "line1\nline2\n\n", b"line1\nline2\n\n"),
        ("T_TAB", "a\tb\t", b"a\tb\t"),
        ("T_CTRL", "\u{1}x\u{1b}[31m\u{7f}", b"\x01x\x1b[31m\x7f"),
        ("T_EMOJI", "🦀 ünï ✓", "🦀 ünï ✓".as_bytes()),
        ("T_DASH", "-n -e", b"-n -e"),
        ("T_PERCENT", "100% %s %d", b"100% %s %d"),
        ("T_GLOB", "* ? [a]", b"* ? [a]"),
        ("T_EMPTY", "", b""),
        (
            "T_MIXED",
            "'\"$$`\\\n\t\u{1}🦀;|&<>(){}#~",
            "'\"$`\\\n\t\u{1}🦀;|&<>(){}#~".as_bytes(),
        ),
    ]
}

per_shell! {
    fn enter_sets_env_and_leave_unsets(sh) {
        let w = project("[env]\nFOO = \"bar\"\nNUM = 42\n");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_unset("before", "FOO");
        r.assert_set("in", "FOO", "bar");
        r.assert_set("in", "NUM", "42");
        r.assert_unset("out", "FOO");
        r.assert_unset("out", "NUM");
    }

    fn leave_restores_previous_value(sh) {
        let w = project("[env]\nFOO = \"new\"\n").env("FOO", "old value");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_set("before", "FOO", "old value");
        r.assert_set("in", "FOO", "new");
        r.assert_set("out", "FOO", "old value");
    }

    fn leave_restores_empty_value_as_empty(sh) {
        let w = project("[env]\nFOO = \"new\"\n").env("FOO", "");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_set("in", "FOO", "new");
        r.assert_set("out", "FOO", "");
    }

    fn false_unsets_and_leaving_restores(sh) {
        let w = project("[env]\nOLD = false\n").env("OLD", "keep me");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_unset("in", "OLD");
        r.assert_set("out", "OLD", "keep me");
    }

    fn untouched_variables_stay(sh) {
        let w = project("[env]\nFOO = \"bar\"\n").env("MINE", "mine").env_os("RAW", b"\xff\x01");
        let r = w.run_shell(sh, &enter_and_leave());
        for label in ["in", "out"] {
            r.assert_set(label, "MINE", "mine");
            r.assert_var(label, "RAW", Some(&sh.as_held(b"\xff\x01")));
        }
    }

    fn tricky_values_set_byte_exact(sh) {
        let mut toml = String::from("[env]\n");
        for (name, value, _) in tricky_values() {
            toml += &format!("{name} = {}\n", toml_string(value));
        }
        let w = project(&toml);
        let r = w.run_shell(sh, &enter_and_leave());
        for (name, _, expected) in tricky_values() {
            r.assert_var("in", name, Some(expected));
            r.assert_unset("out", name);
        }
    }

    fn tricky_previous_values_restored_byte_exact(sh) {
        let mut toml = String::from("[env]\n");
        let mut w = World::new();
        let mut previous: Vec<(String, Vec<u8>)> = tricky_values()
            .into_iter()
            .map(|(name, _, bytes)| (name.to_string(), bytes.to_vec()))
            .collect();
        previous.push(("T_INVALID_UTF8".into(), b"\xff\xfe caf\xe9 \xc3\x28 \x80".to_vec()));
        previous.push(("T_LONE_SURROGATE".into(), b"\xed\xa0\x80".to_vec()));
        for (name, bytes) in &previous {
            w = w.env_os(name, bytes);
            toml += &format!("{name} = \"strata\"\n");
        }
        let w = w.dir_config("proj", &toml).allow("proj");
        let r = w.run_shell(sh, &enter_and_leave());
        for (name, bytes) in &previous {
            // What the shell holds of it (nushell decodes it at start-up) is what comes back.
            let held = sh.as_held(bytes);
            r.assert_var("before", name, Some(&held));
            r.assert_set("in", name, "strata");
            r.assert_var("out", name, Some(&held));
        }
    }

    fn directory_with_spaces_and_unicode(sh) {
        let dir = "my proj/ünï cødé 🦀";
        let w = World::new()
            .dir_config(dir, "[env]\nFOO = \"bar\"\nHERE = \"${STRATA_DIR}\"\n")
            .allow(dir);
        let r = w.run_shell(sh, &[cd(dir), prompt(), snap("in"), cd("my proj"), prompt(), snap("out")]);
        r.assert_set("in", "FOO", "bar");
        r.assert_var("in", "HERE", Some(&bytes_of(&w.path(dir))));
        r.assert_unset("out", "FOO");
        r.assert_unset("out", "HERE");
    }

    fn entering_through_a_symlink(sh) {
        let w = World::new()
            .dir_config("real", "[env]\nFOO = \"bar\"\n")
            .symlink("link", "real")
            .allow("real");
        let r = w.run_shell(sh, &[cd("link"), prompt(), snap("in"), cd(""), prompt(), snap("out")]);
        r.assert_set("in", "FOO", "bar");
        r.assert_unset("out", "FOO");
    }

    fn allow_through_a_symlink_trusts_the_target(sh) {
        let w = World::new()
            .dir_config("real", "[env]\nFOO = \"bar\"\n")
            .symlink("link", "real")
            .allow("link");
        let r = w.run_shell(sh, &[cd("real"), prompt(), snap("in")]);
        r.assert_set("in", "FOO", "bar");
    }

    fn nested_layers_inner_wins(sh) {
        let w = World::new()
            .dir_config("outer", "[env]\nA = \"outer\"\nB = \"outer\"\n")
            .dir_config("outer/inner", "[env]\nB = \"inner\"\nC = \"inner\"\n")
            .allow("outer")
            .allow("outer/inner");
        let r = w.run_shell(sh, &[
            cd("outer/inner"), prompt(), snap("inner"),
            cd("outer"), prompt(), snap("outer"),
            cd("outer/inner"), prompt(), snap("inner-again"),
            cd(""), prompt(), snap("out"),
        ]);
        for label in ["inner", "inner-again"] {
            r.assert_set(label, "A", "outer");
            r.assert_set(label, "B", "inner");
            r.assert_set(label, "C", "inner");
        }
        r.assert_set("outer", "A", "outer");
        r.assert_set("outer", "B", "outer");
        r.assert_unset("outer", "C");
        for name in ["A", "B", "C"] {
            r.assert_unset("out", name);
        }
    }

    fn subdirectory_without_file_inherits(sh) {
        let w = project("[env]\nFOO = \"bar\"\n").mkdir("proj/src/deep");
        let r = w.run_shell(sh, &[cd("proj/src/deep"), prompt(), snap("deep")]);
        r.assert_set("deep", "FOO", "bar");
    }

    fn root_true_stops_inheritance(sh) {
        let w = World::new()
            .dir_config("outer", "[env]\nA = \"outer\"\nB = \"outer\"\n")
            .dir_config("outer/inner", "root = true\n[env]\nB = \"inner\"\n")
            .allow("outer")
            .allow("outer/inner");
        let r = w.run_shell(sh, &[cd("outer"), prompt(), snap("outer"), cd("outer/inner"), prompt(), snap("inner")]);
        r.assert_set("outer", "A", "outer");
        r.assert_unset("inner", "A");
        r.assert_set("inner", "B", "inner");
    }

    fn local_file_overrides_its_sibling(sh) {
        let w = World::new()
            .dir_config("proj", "[env]\nFOO = \"team\"\nSHARED = \"team\"\n")
            .local_config("proj", "[env]\nFOO = \"mine\"\nLOCAL = \"mine\"\n")
            .allow("proj/.strata.toml")
            .allow("proj/.strata.local.toml");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_set("in", "FOO", "mine");
        r.assert_set("in", "SHARED", "team");
        r.assert_set("in", "LOCAL", "mine");
        for name in ["FOO", "SHARED", "LOCAL"] {
            r.assert_unset("out", name);
        }
    }

    fn interpolation(sh) {
        // `allow` evaluates the file as the hook will, so it runs with the same environment.
        let w = World::new()
            .env("USER_NAME", "alice")
            .env("EMPTY", "")
            .env("X", "orig")
            .dir_config("proj", concat!(
                "[env]\n",
                "GREETING = \"hi ${USER_NAME}\"\n",
                "WITH_DEFAULT = \"${MISSING:-fall back}\"\n",
                "SET_DEFAULT = \"${USER_NAME:-fallback}\"\n",
                "EMPTY_DEFAULT = \"${EMPTY:-used}\"\n",
                "PRICE = \"$$5\"\n",
                "BUILD = \"${STRATA_DIR}/target\"\n",
                "FIRST = \"one\"\n",
                "SECOND = \"${FIRST}-two\"\n",
                "X = \"${X}:more\"\n",
            ))
            .allow("proj");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_set("in", "GREETING", "hi alice");
        r.assert_set("in", "WITH_DEFAULT", "fall back");
        r.assert_set("in", "SET_DEFAULT", "alice");
        r.assert_set("in", "EMPTY_DEFAULT", "used");
        r.assert_set("in", "PRICE", "$5");
        r.assert_set("in", "BUILD", &format!("{}/target", w.path_str("proj")));
        r.assert_set("in", "SECOND", "one-two");
        r.assert_set("in", "X", "orig:more");
        r.assert_set("out", "X", "orig");
        r.assert_unset("out", "GREETING");
    }

    fn interpolation_sees_lower_layers(sh) {
        let w = World::new()
            .dir_config("outer", "[env]\nBASE = \"/opt/base\"\n")
            .dir_config("outer/inner", "[env]\nDERIVED = \"${BASE}/bin\"\n")
            .allow("outer")
            .allow("outer/inner");
        let r = w.run_shell(sh, &[cd("outer/inner"), prompt(), snap("in")]);
        r.assert_set("in", "DERIVED", "/opt/base/bin");
    }

    fn self_reference_does_not_grow_on_reevaluation(sh) {
        let w = World::new()
            .env("X", "orig")
            .dir_config("proj", "[env]\nX = \"${X}:more\"\n")
            .allow("proj");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), prompt(), snap("first"),
            write("proj/.strata.toml", "[env]\nX = \"${X}:more\"\nY = \"changed\"\n"),
            run_strata(&["allow"]),
            prompt(), prompt(), snap("edited"),
            cd(""), prompt(), snap("out"),
        ]);
        r.assert_set("first", "X", "orig:more");
        r.assert_set("edited", "Y", "changed");
        r.assert_set("edited", "X", "orig:more");
        r.assert_set("out", "X", "orig");
        r.assert_unset("out", "Y");
    }

    fn moving_between_sibling_projects(sh) {
        let w = World::new()
            .dir_config("a", "[env]\nFOO = \"a\"\nONLY_A = \"1\"\n")
            .dir_config("b", "[env]\nFOO = \"b\"\n")
            .allow("a")
            .allow("b")
            .env("FOO", "orig");
        let r = w.run_shell(sh, &[
            cd("a"), prompt(), snap("a"),
            cd("b"), prompt(), snap("b"),
            cd(""), prompt(), snap("out"),
        ]);
        r.assert_set("a", "FOO", "a");
        r.assert_set("a", "ONLY_A", "1");
        r.assert_set("b", "FOO", "b");
        r.assert_unset("b", "ONLY_A");
        r.assert_set("out", "FOO", "orig");
    }

    fn path_prepend_and_append_relative_to_file(sh) {
        let w = project("[path]\nprepend = [\"bin\", \"/abs/x\"]\nappend = [\"tail\"]\n");
        let base = w.base_path();
        let p = w.path_str("proj");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_set("in", "PATH", &format!("{p}/bin:/abs/x:{base}:{p}/tail"));
        r.assert_set("out", "PATH", &base);
    }

    fn path_order_across_nested_layers(sh) {
        let w = World::new()
            .dir_config("o", "[path]\nprepend = [\"obin\"]\nappend = [\"oapp\"]\n")
            .dir_config("o/i", "[path]\nprepend = [\"ibin\"]\nappend = [\"iapp\"]\n")
            .allow("o")
            .allow("o/i");
        let base = w.base_path();
        let (o, i) = (w.path_str("o"), w.path_str("o/i"));
        let r = w.run_shell(sh, &[cd("o/i"), prompt(), snap("in"), cd(""), prompt(), snap("out")]);
        r.assert_set("in", "PATH", &format!("{i}/ibin:{o}/obin:{base}:{o}/oapp:{i}/iapp"));
        r.assert_set("out", "PATH", &base);
    }

    fn path_entry_already_present_moves_and_goes_back(sh) {
        let w = project("[path]\nprepend = [\"/usr/bin\"]\n");
        let base = w.base_path();
        let bin = base.split(':').next().unwrap().to_string();
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_set("in", "PATH", &format!("/usr/bin:{bin}:/usr/local/bin:/bin"));
        r.assert_set("out", "PATH", &base);
    }

    fn user_path_entry_added_inside_survives_leaving(sh) {
        let w = project("[path]\nprepend = [\"bin\"]\n");
        let base = w.base_path();
        let p = w.path_str("proj");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"),
            raw(sh.prepend_path("/user/front")),
            raw(sh.append_path("/user/back")),
            prompt(), snap("user"),
            cd(""), prompt(), snap("out"),
        ]);
        r.assert_set("in", "PATH", &format!("{p}/bin:{base}"));
        r.assert_set("user", "PATH", &format!("/user/front:{p}/bin:{base}:/user/back"));
        r.assert_set("out", "PATH", &format!("/user/front:{base}:/user/back"));
    }

    fn paths_table_edits_other_lists(sh) {
        let w = project("[paths.PYTHONPATH]\nprepend = [\"lib\"]\nappend = [\"/extra\"]\n\n[paths.MANPATH]\nprepend = [\"man\"]\n")
            .env("PYTHONPATH", "/a:/b");
        let p = w.path_str("proj");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_set("in", "PYTHONPATH", &format!("{p}/lib:/a:/b:/extra"));
        r.assert_set("in", "MANPATH", &format!("{p}/man"));
        r.assert_set("out", "PYTHONPATH", "/a:/b");
        r.assert_unset("out", "MANPATH");
    }

    fn dotenv_loaded_before_env(sh) {
        let w = World::new()
            .file(
                "proj/.env",
                "# comment\nA=from_dotenv\nB=dotenv\nexport C='lit $x \\n'\nD=\"l1\\nl2\"\nE=\"multi\nline\"\n",
            )
            .dir_config("proj", "[dotenv]\nfiles = [\".env\"]\n\n[env]\nB = \"toml\"\nF = \"${A}+\"\n")
            .allow("proj");
        let r = w.run_shell(sh, &enter_and_leave());
        r.assert_set("in", "A", "from_dotenv");
        r.assert_set("in", "B", "toml");
        r.assert_set("in", "C", "lit $x \\n");
        r.assert_set("in", "D", "l1\nl2");
        r.assert_set("in", "E", "multi\nline");
        r.assert_set("in", "F", "from_dotenv+");
        for name in ["A", "B", "C", "D", "E", "F"] {
            r.assert_unset("out", name);
        }
    }

    fn user_change_after_strata_set_wins(sh) {
        let w = project("[env]\nFOO = \"strata\"\nBAR = \"strata\"\n").env("FOO", "orig");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"),
            raw(sh.export("FOO", "mine")),
            raw(sh.export("BAR", "also mine")),
            prompt(), snap("changed"),
            cd(""), prompt(), snap("out"),
        ]);
        r.assert_set("in", "FOO", "strata");
        r.assert_set("changed", "FOO", "mine");
        r.assert_set("out", "FOO", "mine");
        r.assert_set("out", "BAR", "also mine");
    }

    fn deleted_file_is_unloaded_at_next_prompt(sh) {
        let w = project("[env]\nFOO = \"bar\"\n\n[path]\nprepend = [\"bin\"]\n");
        let base = w.base_path();
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"),
            raw(sh.cmd(&["rm", &w.path_str("proj/.strata.toml")])),
            prompt(), snap("deleted"),
        ]);
        r.assert_set("in", "FOO", "bar");
        r.assert_unset("deleted", "FOO");
        r.assert_set("deleted", "PATH", &base);
    }

    fn new_file_appears_at_next_prompt(sh) {
        let w = World::new().mkdir("proj");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("empty"),
            write("proj/.strata.toml", "[env]\nFOO = \"bar\"\n"),
            run_strata(&["allow"]),
            prompt(), snap("created"),
        ]);
        r.assert_unset("empty", "FOO");
        r.assert_set("created", "FOO", "bar");
    }

    fn global_config_applies_everywhere_below_directories(sh) {
        let w = World::new()
            .global("[env]\nG = \"global\"\nFOO = \"global\"\n")
            .dir_config("proj", "[env]\nFOO = \"proj\"\n")
            .allow("proj");
        let r = w.run_shell(sh, &[prompt(), snap("top"), cd("proj"), prompt(), snap("in")]);
        r.assert_set("top", "G", "global");
        r.assert_set("top", "FOO", "global");
        r.assert_set("in", "G", "global");
        r.assert_set("in", "FOO", "proj");
    }
}
