//! The layer file model: one `.strata.toml` (or global/system/context file) parsed and
//! validated, with the line of every key kept for error messages and `strata why`.
//!
//! Parsing uses `toml_edit`'s immutable document, which keeps spans and key order. Anything
//! unexpected (an unknown key, a wrong type, an invalid variable name, a `true` value) is an
//! error naming the file, line and column, and saying what to write instead.

use anyhow::{Result, anyhow};
use std::path::{Path, PathBuf};
use toml_edit::{Item, Key, TableLike, Value};

use crate::display::tilde;
use crate::names::{check_settable, check_value, did_you_mean};

/// Which layer a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/etc/strata/config.toml`.
    System,
    /// `$XDG_CONFIG_HOME/strata/config.toml`.
    Global,
    /// `$XDG_CONFIG_HOME/strata/contexts/<name>.toml`, the active one.
    Context,
    /// `.strata.toml` in a directory.
    Dir,
    /// `.strata.local.toml` beside it.
    DirLocal,
    /// A dotenv file a layer file lists (reported, never parsed as TOML).
    Dotenv,
    /// The session's file (reported, never parsed as a layer).
    Session,
}

impl Kind {
    /// A directory file, which needs trust and may set `root`.
    pub fn is_dir(self) -> bool {
        matches!(self, Kind::Dir | Kind::DirLocal)
    }

    /// How the layer is named in listings.
    pub fn label(self) -> &'static str {
        match self {
            Kind::System => "system",
            Kind::Global => "global",
            Kind::Context => "context",
            Kind::Dir => "directory",
            Kind::DirLocal => "directory (local)",
            Kind::Dotenv => "dotenv",
            Kind::Session => "session",
        }
    }
}

/// A position in a file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line.
    pub line: usize,
    /// Column (in characters).
    pub col: usize,
}

/// One `[env]` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    /// Variable name, validated.
    pub name: String,
    /// The raw (uninterpolated) value; `None` for `false` (unset).
    pub value: Option<String>,
    /// Where the key is.
    pub pos: Pos,
}

/// A written list entry (a path or a file name) and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// As written.
    pub text: String,
    /// Where it is.
    pub pos: Pos,
}

/// One `[aliases]` key: a command name and the words it runs, each word one argument, never
/// shell syntax (`false`: no alias of that name from the layers below).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasEntry {
    /// The alias name, validated ([`check_alias_name`]).
    pub name: String,
    /// The command and its first arguments; `None` for `false`.
    pub argv: Option<Vec<String>>,
    /// Where the key is.
    pub pos: Pos,
}

/// Names the hooks themselves call (or the shells reserve): an alias of one of them could
/// change what a hook does in fish, elvish or tcsh, which look commands up when they run.
const RESERVED_ALIASES: &[&str] = &[
    "alias",
    "and",
    "begin",
    "builtin",
    "case",
    "cd",
    "command",
    "contains",
    "declare",
    "do",
    "done",
    "echo",
    "elif",
    "else",
    "emit",
    "end",
    "endif",
    "esac",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fi",
    "fn",
    "for",
    "foreach",
    "function",
    "functions",
    "if",
    "local",
    "not",
    "or",
    "printf",
    "read",
    "return",
    "set",
    "setenv",
    "source",
    "status",
    "string",
    "switch",
    "test",
    "then",
    "true",
    "typeset",
    "unalias",
    "unset",
    "unsetenv",
    "while",
];

