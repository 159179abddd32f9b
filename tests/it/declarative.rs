//! What projects say as data instead of shell code (issue 18): removing list entries, per-OS
//! and per-host values, and noticing another tool's files with the import that translates them.

use std::fs;

use crate::support::*;

per_shell! {
    fn path_remove_takes_entries_out_and_leaving_puts_them_back(sh) {
        let w = World::new()
            .dir_config("p", "[path]\nremove = [\"/opt/old/bin\"]\nprepend = [\"bin\"]\n")
            .mkdir("p/bin")
            .allow("p");
        let old = "/opt/old/bin";
        let r = w.run_shell_pre(sh, &[&sh.prepend_path(old), &sh.prepend_path("/opt/first")], &[
            snap("before"),
            cd("p"), prompt(), snap("in"),
            raw(sh.prepend_path("/mine/bin")),
            cd(""), prompt(), snap("out"),
        ]);
        let path = |label: &str| String::from_utf8_lossy(r.var(label, "PATH").unwrap()).to_string();
        let before = path("before");
        assert!(before.starts_with("/opt/first:/opt/old/bin:"), "{before}");
        let inside = path("in");
        assert!(!inside.split(':').any(|e| e == old), "{inside}");
        assert!(inside.starts_with(&format!("{}:", w.path_str("p/bin"))), "{inside}");
        // Out again: the removed entry is back where it was, the user's own entry stays.
        assert_eq!(path("out"), format!("/mine/bin:{before}"), "{}", r.describe());
    }

    fn os_and_host_sections_apply_only_here(sh) {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
        let w = World::new()
            .dir_config("p", &format!(
                "[env]\nWHERE = \"anywhere\"\n[os.linux.env]\nWHERE = \"linux\"\nLINUX_ONLY = \"1\"\n[os.macos.env]\nWHERE = \"macos\"\nMAC_ONLY = \"1\"\n[os.linux.path]\nprepend = [\"linux-bin\"]\n[host.\"{host}\".env]\nON_THIS_HOST = \"yes\"\n[host.elsewhere.env]\nELSEWHERE = \"1\"\n"
            ))
            .allow("p");
        let r = w.run_shell(sh, &[cd("p"), prompt(), snap("in"), cd(""), prompt(), snap("out")]);
        r.assert_set("in", "WHERE", "linux");
        r.assert_set("in", "LINUX_ONLY", "1");
        r.assert_unset("in", "MAC_ONLY");
        r.assert_set("in", "ON_THIS_HOST", "yes");
        r.assert_unset("in", "ELSEWHERE");
        let path = String::from_utf8_lossy(r.var("in", "PATH").unwrap()).to_string();
        assert!(path.starts_with(&w.path_str("p/linux-bin")), "{path}");
        r.assert_unset("out", "WHERE");
        r.assert_unset("out", "LINUX_ONLY");
    }

    fn another_tools_file_is_noticed_once_per_directory(sh) {
        let w = World::new()
            .file("direnv-proj/.envrc", "export FROM_DIRENV=1\n")
            .file("mise-proj/mise.toml", "[env]\nFROM_MISE = \"1\"\n")
            .file("dotenv-proj/.env", "A=1\n");
        let r = w.run_shell(sh, &[
            mark("direnv"), cd("direnv-proj"), prompt(),
            mark("again"), cd(""), prompt(), cd("direnv-proj"), prompt(),
            mark("mise"), cd("mise-proj"), prompt(),
            mark("dotenv"), cd("dotenv-proj"), prompt(),
            cd("direnv-proj"), prompt(), snap("end"),
        ]);
        let said = |label: &str| String::from_utf8_lossy(r.stderr_at(label)).to_string();
        assert!(said("direnv").contains("has a direnv .envrc and no .strata.toml; translate it with: strata import direnv"), "{}", r.describe());
        assert!(!said("again").contains("translate it"), "said twice: {}", r.describe());
        assert!(said("mise").contains("translate it with: strata import mise"), "{}", r.describe());
        assert!(said("dotenv").contains("translate it with: strata import dotenv .env"), "{}", r.describe());
        // Nothing applies: the hook only says so.
        r.assert_unset("end", "FROM_DIRENV");
    }
}

