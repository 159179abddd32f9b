//! Translating commands to strata's data: assignments, exports, list edits, dotenv and
//! `source_up`, each variable's value tracked as bash would see it.

use std::collections::HashMap;

use super::lex::{Command, WPiece, Word};
use crate::layers::file::check_alias_name;
use crate::names::{check_settable, valid_name};

/// A piece of a strata value template.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece {
    Lit(String),
    /// A variable from the environment the file starts with.
    Outer(String),
    /// `${NAME:-default}` on the environment the file starts with.
    OuterDefault(String, Vec<Piece>),
    /// A variable assigned earlier in this file: its value then, and which assignment it was.
    Ref(String, usize, Vec<Piece>),
    StrataDir,
}

#[derive(Debug, Clone)]
pub(super) struct VarState {
    /// `None`: unset.
    pub(super) value: Option<Vec<Piece>>,
    pub(super) idx: usize,
    pub(super) exported: bool,
    pub(super) unset: bool,
    pub(super) order: usize,
    pub(super) line: usize,
}

#[derive(Debug, Default)]
pub(super) struct ListEdits {
    pub(super) prepend: Vec<(Vec<Piece>, usize)>,
    pub(super) append: Vec<(Vec<Piece>, usize)>,
    /// Entries `PATH_rm`/`path_rm` take out.
    pub(super) remove: Vec<(Vec<Piece>, usize)>,
}

/// Variables a login shell always exports: a plain `X=…` changes the environment.
pub(super) const ALWAYS_EXPORTED: &[&str] =
    &["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM"];

#[derive(Default)]
pub(super) struct Translator {
    pub(super) vars: HashMap<String, VarState>,
    pub(super) lists: Vec<(String, ListEdits)>,
    /// `[dotenv] files`: (path, optional), `dotenv_if_exists` giving an optional one.
    pub(super) dotenv: Vec<(String, bool)>,
    pub(super) source_up: Option<usize>,
    pub(super) allexport: bool,
    pub(super) next_idx: usize,
    pub(super) statements_before: usize,
    pub(super) untranslated: Vec<(usize, String)>,
    pub(super) notes: Vec<String>,
    /// Lines with a note about an unexported variable, so each is reported once.
    pub(super) local_lines: Vec<(String, usize)>,
    /// `[aliases]`: name, words, line.
    pub(super) aliases: Vec<(String, Vec<String>, usize)>,
}

/// A function that runs one command of literal words with its own arguments after them:
/// `NAME() { CMD ARG… "$@"; }` on one line, or with the body on a line of its own (also with
/// the `function NAME {` form), as an alias; with how many commands it took.
pub(super) fn function_alias(cmds: &[Command]) -> Option<(String, Vec<String>, usize)> {
    let head = cmds.first()?;
    let lit = |w: &Word| w.literal();
    let (name, rest) = match head.words.as_slice() {
        [f, n, rest @ ..] if lit(f).as_deref() == Some("function") && head.ops.is_empty() => {
            (lit(n)?, rest)
        }
        [n, rest @ ..] if head.ops == ["(", ")"] => (lit(n)?, rest),
        _ => return None,
    };
    if rest.first().and_then(lit).as_deref() != Some("{") {
        return None;
    }
    crate::layers::file::check_alias_name(&name).ok()?;
    let closes = |c: &Command| {
        c.ops.is_empty() && c.words.len() == 1 && lit(&c.words[0]).as_deref() == Some("}")
    };
    let (body, used) = if rest.len() > 1 {
        (&rest[1..], 2)
    } else {
        let body = cmds.get(1).filter(|c| c.ops.is_empty())?;
        (body.words.as_slice(), 3)
    };
    if !closes(cmds.get(used - 1)?) {
        return None;
    }
    let (last, words) = body.split_last()?;
    let only_args = last.all_args
        && last
            .pieces
            .iter()
            .all(|p| matches!(p, WPiece::Lit(s, _) if s.is_empty()));
    if !only_args || words.is_empty() {
        return None;
    }
    let words = words.iter().map(lit).collect::<Option<Vec<_>>>()?;
    Some((name, words, used))
}

