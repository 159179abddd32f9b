//! Rendering environment changes for one shell.
//!
//! This module knows about quoting and statements, nothing about files: callers hand it
//! variable names (already validated) and values as bytes, and get back what the hook applies.
//! For bash, zsh, fish, elvish and tcsh that is code made only of quoted literals; nushell
//! cannot evaluate code it did not parse at start-up, and xonsh is best given no code at all,
//! so for those two it is a JSON document the hook reads with its own parser ([`Data`]).
//!
//! Every value round-trips byte-exactly where the shell can hold it. Where it cannot (nushell
//! strings are UTF-8; tcsh reads bytes outside ASCII by its locale), [`Script::set`] refuses
//! the value and says why, and the caller reports it; nothing half-quoted is ever printed.

mod elvish;
mod fish;
mod nu;
mod posix;
mod tcsh;
mod xonsh;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

pub use tcsh::reads_bytes_as_they_are as tcsh_reads_bytes_as_they_are;

/// Whether the tcsh that started this strata reads bytes above 0x7f as they are, by the
/// locale variables it passed on ([`tcsh_reads_bytes_as_they_are`]).
pub fn tcsh_reads_bytes() -> bool {
    use std::os::unix::ffi::OsStrExt;
    let var = |name: &str| std::env::var_os(name).map(|v| v.as_bytes().to_vec());
    tcsh_reads_bytes_as_they_are(
        var("LC_ALL").as_deref(),
        var("LC_CTYPE").as_deref(),
        var("LANG").as_deref(),
    )
}

/// A shell strata can print code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// GNU bash 4 and later.
    Bash,
    /// zsh 5 and later.
    Zsh,
    /// fish 3 and later.
    Fish,
    /// nushell 0.100 and later.
    #[value(alias = "nushell")]
    Nu,
    /// elvish 0.19 and later.
    Elvish,
    /// xonsh 0.13 and later.
    Xonsh,
    /// tcsh 6.
    Tcsh,
}

impl Shell {
    /// Parse a shell name as written on the command line.
    pub fn from_name(name: &OsStr) -> Option<Shell> {
        match name.as_bytes() {
            b"bash" => Some(Shell::Bash),
            b"zsh" => Some(Shell::Zsh),
            b"fish" => Some(Shell::Fish),
            b"nu" | b"nushell" => Some(Shell::Nu),
            b"elvish" => Some(Shell::Elvish),
            b"xonsh" => Some(Shell::Xonsh),
            b"tcsh" => Some(Shell::Tcsh),
            _ => None,
        }
    }

    /// The name `strata hook` and `strata export` take.
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Nu => "nu",
            Shell::Elvish => "elvish",
            Shell::Xonsh => "xonsh",
            Shell::Tcsh => "tcsh",
        }
    }

    /// Whether this shell's output is a JSON document ([`Data`]) rather than code.
    fn takes_data(self) -> bool {
        matches!(self, Shell::Nu | Shell::Xonsh)
    }

    /// Whether the hook can decide with builtins alone that nothing changed. elvish (0.19, as
    /// Debian ships it) has no builtin that reads a file's modification time, so its hook asks
    /// strata at every prompt.
    pub fn has_fresh_test(self) -> bool {
        self != Shell::Elvish
    }

    /// `value` quoted as one word (for nu and xonsh: one JSON string) for this shell, appended
    /// to `out`. tcsh gets bytes outside ASCII as they are (see `tcsh.rs` for when that is
    /// safe); nu gets a value that is not UTF-8 with replacement characters, so callers check
    /// [`Shell::refusal`] first.
    pub fn push_quoted(self, out: &mut Vec<u8>, value: &[u8]) {
        match self {
            Shell::Bash | Shell::Zsh => posix::push(out, value),
            Shell::Fish => fish::push(out, value),
            Shell::Nu => nu::push(out, value),
            Shell::Elvish => elvish::push(out, value),
            Shell::Xonsh => xonsh::push(out, value),
            Shell::Tcsh => tcsh::push(out, value),
        }
    }

    /// `value` quoted as one word for this shell, as text. For tcsh, bytes outside ASCII that
    /// are not UTF-8 cannot be text: use [`Shell::push_quoted`] where a value may hold them.
    pub fn quote(self, value: &[u8]) -> String {
        let mut out = Vec::with_capacity(value.len() + 2);
        self.push_quoted(&mut out, value);
        String::from_utf8(out).unwrap_or_else(|e| {
            debug_assert!(
                false,
                "{self:?} quoted a value into bytes that are not UTF-8"
            );
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        })
    }

    /// `value` as a literal in this shell's hook script (`shell/hook.*`): for nu a raw string,
    /// for xonsh the hex of the bytes (the script decodes it), for the others a quoted word.
    /// `Err` says why this shell cannot be given it (`raw_bytes` as for [`Shell::refusal`]).
    pub fn script_literal(self, value: &[u8], raw_bytes: bool) -> Result<Vec<u8>, String> {
        if let Some(why) = self.refusal("_", value, raw_bytes) {
            return Err(why);
        }
        let mut out = Vec::with_capacity(value.len() + 2);
        match self {
            Shell::Nu => out.extend_from_slice(
                nu::literal(std::str::from_utf8(value).map_err(|e| e.to_string())?).as_bytes(),
            ),
            _ => self.push_quoted(&mut out, value),
        }
        Ok(out)
    }

    /// Why this shell cannot be given `name=value`, if it cannot. `raw_bytes`: tcsh reads bytes
    /// outside ASCII as they are in the locale it runs in ([`tcsh_reads_bytes_as_they_are`]).
    pub fn refusal(self, name: &str, value: &[u8], raw_bytes: bool) -> Option<String> {
        match self {
            Shell::Nu => nu::refusal(name, value),
            Shell::Tcsh => tcsh::refusal(value, raw_bytes),
            _ => None,
        }
    }
}

