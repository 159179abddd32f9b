//! Faults: a full disk, unsafe or missing store directories, a missing `HOME`, relative XDG
//! variables, a cwd deleted under a live shell, a corrupt `STRATA_STATE`, a 1 MB config file and
//! a 100 KiB `PATH`. Each must give a clear one-line message (or just work), never a panic, never
//! lost or half-written state, and a shell whose prompt keeps working.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// Makes writes past `ulimit -f` fail with `EFBIG` instead of killing the writer, which is what
/// a full disk looks like to a program (an error from `write`, not a signal). The disposition is
/// inherited by every child this test binary starts.
fn ignore_sigxfsz() {
    // SAFETY: setting a signal to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// `strata ARGS` under `ulimit -f 0`: no file can grow past 0 bytes.
fn strata_on_full_disk(w: &World, args: &[&str]) -> Output {
    ignore_sigxfsz();
    let mut cmd = w.command("/bin/sh");
    cmd.arg("-c")
        .arg(r#"ulimit -f 0 && exec strata "$@""#)
        .arg("strata")
        .args(args);
    w.finish(cmd, args)
}

/// Every file under `dir`, recursively, with its bytes.
fn snapshot_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = fs::read(&p).unwrap_or_default();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Files under `dir` whose name says they are temporary (`*.tmp`, `.*.XXXX`).
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    snapshot_tree(dir)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".tmp") || n.starts_with('.')
        })
        .collect()
}

/// The lines strata printed (non-empty stderr lines).
#[track_caller]
fn one_clear_line(out: &Output) -> String {
    let ls = lines(&out.stderr);
    assert_eq!(
        ls.len(),
        1,
        "expected exactly one line on stderr\n{}",
        out.describe()
    );
    let line = String::from_utf8_lossy(ls[0]).into_owned();
    assert!(
        line.starts_with("strata"),
        "the message should say it comes from strata: {line:?}\n{}",
        out.describe()
    );
    line
}

// ---- full disk ----

#[test]
fn full_disk_allow_fails_cleanly_and_keeps_the_old_record() {
    let w = World::new()
        .dir_config("proj", "[env]\nFOO = \"one\"\n")
        .allow("proj");
    let before = snapshot_tree(&w.data_dir());
    assert!(!before.is_empty(), "allow wrote no record");
    w.write("proj/.strata.toml", "[env]\nFOO = \"two\"\n");

    let out = strata_on_full_disk(&w, &["allow", &w.path_str("proj")]);
    out.code_is(1);
    let line = one_clear_line(&out);
    assert!(
        line.contains("disk") || line.contains("space") || line.contains("large"),
        "the message should say why the write failed: {line:?}"
    );
    assert_eq!(
        snapshot_tree(&w.data_dir()),
        before,
        "the store changed although the write failed"
    );
    assert_eq!(temp_files(&w.data_dir()), Vec::<PathBuf>::new());

    // The old decision still holds: the edited file is not trusted, and the original content is.
    let env = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    env.success();
    assert_eq!(env.json().get("FOO"), None, "{}", env.describe());
    w.write("proj/.strata.toml", "[env]\nFOO = \"one\"\n");
    let env = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    assert_eq!(
        env.json().get("FOO").and_then(|v| v.as_str()),
        Some("one"),
        "{}",
        env.describe()
    );
}

#[test]
fn full_disk_first_allow_records_nothing() {
    let w = World::new().dir_config("proj", "[env]\nFOO = \"one\"\n");
    let out = strata_on_full_disk(&w, &["allow", &w.path_str("proj")]);
    out.code_is(1);
    one_clear_line(&out);
    let records: Vec<_> = snapshot_tree(&w.data_dir())
        .into_iter()
        .filter(|(p, _)| !p.to_string_lossy().ends_with(".lock"))
        .collect();
    assert!(
        records.is_empty(),
        "a failed write left files behind: {records:?}"
    );
    let env = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    assert_eq!(env.json().get("FOO"), None, "{}", env.describe());
}

