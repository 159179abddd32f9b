//! `strata export bash|zsh|fish|json`: the code that moves the current environment to the
//! target one.
//!
//! Two paths. The no-op path (`STRATA_STATE` says the cwd, context and session are the same
//! and every watched path still has the recorded identity) parses no config, builds no
//! command-line parser, and prints nothing; `main` reaches it before clap. Otherwise the full
//! path evaluates the layers, diffs, and prints the changes plus the new `STRATA_STATE`.
//!
//! The hook contract: on any error, one line on stderr, no variable changed, exit 0, and the
//! same error is not repeated until something changes (its hash is kept in the state).

use anyhow::Result;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{Ctx, Run, current_env, current_state};
use crate::cli::{ExportArgs, ExportFormat};
use crate::display::tilde;
use crate::env_diff::{self, Change, Env, apply, base_env, changes};
use crate::files::{RACY_WINDOW, Stamp};
use crate::layers;
use crate::prompt;
use crate::settings::Log;
use crate::shells::{Fresh, Script, Shell};
use crate::state::{self, PromptInfo, STATE_VAR, State, fnv1a};
use crate::store::{Dirs, values};

/// What [`fast`] made of the command line.
pub enum Fast {
    /// Nothing changed; the answer (if any) is printed.
    Done,
    /// Run the full export with these arguments (no other flags were given).
    Full {
        /// Output format.
        format: ExportFormat,
        /// Called from the hook.
        hook: bool,
        /// The hook's stamp file.
        stamp: Option<PathBuf>,
        /// Called from an env file: also write the agent cache ([`crate::agent`]).
        agent: bool,
    },
}

/// The hot path, before any argument parsing: handles `strata export SHELL [--hook]
/// [--stamp FILE]` (and sends `--agent` on to the full path). When nothing changed it answers and returns [`Fast::Done`]; otherwise it
/// returns the parsed arguments for the full path. `None`: any other command line, for clap.
///
/// Without the hook it allocates nothing at all (the environment is read in place, the cwd
/// into a buffer on the stack), so a no-op run never sets up a heap.
pub fn fast(args: &[&[u8]]) -> Option<Fast> {
    let [_, b"export", shell, rest @ ..] = args else {
        return None;
    };
    let (shell, format) = match *shell {
        b"json" => (None, ExportFormat::Json),
        name => {
            let sh = Shell::from_name(OsStr::from_bytes(name))?;
            (Some(sh), ExportFormat::from(sh))
        }
    };
    let (hook, stamp) = match rest {
        [] => (false, None),
        [b"--hook"] => (true, None),
        [b"--hook", b"--stamp", p] => (true, Some(Path::new(OsStr::from_bytes(p)))),
        // The agent cache is written by the full path: it runs only when the cache missed.
        [b"--agent"] => {
            return Some(Fast::Full {
                format,
                hook: false,
                stamp: None,
                agent: true,
            });
        }
        _ => return None,
    };
    let full = || {
        Some(Fast::Full {
            format,
            hook,
            stamp: stamp.map(Path::to_path_buf),
            agent: false,
        })
    };
    let Some(raw) = env_bytes("STRATA_STATE") else {
        return full();
    };
    let started = SystemTime::now();
    // The shell that defines aliases is the one whose stamp file this is (see `State::owner`).
    let owner = match stamp {
        Some(p) if hook => p.as_os_str().as_bytes(),
        _ => b"",
    };
    // Stamped before anything is read: a change made after this point is newer than the stamp
    // or expires it (see `store::announce`).
    if hook && let Some(stamp) = stamp {
        touch_stamp(stamp, started);
    }
    let same = |cwd: &[u8]| {
        state::unchanged(
            OsStr::from_bytes(&raw),
            cwd,
            &env_bytes("STRATA_CONTEXT").unwrap_or_default(),
            &env_bytes("STRATA_SESSION").unwrap_or_default(),
            Some(owner),
        )
    };
    let cwd = crate::layers::physical_cwd().map(|p| p.as_os_str().as_bytes());
    let unchanged = match (cwd, env_bytes("PWD")) {
        (Some(cwd), Some(pwd)) if cwd == pwd => same(cwd),
        _ => match super::logical_cwd() {
            Ok(cwd) => same(cwd.as_os_str().as_bytes()),
            Err(_) => return full(),
        },
    };
    if !unchanged {
        return full();
    }
    if hook && let Some(shell) = shell {
        if !shell.has_fresh_test() {
            // elvish's hook asks at every prompt: there is no test to print.
            return Some(Fast::Done);
        }
        let Ok(dirs) = Dirs::from_env() else {
            return full();
        };
        let Ok(state) = State::decode(
            OsStr::from_bytes(&raw),
            &values::key(&dirs),
            &values::Stored(&dirs),
        ) else {
            return full();
        };
        let mut script = Script::new(shell).raw_bytes(crate::shells::tcsh_reads_bytes());
        sync_vars(&mut script, &state, Some(&dirs), stamp);
        if let Err(e) = deliver(shell, hook, stamp, &script.finish()) {
            crate::display::say(&e);
        }
    }
    Some(Fast::Done)
}