/// Letters, digits, `_` and `-`, at most 64 bytes, starting with a letter or one of
/// `first_too`: a name every hooked shell takes as one plain word.
fn is_word_name(name: &str, first_too: &[u8]) -> bool {
    name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || first_too.contains(&b))
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Why `name` cannot be an alias, if it cannot: a name every hooked shell takes as a command
/// name as it is (letters, digits, `_` and `-`, not starting with `-` or a digit), at most 64
/// bytes, not strata's own (`__strata…`) and not one the hooks depend on.
pub fn check_alias_name(name: &str) -> Result<(), String> {
    if !is_word_name(name, b"_") {
        return Err(format!(
            "`{}` cannot be an alias name: use letters, digits, `_` and `-`, starting with a letter or `_`",
            crate::display::escape(name)
        ));
    }
    if name.starts_with("__strata") || RESERVED_ALIASES.contains(&name) {
        return Err(format!(
            "`{name}` cannot be an alias: the shells' hooks depend on that name"
        ));
    }
    Ok(())
}

/// Why `name` cannot be an event name, if it cannot: letters, digits, `_` and `-`, starting
/// with a letter, at most 64 bytes (a word every shell passes on as it is).
pub fn check_event_name(name: &str) -> Result<(), String> {
    if is_word_name(name, b"") {
        return Ok(());
    }
    Err(format!(
        "`{}` cannot be an event name: use letters, digits, `_` and `-`, starting with a letter (an event is a name your shell's strata_on_enter gets, never code)",
        crate::display::escape(name)
    ))
}

/// One `[dotenv] files` entry: `".env"`, or `{ path = ".env", optional = true }` for a file
/// that may be missing without a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvFile {
    /// The path as written (relative to the file's directory).
    pub path: Entry,
    /// A missing file is not worth a warning.
    pub optional: bool,
}

/// `[path]` or one `[paths.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEdits {
    /// The variable (`PATH` for `[path]`).
    pub var: String,
    /// Entries to put in front, in written order.
    pub prepend: Vec<Entry>,
    /// Entries to put at the back, in written order.
    pub append: Vec<Entry>,
    /// Entries to take out of the list.
    pub remove: Vec<Entry>,
}

/// One setting from `[settings]`, as a dotted key.
#[derive(Debug, Clone)]
pub struct SettingEntry {
    /// Dotted key, e.g. `lock.timeout`.
    pub key: String,
    /// The TOML value.
    pub value: Value,
    /// Where it is.
    pub pos: Pos,
}

/// `[secrets]`: which variables are secrets and where their values are.
///
/// ```toml
/// [secrets]
/// mask = ["DB_PASSWORD"]            # a value from a plain source, shown masked
/// exec_only = ["DEPLOY_KEY"]        # reaches `strata exec` only, never the shell
/// recipients = ["age1…"]            # who `strata secret edit` encrypts this directory's .age files to
/// [secrets.keyring]                 # values `strata set --secret` keeps in a keyring
/// GITHUB_TOKEN = "secret-service"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Variable → keyring, with where the key is.
    pub keyring: Vec<(String, crate::secrets::Store, Pos)>,
    /// Variables shown masked wherever their value comes from.
    pub mask: Vec<String>,
    /// Variables that reach `strata exec` only.
    pub exec_only: Vec<String>,
    /// age recipients for this directory's encrypted files (directory files only).
    pub recipients: Vec<Entry>,
}

/// A parsed layer file.
#[derive(Debug, Clone)]
pub struct LayerFile {
    /// The file, as discovered (not canonicalised).
    pub path: PathBuf,
    /// Which layer.
    pub kind: Kind,
    /// `root = true`: stop inheriting from directories above.
    pub root: bool,
    /// `[env]`, in file order.
    pub env: Vec<EnvEntry>,
    /// `[path]` then `[paths.*]`.
    pub lists: Vec<ListEdits>,
    /// `[dotenv] files`.
    pub dotenv: Vec<DotenvFile>,
    /// `[aliases]`, in file order.
    pub aliases: Vec<AliasEntry>,
    /// `events = [...]`: names the shell's `strata_on_enter`/`strata_on_leave` functions are
    /// given for this directory (directory files only; names, never code).
    pub events: Vec<String>,
    /// `[contexts.NAME.env]`, kept for when that context is active.
    pub contexts: Vec<(String, Vec<EnvEntry>)>,
    /// `[os.OS.env]` for this system, then `[host.NAME.env]` for this host: applied after
    /// `[env]`, in that order. (Their `path`/`paths` edits are in `lists`.)
    pub here: Vec<Vec<EnvEntry>>,
    /// `[settings]`, flattened to dotted keys.
    pub settings: Vec<SettingEntry>,
    /// A context's `color` (prompt colour), context files only.
    pub color: Option<String>,
    /// A context's `protected = true`: switching to it asks first (context files only).
    pub protected: bool,
    /// `[secrets]`.
    pub secrets: Secrets,
    /// The directory relative paths resolve from (`STRATA_DIR`): the file's own directory,
    /// canonical for a directory file (see [`LayerFile::set_dir`]).
    pub dir: PathBuf,
}

