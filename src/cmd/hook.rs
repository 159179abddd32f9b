//! `strata hook bash|zsh|fish|nu|elvish|xonsh|tcsh [--env-file PATH]`: print the hook script
//! for an rc file.
//!
//! The scripts live in `shell/` as real shell files; placeholders are filled here: the absolute
//! path of this binary, the directory for the per-shell stamp files, a fresh session id for
//! a shell that has none (nushell, whose hook is saved to a file and loaded by every later
//! shell, makes its own), and for bash, zsh and fish the hook as it is until the first export
//! (`shell/fresh.*`). tcsh evaluates command output as a single line, which cannot hold its
//! `if`/`foreach` blocks, so for tcsh the hook and its per-prompt part are written as files in
//! strata's state directory and the line printed sources them. `--env-file PATH` also writes,
//! at PATH, the shell's start-up file for non-interactive shells (`shell/env.bash` for
//! `BASH_ENV`, `shell/env.zsh` as a `.zshenv`, `shell/env.fish` for fish's `conf.d`), which
//! applies the agent cache ([`crate::agent`]).

use anyhow::{Context as _, Result, bail};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::{Ctx, Run};
use crate::cli::HookArgs;
use crate::shells::Shell;
use crate::store::sessions::new_id;

const BASH: &str = include_str!("../../shell/hook.bash");
const ZSH: &str = include_str!("../../shell/hook.zsh");
const FISH: &str = include_str!("../../shell/hook.fish");
const NU: &str = include_str!("../../shell/hook.nu");
const ELVISH: &str = include_str!("../../shell/hook.elv");
const XONSH: &str = include_str!("../../shell/hook.xsh");
const TCSH: &str = include_str!("../../shell/hook.tcsh");
const ENV_BASH: &str = include_str!("../../shell/env.bash");
const ENV_ZSH: &str = include_str!("../../shell/env.zsh");
const ENV_FISH: &str = include_str!("../../shell/env.fish");