/// The file the tcsh hook sources after an export: tcsh cannot evaluate several lines of
/// output at once (its command substitution makes one line of them), so with `--hook` strata
/// writes them here, beside the shell's stamp file, and prints nothing.
pub fn tcsh_output(stamp: &Path) -> PathBuf {
    let mut name = stamp.as_os_str().to_os_string();
    name.push(".tcsh");
    PathBuf::from(name)
}

/// Hand the output to the shell: on stdout, or for the tcsh hook in [`tcsh_output`]. When that
/// file cannot be written it is removed, so the hook never sources a stale one.
fn deliver(shell: Shell, hook: bool, stamp: Option<&Path>, out: &[u8]) -> Result<(), String> {
    if hook
        && shell == Shell::Tcsh
        && let Some(stamp) = stamp
    {
        let file = tcsh_output(stamp);
        return crate::store::write_atomic(&file, out, Default::default()).map_err(|e| {
            let _ = std::fs::remove_file(&file);
            format!("{e:#}")
        });
    }
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(out);
    let _ = stdout.flush();
    Ok(())
}

/// An environment variable's bytes.
fn env_bytes(name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    std::env::var_os(name).map(OsStringExt::into_vec)
}

/// Date the hook's stamp file to just before this evaluation started, creating it if needed.
/// Failure is harmless: without a stamp the hook simply always runs strata.
fn touch_stamp(stamp: &Path, started: SystemTime) {
    let when = started.checked_sub(RACY_WINDOW).unwrap_or(started);
    if crate::store::touch(stamp, when).is_ok() {
        return;
    }
    if let Some(dir) = stamp.parent()
        && crate::store::ensure_private_dir(dir).is_ok()
    {
        let _ = crate::store::touch(stamp, when);
    }
}

/// The hook's bookkeeping: the test that lets its next prompts skip strata ([`Fresh`]).
///
/// - strata's own files (the reload marker) are left out: every change to them expires the
///   stamp instead (`store::announce`).
/// - Each watched path that exists must not be newer than the stamp, and neither may the
///   directory holding it, where a rename or a deletion shows.
/// - Each watched path that does not exist must not appear: covered by its directory when that is
///   tested anyway, else `-e` (one `stat`), or its nearest directory when two or more would share
///   it.
/// - When `$PWD` is the physical directory, paths near it are written relative to it, which
///   costs the shell fewer lookups per test (only when `$PWD` is unchanged does the test apply).
fn sync_vars(script: &mut Script, state: &State, dirs: Option<&Dirs>, stamp: Option<&Path>) {
    // Without a stamp file (a hand-made `export --hook`) there is nothing to test against.
    if !can_skip(state, script.shell()) || stamp.is_none() {
        script.define_fresh(None);
        return;
    }
    let (newer, gone) = fresh_paths(state, dirs);
    // tcsh's test is a file written for its shape (a failure to write it only means every
    // prompt asks).
    let tcsh_file = match (script.shell(), dirs) {
        (Shell::Tcsh, Some(d)) => {
            let text = crate::shells::tcsh_fresh(crate::shells::TcshShape {
                context_set: std::env::var_os("STRATA_CONTEXT").is_some(),
                session_set: std::env::var_os("STRATA_SESSION").is_some(),
                newer: newer.len(),
                absent: gone.len(),
            });
            super::hook::tcsh_file(d, "fresh", text.as_bytes(), Default::default()).ok()
        }
        _ => None,
    };
    script.define_fresh(Some(&Fresh {
        cwd: state.cwd.as_bytes(),
        context: state.context.as_bytes(),
        session: state.session.as_bytes(),
        newer: newer.iter().map(|p| p.as_os_str().as_bytes()).collect(),
        absent: gone.iter().map(|p| p.as_os_str().as_bytes()).collect(),
        deadline: state.deadline,
        stamp: stamp.map(|s| s.as_os_str().as_bytes()),
        tcsh_file: tcsh_file.as_deref().map(|p| p.as_os_str().as_bytes()),
    }));
}