pub(super) type Res<T> = std::result::Result<T, String>;

/// List entries, each a template.
pub(super) type Entries = Vec<Vec<Piece>>;

impl Translator {
    pub(super) fn list(&mut self, var: &str) -> &mut ListEdits {
        if let Some(k) = self.lists.iter().position(|(v, _)| v == var) {
            return &mut self.lists[k].1;
        }
        self.lists.push((var.to_string(), ListEdits::default()));
        &mut self.lists.last_mut().expect("just pushed").1
    }

    pub(super) fn has_list(&self, var: &str) -> bool {
        self.lists.iter().any(|(v, _)| v == var)
    }

    /// Bash's view of a word's pieces as a strata template.
    pub(super) fn pieces(&self, ws: &[WPiece]) -> Res<Vec<Piece>> {
        let mut out = Vec::new();
        for p in ws {
            match p {
                WPiece::Lit(s, _) => out.push(Piece::Lit(s.clone())),
                WPiece::Pwd => out.push(Piece::StrataDir),
                WPiece::Var(n) => out.extend(self.var_ref(n)?),
                WPiece::VarDefault(n, d) => {
                    let default = self.pieces(d)?;
                    if n == "PWD" {
                        out.push(Piece::StrataDir);
                    } else if let Some(v) = self.vars.get(n) {
                        match &v.value {
                            None => out.extend(default),
                            Some(val) if val.iter().all(|p| matches!(p, Piece::Lit(_))) => {
                                if val
                                    .iter()
                                    .all(|p| matches!(p, Piece::Lit(s) if s.is_empty()))
                                {
                                    out.extend(default);
                                } else {
                                    out.extend(val.iter().cloned());
                                }
                            }
                            Some(_) => {
                                return Err(format!(
                                    "${{{n}:-…}} on a variable this file computes: strata cannot tell whether it is empty"
                                ));
                            }
                        }
                    } else if self.has_list(n) {
                        return Err(format!(
                            "uses ${n} after this file edited it; strata cannot express that"
                        ));
                    } else {
                        out.push(Piece::OuterDefault(n.clone(), default));
                    }
                }
            }
        }
        Ok(out)
    }

    pub(super) fn var_ref(&self, n: &str) -> Res<Vec<Piece>> {
        if n == "PWD" {
            return Ok(vec![Piece::StrataDir]);
        }
        if self.has_list(n) {
            return Err(format!(
                "uses ${n} after this file edited it (PATH_add/path_add); strata cannot express that"
            ));
        }
        Ok(match self.vars.get(n) {
            Some(VarState { value: None, .. }) => vec![],
            Some(VarState {
                value: Some(v),
                idx,
                ..
            }) => vec![Piece::Ref(n.to_string(), *idx, v.clone())],
            None => vec![Piece::Outer(n.to_string())],
        })
    }

    /// Tilde expansion as in an assignment value (`after_colons`) or at the start of a word.
    pub(super) fn tilde(ws: &[WPiece], after_colons: bool) -> Res<Vec<WPiece>> {
        let mut out: Vec<WPiece> = Vec::new();
        for (k, p) in ws.iter().enumerate() {
            let WPiece::Lit(s, false) = p else {
                out.push(p.clone());
                continue;
            };
            // Split the unquoted literal at colons (assignments) and expand `~` at each start.
            let segments: Vec<&str> = if after_colons {
                s.split(':').collect()
            } else {
                vec![s.as_str()]
            };
            for (j, seg) in segments.iter().enumerate() {
                if j > 0 {
                    out.push(WPiece::Lit(":".into(), false));
                }
                let at_start = (k == 0 && j == 0) || (j > 0);
                if at_start && let Some(rest) = seg.strip_prefix('~') {
                    let next_is_end =
                        rest.is_empty() && (j + 1 < segments.len() || ws.get(k + 1).is_none());
                    if rest.starts_with('/') || next_is_end {
                        out.push(WPiece::Var("HOME".into()));
                        out.push(WPiece::Lit(rest.to_string(), false));
                        continue;
                    }
                    if rest.is_empty() {
                        // `~` followed by a quoted part: bash does not expand it.
                    } else {
                        return Err(format!("~{rest}: another user's home directory"));
                    }
                }
                out.push(WPiece::Lit(seg.to_string(), false));
            }
        }
        Ok(out)
    }

