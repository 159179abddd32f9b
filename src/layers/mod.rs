//! The layer stack: find every file that applies at a directory, check trust, parse, and
//! merge them into the target environment, remembering where every value came from.
//!
//! Order, lowest first: system, global, the active context, then every directory from the
//! filesystem root down to the cwd (each `.strata.toml` followed by its `.strata.local.toml`),
//! stopping above a trusted file with `root = true`, then the session. Within one file,
//! `[dotenv]` files load before `[env]`, and a directory file's `[contexts.NAME.env]` after it
//! while NAME is active.
//! This module reads files but never prints: warnings are returned for the caller to show.

pub mod dotenv;
pub mod file;
pub mod interp;
mod watch;

pub use watch::{Watch, relative};

use anyhow::{Result, anyhow, bail};
use rustc_hash::FxHashMap as HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::display::tilde;
use crate::env_diff::{Env, ListEdit, Target};
use crate::files::{self, Own};
use crate::settings::{Origin, Settings, expand_home};
use crate::store::Dirs;
use crate::store::contexts::{self, validate_name};
use crate::store::sessions::{self, Session};
use crate::store::trust::{self, Standing};
use file::{EnvEntry, Kind, LayerFile, Pos};
use interp::{InterpError, interpolate};

/// Names of the directory files, in the order they apply within one directory.
pub const DIR_FILES: [&str; 2] = [".strata.toml", ".strata.local.toml"];

/// What to evaluate.
pub struct Request<'a> {
    /// strata's directories.
    pub dirs: &'a Dirs,
    /// The directory to evaluate at (absolute, not necessarily canonical).
    pub cwd: &'a Path,
    /// The environment without strata's changes.
    pub base: &'a Env,
    /// `-c key=value` flags.
    pub flags: &'a [String],
    /// `--strict`: an untrusted file is an error.
    pub strict: bool,
    /// Validation for `allow` and `edit`: evaluate as if this file had these bytes and were
    /// trusted, exactly as the hook would (an unknown `${VAR}` is an error here as there).
    pub candidate: Option<Candidate<'a>>,
    /// `--context NAME`.
    pub context_flag: Option<&'a str>,
    /// `STRATA_CONTEXT`, when set and not empty.
    pub context_env: Option<&'a str>,
    /// The session id (`--session` or `STRATA_SESSION`), when there is one.
    pub session: Option<&'a str>,
}

/// A directory file under review: where it applies (its trust key) and the exact bytes that
/// would be trusted, which need not be on disk yet.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The trust key ([`crate::store::trust::key_of`]).
    pub key: &'a Path,
    /// The content to evaluate in place of the file's.
    pub bytes: &'a [u8],
}

/// What chose the active context, highest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextSource {
    /// `--context NAME`.
    Flag,
    /// `STRATA_CONTEXT`.
    Env,
    /// `strata context use --session`.
    Session,
    /// A `context` setting, in a file (usually a directory's) or a `-c` flag.
    Setting(Origin),
    /// The global selection, `strata context use`.
    Global,
}

impl std::fmt::Display for ContextSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContextSource::Flag => f.write_str("--context flag"),
            ContextSource::Env => f.write_str("STRATA_CONTEXT"),
            ContextSource::Session => f.write_str("this session (strata context use --session)"),
            ContextSource::Setting(o) => write!(f, "context setting at {o}"),
            ContextSource::Global => f.write_str("global selection (strata context use)"),
        }
    }
}

/// The active context.
#[derive(Debug, Clone)]
pub struct ActiveContext {
    /// Its name.
    pub name: String,
    /// What chose it.
    pub source: ContextSource,
    /// Its prompt colour.
    pub color: Option<String>,
}

/// How a file found during discovery was treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// Parsed and applied.
    Applied,
    /// Skipped: never allowed, or edited since.
    Untrusted,
    /// Skipped: denied.
    Denied,
    /// Skipped: a directory above a `root = true` file.
    AboveRoot,
    /// Skipped: not a regular file, too large, or unreadable.
    Unreadable,
}

/// One file that exists and was considered.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Its layer.
    pub kind: Kind,
    /// What happened to it.
    pub state: FileState,
}

/// What one file did to one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Set to this value (from `[env]`).
    Set(OsString),
    /// Set to this value by a dotenv file.
    Dotenv(OsString),
    /// Unset (`false`).
    Unset,
    /// Set to this value by `strata set` (the session layer).
    Session(OsString),
    /// Entry put in front of the list.
    Prepend(OsString),
    /// Entry put at the back of the list.
    Append(OsString),
}

/// One step of provenance, for `strata why`.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Variable name.
    pub var: String,
    /// The file that did it.
    pub path: Rc<Path>,
    /// Where in that file.
    pub pos: Pos,
    /// What it did.
    pub action: Action,
}

/// The result of evaluating the layer stack at one directory.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// What strata should set, relative to the base environment.
    pub target: Target,
    /// Every existing file considered, lowest layer first.
    pub files: Vec<FileReport>,
    /// Every assignment in the order applied.
    pub assignments: Vec<Assignment>,
    /// Lines to show the user (untrusted files, missing dotenv files).
    pub warnings: Vec<String>,
    /// Resolved settings.
    pub settings: Settings,
    /// The innermost directory with a directory file.
    pub nearest: Option<PathBuf>,
    /// The active context, if any.
    pub context: Option<ActiveContext>,
    /// The earliest time (unix seconds) a session value expires, when one will.
    pub deadline: Option<i64>,
}