/// Whether a shell may skip strata while the freshness test passes: not with `hook.fast_path`
/// off, and not in fish while a value is due to expire (fish has no clock builtin).
fn can_skip(state: &State, shell: Shell) -> bool {
    !state.slow_hook && (shell != Shell::Fish || state.deadline.is_none())
}

/// The paths of the freshness test of `state` (see [`sync_vars`]): those that must not be newer
/// than the stamp, and those that must still not exist.
fn fresh_paths(state: &State, dirs: Option<&Dirs>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let own = |p: &Path| dirs.is_some_and(|d| p.starts_with(&d.state) || p.starts_with(&d.data));
    let mut newer: Vec<PathBuf> = Vec::new();
    let mut tested_dirs: Vec<PathBuf> = Vec::new();
    let mut absent: Vec<&Path> = Vec::new();
    for w in state.watch.iter().filter(|w| !own(&w.path)) {
        if matches!(w.stamp, Stamp::Absent) {
            absent.push(&w.path);
            continue;
        }
        push_new(&mut newer, &w.path);
        if let Some(dir) = w.path.parent() {
            push_new(&mut tested_dirs, dir);
        }
    }
    let mut groups: Vec<(PathBuf, Vec<&Path>)> = Vec::new();
    for path in absent {
        let Some(dir) = path.ancestors().skip(1).find(|d| d.is_dir()) else {
            continue;
        };
        if tested_dirs.iter().any(|d| d == dir) {
            continue;
        }
        match groups.iter_mut().find(|(d, _)| d == dir) {
            Some((_, paths)) => paths.push(path),
            None => groups.push((dir.to_path_buf(), vec![path])),
        }
    }
    let mut gone: Vec<PathBuf> = Vec::new();
    for (dir, paths) in groups {
        match paths.as_slice() {
            [one] => gone.push(one.to_path_buf()),
            _ => push_new(&mut tested_dirs, &dir),
        }
    }
    let cwd = Path::new(&state.cwd);
    if newer.is_empty() && tested_dirs.is_empty() {
        // A stamp expired by `store::announce` must fail at least one test.
        tested_dirs.push(cwd.to_path_buf());
    }
    for d in tested_dirs {
        push_new(&mut newer, &d);
    }
    if std::env::current_dir().is_ok_and(|p| p == cwd) {
        for p in newer.iter_mut().chain(gone.iter_mut()) {
            if let Some(r) = layers::relative(cwd, p) {
                *p = r;
            }
        }
    }
    (newer, gone)
}

fn push_new(list: &mut Vec<PathBuf>, path: &Path) {
    if !list.iter().any(|p| p == path) {
        list.push(path.to_path_buf());
    }
}

/// One run of the full path: what it was asked and what it found at the start.
struct Export<'a> {
    dirs: &'a Dirs,
    format: ExportFormat,
    hook: bool,
    stamp: Option<&'a Path>,
    /// `--agent`: the id of the cache entry this export writes (its stamp exists already).
    agent: Option<String>,
    started: SystemTime,
    current: Env,
    context: OsString,
    session: OsString,
    messages: Vec<String>,
}

/// A hash of the warnings shown, `None` when there are none.
fn notice_hash(warnings: &[String]) -> Option<u64> {
    (!warnings.is_empty()).then(|| fnv1a(warnings.join("\n").as_bytes()))
}

/// The full `strata export`.
impl Run for ExportArgs {
    /// The full `strata export`.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        run(
            ctx,
            self.format,
            self.hook,
            self.stamp.as_deref(),
            self.agent,
        )
    }
}