    pub(super) fn assign(
        &mut self,
        name: &str,
        value: Vec<Piece>,
        export: bool,
        line: usize,
    ) -> Res<()> {
        check_settable(name)?;
        if self.has_list(name) {
            return Err(format!(
                "sets {name} after this file edited it with PATH_add/path_add; strata applies list edits last"
            ));
        }
        let idx = self.next_idx;
        self.next_idx += 1;
        let order = self.vars.len();
        let export = export
            || self.allexport
            || ALWAYS_EXPORTED.contains(&name)
            || name.starts_with("LC_")
            || self.vars.get(name).is_some_and(|v| v.exported);
        let e = self.vars.entry(name.to_string()).or_insert(VarState {
            value: None,
            idx,
            exported: false,
            unset: false,
            order,
            line,
        });
        e.value = Some(value);
        e.idx = idx;
        e.exported |= export;
        e.line = line;
        Ok(())
    }

    /// `VAR=…:$VAR:…` as list edits, if the value has that shape.
    pub(super) fn list_form(
        &self,
        name: &str,
        ws: &[WPiece],
        plus: bool,
    ) -> Option<Res<(Entries, Entries)>> {
        // Split the word at unquoted or quoted literal colons.
        let mut segs: Vec<Vec<WPiece>> = vec![Vec::new()];
        if plus {
            segs[0].push(WPiece::Var(name.to_string()));
        }
        for p in ws {
            match p {
                WPiece::Lit(s, q) => {
                    for (j, part) in s.split(':').enumerate() {
                        if j > 0 {
                            segs.push(Vec::new());
                        }
                        if !part.is_empty() {
                            segs.last_mut()
                                .expect("non-empty")
                                .push(WPiece::Lit(part.into(), *q));
                        }
                    }
                }
                other => segs.last_mut().expect("non-empty").push(other.clone()),
            }
        }
        let selfs: Vec<usize> = segs
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.as_slice(), [WPiece::Var(n)] if n == name))
            .map(|(k, _)| k)
            .collect();
        let [at] = selfs.as_slice() else { return None };
        if self.vars.get(name).is_some_and(|v| v.value.is_none()) {
            return None;
        }
        if segs.len() == 1 {
            return None;
        }
        let mut pre = Vec::new();
        let mut app = Vec::new();
        for (k, s) in segs.iter().enumerate() {
            if k == *at {
                continue;
            }
            if s.is_empty() {
                return Some(Err(format!(
                    "an empty entry in {name} (the current directory) has no strata equivalent"
                )));
            }
            let pieces = match self.pieces(s) {
                Ok(p) => p,
                Err(e) => return Some(Err(e)),
            };
            if k < *at {
                pre.push(pieces);
            } else {
                app.push(pieces);
            }
        }
        Some(Ok((pre, app)))
    }

    /// `NAME=value` or `NAME+=value` (one word), exported or not.
    pub(super) fn assignment_word(&mut self, w: &Word, export: bool, line: usize) -> Res<()> {
        let Some(WPiece::Lit(first, false)) = w.pieces.first() else {
            return Err("not an assignment".into());
        };
        let eq = first.find('=').ok_or("not an assignment")?;
        let (mut name, rest) = (&first[..eq], &first[eq + 1..]);
        let plus = name.ends_with('+');
        if plus {
            name = &name[..name.len() - 1];
        }
        let mut ws = Vec::new();
        if !rest.is_empty() {
            ws.push(WPiece::Lit(rest.to_string(), false));
        }
        ws.extend(w.pieces[1..].iter().cloned());
        let ws = Self::tilde(&ws, true)?;
        if let Some(lists) = self.list_form(name, &ws, plus) {
            let (pre, app) = lists?;
            check_settable(name)?;
            let exported = export
                || self.allexport
                || ALWAYS_EXPORTED.contains(&name)
                || self.vars.get(name).is_some_and(|v| v.exported);
            if !exported {
                return Err(format!(
                    "{name} is not exported here; if it is in your environment, add these entries to [paths.{name}] by hand"
                ));
            }
            if name != "PATH" && !self.vars.contains_key(name) {
                self.notes.push(format!(
                    "line {line}: where {name} is unset, direnv leaves an empty entry (a trailing or leading ':') and strata does not"
                ));
            }
            self.add_list(name, pre, app, line);
            return Ok(());
        }
        let mut value = self.pieces(&ws)?;
        if plus {
            let mut v = self.var_ref(name)?;
            v.append(&mut value);
            value = v;
        }
        self.assign(name, value, export, line)
    }

    pub(super) fn add_list(
        &mut self,
        var: &str,
        pre: Vec<Vec<Piece>>,
        app: Vec<Vec<Piece>>,
        line: usize,
    ) {
        let l = self.list(var);
        let pre: Vec<_> = pre.into_iter().map(|p| (p, line)).collect();
        l.prepend.splice(0..0, pre);
        l.append.extend(app.into_iter().map(|p| (p, line)));
    }

    /// A plain argument (not an assignment) as a template.
    pub(super) fn arg(&self, w: &Word) -> Res<Vec<Piece>> {
        for p in &w.pieces {
            if let WPiece::Lit(s, false) = p
                && s.contains(['*', '?', '['])
            {
                return Err(format!(
                    "{s}: a glob pattern; strata entries are literal paths"
                ));
            }
        }
        self.pieces(&Self::tilde(&w.pieces, false)?)
    }

    /// Translate one statement, or say why it cannot be.
    pub(super) fn statement(&mut self, c: &Command) -> Res<()> {
        if let Some(op) = c.ops.first() {
            let what = match op.as_str() {
                "&&" | "||" => "a conditional (&& / ||)",
                "|" => "a pipeline",
                "&" => "a background command",
                "(" | ")" => "a subshell or function",
                _ => "a redirection",
            };
            return Err(format!("{what}: strata files cannot run commands"));
        }
        if let Some(p) = c.words.iter().find_map(|w| w.problem.clone()) {
            return Err(p);
        }
        let words = &c.words;
        let n_assign = words.iter().take_while(|w| is_assign(w)).count();
        if n_assign == words.len() {
            for w in words {
                self.assignment_word(w, false, c.first)?;
            }
            return Ok(());
        }
        if n_assign > 0 {
            return Err("an assignment before a command applies to that command only".into());
        }
        let cmd = words[0]
            .literal()
            .ok_or("a command name computed at run time")?;
        self.command(&cmd, &words[1..], c.first)
    }

    /// One command with its arguments, at `line`.
    fn command(&mut self, cmd: &str, args: &[Word], line: usize) -> Res<()> {
        let note = |what: &str| format!("line {line}: {cmd} {what}");
        match cmd {
            "export" | "declare" | "typeset" => self.export(cmd, args, line)?,
            "unset" => self.unset(&lit_args(cmd, args)?, line)?,
            "PATH_add" | "path_add" | "MANPATH_add" => self.path_add(cmd, args, line)?,
            "PATH_rm" | "path_rm" => self.path_rm(cmd, args, line)?,
            "dotenv" | "dotenv_if_exists" => self.dotenv_file(cmd, &lit_args(cmd, args)?, line)?,
            "source_up" | "source_up_if_exists" => self.source_up(cmd, &lit_args(cmd, args)?, line)?,
            "watch_file" | "watch_dir" => self.notes.push(note(
                "dropped: strata watches the files it loads (this file, its dotenv files); `strata reload` re-evaluates after other changes",
            )),
            "strict_env" | "unstrict_env" => {
                self.notes.push(note("dropped: a strata file has no shell options"))
            }
            "direnv_version" => self.notes.push(note("(a version check) dropped")),
            "log_status" | "log_error" => {
                self.notes.push(note("dropped: strata files print nothing"))
            }
            "set" => self.set_options(&lit_args(cmd, args)?, line)?,
            "alias" => {
                for a in lit_args(cmd, args)? {
                    let (name, value) = a
                        .split_once('=')
                        .ok_or("alias without a value lists aliases; nothing to translate")?;
                    check_alias_name(name)?;
                    let words = shell_words::split(value)
                        .map_err(|e| format!("alias {name}: {e}"))?;
                    if words.is_empty()
                        || value.contains(|c: char| "$`;|&<>(){}*?[]~\\\n".contains(c))
                    {
                        return Err(format!(
                            "alias {name} holds shell syntax; a strata alias is a command and its arguments"
                        ));
                    }
                    self.alias(name.to_string(), words, line);
                }
            }
            _ => return Err(refused(cmd, args)),
        }
        Ok(())
    }

    /// An alias, with the note that says what changes.
    pub(super) fn alias(&mut self, name: String, words: Vec<String>, line: usize) {
        self.notes.push(format!(
            "line {line}: {name} → [aliases]: direnv cannot define aliases or functions in your shell (they stay in its subshell); strata defines this one in every shell it hooks"
        ));
        self.aliases.retain(|(n, _, _)| *n != name);
        self.aliases.push((name, words, line));
    }

    /// `export`, `declare -x`, `typeset -x`.
    fn export(&mut self, cmd: &str, args: &[Word], line: usize) -> Res<()> {
        let mut rest = args;
        if cmd != "export" {
            if rest.first().and_then(Word::literal).as_deref() != Some("-x") {
                return Err(format!("{cmd} without -x declares a shell variable only"));
            }
            rest = &rest[1..];
        }
        if rest.is_empty() {
            self.notes.push(format!(
                "line {line}: `{cmd}` alone only lists variables; dropped"
            ));
        }
        for w in rest {
            if is_assign(w) {
                self.assignment_word(w, true, line)?;
                continue;
            }
            let name = w.literal().ok_or("export of a computed name")?;
            if name.starts_with('-') {
                return Err(format!("export {name}: option not translated"));
            }
            check_settable(&name)?;
            match self.vars.get_mut(&name) {
                Some(v) => v.exported = true,
                None => self.notes.push(format!(
                    "line {line}: `export {name}` exports a variable this file does not set; nothing to translate"
                )),
            }
        }
        Ok(())
    }

    /// `unset NAME…`.
    fn unset(&mut self, names: &[String], line: usize) -> Res<()> {
        for name in names {
            if name == "-v" {
                continue;
            }
            if name.starts_with('-') {
                return Err(format!("unset {name}: only variables translate"));
            }
            check_settable(name)?;
            if self.has_list(name) {
                return Err(format!("unsets {name} after this file edited it"));
            }
            let idx = self.next_idx;
            self.next_idx += 1;
            let order = self.vars.len();
            let v = self.vars.entry(name.clone()).or_insert(VarState {
                value: None,
                idx,
                exported: false,
                unset: true,
                order,
                line,
            });
            v.value = None;
            v.idx = idx;
            v.exported = false;
            v.unset = true;
            v.line = line;
        }
        Ok(())
    }

    /// `PATH_add DIR…`, `MANPATH_add DIR…`, `path_add VAR DIR…`.
    fn path_add(&mut self, cmd: &str, args: &[Word], line: usize) -> Res<()> {
        let (var, dirs) = match cmd {
            "PATH_add" => ("PATH".to_string(), args),
            "MANPATH_add" => ("MANPATH".to_string(), args),
            _ => {
                let var = args
                    .first()
                    .and_then(Word::literal)
                    .ok_or("path_add needs a variable name")?;
                (var, &args[1..])
            }
        };
        check_settable(&var)?;
        if dirs.is_empty() {
            return Err(format!("{cmd} without a directory"));
        }
        let mut pre = Vec::new();
        for d in dirs {
            pre.push(self.arg(d)?);
        }
        if var == "MANPATH" && !self.has_list("MANPATH") {
            self.notes.push(format!(
                "line {line}: where MANPATH is unset, direnv's MANPATH_add starts from `manpath`'s output; strata starts from nothing"
            ));
        } else if var != "PATH" && !self.has_list(&var) && !self.vars.contains_key(&var) {
            self.notes.push(format!(
                "line {line}: strata never adds an entry twice to {var}: one already there is moved to the front"
            ));
        }
        self.add_list(&var, pre, Vec::new(), line);
        Ok(())
    }

    /// `PATH_rm PATTERN…`, `path_rm VAR PATTERN…`: a pattern that is a plain absolute path is
    /// `[path] remove`; a glob is not (strata removes exact entries).
    fn path_rm(&mut self, cmd: &str, args: &[Word], line: usize) -> Res<()> {
        let (var, patterns) = match cmd {
            "PATH_rm" => ("PATH".to_string(), args),
            _ => {
                let var = args
                    .first()
                    .and_then(Word::literal)
                    .ok_or("path_rm needs a variable name")?;
                (var, &args[1..])
            }
        };
        check_settable(&var)?;
        if patterns.is_empty() {
            return Err(format!("{cmd} without a pattern"));
        }
        let mut entries = Vec::new();
        for p in patterns {
            let text = p
                .literal()
                .ok_or_else(|| format!("{cmd} with a computed pattern"))?;
            if text.contains(['*', '?', '[']) {
                return Err(format!(
                    "{cmd} {text}: a glob pattern; strata removes exact entries (list each in [path] remove)"
                ));
            }
            if !text.starts_with('/') {
                return Err(format!("{cmd} {text}: only absolute paths translate"));
            }
            entries.push((vec![Piece::Lit(text)], line));
        }
        self.list(&var).remove.extend(entries);
        Ok(())
    }

    /// `dotenv [FILE]`, `dotenv_if_exists [FILE]` (an optional file).
    fn dotenv_file(&mut self, cmd: &str, files: &[String], line: usize) -> Res<()> {
        if files.len() > 1 {
            return Err(format!("{cmd} takes one file"));
        }
        let file = files.first().cloned().unwrap_or_else(|| ".env".into());
        if self.vars.values().any(|v| v.exported || v.unset) {
            self.notes.push(format!(
                "line {line}: strata loads [dotenv] files before [env]: a variable set both in {file} and in [env] keeps the [env] value, even where the .envrc set it before the dotenv line"
            ));
        }
        let optional = cmd == "dotenv_if_exists";
        match self.dotenv.iter_mut().find(|(f, _)| *f == file) {
            // Listed twice: optional only if every listing was.
            Some(entry) => entry.1 &= optional,
            None => self.dotenv.push((file, optional)),
        }
        Ok(())
    }

    /// `source_up`, `source_up_if_exists`.
    fn source_up(&mut self, cmd: &str, args: &[String], line: usize) -> Res<()> {
        if !(args.is_empty() || args == [".envrc"]) {
            return Err(format!("{cmd} with a file name other than .envrc"));
        }
        if self.statements_before > 0 {
            self.notes.push(format!(
                "line {line}: {cmd} is not the first statement; strata applies parent directories' files before this one, so a variable set both here and above keeps this file's value"
            ));
        }
        self.source_up.get_or_insert(line);
        Ok(())
    }

    /// `set -a`/`+a` (allexport) and other shell options, which are dropped.
    fn set_options(&mut self, args: &[String], line: usize) -> Res<()> {
        for a in args {
            match a.as_str() {
                "-a" => self.allexport = true,
                "+a" => self.allexport = false,
                _ if a.starts_with(['-', '+']) && !a.contains('a') => {}
                "allexport" => return Err("set -o allexport: write set -a".into()),
                _ if a.starts_with(['-', '+']) => {
                    return Err(format!("set {a}: combined flags are not translated"));
                }
                _ => return Err("set with positional parameters".into()),
            }
        }
        self.notes.push(format!(
            "line {line}: shell options (set …) have no strata equivalent; dropped"
        ));
        Ok(())
    }
}

