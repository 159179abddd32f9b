//! The merge: every layer's files applied in order to the environment resolved so far —
//! dotenv files, then `[env]` (with references between its keys resolved, cycles caught),
//! then the active context's section, then list edits — remembering what each file did, and
//! the target environment that results.

use anyhow::{Result, anyhow, bail};
use rustc_hash::FxHashMap as HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::file::{EnvEntry, Kind, LayerFile, ListEdits, Pos};
use super::interp::{InterpError, interpolate};
use super::{Action, Assignment, FileReport, FileState, Request, Watch, dotenv};
use crate::display::tilde;
use crate::env_diff::{Env, ListEdit, Target};
use crate::files::Own;
use crate::settings::Settings;
use crate::settings::expand_home;
use crate::store::sessions::Session;

/// The merge in progress: the environment resolved so far and what each file did.
pub(super) struct Merge {
    env: Env,
    pub assignments: Vec<Assignment>,
    /// Per file, per list variable: (var, prepend, append), in application order.
    lists: Vec<(String, Vec<OsString>, Vec<OsString>)>,
    pub warnings: Vec<String>,
    /// `strata allow` is validating this file (its key): a dotenv file of it that cannot be
    /// read is an error, not a warning.
    validating: Option<PathBuf>,
    /// The largest dotenv file read (`limits.dotenv_file`).
    dotenv_limit: u64,
    /// The dotenv files read (or skipped), for the evaluation's report.
    pub files: Vec<FileReport>,
    /// Every name interpolation looked up in the environment (`${HOME}`, a dotenv file's
    /// `$USER`), so that a cached result can be checked against the values it used.
    pub reads: Vec<String>,
}

impl Merge {
    /// A merge starting from the base environment of `req`.
    pub fn new(req: &Request<'_>, settings: &Settings) -> Merge {
        Merge {
            env: req.base.clone(),
            assignments: Vec::new(),
            lists: Vec::new(),
            warnings: Vec::new(),
            validating: req.candidate.map(|c| c.key.to_path_buf()),
            dotenv_limit: settings.dotenv_limit,
            files: Vec::new(),
            reads: Vec::new(),
        }
    }

    /// Apply the session, the innermost layer: its values, and its list entries in front of
    /// (and behind) every file's. Returns the earliest expiry of one of its values.
    pub fn session(&mut self, path: &Path, s: &Session) -> Option<i64> {
        let now = crate::clock::now();
        let path: Rc<Path> = Rc::from(path);
        for (name, value) in s.values(now) {
            self.assign(name, &path, Pos::default(), Action::Session(value));
        }
        for (var, prepend, append) in s.lists(now) {
            for (entries, front) in [(&prepend, true), (&append, false)] {
                for e in entries {
                    self.assignments.push(Assignment {
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
            self.lists.push((var, prepend, append));
        }
        s.next_expiry(now)
    }

    /// The target from everything merged: each variable's final value (or unset), and the
    /// list edits in order (prepends innermost layer first, appends outermost first).
    pub fn target(&mut self) -> Target {
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
            reads: &mut self.reads,
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

    /// Apply one layer file: its dotenv files, then `[env]`, then the active context's
    /// section, then its list edits.
    pub fn layer(
        &mut self,
        f: &LayerFile,
        dotenv_default: bool,
        active_context: Option<&str>,
        watch: &mut Watch,
    ) -> Result<()> {
        let shared: Rc<Path> = Rc::from(f.path.as_path());
        // dotenv files first; [env] of the same file wins over them.
        self.dotenv_files(f, dotenv_default, watch)?;
        self.env_entries(f, &shared, &f.env, f.dir())?;
        if let Some(name) = active_context
            && let Some((_, entries)) = f.contexts.iter().find(|(n, _)| n == name)
        {
            self.env_entries(f, &shared, entries, f.dir())?;
        }
        for edits in &f.lists {
            self.list_edits(f, &shared, edits)?;
        }
        Ok(())
    }

    /// The dotenv files `f` lists (and `.env` with `dotenv.default`), in order.
    fn dotenv_files(
        &mut self,
        f: &LayerFile,
        dotenv_default: bool,
        watch: &mut Watch,
    ) -> Result<()> {
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
            let path = resolve_path(f.dir(), OsStr::new(&text));
            let at = format!("{}:{}", tilde(&f.path), pos.line);
            let bytes = match watch.read(&path, self.dotenv_limit, Own::Any) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    if listed {
                        self.warnings.push(format!(
                            "{at}: dotenv file {} not found (skipped)",
                            tilde(&path)
                        ));
                    }
                    continue;
                }
                Err(problem) if validating => {
                    bail!("{at}: dotenv file: {}", problem.message(&path))
                }
                Err(problem) => {
                    self.warnings.push(format!(
                        "{at}: dotenv file: {}; skipped",
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
            self.dotenv(f, path, &bytes)?;
        }
        Ok(())
    }

    /// One dotenv file's assignments. Variables that make the shell or the loader run code are
    /// not taken from it (the content hash does not cover it), with a warning per line.
    fn dotenv(&mut self, f: &LayerFile, path: PathBuf, bytes: &[u8]) -> Result<()> {
        let env = &self.env;
        let reads = std::cell::RefCell::new(Vec::new());
        let assigned = dotenv::parse(&path, bytes, &|n| {
            reads.borrow_mut().push(n.to_string());
            env.get(OsStr::new(n)).cloned()
        })?;
        self.reads.append(&mut reads.into_inner());
        let path: Rc<Path> = Rc::from(path);
        for a in assigned {
            crate::names::check_settable(&a.name)
                .map_err(|msg| anyhow!("{}:{}: {msg}", tilde(&path), a.line))?;
            if crate::names::runs_code(&a.name) {
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
        Ok(())
    }

    /// One `[path]` or `[paths.NAME]` table: entries interpolated, resolved from the file's
    /// directory, and recorded in order.
    fn list_edits(&mut self, f: &LayerFile, shared: &Rc<Path>, edits: &ListEdits) -> Result<()> {
        let dir = f.dir();
        let mut prepend = Vec::new();
        let mut append = Vec::new();
        for (entries, out, front) in [
            (&edits.prepend, &mut prepend, true),
            (&edits.append, &mut append, false),
        ] {
            for e in entries {
                let at = format!("{}:{}:{}", tilde(&f.path), e.pos.line, e.pos.col);
                let env = &self.env;
                let reads = &mut self.reads;
                let text = interpolate(&e.text, &mut |n| {
                    Ok(if n == "STRATA_DIR" {
                        Some(dir.as_os_str().to_owned())
                    } else {
                        reads.push(n.to_string());
                        env.get(OsStr::new(n)).cloned()
                    })
                })
                .map_err(|err| anyhow!("{at}: {err}"))?;
                if text.as_bytes().contains(&b':') {
                    bail!(
                        "{at}: a {} entry cannot contain ':' (write one entry per string)",
                        edits.var
                    );
                }
                let entry = resolve_path(dir, &text).into_os_string();
                out.push(entry.clone());
                self.assignments.push(Assignment {
                    var: edits.var.clone(),
                    path: shared.clone(),
                    pos: e.pos,
                    action: if front {
                        Action::Prepend(entry)
                    } else {
                        Action::Append(entry)
                    },
                });
            }
        }
        self.lists.push((edits.var.clone(), prepend, append));
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
    reads: &'a mut Vec<String>,
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
            self.reads.push(name.to_string());
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