impl LayerFile {
    /// The directory relative paths resolve from (`STRATA_DIR`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Resolve relative paths from `dir`: for a directory file, the canonical directory where
    /// it applies, so that a symlink an attacker controls on the way there (and may retarget
    /// later) never ends up in `PATH`.
    pub fn set_dir(&mut self, dir: PathBuf) {
        self.dir = dir;
    }
}

/// Byte offset to line and column.
pub fn pos_of(src: &str, offset: usize) -> Pos {
    let offset = offset.min(src.len());
    let before = &src[..src.floor_char_boundary(offset)];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos { line, col }
}

struct Parser<'a> {
    path: &'a Path,
    src: &'a str,
    /// Byte offset where each line starts, so a position costs a binary search, not a scan.
    line_starts: Vec<usize>,
}

impl Parser<'_> {
    fn pos(&self, span: Option<std::ops::Range<usize>>) -> Pos {
        let Some(span) = span else {
            return Pos::default();
        };
        let offset = self.src.floor_char_boundary(span.start.min(self.src.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        Pos {
            line,
            col: self.src[start..offset].chars().count() + 1,
        }
    }

    /// An error at `pos`. The message may quote the file (a key, TOML's own description), so
    /// control characters in it are escaped here, wherever it is shown later.
    fn err(&self, pos: Pos, msg: impl std::fmt::Display) -> anyhow::Error {
        let msg = msg.to_string();
        anyhow!(
            "{}:{}:{}: {}",
            tilde(self.path),
            pos.line,
            pos.col,
            crate::display::escape(&msg)
        )
    }

    fn key_pos(&self, key: &Key, item: &Item) -> Pos {
        self.pos(key.span().or_else(|| item.span()))
    }

    fn table<'t>(&self, item: &'t Item, key: &Key, what: &str) -> Result<&'t dyn TableLike> {
        item.as_table_like()
            .ok_or_else(|| self.err(self.key_pos(key, item), format!("{what} must be a table")))
    }

    fn keys<'t>(&self, t: &'t dyn TableLike) -> Vec<(&'t Key, &'t Item)> {
        t.iter().filter_map(|(k, _)| t.get_key_value(k)).collect()
    }

    fn unknown(&self, key: &Key, item: &Item, section: &str, known: &[&str]) -> anyhow::Error {
        let hint = match did_you_mean(key.get(), known) {
            Some(s) => format!(" (did you mean `{s}`?)"),
            None => format!(" (expected one of: {})", known.join(", ")),
        };
        self.err(
            self.key_pos(key, item),
            format!("unknown key `{}` in {section}{hint}", key.get()),
        )
    }

    fn var_name(&self, key: &Key, item: &Item) -> Result<String> {
        let name = key.get();
        check_settable(name).map_err(|msg| self.err(self.key_pos(key, item), msg))?;
        Ok(name.to_string())
    }

    fn env_table(&self, t: &dyn TableLike) -> Result<Vec<EnvEntry>> {
        let mut out = Vec::new();
        for (key, item) in self.keys(t) {
            let name = self.var_name(key, item)?;
            let pos = self.key_pos(key, item);
            let value = match item.as_value() {
                Some(Value::String(s)) => {
                    check_value(s.value().as_bytes())
                        .map_err(|msg| self.err(pos, format!("{name}: {msg}")))?;
                    Some(s.value().clone())
                }
                Some(Value::Integer(i)) => Some(i.value().to_string()),
                Some(Value::Boolean(b)) if !*b.value() => None,
                Some(Value::Boolean(_)) => {
                    return Err(self.err(
                        pos,
                        format!("{name} = true is not a value: write a string (\"1\", \"true\"), or false to unset {name}"),
                    ));
                }
                _ => {
                    return Err(self.err(
                        pos,
                        format!("{name} must be a string, an integer, or false (to unset it)"),
                    ));
                }
            };
            out.push(EnvEntry { name, value, pos });
        }
        Ok(out)
    }

    fn strings(&self, key: &Key, item: &Item) -> Result<Vec<Entry>> {
        let pos = self.key_pos(key, item);
        let arr = item
            .as_array()
            .ok_or_else(|| self.err(pos, format!("`{}` must be an array of strings", key.get())))?;
        arr.iter()
            .map(|v| match v {
                Value::String(s) => Ok(Entry {
                    text: s.value().clone(),
                    pos: self.pos(v.span()),
                }),
                _ => Err(self.err(
                    self.pos(v.span()),
                    format!("`{}` must contain only strings", key.get()),
                )),
            })
            .collect()
    }

    fn dotenv_files(&self, key: &Key, item: &Item) -> Result<Vec<DotenvFile>> {
        let pos = self.key_pos(key, item);
        let arr = item.as_array().ok_or_else(|| {
            self.err(
                pos,
                "`files` must be an array of paths or { path = …, optional = true } tables",
            )
        })?;
        let mut out = Vec::new();
        for v in arr.iter() {
            let at = self.pos(v.span());
            let entry = match v {
                Value::String(s) => DotenvFile {
                    path: Entry {
                        text: s.value().clone(),
                        pos: at,
                    },
                    optional: false,
                },
                Value::InlineTable(t) => {
                    let mut path = None;
                    let mut optional = false;
                    for (k, item) in t.iter() {
                        match (k, item) {
                            ("path", Value::String(s)) => path = Some(s.value().clone()),
                            ("optional", Value::Boolean(b)) => optional = *b.value(),
                            ("path" | "optional", _) => {
                                return Err(self.err(
                                    at,
                                    format!(
                                        "`{k}` must be {}",
                                        if k == "path" {
                                            "a string"
                                        } else {
                                            "true or false"
                                        }
                                    ),
                                ));
                            }
                            _ => {
                                let hint = did_you_mean(k, &["path", "optional"])
                                    .map(|s| format!(" (did you mean `{s}`?)"))
                                    .unwrap_or_default();
                                return Err(self.err(
                                    at,
                                    format!("unknown key `{k}` in a dotenv entry{hint}"),
                                ));
                            }
                        }
                    }
                    let text =
                        path.ok_or_else(|| self.err(at, "a dotenv entry needs `path = \"…\"`"))?;
                    DotenvFile {
                        path: Entry { text, pos: at },
                        optional,
                    }
                }
                _ => {
                    return Err(self.err(
                        at,
                        "`files` must contain paths or { path = …, optional = true } tables",
                    ));
                }
            };
            out.push(entry);
        }
        Ok(out)
    }

    fn list_edits(&self, var: String, t: &dyn TableLike) -> Result<ListEdits> {
        let mut edits = ListEdits {
            var,
            prepend: Vec::new(),
            append: Vec::new(),
            remove: Vec::new(),
        };
        for (key, item) in self.keys(t) {
            match key.get() {
                "prepend" => edits.prepend = self.strings(key, item)?,
                "append" => edits.append = self.strings(key, item)?,
                "remove" => edits.remove = self.strings(key, item)?,
                _ => {
                    return Err(self.unknown(
                        key,
                        item,
                        "a path table",
                        &["prepend", "append", "remove"],
                    ));
                }
            }
        }
        Ok(edits)
    }

    fn settings(&self, prefix: &str, t: &dyn TableLike, out: &mut Vec<SettingEntry>) -> Result<()> {
        for (key, item) in self.keys(t) {
            let dotted = if prefix.is_empty() {
                key.get().to_string()
            } else {
                format!("{prefix}.{}", key.get())
            };
            if let Some(inner) = item.as_table_like() {
                self.settings(&dotted, inner, out)?;
            } else if let Some(v) = item.as_value() {
                out.push(SettingEntry {
                    key: dotted,
                    value: v.clone(),
                    pos: self.key_pos(key, item),
                });
            }
        }
        Ok(())
    }
}