/// Whether `w` is an assignment (`NAME=…`, `NAME+=…`).
fn is_assign(w: &Word) -> bool {
    matches!(w.pieces.first(), Some(WPiece::Lit(s, false))
        if s.find('=').is_some_and(|k| valid_name(s[..k].trim_end_matches('+'))))
}

/// Arguments that must be literal words.
fn lit_args(cmd: &str, args: &[Word]) -> Res<Vec<String>> {
    args.iter()
        .map(|w| {
            w.literal()
                .ok_or_else(|| format!("{cmd}: arguments with $ expansions are not translated"))
        })
        .collect()
}

/// Why a command that runs code (or controls flow) is not translated.
fn refused(cmd: &str, args: &[Word]) -> String {
    let first = args.first().and_then(Word::literal).unwrap_or_default();
    match cmd {
        "layout" => {
            let hint = match first.as_str() {
                "python" | "python3" => {
                    " (it creates .direnv/python-VERSION; set VIRTUAL_ENV to that directory and prepend its bin/ in [path])"
                }
                "node" => " (PATH_add node_modules/.bin does the same)",
                "go" => " (it sets GOPATH to this directory and prepends bin/)",
                _ => "",
            };
            format!("layout {first} runs code; strata files cannot{hint}")
        }
        "use" => format!(
            "use {first} runs code (a version manager or nix); strata files cannot. Run it once and copy the variables it sets, or use the tool's own shell integration"
        ),
        "source_env" | "source_env_if_exists" | "source" | "." => format!(
            "{cmd} runs another shell file; import that file too (a personal .envrc.local becomes .strata.local.toml), or list it under [dotenv] if it is a dotenv file"
        ),
        "eval" => "eval runs code; strata files cannot".into(),
        "if" | "then" | "else" | "elif" | "fi" | "for" | "while" | "until" | "do" | "done"
        | "case" | "esac" | "select" | "function" | "{" | "}" | "[" | "[[" | "test" => {
            format!("`{cmd}`: strata files have no conditionals, loops or functions")
        }
        _ => format!("runs `{cmd}`: strata files cannot run commands"),
    }
}

