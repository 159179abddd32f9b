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
}

/// Bytes that never need quoting in any supported shell.
pub(crate) fn is_plain(value: &[u8]) -> bool {
    !value.is_empty()
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"_-./:,+@".contains(&b))
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
        Script {
            shell,
            out: String::new(),
        }
    }

    /// The shell this script is for.
    pub fn shell(&self) -> Shell {
        self.shell
    }

    /// Export `name` with `value`.
    pub fn set(&mut self, name: &str, value: &[u8]) {
        let q = self.shell.quote(value);
        self.out.push_str(match self.shell {
            Shell::Bash | Shell::Zsh => "export ",
            Shell::Fish => "set -gx ",
        });
        self.out.push_str(name);
        self.out
            .push(if self.shell == Shell::Fish { ' ' } else { '=' });
        self.out.push_str(&q);
        self.out.push_str(";\n");
    }

    /// Remove `name` from the environment.
    pub fn unset(&mut self, name: &str) {
        match self.shell {
            Shell::Bash | Shell::Zsh => self.line(format_args!("unset {name};")),
            Shell::Fish => self.line(format_args!("set -e -g {name};")),
        }
    }

    /// Define function `name` to succeed when any of `paths` is newer than the file named by
    /// variable `stamp`: one compound test, so a prompt pays one builtin per path and no loop.
    pub fn define_newer_check<'a>(
        &mut self,
        name: &str,
        paths: impl IntoIterator<Item = &'a [u8]>,
        stamp: &str,
    ) {
        let tests: Vec<String> = paths
            .into_iter()
            .map(|p| match self.shell {
                Shell::Bash | Shell::Zsh => format!("{} -nt ${stamp}", self.shell.quote(p)),
                Shell::Fish => format!("{} -nt \"${stamp}\"", self.shell.quote(p)),
            })
            .collect();
        match (self.shell, tests.is_empty()) {
            (_, true) if self.shell == Shell::Fish => {
                self.line(format_args!("function {name}; false; end;"))
            }
            (_, true) => self.line(format_args!("{name}() {{ false; }};")),
            (Shell::Fish, false) => self.line(format_args!(
                "function {name}; test {}; end;",
                tests.join(" -o ")
            )),
            (_, false) => self.line(format_args!(
                "{name}() {{ [[ {} ]]; }};",
                tests.join(" || ")
            )),
        }
    }

    /// Set a shell-local variable to the current value of another variable (empty if unset).
    pub fn copy_local(&mut self, name: &str, from: &str) {
        match self.shell {
            Shell::Bash | Shell::Zsh => self.line(format_args!("{name}=\"${{{from}-}}\";")),
            Shell::Fish => self.line(format_args!("set -g {name} \"${from}\";")),
        }
    }

    /// Set a shell-local variable to a literal value.
    pub fn set_local(&mut self, name: &str, value: &[u8]) {
        let q = self.shell.quote(value);
        match self.shell {
            Shell::Bash | Shell::Zsh => self.line(format_args!("{name}={q};")),
            Shell::Fish => self.line(format_args!("set -g {name} {q};")),
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
        assert_eq!(s.finish(), "export FOO='a b';\nunset OLD;\n");
        let mut s = Script::new(Shell::Fish);
        s.set("FOO", b"a b");
        s.unset("OLD");
        assert_eq!(s.finish(), "set -gx FOO 'a b';\nset -e -g OLD;\n");
    }
}
