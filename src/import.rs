//! Migration: translate a direnv `.envrc` or a dotenv file into the equivalent `.strata.toml`.
//!
//! An `.envrc` is a bash script; strata files are data. [`from_envrc`] reads the script the way
//! bash would (quoting, escapes, `$VAR` expansion, tilde expansion in assignments, line
//! continuations, blocks) and translates the statements that only change the environment:
//!
//! | `.envrc` | `.strata.toml` |
//! |---|---|
//! | `export X=v`, `export X="a $Y"`, `export X='lit'`, `X=v` + `export X` | `[env] X = "…"` (`$Y` → `${Y:-}`, `$$` for a literal `$`) |
//! | `$PWD`, `$(pwd)`, `` `pwd` `` | `${STRATA_DIR}` (direnv runs the file in its own directory) |
//! | `unset X` | `X = false` |
//! | `PATH_add dir…`, `path_add VAR dir…`, `MANPATH_add dir` | `[path] prepend`, `[paths.VAR] prepend` |
//! | `export PATH="dir:$PATH:other"` (any list variable) | `prepend` / `append` entries |
//! | `dotenv [file]` | `[dotenv] files` |
//! | `dotenv_if_exists [file]` | `[dotenv] files = [{ path = …, optional = true }]` |
//! | `source_up`, `source_up_if_exists` | `root = false`; without them, `root = true` |
//! | `watch_file`, `strict_env`, `log_status`, `set -e`… | dropped, with a note |
//!
//! Everything else — `layout`, `use`, `eval`, `source`, command substitutions, functions,
//! conditionals, loops, pipes — is listed in [`Translation::untranslated`] with its line and
//! the reason, never dropped silently; a statement inside a conditional or a function is listed
//! too, because translating it unconditionally could change the environment.
//!
//! A variable that a line uses is looked up the way bash would see it at that point: a value
//! assigned earlier in the file is referenced as `${X}` when that is also the file's final value,
//! and inlined otherwise; a variable from the environment becomes `${X:-}` (unset expands to
//! nothing, as in bash), except `HOME` and `PATH`, which are always set.

use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::layers::dotenv;
use crate::names::{check_settable, valid_name};

/// The result of translating a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Translation {
    /// The `.strata.toml` text to write: valid TOML that strata parses and validates, with a
    /// header comment and, at the end, the untranslated lines as comments.
    pub toml: String,
    /// Lines that could not be translated: (1-based line number, original text, reason).
    pub untranslated: Vec<(usize, String, String)>,
    /// What the translation dropped or changed on purpose, one sentence each.
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Lexing: bash words, quoting and expansions.
// ---------------------------------------------------------------------------------------------

/// One piece of a word as bash reads it.
#[derive(Debug, Clone, PartialEq)]
enum WPiece {
    /// Literal text; `quoted` if it came from quotes or a backslash escape.
    Lit(String, bool),
    /// `$NAME` or `${NAME}`.
    Var(String),
    /// `${NAME:-default}`.
    VarDefault(String, Vec<WPiece>),
    /// `$(pwd)` or `` `pwd` ``.
    Pwd,
}

#[derive(Debug, Clone, Default)]
struct Word {
    pieces: Vec<WPiece>,
    /// Why this word cannot be translated (command substitution, unsupported expansion…).
    problem: Option<String>,
}

impl Word {
    fn push_lit(&mut self, c: char, quoted: bool) {
        if let Some(WPiece::Lit(s, q)) = self.pieces.last_mut()
            && *q == quoted
        {
            s.push(c);
            return;
        }
        self.pieces.push(WPiece::Lit(c.to_string(), quoted));
    }

    fn fail(&mut self, why: impl Into<String>) {
        if self.problem.is_none() {
            self.problem = Some(why.into());
        }
    }

    /// The word's text if it is entirely literal (quotes removed).
    fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                WPiece::Lit(s, _) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }
}

#[derive(Debug, Clone)]
enum Tok {
    Word(Word),
    /// An operator other than a command separator: `&&`, `||`, `|`, `&`, `(`, `)`, `<`, `>`…
    Op(String),
    /// Newline, `;` or `;;`.
    Sep,
}