/// Block openers and closers at command position, for statements inside blocks.
pub(super) fn block_effect(c: &Command, stack: &mut Vec<(String, usize)>) {
    let first = c.words.first().and_then(Word::literal);
    match first.as_deref() {
        Some(w @ ("if" | "while" | "until" | "for" | "case" | "select" | "{")) => {
            stack.push((w.to_string(), c.first));
        }
        Some("function") => stack.push(("function".into(), c.first)),
        Some("fi" | "done" | "esac" | "}") => {
            stack.pop();
        }
        _ => {}
    }
    let in_case = stack.last().is_some_and(|(k, _)| k == "case");
    // Function definitions `name() {` and subshells `( … )`.
    if !in_case {
        let mut k = 0;
        while k < c.ops.len() {
            if c.ops[k] == "(" && c.ops.get(k + 1).map(String::as_str) == Some(")") {
                // `name ( )` then `{` as a word: a function body.
                if c.words
                    .iter()
                    .skip(1)
                    .any(|w| w.literal().as_deref() == Some("{"))
                {
                    stack.push(("function".into(), c.first));
                }
                k += 2;
                continue;
            }
            match c.ops[k].as_str() {
                "(" => stack.push(("(".into(), c.first)),
                ")" => {
                    stack.pop();
                }
                _ => {}
            }
            k += 1;
        }
    }
    if c.words.len() > 1 && c.words.last().and_then(Word::literal).as_deref() == Some("}") {
        stack.pop();
    }
}

/// The shown name of a block opener.
pub(super) fn block_name(k: &str) -> &str {
    match k {
        "{" => "{ … } group",
        "(" => "subshell",
        other => other,
    }
}
