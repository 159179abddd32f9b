//! Crash safety of the trust store: `strata allow`/`deny` writers racing each other and killed
//! with SIGKILL at random points (enough of them mid-write, which the test counts and checks),
//! or killed mid-write by a signal. Every record always parses, a completed write is never lost,
//! a dead writer's lock is released, and the temp files that killed writers leave behind do not
//! outlive the next write.
//!
//! Trials: `STRATA_CRASH_TRIALS` (default [`DEFAULT_TRIALS`]); the kill timing comes from a seeded
//! generator, random unless `STRATA_CRASH_SEED` is set, and printed with every failure.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use strata_env::store::trust::sha256_hex;

use crate::support::*;

const DEFAULT_TRIALS: usize = 40;
const WRITERS: usize = 4;
const PROJECTS: usize = 2;
/// Each killed writer dies at a moment uniform over this long after it started. A writer here
/// starts writing 2 to 7 ms after it started, and most have exited by 12 ms: about one kill in
/// four lands mid-write (temp file open), and a run has about 25 of them.
const KILL_WINDOW_US: u64 = 10_000;
/// At least one kill in this many trials must land mid-write, or the run did not test what it
/// is for (every kill before or after the write proves nothing about torn records).
const TRIALS_PER_MID_WRITE_KILL: usize = 8;
/// A faster binary (the static build CI also runs the suite against) spends less of the kill
/// window writing: the run goes on, up to this many times the trials asked for, until enough
/// kills have landed mid-write.
const MAX_TRIALS_FACTOR: usize = 4;

/// What a trust record says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Allow(String),
    Deny,
}

/// Parses a record strictly (the format in `src/store/trust.rs`), checking that its file name is
/// the hash of the path it names. Returns the path and the decision, or why it is torn.
fn parse_record(file: &Path) -> Result<(PathBuf, Decision), String> {
    let bytes = fs::read(file).map_err(|e| format!("unreadable: {e}"))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| format!("not UTF-8: {}", show(&bytes)))?;
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| format!("no final newline: {text:?}"))?;
    let (first, path) = body
        .split_once('\n')
        .ok_or_else(|| format!("one line only: {text:?}"))?;
    if path.contains('\n') || path.is_empty() {
        return Err(format!("bad path line: {text:?}"));
    }
    let decision = match first.split_once(' ') {
        Some(("allow", h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Decision::Allow(h.to_string())
        }
        None if first == "deny" => Decision::Deny,
        _ => return Err(format!("bad decision line: {text:?}")),
    };
    let name = file.file_name().unwrap().to_string_lossy();
    if name != sha256_hex(path.as_bytes()) {
        return Err(format!("file name {name} is not the hash of {path:?}"));
    }
    Ok((PathBuf::from(path), decision))
}