/// Append `\` `letter` and two hex digits for `b` (`\x1b`; fish also has `\X` for raw bytes).
pub(crate) fn push_hex_escape(out: &mut Vec<u8>, letter: u8, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[
        b'\\',
        letter,
        HEX[usize::from(b >> 4)],
        HEX[usize::from(b & 15)],
    ]);
}

/// Bytes that never need quoting in bash, zsh, fish and tcsh.
pub(crate) fn is_plain(value: &[u8]) -> bool {
    !value.is_empty()
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"_-./:,+@".contains(&b))
}

const FRESH_BASH: &str = include_str!("../../shell/fresh.bash");
const FRESH_ZSH: &str = include_str!("../../shell/fresh.zsh");
const FRESH_FISH: &str = include_str!("../../shell/fresh.fish");
const FRESH_TCSH: &str = include_str!("../../shell/fresh.tcsh");
const ASK_TCSH: &str = include_str!("../../shell/ask.tcsh");

/// A tcsh file as strata writes it: without its comment lines, which tcsh would read each time
/// it sources the file.
pub(crate) fn uncommented(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// tcsh's own test (`shell/fresh.tcsh`): before the first export, and after one that could not
/// write its test ([`tcsh_fresh`]).
pub fn tcsh_own_fresh() -> String {
    uncommented(FRESH_TCSH)
}

/// What tcsh's test files source to ask strata (`shell/ask.tcsh`).
pub fn tcsh_ask() -> String {
    uncommented(ASK_TCSH)
}

/// The shape of an export's tcsh test: what its file spells out. The values themselves are
/// in the variables the export sets ([`Fresh`]), so one file serves every export of a shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcshShape {
    /// Whether `STRATA_CONTEXT` was set (a variable tcsh cannot name while it is unset).
    pub context_set: bool,
    /// Whether `STRATA_SESSION` was set.
    pub session_set: bool,
    /// How many paths must not be newer than the stamp (`$__strata_w`).
    pub newer: usize,
    /// How many paths must still not exist (`$__strata_a`).
    pub absent: usize,
}

/// The file tcsh sources before each prompt after an export of `shape`: one `if` of every
/// test, spelled out, which asks strata (`shell/ask.tcsh`) when one says something can have
/// changed; a `foreach` over the paths, or an `if` block per variable, costs tcsh more than
/// the tests in them. tcsh substitutes a whole line before it runs any of it, so a variable it
/// compares must be known to be set: those that were set get a block that checks first.
/// tcsh's `-M` has whole seconds: a path dated in the stamp's second counts as changed.
pub fn tcsh_fresh(shape: TcshShape) -> String {
    let vars = [
        ("STRATA_CONTEXT", "ctx", shape.context_set),
        ("STRATA_SESSION", "ses", shape.session_set),
    ];
    let mut out = String::from("set __strata_status = $status\n");
    let mut terms = Vec::new();
    let set: Vec<_> = vars.iter().filter(|v| v.2).collect();
    if !set.is_empty() {
        let known: Vec<String> = set.iter().map(|(n, _, _)| format!("$?{n}")).collect();
        let differ: Vec<String> = set
            .iter()
            .map(|(n, v, _)| format!("\"${n}:q\" != \"$__strata_{v}:q\""))
            .collect();
        out.push_str(&format!(
            "@ __strata_ok = ( {} )\nif ( $__strata_ok ) then\n    if ( {} ) set __strata_ok = 0\nendif\n",
            known.join(" && "),
            differ.join(" || ")
        ));
        terms.push("! $__strata_ok".to_string());
    }
    terms.extend(
        vars.iter()
            .filter(|v| !v.2)
            .map(|(n, _, _)| format!("$?{n}")),
    );
    terms.push("\"$cwd:q\" != \"$__strata_cwd:q\"".to_string());
    if shape.newer > 0 {
        out.push_str("@ __strata_since = -M $__strata_stamp:q\n");
    }
    terms.extend((1..=shape.newer).map(|i| format!("-M $__strata_w[{i}]:q >= $__strata_since")));
    terms.extend((1..=shape.absent).map(|i| format!("-e $__strata_a[{i}]:q")));
    out.push_str(&format!(
        "if ( {} ) source $__strata_ask:q\nset status = $__strata_status\n",
        terms.join(" || ")
    ));
    out
}