struct Lexer {
    s: Vec<char>,
    i: usize,
    line: usize,
    /// Heredoc delimiters waiting for the end of the current line.
    heredocs: Vec<String>,
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>'
    )
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// The next token with the line it starts on; `None` at the end.
    fn next(&mut self) -> Option<(Tok, usize)> {
        loop {
            match self.peek()? {
                ' ' | '\t' | '\r' => {
                    self.bump();
                }
                '\\' if self.peek_at(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                }
                '#' => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.bump();
                    }
                }
                _ => break,
            }
        }
        let line = self.line;
        let c = self.peek()?;
        let tok = match c {
            '\n' => {
                self.bump();
                self.skip_heredocs();
                Tok::Sep
            }
            ';' => {
                self.bump();
                if self.peek() == Some(';') {
                    self.bump();
                }
                Tok::Sep
            }
            '&' | '|' | '<' | '>' | '(' | ')' => {
                self.bump();
                let mut op = c.to_string();
                if matches!(c, '&' | '|' | '<' | '>') && self.peek() == Some(c) {
                    self.bump();
                    op.push(c);
                }
                if op == "<<" {
                    if self.peek() == Some('-') {
                        self.bump();
                    }
                    while matches!(self.peek(), Some(' ' | '\t')) {
                        self.bump();
                    }
                    let w = self.word();
                    let delim = w.pieces.iter().fold(String::new(), |mut acc, p| {
                        if let WPiece::Lit(s, _) = p {
                            acc.push_str(s);
                        }
                        acc
                    });
                    self.heredocs.push(delim);
                }
                Tok::Op(op)
            }
            _ => Tok::Word(self.word()),
        };
        Some((tok, line))
    }

    fn skip_heredocs(&mut self) {
        for delim in std::mem::take(&mut self.heredocs) {
            loop {
                if self.peek().is_none() {
                    return;
                }
                let start = self.i;
                while !matches!(self.peek(), None | Some('\n')) {
                    self.bump();
                }
                let text: String = self.s[start..self.i].iter().collect();
                self.bump();
                if text.trim_start_matches('\t') == delim {
                    break;
                }
            }
        }
    }

    /// One word, up to an unquoted metacharacter.
    fn word(&mut self) -> Word {
        let mut w = Word::default();
        while let Some(c) = self.peek() {
            if is_meta(c) {
                break;
            }
            match c {
                '\\' => {
                    self.bump();
                    match self.bump() {
                        Some('\n') => {}
                        Some(e) => w.push_lit(e, true),
                        None => w.push_lit('\\', true),
                    }
                }
                '\'' => {
                    self.bump();
                    self.single_quoted(&mut w);
                }
                '"' => {
                    self.bump();
                    self.double_quoted(&mut w);
                }
                '$' => {
                    self.bump();
                    self.dollar(&mut w, false);
                }
                '`' => {
                    self.bump();
                    self.backtick(&mut w);
                }
                _ => {
                    self.bump();
                    w.push_lit(c, false);
                }
            }
        }
        w
    }

    fn single_quoted(&mut self, w: &mut Word) {
        // The quotes make a (possibly empty) quoted literal.
        w.pieces.push(WPiece::Lit(String::new(), true));
        loop {
            match self.bump() {
                None => return w.fail("unterminated single quote"),
                Some('\'') => return,
                Some(c) => w.push_lit(c, true),
            }
        }
    }

    fn double_quoted(&mut self, w: &mut Word) {
        w.pieces.push(WPiece::Lit(String::new(), true));
        loop {
            match self.bump() {
                None => return w.fail("unterminated double quote"),
                Some('"') => return,
                Some('\\') => match self.peek() {
                    Some('\n') => {
                        self.bump();
                    }
                    Some(e @ ('$' | '`' | '"' | '\\')) => {
                        self.bump();
                        w.push_lit(e, true);
                    }
                    _ => w.push_lit('\\', true),
                },
                Some('$') => self.dollar(w, true),
                Some('`') => self.backtick(w),
                Some(c) => w.push_lit(c, true),
            }
        }
    }

    fn backtick(&mut self, w: &mut Word) {
        let mut inner = String::new();
        loop {
            match self.bump() {
                None => return w.fail("unterminated backquote"),
                Some('`') => break,
                Some('\\') => {
                    if let Some(c) = self.bump() {
                        inner.push(c);
                    }
                }
                Some(c) => inner.push(c),
            }
        }
        if inner.trim() == "pwd" {
            w.pieces.push(WPiece::Pwd);
        } else {
            w.fail(format!(
                "command substitution `{}`: strata files cannot run commands",
                inner.trim()
            ));
        }
    }

    /// Reads up to the `close` that balances the one just consumed, honouring quotes.
    fn balanced(&mut self, open: char, close: char) -> Option<String> {
        let mut depth = 1;
        let mut out = String::new();
        let mut quote: Option<char> = None;
        loop {
            let c = self.bump()?;
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    } else if c == '\\' && q == '"' {
                        out.push(c);
                        out.push(self.bump()?);
                        continue;
                    }
                }
                None => {
                    if c == '\'' || c == '"' {
                        quote = Some(c);
                    } else if c == '\\' {
                        out.push(c);
                        out.push(self.bump()?);
                        continue;
                    } else if c == open {
                        depth += 1;
                    } else if c == close {
                        depth -= 1;
                        if depth == 0 {
                            return Some(out);
                        }
                    }
                }
            }
            out.push(c);
        }
    }

    /// After a `$`.
    fn dollar(&mut self, w: &mut Word, in_dq: bool) {
        match self.peek() {
            Some('{') => {
                self.bump();
                let Some(inner) = self.balanced('{', '}') else {
                    return w.fail("unterminated ${");
                };
                let (name, rest) =
                    match inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                        Some(k) => (&inner[..k], &inner[k..]),
                        None => (inner.as_str(), ""),
                    };
                if !valid_name(name) {
                    return w.fail(format!(
                        "${{{inner}}}: only ${{VAR}} and ${{VAR:-default}} translate"
                    ));
                }
                if rest.is_empty() {
                    w.pieces.push(WPiece::Var(name.to_string()));
                } else if let Some(default) = rest.strip_prefix(":-") {
                    let mut sub = Lexer {
                        s: default.chars().collect(),
                        i: 0,
                        line: self.line,
                        heredocs: Vec::new(),
                    };
                    let mut dw = Word::default();
                    // In double quotes the default is read as if double-quoted (no word splitting).
                    while let Some(c) = sub.peek() {
                        match c {
                            '\\' => {
                                sub.bump();
                                if let Some(e) = sub.bump() {
                                    dw.push_lit(e, true);
                                }
                            }
                            '\'' if !in_dq => {
                                sub.bump();
                                sub.single_quoted(&mut dw);
                            }
                            '"' => {
                                sub.bump();
                                sub.double_quoted(&mut dw);
                            }
                            '$' => {
                                sub.bump();
                                sub.dollar(&mut dw, true);
                            }
                            '`' => {
                                sub.bump();
                                sub.backtick(&mut dw);
                            }
                            _ => {
                                sub.bump();
                                dw.push_lit(c, true);
                            }
                        }
                    }
                    if let Some(p) = dw.problem {
                        return w.fail(p);
                    }
                    w.pieces
                        .push(WPiece::VarDefault(name.to_string(), dw.pieces));
                } else {
                    w.fail(format!(
                        "${{{inner}}}: only ${{VAR}} and ${{VAR:-default}} translate"
                    ));
                }
            }
            Some('(') => {
                self.bump();
                if self.peek() == Some('(') {
                    let _ = self.balanced('(', ')');
                    return w
                        .fail("arithmetic expansion $((…)): strata files cannot compute values");
                }
                let Some(inner) = self.balanced('(', ')') else {
                    return w.fail("unterminated $(");
                };
                if inner.trim() == "pwd" {
                    w.pieces.push(WPiece::Pwd);
                } else {
                    w.fail(format!(
                        "command substitution $({}): strata files cannot run commands",
                        inner.trim()
                    ));
                }
            }
            Some('\'') if !in_dq => {
                self.bump();
                self.ansi_c(w);
            }
            Some('"') if !in_dq => {
                self.bump();
                self.double_quoted(w);
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = String::new();
                while let Some(c) = self.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        name.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
                w.pieces.push(WPiece::Var(name));
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.bump();
                w.fail(format!(
                    "special parameter ${c} has no meaning in a strata file"
                ));
            }
            _ => w.push_lit('$', in_dq),
        }
    }

    /// `$'…'`: ANSI-C quoting, the common escapes.
    fn ansi_c(&mut self, w: &mut Word) {
        w.pieces.push(WPiece::Lit(String::new(), true));
        loop {
            match self.bump() {
                None => return w.fail("unterminated $'"),
                Some('\'') => return,
                Some('\\') => {
                    let c = match self.bump() {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('e' | 'E') => '\x1b',
                        Some('a') => '\x07',
                        Some('b') => '\x08',
                        Some('f') => '\x0c',
                        Some('v') => '\x0b',
                        Some(c @ ('\\' | '\'' | '"' | '?')) => c,
                        Some(c) => {
                            w.fail(format!("escape \\{c} in $'…' is not translated"));
                            c
                        }
                        None => return w.fail("unterminated $'"),
                    };
                    w.push_lit(c, true);
                }
                Some(c) => w.push_lit(c, true),
            }
        }
    }
}