/// Parse and validate one layer file from its bytes.
pub fn parse(path: &Path, kind: Kind, bytes: &[u8]) -> Result<LayerFile> {
    let src = std::str::from_utf8(bytes).map_err(|e| {
        let pos = pos_of(
            &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
            e.valid_up_to(),
        );
        anyhow!(
            "{}:{}:{}: not a text file (invalid UTF-8 at byte {}); a strata file is TOML",
            tilde(path),
            pos.line,
            pos.col,
            e.valid_up_to()
        )
    })?;
    let line_starts = std::iter::once(0)
        .chain(src.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let p = Parser {
        path,
        src,
        line_starts,
    };
    let doc = toml_edit::Document::parse(src).map_err(|e| {
        let pos = p.pos(e.span());
        let msg = e.message().trim().replace('\n', " ");
        p.err(pos, format!("invalid TOML: {msg}"))
    })?;
    let mut file = LayerFile {
        path: path.to_path_buf(),
        kind,
        root: false,
        env: Vec::new(),
        lists: Vec::new(),
        dotenv: Vec::new(),
        aliases: Vec::new(),
        events: Vec::new(),
        contexts: Vec::new(),
        here: Vec::new(),
        settings: Vec::new(),
        color: None,
        protected: false,
        secrets: Secrets::default(),
        dir: path.parent().unwrap_or(Path::new("/")).to_path_buf(),
    };
    for (key, item) in p.keys(doc.as_table()) {
        p.top_level(&mut file, key, item)?;
    }
    Ok(file)
}

impl Parser<'_> {
    /// One top-level key of a file of `file.kind`.
    fn top_level(&self, file: &mut LayerFile, key: &Key, item: &Item) -> Result<()> {
        let kind = file.kind;
        match key.get() {
            "events" if kind.is_dir() => {
                for e in self.strings(key, item)? {
                    check_event_name(&e.text).map_err(|msg| self.err(e.pos, msg))?;
                    file.events.push(e.text);
                }
            }
            "root" if kind.is_dir() => {
                file.root = item.as_bool().ok_or_else(|| {
                    self.err(self.key_pos(key, item), "root must be true or false")
                })?;
            }
            "color" | "description" if kind == Kind::Context => {
                let text = item.as_str().ok_or_else(|| {
                    self.err(
                        self.key_pos(key, item),
                        format!("{} must be a string", key.get()),
                    )
                })?;
                if key.get() == "color" {
                    if crate::display::ansi_color(text).is_none() {
                        return Err(self.err(
                            self.key_pos(key, item),
                            format!("unknown color {text:?} (use a name like red, green, yellow, blue, magenta, cyan, white, bright-red…, or 0-255)"),
                        ));
                    }
                    file.color = Some(text.to_string());
                }
            }
            "protected" if kind == Kind::Context => {
                file.protected = item.as_bool().ok_or_else(|| {
                    self.err(self.key_pos(key, item), "protected must be true or false")
                })?;
            }
            "env" => file.env = self.env_table(self.table(item, key, "[env]")?)?,
            "path" => {
                let edits = self.list_edits("PATH".into(), self.table(item, key, "[path]")?)?;
                file.lists.insert(0, edits);
            }
            "paths" => {
                for (k, i) in self.keys(self.table(item, key, "[paths]")?) {
                    let var = self.var_name(k, i)?;
                    let t = self.table(i, k, &format!("[paths.{var}]"))?;
                    file.lists.push(self.list_edits(var, t)?);
                }
            }
            "dotenv" => {
                for (k, i) in self.keys(self.table(item, key, "[dotenv]")?) {
                    match k.get() {
                        "files" => file.dotenv = self.dotenv_files(k, i)?,
                        _ => return Err(self.unknown(k, i, "[dotenv]", &["files"])),
                    }
                }
            }
            "aliases" => file.aliases = self.aliases(self.table(item, key, "[aliases]")?)?,
            "contexts" => file.contexts = self.contexts(self.table(item, key, "[contexts]")?)?,
            "os" | "host" => self.platform(file, key, item)?,
            "secrets" => {
                file.secrets = self.secrets(kind, self.table(item, key, "[secrets]")?)?;
            }
            "settings" => {
                self.settings("", self.table(item, key, "[settings]")?, &mut file.settings)?
            }
            _ => {
                let mut known = vec![
                    "env", "path", "paths", "dotenv", "aliases", "contexts", "os", "host",
                    "secrets", "settings",
                ];
                if kind.is_dir() {
                    known.insert(0, "root");
                    known.push("events");
                }
                if kind == Kind::Context {
                    known.extend(["color", "description", "protected"]);
                }
                return Err(self.unknown(key, item, "the top level", &known));
            }
        }
        Ok(())
    }

    /// `[os.OS]` or `[host.NAME]` sections: each is checked, and the one for this system (or
    /// this host) is kept, for after `[env]` and the file's own list edits.
    fn platform(&self, file: &mut LayerFile, key: &Key, item: &Item) -> Result<()> {
        let by_os = key.get() == "os";
        let what = if by_os { "[os]" } else { "[host]" };
        for (name, section) in self.keys(self.table(item, key, what)?) {
            let label = format!("[{}.{}]", key.get(), name.get());
            if by_os && !OS_NAMES.contains(&name.get()) {
                let hint = match did_you_mean(name.get(), OS_NAMES) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => format!(" (one of: {})", OS_NAMES.join(", ")),
                };
                return Err(self.err(
                    self.key_pos(name, section),
                    format!("unknown system `{}` in [os]{hint}", name.get()),
                ));
            }
            let here = if by_os {
                name.get() == std::env::consts::OS
            } else {
                this_host()
                    .is_some_and(|h| h == name.get() || h.split('.').next() == Some(name.get()))
            };
            let t = self.table(section, name, &label)?;
            let mut env = Vec::new();
            let mut lists = Vec::new();
            for (k, i) in self.keys(t) {
                match k.get() {
                    "env" => env = self.env_table(self.table(i, k, &format!("{label}.env"))?)?,
                    "path" => lists.insert(
                        0,
                        self.list_edits("PATH".into(), self.table(i, k, "path")?)?,
                    ),
                    "paths" => {
                        for (pk, pi) in self.keys(self.table(i, k, "paths")?) {
                            let var = self.var_name(pk, pi)?;
                            let pt = self.table(pi, pk, &format!("paths.{var}"))?;
                            lists.push(self.list_edits(var, pt)?);
                        }
                    }
                    _ => return Err(self.unknown(k, i, &label, &["env", "path", "paths"])),
                }
            }
            if here {
                file.here.push(env);
                file.lists.extend(lists);
            }
        }
        Ok(())
    }

    /// `[aliases]`: `NAME = ["command", "arg", …]` or `NAME = false`.
    fn aliases(&self, t: &dyn TableLike) -> Result<Vec<AliasEntry>> {
        let mut out = Vec::new();
        for (key, item) in self.keys(t) {
            let pos = self.key_pos(key, item);
            check_alias_name(key.get()).map_err(|msg| self.err(pos, msg))?;
            let shape = || {
                self.err(
                    pos,
                    format!(
                        "alias `{}` must be an array of words, the command first (`{} = [\"cargo\", \"test\"]`), or false",
                        key.get(),
                        key.get()
                    ),
                )
            };
            let argv = match item.as_value() {
                Some(Value::Boolean(b)) if !*b.value() => None,
                Some(Value::Array(_)) => {
                    let words = self.strings(key, item)?;
                    if words.first().is_none_or(|w| w.text.is_empty()) {
                        return Err(shape());
                    }
                    if let Some(w) = words.iter().find(|w| w.text.contains('\0')) {
                        return Err(self.err(w.pos, "an alias word cannot hold a NUL byte"));
                    }
                    Some(words.into_iter().map(|w| w.text).collect())
                }
                _ => return Err(shape()),
            };
            out.push(AliasEntry {
                name: key.get().to_string(),
                argv,
                pos,
            });
        }
        Ok(out)
    }

    /// `[secrets]`.
    fn secrets(&self, kind: Kind, t: &dyn TableLike) -> Result<Secrets> {
        let mut out = Secrets::default();
        let names = |key: &Key, item: &Item| -> Result<Vec<String>> {
            self.strings(key, item)?
                .into_iter()
                .map(|e| {
                    check_settable(&e.text).map_err(|msg| self.err(e.pos, msg))?;
                    Ok(e.text)
                })
                .collect()
        };
        for (key, item) in self.keys(t) {
            match key.get() {
                "mask" => out.mask = names(key, item)?,
                "exec_only" => out.exec_only = names(key, item)?,
                "recipients" if kind.is_dir() => out.recipients = self.strings(key, item)?,
                "keyring" => {
                    for (k, i) in self.keys(self.table(item, key, "[secrets.keyring]")?) {
                        let name = self.var_name(k, i)?;
                        let pos = self.key_pos(k, i);
                        let store = i
                            .as_str()
                            .and_then(crate::secrets::Store::parse)
                            .ok_or_else(|| {
                                self.err(
                                    pos,
                                    format!(
                                        "{name} must name a keyring: one of {} (strata set --secret writes it)",
                                        crate::secrets::Store::NAMES.join(", ")
                                    ),
                                )
                            })?;
                        out.keyring.push((name, store, pos));
                    }
                }
                _ => {
                    let mut known = vec!["keyring", "mask", "exec_only"];
                    if kind.is_dir() {
                        known.push("recipients");
                    }
                    return Err(self.unknown(key, item, "[secrets]", &known));
                }
            }
        }
        Ok(out)
    }

    /// `[contexts.NAME.env]` sections.
    fn contexts(&self, t: &dyn TableLike) -> Result<Vec<(String, Vec<EnvEntry>)>> {
        let mut out = Vec::new();
        for (name, ctx) in self.keys(t) {
            let t = self.table(ctx, name, "a context section")?;
            let mut env = Vec::new();
            for (k, i) in self.keys(t) {
                match k.get() {
                    "env" => env = self.env_table(self.table(i, k, "env")?)?,
                    _ => return Err(self.unknown(k, i, "a [contexts.NAME] section", &["env"])),
                }
            }
            out.push((name.get().to_string(), env));
        }
        Ok(out)
    }
}