/// Settings from the system and global files, the environment and flags only: what commands
/// that never look at directory files (allow, trust list) need, e.g. the lock policy.
pub fn base_settings(dirs: &Dirs, flags: &[String]) -> Result<Settings> {
    let mut settings = Settings::default();
    user_layers(dirs, &mut Watch::default(), &mut settings, &mut Vec::new())?;
    settings.apply_env()?;
    settings.apply_flags(flags)?;
    Ok(settings)
}

/// The system and global config: read (both are the user's or the admin's own, so any
/// problem reading them is an error) and applied to `settings`.
fn user_layers(
    dirs: &Dirs,
    watch: &mut Watch,
    settings: &mut Settings,
    reports: &mut Vec<FileReport>,
) -> Result<Vec<LayerFile>> {
    let mut layers = Vec::new();
    for (path, kind, own) in [
        (&dirs.system_config, Kind::System, Own::Any),
        (&dirs.global_config(), Kind::Global, Own::Mine),
    ] {
        let bytes = watch
            .read(path, files::LAYER_CAP, own)
            .map_err(|p| anyhow!(p.message(path)))?;
        if let Some(bytes) = bytes {
            let f = file::parse(path, kind, &bytes)?;
            settings.apply_file(kind, path, &f.settings)?;
            reports.push(FileReport {
                path: path.clone(),
                kind,
                state: FileState::Applied,
            });
            layers.push(f);
        }
    }
    Ok(layers)
}

/// Canonical paths of the directories up a chain, sharing the work: a directory's canonical
/// path is its parent's plus its name unless it is a symlink (one `lstat`), where `realpath`
/// would `readlink` every component again (310 calls at depth 20). When the cwd is the
/// physical one (`getcwd` gives the same path), each of its ancestors is already canonical
/// and costs nothing.
struct Canonical<'a> {
    /// The physical cwd, if the cwd is one.
    physical: Option<&'a Path>,
    dirs: rustc_hash::FxHashMap<PathBuf, PathBuf>,
}

/// Whether `dir` is `path` or one of its ancestors, by the bytes (both absolute and plain).
fn is_ancestor(dir: &Path, path: &Path) -> bool {
    let (d, p) = (dir.as_os_str().as_bytes(), path.as_os_str().as_bytes());
    d == b"/" || (p.starts_with(d) && matches!(p.get(d.len()), None | Some(b'/')))
}

impl<'a> Canonical<'a> {
    fn new(physical: Option<&'a Path>) -> Canonical<'a> {
        Canonical {
            physical,
            dirs: Default::default(),
        }
    }

    fn dir(&mut self, dir: &Path) -> std::io::Result<PathBuf> {
        if let Some(c) = self.dirs.get(dir) {
            return Ok(c.clone());
        }
        if self.physical.is_some_and(|cwd| is_ancestor(dir, cwd)) {
            return Ok(dir.to_path_buf());
        }
        let simple = dir.is_absolute()
            && dir.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::RootDir | std::path::Component::Normal(_)
                )
            });
        let resolved = match (simple, dir.parent(), dir.file_name()) {
            (true, Some(parent), Some(name)) => {
                let candidate = self.dir(parent)?.join(name);
                if std::fs::symlink_metadata(&candidate)?
                    .file_type()
                    .is_symlink()
                {
                    std::fs::canonicalize(&candidate)?
                } else {
                    candidate
                }
            }
            (true, None, _) => dir.to_path_buf(),
            _ => std::fs::canonicalize(dir)?,
        };
        self.dirs.insert(dir.to_path_buf(), resolved.clone());
        Ok(resolved)
    }
}

/// The message for a skipped directory file, with the command that allows it, which pastes as
/// it is in `cwd` (the path in it is relative to `cwd` when that is shorter).
pub fn untrusted_message(path: &Path, state: FileState, cwd: &Path) -> String {
    let shown = tilde(path);
    let arg = match relative(cwd, path) {
        Some(r) if r.as_os_str().len() < shown.len() => {
            crate::display::escape_bytes(r.as_os_str().as_bytes())
        }
        _ => shown,
    };
    let allow = crate::display::command(&["strata", "allow", &arg]);
    match state {
        FileState::Denied => format!(
            "{} is denied — it stays blocked until you run: {allow}",
            tilde(path)
        ),
        _ => format!(
            "{} is not allowed — review it, then run: {allow}",
            tilde(path)
        ),
    }
}

/// The process's working directory as `getcwd` gives it, asked once (strata never changes
/// directory).
pub fn physical_cwd() -> Option<&'static Path> {
    static CWD: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    CWD.get_or_init(|| std::env::current_dir().ok()).as_deref()
}

/// The directory files found from the cwd up, innermost directory first while discovering.
struct Discovered {
    /// Trusted files, parsed, with their reports; outermost first once done.
    found: Vec<(LayerFile, FileReport)>,
    /// Files that exist but were skipped.
    skipped: Vec<FileReport>,
    /// The innermost directory with a directory file.
    nearest: Option<PathBuf>,
    warnings: Vec<String>,
}