/// A simple command (or a fragment of a compound one), with its source lines.
#[derive(Debug, Default)]
struct Command {
    words: Vec<Word>,
    ops: Vec<String>,
    first: usize,
    last: usize,
}

fn commands(text: &str) -> Vec<Command> {
    let mut lx = Lexer {
        s: text.chars().collect(),
        i: 0,
        line: 1,
        heredocs: Vec::new(),
    };
    let mut out = Vec::new();
    let mut cur = Command::default();
    while let Some((tok, line)) = lx.next() {
        match tok {
            Tok::Sep => {
                if !cur.words.is_empty() || !cur.ops.is_empty() {
                    // A heredoc body belongs to the command before it.
                    cur.last = cur.last.max(lx.line.saturating_sub(1));
                    out.push(std::mem::take(&mut cur));
                }
            }
            Tok::Word(w) => {
                if cur.words.is_empty() && cur.ops.is_empty() {
                    cur.first = line;
                }
                cur.last = lx.line;
                cur.words.push(w);
            }
            Tok::Op(op) => {
                if cur.words.is_empty() && cur.ops.is_empty() {
                    cur.first = line;
                }
                cur.last = lx.line;
                cur.ops.push(op);
            }
        }
    }
    if !cur.words.is_empty() || !cur.ops.is_empty() {
        out.push(cur);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Translation.
// ---------------------------------------------------------------------------------------------

/// A piece of a strata value template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
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
struct VarState {
    /// `None`: unset.
    value: Option<Vec<Piece>>,
    idx: usize,
    exported: bool,
    unset: bool,
    order: usize,
    line: usize,
}

#[derive(Debug, Default)]
struct ListEdits {
    prepend: Vec<(Vec<Piece>, usize)>,
    append: Vec<(Vec<Piece>, usize)>,
}

/// Variables a login shell always exports: a plain `X=…` changes the environment.
const ALWAYS_EXPORTED: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM"];

#[derive(Default)]
struct Translator {
    vars: HashMap<String, VarState>,
    lists: Vec<(String, ListEdits)>,
    /// `[dotenv] files`: (path, optional), `dotenv_if_exists` giving an optional one.
    dotenv: Vec<(String, bool)>,
    source_up: Option<usize>,
    allexport: bool,
    next_idx: usize,
    statements_before: usize,
    untranslated: Vec<(usize, String)>,
    notes: Vec<String>,
    /// Lines with a note about an unexported variable, so each is reported once.
    local_lines: Vec<(String, usize)>,
}

type Res<T> = std::result::Result<T, String>;

/// List entries, each a template.
type Entries = Vec<Vec<Piece>>;

impl Translator {
    fn list(&mut self, var: &str) -> &mut ListEdits {
        if let Some(k) = self.lists.iter().position(|(v, _)| v == var) {
            return &mut self.lists[k].1;
        }
        self.lists.push((var.to_string(), ListEdits::default()));
        &mut self.lists.last_mut().expect("just pushed").1
    }

    fn has_list(&self, var: &str) -> bool {
        self.lists.iter().any(|(v, _)| v == var)
    }

    /// Bash's view of a word's pieces as a strata template.
    fn pieces(&self, ws: &[WPiece]) -> Res<Vec<Piece>> {
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

    fn var_ref(&self, n: &str) -> Res<Vec<Piece>> {
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
    fn tilde(ws: &[WPiece], after_colons: bool) -> Res<Vec<WPiece>> {
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

    fn assign(&mut self, name: &str, value: Vec<Piece>, export: bool, line: usize) -> Res<()> {
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
    fn list_form(&self, name: &str, ws: &[WPiece], plus: bool) -> Option<Res<(Entries, Entries)>> {
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
    fn assignment_word(&mut self, w: &Word, export: bool, line: usize) -> Res<()> {
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

    fn add_list(&mut self, var: &str, pre: Vec<Vec<Piece>>, app: Vec<Vec<Piece>>, line: usize) {
        let l = self.list(var);
        let pre: Vec<_> = pre.into_iter().map(|p| (p, line)).collect();
        l.prepend.splice(0..0, pre);
        l.append.extend(app.into_iter().map(|p| (p, line)));
    }

    /// A plain argument (not an assignment) as a template.
    fn arg(&self, w: &Word) -> Res<Vec<Piece>> {
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

    fn statement(&mut self, c: &Command) -> Res<()> {
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
        for w in &c.words {
            if let Some(p) = &w.problem {
                return Err(p.clone());
            }
        }
        let words = &c.words;
        let is_assign = |w: &Word| {
            matches!(w.pieces.first(), Some(WPiece::Lit(s, false))
                if s.find('=').is_some_and(|k| valid_name(s[..k].trim_end_matches('+'))))
        };
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
        let args = &words[1..];
        let lit_args = || -> Res<Vec<String>> {
            args.iter()
                .map(|w| {
                    w.literal().ok_or_else(|| {
                        format!("{cmd}: arguments with $ expansions are not translated")
                    })
                })
                .collect()
        };
        match cmd.as_str() {
            "export" | "declare" | "typeset" => {
                let mut rest = args;
                if cmd != "export" {
                    if rest.first().and_then(Word::literal).as_deref() != Some("-x") {
                        return Err(format!("{cmd} without -x declares a shell variable only"));
                    }
                    rest = &rest[1..];
                }
                if rest.is_empty() {
                    self.notes.push(format!("line {}: `{cmd}` alone only lists variables; dropped", c.first));
                }
                for w in rest {
                    if is_assign(w) {
                        self.assignment_word(w, true, c.first)?;
                    } else {
                        let name = w.literal().ok_or("export of a computed name")?;
                        if name.starts_with('-') {
                            return Err(format!("export {name}: option not translated"));
                        }
                        check_settable(&name)?;
                        match self.vars.get_mut(&name) {
                            Some(v) => v.exported = true,
                            None => self.notes.push(format!(
                                "line {}: `export {name}` exports a variable this file does not set; nothing to translate",
                                c.first
                            )),
                        }
                    }
                }
            }
            "unset" => {
                for name in lit_args()? {
                    if name == "-v" {
                        continue;
                    }
                    if name.starts_with('-') {
                        return Err(format!("unset {name}: only variables translate"));
                    }
                    check_settable(&name)?;
                    if self.has_list(&name) {
                        return Err(format!("unsets {name} after this file edited it"));
                    }
                    let idx = self.next_idx;
                    self.next_idx += 1;
                    let order = self.vars.len();
                    let v = self.vars.entry(name).or_insert(VarState {
                        value: None,
                        idx,
                        exported: false,
                        unset: true,
                        order,
                        line: c.first,
                    });
                    v.value = None;
                    v.idx = idx;
                    v.exported = false;
                    v.unset = true;
                    v.line = c.first;
                }
            }
            "PATH_add" | "path_add" | "MANPATH_add" => {
                let (var, dirs) = match cmd.as_str() {
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
                        "line {}: where MANPATH is unset, direnv's MANPATH_add starts from `manpath`'s output; strata starts from nothing",
                        c.first
                    ));
                } else if var != "PATH" && !self.has_list(&var) && !self.vars.contains_key(&var) {
                    self.notes.push(format!(
                        "line {}: strata never adds an entry twice to {var}: one already there is moved to the front",
                        c.first
                    ));
                }
                self.add_list(&var, pre, Vec::new(), c.first);
            }
            "dotenv" | "dotenv_if_exists" => {
                let files = lit_args()?;
                if files.len() > 1 {
                    return Err(format!("{cmd} takes one file"));
                }
                let file = files.into_iter().next().unwrap_or_else(|| ".env".into());
                if self.vars.values().any(|v| v.exported || v.unset) {
                    self.notes.push(format!(
                        "line {}: strata loads [dotenv] files before [env]: a variable set both in {file} and in [env] keeps the [env] value, even where the .envrc set it before the dotenv line",
                        c.first
                    ));
                }
                let optional = cmd == "dotenv_if_exists";
                match self.dotenv.iter_mut().find(|(f, _)| *f == file) {
                    // Listed twice: optional only if every listing was.
                    Some(entry) => entry.1 &= optional,
                    None => self.dotenv.push((file, optional)),
                }
            }
            "source_up" | "source_up_if_exists" => {
                let a = lit_args()?;
                if !(a.is_empty() || a == [".envrc"]) {
                    return Err(format!("{cmd} with a file name other than .envrc"));
                }
                if self.statements_before > 0 {
                    self.notes.push(format!(
                        "line {}: {cmd} is not the first statement; strata applies parent directories' files before this one, so a variable set both here and above keeps this file's value",
                        c.first
                    ));
                }
                self.source_up.get_or_insert(c.first);
            }
            "watch_file" | "watch_dir" => self.notes.push(format!(
                "line {}: {cmd} dropped: strata watches the files it loads (this file, its dotenv files); `strata reload` re-evaluates after other changes",
                c.first
            )),
            "strict_env" | "unstrict_env" => self.notes.push(format!(
                "line {}: {cmd} dropped: a strata file has no shell options",
                c.first
            )),
            "direnv_version" => self.notes.push(format!(
                "line {}: {cmd} (a version check) dropped",
                c.first
            )),
            "log_status" | "log_error" => self.notes.push(format!(
                "line {}: {cmd} dropped: strata files print nothing",
                c.first
            )),
            "set" => {
                for a in lit_args()? {
                    match a.as_str() {
                        "-a" => self.allexport = true,
                        "+a" => self.allexport = false,
                        _ if a.starts_with(['-', '+']) && !a.contains('a') => {}
                        "allexport" => {
                            return Err("set -o allexport: write set -a".into());
                        }
                        _ if a.starts_with(['-', '+']) => {
                            return Err(format!("set {a}: combined flags are not translated"));
                        }
                        _ => return Err("set with positional parameters".into()),
                    }
                }
                self.notes.push(format!(
                    "line {}: shell options (set …) have no strata equivalent; dropped",
                    c.first
                ));
            }
            "layout" => {
                let what = args.first().and_then(Word::literal).unwrap_or_default();
                let hint = match what.as_str() {
                    "python" | "python3" => " (it creates .direnv/python-VERSION; set VIRTUAL_ENV to that directory and prepend its bin/ in [path])",
                    "node" => " (PATH_add node_modules/.bin does the same)",
                    "go" => " (it sets GOPATH to this directory and prepends bin/)",
                    _ => "",
                };
                return Err(format!("layout {what} runs code; strata files cannot{hint}"));
            }
            "use" => {
                let what = args.first().and_then(Word::literal).unwrap_or_default();
                return Err(format!(
                    "use {what} runs code (a version manager or nix); strata files cannot. Run it once and copy the variables it sets, or use the tool's own shell integration"
                ));
            }
            "source_env" | "source_env_if_exists" | "source" | "." => {
                return Err(format!(
                    "{cmd} runs another shell file; import that file too (a personal .envrc.local becomes .strata.local.toml), or list it under [dotenv] if it is a dotenv file"
                ));
            }
            "eval" => return Err("eval runs code; strata files cannot".into()),
            "if" | "then" | "else" | "elif" | "fi" | "for" | "while" | "until" | "do" | "done"
            | "case" | "esac" | "select" | "function" | "{" | "}" | "[" | "[[" | "test" => {
                return Err(format!("`{cmd}`: strata files have no conditionals, loops or functions"));
            }
            _ => return Err(format!("runs `{cmd}`: strata files cannot run commands")),
        }
        Ok(())
    }
}

/// Block openers and closers at command position, for statements inside blocks.
fn block_effect(c: &Command, stack: &mut Vec<(String, usize)>) {
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
fn block_name(k: &str) -> &str {
    match k {
        "{" => "{ … } group",
        "(" => "subshell",
        other => other,
    }
}

/// Translate a direnv `.envrc` (its text) into a `.strata.toml`. Never fails: what cannot be
/// translated is listed in [`Translation::untranslated`].
pub fn from_envrc(text: &str) -> Translation {
    let mut t = Translator::default();
    let mut stack: Vec<(String, usize)> = Vec::new();
    for c in commands(text) {
        let before = stack.clone();
        block_effect(&c, &mut stack);
        let result = if let Some((k, line)) = before.last().or(stack.last()) {
            if before.is_empty() {
                Err(format!(
                    "starts a {}: strata files have no conditionals, loops or functions",
                    block_name(k)
                ))
            } else {
                Err(format!(
                    "inside the {} at line {line}: strata cannot apply it conditionally",
                    block_name(k)
                ))
            }
        } else {
            t.statement(&c)
        };
        if let Err(reason) = result {
            for line in c.first..=c.last.max(c.first) {
                t.untranslated.push((line, reason.clone()));
            }
        }
        t.statements_before += 1;
    }
    if let Some((k, line)) = stack.last() {
        t.notes.push(format!(
            "the {} at line {line} is never closed",
            block_name(k)
        ));
    }
    render(text, t)
}

// ---------------------------------------------------------------------------------------------
// Rendering.
// ---------------------------------------------------------------------------------------------

struct Renderer<'a> {
    /// Exported variables with a value: name → index of the assignment that is final.
    finals: HashMap<&'a str, usize>,
}

impl Renderer<'_> {
    fn render(&self, pieces: &[Piece], entry: Option<&str>, out: &mut String) -> Res<()> {
        for p in pieces {
            match p {
                Piece::Lit(s) => out.push_str(&s.replace('$', "$$")),
                Piece::StrataDir => out.push_str("${STRATA_DIR}"),
                Piece::Outer(n) | Piece::OuterDefault(n, _) => {
                    if Some(n.as_str()) != entry && self.finals.contains_key(n.as_str()) {
                        return Err(format!(
                            "uses ${n} as it was before this file sets it; in strata, ${{{n}}} is this file's value"
                        ));
                    }
                    out.push_str("${");
                    out.push_str(n);
                    match p {
                        Piece::OuterDefault(_, d) => {
                            let mut inner = String::new();
                            self.render(d, entry, &mut inner)?;
                            if inner.contains('}') {
                                return Err("a default value containing } is not translated".into());
                            }
                            out.push_str(":-");
                            out.push_str(&inner);
                        }
                        _ if matches!(n.as_str(), "HOME" | "PATH") => {}
                        _ => out.push_str(":-"),
                    }
                    out.push('}');
                }
                Piece::Ref(n, idx, snap) => {
                    if Some(n.as_str()) != entry && self.finals.get(n.as_str()) == Some(idx) {
                        out.push_str("${");
                        out.push_str(n);
                        out.push('}');
                    } else {
                        self.render(snap, entry, out)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Lexically cleans a path entry the way direnv's `expand_path` does (Go's `filepath.Clean`),
/// as far as that is possible without knowing the directory: `./bin/` → `bin`, `a//b` → `a/b`.
fn clean_entry(s: &str) -> String {
    let p = Path::new(s);
    let mut out = PathBuf::new();
    for comp in p.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    let s = out.to_string_lossy().into_owned();
    if s.is_empty() { ".".into() } else { s }
}

fn render_entry(r: &Renderer<'_>, pieces: &[Piece]) -> Res<String> {
    let mut pieces = pieces.to_vec();
    // `$PWD/bin` is `bin`: relative entries are resolved against the file's directory.
    if let [Piece::StrataDir, Piece::Lit(s), ..] = pieces.as_slice()
        && s.starts_with('/')
        && s.len() > 1
    {
        let rest = s[1..].to_string();
        pieces.remove(0);
        pieces[0] = Piece::Lit(rest);
    }
    if let [Piece::Lit(s)] = pieces.as_slice() {
        if s.is_empty() {
            return Err("an empty directory".into());
        }
        let cleaned = clean_entry(s);
        return Ok(cleaned.replace('$', "$$"));
    }
    if let Some(Piece::Lit(s)) = pieces.last_mut()
        && s.len() > 1
        && s.ends_with('/')
    {
        s.truncate(s.trim_end_matches('/').len().max(1));
    }
    let mut out = String::new();
    r.render(&pieces, None, &mut out)?;
    Ok(out)
}

fn render(text: &str, mut t: Translator) -> Translation {
    let lines: Vec<&str> = text.lines().collect();
    let mut vars: Vec<(&String, &VarState)> = t.vars.iter().collect();
    vars.sort_by_key(|(_, v)| v.order);
    let finals: HashMap<&str, usize> = vars
        .iter()
        .filter(|(_, v)| v.exported && v.value.is_some())
        .map(|(n, v)| (n.as_str(), v.idx))
        .collect();
    let r = Renderer { finals };

    let mut doc = toml_edit::DocumentMut::new();
    doc["root"] = toml_edit::value(t.source_up.is_none());
    let mut env = toml_edit::Table::new();
    let mut extra_untranslated: Vec<(usize, String)> = Vec::new();
    let mut extra_notes: Vec<String> = Vec::new();
    for (name, v) in &vars {
        match (&v.value, v.exported) {
            (Some(val), true) => {
                let mut s = String::new();
                match r.render(val, Some(name), &mut s) {
                    Ok(()) => {
                        // One line per value: a multi-line string would show lines that look
                        // like TOML of their own to whoever reviews the file.
                        env[name.as_str()] = if s.chars().any(char::is_control) {
                            let one: toml_edit::Value = crate::codec::toml_basic(&s)
                                .parse()
                                .expect("a basic string is a TOML value");
                            toml_edit::value(one)
                        } else {
                            toml_edit::value(s)
                        };
                    }
                    Err(e) => extra_untranslated.push((v.line, e)),
                }
            }
            (None, _) if v.unset => {
                env[name.as_str()] = toml_edit::value(false);
            }
            (Some(_), false) => {
                t.local_lines.push(((*name).clone(), v.line));
            }
            _ => {}
        }
    }
    for (name, line) in &t.local_lines {
        t.notes.push(format!(
            "line {line}: {name} is set but not exported, so direnv does not put it in the environment (unless your shell already exports it); it is only used where the .envrc refers to it"
        ));
    }
    if !env.is_empty() {
        doc["env"] = toml_edit::Item::Table(env);
    }
    let mut paths = toml_edit::Table::new();
    paths.set_implicit(true);
    for (var, edits) in &t.lists {
        let mut table = toml_edit::Table::new();
        for (key, entries) in [("prepend", &edits.prepend), ("append", &edits.append)] {
            if entries.is_empty() {
                continue;
            }
            let mut arr = toml_edit::Array::new();
            for (e, line) in entries {
                match render_entry(&r, e) {
                    Ok(s) => {
                        if s == ".." || s.starts_with("../") {
                            extra_notes.push(format!(
                                "line {line}: direnv adds {s} to {var} as a clean absolute path (the parent directory's path); strata adds it as DIR/{s}, the same directory spelled differently"
                            ));
                        }
                        arr.push(s);
                    }
                    Err(err) => extra_untranslated.push((*line, err)),
                }
            }
            if !arr.is_empty() {
                table[key] = toml_edit::value(arr);
            }
        }
        if table.is_empty() {
            continue;
        }
        if var == "PATH" {
            doc["path"] = toml_edit::Item::Table(table);
        } else {
            paths[var.as_str()] = toml_edit::Item::Table(table);
        }
    }
    if !paths.is_empty() {
        doc["paths"] = toml_edit::Item::Table(paths);
    }
    if !t.dotenv.is_empty() {
        let mut table = toml_edit::Table::new();
        let files: toml_edit::Array = t
            .dotenv
            .iter()
            .map(|(file, optional)| -> toml_edit::Value {
                if *optional {
                    let mut entry = toml_edit::InlineTable::new();
                    entry.insert("path", file.as_str().into());
                    entry.insert("optional", true.into());
                    entry.into()
                } else {
                    file.as_str().into()
                }
            })
            .collect();
        table["files"] = toml_edit::value(files);
        doc["dotenv"] = toml_edit::Item::Table(table);
    }

    t.untranslated.extend(extra_untranslated);
    t.notes.extend(extra_notes);
    t.untranslated.sort_by_key(|(l, _)| *l);
    t.untranslated.dedup_by_key(|(l, _)| *l);
    let untranslated: Vec<(usize, String, String)> = t
        .untranslated
        .into_iter()
        .filter_map(|(line, reason)| {
            let text = lines.get(line - 1).map_or("", |l| l.trim_end());
            let trimmed = text.trim_start();
            (!trimmed.is_empty() && !trimmed.starts_with('#'))
                .then(|| (line, text.to_string(), reason))
        })
        .collect();

    let mut notes = t.notes;
    match t.source_up {
        Some(line) => notes.insert(
            0,
            format!(
                "line {line}: source_up → root = false: strata applies every .strata.toml above this directory by default (import the parent .envrc files too)"
            ),
        ),
        None => notes.insert(
            0,
            "no source_up: direnv loads only this .envrc, so root = true stops strata from applying .strata.toml files above it".into(),
        ),
    }

    let mut toml = String::from("# Imported from .envrc by `strata import direnv`.\n");
    let body = doc.to_string();
    toml.push_str(&body);
    if !untranslated.is_empty() {
        toml.push_str(
            "\n# Not translated (translate by hand, or keep them out of the environment):\n",
        );
        for (line, text, reason) in &untranslated {
            toml.push_str(&format!(
                "#   line {line}: {}\n#     ({})\n",
                one_line(text),
                one_line(reason)
            ));
        }
    }
    Translation {
        toml,
        untranslated,
        notes,
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// dotenv.
// ---------------------------------------------------------------------------------------------

/// `path` made absolute against the current directory and cleaned lexically (no symlinks).
fn absolute(path: &Path) -> Result<PathBuf> {
    let p = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current directory")?
            .join(path)
    };
    Ok(PathBuf::from(clean_entry(&p.to_string_lossy())))
}

/// `to` relative to the directory `from`, lexically (both absolute and clean).
fn relative(to: &Path, from: &Path) -> PathBuf {
    let a: Vec<_> = to.components().collect();
    let b: Vec<_> = from.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Translate a dotenv file into a `.strata.toml` that loads it: `[dotenv] files = ["…"]`, with
/// the path relative to `toml_dir` (the directory the `.strata.toml` will be written in, which
/// strata resolves relative entries against). Its values stay in the dotenv file, where secrets
/// belong; the notes list the variable names it sets.
///
/// Fails when the file cannot be read, does not parse in strata's dotenv dialect, or sets a
/// variable strata refuses to set (`STRATA_*`, `PWD`…); the error names the file and line.
/// Relative paths are taken against the current directory.
pub fn from_dotenv(file: &Path, toml_dir: &Path) -> Result<Translation> {
    let bytes = crate::files::read_any(file, crate::files::DOTENV_CAP)?
        .with_context(|| format!("{} does not exist", crate::display::tilde(file)))?;
    let assignments = dotenv::parse(file, &bytes, &|_: &str| -> Option<OsString> { None })?;
    let mut names: Vec<&str> = Vec::new();
    for a in &assignments {
        if let Err(msg) = check_settable(&a.name) {
            bail!("{}:{}: {msg}", file.display(), a.line);
        }
        if !names.contains(&a.name.as_str()) {
            names.push(&a.name);
        }
    }
    let rel = relative(&absolute(file)?, &absolute(toml_dir)?);
    let rel = rel.to_str().with_context(|| {
        format!(
            "{} is not a UTF-8 path; a strata file is TOML",
            rel.display()
        )
    })?;
    let mut doc = toml_edit::DocumentMut::new();
    let mut table = toml_edit::Table::new();
    table["files"] = toml_edit::value([rel].into_iter().collect::<toml_edit::Array>());
    doc["dotenv"] = toml_edit::Item::Table(table);
    let mut toml = format!(
        "# Imported from {} by `strata import dotenv`: the values stay in that file.\n",
        file.display()
    );
    toml.push_str(&doc.to_string());
    let notes = vec![if names.is_empty() {
        format!("{rel} sets no variables")
    } else {
        format!("{rel} sets {}: {}", names.len(), names.join(", "))
    }];
    Ok(Translation {
        toml,
        untranslated: Vec::new(),
        notes,
    })
}
