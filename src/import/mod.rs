//! Migration: translate a direnv `.envrc`, the `[env]` of a `mise.toml` ([`from_mise`]) or a
//! dotenv file into the equivalent `.strata.toml`.
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
//! | `PATH_rm /abs/dir…`, `path_rm VAR /abs/dir…` (no globs) | `[path] remove`, `[paths.VAR] remove` |
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

mod lex;
mod mise;
mod render;
mod translate;

pub use mise::from_mise;

use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::layers::dotenv;
use crate::names::check_settable;
use lex::commands;
use render::clean_entry;
use translate::{Translator, block_effect, block_name};

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

/// Translate a direnv `.envrc` (its text) into a `.strata.toml`. Never fails: what cannot be
/// translated is listed in [`Translation::untranslated`].
pub fn from_envrc(text: &str) -> Translation {
    let mut t = Translator::default();
    let mut stack: Vec<(String, usize)> = Vec::new();
    let cmds = commands(text);
    let mut i = 0;
    while i < cmds.len() {
        if stack.is_empty()
            && let Some((name, words, used)) = translate::function_alias(&cmds[i..])
        {
            t.alias(name, words, cmds[i].first);
            t.statements_before += 1;
            i += used;
            continue;
        }
        let c = &cmds[i];
        i += 1;
        let before = stack.clone();
        block_effect(c, &mut stack);
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
            t.statement(c)
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
    render::render(text, t)
}

// ---------------------------------------------------------------------------------------------
// Rendering.
// ---------------------------------------------------------------------------------------------

pub(crate) fn one_line(s: &str) -> String {
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