/// Walk from the cwd to the root (or a trusted `root = true`), reading every directory file
/// and keeping those that are trusted. `trusting` holds the settings trust decisions may use:
/// only the user's own files and flags set them.
fn discover(req: &Request<'_>, trusting: &Settings, watch: &mut Watch) -> Result<Discovered> {
    let mut out = Discovered {
        found: Vec::new(),
        skipped: Vec::new(),
        nearest: None,
        warnings: Vec::new(),
    };
    let physical = physical_cwd() == Some(req.cwd);
    let mut canon = Canonical::new(physical.then_some(req.cwd));
    watch.set_near(physical.then(|| req.cwd.to_path_buf()));
    // Opened when first needed: most directories have no file and no record.
    let mut opened: Option<trust::TrustStore> = None;
    for dir in req.cwd.ancestors() {
        let mut stop = false;
        let mut here: Vec<(LayerFile, FileReport)> = Vec::new();
        for (name, kind) in DIR_FILES.iter().zip([Kind::Dir, Kind::DirLocal]) {
            let path = dir.join(name);
            let read = watch.read(&path, trusting.layer_limit, Own::Any);
            // The file under review is evaluated with the bytes given, on disk or not.
            let candidate = req.candidate.filter(|c| {
                c.key.file_name() == Some(OsStr::new(name))
                    && canon
                        .dir(dir)
                        .is_ok_and(|d| c.key.parent() == Some(d.as_path()))
            });
            let bytes = match (read, candidate) {
                (_, Some(c)) => c.bytes.to_vec(),
                (Ok(Some(bytes)), None) => bytes,
                (Ok(None), None) => {
                    // A file that appears here later changes the environment only if it is
                    // trusted on arrival: a decision recorded for its path, or a trust.paths
                    // prefix. Only then is the place watched (and always in the cwd itself, so
                    // a new file there is reported at once). Anything else shows at the next
                    // change.
                    if dir != req.cwd {
                        let may_apply = match canon.dir(dir) {
                            Ok(d) => {
                                let c = d.join(name);
                                trusting.trust_paths.iter().any(|p| c.starts_with(p))
                                    || open_store(&mut opened, req.dirs)?.may_have(&c)
                            }
                            Err(_) => true,
                        };
                        if !may_apply {
                            watch.pop();
                        }
                    }
                    continue;
                }
                (Err(problem), None) => {
                    // Anyone may put anything under this name in a directory above: skip it,
                    // once, and go on with the files that can apply.
                    out.nearest.get_or_insert_with(|| dir.to_path_buf());
                    out.warnings.push(format!(
                        "{}; skipped (remove or rename it)",
                        problem.message(&path)
                    ));
                    out.skipped.push(FileReport {
                        path,
                        kind,
                        state: FileState::Unreadable,
                    });
                    continue;
                }
            };
            out.nearest.get_or_insert_with(|| dir.to_path_buf());
            let link = candidate.is_none() && watch.last_was_link();
            let base = canon
                .dir(dir)
                .map_err(|e| anyhow!("cannot resolve {}: {e}", tilde(dir)))?;
            // Trust belongs to the file where it applies: the canonical directory and the
            // file's own name, never the target of a symlink.
            let key = base.join(name);
            let target = if link {
                Some(
                    std::fs::canonicalize(&key)
                        .map_err(|e| anyhow!("cannot resolve {}: {e}", tilde(&path)))?,
                )
            } else {
                None
            };
            let standing = if candidate.is_some() {
                Standing::Trusted
            } else {
                open_store(&mut opened, req.dirs)?.standing(
                    &key,
                    target.as_deref(),
                    &bytes,
                    &trusting.trust_paths,
                )?
            };
            let state = match standing {
                Standing::Trusted => FileState::Applied,
                Standing::Untrusted => FileState::Untrusted,
                Standing::Denied => FileState::Denied,
            };
            let report = FileReport {
                path: path.clone(),
                kind,
                state,
            };
            if state != FileState::Applied {
                if req.strict {
                    bail!("{} (--strict)", untrusted_message(&path, state, req.cwd));
                }
                out.warnings.push(untrusted_message(&path, state, req.cwd));
                out.skipped.push(report);
                continue;
            }
            let mut f = file::parse(&path, kind, &bytes)?;
            f.set_dir(base);
            stop |= f.root;
            here.push((f, report));
        }
        out.found.extend(here.into_iter().rev());
        if stop {
            for above in dir.ancestors().skip(1) {
                for name in DIR_FILES {
                    let path = above.join(name);
                    if std::fs::symlink_metadata(&path).is_ok() {
                        out.skipped.push(FileReport {
                            path,
                            kind: Kind::Dir,
                            state: FileState::AboveRoot,
                        });
                    }
                }
            }
            break;
        }
    }
    out.found.reverse();
    out.skipped.reverse();
    Ok(out)
}

/// The trust store in `slot`, opened on first use.
fn open_store<'s>(
    slot: &'s mut Option<trust::TrustStore>,
    dirs: &Dirs,
) -> Result<&'s mut trust::TrustStore> {
    if slot.is_none() {
        *slot = Some(trust::TrustStore::open(dirs)?);
    }
    Ok(slot.as_mut().expect("opened above"))
}