// xonsh writes a compiled copy of every script it runs, even with --no-script-cache, and
// stops when it cannot: it runs no script at all on a full disk.
only_shells! { [bash Bash, zsh Zsh, fish Fish, nu Nu, elvish Elvish, tcsh Tcsh]
    /// The hook only reads (and dates an empty stamp file), so a full disk must not disturb the
    /// prompt; `strata allow` typed in that shell fails with one line and the shell goes on.
    fn full_disk_shell_keeps_working(sh) {
        ignore_sigxfsz();
        let w = World::new()
            .dir_config("proj", "[env]\nFOO = \"bar\"\n")
            .allow("proj")
            .dir_config("other", "[env]\nOTHER = \"x\"\n");
        w.set_limits(Limits { full_disk: true, ..Limits::default() });
        let show_vars = sh.sh_c(r#"printf 'FOO=%s OTHER=%s\n' "${FOO-unset}" "${OTHER-unset}""#);
        let show_vars = show_vars.as_str();
        let r = w.run_shell(sh, &[
            mark("in"), cd("proj"), prompt(), raw(show_vars),
            mark("other"), cd("other"), prompt(), raw(show_vars),
            // fish resets ignored signals to their defaults in its children: ignore SIGXFSZ
            // again right before strata, so the write fails with EFBIG like on a full disk.
            mark("allow"), raw(sh.may_fail(&sh.sh_c(r#"trap "" XFSZ; exec strata allow"#))), raw(show_vars),
            mark("after"), prompt(), raw(show_vars),
            mark("out"), cd(""), prompt(), raw(show_vars),
            mark("end"),
        ]);
        for label in ["in", "other", "allow", "after", "out"] {
            for l in lines(r.stderr_at(label)) {
                assert!(l.starts_with(b"strata"), "[{}] unexpected output {}\n{}", sh.name(), show(l), r.describe());
            }
        }
        let allow_lines = r.strata_lines_at("allow");
        assert_eq!(allow_lines.len(), 1, "[{}] one line from the failed allow\n{}", sh.name(), r.describe());
        if sh == Tcsh {
            // tcsh takes strata's code from a file (its command substitution makes one line
            // of several), so with no room for one byte the hook applies nothing: it says so, in
            // one line at a prompt that asks strata, and the shell goes on.
            for label in ["in", "other", "after", "out"] {
                assert_eq!(show(r.stdout_at(label)), "FOO=unset OTHER=unset\\n", "at {label}: {}", r.describe());
            }
            // It is said once, by the line that installs the hook.
            let said: Vec<&[u8]> = lines(&r.out.stderr).into_iter().filter(|l| contains(l, b".tcsh")).collect();
            assert_eq!(said.len(), 1, "[tcsh] {}", r.describe());
            return;
        }
        assert_eq!(show(r.stdout_at("in")), "FOO=bar OTHER=unset\\n", "{}", r.describe());
        for label in ["other", "allow", "after"] {
            assert_eq!(show(r.stdout_at(label)), "FOO=unset OTHER=unset\\n", "at {label}: {}", r.describe());
        }
        assert_eq!(show(r.stdout_at("out")), "FOO=unset OTHER=unset\\n", "{}", r.describe());
    }
}

// ---- unsafe store directories ----

#[test]
fn group_writable_state_dir_is_refused() {
    let w = World::new();
    fs::create_dir_all(w.state_dir()).unwrap();
    fs::set_permissions(w.state_dir(), fs::Permissions::from_mode(0o770)).unwrap();
    let out = w.strata(&["reload"]);
    out.code_is(1);
    let line = one_clear_line(&out);
    assert!(
        line.contains(w.state_dir().to_str().unwrap()) || line.contains("state"),
        "{line:?}"
    );
    assert!(line.contains("writable"), "{line:?}");
    // Nothing was written into it.
    assert!(snapshot_tree(&w.state_dir()).is_empty());
}

#[test]
fn group_writable_data_dir_is_refused() {
    let w = World::new().dir_config("proj", "[env]\nFOO = \"bar\"\n");
    fs::create_dir_all(w.data_dir()).unwrap();
    fs::set_permissions(w.data_dir(), fs::Permissions::from_mode(0o770)).unwrap();
    let out = w.strata(&["allow", &w.path_str("proj")]);
    out.code_is(1);
    let line = one_clear_line(&out);
    assert!(line.contains("writable"), "{line:?}");
    assert!(snapshot_tree(&w.data_dir()).is_empty());
}

/// A world-writable config directory lets anyone put `settings.trust.paths = ["/"]` in the
/// global config; strata must not read it.
#[test]
fn world_writable_config_dir_is_refused() {
    let w = World::new()
        .dir_config("proj", "[env]\nFOO = \"bar\"\n")
        .trust_work();
    fs::set_permissions(w.config_dir(), fs::Permissions::from_mode(0o777)).unwrap();
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    out.code_is(1);
    let line = one_clear_line(&out);
    assert!(line.contains("writable"), "{line:?}");
    assert!(
        !contains(&out.stdout, b"bar"),
        "the file trusted by that config was applied\n{}",
        out.describe()
    );
}

/// Chowns `dir` to nobody; only root can.
fn give_away(dir: &Path) {
    needs_root("only root can give a directory to another user");
    let status = Command::new("chown")
        .arg("65534:65534")
        .arg(dir)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown {} failed", dir.display());
}

#[test]
#[ignore = "needs root: only root can give a directory to another user"]
fn data_dir_owned_by_someone_else_is_refused() {
    let w = World::new().dir_config("proj", "[env]\nFOO = \"bar\"\n");
    fs::create_dir_all(w.data_dir()).unwrap();
    fs::set_permissions(w.data_dir(), fs::Permissions::from_mode(0o700)).unwrap();
    give_away(&w.data_dir());
    let out = w.strata(&["allow", &w.path_str("proj")]);
    out.code_is(1);
    let line = one_clear_line(&out);
    assert!(line.contains("owned"), "{line:?}");
    assert!(snapshot_tree(&w.data_dir()).is_empty());
}

#[test]
#[ignore = "needs root: only root can give a directory to another user"]
fn state_dir_owned_by_someone_else_is_refused() {
    let w = World::new();
    fs::create_dir_all(w.state_dir()).unwrap();
    fs::set_permissions(w.state_dir(), fs::Permissions::from_mode(0o700)).unwrap();
    give_away(&w.state_dir());
    let out = w.strata(&["reload"]);
    out.code_is(1);
    let line = one_clear_line(&out);
    assert!(line.contains("owned"), "{line:?}");
}

// ---- HOME and XDG ----

#[test]
fn home_unset_with_explicit_dirs_works() {
    let w = World::new()
        .dir_config("proj", "[env]\nFOO = \"bar\"\n")
        .allow("proj")
        .env_remove("HOME");
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    out.success();
    assert_eq!(
        out.json().get("FOO").and_then(|v| v.as_str()),
        Some("bar"),
        "{}",
        out.describe()
    );
    let out = w.strata(&["allow", &w.path_str("proj")]);
    out.success();
    let out = w.strata(&["reload"]);
    out.success();
}

/// With neither `HOME` nor any `STRATA_*_DIR`/`XDG_*` variable, strata may fall back to the
/// password database (as other XDG tools do); it must not panic, and anything it cannot do must
/// be one clear line. Runs as `nobody` (home `/nonexistent`), so the real HOME is never touched.
#[test]
#[ignore = "needs root: runs strata as nobody, a user whose home is harmless"]
fn home_unset_without_any_dirs_is_clear() {
    needs_root("only root can run strata as nobody");
    let w = World::new();
    for args in [
        &["env", "--format", "json", "-C", "/"][..],
        &["reload"][..],
        &["trust", "list"][..],
        &["allow", "/"][..],
    ] {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(strata_bin())
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LANG", "C.UTF-8")
            .current_dir("/")
            .stdin(std::process::Stdio::null());
        let out = w.finish(cmd, args);
        assert!(
            !contains(&out.stderr, b"panicked") && out.code() >= 0,
            "strata crashed\n{}",
            out.describe()
        );
        match out.code() {
            0 => {}
            1 => {
                let line = one_clear_line(&out);
                assert!(
                    line.contains("HOME")
                        || line.contains("/nonexistent")
                        || line.contains(".strata.toml"),
                    "the message should say which directory or variable is the problem: {line:?}"
                );
            }
            _ => panic!("unexpected exit code\n{}", out.describe()),
        }
    }
}

#[test]
fn relative_xdg_values_are_ignored() {
    let w = World::new()
        .dir_config("proj", "[env]\nFOO = \"bar\"\n")
        .env_remove("STRATA_CONFIG_DIR")
        .env_remove("STRATA_STATE_DIR")
        .env_remove("STRATA_DATA_DIR")
        .env("XDG_CONFIG_HOME", "rel/config")
        .env("XDG_STATE_HOME", "rel/state")
        .env("XDG_DATA_HOME", "./rel/data");
    w.strata(&["allow", &w.path_str("proj")]).success();
    w.strata(&["reload"]).success();
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    out.success();
    assert_eq!(
        out.json().get("FOO").and_then(|v| v.as_str()),
        Some("bar"),
        "{}",
        out.describe()
    );
    // Nothing relative to the cwd (work/) or to proj/; everything under $HOME's defaults.
    for dir in [w.path("rel"), w.path("proj/rel")] {
        assert!(!dir.exists(), "{} was created", dir.display());
    }
    let home = w.home();
    assert!(
        !snapshot_tree(&home.join(".local/share/strata")).is_empty(),
        "the trust record is not under $HOME/.local/share/strata"
    );
    assert!(
        home.join(".local/state/strata").is_dir(),
        "`reload` wrote nothing under $HOME/.local/state/strata"
    );
}

// ---- a live shell whose cwd disappears ----

// nushell refuses every command while $env.PWD names a directory that is gone, until a cd.
only_shells! { [bash Bash, zsh Zsh, fish Fish, elvish Elvish, xonsh Xonsh, tcsh Tcsh]
    fn deleted_cwd_keeps_prompt_working(sh) {
        let w = World::new()
            .dir_config("proj", "[env]\nFOO = \"bar\"\n")
            .allow("proj")
            .mkdir("proj/sub");
        let proj = w.path("proj");
        let r = w.run_shell(sh, &[
            cd("proj/sub"), prompt(), snap("in"),
            raw(sh.cmd(&["rm", "-rf", proj.to_str().unwrap()])),
            mark("gone"), prompt(), prompt(), prompt(), // nushell refuses to start a program in a directory that is gone; its own print works.
            raw(if sh == Nu { "print alive".to_string() } else { sh.cmd(&["echo", "alive"]) }),
            mark("leave"), cd(""), prompt(), snap("out"),
            mark("end"),
        ]);
        r.assert_set("in", "FOO", "bar");
        let gone = r.strata_lines_at("gone");
        assert!(
            gone.len() <= 1,
            "[{}] at most one line for three prompts in a deleted directory, got {:?}\n{}",
            sh.name(), gone.iter().map(|l| show(l)).collect::<Vec<_>>(), r.describe()
        );
        assert!(
            lines(r.stderr_at("gone")).len() <= 1,
            "[{}] the shell printed errors\n{}", sh.name(), r.describe()
        );
        assert!(contains(r.stdout_at("gone"), b"alive"), "{}", r.describe());
        r.assert_unset("out", "FOO");
        r.assert_set("out", "PATH", &w.base_path());
    }
}

// ---- STRATA_STATE damaged in transit ----

/// The environment without what strata and the shell themselves maintain.
fn user_env(env: &Env) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut v: Vec<_> = env
        .0
        .iter()
        .filter(|(k, _)| {
            !k.starts_with(b"STRATA_")
                && !matches!(k.as_slice(), b"_" | b"SHLVL" | b"PWD" | b"OLDPWD")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    v.sort();
    v
}

per_shell! {
    /// A state taken from a real shell, then truncated or with one byte flipped (as a terminal
    /// multiplexer or a copy-paste might do), and one for variables that are not there: one
    /// warning, no change to any variable, and no repeat of the warning.
    fn damaged_state_warns_once_and_changes_nothing(sh) {
        let donor = World::new()
            .dir_config("proj", "[env]\nFOO = \"bar\"\nGONE = false\n\n[path]\nprepend = [\"bin\"]\n")
            .allow("proj")
            .env("GONE", "keep");
        let r = donor.run_shell(sh, &[cd("proj"), prompt(), snap("in")]);
        let state = r.var("in", "STRATA_STATE").expect("no STRATA_STATE after entering").to_vec();
        let mut flipped = state.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x01;
        let truncated = state[..state.len() * 2 / 3].to_vec();
        for (what, damaged) in [("flipped", flipped), ("truncated", truncated)] {
            let mut w = World::new()
                .dir_config("elsewhere", "[env]\nX = \"1\"\n")
                .env("FOO", "user value")
                .env("GONE", "user value too");
            // nushell cannot start with a variable that is not UTF-8.
            if sh.holds_any_bytes() {
                w = w.env_os("RAW", b"\xff");
            }
            w.set_env("STRATA_STATE", &damaged);
            let r = w.run_shell(sh, &[
                snap("start"), mark("first"), prompt(), snap("after"),
                mark("again"), prompt(), prompt(), snap("later"), mark("end"),
            ]);
            let ctx = format!("[{}] {what} STRATA_STATE={}", sh.name(), show(&damaged));
            let first = r.strata_lines_at("first");
            assert_eq!(first.len(), 1, "{ctx}: expected one warning\n{}", r.describe());
            assert!(contains(first[0], b"STRATA_STATE"), "{ctx}: the warning should name STRATA_STATE\n{}", r.describe());
            assert!(r.strata_lines_at("again").is_empty(), "{ctx}: the warning was repeated\n{}", r.describe());
            let start = user_env(r.env("start"));
            for label in ["after", "later"] {
                assert!(
                    user_env(r.env(label)) == start,
                    "{ctx}: the environment changed at {label:?}\n{}", r.describe()
                );
            }
        }
    }
}

// ---- big inputs ----

/// A `.strata.toml` of about 1 MB: 1,000 variables and a lot of commentary, as a generated
/// file might have.
fn big_config() -> String {
    let mut toml = String::from("# generated\n[env]\n");
    let comment = format!("# {}\n", "lorem ipsum dolor sit amet ".repeat(37));
    for i in 0..1000 {
        toml += &format!("BIG_{i:04} = \"value {i} {}\"\n", "x".repeat(40));
        while toml.len() < (i + 1) * 1_000 {
            toml += &comment;
        }
    }
    assert!(toml.len() >= 1_000_000, "{}", toml.len());
    toml
}

#[test]
fn one_megabyte_config_works() {
    let w = World::new().dir_config("proj", &big_config()).allow("proj");
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    out.success();
    eprintln!("strata env on a 1 MB file took {:?}", out.elapsed);
    let json = out.json();
    for i in [0, 1, 500, 999] {
        let expected = format!("value {i} {}", "x".repeat(40));
        assert_eq!(
            json.get(format!("BIG_{i:04}")).and_then(|v| v.as_str()),
            Some(expected.as_str()),
            "{}",
            out.describe()
        );
    }
}

/// 20,000 short keys (860 KB): the cost must grow with the size of the file, not with keys x
/// size (a line/column computed by rescanning the file from the start for every key is
/// quadratic). Bounded by the harness timeout, not by a timing assertion.
#[test]
fn config_with_many_keys_is_not_quadratic() {
    let mut toml = String::from("[env]\n");
    for i in 0..20_000 {
        toml += &format!("K_{i:05} = \"{}\"\n", "v".repeat(30));
    }
    let w = World::new().trust_work().dir_config("proj", &toml);
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
    out.success();
    eprintln!("strata env on 20,000 keys took {:?}", out.elapsed);
    assert_eq!(
        out.json().get("K_19999").and_then(|v| v.as_str()),
        Some("v".repeat(30).as_str())
    );
}

per_shell! {
    fn one_megabyte_config_in_a_shell(sh) {
        let w = World::new().dir_config("proj", &big_config()).allow("proj");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"), mark("noop"), prompt(), mark("leave"),
            cd(""), prompt(), snap("out"),
        ]);
        r.assert_set("in", "BIG_0999", &format!("value 999 {}", "x".repeat(40)));
        r.assert_unset("out", "BIG_0999");
        r.assert_unset("out", "BIG_0000");
        eprintln!("[{}] shell run with a 1 MB file took {:?}", sh.name(), r.out.elapsed);
    }
}

/// A PATH of about 100 KiB: hundreds of long entries, some with spaces and non-ASCII.
fn huge_path(base: &str) -> String {
    let mut path = base.to_string();
    let mut i = 0;
    while path.len() < 100 * 1024 {
        path += &format!(":/opt/tool chain {i}/ünï/{}/bin", "d".repeat(200));
        i += 1;
    }
    path
}

per_shell! {
    fn hundred_kib_path_is_restored_byte_exact(sh) {
        let base = World::new().base_path();
        let path = huge_path(&base);
        let w = World::new()
            .dir_config("proj", "[env]\nFOO = \"bar\"\n\n[path]\nprepend = [\"bin\"]\nappend = [\"/opt/tool chain 7/ünï/x\"]\n")
            .allow("proj")
            .env("PATH", &path);
        let r = w.run_shell(sh, &[
            snap("before"), cd("proj"), prompt(), snap("in"), cd(""), prompt(), snap("out"),
        ]);
        r.assert_set("before", "PATH", &path);
        let inside = format!("{}/bin:{path}:/opt/tool chain 7/ünï/x", w.path_str("proj"));
        r.assert_set("in", "PATH", &inside);
        r.assert_set("in", "FOO", "bar");
        r.assert_set("out", "PATH", &path);
    }

    /// A large value (48 KiB of non-ASCII text) that a project overrides: its previous value
    /// travels in `STRATA_STATE`, which must stay usable (Linux limits one environment string
    /// to 128 KiB: beyond that every command the shell starts fails with E2BIG).
    fn large_previous_value_is_restored_and_commands_still_run(sh) {
        let big = "é".repeat(24 * 1024);
        let w = World::new()
            .dir_config("proj", "[env]\nBIG = \"small\"\n")
            .allow("proj")
            .env("BIG", &big);
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"), mark("cmd"), raw(sh.cmd(&["sh", "-c", "true && echo ran"])),
            cd(""), prompt(), snap("out"), mark("end"),
        ]);
        r.assert_set("in", "BIG", "small");
        assert!(contains(r.stdout_at("cmd"), b"ran"), "[{}] commands fail inside the project\n{}", sh.name(), r.describe());
        r.assert_set("out", "BIG", &big);
    }
}

#[test]
fn temp_file_helper_sees_dotfiles() {
    // Guard for the helper above: it must recognise the writer's temp-file naming.
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(".abc.XyZ123.tmp"), "").unwrap();
    fs::write(tmp.path().join("abc.lock"), "").unwrap();
    assert_eq!(temp_files(tmp.path()).len(), 1);
    let meta = fs::metadata(tmp.path()).unwrap();
    assert!(meta.mode() > 0);
}