/// `template` with each `@NAME@` of `values` replaced (as bytes: tcsh's may not be UTF-8).
fn fill(template: &str, values: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        let hit = values
            .iter()
            .find(|(name, _)| after.starts_with(name) && after[name.len()..].starts_with('@'));
        match hit {
            Some((name, value)) => {
                out.extend_from_slice(&rest.as_bytes()[..at]);
                out.extend_from_slice(value);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.extend_from_slice(&rest.as_bytes()[..=at]);
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

/// The hook for `shell`, with its placeholders filled in. For tcsh, the file the printed line
/// sources, and `tcsh_files` the paths of its own test and of the file that asks strata
/// (shell/fresh.tcsh and shell/ask.tcsh). `raw_bytes`: tcsh's locale reads bytes above 0x7f as
/// they are; `Err` when a path cannot be given to the shell.
pub fn render(
    shell: Shell,
    bin: &[u8],
    stamp_dir: &[u8],
    session: &str,
    tcsh_files: [&[u8]; 2],
    raw_bytes: bool,
) -> Result<Vec<u8>> {
    let template = match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
        Shell::Nu => NU,
        Shell::Elvish => ELVISH,
        Shell::Xonsh => XONSH,
        Shell::Tcsh => TCSH,
    };
    let literal = |what: &str, value: &[u8]| {
        shell.script_literal(value, raw_bytes).map_err(|why| {
            anyhow::anyhow!(
                "cannot write the {} hook: {what} {}: {why}",
                shell.name(),
                crate::display::escape(&String::from_utf8_lossy(value))
            )
        })
    };
    // The hook before the first export is the one every export writes, without a test.
    let mut initial = crate::shells::Script::new(shell);
    initial.define_fresh(None);
    let initial = initial.finish();
    let bin = literal("the strata binary is at", bin)?;
    let stamps = literal("strata's state directory is", stamp_dir)?;
    let fresh = literal("strata's state directory is", tcsh_files[0])?;
    let ask = literal("strata's state directory is", tcsh_files[1])?;
    // A session id is 8 hex digits, the same word in every shell's syntax.
    let session = format!("'{session}'");
    // The initial hook ends with its own newline.
    let template = template.replace("@INITIAL_HOOK@\n", "@INITIAL_HOOK@");
    Ok(fill(
        &template,
        &[
            ("INITIAL_HOOK", &initial),
            ("STRATA_BIN", &bin),
            ("STAMP_DIR", &stamps),
            ("SESSION", session.as_bytes()),
            ("FRESH_FILE", &fresh),
            ("ASK_FILE", &ask),
        ],
    ))
}

/// This binary's path. When it was replaced while running (an upgrade), Linux reports
/// `PATH (deleted)`; the new binary at PATH is the one the hook should call.
pub fn own_path() -> Result<PathBuf> {
    let bin = std::env::current_exe().context("cannot find the strata binary's own path")?;
    if let Some(s) = bin.to_str()
        && let Some(orig) = s.strip_suffix(" (deleted)")
        && Path::new(orig).is_file()
    {
        return Ok(orig.into());
    }
    Ok(bin)
}

/// Print the hook (and write the BASH_ENV file when asked).
impl Run for HookArgs {
    /// Print the hook (and write the BASH_ENV file when asked).
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let (shell, env_file) = (self.shell, self.env_file.as_deref());
        let bin = own_path()?;
        let bin = bin.as_os_str().as_bytes();
        if let Some(path) = env_file {
            if !matches!(shell, Shell::Bash | Shell::Zsh | Shell::Fish) {
                bail!(
                    "--env-file is for bash, zsh and fish (the shells agents and scripts start); {} has none",
                    shell.name()
                );
            }
            write_env_file(ctx, shell, path, bin)?;
        }
        let stamp_dir = ctx.dirs.stamp_dir();
        let stamp_dir = stamp_dir.as_os_str().as_bytes();
        let raw_bytes = crate::shells::tcsh_reads_bytes();
        let text = if shell == Shell::Tcsh {
            tcsh_line(ctx, bin, stamp_dir, raw_bytes)?
        } else {
            render(shell, bin, stamp_dir, &new_id(), [b"", b""], raw_bytes)?
        };
        std::io::stdout()
            .write_all(&text)
            .context("cannot write the hook")?;
        Ok(())
    }
}

/// For tcsh: write the hook and its per-prompt part into `$XDG_STATE_HOME/strata/hooks/`
/// (named by their content, so every shell sources the files its own strata wrote), and return
/// the line that sources the hook, with a new session id.
fn tcsh_line(ctx: &Ctx, bin: &[u8], stamp_dir: &[u8], raw_bytes: bool) -> Result<Vec<u8>> {
    let dir = tcsh_dir(&ctx.dirs);
    let settings = ctx.base_settings()?;
    let place = |name: &str, bytes: &[u8]| tcsh_file(&ctx.dirs, name, bytes, settings.lock);
    let fresh = place("fresh", crate::shells::tcsh_own_fresh().as_bytes())?;
    let ask = place("ask", crate::shells::tcsh_ask().as_bytes())?;
    let hook = render(
        Shell::Tcsh,
        bin,
        stamp_dir,
        "",
        [fresh.as_os_str().as_bytes(), ask.as_os_str().as_bytes()],
        raw_bytes,
    )?;
    let hook = place("hook", &hook)?;
    let path = hook.as_os_str().as_bytes();
    if path.contains(&b'\n') {
        bail!(
            "cannot write the tcsh hook: strata's state directory {} has a newline in its name, which tcsh's eval cannot take",
            crate::display::tilde(&dir)
        );
    }
    let mut line = format!("set __strata_session = '{}'; source ", new_id()).into_bytes();
    line.extend_from_slice(&Shell::Tcsh.script_literal(path, raw_bytes).map_err(|why| {
        anyhow::anyhow!(
            "cannot write the tcsh hook: strata's state directory {}: {why}",
            crate::display::tilde(&dir)
        )
    })?);
    line.push(b'\n');
    Ok(line)
}

/// Where tcsh's hook files live: `$XDG_STATE_HOME/strata/hooks/`.
fn tcsh_dir(dirs: &crate::store::Dirs) -> PathBuf {
    dirs.state.join("hooks")
}

/// Write `bytes` as the tcsh file `NAME-HASH.tcsh` in [`tcsh_dir`], named by its content (so
/// a name always holds the same text, whichever strata wrote it), unless it is there already:
/// read as one of strata's own files (regular, private, not a symlink, at most one byte longer
/// than `bytes`), and otherwise replaced by the atomic writer, which refuses a symlink there.
pub fn tcsh_file(
    dirs: &crate::store::Dirs,
    name: &str,
    bytes: &[u8],
    lock: crate::store::LockPolicy,
) -> Result<PathBuf> {
    let dir = tcsh_dir(dirs);
    let hash = crate::store::trust::sha256_hex(bytes);
    let file = dir.join(format!("{name}-{}.tcsh", &hash[..16]));
    let cap = bytes.len() as u64 + 1;
    let there = crate::files::read(&file, cap, crate::files::Own::Mine)
        .ok()
        .flatten();
    if !there.is_some_and(|c| !c.link && c.bytes == bytes) {
        crate::store::ensure_private_dir(&dirs.state)?;
        crate::store::ensure_private_dir(&dir)?;
        crate::store::write_atomic(&file, bytes, lock)?;
    }
    Ok(file)
}

/// The env file for `shell`: its template with the binary and the agent index filled in, and
/// no comment lines but the first (a shell reads every byte it sources, at every start).
pub fn render_env_file(shell: Shell, bin: &[u8], index: &[u8]) -> String {
    let template = match shell {
        Shell::Bash => ENV_BASH,
        Shell::Zsh => ENV_ZSH,
        Shell::Fish => ENV_FISH,
        other => unreachable!("no env file for {}", other.name()),
    };
    let mut out = String::with_capacity(template.len());
    for (i, line) in template.lines().enumerate() {
        if i > 0 && line.starts_with('#') {
            continue;
        }
        out.push_str(
            &line
                .replace("@STRATA_BIN@", &shell.quote(bin))
                .replace("@INDEX@", &shell.quote(index)),
        );
        out.push('\n');
    }
    out
}

/// What the user does with the env file written at `path`, for `shell`.
fn env_file_hint(shell: Shell, path: &Path) -> String {
    let shown = crate::display::tilde(path);
    let dir = path.parent().map(crate::display::tilde).unwrap_or_default();
    match shell {
        Shell::Bash => format!(
            "wrote {shown}: export BASH_ENV={shown} where non-interactive bash should apply strata"
        ),
        Shell::Zsh if path.file_name().is_some_and(|n| n == ".zshenv") => format!(
            "wrote {shown}: export ZDOTDIR={dir} where non-interactive zsh should apply strata (zsh then reads this .zshenv instead of ~/.zshenv)"
        ),
        Shell::Zsh => format!(
            "wrote {shown}: name it .zshenv and export ZDOTDIR=its directory, or source it from ~/.zshenv"
        ),
        Shell::Fish
            if path
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "conf.d") =>
        {
            format!("wrote {shown}: every non-interactive fish reads it")
        }
        Shell::Fish => format!(
            "wrote {shown}: source it from config.fish, or write it into ~/.config/fish/conf.d/"
        ),
        other => unreachable!("no env file for {}", other.name()),
    }
}