/// The session's file, when a session is named and has one. The sessions directory and the
/// file must be the user's own: their values apply without review.
fn read_session(req: &Request<'_>) -> Result<Option<(PathBuf, Session)>> {
    let Some(id) = req.session else {
        return Ok(None);
    };
    validate_name("session", id)?;
    crate::store::check_if_present(&req.dirs.sessions_dir())?;
    let path = req.dirs.session_file(id);
    match files::read_mine(&path, files::LAYER_CAP)? {
        Some(bytes) => Ok(Some((path.clone(), Session::parse(&path, &bytes)?))),
        None => Ok(None),
    }
}

/// The active context and what chose it, highest first: `--context`, `STRATA_CONTEXT`, the
/// session's choice, a `context` setting (of a directory file, usually), the global selection.
pub fn choose_context(
    req: &Request<'_>,
    session: Option<&Session>,
    choosing: &Settings,
) -> Option<(String, ContextSource)> {
    if let Some(c) = req.context_flag {
        return Some((c.to_string(), ContextSource::Flag));
    }
    if let Some(c) = req.context_env {
        return Some((c.to_string(), ContextSource::Env));
    }
    if let Some(c) = session.and_then(|s| s.context.clone()) {
        return Some((c, ContextSource::Session));
    }
    if let Some(c) = choosing.context.clone() {
        let origin = choosing
            .origin("context")
            .cloned()
            .unwrap_or(Origin::Flag("-c context".into()));
        return Some((c, ContextSource::Setting(origin)));
    }
    contexts::current(req.dirs).map(|c| (c, ContextSource::Global))
}

/// Read the file of the chosen context.
fn read_context(
    req: &Request<'_>,
    name: &str,
    source: &ContextSource,
    watch: &mut Watch,
) -> Result<LayerFile> {
    validate_name("context", name).map_err(|e| anyhow!("{e} (from {source})"))?;
    crate::store::check_if_present(&req.dirs.contexts_dir())?;
    let path = req.dirs.context_file(name);
    let bytes = watch
        .read(&path, files::LAYER_CAP, Own::Mine)
        .map_err(|p| anyhow!(p.message(&path)))?;
    let Some(bytes) = bytes else {
        bail!(
            "context {name:?} does not exist (chosen by {source}); create it with: strata context create {name} (or see: strata context list)"
        );
    };
    file::parse(&path, Kind::Context, &bytes)
}

/// Evaluate the layer stack for `req`. Every path looked at (files that exist or could
/// appear) is pushed to `watch` as it is looked at, so that even after an error the caller
/// knows what to watch for the fix.
pub fn evaluate(req: &Request<'_>, watch: &mut Watch) -> Result<Evaluation> {
    for dir in [&req.dirs.config, &req.dirs.state, &req.dirs.data] {
        crate::store::check_if_present(dir)?;
    }
    // strata's own files (trust records, the session, the context selection) are not watched
    // one by one: every command that writes them touches the reload marker.
    watch.push(req.dirs.reload_marker());
    let mut settings = Settings::default();
    let mut reports: Vec<FileReport> = Vec::new();
    let mut layers = user_layers(req.dirs, watch, &mut settings, &mut reports)?;
    // Trust decisions need trust.paths, which only the user's own files and flags may set.
    let mut trusting = settings.clone();
    trusting.apply_flags(req.flags)?;

    let Discovered {
        found,
        skipped,
        nearest,
        mut warnings,
    } = discover(req, &trusting, watch)?;
    let dir_layers: Vec<LayerFile> = found.iter().map(|(f, _)| f.clone()).collect();
    reports.extend(found.into_iter().map(|(_, r)| r));
    reports.extend(skipped);

    // The session, then the context (which the session, or a directory, may choose).
    let now = sessions::now();
    let session = read_session(req)?;
    let mut choosing = settings.clone();
    for f in &dir_layers {
        warnings.extend(choosing.apply_file(f.kind, &f.path, &f.settings)?);
    }
    choosing.apply_flags(req.flags)?;
    let mut context = None;
    if let Some((name, source)) = choose_context(req, session.as_ref().map(|(_, s)| s), &choosing) {
        let f = read_context(req, &name, &source, watch)?;
        warnings.extend(settings.apply_file(Kind::Context, &f.path, &f.settings)?);
        reports.push(FileReport {
            path: f.path.clone(),
            kind: Kind::Context,
            state: FileState::Applied,
        });
        context = Some(ActiveContext {
            name,
            source,
            color: f.color.clone(),
        });
        layers.push(f);
    }
    for f in dir_layers {
        settings.apply_file(f.kind, &f.path, &f.settings)?;
        layers.push(f);
    }
    settings.apply_env()?;
    settings.apply_flags(req.flags)?;
    // A value that only flags may set keeps its flag origin even if a file set it later.
    if let Some(Origin::Flag(_)) = trusting.origin("trust.paths") {
        settings.trust_paths = trusting.trust_paths.clone();
    }

    let mut merge = Merge {
        env: req.base.clone(),
        assignments: Vec::new(),
        lists: Vec::new(),
        warnings: Vec::new(),
        validating: req.candidate.map(|c| c.key.to_path_buf()),
        dotenv_limit: settings.dotenv_limit,
        files: Vec::new(),
    };
    let active = context.as_ref().map(|c| c.name.as_str());
    for f in &layers {
        merge.layer(f, settings.dotenv_default, active, watch)?;
    }
    // Parsed files are done with: what follows reuses their memory instead of fresh pages.
    drop(layers);
    reports.append(&mut merge.files);
    let mut deadline = None;
    if let Some((path, s)) = &session {
        reports.push(FileReport {
            path: path.clone(),
            kind: Kind::Session,
            state: FileState::Applied,
        });
        let path: Rc<Path> = Rc::from(path.as_path());
        for (name, value) in s.values(now) {
            merge.assign(name, &path, Pos::default(), Action::Session(value));
        }
        // The session is the innermost layer: its entries go in front of every file's.
        for (var, prepend, append) in s.lists(now) {
            for (entries, front) in [(&prepend, true), (&append, false)] {
                for e in entries {
                    merge.assignments.push(Assignment {
                        var: var.clone(),
                        path: path.clone(),
                        pos: Pos::default(),
                        action: if front {
                            Action::Prepend(e.clone())
                        } else {
                            Action::Append(e.clone())
                        },
                    });
                }
            }
            merge.lists.push((var, prepend, append));
        }
        deadline = s.next_expiry(now);
    }
    let target = merge.target();
    warnings.append(&mut merge.warnings);
    watch.dedup();
    Ok(Evaluation {
        target,
        files: reports,
        assignments: merge.assignments,
        warnings,
        settings,
        nearest,
        context,
        deadline,
    })
}