/// What lets the hook skip strata at a prompt, decided with builtins only: the place the last
/// export was computed for, the paths that must not be newer than the shell's stamp file
/// (which strata dates just before it reads anything), the paths that must still not exist,
/// and the earliest expiry.
#[derive(Debug, Default)]
pub struct Fresh<'a> {
    /// `$PWD` as the export saw it.
    pub cwd: &'a [u8],
    /// `STRATA_CONTEXT` as the export saw it (empty when unset).
    pub context: &'a [u8],
    /// `STRATA_SESSION` as the export saw it (empty when unset).
    pub session: &'a [u8],
    /// Files and directories whose modification would matter.
    pub newer: Vec<&'a [u8]>,
    /// Paths whose appearance would matter.
    pub absent: Vec<&'a [u8]>,
    /// Unix time at which a session value expires (bash, zsh, nu and xonsh only: fish and tcsh
    /// have no clock builtin, so while one is due they always ask).
    pub deadline: Option<i64>,
    /// tcsh: the file with the test of this shape ([`tcsh_fresh`], written by the export).
    /// Without one every prompt asks.
    pub tcsh_file: Option<&'a [u8]>,
    /// The stamp file's path, written into fish's test: fish pays more to expand
    /// `"$__strata_stamp"` at each `-nt` than to read the path spelled out (bash pays less for
    /// the variable). `None`: the test refers to `$__strata_stamp`.
    pub stamp: Option<&'a [u8]>,
}

impl Fresh<'_> {
    /// The test as one compound command for `shell`.
    pub(crate) fn test(&self, shell: Shell) -> String {
        // The right side of `==` in [[ ]] is a pattern unless quoted: always quote it. (fish's
        // `test =` compares strings.)
        let lit = |v: &[u8]| {
            let q = shell.quote(v);
            if is_plain(v) && shell != Shell::Fish {
                format!("'{q}'")
            } else {
                q
            }
        };
        if shell == Shell::Fish && self.deadline.is_some() {
            // fish has no clock builtin: while a value is due to expire, always ask.
            return never(shell).to_string();
        }
        let (vars, eq, and, stamp) = match shell {
            Shell::Fish => (
                ["\"$PWD\"", "\"$STRATA_CONTEXT\"", "\"$STRATA_SESSION\""],
                "=",
                " -a ",
                self.stamp
                    .map_or_else(|| "\"$__strata_stamp\"".to_string(), |s| shell.quote(s)),
            ),
            _ => (
                ["$PWD", "${STRATA_CONTEXT-}", "${STRATA_SESSION-}"],
                "==",
                " && ",
                "$__strata_stamp".to_string(),
            ),
        };
        let mut parts = Vec::with_capacity(4 + self.newer.len() + self.absent.len());
        for (var, value) in vars.iter().zip([self.cwd, self.context, self.session]) {
            parts.push(format!("{var} {eq} {}", lit(value)));
        }
        if shell == Shell::Zsh && !self.newer.is_empty() {
            // zsh's `a -nt b` is false when b is missing; bash's is true, like fish's.
            parts.push(format!("-e {stamp}"));
        }
        parts.extend(
            self.newer
                .iter()
                .map(|p| format!("! {} -nt {stamp}", shell.quote(p))),
        );
        parts.extend(
            self.absent
                .iter()
                .map(|p| format!("! -e {}", shell.quote(p))),
        );
        if shell == Shell::Fish {
            return format!("test {}", parts.join(and));
        }
        let mut test = format!("[[ {} ]]", parts.join(and));
        if let Some(d) = self.deadline {
            test.push_str(&format!(" && (( ${{EPOCHSECONDS:-{d}}} < {d} ))"));
        }
        test
    }

    /// The test as data for the nu and xonsh hooks, which evaluate it with their builtins;
    /// `None` when a value cannot be given to the shell (a path that is not UTF-8, for nu).
    fn data(&self, shell: Shell) -> Option<String> {
        let text = |v: &[u8]| -> Option<String> {
            if shell == Shell::Nu && std::str::from_utf8(v).is_err() {
                return None;
            }
            let mut out = Vec::new();
            shell.push_quoted(&mut out, v);
            String::from_utf8(out).ok()
        };
        let list = |paths: &[&[u8]]| -> Option<String> {
            let items = paths.iter().map(|p| text(p)).collect::<Option<Vec<_>>>()?;
            Some(format!("[{}]", items.join(",")))
        };
        let deadline = self
            .deadline
            .map_or_else(|| "null".to_string(), |d| d.to_string());
        Some(format!(
            "{{\"cwd\":{},\"context\":{},\"session\":{},\"newer\":{},\"absent\":{},\"deadline\":{deadline}}}",
            text(self.cwd)?,
            text(self.context)?,
            text(self.session)?,
            list(&self.newer)?,
            list(&self.absent)?,
        ))
    }

    /// The test as tcsh variables for the file [`tcsh_fresh`] wrote for its shape, and that
    /// file's name; `None` when there is no such file or a value holds bytes this tcsh cannot
    /// be given.
    fn tcsh_vars(&self, raw_bytes: bool) -> Option<Vec<u8>> {
        if self.deadline.is_some() {
            // tcsh has no clock builtin: while a value is due to expire, always ask.
            return None;
        }
        let file = self.tcsh_file?;
        let all = [self.cwd, self.context, self.session, file];
        if all
            .iter()
            .chain(&self.newer)
            .chain(&self.absent)
            .any(|v| tcsh::refusal(v, raw_bytes).is_some())
        {
            return None;
        }
        let mut out = Vec::new();
        out.extend_from_slice(b"set __strata_fresh = ");
        tcsh::push(&mut out, file);
        out.push(b'\n');
        for (var, value) in ["cwd", "ctx", "ses"].iter().zip(all) {
            out.extend_from_slice(format!("set __strata_{var} = ").as_bytes());
            tcsh::push(&mut out, value);
            out.push(b'\n');
        }
        for (var, paths) in [("w", &self.newer), ("a", &self.absent)] {
            out.extend_from_slice(format!("set __strata_{var} = (").as_bytes());
            for p in paths.iter() {
                out.push(b' ');
                // A relative path starting with `-` would read as an operator in `-e $p`.
                if !p.starts_with(b"/") {
                    tcsh::push(&mut out, &[b"./", *p].concat());
                } else {
                    tcsh::push(&mut out, p);
                }
            }
            out.extend_from_slice(b" )\n");
        }
        Some(out)
    }
}