fn write_env_file(ctx: &Ctx, shell: Shell, path: &Path, bin: &[u8]) -> Result<()> {
    let index = ctx.dirs.agent_index(shell);
    let text = render_env_file(shell, bin, index.as_os_str().as_bytes());
    // Like every file strata writes: temp file (0600) + rename, so a running `bash -c` never
    // sources half of it, and never through a symlink.
    let settings = ctx.base_settings()?;
    if let Some(dir) = std::path::absolute(path)?.parent() {
        // Created like strata's own directories: the file says which binary runs in every shell.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", crate::display::tilde(dir)))?;
    }
    crate::store::write_outside(&ctx.dirs, path, text.as_bytes(), settings.lock)?;
    crate::say!("{}", env_file_hint(shell, path));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(shell: Shell, bin: &[u8], stamp_dir: &[u8], session: &str) -> String {
        String::from_utf8(render(shell, bin, stamp_dir, session, [b"/f", b"/a"], true).unwrap())
            .unwrap()
    }

    #[test]
    fn placeholders_are_quoted_for_each_shell() {
        let bash = text(Shell::Bash, b"/opt/my tools/strata", b"/s/stamps", "ab12");
        assert!(
            bash.contains("__strata_bin='/opt/my tools/strata'"),
            "{bash}"
        );
        assert!(bash.contains("__strata_stamp=/s/stamps/$$"), "{bash}");
        assert!(bash.contains("export STRATA_SESSION='ab12'"), "{bash}");
        let fish = text(Shell::Fish, b"/opt/it's/strata", b"/s", "ab12");
        assert!(
            fish.contains("set -g __strata_bin '/opt/it\\'s/strata'"),
            "{fish}"
        );
        let nu = text(Shell::Nu, b"/opt/it's/strata", b"/s", "ab12");
        assert!(nu.contains("bin: r#'/opt/it's/strata'#"), "{nu}");
        let xonsh = text(Shell::Xonsh, b"/b", b"/s", "ab12");
        assert!(xonsh.contains("decode(\"2f62\")"), "{xonsh}");
        let tcsh = text(Shell::Tcsh, b"/b", b"/s t", "ab12");
        assert!(tcsh.contains("set __strata_fresh0 = /f"), "{tcsh}");
        assert!(tcsh.contains("set __strata_ask = /a"), "{tcsh}");
        assert!(tcsh.contains("set __strata_stamp = '/s t'/$$"), "{tcsh}");
        for sh in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Nu,
            Shell::Elvish,
            Shell::Xonsh,
            Shell::Tcsh,
        ] {
            let t = text(sh, b"/b", b"/s", "x");
            for hole in [
                "@STRATA_BIN@",
                "@STAMP_DIR@",
                "@SESSION@",
                "@INITIAL_HOOK@",
                "@FRESH_FILE@",
                "@ASK_FILE@",
            ] {
                assert!(!t.contains(hole), "{sh:?} {hole}");
            }
        }
    }

    #[test]
    fn a_tcsh_file_is_never_taken_through_a_symlink_and_wrong_text_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = crate::store::Dirs::under(tmp.path());
        let first = tcsh_file(&dirs, "fresh", b"echo one\n", Default::default()).unwrap();
        assert_eq!(std::fs::read(&first).unwrap(), b"echo one\n");
        // Other text under that name (longer than the cap): rewritten.
        std::fs::write(&first, b"echo one\necho planted\n").unwrap();
        tcsh_file(&dirs, "fresh", b"echo one\n", Default::default()).unwrap();
        assert_eq!(std::fs::read(&first).unwrap(), b"echo one\n");
        // A symlink in its place, even to the same text: not used, not written through.
        let target = tmp.path().join("elsewhere");
        std::fs::write(&target, b"echo one\n").unwrap();
        std::fs::remove_file(&first).unwrap();
        std::os::unix::fs::symlink(&target, &first).unwrap();
        let e = tcsh_file(&dirs, "fresh", b"echo one\n", Default::default()).unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"echo one\n");
    }

    #[test]
    fn what_a_shell_cannot_take_is_an_error() {
        let e = render(Shell::Nu, b"/opt/\xff/strata", b"/s", "x", [b"", b""], true).unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
        let e = render(
            Shell::Tcsh,
            "/é/strata".as_bytes(),
            b"/s",
            "x",
            [b"/f", b"/a"],
            false,
        );
        assert!(e.is_err());
    }
}
