//! Crash safety of session files and the current-context selection: `strata set` and
//! `strata context use` writers racing each other and killed with SIGKILL at random points,
//! enough of them mid-write (counted and checked).
//! The session file always parses, every `set` that exited 0 is present, the selection always
//! names a context, a dead writer's lock is released, and the temp files killed writers leave
//! behind are gone after the next write.
//!
//! Trials: `STRATA_CRASH_TRIALS` (default 30); the kill timing comes from a seeded generator,
//! random unless `STRATA_CRASH_SEED` is set, and printed with every failure.

use std::collections::BTreeSet;
use std::fs;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use strata_env::store::sessions::Session;

use crate::support::*;

const SETTERS: usize = 4;
const SWITCHERS: usize = 2;
/// Each killed writer dies at a moment uniform over this long after it started.
const KILL_WINDOW_US: u64 = 10_000;
/// At least one kill per this many planned trials must land mid-write (a temp file open), or the
/// run did not test what it is for.
const TRIALS_PER_MID_WRITE_KILL: usize = 6;

fn spawn(w: &World, args: &[&str]) -> Child {
    let mut all = vec!["-c", "lock.timeout=10s"];
    all.extend_from_slice(args);
    let mut cmd = w.strata_command("", &all);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.spawn().expect("start strata")
}

/// Temp files in `dir` (what a killed writer leaves behind).
fn temps(dir: &std::path::Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn killed_set_and_use_writers_never_corrupt_state() {
    let seed = crash_seed();
    let trials = env_num("STRATA_CRASH_TRIALS").unwrap_or(30) as usize;
    let how = format!(
        "seed {seed}; reproduce with STRATA_CRASH_SEED={seed} STRATA_CRASH_TRIALS={trials} cargo test --test it crash_state::"
    );
    eprintln!("crash_state: {trials} trials x {SETTERS} set + {SWITCHERS} use writers; {how}");
    let mut rng = Rng(seed);
    let w = World::new().env("STRATA_SESSION", "race");
    for name in ["red", "blue"] {
        w.strata(&["context", "create", name]).success();
    }
    let session_file = w.state_dir().join("sessions/race.toml");
    let current = w.state_dir().join("current-context");
    let mut must_have: BTreeSet<String> = BTreeSet::new();
    let sessions_dir = w.state_dir().join("sessions");
    let temp_dirs = [sessions_dir.as_path(), current.parent().unwrap()];
    let (mut killed, mut completed, mut mid_write) = (0, 0, 0);
    let min_mid_write = (trials / TRIALS_PER_MID_WRITE_KILL).max(1);
    // Where a kill lands is chance: past the planned trials, go on until enough of them landed
    // mid-write (or give up after five times as many).
    let mut trial = 0;
    while trial < trials || (mid_write < min_mid_write && trial < trials * 5) {
        trial += 1;
        let mut writers: Vec<(Option<String>, Child, Instant)> = Vec::new();
        for j in 0..SETTERS {
            let key = format!("K{trial}_{j}");
            let arg = format!("{key}=value {trial} {j}");
            let child = spawn(&w, &["set", &arg]);
            writers.push((Some(key), child, Instant::now()));
        }
        for j in 0..SWITCHERS {
            let name = if (trial + j) % 2 == 0 { "red" } else { "blue" };
            let child = spawn(&w, &["context", "use", name]);
            writers.push((None, child, Instant::now()));
        }
        // Two writers in three are killed, each at its own moment after it started.
        let mut kills: Vec<(Instant, usize)> = Vec::new();
        for (j, (_, _, started)) in writers.iter().enumerate() {
            if rng.below(3) != 0 {
                kills.push((
                    *started + Duration::from_micros(rng.below(KILL_WINDOW_US)),
                    j,
                ));
            }
        }
        kills.sort();
        for (at, j) in kills {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            if stop_look_kill(&writers[j].1, &temp_dirs) == Kill::MidWrite {
                mid_write += 1;
            }
        }
        for (key, child, _) in writers {
            let out = child.wait_with_output().unwrap();
            match out.status.code() {
                Some(0) => {
                    completed += 1;
                    if let Some(k) = key {
                        must_have.insert(k);
                    }
                }
                None => killed += 1,
                Some(c) => panic!(
                    "trial {trial}: a writer failed with exit {c}: {} ({how})",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
        // The session file always parses and holds every completed set.
        if let Ok(bytes) = fs::read(&session_file) {
            let s = Session::parse(&session_file, &bytes)
                .unwrap_or_else(|e| panic!("trial {trial}: torn session file: {e} ({how})"));
            for k in &must_have {
                assert!(
                    s.env.contains_key(k),
                    "trial {trial}: {k} was set (exit 0) but is missing ({how})"
                );
            }
        } else {
            assert!(
                must_have.is_empty(),
                "trial {trial}: completed sets but no session file ({how})"
            );
        }
        // The selection is whole: one of the two names, or (before any use completed) absent.
        if let Ok(text) = fs::read_to_string(&current) {
            assert!(
                text == "red\n" || text == "blue\n",
                "trial {trial}: torn current-context {text:?} ({how})"
            );
        }
    }
    eprintln!(
        "crash_state: {trial} trials, {completed} writers completed, {killed} killed, {mid_write} of them mid-write"
    );
    assert!(
        mid_write >= min_mid_write,
        "only {mid_write} of {killed} kills landed while the writer had its temp file open, fewer \
         than {min_mid_write}: this run does not show that a kill mid-write leaves the state whole \
         ({how})"
    );

    // No lock is held by a dead writer, and the next writes clear what killed writers left.
    let out = w.strata(&["-c", "lock.timeout=5s", "set", "LAST=1"]);
    out.success();
    let out = w.strata(&["-c", "lock.timeout=5s", "context", "use", "red"]);
    out.success();
    assert_eq!(
        temps(&w.state_dir().join("sessions")),
        Vec::<String>::new(),
        "{how}"
    );
    assert_eq!(temps(&w.state_dir()), Vec::<String>::new(), "{how}");
    let show = w.strata(&["session", "show", "--json"]);
    let env = show.json()["env"].clone();
    for k in &must_have {
        assert!(env.get(k).is_some(), "{k} lost\n{}", show.describe());
    }
}
