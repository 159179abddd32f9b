//! Self-tests of the test harness: if these fail, the other failures say nothing about strata.
//! They use the shells directly (values set by shell code, not by strata).

use crate::support::*;

per_shell! {
    fn snapshots_read_exported_bytes_exactly(sh) {
        let w = World::new().env_os("INHERITED", b"\xff");
        let r = w.run_shell(sh, &[
            raw(sh.export("PLAIN", "a b")),
            raw(sh.export("EMPTY", "")),
            raw(sh.export("NL", "x\ny\n")),
            raw(sh.local("NOT_EXPORTED", "1")),
            snap("s"),
            raw(sh.unset("PLAIN")),
            snap("t"),
        ]);
        r.assert_set("s", "PLAIN", "a b");
        r.assert_set("s", "EMPTY", "");
        r.assert_set("s", "NL", "x\ny\n");
        r.assert_unset("s", "NOT_EXPORTED");
        // nushell decodes its environment at start-up.
        let inherited: &[u8] = if sh.holds_any_bytes() { b"\xff" } else { "\u{fffd}".as_bytes() };
        r.assert_var("s", "INHERITED", Some(inherited));
        r.assert_unset("t", "PLAIN");
        // elvish keeps its directory in $pwd and exports no PWD.
        if sh != Elvish {
            r.assert_set("s", "PWD", &w.path_str(""));
        }
    }

    fn marks_split_output(sh) {
        let w = World::new();
        let r = w.run_shell(sh, &[
            raw(sh.sh_c("echo one; echo err-one >&2")),
            mark("a"),
            raw(sh.sh_c("echo two; echo err-two >&2")),
            mark("b"),
            mark("c"),
        ]);
        assert_eq!(show(r.stdout_at("a")), "two\\n");
        assert_eq!(show(r.stderr_at("a")), "err-two\\n");
        assert_eq!(r.stderr_at("b"), b"");
        assert_eq!(r.stdout_at("c"), b"");
    }

    fn cd_and_write_steps(sh) {
        let w = World::new().mkdir("d i r/ü");
        let r = w.run_shell(sh, &[
            cd("d i r/ü"),
            write("d i r/ü/f", "content\n"),
            snap("s"),
            raw(sh.cmd_to(&["cat", "f"], &w.path("copy"))),
        ]);
        r.assert_set("s", "PWD", &w.path_str("d i r/ü"));
        assert_eq!(std::fs::read(w.path("copy")).unwrap(), b"content\n");
    }

    fn stamp_and_backdate_steps(sh) {
        // `stamp` sees each export re-date the hook's stamp file; `backdate` dates a path back.
        let w = World::new().file("d/f", "x").symlink("l", "d/f");
        let r = w.run_shell(sh, &[
            stamp("none"), prompt(), stamp("first"),
            backdate("d/f", 100), backdate("l", 200),
            run_strata(&["reload"]), prompt(), stamp("second"),
        ]);
        assert_eq!(r.stamp_at("none"), None);
        if sh.has_fast_path() {
            r.assert_exported("none", "first");
            r.assert_exported("first", "second");
        } else {
            // elvish's hook has no stamp: it asks strata at every prompt.
            assert_eq!(r.stamp_at("second"), None);
        }
        let age = |p: &str| {
            let m = std::fs::symlink_metadata(w.path(p)).unwrap().modified().unwrap();
            std::time::SystemTime::now().duration_since(m).unwrap().as_secs()
        };
        assert!((100..110).contains(&age("d/f")), "d/f is {}s old", age("d/f"));
        assert!((200..210).contains(&age("l")), "the link itself is {}s old", age("l"));
        w.backdate("d", 300);
        assert!((300..310).contains(&age("d")), "d is {}s old", age("d"));
    }

    fn interactive_shell_runs_typed_lines(sh) {
        let w = World::new();
        let log = w.scratch("log");
        let mut lines = vec![sh.cmd(&["false"])];
        let mut expected = String::new();
        if sh.status_var().is_some() {
            lines.push(sh.log_status("st:", &log));
            expected += "st:1\\n";
        }
        lines.push(sh.sh_c(&format!("echo done >> '{}'", log.display())));
        expected += "done\\n";
        let run = w.interactive(sh, &[], &lines);
        assert_eq!(show(&read_or_empty(&log)), expected, "{}", run.describe());
    }
}

#[test]
fn world_is_isolated() {
    let w = World::new();
    let out = w.sh(Bash, "command env -0");
    out.success();
    let env = Env::parse(&out.stdout);
    let var = |n: &str| env.get(n).map(show);
    assert_eq!(var("HOME"), Some(w.home().to_str().unwrap().to_string()));
    assert_eq!(
        var("STRATA_DATA_DIR"),
        Some(w.data_dir().to_str().unwrap().to_string())
    );
    assert_eq!(
        var("XDG_CONFIG_HOME"),
        Some(w.root().join("config").to_str().unwrap().to_string())
    );
    for name in env.0.keys() {
        assert!(
            !name.starts_with(b"STRATA_")
                || [
                    &b"STRATA_CONFIG_DIR"[..],
                    b"STRATA_STATE_DIR",
                    b"STRATA_DATA_DIR"
                ]
                .contains(&name.as_slice()),
            "inherited {}",
            show(name)
        );
    }
}