/// The full `strata export`: what `main` runs when the fast path cannot answer (it has the
/// arguments already, without clap), and what `strata export` runs.
pub fn run(
    ctx: &Ctx,
    format: ExportFormat,
    hook: bool,
    stamp: Option<&Path>,
    agent: bool,
) -> Result<()> {
    {
        let started = SystemTime::now();
        crate::store::ignore_file_size_signal();
        // Stamped before anything is read, as in `fast`.
        if hook && let Some(stamp) = stamp {
            touch_stamp(stamp, started);
        }
        let agent = (agent && format != ExportFormat::Json).then(crate::agent::new_id);
        if let Some(id) = &agent {
            touch_stamp(&crate::agent::stamp_file(&ctx.dirs, id), started);
        }
        let mut ex = Export {
            dirs: &ctx.dirs,
            format,
            hook,
            stamp,
            agent,
            started,
            current: current_env(),
            context: std::env::var_os("STRATA_CONTEXT").unwrap_or_default(),
            session: std::env::var_os("STRATA_SESSION").unwrap_or_default(),
            messages: Vec::new(),
        };
        let state = match current_state(&ctx.dirs, &ex.current) {
            Ok(s) => s,
            Err(_) => {
                ex.messages.push(
                    "ignoring a corrupt or foreign STRATA_STATE; starting over from the environment as it is"
                        .into(),
                );
                None
            }
        };
        let cwd = match ctx.cwd() {
            Ok(c) => c,
            Err(e) => return ex.fail(state, e.to_string(), Default::default(), OsString::new()),
        };
        if !hook
            && ex.agent.is_none()
            && let Some(raw) = ex.current.get(OsStr::new(STATE_VAR))
            && state::unchanged(
                raw,
                cwd.as_os_str().as_bytes(),
                ex.context.as_bytes(),
                ex.session.as_bytes(),
                Some(b""),
            )
        {
            return Ok(());
        }
        let base = base_env(&ex.current, state.as_ref());
        let mut watch = layers::Watch::default();
        let request = ctx.request(&cwd, &base, None);
        let mut eval = match layers::evaluate(&request, &mut watch) {
            Ok(e) => e,
            Err(e) => return ex.fail(state, e.to_string(), watch, cwd.into_os_string()),
        };
        if eval.stale_secrets
            && let Some(id) = request.session
        {
            // A secret's time is up: out of the session file and out of its keyring.
            let _ = crate::store::sessions::modify(&ctx.dirs, id, eval.settings.lock, |_| Ok(()));
        }
        let applied = apply(
            &base,
            std::mem::take(&mut eval.target),
            state.as_ref(),
            &ex.current,
        );
        let diff = changes(&ex.current, &applied.values);
        if let Err(e) = env_diff::check_size(&ex.current, &applied.values) {
            return ex.fail(state, e, watch, cwd.into_os_string());
        }
        // Aliases live in the shell process whose hook asked (its stamp file names it): what
        // that shell has from strata is what the state says, when it says so of this shell.
        let owner = match (hook, stamp) {
            (true, Some(p)) => p.as_os_str().to_os_string(),
            _ => OsString::new(),
        };
        let target_aliases: Vec<(String, u64)> = eval
            .aliases
            .iter()
            .map(|(n, argv)| (n.clone(), state::alias_hash(argv)))
            .collect();
        // The state this shell's hook wrote: what the shell has from strata. A state another
        // shell wrote (or none) means this shell has no aliases or project from strata yet.
        let ours = state
            .as_ref()
            .filter(|s| !owner.is_empty() && s.owner == owner);
        let defined: &[(String, u64)] = ours.map_or(&[], |s| &s.aliases);
        let new_project = eval.project.as_ref().map(|p| p.as_os_str().to_os_string());
        let prompt = prompt_info(&eval);
        let events = if owner.is_empty() {
            Vec::new()
        } else {
            events_between(
                ours.unwrap_or(&State::default()),
                new_project.as_ref(),
                &prompt.context,
                &eval.events,
            )
        };
        let shell_changes = ShellChanges {
            events,
            remove: defined
                .iter()
                .filter(|(n, _)| !eval.aliases.contains_key(n))
                .map(|(n, _)| n.clone())
                .collect(),
            define: if owner.is_empty() {
                Vec::new()
            } else {
                eval.aliases
                    .iter()
                    .zip(&target_aliases)
                    .filter(|(_, t)| !defined.contains(t))
                    .map(|((n, argv), _)| (n.clone(), argv.clone()))
                    .collect()
            },
        };
        let new_state = State {
            cwd: cwd.into_os_string(),
            context: ex.context.clone(),
            session: ex.session.clone(),
            watch: watch.stamps(ex.racy_after()),
            vars: applied.vars,
            lists: applied.lists,
            notice: notice_hash(&eval.warnings),
            slow_hook: !eval.settings.fast_path,
            deadline: eval.deadline,
            prompt,
            aliases: target_aliases,
            owner,
            project: new_project,
            events: eval.events.clone(),
        };
        if eval.settings.log != Log::Quiet {
            let first = state.is_none() && !ex.current.contains_key(OsStr::new(STATE_VAR));
            let repeat = state.as_ref().and_then(|s| s.notice) == new_state.notice;
            ex.messages.extend(report(&eval, &diff, first, repeat));
            if let Some(l) = &eval.legacy
                && crate::store::noticed::first_time(&ctx.dirs, &l.path)
            {
                let words: Vec<&str> = l.import.iter().map(String::as_str).collect();
                ex.messages.push(format!(
                    "{} has {} and no .strata.toml; translate it with: {}",
                    tilde(l.path.parent().unwrap_or(Path::new("/"))),
                    l.what,
                    crate::display::command(&words)
                ));
            }
        }
        let prompt = prompt_value(&eval, &new_state, &ex.session, &ex.current);
        let mut all = diff;
        all.extend(changes(&ex.current, &prompt));
        if ex.hook && ex.format.shell() == Some(Shell::Tcsh) {
            // tcsh's hook reads strata's code from a file: a secret's value stays out of it.
            all.retain(|c| match c {
                Change::Added(n, _) | Change::Changed(n, _) if eval.is_secret(n) => {
                    ex.messages.push(format!(
                        "{n} is a secret, which strata never writes to a file, and tcsh's hook \
                         reads strata's code from one: use it with strata exec -- COMMAND"
                    ));
                    false
                }
                _ => true,
            });
        }
        let agent = ex.agent.take();
        if let Some(id) = &agent
            && !eval.secrets.is_empty()
        {
            // A secret's value never goes into a file: with one, these shells ask strata.
            let _ = std::fs::remove_file(crate::agent::stamp_file(ex.dirs, id));
        }
        let agent = agent.filter(|_| eval.secrets.is_empty()).map(|id| {
            let inputs = agent_inputs(&ex.current, state.as_ref(), &applied.values, &eval);
            let shell = match format {
                ExportFormat::Zsh => Shell::Zsh,
                ExportFormat::Fish => Shell::Fish,
                _ => Shell::Bash,
            };
            let mut strata_names: Vec<String> = ex
                .current
                .keys()
                .filter_map(|k| k.to_str())
                .filter(|k| k.starts_with("STRATA_"))
                .map(String::from)
                .collect();
            strata_names.sort_unstable();
            let script = replay(shell, &all, &new_state, &ex);
            (id, shell, inputs, strata_names, script)
        });
        let dirs = ex.dirs;
        ex.emit(&all, &shell_changes, &new_state);
        if let Some((id, shell, inputs, strata_names, script)) = agent {
            let cached = can_skip(&new_state, shell)
                && cache_entry(ctx, shell, &new_state, &inputs, &strata_names, &script, &id)
                    .is_ok();
            if !cached {
                let _ = std::fs::remove_file(crate::agent::stamp_file(dirs, &id));
            }
        }
        Ok(())
    }
}

