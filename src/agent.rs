//! The agent cache: how a shell started fresh for every command (an AI agent's `bash -c`, a CI
//! step, a script) gets the environment of its directory without starting strata when nothing
//! changed.
//!
//! Such a shell inherits the same environment every time, so its `BASH_ENV` (or zsh's `.zshenv`,
//! fish's non-interactive config) must apply the same changes every time; what survives between
//! two such shells is files. So each `strata export --agent` writes what it printed, as an
//! *entry*, together with a test, in builtins only, that the same export would print the same
//! thing now, and the env files of `strata hook SHELL --env-file` source the entry whose test
//! passes instead of running strata:
//!
//! - the same `$PWD`, `STRATA_CONTEXT` and `STRATA_SESSION`, no watched path newer than the
//!   entry's stamp and no new file where one would count (the interactive hook's test,
//!   [`Fresh`]), and no session value due to expire;
//! - every environment variable the export's result depends on holds the value it had:
//!   `STRATA_STATE` (what the shell inherited of an earlier export), the variables strata sets
//!   or set before, the ones interpolation read (`${USER}`), the settings' `STRATA_*` variables
//!   and the ones strata finds its directories through. Another agent with another `PATH` in the
//!   same directory and session misses instead of getting this one's `PATH`.
//!
//! An evaluation with a secret value (SPEC section 11) is never cached: a secret never goes
//! into a file, so where one applies every such shell asks strata.
//!
//! The stamp is a file of its own (`stamps/agent-ID`) dated just before the export read anything,
//! like a hook's, so `store::announce` (every `strata set`, `allow`, `context use`…) expires it
//! and the next shell asks strata again.
//!
//! On disk, per shell, in the state directory's `agent/`: one small index, which the env file
//! sources, with one line per entry (newest first, at most [`MAX_ENTRIES`]) that compares
//! `$PWD` and sources the entry's own file; each entry file tests the rest and, when it passes,
//! applies the changes and ends the index with success. A shell reads every byte of what it
//! sources, so the index stays short and only a candidate's file is read. Both are written
//! through the store (temp file, fsync, rename; the index under its lock), and the env file
//! sources only files owned by the user that are not symlinks.

use anyhow::Result;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::shells::{Fresh, Shell, is_plain};
use crate::store::{self, Dirs, LockPolicy};

/// Entries kept per shell: the directories (and parent shells) most recently used.
pub const MAX_ENTRIES: usize = 8;

/// A bigger entry is not cached (the shell would spend more reading it than strata costs).
pub const MAX_ENTRY: usize = 64 * 1024;

/// What ends an index line, before the entry's name (its key and id, 16 hex digits each).
const MARK: &str = " #";

impl Dirs {
    /// Where the agent cache lives.
    pub fn agent_dir(&self) -> PathBuf {
        self.state.join("agent")
    }

    /// The index the env file of `shell` sources.
    pub fn agent_index(&self, shell: Shell) -> PathBuf {
        self.agent_dir().join(format!("index.{}", ext(shell)))
    }
}

fn ext(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "bash",
        Shell::Zsh => "zsh",
        Shell::Fish => "fish",
        other => unreachable!("no agent files for {}", other.name()),
    }
}

/// A new entry id: 64 random bits in hex (entries are few, and their names are read at every
/// shell start).
pub fn new_id() -> String {
    let mut bytes = [0u8; 8];
    let ok = rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty())
        .is_ok_and(|n| n == bytes.len());
    if !ok {
        // Unique enough for a file name: the time and the process.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        bytes = (nanos ^ u64::from(std::process::id()) << 40).to_le_bytes();
    }
    crate::codec::hex(&bytes)
}

/// The stamp of the entry with id `id`: with the hooks' stamps, so that `store::announce`
/// expires it.
pub fn stamp_file(dirs: &Dirs, id: &str) -> PathBuf {
    dirs.stamp_dir().join(format!("agent-{id}"))
}

fn entry_file(dirs: &Dirs, shell: Shell, name: &str) -> PathBuf {
    dirs.agent_dir().join(format!("{name}.{}", ext(shell)))
}

