//! Rendering environment changes as code for one shell.
//!
//! This module knows about quoting and statements, nothing about files: callers hand it
//! variable names (already validated) and values as bytes, and get back text to `eval`.
//! Every value round-trips byte-exactly, including control characters and invalid UTF-8.

mod fish;
mod posix;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// A shell strata can print code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// GNU bash 4 and later.
    Bash,
    /// zsh 5 and later.
    Zsh,
    /// fish 3 and later.
    Fish,
}

impl Shell {
    /// Parse a shell name as written on the command line.
    pub fn from_name(name: &OsStr) -> Option<Shell> {
        match name.as_bytes() {
            b"bash" => Some(Shell::Bash),
            b"zsh" => Some(Shell::Zsh),
            b"fish" => Some(Shell::Fish),
            _ => None,
        }
    }

    /// `value` quoted as one word for this shell.
    pub fn quote(self, value: &[u8]) -> String {
        match self {
            Shell::Bash | Shell::Zsh => posix::quote(value),
            Shell::Fish => fish::quote(value),
        }
    }

    /// `value` quoted as one word for this shell, appended to `out`.
    pub fn push_quoted(self, out: &mut String, value: &[u8]) {
        match self {
            Shell::Bash | Shell::Zsh => posix::push(out, value),
            Shell::Fish => fish::push(out, value),
        }
    }
}

/// Append `\` `letter` and two hex digits for `b` (`\x1b`; fish also has `\X` for raw bytes).
pub(crate) fn push_hex_escape(out: &mut String, letter: char, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('\\');
    out.push(letter);
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 15)]));
}

/// Bytes that never need quoting in any supported shell.
pub(crate) fn is_plain(value: &[u8]) -> bool {
    !value.is_empty()
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"_-./:,+@".contains(&b))
}

const FRESH_POSIX: &str = include_str!("../../shell/fresh.sh");
const FRESH_FISH: &str = include_str!("../../shell/fresh.fish");

/// What lets the hook skip strata at a prompt, decided with builtins only: the place the last
/// export was computed for, the paths that must not be newer than the shell's stamp file
/// (`$__strata_stamp`, which strata dates just before it reads anything; a variable is cheaper
/// for bash than the same path written out), the paths that must still not exist, and the earliest expiry.
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
    /// Unix time at which a session value expires (bash and zsh only).
    pub deadline: Option<i64>,
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
            Shell::Bash | Shell::Zsh => (
                ["$PWD", "${STRATA_CONTEXT-}", "${STRATA_SESSION-}"],
                "==",
                " && ",
                "$__strata_stamp",
            ),
            Shell::Fish => (
                ["\"$PWD\"", "\"$STRATA_CONTEXT\"", "\"$STRATA_SESSION\""],
                "=",
                " -a ",
                "\"$__strata_stamp\"",
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
}

/// A test that always fails, which no user function can redefine (`false` can be one).
fn never(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash | Shell::Zsh => "[[ -n '' ]]",
        Shell::Fish => "test -n ''",
    }
}

/// Accumulates statements for one shell.
#[derive(Debug)]
pub struct Script {
    shell: Shell,
    out: String,
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
            out: String::with_capacity(bytes),
        }
    }

    /// The shell this script is for.
    pub fn shell(&self) -> Shell {
        self.shell
    }

    /// Export `name` with `value`. A name that is not a plain variable name is never printed:
    /// callers validate names, and this is the last line of defence for code that is `eval`ed.
    /// bash and zsh get `builtin`, so a user's function named `export` cannot intercept it.
    pub fn set(&mut self, name: &str, value: &[u8]) {
        if !crate::names::valid_name(name) {
            debug_assert!(false, "invalid name {name:?} reached the shell renderer");
            return;
        }
        self.out.push_str(match self.shell {
            Shell::Bash | Shell::Zsh => "builtin export ",
            Shell::Fish => "set -gx ",
        });
        self.out.push_str(name);
        self.out
            .push(if self.shell == Shell::Fish { ' ' } else { '=' });
        self.shell.push_quoted(&mut self.out, value);
        self.out.push_str(";\n");
    }

    /// Remove `name` from the environment (`-v`: never a function of that name).
    pub fn unset(&mut self, name: &str) {
        if !crate::names::valid_name(name) {
            debug_assert!(false, "invalid name {name:?} reached the shell renderer");
            return;
        }
        match self.shell {
            Shell::Bash | Shell::Zsh => self.line(format_args!("builtin unset -v {name};")),
            Shell::Fish => self.line(format_args!("set -e -g {name};")),
        }
    }

    /// Define the hook's freshness test from `fresh` (bash and zsh: the whole `__strata_hook`;
    /// fish: `__strata_fresh`). `None`: no test, every prompt asks strata.
    pub fn define_fresh(&mut self, fresh: Option<&Fresh<'_>>) {
        let test = match fresh {
            None => never(self.shell).to_string(),
            Some(f) => f.test(self.shell),
        };
        let template = match self.shell {
            Shell::Bash | Shell::Zsh => FRESH_POSIX,
            Shell::Fish => FRESH_FISH,
        };
        for line in template.lines().filter(|l| !l.starts_with('#')) {
            self.out.push_str(&line.replace("@FRESH@", &test));
            self.out.push('\n');
        }
    }

    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        use std::fmt::Write;
        let _ = self.out.write_fmt(args);
        self.out.push('\n');
    }

    /// The accumulated code.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_stay_readable() {
        for sh in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            assert_eq!(sh.quote(b"/usr/bin:/bin"), "/usr/bin:/bin");
            assert_eq!(sh.quote(b"=ls"), "'=ls'", "zsh expands a leading =");
        }
    }

    #[test]
    fn script_statements() {
        let mut s = Script::new(Shell::Bash);
        s.set("FOO", b"a b");
        s.unset("OLD");
        assert_eq!(
            s.finish(),
            "builtin export FOO='a b';\nbuiltin unset -v OLD;\n"
        );
        let mut s = Script::new(Shell::Fish);
        s.set("FOO", b"a b");
        s.unset("OLD");
        assert_eq!(s.finish(), "set -gx FOO 'a b';\nset -e -g OLD;\n");
    }
}
