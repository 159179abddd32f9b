//! The hook's fork-free no-op prompt, in every real shell whose builtins can test file times: it must start no process
//! when nothing changed, and still notice every change at the very next prompt.
//!
//! Every world here is [`quiet`]: nothing but the test itself changes what its hook watches
//! (every ancestor of a project is watched, and /tmp is busy with the other tests' worlds), and
//! everything in it is dated a minute ago, so the first export already records final stamps
//! (nothing is in strata's 2-second racy window) without sleeping past that window. The tests
//! then check that the prompts before a change did take the fork-free path, so that seeing the
//! change is the fast path's doing, not a prompt that would have run strata anyway.

use std::fs;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use crate::support::*;

/// Runs `script_steps` in `sh` under `strace -f`, and returns the process-creating syscalls
/// (`clone`, `fork`, `vfork`, `execve`) that happened after the line that opened `marker`.
fn spawns_after_marker(w: &World, sh: Shell, setup: &[String], after: &[String]) -> Vec<String> {
    let marker = w.scratch("marker");
    fs::write(&marker, "").unwrap();
    let trace = w.scratch("trace");
    let mut script = String::new();
    script.push_str(&w.install_line(sh));
    script.push('\n');
    for l in setup {
        script.push_str(l);
        script.push('\n');
    }
    // A builtin that opens the marker: `read` from it.
    script.push_str(&sh.open_builtin(&marker));
    script.push('\n');
    for l in after {
        script.push_str(l);
        script.push('\n');
    }
    let file = w.scratch("traced-script");
    fs::write(&file, &script).unwrap();
    let mut cmd = w.command("timeout");
    cmd.arg("20")
        .arg("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=execve,clone,clone3,fork,vfork,openat,open",
        ])
        .arg("-o")
        .arg(&trace)
        .arg(sh.program())
        .args(sh.batch_args())
        .arg(&file);
    if sh == Nu {
        // Without a terminal, nushell asks `tput` for its size at every step; a user's nu has
        // one. So nu runs on a terminal of its own (script(1)), as it does for a user.
        let line = shell_words::join(
            std::iter::once(cmd.get_program())
                .chain(cmd.get_args())
                .map(|a| a.to_str().expect("a UTF-8 path")),
        );
        let mut wrapped = w.command("script");
        wrapped.args(["-qec", &line, "/dev/null"]);
        cmd = wrapped;
    }
    let out = cmd
        .output()
        .expect("strace must be installed (apt-get install strace)");
    assert!(
        out.status.success(),
        "[{}] traced shell failed: {}\n{script}",
        sh.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(&trace).unwrap();
    if std::env::var_os("DBG").is_some() {
        eprintln!("TRACE {text}");
    }
    let marker_name = marker.file_name().unwrap().to_string_lossy().into_owned();
    let start = text
        .lines()
        .position(|l| l.contains(&marker_name))
        .unwrap_or_else(|| panic!("[{}] marker not in trace:\n{text}", sh.name()));
    text.lines()
        .skip(start + 1)
        .filter(|l| {
            ["execve(", "clone(", "clone3(", "fork(", "vfork("]
                .iter()
                .any(|s| l.contains(s))
        })
        .map(str::to_string)
        .collect()
}

/// How far back [`quiet`] dates a world, and the `backdate` steps date what a test changed:
/// far outside strata's 2-second racy window.
pub(crate) const AGO: u64 = 60;

/// How many worlds may be quiet at once (tests beyond that wait for a free slot).
const SLOTS: usize = 16;

/// Slot directories under `target/tmp/fast_path`, each holding the world of one test at a time.
/// They are made once, before any world, and kept for the next run: a world made or removed in
/// a slot changes only that slot's directory, which the test owning it dates back itself, so
/// tests running at the same time never change a directory the other's hook watches.
struct Slots {
    free: Mutex<Vec<PathBuf>>,
    freed: Condvar,
}