/// Which entry an export replaces: the one for the same place and the same values of the
/// variables it depends on. Another environment (a shell started by a command of another, with
/// its `STRATA_STATE`; an agent with another `PATH`) keeps an entry of its own.
pub fn key(fresh: &Fresh<'_>, env: &[(String, Option<Vec<u8>>)]) -> String {
    let mut bytes = Vec::new();
    let mut part = |b: &[u8]| {
        bytes.extend_from_slice(&(b.len() as u64).to_le_bytes());
        bytes.extend_from_slice(b);
    };
    part(fresh.cwd);
    part(fresh.context);
    part(fresh.session);
    for (name, value) in env {
        part(name.as_bytes());
        match value {
            Some(v) => part(v),
            None => part(b"\xff unset"),
        }
    }
    store::trust::sha256_hex(&bytes)[..16].to_string()
}

/// One export, as the shells will replay it.
pub struct Entry<'a> {
    /// The shell it is for.
    pub shell: Shell,
    /// The place and the watched paths (its test refers to `$__strata_stamp`).
    pub fresh: &'a Fresh<'a>,
    /// Every variable the result depends on, with the value it had (`None`: unset).
    pub env: &'a [(String, Option<Vec<u8>>)],
    /// Every variable named `STRATA_*` that was set, sorted: bash checks them all at once.
    pub strata_names: &'a [String],
    /// The code that makes the changes.
    pub script: &'a str,
}

/// The code for `changes`. bash and zsh get all assignments in one `builtin export` command
/// (a shell spends more on each command it parses than on each word: about 40% less than a
/// command per variable in bash, in instructions), and a variable whose new value starts or
/// ends with its old one (what a `PATH` edit does) is written relative to it
/// (`PATH=/p/bin:"$PATH"`, expanded before any assignment): the entry's test has checked that
/// old value, and a shell reads every byte it sources. fish gets what the export prints.
pub fn replay_script(
    shell: Shell,
    changes: &[(&str, Option<&[u8]>)],
    current: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> String {
    let mut plain = crate::shells::Script::new(shell);
    let mut export: Vec<u8> = Vec::new();
    for &(name, value) in changes {
        let Some(new) = value else {
            plain.unset(name);
            continue;
        };
        if shell == Shell::Fish || !crate::names::valid_name(name) {
            // A value fish cannot hold was refused by the export that printed it too.
            let _ = plain.set(name, new);
            continue;
        }
        let old = current(name).filter(|o| !o.is_empty() && o.len() < new.len());
        export.extend_from_slice(b" \\\n  ");
        export.extend_from_slice(name.as_bytes());
        export.push(b'=');
        match &old {
            Some(old) if new.ends_with(old) => {
                shell.push_quoted(&mut export, &new[..new.len() - old.len()]);
                export.extend_from_slice(format!("\"${name}\"").as_bytes());
            }
            Some(old) if new.starts_with(old) => {
                export.extend_from_slice(format!("\"${name}\"").as_bytes());
                shell.push_quoted(&mut export, &new[old.len()..]);
            }
            _ => shell.push_quoted(&mut export, new),
        }
    }
    let mut out = plain.finish();
    if !export.is_empty() {
        out.extend_from_slice(b"builtin export");
        out.extend_from_slice(&export);
        out.extend_from_slice(b";\n");
    }
    // bash, zsh and fish code from the quoting module is ASCII.
    String::from_utf8(out).expect("bash, zsh and fish code is ASCII")
}

/// `value` as a literal on the right of `==` in `[[ ]]`, where an unquoted word is a pattern.
fn posix_literal(value: &[u8]) -> String {
    let q = Shell::Bash.quote(value);
    if is_plain(value) { format!("'{q}'") } else { q }
}

impl Entry<'_> {
    /// The entry file: the test, and the changes when it passes.
    fn text(&self, stamp: &Path) -> String {
        let sh = self.shell;
        let stamp = sh.quote(stamp.as_os_str().as_bytes());
        let fresh = self.fresh.test(sh);
        let mut out = String::with_capacity(512 + self.script.len());
        match sh {
            Shell::Bash | Shell::Zsh => {
                let mut set = Vec::new();
                let mut unset = String::new();
                // bash lists every variable named STRATA_* in one expansion, sorted by byte: one
                // comparison stands for each of them being set or not.
                let by_list = sh == Shell::Bash;
                if by_list {
                    set.push(format!(
                        "${{!STRATA_*}} == {}",
                        posix_literal(self.strata_names.join(" ").as_bytes())
                    ));
                }
                for (name, value) in self.env {
                    if by_list && value.is_none() && name.starts_with("STRATA_") {
                        continue;
                    }
                    match value {
                        // `${N-}`: `$N` would be an error for an unset N under `set -u`.
                        Some(v) if v.is_empty() => {
                            set.push(format!("${{{name}+1}} == 1 && -z ${{{name}-}}"));
                        }
                        Some(v) => set.push(format!("${{{name}-}} == {}", posix_literal(v))),
                        None => unset.push_str(&format!("${{{name}+1}}")),
                    }
                }
                if !unset.is_empty() {
                    set.push(format!("-z {unset}"));
                }
                if sh == Shell::Zsh && self.fresh.deadline.is_some() {
                    out.push_str("\\builtin zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null\n");
                }
                out.push_str(&format!("__strata_stamp={stamp}\nif {fresh}"));
                if !set.is_empty() {
                    out.push_str(&format!(" && [[ {} ]]", set.join(" && ")));
                }
                out.push_str("; then\n\\builtin unset __strata_stamp\n");
                out.push_str(self.script);
                out.push_str(
                    "\\builtin return 0\nfi\n\\builtin unset __strata_stamp\n\\builtin return 1\n",
                );
            }
            Shell::Fish => {
                let mut names = Vec::new();
                let mut equal = Vec::new();
                let mut absent = Vec::new();
                for (name, value) in self.env {
                    match value {
                        Some(v) => {
                            names.push(name.as_str());
                            equal.push(format!("\"${name}\" = {}", sh.quote(v)));
                        }
                        None => absent.push(name.as_str()),
                    }
                }
                out.push_str(&format!("set -l __strata_stamp {stamp}\nif {fresh}"));
                if !names.is_empty() {
                    out.push_str(&format!(
                        "\nand set -q {}\nand test {}",
                        names.join(" "),
                        equal.join(" -a ")
                    ));
                }
                if !absent.is_empty() {
                    // `set -q` fails with the number of the names that are not set.
                    out.push_str(&format!(
                        "\nand not begin; set -q {}; test $status -ne {}; end",
                        absent.join(" "),
                        absent.len()
                    ));
                }
                out.push('\n');
                out.push_str(self.script);
                out.push_str("return 0\nend\nreturn 1\n");
            }
            other => unreachable!("no agent files for {}", other.name()),
        }
        out
    }
}