/// What an agent cache entry replays: the changes `emit` prints, and the new state when it
/// differs from the inherited one.
fn replay(shell: Shell, diff: &[Change], state: &State, ex: &Export<'_>) -> String {
    let encoded = state.encode(&values::key(ex.dirs), &values::Stored(ex.dirs));
    let mut changes: Vec<(&str, Option<&[u8]>)> = diff
        .iter()
        .map(|c| match c {
            Change::Added(n, v) | Change::Changed(n, v) => (*n, Some(v.as_bytes())),
            Change::Removed(n) => (*n, None),
        })
        .collect();
    if ex.current.get(OsStr::new(STATE_VAR)) != Some(&encoded) {
        changes.push((STATE_VAR, Some(encoded.as_bytes())));
    }
    let current = |n: &str| ex.current.get(OsStr::new(n)).map(|v| v.as_bytes().to_vec());
    crate::agent::replay_script(shell, &changes, &current)
}

/// The variables whose values the result of an export depends on, besides the place it
/// checks anyway (`PWD`, `STRATA_CONTEXT`, `STRATA_SESSION`): the state it inherited, the
/// directories strata finds its files through, the settings' variables (but `STRATA_LOG`, which
/// changes only what is said), the variables strata sets, set before, or read.
fn agent_inputs(
    current: &Env,
    state: Option<&State>,
    values: &env_diff::Ordered<Option<OsString>>,
    eval: &layers::Evaluation,
) -> Vec<(String, Option<Vec<u8>>)> {
    let mut names: Vec<String> = [
        STATE_VAR,
        PROMPT_VAR,
        "HOME",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "XDG_DATA_HOME",
        "STRATA_CONFIG_DIR",
        "STRATA_STATE_DIR",
        "STRATA_DATA_DIR",
        "STRATA_SYSTEM_CONFIG",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    names.extend(
        crate::settings::env_vars()
            .into_iter()
            .filter(|n| n != "STRATA_LOG"),
    );
    names.extend(values.keys().cloned());
    if let Some(s) = state {
        names.extend(s.vars.iter().map(|v| v.name.clone()));
        names.extend(s.lists.iter().map(|l| l.name.clone()));
    }
    names.extend(eval.env_reads.iter().cloned());
    names.retain(|n| {
        crate::names::valid_name(n)
            && !matches!(n.as_str(), "PWD" | "STRATA_CONTEXT" | "STRATA_SESSION")
    });
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|n| {
            let v = current.get(OsStr::new(&n)).map(|v| v.as_bytes().to_vec());
            (n, v)
        })
        .collect()
}

