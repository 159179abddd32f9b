//! The layer stack: find every file that applies at a directory, check trust, parse, and
//! merge them into the target environment, remembering where every value came from.
//!
//! Order, lowest first: system, global, the active context, then every directory from the
//! filesystem root down to the cwd (each `.strata.toml` followed by its `.strata.local.toml`),
//! stopping above a trusted file with `root = true`, then the session. Within one file,
//! `[dotenv]` files load before `[env]`, and a directory file's `[contexts.NAME.env]` after it
//! while NAME is active.
//! This module reads files but never prints: warnings are returned for the caller to show.

mod context;
mod discover;
pub mod dotenv;
pub mod file;
pub mod interp;
mod merge;
mod watch;

pub use context::{ActiveContext, ContextSource, choose_context};
pub use discover::{physical_cwd, untrusted_message};
pub use watch::{Watch, relative};

use anyhow::{Result, anyhow};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::env_diff::{Env, Target};
use crate::files::{self, Own};
use crate::names::validate_name;
use crate::settings::{Origin, Settings};
use crate::store::Dirs;
use crate::store::sessions::{Pause, Session};
use file::{Kind, LayerFile, Pos};

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
    /// Entry taken out of the list (`[path] remove`).
    Remove(OsString),
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

/// What one file said about one alias (`[aliases]`), for `why` and `status`.
#[derive(Debug, Clone)]
pub struct AliasStep {
    /// The alias name.
    pub name: String,
    /// The file that said it.
    pub path: Rc<Path>,
    /// Where in that file.
    pub pos: Pos,
    /// The words it runs; `None`: the file removed an alias of the layers below (`false`).
    pub argv: Option<Vec<String>>,
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
    /// The environment variables interpolation looked up, sorted, each once.
    pub env_reads: Vec<String>,
    /// Variables of the target whose value is secret: human-facing output masks them.
    pub secrets: BTreeSet<String>,
    /// Exec-only secrets, kept out of the target: `strata exec` adds them.
    pub exec_only: Vec<(String, OsString)>,
    /// The session holds a secret whose time is up, still in its keyring.
    pub stale_secrets: bool,
    /// Another tool's file in the cwd, which has no directory file of strata's.
    pub legacy: Option<Legacy>,
    /// `strata off` is in force for this session.
    pub paused: Option<Pause>,
    /// The aliases the shell gets, by name, and the words each runs.
    pub aliases: std::collections::BTreeMap<String, Vec<String>>,
    /// Every `[aliases]` key of the files applied, in the order applied.
    pub alias_steps: Vec<AliasStep>,
    /// The innermost directory whose directory file applied: the project the shell is in, for
    /// `strata_on_enter`/`strata_on_leave`.
    pub project: Option<PathBuf>,
    /// The `events` of the directory files applied, outer first, each once.
    pub events: Vec<String>,
}

/// A file of another tool that `strata import` translates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legacy {
    /// The file.
    pub path: PathBuf,
    /// What it is, for messages: "a direnv .envrc".
    pub what: &'static str,
    /// The command that translates it.
    pub import: Vec<String>,
}