/// A test that always fails, which no user function can redefine (`false` can be one).
fn never(shell: Shell) -> &'static str {
    match shell {
        Shell::Fish => "test -n ''",
        _ => "[[ -n '' ]]",
    }
}

/// The document nu and xonsh hooks apply: `{"set":{NAME:VALUE…},"unset":[NAME…]}`, plus
/// `"fresh"` from the hook's `export` (the test for the next prompts, `null` for none). Values
/// (and the strings of the test) are JSON strings: for nu the text itself, for xonsh its bytes
/// in hex (see `xonsh.rs`).
#[derive(Debug, Default)]
struct Data {
    set: Vec<(String, Vec<u8>)>,
    unset: Vec<String>,
    /// Aliases to define (`"alias":{NAME:[WORD…]}`, only when there are any).
    alias: Vec<(String, Vec<Vec<u8>>)>,
    /// Aliases to remove (`"unalias":[NAME…]`, only when there are any).
    unalias: Vec<String>,
    /// Events for the user's functions (`"events":[[KIND,ARG…]…]`, only when there are any).
    events: Vec<(String, Vec<Vec<u8>>)>,
    fresh: Option<Option<String>>,
}

impl Data {
    fn render(&self, shell: Shell, out: &mut Vec<u8>) {
        let name = |out: &mut Vec<u8>, n: &String| nu::push(out, n.as_bytes());
        out.extend_from_slice(b"{\"set\":");
        joined(out, b"{}", &self.set, |out, (n, value)| {
            name(out, n);
            out.push(b':');
            shell.push_quoted(out, value);
        });
        out.extend_from_slice(b",\"unset\":");
        joined(out, b"[]", &self.unset, name);
        if !self.alias.is_empty() {
            out.extend_from_slice(b",\"alias\":");
            joined(out, b"{}", &self.alias, |out, (n, words)| {
                name(out, n);
                out.push(b':');
                if shell == Shell::Nu {
                    // nushell defines an alias only from code it parses: here is that code.
                    nu::push(out, nu::alias_code(words).as_bytes());
                } else {
                    joined(out, b"[]", words, |out, w| shell.push_quoted(out, w));
                }
            });
        }
        if !self.unalias.is_empty() {
            out.extend_from_slice(b",\"unalias\":");
            joined(out, b"[]", &self.unalias, name);
        }
        if !self.events.is_empty() {
            out.extend_from_slice(b",\"events\":");
            joined(out, b"[]", &self.events, |out, (kind, args)| {
                out.push(b'[');
                name(out, kind);
                for a in args {
                    out.push(b',');
                    shell.push_quoted(out, a);
                }
                out.push(b']');
            });
        }
        if let Some(fresh) = &self.fresh {
            out.extend_from_slice(b",\"fresh\":");
            out.extend_from_slice(fresh.as_deref().unwrap_or("null").as_bytes());
        }
        out.extend_from_slice(b"}\n");
    }
}