/// Write the agent cache entry `id` for this export: the code it printed, replayed by fresh
/// shells while its test passes.
fn cache_entry(
    ctx: &Ctx,
    shell: Shell,
    state: &State,
    inputs: &[(String, Option<Vec<u8>>)],
    strata_names: &[String],
    code: &str,
    id: &str,
) -> Result<()> {
    let (newer, gone) = fresh_paths(state, Some(&ctx.dirs));
    let fresh = Fresh {
        cwd: state.cwd.as_bytes(),
        context: state.context.as_bytes(),
        session: state.session.as_bytes(),
        newer: newer.iter().map(|p| p.as_os_str().as_bytes()).collect(),
        absent: gone.iter().map(|p| p.as_os_str().as_bytes()).collect(),
        deadline: state.deadline,
        stamp: None,
        tcsh_file: None,
    };
    let key = crate::agent::key(&fresh, inputs);
    let entry = crate::agent::Entry {
        shell,
        fresh: &fresh,
        env: inputs,
        strata_names,
        script: code,
    };
    let policy = ctx.base_settings().map(|s| s.lock).unwrap_or_default();
    crate::agent::store(&ctx.dirs, policy, &entry, state.cwd.as_bytes(), &key, id)
}

/// What the hook says about an evaluation: its warnings (unless they are the ones it said last
/// time), the change line, and with `log = verbose` every file. A new shell's `first`
/// evaluation is quiet unless a directory file applies: a terminal that opens with the global
/// context active need not list it.
fn report(eval: &layers::Evaluation, diff: &[Change], first: bool, repeat: bool) -> Vec<String> {
    let mut out = Vec::new();
    if !repeat {
        out.extend(condensed(&eval.warnings));
    }
    let dir_applies = eval
        .files
        .iter()
        .any(|f| f.kind.is_dir() && f.state == layers::FileState::Applied);
    if !diff.is_empty() && (!first || dir_applies) {
        let place: Vec<String> = eval
            .context
            .iter()
            .map(|c| c.name.clone())
            .chain(eval.nearest.as_deref().map(tilde))
            .collect();
        let place = if place.is_empty() {
            String::new()
        } else {
            format!(" ({})", place.join(" · "))
        };
        if eval.settings.hide_diff {
            out.push(format!("environment updated{place}"));
        } else {
            out.push(format!("{}{place}", env_diff::summary(diff)));
        }
    }
    if eval.settings.log == Log::Verbose {
        for f in &eval.files {
            out.push(format!(
                "{} {} ({:?})",
                f.kind.label(),
                tilde(&f.path),
                f.state
            ));
        }
    }
    out
}

/// The variable the hook keeps up to date with the plain prompt segment.
pub const PROMPT_VAR: &str = "STRATA_PROMPT";

/// The variable naming the active context's colour, beside `STRATA_PROMPT`.
pub const PROMPT_COLOR_VAR: &str = "STRATA_PROMPT_COLOR";

/// The prompt's variables, strata's own: set while there is something to show (`None` unsets
/// them), never restored.
/// - `STRATA_PROMPT`: the plain segment;
/// - `STRATA_PROMPT_COLOR`: the context's colour as its file names it (`red`, `bright-blue`,
///   `208`), for prompts that take a colour from a variable (zsh's `%F{…}`);
/// - the segment once more under a name that says its colour, `STRATA_PROMPT_RED` (or
///   `STRATA_PROMPT_PLAIN` when it has none): a prompt that cannot take a style from a
///   variable, starship's `env_var` module, gives each name its style, with no fork.
///
/// Colours are left out under `color = never` or `NO_COLOR`; a `STRATA_PROMPT_…` left from
/// another colour is unset.
fn prompt_value(
    eval: &layers::Evaluation,
    state: &State,
    session: &OsStr,
    current: &Env,
) -> env_diff::Ordered<Option<OsString>> {
    let shown = prompt::render(
        &eval.settings.prompt_format,
        &state.prompt,
        &session.to_string_lossy(),
        None,
        false,
    );
    let no_color = eval.settings.color == crate::settings::ColorMode::Never
        || current
            .get(OsStr::new("NO_COLOR"))
            .is_some_and(|v| !v.is_empty());
    let color = (!shown.is_empty() && !no_color)
        .then(|| prompt::color_name(&state.prompt.color))
        .flatten();
    let styled = match &color {
        Some(c) => format!("{PROMPT_VAR}_{}", c.to_ascii_uppercase().replace('-', "_")),
        None => format!("{PROMPT_VAR}_PLAIN"),
    };
    let value = (!shown.is_empty()).then(|| OsString::from(shown));
    let mut vars: env_diff::Ordered<Option<OsString>> = Default::default();
    vars.insert(PROMPT_VAR.to_string(), value.clone());
    vars.insert(PROMPT_COLOR_VAR.to_string(), color.map(OsString::from));
    // The one of another colour, from an earlier prompt or inherited, goes; other
    // `STRATA_PROMPT_…` names (`STRATA_PROMPT_FORMAT`, a setting) are not strata's to unset.
    let prefix = format!("{PROMPT_VAR}_");
    for name in current.keys().filter_map(|k| k.to_str()) {
        if let Some(suffix) = name.strip_prefix(&prefix)
            && name != styled
            && colour_suffix(suffix)
        {
            vars.insert(name.to_string(), None);
        }
    }
    vars.insert(styled, value);
    vars
}

