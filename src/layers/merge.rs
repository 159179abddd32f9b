//! The merge: every layer's files applied in order to the environment resolved so far —
//! dotenv files, then `[env]` (with references between its keys resolved, cycles caught),
//! then the active context's section, then list edits — remembering what each file did, and
//! the target environment that results.
//!
//! It also keeps which values are secret: read from a keyring (`[secrets.keyring]`, the
//! session's secrets), decrypted from an age file, listed in `[secrets] mask`, or built from
//! one of those by interpolation. Human-facing output masks them; `[secrets] exec_only` ones
//! leave the target for `strata exec` alone.

use anyhow::{Result, anyhow, bail};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;
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
use crate::secrets::{self, Store, age::Identities};
use crate::settings::Settings;
use crate::settings::expand_home;
use crate::store::sessions::Session;

/// The merge in progress: the environment resolved so far and what each file did.
pub(super) struct Merge {
    env: Env,
    pub assignments: Vec<Assignment>,
    /// Per file, per list variable: its edits, in application order.
    lists: Vec<(String, ListEdit)>,
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
    /// Variables whose value so far is secret.
    secret: HashSet<String>,
    /// `[secrets] mask` of every file.
    mask: BTreeSet<String>,
    /// `[secrets] exec_only` of every file, and exec-only secrets of the session.
    exec_only: BTreeSet<String>,
    /// The age identities, read at the first encrypted file.
    identities: Option<Identities>,
    identity_files: Vec<PathBuf>,
    /// Names keyring entries apart (see [`secrets::install_id`]).
    install: String,
    /// The session has a secret whose time is up (its keyring entry is to be removed).
    pub stale_secrets: bool,
}