#[test]
fn status_names_the_import_for_another_tools_file() {
    let w = World::new().file("p/.envrc", "export X=1\n");
    let out = w.strata_in("p", &["status"]).success().stdout_str();
    assert!(
        out.contains("migrate    ")
            && out.contains(
                "has a direnv .envrc and no .strata.toml; translate it with: strata import direnv"
            ),
        "{out}"
    );
    // A mise.toml without [env] is not worth it; a .strata.toml makes the question moot.
    let w = World::new().file("q/mise.toml", "[tools]\nnode = \"22\"\n");
    assert!(
        !w.strata_in("q", &["status"])
            .success()
            .stdout_str()
            .contains("migrate")
    );
    let w = World::new()
        .file("r/.envrc", "x\n")
        .dir_config("r", "[env]\n");
    assert!(
        !w.strata_in("r", &["status"])
            .success()
            .stdout_str()
            .contains("migrate")
    );
}

#[test]
fn import_mise_translates_env_and_lists_the_rest() {
    let w = World::new().file(
        "p/mise.toml",
        "[tools]\npython = \"3.12\"\n\n[env]\nDATABASE_URL = \"postgres://localhost/app\"\nPORT = 8080\nDEBUG = false\n_.path = [\"./bin\", \"{{config_root}}/node_modules/.bin\"]\n_.file = \".env\"\n_.source = \"./scripts/env.sh\"\nHOME_DIR = \"{{env.HOME}}\"\n",
    ).file("p/.env", "FROM_FILE=1\n").mkdir("p/bin");
    let out = w.strata_in("p", &["import", "mise"]);
    out.success();
    let err = out.stderr_str();
    assert!(
        err.contains("line 10 not translated") && err.contains("runs a script"),
        "{err}"
    );
    assert!(
        err.contains("line 11 not translated") && err.contains("tera template"),
        "{err}"
    );
    assert!(err.contains("[tools] is mise's own"), "{err}");
    let toml = fs::read_to_string(w.path("p/.strata.toml")).unwrap();
    assert!(
        toml.contains("DATABASE_URL = \"postgres://localhost/app\""),
        "{toml}"
    );
    w.strata_in("p", &["allow"]).success();
    let env = w.strata_in("p", &["env"]).success().stdout_str();
    assert!(
        env.contains("PORT=8080") && env.contains("FROM_FILE=1"),
        "{env}"
    );
    assert!(
        env.contains(&format!("{}/node_modules/.bin", w.path_str("p"))),
        "{env}"
    );
}

#[test]
fn import_direnv_maps_path_rm_to_remove() {
    let w = World::new().file(
        "p/.envrc",
        "PATH_rm /opt/old/bin\npath_rm PYTHONPATH /srv/legacy\nPATH_rm '*/node_modules/.bin'\n",
    );
    let out = w.strata_in("p", &["import", "direnv"]);
    out.success();
    assert!(
        out.stderr_str().contains("line 3 not translated"),
        "{}",
        out.stderr_str()
    );
    let toml = fs::read_to_string(w.path("p/.strata.toml")).unwrap();
    assert!(toml.contains("remove = [\"/opt/old/bin\"]"), "{toml}");
    assert!(
        toml.contains("[paths.PYTHONPATH]") && toml.contains("remove = [\"/srv/legacy\"]"),
        "{toml}"
    );
}

#[test]
fn an_unknown_os_is_an_error_with_a_suggestion() {
    let w = World::new().dir_config("p", "[os.macOS.env]\nX = \"1\"\n");
    w.strata_in("p", &["allow"])
        .code_is(1)
        .stderr_contains("unknown system `macOS` in [os] (did you mean `macos`?)");
}