fn slots() -> &'static Slots {
    static SLOTS_DIRS: OnceLock<Slots> = OnceLock::new();
    SLOTS_DIRS.get_or_init(|| {
        // Only the integration tests write under CARGO_TARGET_TMPDIR, and only these here.
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let base = tmp.join("fast_path");
        let made = !base.exists();
        let free: Vec<PathBuf> = (0..SLOTS).map(|i| base.join(format!("slot-{i}"))).collect();
        for dir in &free {
            fs::create_dir_all(dir).unwrap();
        }
        backdate_path(&base, AGO);
        if made {
            // Its new entry `fast_path` is the only change to it.
            backdate_path(tmp, AGO);
        }
        Slots {
            free: Mutex::new(free),
            freed: Condvar::new(),
        }
    })
}

/// A world no other test changes anything of, dated [`AGO`] seconds back (see the module doc).
pub(crate) struct Quiet {
    /// Always `Some` until dropped.
    world: Option<World>,
    slot: PathBuf,
}

impl Deref for Quiet {
    type Target = World;
    fn deref(&self) -> &World {
        self.world.as_ref().unwrap()
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        // The world is removed before the slot is free again: its removal changes the slot.
        drop(self.world.take());
        let s = slots();
        s.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.slot.clone());
        s.freed.notify_one();
    }
}

/// Builds a world with `build` in a free slot, then dates it back.
pub(crate) fn quiet(build: impl FnOnce(World) -> World) -> Quiet {
    let s = slots();
    let slot = {
        let mut free = s.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(slot) = free.pop() {
                break slot;
            }
            free = s.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    };
    let world = build(World::new_in(&slot));
    world.backdate_all(AGO);
    backdate_path(&slot, AGO);
    wait_for_quiet_ancestors(&slot);
    Quiet {
        world: Some(world),
        slot,
    }
}

/// The directories above the slots are not ours to date back: when one changed within the racy
/// window (cargo made `target/` moments ago, say), wait until it is out of it. Bounded: at most
/// the window and a margin, once.
fn wait_for_quiet_ancestors(slot: &Path) {
    let quiet_after = Duration::from_millis(2_200);
    for dir in slot.ancestors().skip(2) {
        let Ok(modified) = fs::metadata(dir).and_then(|m| m.modified()) else {
            continue;
        };
        let age = SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default();
        if age < quiet_after {
            eprintln!(
                "fast_path: {} changed {age:?} ago; waiting until it is out of the racy window",
                dir.display()
            );
            std::thread::sleep(quiet_after - age);
        }
    }
}

/// One test for the three shells, run one after the other, each in a [`quiet`] world: other
/// tests creating files next to them (in /tmp, or each other's cleanup) would, correctly, make
/// the hook look again: every ancestor of a project is watched.
#[test]
fn no_op_prompts_start_no_process() {
    for sh in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let w = quiet(|w| {
            w.dir_config("a", "[env]\nA = \"1\"\n[path]\nprepend = [\"bin\"]\n")
                .dir_config("a/b", "[env]\nB = \"2\"\n")
                .allow("a")
                .allow("a/b")
                .mkdir("a/b/c")
        });
        // Everything is dated back, so this first export already records final stamps: from
        // the very next prompt on, nothing may start a process.
        let setup = vec![
            format!("cd {}", sh.quote_path(&w.path("a/b/c"))),
            sh.prompt().to_string(),
        ];
        let prompts: Vec<String> = (0..5).map(|_| sh.prompt().to_string()).collect();
        let spawned = spawns_after_marker(&w, sh, &setup, &prompts);
        assert!(
            spawned.is_empty(),
            "[{}] a no-op prompt started processes:\n{}",
            sh.name(),
            spawned.join("\n")
        );
    }
}

