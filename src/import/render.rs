//! Rendering a translation as a `.strata.toml`: values as TOML strings with `${…}`
//! references, list entries relative to the file, and the untranslated lines as comments.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::Translation;
use super::one_line;
use super::translate::{Piece, Res, Translator, VarState};

pub(super) struct Renderer<'a> {
    /// Exported variables with a value: name → index of the assignment that is final.
    pub(super) finals: HashMap<&'a str, usize>,
}

impl Renderer<'_> {
    pub(super) fn render(
        &self,
        pieces: &[Piece],
        entry: Option<&str>,
        out: &mut String,
    ) -> Res<()> {
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
pub(super) fn clean_entry(s: &str) -> String {
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

pub(super) fn render_entry(r: &Renderer<'_>, pieces: &[Piece]) -> Res<String> {
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

/// The translation as a `.strata.toml`: `root`, `[env]`, `[path]`/`[paths.*]`, `[dotenv]`,
/// then the lines that were not translated, as comments.
pub(super) fn render(text: &str, mut t: Translator) -> Translation {
    let mut vars: Vec<(&String, &VarState)> = t.vars.iter().collect();
    vars.sort_by_key(|(_, v)| v.order);
    let finals: HashMap<&str, usize> = vars
        .iter()
        .filter(|(_, v)| v.exported && v.value.is_some())
        .map(|(n, v)| (n.as_str(), v.idx))
        .collect();
    let r = Renderer { finals };
    let mut more = More::default();
    let mut doc = toml_edit::DocumentMut::new();
    doc["root"] = toml_edit::value(t.source_up.is_none());
    let (env, local) = env_table(&r, &vars, &mut more);
    if !env.is_empty() {
        doc["env"] = toml_edit::Item::Table(env);
    }
    list_tables(&r, &t, &mut doc, &mut more);
    if !t.dotenv.is_empty() {
        doc["dotenv"] = toml_edit::Item::Table(dotenv_table(&t.dotenv));
    }
    if !t.aliases.is_empty() {
        let mut table = toml_edit::Table::new();
        for (name, words, _) in &t.aliases {
            table[name.as_str()] = toml_edit::value(words.iter().collect::<toml_edit::Array>());
        }
        doc["aliases"] = toml_edit::Item::Table(table);
    }
    t.local_lines.extend(local);
    for (name, line) in &t.local_lines {
        t.notes.push(format!(
            "line {line}: {name} is set but not exported, so direnv does not put it in the environment (unless your shell already exports it); it is only used where the .envrc refers to it"
        ));
    }
    t.untranslated.extend(more.untranslated);
    t.notes.extend(more.notes);
    let untranslated = untranslated_lines(text, t.untranslated);
    let mut notes = t.notes;
    notes.insert(
        0,
        match t.source_up {
            Some(line) => format!(
                "line {line}: source_up → root = false: strata applies every .strata.toml above this directory by default (import the parent .envrc files too)"
            ),
            None => "no source_up: direnv loads only this .envrc, so root = true stops strata from applying .strata.toml files above it".into(),
        },
    );
    let mut toml = String::from("# Imported from .envrc by `strata import direnv`.\n");
    toml.push_str(&doc.to_string());
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

/// What rendering found beside the tables: lines it could not render, and notes.
#[derive(Default)]
struct More {
    untranslated: Vec<(usize, String)>,
    notes: Vec<String>,
}

/// `[env]`: exported values and unsets; also the variables set but never exported.
fn env_table(
    r: &Renderer<'_>,
    vars: &[(&String, &VarState)],
    more: &mut More,
) -> (toml_edit::Table, Vec<(String, usize)>) {
    let mut env = toml_edit::Table::new();
    let mut local = Vec::new();
    for (name, v) in vars {
        match (&v.value, v.exported) {
            (Some(val), true) => {
                let mut s = String::new();
                match r.render(val, Some(name), &mut s) {
                    // One line per value: a multi-line string would show lines that look like
                    // TOML of their own to whoever reviews the file.
                    Ok(()) if s.chars().any(char::is_control) => {
                        let one: toml_edit::Value = crate::codec::toml_basic(&s)
                            .parse()
                            .expect("a basic string is a TOML value");
                        env[name.as_str()] = toml_edit::value(one);
                    }
                    Ok(()) => env[name.as_str()] = toml_edit::value(s),
                    Err(e) => more.untranslated.push((v.line, e)),
                }
            }
            (None, _) if v.unset => env[name.as_str()] = toml_edit::value(false),
            (Some(_), false) => local.push(((*name).clone(), v.line)),
            _ => {}
        }
    }
    (env, local)
}

/// `[path]` and `[paths.VAR]`: each list's prepend and append entries.
fn list_tables(
    r: &Renderer<'_>,
    t: &Translator,
    doc: &mut toml_edit::DocumentMut,
    more: &mut More,
) {
    let mut paths = toml_edit::Table::new();
    paths.set_implicit(true);
    for (var, edits) in &t.lists {
        let mut table = toml_edit::Table::new();
        for (key, entries) in [
            ("prepend", &edits.prepend),
            ("append", &edits.append),
            ("remove", &edits.remove),
        ] {
            let mut arr = toml_edit::Array::new();
            for (e, line) in entries {
                match render_entry(r, e) {
                    Ok(s) => {
                        if s == ".." || s.starts_with("../") {
                            more.notes.push(format!(
                                "line {line}: direnv adds {s} to {var} as a clean absolute path (the parent directory's path); strata adds it as DIR/{s}, the same directory spelled differently"
                            ));
                        }
                        arr.push(s);
                    }
                    Err(err) => more.untranslated.push((*line, err)),
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
}

/// `[dotenv] files`, an optional file as `{ path = …, optional = true }`.
fn dotenv_table(files: &[(String, bool)]) -> toml_edit::Table {
    let mut table = toml_edit::Table::new();
    let files: toml_edit::Array = files
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
    table
}

/// The untranslated lines with their text, once each, in order, without blank lines and
/// comments.
fn untranslated_lines(text: &str, mut lines: Vec<(usize, String)>) -> Vec<(usize, String, String)> {
    let source: Vec<&str> = text.lines().collect();
    lines.sort_by_key(|(l, _)| *l);
    lines.dedup_by_key(|(l, _)| *l);
    lines
        .into_iter()
        .filter_map(|(line, reason)| {
            let text = source.get(line - 1).map_or("", |l| l.trim_end());
            let trimmed = text.trim_start();
            (!trimmed.is_empty() && !trimmed.starts_with('#'))
                .then(|| (line, text.to_string(), reason))
        })
        .collect()
}
