//! Attacks: an untrusted, denied or edited directory file reached under another name (a
//! symlinked directory, a hard link, a file swapped for a symlink after it was allowed);
//! `trust.paths` and `STRATA_*` smuggled in by a directory file or its dotenv; symlinks planted
//! where strata writes its lock, record, marker and stamp files; and the modes of everything
//! strata creates.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::support::*;

const SAFE: &str = "[env]\nFOO = \"safe\"\n";
const EVIL: &str = "[env]\nFOO = \"evil\"\nEVIL = \"1\"\n\n[path]\nprepend = [\"evil-bin\"]\n";

/// `strata env -C work/<rel> --format json`, which must succeed.
#[track_caller]
fn env_json(w: &World, rel: &str) -> (serde_json::Value, Output) {
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str(rel)]);
    out.success();
    (out.json(), out)
}

/// Asserts that nothing from EVIL (or FOO at all, unless `expected_foo` says what it must be) applies.
#[track_caller]
fn assert_nothing_applied(w: &World, rel: &str, expected_foo: Option<&str>) {
    let (json, out) = env_json(w, rel);
    assert_eq!(
        json.get("FOO").and_then(|v| v.as_str()),
        expected_foo,
        "FOO at {rel}\n{}",
        out.describe()
    );
    assert_eq!(json.get("EVIL"), None, "{}", out.describe());
    if let Some(path) = json.get("PATH").and_then(|v| v.as_str()) {
        assert!(!path.contains("evil-bin"), "{}", out.describe());
    }
    let exec = w.strata(&["exec", "-C", &w.path_str(rel), "--", "env"]);
    exec.success();
    assert!(
        !contains(&exec.stdout, b"EVIL=") && !contains(&exec.stdout, b"evil-bin"),
        "{}",
        exec.describe()
    );
}

// ---- the same file under another name ----

per_shell! {
    /// Untrusted, denied and edited files stay unapplied when the shell reaches them through a
    /// symlinked directory.
    fn symlinked_directory_does_not_bypass_trust(sh) {
        let w = World::new()
            .dir_config("untrusted", EVIL)
            .dir_config("denied", EVIL)
            .allow("denied")
            .deny("denied")
            .dir_config("edited", SAFE)
            .allow("edited")
            .symlink("l-untrusted", "untrusted")
            .symlink("l-denied", "denied")
            .symlink("l-edited", "edited");
        // Edited through the link: the record is for the canonical path, the hash no longer matches.
        w.write("l-edited/.strata.toml", EVIL);
        let mut steps = Vec::new();
        for d in ["l-untrusted", "l-denied", "l-edited"] {
            steps.extend([cd(d), prompt(), snap(d), cd(""), prompt()]);
        }
        let r = w.run_shell(sh, &steps);
        for d in ["l-untrusted", "l-denied", "l-edited"] {
            r.assert_unset(d, "FOO");
            r.assert_unset(d, "EVIL");
            r.assert_set(d, "PATH", &w.base_path());
            assert_nothing_applied(&w, d, None);
        }
    }
}

#[test]
fn hard_link_under_another_name_is_not_trusted() {
    let w = World::new()
        .dir_config("proj", EVIL)
        .allow("proj")
        .mkdir("other");
    fs::hard_link(w.path("proj/.strata.toml"), w.path("other/.strata.toml")).unwrap();
    let (json, _) = env_json(&w, "proj");
    assert_eq!(json.get("EVIL").and_then(|v| v.as_str()), Some("1"));
    assert_nothing_applied(&w, "other", None);
    let (_, out) = env_json(&w, "other");
    assert!(
        contains(&out.stderr, b"other/.strata.toml"),
        "the hard link should be reported as not allowed\n{}",
        out.describe()
    );
}

#[test]
fn hard_link_as_the_local_file_is_not_trusted() {
    let w = World::new().dir_config("proj", SAFE).allow("proj");
    // The same inode as the allowed `.strata.toml`, but under the local file's name, and then
    // edited through the allowed name: neither name may apply the new content.
    fs::hard_link(
        w.path("proj/.strata.toml"),
        w.path("proj/.strata.local.toml"),
    )
    .unwrap();
    assert_nothing_applied(&w, "proj", Some("safe"));
    fs::write(w.path("proj/.strata.toml"), EVIL).unwrap(); // same inode: both names change
    assert_nothing_applied(&w, "proj", None);
}

#[test]
fn file_replaced_by_a_symlink_after_allow_is_not_trusted() {
    let w = World::new()
        .dir_config("proj", SAFE)
        .allow("proj")
        .file("elsewhere/evil.toml", EVIL)
        .file("elsewhere/same.toml", SAFE);
    let file = w.path("proj/.strata.toml");
    // To a file with other content.
    fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(w.path("elsewhere/evil.toml"), &file).unwrap();
    assert_nothing_applied(&w, "proj", None);
    // To a file with the very content that was allowed, at a path nobody allowed.
    fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(w.path("elsewhere/same.toml"), &file).unwrap();
    let (json, out) = env_json(&w, "proj");
    assert_eq!(
        json.get("FOO"),
        None,
        "a symlink to an unallowed file with the allowed content was applied\n{}",
        out.describe()
    );
}

