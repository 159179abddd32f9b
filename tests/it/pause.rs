//! `strata off [--dir]` and `strata on`, in every hooked shell: a pause restores what strata
//! changed, holds across directories, and `on` brings it all back.

use crate::support::*;

per_shell! {
    fn off_restores_and_on_resumes(sh) {
        let w = World::new()
            .dir_config("p", "[env]\nDIR_VAR = \"d\"\n[path]\nprepend = [\"bin\"]\n")
            .mkdir("p/bin")
            .mkdir("q")
            .allow("p");
        w.strata(&["context", "create", "dev", "--set", "CTX_VAR=c"]).success();
        w.strata(&["context", "use", "dev"]).success();
        let r = w.run_shell(sh, &[
            prompt(), snap("before"),
            run_strata(&["set", "SESSION_VAR=s"]),
            cd("p"), prompt(), snap("in"),
            run_strata(&["off", "--dir"]), prompt(), snap("dirs off"),
            run_strata(&["off"]), prompt(), snap("off"),
            mark("status"), run_strata(&["status"]),
            cd("q"), prompt(), cd("p"), prompt(), snap("still off"),
            run_strata(&["on"]), prompt(), snap("on"),
        ]);
        let path = |label: &str| String::from_utf8_lossy(r.var(label, "PATH").unwrap()).to_string();
        r.assert_set("in", "DIR_VAR", "d");
        r.assert_set("in", "CTX_VAR", "c");
        r.assert_set("in", "SESSION_VAR", "s");
        assert!(path("in").starts_with(&w.path_str("p/bin")), "{}", path("in"));
        // --dir: only the directory file goes.
        r.assert_unset("dirs off", "DIR_VAR");
        r.assert_set("dirs off", "CTX_VAR", "c");
        r.assert_set("dirs off", "SESSION_VAR", "s");
        assert_eq!(path("dirs off"), path("before"));
        // off: everything strata changed is back as it was.
        for label in ["off", "still off"] {
            r.assert_unset(label, "DIR_VAR");
            r.assert_unset(label, "CTX_VAR");
            r.assert_unset(label, "SESSION_VAR");
            assert_eq!(path(label), path("before"), "at {label}");
        }
        assert!(String::from_utf8_lossy(r.stdout_at("status")).contains("paused     everything"), "{}", r.describe());
        r.assert_set("on", "DIR_VAR", "d");
        r.assert_set("on", "CTX_VAR", "c");
        r.assert_set("on", "SESSION_VAR", "s");
    }
}

#[test]
fn off_without_a_session_says_how_to_get_one() {
    let w = World::new().env_remove("STRATA_SESSION");
    let out = w.strata(&["off"]);
    out.code_is(1);
    assert!(
        out.stderr_str().contains("no session is named"),
        "{}",
        out.describe()
    );
}
