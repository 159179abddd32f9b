//! Lexing an `.envrc` as bash reads it: words with their quoting, escapes and expansions,
//! operators, heredocs, and the commands they make up.

use crate::names::valid_name;

// ---------------------------------------------------------------------------------------------
// Lexing: bash words, quoting and expansions.
// ---------------------------------------------------------------------------------------------

/// One piece of a word as bash reads it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum WPiece {
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
pub(super) struct Word {
    pub(super) pieces: Vec<WPiece>,
    /// Why this word cannot be translated (command substitution, unsupported expansion…).
    pub(super) problem: Option<String>,
    /// The word holds `$@` (a function passing its arguments on: see `function_alias`).
    pub(super) all_args: bool,
}

impl Word {
    pub(super) fn push_lit(&mut self, c: char, quoted: bool) {
        if let Some(WPiece::Lit(s, q)) = self.pieces.last_mut()
            && *q == quoted
        {
            s.push(c);
            return;
        }
        self.pieces.push(WPiece::Lit(c.to_string(), quoted));
    }

    pub(super) fn fail(&mut self, why: impl Into<String>) {
        if self.problem.is_none() {
            self.problem = Some(why.into());
        }
    }

    /// The word's text if it is entirely literal (quotes removed).
    pub(super) fn literal(&self) -> Option<String> {
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
pub(super) enum Tok {
    Word(Word),
    /// An operator other than a command separator: `&&`, `||`, `|`, `&`, `(`, `)`, `<`, `>`…
    Op(String),
    /// Newline, `;` or `;;`.
    Sep,
}

pub(super) struct Lexer {
    pub(super) s: Vec<char>,
    pub(super) i: usize,
    pub(super) line: usize,
    /// Heredoc delimiters waiting for the end of the current line.
    pub(super) heredocs: Vec<String>,
}

pub(super) fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>'
    )
}

impl Lexer {
    pub(super) fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    pub(super) fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }
    pub(super) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// The next token with the line it starts on; `None` at the end.
    pub(super) fn next(&mut self) -> Option<(Tok, usize)> {
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

    pub(super) fn skip_heredocs(&mut self) {
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
    pub(super) fn word(&mut self) -> Word {
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

    pub(super) fn single_quoted(&mut self, w: &mut Word) {
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

    pub(super) fn double_quoted(&mut self, w: &mut Word) {
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

    pub(super) fn backtick(&mut self, w: &mut Word) {
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
    pub(super) fn balanced(&mut self, open: char, close: char) -> Option<String> {
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
    /// What follows a `$`: `${…}`, `$(…)`, `$'…'`, `$"…"`, `$NAME` or a special parameter.
    pub(super) fn dollar(&mut self, w: &mut Word, in_dq: bool) {
        match self.peek() {
            Some('{') => {
                self.bump();
                match self.balanced('{', '}') {
                    Some(inner) => self.braced(w, &inner, in_dq),
                    None => w.fail("unterminated ${"),
                }
            }
            Some('(') => {
                self.bump();
                self.command_substitution(w);
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
                w.all_args |= c == '@';
                w.fail(format!(
                    "special parameter ${c} has no meaning in a strata file"
                ));
            }
            _ => w.push_lit('$', in_dq),
        }
    }

    /// `${NAME}` or `${NAME:-default}` (`inner` is what the braces hold).
    fn braced(&self, w: &mut Word, inner: &str, in_dq: bool) {
        let (name, rest) = match inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            Some(k) => (&inner[..k], &inner[k..]),
            None => (inner, ""),
        };
        let refuse = || format!("${{{inner}}}: only ${{VAR}} and ${{VAR:-default}} translate");
        if !valid_name(name) {
            return w.fail(refuse());
        }
        if rest.is_empty() {
            return w.pieces.push(WPiece::Var(name.to_string()));
        }
        let Some(default) = rest.strip_prefix(":-") else {
            return w.fail(refuse());
        };
        let dw = self.default_word(default, in_dq);
        match dw.problem {
            Some(p) => w.fail(p),
            None => w
                .pieces
                .push(WPiece::VarDefault(name.to_string(), dw.pieces)),
        }
    }

    /// The default of a `${NAME:-default}`, read as bash reads it (in double quotes, as if
    /// double-quoted: no word splitting).
    fn default_word(&self, default: &str, in_dq: bool) -> Word {
        let mut sub = Lexer {
            s: default.chars().collect(),
            i: 0,
            line: self.line,
            heredocs: Vec::new(),
        };
        let mut dw = Word::default();
        while let Some(c) = sub.bump() {
            match c {
                '\\' => {
                    if let Some(e) = sub.bump() {
                        dw.push_lit(e, true);
                    }
                }
                '\'' if !in_dq => sub.single_quoted(&mut dw),
                '"' => sub.double_quoted(&mut dw),
                '$' => sub.dollar(&mut dw, true),
                '`' => sub.backtick(&mut dw),
                _ => dw.push_lit(c, true),
            }
        }
        dw
    }

    /// `$(…)` (only `$(pwd)` translates) or `$((…))`.
    fn command_substitution(&mut self, w: &mut Word) {
        if self.peek() == Some('(') {
            let _ = self.balanced('(', ')');
            return w.fail("arithmetic expansion $((…)): strata files cannot compute values");
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

    /// `$'…'`: ANSI-C quoting, the common escapes.
    pub(super) fn ansi_c(&mut self, w: &mut Word) {
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
pub(super) struct Command {
    pub(super) words: Vec<Word>,
    pub(super) ops: Vec<String>,
    pub(super) first: usize,
    pub(super) last: usize,
}

pub(super) fn commands(text: &str) -> Vec<Command> {
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