/// `items` between the two bytes of `brackets`, separated by commas, each written by `each`.
fn joined<T>(
    out: &mut Vec<u8>,
    brackets: &[u8; 2],
    items: &[T],
    mut each: impl FnMut(&mut Vec<u8>, &T),
) {
    out.push(brackets[0]);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, item);
    }
    out.push(brackets[1]);
}

/// Accumulates statements for one shell.
#[derive(Debug)]
pub struct Script {
    shell: Shell,
    out: Vec<u8>,
    data: Data,
    raw_bytes: bool,
}

impl Script {
    /// An empty script for `shell`.
    pub fn new(shell: Shell) -> Script {
        Script::with_capacity(shell, 0)
    }

    /// An empty script for `shell` with room for `bytes` of code.
    pub fn with_capacity(shell: Shell, bytes: usize) -> Script {
        Script {
            shell,
            out: Vec::with_capacity(bytes),
            data: Data::default(),
            raw_bytes: false,
        }
    }

    /// For tcsh: whether bytes outside ASCII may be written as they are (the shell's locale
    /// reads them one by one or as UTF-8: [`tcsh_reads_bytes_as_they_are`]). Without it, tcsh
    /// is given ASCII only.
    pub fn raw_bytes(mut self, ok: bool) -> Script {
        self.raw_bytes = ok;
        self
    }

    /// The shell this script is for.
    pub fn shell(&self) -> Shell {
        self.shell
    }

    /// Export `name` with `value`; `Err` says why this shell cannot be given the value, and
    /// nothing is printed then. A name that is not a plain variable name is never printed:
    /// callers validate names, and this is the last line of defence for code that is evaluated.
    /// bash and zsh get `builtin`, so a user's function named `export` cannot intercept it.
    /// PATH goes to the shell's own list where it has one (elvish `$paths`, tcsh `$path`),
    /// entry by entry; nu and xonsh hooks turn it into their list themselves.
    pub fn set(&mut self, name: &str, value: &[u8]) -> Result<(), String> {
        if !crate::names::valid_name(name) {
            debug_assert!(false, "invalid name {name:?} reached the shell renderer");
            return Err(format!("{name} is not a variable name"));
        }
        if let Some(why) = self.shell.refusal(name, value, self.raw_bytes) {
            return Err(why);
        }
        let shell = self.shell;
        if shell.takes_data() {
            self.data.set.push((name.to_string(), value.to_vec()));
            return Ok(());
        }
        let out = &mut self.out;
        match (shell, name) {
            (Shell::Elvish, "PATH") => {
                out.extend_from_slice(b"set paths = [");
                for entry in split_list(value) {
                    out.push(b' ');
                    shell.push_quoted(out, entry);
                }
                out.extend_from_slice(b" ]\n");
                return Ok(());
            }
            (Shell::Tcsh, "PATH") => {
                out.extend_from_slice(b"set path = (");
                for entry in split_list(value) {
                    out.push(b' ');
                    shell.push_quoted(out, entry);
                }
                out.extend_from_slice(b" )\n");
                return Ok(());
            }
            _ => {}
        }
        out.extend_from_slice(match shell {
            Shell::Bash | Shell::Zsh => b"builtin export ",
            Shell::Fish => b"set -gx ",
            Shell::Elvish => b"set-env ",
            _ => b"setenv ",
        });
        out.extend_from_slice(name.as_bytes());
        out.push(if matches!(shell, Shell::Bash | Shell::Zsh) {
            b'='
        } else {
            b' '
        });
        shell.push_quoted(out, value);
        out.extend_from_slice(if matches!(shell, Shell::Elvish | Shell::Tcsh) {
            b"\n"
        } else {
            b";\n"
        });
        Ok(())
    }

    /// Remove `name` from the environment (`-v`: never a function of that name).
    pub fn unset(&mut self, name: &str) {
        if !crate::names::valid_name(name) {
            debug_assert!(false, "invalid name {name:?} reached the shell renderer");
            return;
        }
        if self.shell.takes_data() {
            self.data.unset.push(name.to_string());
            return;
        }
        let line = match self.shell {
            Shell::Bash | Shell::Zsh => format!("builtin unset -v {name};\n"),
            Shell::Fish => format!("set -e -g {name};\n"),
            Shell::Elvish => format!("unset-env {name}\n"),
            _ => format!("unsetenv {name}\n"),
        };
        self.out.extend_from_slice(line.as_bytes());
    }