// elvish 0.19 has no builtin for a file's time: its hook runs strata at every prompt, so there
// is no fork-free path to test (its cost is in bench/README.md).
only_shells! { [bash Bash, zsh Zsh, fish Fish, nu Nu, xonsh Xonsh, tcsh Tcsh]
    fn a_change_does_run_strata(sh) {
        // The control for the test above: the same trace does see strata when something changed.
        let w = quiet(|w| w.dir_config("a", "[env]\nA = \"1\"\n").allow("a"));
        let setup = vec![sh.prompt().to_string()];
        let after = vec![format!("cd {}", sh.quote_path(&w.path("a"))), sh.prompt().to_string()];
        let spawned = spawns_after_marker(&w, sh, &setup, &after);
        assert!(spawned.iter().any(|l| l.contains("execve(") && l.contains("strata")), "[{}] {spawned:?}", sh.name());
    }

    fn edit_in_the_same_clock_tick_is_seen(sh) {
        // Trusted by prefix, so an edit stays trusted and its new value must appear.
        let w = quiet(|w| w.trust_work().dir_config("p", "[env]\nV = \"aaa\"\n"));
        // In place (same inode, same size), right after the prompt that read it.
        let file = w.path("p/.strata.toml");
        let rewrite = |v: &str| {
            raw(sh.cmd_to(&["printf", "%s\\n", "[env]", &format!("V = \"{v}\"")], &file))
        };
        let r = w.run_shell(sh, &[
            cd("p"), prompt(), snap("a"),
            rewrite("bbb"), prompt(), snap("b"),
            rewrite("ccc"), prompt(), snap("c"),
            // The last edit out of the racy window: the next export records its stamp as final,
            // and the prompt after that is a no-op, so only the fast path can see the next edit.
            backdate("p/.strata.toml", AGO), prompt(), stamp("settled"),
            prompt(), stamp("idle"),
            rewrite("ddd"), prompt(), snap("d"), stamp("d"),
        ]);
        r.assert_set("a", "V", "aaa");
        r.assert_set("b", "V", "bbb");
        r.assert_set("c", "V", "ccc");
        r.assert_set("d", "V", "ddd");
        r.assert_no_export("settled", "idle");
        r.assert_exported("idle", "d");
    }

    fn new_file_in_an_ancestor_and_deleted_file_are_seen(sh) {
        let w = quiet(|w| w.trust_work().dir_config("a/b", "[env]\nB = \"b\"\n").mkdir("a/b/c"));
        let r = w.run_shell(sh, &[
            cd("a/b/c"), prompt(), stamp("entered"), prompt(), stamp("idle"), snap("start"),
            write("a/.strata.toml", "[env]\nA = \"new\"\n"),
            prompt(), snap("ancestor"),
            // The new file and its directory out of the racy window, so that the deletion too is
            // seen by the fast path's test and not because the new file was still racy.
            backdate("a/.strata.toml", AGO), backdate("a", AGO), prompt(), stamp("settled"),
            prompt(), stamp("idle again"),
            raw(sh.cmd(&["rm", &w.path_str("a/b/.strata.toml")])),
            prompt(), snap("deleted"),
        ]);
        r.assert_unset("start", "A");
        r.assert_set("ancestor", "A", "new");
        r.assert_set("ancestor", "B", "b");
        r.assert_unset("deleted", "B");
        r.assert_set("deleted", "A", "new");
        r.assert_no_export("entered", "idle");
        r.assert_no_export("settled", "idle again");
    }

    fn session_and_trust_changes_from_other_processes_are_seen(sh) {
        let w = quiet(|w| w
            .dir_config("p", "[env]\nP = \"p\"\n")
            .env("STRATA_SESSION", "shared"));
        let r = w.run_shell(sh, &[
            cd("p"), prompt(), stamp("entered"), prompt(), stamp("idle"), snap("untrusted"),
            run_strata(&["allow"]), prompt(), snap("allowed"),
            stamp("allowed"), prompt(), stamp("allowed idle"),
            // Another process of the same session.
            run_strata(&["set", "S=from-elsewhere"]), prompt(), snap("set"),
            run_strata(&["deny"]), prompt(), snap("denied"),
            raw(sh.export("STRATA_SESSION", "other")), prompt(), snap("other-session"),
        ]);
        r.assert_unset("untrusted", "P");
        r.assert_set("allowed", "P", "p");
        r.assert_set("set", "S", "from-elsewhere");
        r.assert_unset("denied", "P");
        r.assert_unset("other-session", "S");
        r.assert_no_export("entered", "idle");
        r.assert_no_export("allowed", "allowed idle");
    }

    fn an_allowed_file_that_comes_back_in_an_ancestor_is_seen(sh) {
        // Nothing trusts a/ by prefix, but its file has a trust record: a/ stays watched
        // while the file is gone, so the same file moved back applies at the next prompt.
        let w = quiet(|w| w.dir_config("a", "[env]\nA = \"1\"\n").allow("a").mkdir("a/b/c"));
        let file = w.path_str("a/.strata.toml");
        let away = w.path_str("a.toml.bak");
        let r = w.run_shell(sh, &[
            cd("a/b/c"), prompt(), stamp("entered"), prompt(), stamp("idle"), snap("start"),
            raw(sh.cmd(&["mv", &file, &away])), prompt(), snap("gone"),
            // The two directories the move changed, out of the racy window.
            backdate("a", AGO), backdate("", AGO), prompt(), stamp("settled"),
            prompt(), stamp("idle again"),
            raw(sh.cmd(&["mv", &away, &file])), prompt(), snap("back"),
        ]);
        r.assert_set("start", "A", "1");
        r.assert_unset("gone", "A");
        r.assert_set("back", "A", "1");
        r.assert_no_export("entered", "idle");
        r.assert_no_export("settled", "idle again");
    }

    fn a_new_file_in_the_cwd_is_reported_at_once(sh) {
        let w = quiet(|w| w.mkdir("p"));
        let r = w.run_shell(sh, &[
            cd("p"), prompt(), stamp("entered"), prompt(),
            mark("idle"), prompt(), stamp("idle"),
            mark("new"), write("p/.strata.toml", "[env]\nP = \"p\"\n"), prompt(),
            mark("end"),
        ]);
        let idle = String::from_utf8_lossy(r.stderr_at("idle")).into_owned();
        let new = String::from_utf8_lossy(r.stderr_at("new")).into_owned();
        assert!(idle.is_empty(), "[{}] {idle}", sh.name());
        assert!(new.contains(".strata.toml is not allowed"), "[{}] {new}", sh.name());
        r.assert_no_export("entered", "idle");
    }

    fn a_symlinked_cwd_sees_edits_too(sh) {
        // $PWD names the project through a symlink: the hook tests absolute paths there.
        let w = quiet(|w| w.trust_work().dir_config("real/p", "[env]\nV = \"one\"\n").symlink("link", "real"));
        let r = w.run_shell(sh, &[
            cd("link/p"), prompt(), stamp("entered"), prompt(), stamp("idle"), snap("one"),
            write("real/p/.strata.toml", "[env]\nV = \"two\"\n"),
            prompt(), snap("two"),
        ]);
        r.assert_set("one", "V", "one");
        r.assert_set("two", "V", "two");
        r.assert_set("two", "PWD", &w.path_str("link/p"));
        r.assert_no_export("entered", "idle");
    }

    fn reload_and_a_missing_stamp_make_the_next_prompt_ask_strata(sh) {
        let w = quiet(|w| w.dir_config("a", "[env]\nA = \"1\"\n").allow("a"));
        let setup = vec![
            format!("cd {}", sh.quote_path(&w.path("a"))),
            sh.prompt().to_string(),
        ];
        let exports = |after: Vec<String>| {
            spawns_after_marker(&w, sh, &setup, &after)
                .into_iter()
                .filter(|l| l.contains("execve(") && l.contains("\"export\""))
                .count()
        };
        let idle = exports(vec![sh.prompt().to_string(), sh.prompt().to_string()]);
        assert_eq!(idle, 0, "[{}] a no-op prompt ran strata", sh.name());
        let reload = exports(vec![
            "strata reload".to_string(),
            sh.prompt().to_string(),
            sh.prompt().to_string(),
        ]);
        assert!(reload >= 1, "[{}] the prompt after 'strata reload' did not ask strata", sh.name());
        let stamp = exports(vec![
            sh.remove_stamp(),
            sh.prompt().to_string(),
        ]);
        assert_eq!(stamp, 1, "[{}] the prompt after the stamp went missing did not ask strata", sh.name());
    }

    fn fast_path_can_be_turned_off(sh) {
        // In a quiet world, where the same prompts would otherwise start nothing.
        let w = quiet(|w| w
            .dir_config("a", "[env]\nA = \"1\"\n")
            .allow("a")
            .global("[settings]\nhook.fast_path = false\n"));
        let setup = vec![format!("cd {}", sh.quote_path(&w.path("a"))), sh.prompt().to_string()];
        let prompts: Vec<String> = (0..2).map(|_| sh.prompt().to_string()).collect();
        let spawned = spawns_after_marker(&w, sh, &setup, &prompts);
        assert!(spawned.iter().filter(|l| l.contains("execve(") && l.contains("strata")).count() >= 2, "[{}] {spawned:?}", sh.name());
    }
}