/// The index line of one entry: `$PWD` and whether a `STRATA_STATE` was inherited first (a
/// shell started by a command has one, and usually an entry of its own), then the file, which
/// must be the user's own and not a symlink.
fn index_line(shell: Shell, cwd: &[u8], inherits: bool, file: &Path, name: &str) -> String {
    let f = shell.quote(file.as_os_str().as_bytes());
    match shell {
        Shell::Bash | Shell::Zsh => format!(
            "[[ $PWD == {} && ${{STRATA_STATE:+1}} == {inherits} && -O {f} && ! -L {f} ]] && \\builtin source {f} 2>/dev/null && \\builtin return 0{MARK}{name}\n",
            posix_literal(cwd),
            inherits = if inherits { "1" } else { "''" },
        ),
        Shell::Fish => format!(
            "test \"$PWD\" = {} -a {inherits} \"$STRATA_STATE\" -a -O {f} -a ! -L {f}; and source {f} 2>/dev/null; and return 0{MARK}{name}\n",
            shell.quote(cwd),
            inherits = if inherits { "-n" } else { "-z" },
        ),
        other => unreachable!("no agent files for {}", other.name()),
    }
}

fn index_end(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash | Shell::Zsh => "\\builtin return 1\n",
        Shell::Fish => "return 1\n",
        other => unreachable!("no agent files for {}", other.name()),
    }
}

/// The key and the name (key and id) of an index line written by [`index_line`], checked to
/// be 32 hex digits.
fn parse_line(line: &str) -> Option<(&str, &str)> {
    let (_, name) = line.rsplit_once(MARK)?;
    crate::codec::is_hex(name.as_bytes(), 32).then(|| (&name[..16], name))
}