/// The systems `[os.NAME]` may name (Rust's names for them: `std::env::consts::OS`).
const OS_NAMES: &[&str] = &[
    "linux",
    "macos",
    "freebsd",
    "netbsd",
    "openbsd",
    "dragonfly",
    "illumos",
    "solaris",
    "android",
    "ios",
    "windows",
];

/// This machine's host name, as `uname -n` gives it.
fn this_host() -> Option<String> {
    static HOST: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let name = rustix::system::uname()
            .nodename()
            .to_str()
            .ok()?
            .to_string();
        (!name.is_empty()).then_some(name)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_dir(src: &str) -> Result<LayerFile> {
        parse(Path::new("/p/.strata.toml"), Kind::Dir, src.as_bytes())
    }

    #[test]
    fn full_file_parses_in_order() {
        let f = parse_dir(
            r#"root = true
[env]
B = "b"
A = 1
OLD = false
[path]
prepend = ["bin", "node_modules/.bin"]
[paths.PYTHONPATH]
append = ["lib"]
[dotenv]
files = [".env"]
[contexts.prod.env]
API = "x"
[settings]
log = "quiet"
lock.timeout = "1s"
"#,
        )
        .unwrap();
        assert!(f.root);
        let names: Vec<_> = f
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_deref()))
            .collect();
        assert_eq!(names, [("B", Some("b")), ("A", Some("1")), ("OLD", None)]);
        assert_eq!(f.env[1].pos, Pos { line: 4, col: 1 });
        assert_eq!(f.lists[0].var, "PATH");
        assert_eq!(f.lists[0].prepend[1].text, "node_modules/.bin");
        assert_eq!(f.lists[1].var, "PYTHONPATH");
        assert_eq!(f.dotenv[0].path.text, ".env");
        assert!(!f.dotenv[0].optional);
        let g =
            parse_dir("[dotenv]\nfiles = [\"a\", { path = \".env.local\", optional = true }]\n")
                .unwrap();
        assert_eq!(g.dotenv[1].path.text, ".env.local");
        assert!(g.dotenv[1].optional);
        let e = parse_dir("[dotenv]\nfiles = [{ paht = \"x\" }]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `path`"), "{e}");
        assert_eq!(f.contexts[0].0, "prod");
        let keys: Vec<_> = f.settings.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["log", "lock.timeout"]);
    }

    #[test]
    fn errors_name_file_line_and_fix() {
        let e = parse_dir("[env]\nOK = \"1\"\n\"1BAD\" = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/p/.strata.toml:3:1: invalid variable name \"1BAD\""),
            "{e}"
        );
        let e = parse_dir("[env]\nX = true\n").unwrap_err().to_string();
        assert!(e.contains(":2:1: X = true is not a value"), "{e}");
        let e = parse_dir("[evn]\nX = \"1\"\n").unwrap_err().to_string();
        assert!(
            e.contains("unknown key `evn`") && e.contains("did you mean `env`"),
            "{e}"
        );
        let e = parse_dir("[env\n").unwrap_err().to_string();
        assert!(
            e.starts_with("/p/.strata.toml:1:") && e.contains("invalid TOML"),
            "{e}"
        );
        let e = parse(Path::new("/p/x"), Kind::Dir, b"a = \xff\xfe")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a text file"), "{e}");
        let e = parse_dir("[env]\nPWD = \"/\"\n").unwrap_err().to_string();
        assert!(e.contains("PWD is managed"), "{e}");
    }

    #[test]
    fn protected_only_in_context_files_and_only_a_boolean() {
        let ctx = |src: &str| parse(Path::new("/c/prod.toml"), Kind::Context, src.as_bytes());
        assert!(ctx("protected = true\n").unwrap().protected);
        assert!(!ctx("protected = false\n").unwrap().protected);
        assert!(!ctx("[env]\n").unwrap().protected);
        let e = ctx("protected = \"yes\"\n").unwrap_err().to_string();
        assert!(e.contains(":1:1: protected must be true or false"), "{e}");
        let e = parse_dir("protected = true\n").unwrap_err().to_string();
        assert!(e.contains("unknown key `protected`"), "{e}");
    }

    #[test]
    fn root_only_in_directory_files() {
        let e = parse(Path::new("/c.toml"), Kind::Global, b"root = true").unwrap_err();
        assert!(e.to_string().contains("unknown key `root`"), "{e}");
    }
}