/// `PLAIN`, or a colour as [`prompt_value`] spells it in a variable name: `RED`,
/// `BRIGHT_BLUE`, `208`.
fn colour_suffix(suffix: &str) -> bool {
    suffix == "PLAIN"
        || suffix.parse::<u8>().is_ok_and(|n| n.to_string() == suffix)
        || (suffix.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            && crate::display::ansi_color(&suffix.to_ascii_lowercase()).is_some())
}

/// The prompt facts of an evaluation.
pub fn prompt_info(eval: &layers::Evaluation) -> PromptInfo {
    PromptInfo {
        context: eval
            .context
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        color: eval
            .context
            .as_ref()
            .and_then(|c| c.color.clone())
            .unwrap_or_default(),
        dir: eval
            .nearest
            .as_deref()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        untrusted: eval.files.iter().any(|f| {
            matches!(
                f.state,
                layers::FileState::Untrusted | layers::FileState::Denied
            )
        }),
        protected: eval.context.as_ref().is_some_and(|c| c.protected),
        format: match eval.settings.prompt_format.as_str() {
            crate::settings::DEFAULT_PROMPT_FORMAT => String::new(),
            f => f.to_string(),
        },
    }
}

impl Export<'_> {
    fn racy_after(&self) -> SystemTime {
        self.started
            .checked_sub(RACY_WINDOW)
            .unwrap_or(self.started)
    }

    /// Report an error the hook way: one line (unless it is the one already reported), no
    /// variable changed, and a state that watches what was looked at so the fix is noticed.
    fn fail(
        mut self,
        state: Option<State>,
        error: String,
        watch: layers::Watch,
        cwd: OsString,
    ) -> Result<()> {
        let hash = fnv1a(error.as_bytes());
        let old = state.unwrap_or_default();
        if old.notice != Some(hash) {
            self.messages.push(error);
        }
        let new_state = State {
            cwd,
            context: self.context.clone(),
            session: self.session.clone(),
            watch: watch.stamps(self.racy_after()),
            vars: old.vars,
            lists: old.lists,
            notice: Some(hash),
            slow_hook: old.slow_hook,
            deadline: old.deadline,
            prompt: old.prompt,
            aliases: old.aliases,
            owner: old.owner,
            project: old.project,
            events: old.events,
        };
        let hook = self.hook;
        if let Some(id) = &self.agent {
            // An env file applies nothing after a failure, and nothing is cached: print nothing.
            let _ = std::fs::remove_file(crate::agent::stamp_file(self.dirs, id));
            print_messages(&self.messages);
            return Err(super::Silent(1).into());
        }
        self.emit(&[], &ShellChanges::default(), &new_state);
        if !hook {
            // Outside the hook, a failure is still a failure for scripts.
            return Err(super::Silent(1).into());
        }
        Ok(())
    }

    /// Print the code (stdout), then the messages (stderr).
    fn emit(self, diff: &[Change], shell_changes: &ShellChanges, state: &State) {
        let encoded = state.encode(&values::key(self.dirs), &values::Stored(self.dirs));
        let state_changed = self.current.get(OsStr::new(STATE_VAR)) != Some(&encoded);
        // Values a shell cannot hold: one line each, and the variable is left as it is (the
        // state records it as set, so the next evaluation sees the user's value and keeps it).
        let mut refused = Vec::new();
        let out: Vec<u8> = match self.format {
            ExportFormat::Json => {
                let mut map = serde_json::Map::new();
                for c in diff {
                    let (name, value) = match c {
                        Change::Added(n, v) | Change::Changed(n, v) => (
                            n,
                            serde_json::Value::String(v.to_string_lossy().into_owned()),
                        ),
                        Change::Removed(n) => (n, serde_json::Value::Null),
                    };
                    map.insert(name.to_string(), value);
                }
                if state_changed {
                    map.insert(
                        STATE_VAR.into(),
                        encoded.to_string_lossy().into_owned().into(),
                    );
                }
                format!("{}\n", serde_json::Value::Object(map)).into_bytes()
            }
            format => {
                let shell = format.shell().unwrap_or(Shell::Bash);
                let size: usize = diff
                    .iter()
                    .map(|c| match c {
                        Change::Added(n, v) | Change::Changed(n, v) => n.len() + v.len() + 16,
                        Change::Removed(n) => n.len() + 8,
                    })
                    .sum();
                let mut script = Script::with_capacity(shell, size + encoded.len() + 1024)
                    .raw_bytes(crate::shells::tcsh_reads_bytes());
                for c in diff {
                    match c {
                        Change::Added(n, v) | Change::Changed(n, v) => {
                            if let Err(why) = script.set(n, v.as_bytes()) {
                                refused.push(format!("cannot give {n} to {}: {why}", shell.name()));
                            }
                        }
                        Change::Removed(n) => script.unset(n),
                    }
                }
                for name in &shell_changes.remove {
                    script.unalias(name);
                }
                for (name, argv) in &shell_changes.define {
                    if let Err(why) = script.alias(name, argv) {
                        refused.push(format!(
                            "cannot give the alias {name} to {}: {why}",
                            shell.name()
                        ));
                    }
                }
                if state_changed && let Err(why) = script.set(STATE_VAR, encoded.as_bytes()) {
                    refused.push(format!(
                        "cannot give {STATE_VAR} to {}: {why}",
                        shell.name()
                    ));
                }
                // Last, so that the user's functions see the environment as strata left it.
                for (kind, args) in &shell_changes.events {
                    if let Err(why) = script.event(kind, args) {
                        refused.push(format!("cannot tell {} of {kind}: {why}", shell.name()));
                    }
                }
                if self.hook {
                    sync_vars(&mut script, state, Some(self.dirs), self.stamp);
                }
                let out = script.finish();
                if let Err(e) = deliver(shell, self.hook, self.stamp, &out) {
                    refused.push(e);
                }
                Vec::new()
            }
        };
        let _ = std::io::stdout().write_all(&out);
        let mut messages = self.messages;
        messages.extend(refused);
        print_messages(&messages);
    }
}