    /// Define the alias `name` (already validated: `layers::file::check_alias_name`) as the
    /// command `argv[0]` with the arguments `argv[1..]` before the user's, each word one
    /// argument, never shell syntax. The hook keeps an alias (or for fish a function) the user
    /// had under that name, and gives it back on [`Script::unalias`]. `Err`: this shell cannot
    /// be given a word; nothing is printed then.
    pub fn alias(&mut self, name: &str, argv: &[String]) -> Result<(), String> {
        let shell = self.shell;
        for w in argv {
            if let Some(why) = shell.refusal("_", w.as_bytes(), self.raw_bytes) {
                return Err(why.replace("its value", "a word of it"));
            }
        }
        if shell.takes_data() {
            let words = argv.iter().map(|w| w.as_bytes().to_vec()).collect();
            self.data.alias.push((name.to_string(), words));
            return Ok(());
        }
        let mut words = Vec::new();
        for (i, w) in argv.iter().enumerate() {
            if i > 0 {
                words.push(b' ');
            }
            shell.push_quoted(&mut words, w.as_bytes());
        }
        let out = &mut self.out;
        match shell {
            Shell::Bash | Shell::Zsh => {
                // The alias's text is shell code made of quoted words, quoted once more here.
                out.extend_from_slice(format!("__strata_alias {name} ").as_bytes());
                shell.push_quoted(out, &words);
                out.extend_from_slice(b";\n");
            }
            Shell::Fish => {
                out.extend_from_slice(format!("__strata_alias {name} ").as_bytes());
                out.extend_from_slice(&words);
                out.extend_from_slice(b";\n");
            }
            Shell::Elvish => {
                out.extend_from_slice(format!("__strata_alias {name} [ ").as_bytes());
                out.extend_from_slice(&words);
                out.extend_from_slice(b" ]\n");
            }
            _ => {
                // tcsh has no functions: the bookkeeping is written out. What the user had
                // under the name is kept as `alias NAME` prints it (a fork, but only when an
                // alias is defined, never on a prompt where nothing changed).
                let var = tcsh_alias_var(name);
                out.extend_from_slice(
                    format!(
                        "if ( ! $?__strata_set_{var} ) set __strata_was_{var} = \"`alias {name}`\"\nset __strata_set_{var}\nalias {name} "
                    )
                    .as_bytes(),
                );
                tcsh::push(out, &words);
                out.push(b'\n');
            }
        }
        Ok(())
    }

    /// Remove the alias `name` strata defined, giving back what the user had under that name
    /// before (unless the user has redefined it since: then it stays as the user made it).
    pub fn unalias(&mut self, name: &str) {
        let shell = self.shell;
        if shell.takes_data() {
            self.data.unalias.push(name.to_string());
            return;
        }
        let line = match shell {
            Shell::Bash | Shell::Zsh | Shell::Fish | Shell::Elvish => {
                format!("__strata_unalias {name}\n")
            }
            _ => {
                let v = tcsh_alias_var(name);
                format!(
                    "if ( $?__strata_set_{v} ) then\nif ( $%__strata_was_{v} ) then\nalias {name} $__strata_was_{v}:q\nelse\nunalias {name}\nendif\nunset __strata_set_{v} __strata_was_{v}\nendif\n"
                )
            }
        };
        self.out.extend_from_slice(line.as_bytes());
    }

    /// Call the user's `strata_on_KIND` function (nushell: the closure in
    /// `$env.STRATA_ON_KIND`; xonsh: the function in its context; tcsh: the alias, when the
    /// variable of that name is set) with `args`, if there is one; the hook tests that with
    /// builtins. elvish gives a hook no way to find the user's functions: nothing is printed.
    pub fn event(&mut self, kind: &str, args: &[std::ffi::OsString]) -> Result<(), String> {
        let shell = self.shell;
        for a in args {
            if let Some(why) = shell.refusal("_", a.as_bytes(), self.raw_bytes) {
                return Err(why.replace("its value", "an argument"));
            }
        }
        if shell.takes_data() {
            let args = args.iter().map(|a| a.as_bytes().to_vec()).collect();
            self.data.events.push((kind.to_string(), args));
            return Ok(());
        }
        let out = &mut self.out;
        match shell {
            Shell::Elvish => return Ok(()),
            // tcsh expands no alias in the one-line form of `if`.
            Shell::Tcsh => out.extend_from_slice(
                format!("if ( $?strata_on_{kind} ) then\nstrata_on_{kind}").as_bytes(),
            ),
            _ => out.extend_from_slice(format!("__strata_event {kind}").as_bytes()),
        }
        for a in args {
            out.push(b' ');
            shell.push_quoted(out, a.as_bytes());
        }
        out.extend_from_slice(if shell == Shell::Tcsh {
            b"\nendif\n"
        } else {
            b";\n"
        });
        Ok(())
    }