per_shell! {
    /// A live shell inside an allowed project: the file is swapped for a symlink to an evil file;
    /// the next prompt must unload, not apply it.
    fn swap_for_symlink_under_a_live_shell(sh) {
        let w = World::new()
            .dir_config("proj", SAFE)
            .allow("proj")
            .file("elsewhere/evil.toml", EVIL);
        let file = w.path("proj/.strata.toml");
        let target = w.path("elsewhere/evil.toml");
        let r = w.run_shell(sh, &[
            cd("proj"), prompt(), snap("in"),
            raw(sh.cmd(&["sh", "-c", "rm -- \"$1\" && ln -s -- \"$2\" \"$1\"", "sh", file.to_str().unwrap(), target.to_str().unwrap()])),
            prompt(), snap("swapped"),
        ]);
        r.assert_set("in", "FOO", "safe");
        r.assert_unset("swapped", "FOO");
        r.assert_unset("swapped", "EVIL");
        r.assert_set("swapped", "PATH", &w.base_path());
    }
}

// ---- trust.paths and STRATA_* from places that may not set them ----

#[test]
fn trust_paths_in_directory_files_are_ignored_in_every_spelling() {
    let spellings: [fn(&str) -> String; 4] = [
        |work| format!("[settings.trust]\npaths = [{work}]\n"),
        |work| format!("[settings]\ntrust.paths = [{work}]\n"),
        |work| format!("[settings]\n\"trust.paths\" = [{work}]\n"),
        |work| format!("[settings]\ntrust = {{ paths = [{work}] }}\n"),
    ];
    for spelling in spellings {
        for local in [false, true] {
            let w = World::new();
            let settings = spelling(&toml_string(&w.path_str("")));
            let toml = format!("{settings}\n[env]\nA = \"a\"\n");
            let w = if local {
                w.dir_config("a", "[env]\nBASE = \"1\"\n")
                    .local_config("a", &toml)
                    .allow("a/.strata.toml")
            } else {
                w.dir_config("a", &toml)
            };
            let file = if local {
                "a/.strata.local.toml"
            } else {
                "a/.strata.toml"
            };
            let out = w.strata(&["allow", &w.path_str(file)]);
            if out.code() != 0 {
                // Refusing the file outright is also safe.
                out.code_is(1);
                continue;
            }
            let w = w.dir_config("a/b", "[env]\nB = \"b\"\n");
            let (json, out) = env_json(&w, "a/b");
            assert_eq!(
                json.get("B"),
                None,
                "trust.paths from a directory file ({settings:?}, local={local}) trusted a/b\n{}",
                out.describe()
            );
            assert!(
                contains(&out.stderr, b"trust.paths"),
                "ignoring trust.paths should say so ({settings:?}, local={local})\n{}",
                out.describe()
            );
        }
    }
}

#[test]
fn strata_variables_cannot_be_set_by_a_directory_file() {
    for toml in [
        "[env]\nSTRATA_TRUST_PATHS = \"/\"\n",
        "[env]\nSTRATA_STATE = \"x\"\n",
        "[env]\nSTRATA_CONTEXT = \"prod\"\n",
        "[env]\nSTRATA_LOG = \"quiet\"\n",
        "[env]\nSTRATA_DATA_DIR = \"/tmp\"\n",
        "[paths.STRATA_TRUST_PATHS]\nprepend = [\"/\"]\n",
        "[contexts.prod.env]\nSTRATA_TRUST_PATHS = \"/\"\n",
    ] {
        let w = World::new().dir_config("proj", toml);
        let out = w.strata(&["allow", &w.path_str("proj")]);
        out.code_is(1).stderr_contains("STRATA_");
        // And if it got in some other way (trusted by prefix), it is still not applied.
        let w = w.trust_work();
        let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
        assert!(
            !contains(&out.stdout, b"STRATA_"),
            "a directory file set a STRATA_ variable ({toml:?})\n{}",
            out.describe()
        );
    }
}