/// The file of another tool in `cwd` that strata could import, when `cwd` has no directory file
/// of its own: a direnv `.envrc`, a `mise.toml` with `[env]`, else a bare `.env`. Every read is
/// bounded; the paths are watched, so the answer follows the files.
fn legacy(cwd: &Path, watch: &mut Watch) -> Option<Legacy> {
    if DIR_FILES
        .iter()
        .any(|n| std::fs::symlink_metadata(cwd.join(n)).is_ok())
    {
        return None;
    }
    let exists = |watch: &mut Watch, name: &str| {
        let p = cwd.join(name);
        watch.push(p.clone());
        std::fs::symlink_metadata(&p)
            .is_ok_and(|m| m.is_file())
            .then_some(p)
    };
    let found = |path: PathBuf, what, import: &[&str]| Legacy {
        path,
        what,
        import: import.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(p) = exists(watch, ".envrc") {
        return Some(found(p, "a direnv .envrc", &["strata", "import", "direnv"]));
    }
    for name in ["mise.toml", ".mise.toml"] {
        if let Some(p) = exists(watch, name) {
            let has_env = files::read(&p, files::LAYER_CAP, Own::Any)
                .ok()
                .flatten()
                .and_then(|c| String::from_utf8(c.bytes).ok())
                .and_then(|t| toml_edit::Document::parse(t).ok())
                .is_some_and(|d| d.get("env").is_some_and(|e| e.is_table_like()));
            if has_env {
                let mut cmd = vec!["strata", "import", "mise"];
                if name != "mise.toml" {
                    cmd.push(name);
                }
                return Some(found(p, "a mise.toml with [env]", &cmd));
            }
        }
    }
    exists(watch, ".env").map(|p| found(p, "a .env", &["strata", "import", "dotenv", ".env"]))
}

impl Evaluation {
    /// `name`'s value is secret here.
    pub fn is_secret(&self, name: &str) -> bool {
        self.secrets.contains(name)
    }
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

/// Evaluate the layer stack for `req`: the user's files, discovery, the session, the context,
/// the settings, then the merge. Every path looked at (files that exist or could appear) is
/// pushed to `watch` as it is looked at, so that even after an error the caller knows what to
/// watch for the fix.
pub fn evaluate(req: &Request<'_>, watch: &mut Watch) -> Result<Evaluation> {
    for dir in [&req.dirs.config, &req.dirs.state, &req.dirs.data] {
        crate::store::check_if_present(dir)?;
    }
    // strata's own files (trust records, the session, the context selection) are not watched
    // one by one: every command that writes them touches the reload marker.
    watch.push(req.dirs.reload_marker());
    let mut user = Settings::default();
    let mut reports: Vec<FileReport> = Vec::new();
    let mut layers = user_layers(req.dirs, watch, &mut user, &mut reports)?;
    // Trust decisions need trust.paths, which only the user's own files and flags may set.
    let mut trusting = user.clone();
    trusting.apply_flags(req.flags)?;
    let found = discover::discover(req, &trusting, watch)?;
    let mut warnings = found.warnings;
    let dir_layers: Vec<LayerFile> = found.found.iter().map(|(f, _)| f.clone()).collect();
    reports.extend(found.found.into_iter().map(|(_, r)| r));
    reports.extend(found.skipped);

    let session = read_session(req)?;
    let paused = session.as_ref().and_then(|(_, s)| s.paused);
    // Paused directory files are read (their trust and watch entries stay as they are) but
    // neither their settings nor their values apply.
    let dir_layers = if paused.is_some() {
        Vec::new()
    } else {
        dir_layers
    };
    let (context, settings) = {
        let chosen = context::choose(
            req,
            session.as_ref().map(|(_, s)| s),
            &user,
            &dir_layers,
            watch,
        )?;
        warnings.extend(chosen.warnings);
        let mut settings = user;
        if let Some((active, f)) = chosen.context {
            warnings.extend(settings.apply_file(Kind::Context, &f.path, &f.settings)?);
            reports.push(FileReport {
                path: f.path.clone(),
                kind: Kind::Context,
                state: FileState::Applied,
            });
            layers.push(f);
            (Some(active), settings)
        } else {
            (None, settings)
        }
    };
    let settings = finish_settings(settings, &dir_layers, req.flags, &trusting)?;
    layers.extend(dir_layers);

    let mut merge = merge::Merge::new(req, &settings);
    let active = context.as_ref().map(|c| c.name.as_str());
    if paused == Some(Pause::All) {
        layers.clear();
    }
    let mut alias_steps = Vec::new();
    let mut project = None;
    let mut events: Vec<String> = Vec::new();
    for f in &layers {
        if f.kind.is_dir() {
            project = f.path.parent().map(Path::to_path_buf);
            for e in &f.events {
                if !events.contains(e) {
                    events.push(e.clone());
                }
            }
        }
        merge.layer(f, settings.dotenv_default, active, watch)?;
        if !f.aliases.is_empty() {
            let path: Rc<Path> = Rc::from(f.path.as_path());
            alias_steps.extend(f.aliases.iter().map(|a| AliasStep {
                name: a.name.clone(),
                path: path.clone(),
                pos: a.pos,
                argv: a.argv.clone(),
            }));
        }
    }
    let mut aliases = std::collections::BTreeMap::new();
    for step in &alias_steps {
        match &step.argv {
            Some(argv) => aliases.insert(step.name.clone(), argv.clone()),
            None => aliases.remove(&step.name),
        };
    }
    // Parsed files are done with: what follows reuses their memory instead of fresh pages.
    drop(layers);
    // A context chosen with `--ttl` ends then: the state is stale from that moment, as it is
    // when a session value expires.
    let mut deadline = context.as_ref().and_then(|c| c.until);
    if let Some((path, s)) = session.as_ref().filter(|_| paused != Some(Pause::All)) {
        reports.push(FileReport {
            path: path.clone(),
            kind: Kind::Session,
            state: FileState::Applied,
        });
        deadline = earliest(deadline, merge.session(path, s));
    }
    let mut env_reads = std::mem::take(&mut merge.reads);
    env_reads.sort_unstable();
    env_reads.dedup();
    let finished = merge.finish();
    reports.append(&mut merge.files);
    warnings.append(&mut merge.warnings);
    watch.dedup();
    Ok(Evaluation {
        target: finished.target,
        files: reports,
        assignments: merge.assignments,
        warnings,
        settings,
        nearest: found.nearest,
        context,
        deadline,
        env_reads,
        secrets: finished.secrets,
        exec_only: finished.exec_only,
        stale_secrets: merge.stale_secrets,
        legacy: legacy(req.cwd, watch),
        paused,
        aliases,
        alias_steps,
        project,
        events,
    })
}

/// The earlier of two optional moments.
fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The settings in force: the user's files and the context (already in `settings`), then the
/// directory files, outer first, then `STRATA_*` variables, then flags.
fn finish_settings(
    mut settings: Settings,
    dir_layers: &[LayerFile],
    flags: &[String],
    trusting: &Settings,
) -> Result<Settings> {
    for f in dir_layers {
        settings.apply_file(f.kind, &f.path, &f.settings)?;
    }
    settings.apply_env()?;
    settings.apply_flags(flags)?;
    // A value that only flags may set keeps its flag origin even if a file set it later.
    if let Some(Origin::Flag(_)) = trusting.origin("trust.paths") {
        settings.trust_paths = trusting.trust_paths.clone();
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::trust;
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