/// What the merge gives besides the target.
pub(super) struct Finished {
    pub target: Target,
    /// Variables of the target whose value is secret.
    pub secrets: BTreeSet<String>,
    /// Exec-only variables, out of the target, with their values.
    pub exec_only: Vec<(String, OsString)>,
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
            secret: HashSet::default(),
            mask: BTreeSet::new(),
            exec_only: BTreeSet::new(),
            identities: None,
            identity_files: secrets::age::identity_files(req.dirs, settings),
            install: secrets::install_id(&req.dirs.state),
            stale_secrets: false,
        }
    }

    /// Apply the session, the innermost layer: its values, and its list entries in front of
    /// (and behind) every file's. Returns the earliest expiry of one of its values.
    pub fn session(&mut self, path: &Path, s: &Session) -> Option<i64> {
        let now = crate::clock::now();
        let shared: Rc<Path> = Rc::from(path);
        for (name, value) in s.values(now) {
            self.assign(name, &shared, Pos::default(), Action::Session(value), false);
        }
        self.stale_secrets = s.has_expired_secret(now);
        let id = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        for r in s.secrets(now) {
            let scope = format!("session/{}", id.as_deref().unwrap_or_default());
            let at = format!("{} ({})", tilde(path), r.name);
            if let Some(v) = self.fetch(&at, &r.name, r.store, &scope) {
                if r.exec_only {
                    self.exec_only.insert(r.name.clone());
                }
                self.assign(r.name, &shared, Pos::default(), Action::Session(v), true);
            }
        }
        let path = shared;
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
            self.lists.push((
                var,
                ListEdit {
                    prepend,
                    append,
                    remove: Vec::new(),
                },
            ));
        }
        s.next_expiry(now)
    }

    /// The target from everything merged: each variable's final value (or unset), and the
    /// list edits in order (prepends innermost layer first, appends outermost first).
    pub fn finish(&mut self) -> Finished {
        let mut target = self.target();
        let mut exec_only = Vec::new();
        for name in &self.exec_only {
            if let Some(Some(v)) = target.vars.shift_remove(name.as_str()) {
                exec_only.push((name.clone(), v));
            }
        }
        let secrets = target
            .vars
            .iter()
            .filter(|(n, v)| v.is_some() && (self.secret.contains(*n) || self.mask.contains(*n)))
            .map(|(n, _)| n.clone())
            .chain(exec_only.iter().map(|(n, _)| n.clone()))
            .collect();
        Finished {
            target,
            secrets,
            exec_only,
        }
    }

    /// The target from everything merged.
    fn target(&mut self) -> Target {
        let mut target = Target::default();
        target.vars.reserve(self.assignments.len());
        for a in &self.assignments {
            if !matches!(
                a.action,
                Action::Prepend(_) | Action::Append(_) | Action::Remove(_)
            ) && !target.vars.contains_key(&a.var)
            {
                // Moved out: the merged environment is not needed after this.
                target
                    .vars
                    .insert(a.var.clone(), self.env.remove(OsStr::new(&a.var)));
            }
        }
        let mut lists: crate::env_diff::Ordered<ListEdit> = Default::default();
        for (var, edit) in self.lists.iter().rev() {
            lists
                .entry(var.clone())
                .or_default()
                .prepend
                .extend(edit.prepend.iter().cloned());
        }
        for (var, edit) in &self.lists {
            let list = lists.entry(var.clone()).or_default();
            list.append.extend(edit.append.iter().cloned());
            list.remove.extend(edit.remove.iter().cloned());
        }
        target.lists = lists;
        target
    }

    /// The value of secret `name` from `store` (entry `scope/name`), or a warning that says
    /// why there is none.
    fn fetch(&mut self, at: &str, name: &str, store: Store, scope: &str) -> Option<OsString> {
        use std::os::unix::ffi::OsStringExt;
        let account = secrets::account(&self.install, scope, name);
        match secrets::get(store, &account, secrets::READ_LIMIT) {
            Ok(Some(v)) => Some(OsString::from_vec(v)),
            Ok(None) => {
                self.warnings.push(format!(
                    "{at}: the secret {name} is not in {} (any more); set it again: strata set --secret {name}",
                    store.describe()
                ));
                None
            }
            Err(e) => {
                self.warnings.push(format!("{at}: {name} not set: {e}"));
                None
            }
        }
    }

    /// Record one assignment by the file `path` (shared by all of that file's assignments);
    /// `secret` says the value came from a secret source.
    fn assign(&mut self, var: String, path: &Rc<Path>, pos: Pos, action: Action, secret: bool) {
        if secret {
            self.secret.insert(var.clone());
        } else if !matches!(
            action,
            Action::Prepend(_) | Action::Append(_) | Action::Remove(_)
        ) {
            self.secret.remove(&var);
        }
        match &action {
            Action::Set(v) | Action::Dotenv(v) | Action::Session(v) => {
                self.env.insert(var.as_str().into(), v.clone());
            }
            Action::Unset => {
                self.env.remove(OsStr::new(&var));
            }
            Action::Prepend(_) | Action::Append(_) | Action::Remove(_) => {}
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
            secret: &self.secret,
            mask: &self.mask,
            tainted: vec![false; entries.len()],
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
        let tainted = resolver.tainted;
        let values: Vec<Option<OsString>> = resolver
            .done
            .into_iter()
            .map(|v| v.expect("every key resolved"))
            .collect();
        for ((e, v), secret) in entries.iter().zip(values).zip(tainted) {
            let action = match v {
                Some(v) => Action::Set(v),
                None => Action::Unset,
            };
            self.assign(e.name.clone(), path, e.pos, action, secret);
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
        self.mask.extend(f.secrets.mask.iter().cloned());
        // dotenv files first; [env] of the same file wins over them.
        self.dotenv_files(f, dotenv_default, watch)?;
        self.env_entries(f, &shared, &f.env, f.dir())?;
        for entries in &f.here {
            self.env_entries(f, &shared, entries, f.dir())?;
        }
        if let Some(name) = active_context
            && let Some((_, entries)) = f.contexts.iter().find(|(n, _)| n == name)
        {
            self.env_entries(f, &shared, entries, f.dir())?;
        }
        self.keyring(f, &shared, active_context);
        self.exec_only.extend(f.secrets.exec_only.iter().cloned());
        for edits in &f.lists {
            self.list_edits(f, &shared, edits)?;
        }
        Ok(())
    }

    /// `[secrets.keyring]` of `f`: each value read from its keyring.
    fn keyring(&mut self, f: &LayerFile, shared: &Rc<Path>, active_context: Option<&str>) {
        if f.secrets.keyring.is_empty() {
            return;
        }
        let scope = match f.kind {
            Kind::Global => "global".to_string(),
            Kind::System => "system".to_string(),
            Kind::Context => format!("context/{}", active_context.unwrap_or_default()),
            _ => format!("dir/{}", key_of(f).display()),
        };
        for (name, store, pos) in &f.secrets.keyring {
            let at = format!("{}:{}", tilde(&f.path), pos.line);
            if let Some(v) = self.fetch(&at, name, *store, &scope) {
                self.assign(name.clone(), shared, *pos, Action::Set(v), true);
            }
        }
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
            let (bytes, secret) = if secrets::age::is_age_file(&path) {
                match self.decrypt(&bytes, watch) {
                    Ok(plain) => (plain, true),
                    // Even for `allow`: a teammate may not have added this user yet.
                    Err(e) => {
                        self.warnings.push(format!(
                            "{at}: cannot decrypt {}: {e}; skipped",
                            tilde(&path)
                        ));
                        self.files.push(FileReport {
                            path,
                            kind: Kind::Dotenv,
                            state: FileState::Unreadable,
                        });
                        continue;
                    }
                }
            } else {
                (bytes, false)
            };
            self.files.push(FileReport {
                path: path.clone(),
                kind: Kind::Dotenv,
                state: FileState::Applied,
            });
            self.dotenv(f, path, &bytes, secret)?;
        }
        Ok(())
    }

    /// One dotenv file's assignments. Variables that make the shell or the loader run code are
    /// not taken from it (the content hash does not cover it), with a warning per line.
    /// Decrypt an age file with the user's identities (read, and watched, at the first one).
    fn decrypt(&mut self, ciphertext: &[u8], watch: &mut Watch) -> Result<Vec<u8>> {
        if self.identities.is_none() {
            let cap = secrets::age::identity_cap();
            let ids =
                Identities::load(&self.identity_files, &mut |p| watch.read(p, cap, Own::Mine));
            self.identities = Some(ids);
        }
        let ids = self.identities.as_ref().expect("just read");
        secrets::age::decrypt(ciphertext, ids, self.dotenv_limit).map_err(|e| {
            match ids.notes.first() {
                Some(note) if ids.is_empty() => anyhow!("{e} ({note})"),
                _ => e,
            }
        })
    }

    fn dotenv(&mut self, f: &LayerFile, path: PathBuf, bytes: &[u8], secret: bool) -> Result<()> {
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
            self.assign(a.name, &path, pos, Action::Dotenv(a.value), secret);
        }
        Ok(())
    }

    /// One `[path]` or `[paths.NAME]` table: entries interpolated, resolved from the file's
    /// directory, and recorded in order.
    fn list_edits(&mut self, f: &LayerFile, shared: &Rc<Path>, edits: &ListEdits) -> Result<()> {
        let dir = f.dir();
        let mut edit = ListEdit::default();
        for (entries, out, what) in [
            (&edits.prepend, &mut edit.prepend, 0),
            (&edits.append, &mut edit.append, 1),
            (&edits.remove, &mut edit.remove, 2),
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
                    action: match what {
                        0 => Action::Prepend(entry),
                        1 => Action::Append(entry),
                        _ => Action::Remove(entry),
                    },
                });
            }
        }
        self.lists.push((edits.var.clone(), edit));
        Ok(())
    }
}