#[test]
fn strata_variables_cannot_be_set_by_dotenv() {
    let w = World::new()
        .dir_config(
            "proj",
            "[dotenv]\nfiles = [\".env\"]\n\n[env]\nFOO = \"bar\"\n",
        )
        .allow("proj");
    for dotenv in [
        "STRATA_TRUST_PATHS=/\n",
        "export STRATA_CONTEXT=prod\n",
        "STRATA_STATE='1;k=0'\n",
        "OK=1\nSTRATA_DATA_DIR=/tmp\n",
    ] {
        w.write("proj/.env", dotenv);
        let out = w.strata(&["env", "--format", "json", "-C", &w.path_str("proj")]);
        assert!(
            !contains(&out.stdout, b"STRATA_"),
            "a dotenv file set a STRATA_ variable ({dotenv:?})\n{}",
            out.describe()
        );
        if out.code() != 0 {
            out.code_is(1).stderr_contains("STRATA_");
        }
        let exec = w.strata(&["exec", "-C", &w.path_str("proj"), "--", "env"]);
        for name in [
            "STRATA_TRUST_PATHS=",
            "STRATA_CONTEXT=",
            "STRATA_STATE=",
            "STRATA_DATA_DIR=",
        ] {
            assert!(
                !contains(&exec.stdout, name.as_bytes()),
                "{name} reached a command ({dotenv:?})\n{}",
                exec.describe()
            );
        }
    }
}

per_shell! {
    /// A dotenv file of an allowed outer project, edited after the review, says
    /// `STRATA_TRUST_PATHS=<work>`; the inner
    /// project must stay untrusted in the shell, and the variable must not appear.
    fn dotenv_trust_paths_does_not_trust_inner_files(sh) {
        let w = World::new();
        let dotenv = format!("STRATA_TRUST_PATHS={}\n", w.path_str(""));
        let w = w
            .dir_config("outer", "[dotenv]\nfiles = [\".env\"]\n\n[env]\nA = \"a\"\n")
            .file("outer/.env", "HARMLESS=1\n")
            .allow("outer")
            .dir_config("outer/inner", "[env]\nB = \"b\"\n");
        // Dotenv files are trusted through the `.strata.toml` that lists them, not hashed: the
        // attacker edits the dotenv file after the review.
        w.write("outer/.env", dotenv);
        let r = w.run_shell(sh, &[cd("outer/inner"), prompt(), snap("in"), prompt(), snap("again")]);
        for label in ["in", "again"] {
            r.assert_unset(label, "B");
            r.assert_unset(label, "STRATA_TRUST_PATHS");
        }
    }
}

// ---- planted symlinks ----

/// A file outside the store that an attacker wants strata to overwrite, dated in the past.
fn victim(w: &World, name: &str) -> (PathBuf, fs::Metadata) {
    let p = w.root().join(name);
    fs::write(&p, "victim\n").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_times(fs::FileTimes::new().set_modified(old).set_accessed(old))
        .unwrap();
    let meta = fs::metadata(&p).unwrap();
    (p, meta)
}

#[track_caller]
fn assert_untouched(p: &Path, before: &fs::Metadata, ctx: &str) {
    assert_eq!(
        fs::read(p).unwrap(),
        b"victim\n",
        "{ctx}: {} was written through a symlink",
        p.display()
    );
    let now = fs::metadata(p).unwrap();
    assert_eq!(now.mode(), before.mode(), "{ctx}: mode changed");
    assert_eq!(now.mtime(), before.mtime(), "{ctx}: mtime changed");
    assert_eq!(now.ino(), before.ino(), "{ctx}: replaced");
}

fn private_dir(p: &Path) {
    fs::create_dir_all(p).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o700)).unwrap();
}