/// The merge in progress: the environment resolved so far and what each file did.
struct Merge {
    env: Env,
    assignments: Vec<Assignment>,
    /// Per file, per list variable: (var, prepend, append), in application order.
    lists: Vec<(String, Vec<OsString>, Vec<OsString>)>,
    warnings: Vec<String>,
    /// `strata allow` is validating this file (its key): a dotenv file of it that cannot be
    /// read is an error, not a warning.
    validating: Option<PathBuf>,
    /// The largest dotenv file read (`limits.dotenv_file`).
    dotenv_limit: u64,
    /// The dotenv files read (or skipped), for the evaluation's report.
    files: Vec<FileReport>,
}

impl Merge {
    /// The target from everything merged: each variable's final value (or unset), and the
    /// list edits in order (prepends innermost layer first, appends outermost first).
    fn target(&mut self) -> Target {
        let mut target = Target::default();
        target.vars.reserve(self.assignments.len());
        for a in &self.assignments {
            if !matches!(a.action, Action::Prepend(_) | Action::Append(_))
                && !target.vars.contains_key(&a.var)
            {
                // Moved out: the merged environment is not needed after this.
                target
                    .vars
                    .insert(a.var.clone(), self.env.remove(OsStr::new(&a.var)));
            }
        }
        let mut lists: crate::env_diff::Ordered<ListEdit> = Default::default();
        for (var, prepend, _) in self.lists.iter().rev() {
            lists
                .entry(var.clone())
                .or_default()
                .prepend
                .extend(prepend.iter().cloned());
        }
        for (var, _, append) in &self.lists {
            lists
                .entry(var.clone())
                .or_default()
                .append
                .extend(append.iter().cloned());
        }
        target.lists = lists;
        target
    }

    /// Record one assignment by the file `path` (shared by all of that file's assignments).
    fn assign(&mut self, var: String, path: &Rc<Path>, pos: Pos, action: Action) {
        match &action {
            Action::Set(v) | Action::Dotenv(v) | Action::Session(v) => {
                self.env.insert(var.as_str().into(), v.clone());
            }
            Action::Unset => {
                self.env.remove(OsStr::new(&var));
            }
            Action::Prepend(_) | Action::Append(_) => {}
        }
        self.assignments.push(Assignment {
            var,
            path: path.clone(),
            pos,
            action,
        });
    }