    /// Define the hook's freshness test from `fresh` (bash, zsh and fish: the whole
    /// `__strata_hook`; tcsh: the variables `shell/fresh.tcsh` tests; nu and xonsh: the
    /// document's `fresh`; elvish: nothing, it always asks). `None`: no test, every prompt asks
    /// strata.
    pub fn define_fresh(&mut self, fresh: Option<&Fresh<'_>>) {
        let shell = self.shell;
        match shell {
            Shell::Elvish => {}
            Shell::Nu | Shell::Xonsh => self.data.fresh = Some(fresh.and_then(|f| f.data(shell))),
            Shell::Tcsh => match fresh.and_then(|f| f.tcsh_vars(self.raw_bytes)) {
                Some(vars) => self.out.extend_from_slice(&vars),
                None => self.out.extend_from_slice(
                    b"unset __strata_cwd\nset __strata_fresh = $__strata_fresh0:q\n",
                ),
            },
            Shell::Bash | Shell::Zsh | Shell::Fish => {
                let test = match fresh {
                    None => never(shell).to_string(),
                    Some(f) => f.test(shell),
                };
                let template = match shell {
                    Shell::Bash => FRESH_BASH,
                    Shell::Zsh => FRESH_ZSH,
                    _ => FRESH_FISH,
                };
                for line in template.lines().filter(|l| !l.starts_with('#')) {
                    self.out
                        .extend_from_slice(line.replace("@FRESH@", &test).as_bytes());
                    self.out.push(b'\n');
                }
            }
        }
    }

    /// The accumulated output.
    pub fn finish(mut self) -> Vec<u8> {
        if self.shell.takes_data() {
            let mut out = std::mem::take(&mut self.out);
            self.data.render(self.shell, &mut out);
            return out;
        }
        self.out
    }
}

/// The part of tcsh variable names that stands for the alias `name` (tcsh variable names take
/// no `-`): letters and digits as they are, `_` and `-` as `_5f` and `_2d`.
fn tcsh_alias_var(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '_' => out.push_str("_5f"),
            '-' => out.push_str("_2d"),
            c => out.push(c),
        }
    }
    out
}