/// Where a directory file applies: its directory (canonical) and its name, the name of its
/// secrets' keyring entries.
pub fn key_of(f: &LayerFile) -> PathBuf {
    match f.path.file_name() {
        Some(n) => f.dir().join(n),
        None => f.path.clone(),
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
    /// Variables whose value is secret: a value that interpolates one is secret too.
    secret: &'a HashSet<String>,
    /// `[secrets] mask` so far: a value built from one is secret too.
    mask: &'a BTreeSet<String>,
    tainted: Vec<bool>,
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
        let mut tainted = false;
        let result = interpolate(&text, &mut |name| {
            if name == "STRATA_DIR" {
                return Ok(Some(self.dir.as_os_str().to_owned()));
            }
            if name != entry.name
                && let Some(&j) = self.index.get(name)
            {
                return match self.resolve(j) {
                    Ok(v) => {
                        tainted |= self.tainted[j] || self.mask.contains(name);
                        Ok(v)
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        failure = Some(e);
                        Err(InterpError::Lookup(msg))
                    }
                };
            }
            self.reads.push(name.to_string());
            tainted |= self.secret.contains(name) || self.mask.contains(name);
            Ok(self.env.get(OsStr::new(name)).cloned())
        });
        self.stack.pop();
        self.tainted[i] = tainted;
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