    /// Resolve and apply one table of `[env]` entries, with forward references to later keys
    /// of the same table and cycle detection.
    fn env_entries(
        &mut self,
        f: &LayerFile,
        path: &Rc<Path>,
        entries: &[EnvEntry],
        dir: &Path,
    ) -> Result<()> {
        let mut resolver = Resolver {
            path: &f.path,
            entries,
            env: &self.env,
            dir,
            index: entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.name.as_str(), i))
                .collect(),
            done: vec![None; entries.len()],
            stack: Vec::new(),
        };
        for i in 0..entries.len() {
            resolver.resolve(i)?;
        }
        let values: Vec<Option<OsString>> = resolver
            .done
            .into_iter()
            .map(|v| v.expect("every key resolved"))
            .collect();
        for (e, v) in entries.iter().zip(values) {
            let action = match v {
                Some(v) => Action::Set(v),
                None => Action::Unset,
            };
            self.assign(e.name.clone(), path, e.pos, action);
        }
        Ok(())
    }

    fn layer(
        &mut self,
        f: &LayerFile,
        dotenv_default: bool,
        active_context: Option<&str>,
        watch: &mut Watch,
    ) -> Result<()> {
        let dir = f.dir().to_path_buf();
        let shared: Rc<Path> = Rc::from(f.path.as_path());
        // dotenv files first; [env] of the same file wins over them.
        // (path, where it is listed, warn when missing)
        let mut dotenvs: Vec<(String, Pos, bool)> = f
            .dotenv
            .iter()
            .map(|e| (e.path.text.clone(), e.path.pos, !e.optional))
            .collect();
        if dotenv_default && f.kind.is_dir() && !dotenvs.iter().any(|(t, _, _)| t == ".env") {
            dotenvs.push((".env".into(), Pos::default(), false));
        }
        let validating = self
            .validating
            .as_deref()
            .is_some_and(|key| f.path.file_name().is_some_and(|n| f.dir().join(n) == key));
        for (text, pos, listed) in dotenvs {
            let path = resolve_path(&dir, OsStr::new(&text));
            let bytes = match watch.read(&path, self.dotenv_limit, Own::Any) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    if listed {
                        self.warnings.push(format!(
                            "{}:{}: dotenv file {} not found (skipped)",
                            tilde(&f.path),
                            pos.line,
                            tilde(&path)
                        ));
                    }
                    continue;
                }
                Err(problem) if validating => {
                    bail!(
                        "{}:{}: dotenv file: {}",
                        tilde(&f.path),
                        pos.line,
                        problem.message(&path)
                    )
                }
                Err(problem) => {
                    self.warnings.push(format!(
                        "{}:{}: dotenv file: {}; skipped",
                        tilde(&f.path),
                        pos.line,
                        problem.message(&path)
                    ));
                    self.files.push(FileReport {
                        path,
                        kind: Kind::Dotenv,
                        state: FileState::Unreadable,
                    });
                    continue;
                }
            };
            self.files.push(FileReport {
                path: path.clone(),
                kind: Kind::Dotenv,
                state: FileState::Applied,
            });
            let env = &self.env;
            let assigned = dotenv::parse(&path, &bytes, &|n| env.get(OsStr::new(n)).cloned())?;
            let path: Rc<Path> = Rc::from(path);
            for a in assigned {
                file::check_settable(&a.name)
                    .map_err(|msg| anyhow!("{}:{}: {msg}", tilde(&path), a.line))?;
                if file::runs_code(&a.name) {
                    self.warnings.push(format!(
                        "{}:{}: {} is not taken from a dotenv file: it makes the shell or the loader run code, and strata allow does not review dotenv files (set it in [env] or [path] of {} if you mean it)",
                        tilde(&path),
                        a.line,
                        a.name,
                        tilde(&f.path)
                    ));
                    continue;
                }
                let pos = Pos {
                    line: a.line,
                    col: 1,
                };
                self.assign(a.name, &path, pos, Action::Dotenv(a.value));
            }
        }
        // [env], then the section of the active context.
        self.env_entries(f, &shared, &f.env, &dir)?;
        if let Some(name) = active_context
            && let Some((_, entries)) = f.contexts.iter().find(|(n, _)| n == name)
        {
            self.env_entries(f, &shared, entries, &dir)?;
        }
        // List edits.
        for edits in &f.lists {
            let mut prepend = Vec::new();
            let mut append = Vec::new();
            for (entries, out, front) in [
                (&edits.prepend, &mut prepend, true),
                (&edits.append, &mut append, false),
            ] {
                for e in entries {
                    let env = &self.env;
                    let text = interpolate(&e.text, &mut |n| {
                        Ok(if n == "STRATA_DIR" {
                            Some(dir.clone().into_os_string())
                        } else {
                            env.get(OsStr::new(n)).cloned()
                        })
                    })
                    .map_err(|err| {
                        anyhow!("{}:{}:{}: {err}", tilde(&f.path), e.pos.line, e.pos.col)
                    })?;
                    if text.as_bytes().contains(&b':') {
                        bail!(
                            "{}:{}:{}: a {} entry cannot contain ':' (write one entry per string)",
                            tilde(&f.path),
                            e.pos.line,
                            e.pos.col,
                            edits.var
                        );
                    }
                    let entry = resolve_path(&dir, &text).into_os_string();
                    out.push(entry.clone());
                    let action = if front {
                        Action::Prepend(entry)
                    } else {
                        Action::Append(entry)
                    };
                    self.assignments.push(Assignment {
                        var: edits.var.clone(),
                        path: shared.clone(),
                        pos: e.pos,
                        action,
                    });
                }
            }
            self.lists.push((edits.var.clone(), prepend, append));
        }
        Ok(())
    }
}

/// A path entry relative to a file's directory; `~/` means the home directory.
fn resolve_path(dir: &Path, text: &OsStr) -> PathBuf {
    let s = text.as_bytes();
    if s.starts_with(b"~/") || s == b"~" {
        return expand_home(&text.to_string_lossy());
    }
    let p = Path::new(text);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// Resolves one file's `[env]` keys, following references to other keys of the same file.
struct Resolver<'a> {
    path: &'a Path,
    entries: &'a [EnvEntry],
    env: &'a Env,
    dir: &'a Path,
    index: HashMap<&'a str, usize>,
    done: Vec<Option<Option<OsString>>>,
    stack: Vec<usize>,
}