/// The entries of a PATH-like value (none for an empty one).
fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b':')
        .take(if value.is_empty() { 0 } else { usize::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: Script) -> String {
        String::from_utf8(s.finish()).unwrap()
    }

    #[test]
    fn plain_values_stay_readable() {
        for sh in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Tcsh] {
            assert_eq!(sh.quote(b"/usr/bin:/bin"), "/usr/bin:/bin");
            assert_eq!(sh.quote(b"=ls"), "'=ls'", "zsh expands a leading =");
        }
    }

    #[test]
    fn script_statements() {
        let mut s = Script::new(Shell::Bash);
        s.set("FOO", b"a b").unwrap();
        s.unset("OLD");
        assert_eq!(
            text(s),
            "builtin export FOO='a b';\nbuiltin unset -v OLD;\n"
        );
        let mut s = Script::new(Shell::Fish);
        s.set("FOO", b"a b").unwrap();
        s.unset("OLD");
        assert_eq!(text(s), "set -gx FOO 'a b';\nset -e -g OLD;\n");
        let mut s = Script::new(Shell::Elvish);
        s.set("FOO", b"a b").unwrap();
        s.set("PATH", b"/a b::/c").unwrap();
        s.unset("OLD");
        assert_eq!(
            text(s),
            "set-env FOO 'a b'\nset paths = [ '/a b' '' '/c' ]\nunset-env OLD\n"
        );
        let mut s = Script::new(Shell::Tcsh);
        s.set("FOO", b"a b").unwrap();
        s.set("PATH", b"").unwrap();
        s.unset("OLD");
        assert_eq!(text(s), "setenv FOO 'a b'\nset path = ( )\nunsetenv OLD\n");
    }

    #[test]
    fn nu_and_xonsh_get_a_document() {
        let mut s = Script::new(Shell::Nu);
        s.set("FOO", "a \"b\"\n🦀".as_bytes()).unwrap();
        s.unset("OLD");
        s.define_fresh(None);
        assert_eq!(
            text(s),
            "{\"set\":{\"FOO\":\"a \\\"b\\\"\\n🦀\"},\"unset\":[\"OLD\"],\"fresh\":null}\n"
        );
        let mut s = Script::new(Shell::Xonsh);
        s.set("FOO", b"\xff\xc3\xa9").unwrap();
        assert_eq!(text(s), "{\"set\":{\"FOO\":\"ffc3a9\"},\"unset\":[]}\n");
    }

    #[test]
    fn refused_values_print_nothing() {
        let mut s = Script::new(Shell::Nu);
        let why = s.set("FOO", b"\xff").unwrap_err();
        assert!(why.contains("UTF-8"), "{why}");
        assert!(s.set("config", b"x").is_err());
        assert_eq!(text(s), "{\"set\":{},\"unset\":[]}\n");
        let mut s = Script::new(Shell::Tcsh);
        assert!(s.set("FOO", "é".as_bytes()).is_err());
        assert_eq!(text(s), "");
        let mut s = Script::new(Shell::Tcsh).raw_bytes(true);
        s.set("FOO", "é".as_bytes()).unwrap();
        assert_eq!(s.finish(), "setenv FOO 'é'\n".as_bytes());
    }

    #[test]
    fn fresh_as_data_and_as_tcsh_variables() {
        let f = Fresh {
            cwd: b"/p q",
            context: b"",
            session: b"s1",
            newer: vec![b".strata.toml", b"/etc/x"],
            absent: vec![b"-odd"],
            deadline: Some(5),
            stamp: None,
            tcsh_file: Some(b"/h/fresh-1.tcsh"),
        };
        assert_eq!(
            f.data(Shell::Nu).unwrap(),
            "{\"cwd\":\"/p q\",\"context\":\"\",\"session\":\"s1\",\"newer\":[\".strata.toml\",\"/etc/x\"],\"absent\":[\"-odd\"],\"deadline\":5}"
        );
        assert_eq!(f.tcsh_vars(false), None, "no clock in tcsh");
        let f = Fresh {
            deadline: None,
            ..f
        };
        assert_eq!(
            String::from_utf8(f.tcsh_vars(false).unwrap()).unwrap(),
            "set __strata_fresh = /h/fresh-1.tcsh\nset __strata_cwd = '/p q'\n\
             set __strata_ctx = ''\nset __strata_ses = s1\n\
             set __strata_w = ( ./.strata.toml /etc/x )\nset __strata_a = ( ./-odd )\n"
        );
        let f = Fresh {
            tcsh_file: None,
            ..f
        };
        assert_eq!(f.tcsh_vars(false), None, "no file with the test");
        let odd = Fresh {
            cwd: b"/\xff",
            ..Fresh::default()
        };
        assert_eq!(odd.data(Shell::Nu), None);
        assert!(odd.data(Shell::Xonsh).is_some());
        assert_eq!(odd.tcsh_vars(false), None);
    }

    #[test]
    fn fish_test_spells_out_the_stamp_it_is_given() {
        let f = Fresh {
            cwd: b"/p",
            newer: vec![b"./.strata.toml"],
            absent: vec![b"/etc/x"],
            stamp: Some(b"/s t/1"),
            ..Fresh::default()
        };
        assert_eq!(
            f.test(Shell::Fish),
            "test \"$PWD\" = /p -a \"$STRATA_CONTEXT\" = '' -a \"$STRATA_SESSION\" = '' \
             -a ! ./.strata.toml -nt '/s t/1' -a ! -e /etc/x"
        );
        let f = Fresh { stamp: None, ..f };
        assert!(f.test(Shell::Fish).contains("-nt \"$__strata_stamp\""));
        // bash reads the variable: cheaper there than the path spelled out.
        let f = Fresh {
            stamp: Some(b"/s"),
            ..f
        };
        assert!(f.test(Shell::Bash).contains("-nt $__strata_stamp"));
    }

    #[test]
    fn tcsh_fresh_spells_out_every_test_of_its_shape() {
        let shape = TcshShape {
            context_set: false,
            session_set: true,
            newer: 2,
            absent: 1,
        };
        assert_eq!(
            tcsh_fresh(shape),
            "set __strata_status = $status\n\
             @ __strata_ok = ( $?STRATA_SESSION )\n\
             if ( $__strata_ok ) then\n    \
             if ( \"$STRATA_SESSION:q\" != \"$__strata_ses:q\" ) set __strata_ok = 0\nendif\n\
             @ __strata_since = -M $__strata_stamp:q\n\
             if ( ! $__strata_ok || $?STRATA_CONTEXT || \"$cwd:q\" != \"$__strata_cwd:q\" \
             || -M $__strata_w[1]:q >= $__strata_since || -M $__strata_w[2]:q >= $__strata_since \
             || -e $__strata_a[1]:q ) source $__strata_ask:q\n\
             set status = $__strata_status\n"
        );
        let none = tcsh_fresh(TcshShape {
            context_set: false,
            session_set: false,
            newer: 0,
            absent: 0,
        });
        assert_eq!(
            none,
            "set __strata_status = $status\n\
             if ( $?STRATA_CONTEXT || $?STRATA_SESSION || \"$cwd:q\" != \"$__strata_cwd:q\" ) \
             source $__strata_ask:q\nset status = $__strata_status\n"
        );
        let both = tcsh_fresh(TcshShape {
            context_set: true,
            ..shape
        });
        assert!(both.contains(
            "@ __strata_ok = ( $?STRATA_CONTEXT && $?STRATA_SESSION )\nif ( $__strata_ok ) then\n    \
             if ( \"$STRATA_CONTEXT:q\" != \"$__strata_ctx:q\" || \"$STRATA_SESSION:q\" != \"$__strata_ses:q\" ) \
             set __strata_ok = 0\nendif\n"
        ));
        for text in [tcsh_own_fresh(), tcsh_ask()] {
            assert!(!text.lines().any(|l| l.starts_with('#')), "{text}");
        }
    }
}