/// What an export changes in the shell that asked besides its environment: aliases, and the
/// events its `strata_on_*` functions are called for.
#[derive(Debug, Default)]
struct ShellChanges {
    /// `(kind, arguments)`: `leave DIR CONTEXT EVENT…`, `context NEW OLD`, `enter DIR CONTEXT
    /// EVENT…`, in that order.
    events: Vec<(&'static str, Vec<OsString>)>,
    /// Aliases strata defined there that the target no longer has.
    remove: Vec<String>,
    /// Aliases to define, or to redefine with other words.
    define: Vec<(String, Vec<String>)>,
}

/// The events from the shell's last state `old` to the project, context and events now.
fn events_between(
    old: &State,
    project: Option<&OsString>,
    context: &str,
    events: &[String],
) -> Vec<(&'static str, Vec<OsString>)> {
    let mut out = Vec::new();
    let with = |dir: &OsString, ctx: &str, evs: &[String]| {
        let mut args = vec![dir.clone(), OsString::from(ctx)];
        args.extend(evs.iter().map(OsString::from));
        args
    };
    let moved = old.project.as_ref() != project;
    if moved && let Some(dir) = &old.project {
        out.push(("leave", with(dir, &old.prompt.context, &old.events)));
    }
    if old.prompt.context != context {
        out.push((
            "context",
            vec![OsString::from(context), OsString::from(&old.prompt.context)],
        ));
    }
    if moved && let Some(dir) = project {
        out.push(("enter", with(dir, context, events)));
    }
    out
}

fn print_messages(messages: &[String]) {
    crate::display::say_all(messages);
}

/// At most this many warnings are shown at one prompt; the rest are counted.
const MAX_WARNINGS: usize = 5;

/// `warnings`, the first few of them and a count of the rest: 200 untrusted files in the
/// directories above are one problem, not 200 lines at every prompt.
fn condensed(warnings: &[String]) -> Vec<String> {
    if warnings.len() <= MAX_WARNINGS + 1 {
        return warnings.to_vec();
    }
    let mut out = warnings[..MAX_WARNINGS].to_vec();
    out.push(format!(
        "… and {} more warnings (strata status lists every file)",
        warnings.len() - MAX_WARNINGS
    ));
    out
}