fn is_record_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every entry of the trust directory, sorted: (name, is a record name).
fn trust_entries(w: &World) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(w.data_dir().join("trust"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Names in the trust directory that are neither records nor lock files: what killed writers
/// left behind.
fn leftovers(w: &World) -> Vec<String> {
    let is_lock = |n: &str| n.strip_suffix(".lock").is_some_and(is_record_name);
    trust_entries(w)
        .into_iter()
        .filter(|n| !is_record_name(n) && !is_lock(n))
        .collect()
}

/// Asserts every record parses; returns them by path.
#[track_caller]
fn check_records(w: &World, ctx: &str) -> Vec<(PathBuf, Decision)> {
    let mut out = Vec::new();
    for name in trust_entries(w) {
        if is_record_name(&name) {
            let file = w.data_dir().join("trust").join(&name);
            match parse_record(&file) {
                Ok(r) => out.push(r),
                Err(why) => panic!("{ctx}: torn trust record {name}: {why}"),
            }
        }
    }
    out
}

fn project(i: usize) -> String {
    format!("p{i}")
}

fn canonical_file(w: &World, i: usize) -> PathBuf {
    fs::canonicalize(w.path(&project(i)).join(".strata.toml")).unwrap()
}

fn spawn_writer(w: &World, verb: &str, target: &str) -> Child {
    let mut cmd = w.strata_command("", &["-c", "lock.timeout=10s", verb, target]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.spawn().expect("start strata")
}

#[test]
fn killed_allow_writers_never_corrupt_the_store() {
    let seed = crash_seed();
    let trials = env_num("STRATA_CRASH_TRIALS").unwrap_or(DEFAULT_TRIALS as u64) as usize;
    let how = format!(
        "seed {seed}; reproduce with STRATA_CRASH_SEED={seed} STRATA_CRASH_TRIALS={trials} \
         cargo test --test it crash::killed"
    );
    eprintln!("crash: {trials} trials x {WRITERS} writers; {how}");
    let mut rng = Rng(seed);
    let mut w = World::new();
    for i in 0..PROJECTS {
        w = w.dir_config(&project(i), "[env]\nFOO = \"start\"\n");
    }
    let trust_dir = w.data_dir().join("trust");
    let (mut killed, mut completed, mut stray_max, mut mid_write) = (0, 0, 0, 0);
    let min_mid_write = (trials / TRIALS_PER_MID_WRITE_KILL).max(1);
    let mut trial = 0;
    while trial < trials || (mid_write < min_mid_write && trial < trials * MAX_TRIALS_FACTOR) {
        // Every writer of a trial writes the same decision, so any that completed determines
        // the outcome; allows get new content each time so their hash is distinguishable.
        let allow = trial % 2 == 0;
        if allow {
            for i in 0..PROJECTS {
                w.write(
                    &format!("{}/.strata.toml", project(i)),
                    format!("[env]\nFOO = \"trial {trial}\"\n"),
                );
            }
        }
        let before: Vec<_> = check_records(&w, &how);
        let mut writers: Vec<(usize, Child, Instant)> = (0..WRITERS)
            .map(|j| {
                let i = j % PROJECTS;
                let verb = if allow { "allow" } else { "deny" };
                let child = spawn_writer(&w, verb, &w.path_str(&project(i)));
                (i, child, Instant::now())
            })
            .collect();
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
            if stop_look_kill(&writers[j].1, &[&trust_dir]) == Kill::MidWrite {
                mid_write += 1;
            }
        }
        let mut done = [false; PROJECTS];
        for (i, child, _) in writers.iter_mut() {
            let out = child.wait_with_output_ref();
            match out.0.code() {
                Some(0) => {
                    done[*i] = true;
                    completed += 1;
                }
                None => killed += 1,
                Some(c) => panic!(
                    "trial {trial}: a writer failed with exit {c}: {} ({how})",
                    show(&out.1)
                ),
            }
        }
        let ctx = format!("trial {trial} ({how})");
        let after = check_records(&w, &ctx);
        stray_max = stray_max.max(leftovers(&w).len());
        for (i, finished) in done.iter().enumerate() {
            let path = canonical_file(&w, i);
            let now = after
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, d)| d.clone());
            let expected = if allow {
                Decision::Allow(sha256_hex(&fs::read(&path).unwrap()))
            } else {
                Decision::Deny
            };
            let old = before
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, d)| d.clone());
            if *finished {
                assert_eq!(
                    now.as_ref(),
                    Some(&expected),
                    "{ctx}: a writer of {} exited 0 but its decision is not recorded",
                    path.display()
                );
            } else {
                assert!(
                    now == old || now.as_ref() == Some(&expected),
                    "{ctx}: {} holds {now:?}, neither the old {old:?} nor the new {expected:?}",
                    path.display()
                );
            }
        }
        trial += 1;
    }
    eprintln!(
        "crash: {trial} trials, {completed} writers completed, {killed} killed, {mid_write} of them \
         mid-write; up to {stray_max} stray files at once"
    );
    assert!(
        mid_write >= min_mid_write,
        "only {mid_write} of {killed} kills landed while the writer had its temp file open, fewer \
         than {min_mid_write}: this run does not show that a kill mid-write leaves the store whole \
         ({how})"
    );

    // No lock is left held by a dead writer: a fresh writer gets through at once.
    for i in 0..PROJECTS {
        let out = w.strata(&["-c", "lock.timeout=5s", "allow", &w.path_str(&project(i))]);
        out.success();
    }
    let (json, out) = {
        let out = w.strata(&["trust", "list", "--json"]);
        out.success();
        (out.json(), out)
    };
    assert!(
        json.to_string().contains("p0") && json.to_string().contains("p1"),
        "{}",
        out.describe()
    );
    check_records(&w, &how);
    assert_eq!(
        leftovers(&w),
        Vec::<String>::new(),
        "temp files of killed writers are still there after a later successful write of every \
         record ({how})"
    );
}

/// A writer killed by a signal in the middle of writing its temp file (SIGXFSZ from a 0-byte
/// `ulimit -f`: deterministic, the point of death is the first write). The old record survives,
/// the lock is released, and the next write of that record cleans the temp file up.
#[test]
fn writer_killed_mid_write_leaves_nothing_behind_after_the_next_write() {
    let w = World::new()
        .dir_config("proj", "[env]\nFOO = \"one\"\n")
        .allow("proj");
    let path = canonical_file_named(&w, "proj");
    let record = w
        .data_dir()
        .join("trust")
        .join(sha256_hex(path.as_os_str().as_encoded_bytes()));
    let old = fs::read(&record).unwrap();
    w.write("proj/.strata.toml", "[env]\nFOO = \"two\"\n");

    let mut cmd = w.strata_command("", &["allow", &w.path_str("proj")]);
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
            let zero = libc::rlimit {
                rlim_cur: 0,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &zero) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run_with_timeout(cmd, "strata allow (dies on its first write)".into());
    assert_eq!(
        out.code(),
        -libc::SIGXFSZ,
        "expected the writer to die of SIGXFSZ\n{}",
        out.describe()
    );
    assert_eq!(
        fs::read(&record).unwrap(),
        old,
        "the old record was damaged"
    );
    let stray = leftovers(&w);
    eprintln!("left by the killed writer: {stray:?}");

    // The lock died with the writer.
    let out = w.strata(&["-c", "lock.timeout=5s", "allow", &w.path_str("proj")]);
    out.success();
    let after = check_records(&w, "after the next allow");
    assert_eq!(after.len(), 1);
    assert_eq!(
        leftovers(&w),
        Vec::<String>::new(),
        "the temp file of the killed writer ({stray:?}) is still there after the next write of \
         the same record"
    );
}

fn canonical_file_named(w: &World, rel: &str) -> PathBuf {
    fs::canonicalize(w.path(rel).join(".strata.toml")).unwrap()
}

/// `Child::wait_with_output` takes `self`; this waits in place and returns status and stderr.
trait WaitRef {
    fn wait_with_output_ref(&mut self) -> (std::process::ExitStatus, Vec<u8>);
}

impl WaitRef for Child {
    fn wait_with_output_ref(&mut self) -> (std::process::ExitStatus, Vec<u8>) {
        use std::io::Read;
        let mut err = Vec::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = e.read_to_end(&mut err);
        }
        let status = self.wait().expect("wait for strata");
        (status, err)
    }
}