/// Store `entry` as entry `id` under `key`, newest first in the index of its shell, replacing an
/// entry of the same key and dropping the oldest beyond [`MAX_ENTRIES`] (their files and stamps
/// go too). The entry's stamp must already exist.
pub fn store(
    dirs: &Dirs,
    policy: LockPolicy,
    entry: &Entry<'_>,
    cwd: &[u8],
    key: &str,
    id: &str,
) -> Result<()> {
    let shell = entry.shell;
    let name = format!("{key}{id}");
    let text = entry.text(&stamp_file(dirs, id));
    if text.len() > MAX_ENTRY {
        anyhow::bail!("the entry is too big to cache");
    }
    store::ensure_private_dir(&dirs.state)?;
    store::ensure_private_dir(&dirs.agent_dir())?;
    let file = entry_file(dirs, shell, &name);
    // A fresh name: no other writer, so no lock.
    store::replace_locked(&file, text.as_bytes())?;
    let header = "# strata's agent cache (strata export --agent)\n";
    let inherits = entry
        .env
        .iter()
        .any(|(n, v)| n == crate::state::STATE_VAR && v.as_ref().is_some_and(|v| !v.is_empty()));
    let first = index_line(shell, cwd, inherits, &file, &name);
    let dropped = store::update(&dirs.agent_index(shell), policy, |old| {
        let old = old.unwrap_or_default();
        let old = String::from_utf8_lossy(&old);
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for line in old.lines() {
            let Some((k, n)) = parse_line(line) else {
                continue;
            };
            if k == key || kept.len() + 1 >= MAX_ENTRIES {
                dropped.push(n.to_string());
            } else {
                kept.push(format!("{line}\n"));
            }
        }
        let mut out = String::from(header);
        out.push_str(&first);
        for l in kept {
            out.push_str(&l);
        }
        out.push_str(index_end(shell));
        Ok((Some(out.into_bytes()), dropped))
    })?;
    for old in dropped {
        let _ = std::fs::remove_file(entry_file(dirs, shell, &old));
        let _ = std::fs::remove_file(stamp_file(dirs, &old[16..]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lines_parse_back_and_foreign_lines_do_not() {
        let name = format!("{}{}", "a".repeat(16), "b".repeat(16));
        for sh in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let line = index_line(sh, b"/p q", true, Path::new("/s/agent/x"), &name);
            assert_eq!(
                parse_line(line.trim_end()),
                Some((&name[..16], name.as_str()))
            );
        }
        assert_eq!(parse_line("echo #../../x"), None);
    }

    #[test]
    fn the_index_keeps_the_newest_entries_and_drops_their_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(tmp.path());
        let fresh = Fresh {
            cwd: b"/p",
            ..Default::default()
        };
        let entry = Entry {
            shell: Shell::Bash,
            fresh: &fresh,
            env: &[],
            strata_names: &[],
            script: "",
        };
        let mut ids = Vec::new();
        for i in 0..MAX_ENTRIES + 2 {
            let id = new_id();
            store::ensure_private_dir(&dirs.stamp_dir()).unwrap();
            std::fs::write(stamp_file(&dirs, &id), "").unwrap();
            let key = format!("{i:016x}");
            store(&dirs, LockPolicy::default(), &entry, b"/p", &key, &id).unwrap();
            ids.push(id);
        }
        // The same key again replaces its entry.
        let again = new_id();
        let key = format!("{:016x}", MAX_ENTRIES + 1);
        store(&dirs, LockPolicy::default(), &entry, b"/p", &key, &again).unwrap();
        let index = std::fs::read_to_string(dirs.agent_index(Shell::Bash)).unwrap();
        let listed: Vec<&str> = index
            .lines()
            .filter_map(parse_line)
            .map(|(_, n)| &n[16..])
            .collect();
        assert_eq!(listed.len(), MAX_ENTRIES);
        assert_eq!(listed[0], again);
        assert!(!listed.contains(&ids[MAX_ENTRIES + 1].as_str()));
        let name0 = format!("{:016x}{}", 0, ids[0]);
        assert!(!entry_file(&dirs, Shell::Bash, &name0).exists());
        assert!(!stamp_file(&dirs, &ids[0]).exists());
        let again_name = format!("{key}{again}");
        assert!(entry_file(&dirs, Shell::Bash, &again_name).exists());
    }
}