/// The trust record (and its lock) for `work/<rel>/.strata.toml`.
fn record_for(w: &World, rel: &str) -> PathBuf {
    let canonical = fs::canonicalize(w.path(rel).join(".strata.toml")).unwrap();
    let name = strata_env::store::trust::sha256_hex(canonical.as_os_str().as_encoded_bytes());
    w.data_dir().join("trust").join(name)
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

#[test]
fn planted_symlink_at_the_lock_path_is_not_followed() {
    for dangling in [false, true] {
        let w = World::new().dir_config("proj", SAFE);
        private_dir(&w.data_dir().join("trust"));
        let record = record_for(&w, "proj");
        let lock = with_suffix(&record, ".lock");
        let (target, meta) = victim(&w, "victim");
        let missing = w.root().join("created-through-symlink");
        let pointee = if dangling { &missing } else { &target };
        std::os::unix::fs::symlink(pointee, &lock).unwrap();
        let out = w.strata(&["allow", &w.path_str("proj")]);
        let ctx = format!("lock symlink (dangling={dangling})\n{}", out.describe());
        assert_untouched(&target, &meta, &ctx);
        assert!(
            !missing.exists(),
            "{ctx}: a file was created through the symlink"
        );
        match out.code() {
            0 => {
                let m = fs::symlink_metadata(&record).unwrap();
                assert!(m.is_file(), "{ctx}: the record is not a plain file");
            }
            1 => {
                let ls = lines(&out.stderr);
                assert_eq!(ls.len(), 1, "{ctx}: expected one clear line");
                assert!(
                    contains(ls[0], lock.file_name().unwrap().as_encoded_bytes())
                        || contains(ls[0], b"lock"),
                    "{ctx}: the message should name the lock file"
                );
            }
            _ => panic!("{ctx}: unexpected exit code"),
        }
    }
}

#[test]
fn planted_symlink_at_the_record_path_is_replaced_not_followed() {
    let w = World::new().dir_config("proj", SAFE);
    private_dir(&w.data_dir().join("trust"));
    let record = record_for(&w, "proj");
    let (target, meta) = victim(&w, "victim");
    std::os::unix::fs::symlink(&target, &record).unwrap();
    let out = w.strata(&["allow", &w.path_str("proj")]);
    assert_untouched(&target, &meta, &out.describe());
    if out.code() == 0 {
        let m = fs::symlink_metadata(&record).unwrap();
        assert!(
            m.is_file(),
            "the record is still a symlink\n{}",
            out.describe()
        );
        assert_eq!(m.mode() & 0o777, 0o600);
        let (json, out) = env_json(&w, "proj");
        assert_eq!(
            json.get("FOO").and_then(|v| v.as_str()),
            Some("safe"),
            "{}",
            out.describe()
        );
    } else {
        out.code_is(1);
    }
}

#[test]
fn planted_symlinks_at_the_reload_marker_are_not_followed() {
    let w = World::new();
    private_dir(&w.state_dir());
    let (target, meta) = victim(&w, "victim");
    let (target2, meta2) = victim(&w, "victim2");
    std::os::unix::fs::symlink(&target, w.state_dir().join("reload")).unwrap();
    std::os::unix::fs::symlink(&target2, w.state_dir().join("reload.lock")).unwrap();
    let out = w.strata(&["reload"]);
    assert_untouched(&target, &meta, &out.describe());
    assert_untouched(&target2, &meta2, &out.describe());
    assert!(
        out.code() == 0 || out.code() == 1,
        "unexpected exit\n{}",
        out.describe()
    );
}

per_shell! {
    /// The hook dates a per-shell stamp file `stamps/<pid>`; a symlink planted there must not
    /// be followed (the victim's times stay as they were).
    fn planted_symlink_at_the_stamp_path_is_not_followed(sh) {
        let w = World::new().dir_config("proj", SAFE).allow("proj");
        let stamps = w.state_dir().join("stamps");
        private_dir(&stamps);
        let (target, meta) = victim(&w, "victim");
        // `sh`'s parent is the shell: its pid names the stamp.
        let plant = sh.sh_c(&format!(
            "ln -s {} {}/\"$PPID\"",
            Bash.quote_path(&target),
            Bash.quote_path(&stamps)
        ));
        let r = w.run_shell_pre(sh, &[&plant], &[cd("proj"), prompt(), snap("in"), prompt(), cd(""), prompt(), snap("out")]);
        r.assert_set("in", "FOO", "safe");
        r.assert_unset("out", "FOO");
        assert_untouched(&target, &meta, &r.describe());
    }
}

// ---- modes ----

per_shell! {
    /// After a day's worth of commands, every directory strata created is 0700 and every file
    /// 0600, under the config, state and data directories.
    fn everything_created_is_private(sh) {
        let w = World::new()
            .dir_config("a", SAFE)
            .dir_config("b", "[env]\nB = \"b\"\n")
            .allow("a")
            .deny("b");
        w.strata(&["reload"]).success();
        w.strata(&["trust", "list"]).success();
        let r = w.run_shell(sh, &[
            cd("a"), prompt(), run_strata(&["allow", &w.path_str("b")]), cd("b"), prompt(),
            run_strata(&["reload"]), prompt(), cd(""), prompt(), snap("out"),
        ]);
        r.assert_unset("out", "FOO");
        let mut seen = 0;
        for top in [w.config_dir(), w.state_dir(), w.data_dir()] {
            let mut stack = vec![top];
            while let Some(dir) = stack.pop() {
                let Ok(meta) = fs::symlink_metadata(&dir) else { continue };
                assert_eq!(meta.mode() & 0o777, 0o700, "[{}] {} has mode {:o}", sh.name(), dir.display(), meta.mode() & 0o777);
                for e in fs::read_dir(&dir).unwrap().flatten() {
                    let p = e.path();
                    let m = fs::symlink_metadata(&p).unwrap();
                    if m.is_dir() {
                        stack.push(p);
                    } else {
                        seen += 1;
                        assert!(m.is_file(), "[{}] {} is not a plain file", sh.name(), p.display());
                        assert_eq!(m.mode() & 0o777, 0o600, "[{}] {} has mode {:o}", sh.name(), p.display(), m.mode() & 0o777);
                    }
                }
            }
        }
        assert!(seen >= 4, "[{}] expected records, locks, marker and stamps; found {seen} files", sh.name());
    }
}