impl Resolver<'_> {
    fn resolve(&mut self, i: usize) -> Result<Option<OsString>> {
        if let Some(v) = &self.done[i] {
            return Ok(v.clone());
        }
        let entry: &EnvEntry = &self.entries[i];
        if let Some(at) = self.stack.iter().position(|&j| j == i) {
            let mut chain: Vec<&str> = self.stack[at..]
                .iter()
                .map(|&j| self.entries[j].name.as_str())
                .collect();
            chain.push(&entry.name);
            let first = &self.entries[self.stack[at]];
            bail!(
                "{}:{}:{}: interpolation cycle: {} (break it with a literal value or ${{VAR:-default}})",
                tilde(self.path),
                first.pos.line,
                first.pos.col,
                chain.join(" → ")
            );
        }
        let Some(text) = entry.value.clone() else {
            self.done[i] = Some(None);
            return Ok(None);
        };
        self.stack.push(i);
        let mut failure: Option<anyhow::Error> = None;
        let result = interpolate(&text, &mut |name| {
            if name == "STRATA_DIR" {
                return Ok(Some(self.dir.as_os_str().to_owned()));
            }
            if name != entry.name
                && let Some(&j) = self.index.get(name)
            {
                return match self.resolve(j) {
                    Ok(v) => Ok(v),
                    Err(e) => {
                        let msg = e.to_string();
                        failure = Some(e);
                        Err(InterpError::Lookup(msg))
                    }
                };
            }
            Ok(self.env.get(OsStr::new(name)).cloned())
        });
        self.stack.pop();
        let value = match (result, failure) {
            (_, Some(e)) => return Err(e),
            (Ok(v), None) => v,
            (Err(e), None) => bail!(
                "{}:{}:{}: {}: {e}",
                tilde(self.path),
                entry.pos.line,
                entry.pos.col,
                entry.name
            ),
        };
        self.done[i] = Some(Some(value.clone()));
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    struct W {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        dirs: Dirs,
    }

    impl W {
        fn new() -> W {
            let tmp = tempfile::tempdir().unwrap();
            let root = fs::canonicalize(tmp.path()).unwrap();
            let dirs = Dirs::under(&root);
            W {
                _tmp: tmp,
                root,
                dirs,
            }
        }
        fn file(&self, rel: &str, body: &str) -> PathBuf {
            let p = self.root.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, body).unwrap();
            p
        }
        fn allow(&self, rel: &str) {
            let p = self.root.join(rel);
            let c = fs::canonicalize(&p).unwrap();
            let h = trust::sha256_hex(&fs::read(&p).unwrap());
            trust::record(
                &self.dirs,
                &c,
                &trust::Decision::Allow(h),
                None,
                Default::default(),
            )
            .unwrap();
        }
        fn eval(&self, rel: &str, base: &[(&str, &str)]) -> Result<Evaluation> {
            let cwd = self.root.join(rel);
            fs::create_dir_all(&cwd).unwrap();
            let base: Env = base
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            evaluate(
                &Request {
                    dirs: &self.dirs,
                    cwd: &cwd,
                    base: &base,
                    flags: &[],
                    strict: false,
                    candidate: None,
                    context_flag: None,
                    context_env: None,
                    session: None,
                },
                &mut Watch::default(),
            )
        }
    }

    fn var(e: &Evaluation, name: &str) -> Option<String> {
        e.target
            .vars
            .get(name)
            .cloned()
            .flatten()
            .map(|v| v.into_string().unwrap())
    }

    #[test]
    fn shared_canonicalisation_matches_realpath() {
        let w = W::new();
        w.file("real/deep/x/.strata.toml", "");
        std::os::unix::fs::symlink(w.root.join("real/deep"), w.root.join("link")).unwrap();
        let mut c = Canonical::new(None);
        for p in [
            w.root.join("link/x"),
            w.root.join("real/deep/x"),
            w.root.join("link"),
            w.root.join("real/deep/../deep/x"),
        ] {
            assert_eq!(
                c.dir(&p).unwrap(),
                fs::canonicalize(&p).unwrap(),
                "{}",
                p.display()
            );
        }
    }

    #[test]
    fn nested_layers_merge_outer_first() {
        let w = W::new();
        w.file(
            "a/.strata.toml",
            "[env]\nA = \"outer\"\nB = \"outer\"\n[path]\nprepend = [\"bin\"]\n",
        );
        w.file(
            "a/b/.strata.toml",
            "[env]\nB = \"inner ${A}\"\n[path]\nprepend = [\"bin\"]\nappend = [\"/z\"]\n",
        );
        w.file("a/b/.strata.local.toml", "[env]\nC = \"${B}!\"\n");
        for f in [
            "a/.strata.toml",
            "a/b/.strata.toml",
            "a/b/.strata.local.toml",
        ] {
            w.allow(f);
        }
        let e = w.eval("a/b/c", &[]).unwrap();
        assert_eq!(var(&e, "A").as_deref(), Some("outer"));
        assert_eq!(var(&e, "B").as_deref(), Some("inner outer"));
        assert_eq!(var(&e, "C").as_deref(), Some("inner outer!"));
        let path = &e.target.lists["PATH"];
        let inner = w.root.join("a/b/bin").into_os_string();
        let outer = w.root.join("a/bin").into_os_string();
        assert_eq!(path.prepend, [inner, outer]);
        assert_eq!(path.append, [OsString::from("/z")]);
        assert_eq!(e.nearest.as_deref(), Some(w.root.join("a/b").as_path()));
    }

    #[test]
    fn root_stops_inheritance_and_untrusted_is_skipped() {
        let w = W::new();
        w.file("a/.strata.toml", "[env]\nA = \"outer\"\n");
        w.file("a/b/.strata.toml", "root = true\n[env]\nB = \"b\"\n");
        w.file("a/b/c/.strata.toml", "[env]\nC = \"c\"\n");
        w.allow("a/.strata.toml");
        w.allow("a/b/.strata.toml");
        let e = w.eval("a/b/c", &[]).unwrap();
        assert_eq!(var(&e, "A"), None);
        assert_eq!(var(&e, "B").as_deref(), Some("b"));
        assert_eq!(var(&e, "C"), None);
        assert_eq!(e.warnings.len(), 1);
        assert!(e.warnings[0].contains("is not allowed"), "{:?}", e.warnings);
    }

    #[test]
    fn interpolation_sees_shell_env_self_and_forward_keys() {
        let w = W::new();
        w.file(
            "p/.strata.toml",
            "[env]\nX = \"${X}:more\"\nY = \"${Z}/y\"\nZ = \"${STRATA_DIR}\"\nD = \"$${NOPE:-lit}\"\nU = false\n",
        );
        w.allow("p/.strata.toml");
        let e = w.eval("p", &[("X", "base"), ("U", "u")]).unwrap();
        assert_eq!(var(&e, "X").as_deref(), Some("base:more"));
        let dir = w.root.join("p").display().to_string();
        assert_eq!(var(&e, "Y"), Some(format!("{dir}/y")));
        assert_eq!(var(&e, "D").as_deref(), Some("${NOPE:-lit}"));
        assert_eq!(e.target.vars.get("U"), Some(&None));
    }

    #[test]
    fn cycles_and_unknowns_name_file_and_line() {
        let w = W::new();
        w.file("p/.strata.toml", "[env]\nA = \"${B}\"\nB = \"${A}\"\n");
        w.allow("p/.strata.toml");
        let err = w.eval("p", &[]).unwrap_err().to_string();
        assert!(
            err.contains(".strata.toml:2:1: interpolation cycle: A → B → A"),
            "{err}"
        );
        w.file("q/.strata.toml", "[env]\nA = \"ok\"\nB = \"x${NOPE}\"\n");
        w.allow("q/.strata.toml");
        let err = w.eval("q", &[]).unwrap_err().to_string();
        assert!(
            err.contains(".strata.toml:3:1: B: unknown variable NOPE"),
            "{err}"
        );
    }

    #[test]
    fn dotenv_loads_before_env_and_env_wins() {
        let w = W::new();
        w.file("p/.env", "A=from-dotenv\nB=\"two\nlines\"\n");
        w.file(
            "p/.strata.toml",
            "[dotenv]\nfiles = [\".env\", \"missing.env\"]\n[env]\nA = \"env ${B}\"\n",
        );
        w.allow("p/.strata.toml");
        let e = w.eval("p", &[]).unwrap();
        assert_eq!(var(&e, "A").as_deref(), Some("env two\nlines"));
        assert_eq!(var(&e, "B").as_deref(), Some("two\nlines"));
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("missing.env not found")),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn global_and_system_layers_apply_under_directories() {
        let w = W::new();
        w.file("etc/config.toml", "[env]\nS = \"sys\"\nG = \"sys\"\n");
        w.file(
            "config/config.toml",
            "[env]\nG = \"global\"\n[settings]\ntrust.paths = [\"~/nowhere\"]\n",
        );
        w.file("p/.strata.toml", "[env]\nG = \"dir\"\n");
        let e = w.eval("p", &[]).unwrap();
        assert_eq!(var(&e, "S").as_deref(), Some("sys"));
        assert_eq!(
            var(&e, "G").as_deref(),
            Some("global"),
            "untrusted dir file is skipped"
        );
        w.file(
            "config/config.toml",
            &format!("[settings]\ntrust.paths = [\"{}\"]\n", w.root.display()),
        );
        let e = w.eval("p", &[]).unwrap();
        assert_eq!(
            var(&e, "G").as_deref(),
            Some("dir"),
            "trust.paths trusts without allow"
        );
    }

    #[test]
    fn strata_variables_cannot_be_set_by_dotenv() {
        let w = W::new();
        w.file("p/.env", "STRATA_TRUST_PATHS=/\n");
        w.file("p/.strata.toml", "[dotenv]\nfiles = [\".env\"]\n");
        w.allow("p/.strata.toml");
        let err = w.eval("p", &[]).unwrap_err().to_string();
        assert!(
            err.contains(
                ".env:1: STRATA_TRUST_PATHS is managed by the shell or by strata and cannot be set here"
            ),
            "{err}"
        );
        // Variables the shell owns are refused too, as in [env]: `export UID=…` fails in bash.
        w.file("q/.env", "A=1\nUID=5\n");
        w.file("q/.strata.toml", "[dotenv]\nfiles = [\".env\"]\n");
        w.allow("q/.strata.toml");
        let err = w.eval("q", &[]).unwrap_err().to_string();
        assert!(err.contains(".env:2: UID is managed by the shell"), "{err}");
    }
}
