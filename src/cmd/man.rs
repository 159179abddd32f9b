//! `strata man [PAGE] [--install]`: strata(1) and one page per subcommand (`strata-set(1)`,
//! `strata-context-use(1)`…), generated from the command line's own definitions with
//! clap_mangen, plus the sections a reference page needs: precedence, files, environment,
//! exit status.

use anyhow::{Context as _, Result, bail};
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

use super::{Ctx, Run};
use crate::cli::{Cli, ManArgs};
use crate::display::tilde;

/// The sections of strata(1) beyond what clap knows, in roff.
const EXTRA: &str = r#".SH PRECEDENCE
Lowest first, a higher layer overriding a lower one variable by variable: the system config
(/etc/strata/config.toml), the global config, the active context, every \fI.strata.toml\fR from
/ down to the current directory (each followed by its \fI.strata.local.toml\fR), the session.
Settings: flags, then STRATA_* variables, then directory files (inner first), the context, the
global and the system config, then the defaults.
.PP
The active context: \fB\-\-context\fR, STRATA_CONTEXT, the session's choice
(\fBstrata context use \-\-session\fR), a directory's \fBcontext\fR setting, the global selection.
.SH FILES
.TP
\fI$XDG_CONFIG_HOME/strata/config.toml\fR
The global config (default ~/.config/strata).
.TP
\fI$XDG_CONFIG_HOME/strata/contexts/NAME.toml\fR
Named contexts.
.TP
\fI$XDG_STATE_HOME/strata/\fR
The current context, sessions (\fIsessions/ID.toml\fR), hook stamps, stored values and the key
that authenticates STRATA_STATE (default ~/.local/state/strata).
.TP
\fI$XDG_DATA_HOME/strata/trust/\fR
One record per allowed or denied directory file (default ~/.local/share/strata).
.TP
\fI.strata.toml\fR, \fI.strata.local.toml\fR
Directory files; they apply only after \fBstrata allow\fR.
.SH ENVIRONMENT
.TP
\fBSTRATA_SESSION\fR
The session this shell belongs to; the hook sets one.
.TP
\fBSTRATA_CONTEXT\fR
A context for strata commands run with it (above the session's and the global choice).
.TP
\fBSTRATA_CONFIG_DIR\fR, \fBSTRATA_STATE_DIR\fR, \fBSTRATA_DATA_DIR\fR
strata's directories, above the XDG variables.
.TP
\fBSTRATA_LOG\fR, \fBSTRATA_\fR\fIKEY\fR
Settings (\fBstrata config list\fR shows every key).
.TP
\fBNO_COLOR\fR
No colours.
.TP
\fBSTRATA_STATE\fR, \fBSTRATA_PROMPT\fR
The hook's bookkeeping and the plain prompt segment; strata's own.
.SH EXIT STATUS
0 on success, 1 on an error (one line on standard error), 2 on a usage error; \fBstrata exec\fR
exits with the command's status, 127 when there is no such command and 126 when it cannot run;
\fBstrata get\fR exits 1 when the variable is unset.
"#;

/// The command line, built so that every subcommand knows its full name (`strata set`).
fn tree() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

/// Every page: (page name, command), strata(1) first, then each subcommand at every depth.
fn pages(cmd: &clap::Command) -> Vec<(String, clap::Command)> {
    fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{prefix}-{}", sub.get_name());
            out.push((name.clone(), sub.clone()));
            walk(&name, sub, out);
        }
    }
    let mut out = vec![("strata".to_string(), cmd.clone())];
    walk("strata", cmd, &mut out);
    out
}

/// roff text for `s`: backslashes and leading dots made harmless.
fn roff(s: &str) -> String {
    s.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e").replace('-', "\\-");
            if l.starts_with(['.', '\'']) {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One page in roff.
fn render(name: &str, cmd: &clap::Command, all: &[(String, clap::Command)]) -> Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone()).title(name.to_string());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    // clap_mangen's synopsis drops value names (`[-C ]`); the usage line clap prints is right.
    let usage = cmd.clone().render_usage().to_string();
    let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
    writeln!(out, ".SH SYNOPSIS\n\\fB{}\\fR", roff(usage))?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    if cmd.get_subcommands().any(|s| s.get_name() != "help") {
        man.render_subcommands_section(&mut out)?;
    }
    if name == "strata" {
        out.extend_from_slice(EXTRA.as_bytes());
    }
    // SEE ALSO: the parent page and this page's own subcommands, all of which exist.
    let mut see: Vec<String> = Vec::new();
    if let Some((parent, _)) = name.rsplit_once('-') {
        see.push(parent.to_string());
    }
    see.extend(
        all.iter()
            .map(|(n, _)| n)
            .filter(|n| n.rsplit_once('-').is_some_and(|(p, _)| p == name))
            .cloned(),
    );
    if !see.is_empty() {
        let refs: Vec<String> = see
            .iter()
            .map(|s| format!("\\fB{}\\fR(1)", roff(s)))
            .collect();
        writeln!(out, ".SH \"SEE ALSO\"\n{}", refs.join(", "))?;
    }
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Print one page, or install them all.
impl Run for ManArgs {
    /// Print one page, or install them all.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let (page, install) = (self.page.as_deref(), self.install);
        let cmd = tree();
        let all = pages(&cmd);
        if install {
            let home = crate::store::home()?;
            let data = std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(".local/share"));
            let root = data.join("man");
            let dir = root.join("man1");
            for (name, c) in &all {
                let text = render(name, c, &all)?;
                super::completions::write_public(ctx, &dir.join(format!("{name}.1")), &text)?;
            }
            crate::say!("wrote {} pages to {}", all.len(), tilde(&dir));
            // man-db finds ~/.local/share/man by itself when ~/.local/bin is on PATH; say so if not.
            let found = std::process::Command::new("manpath")
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .is_some_and(|p| p.trim().split(':').any(|d| std::path::Path::new(d) == root));
            if !found {
                crate::say!(
                    "man does not search {} yet; add to your rc file: export MANPATH={}:",
                    tilde(&root),
                    crate::display::command(&[&tilde(&root)])
                );
            }
            return Ok(());
        }
        let name = match page {
            None | Some("strata") => "strata".to_string(),
            Some(p) => format!(
                "strata-{}",
                p.trim_start_matches("strata-").replace(' ', "-")
            ),
        };
        let Some((_, c)) = all.iter().find(|(n, _)| *n == name) else {
            bail!(
                "no page {name}; pages: {}",
                all.iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        let text = render(&name, c, &all)?;
        std::io::stdout()
            .write_all(&text)
            .context("cannot write the man page")?;
        Ok(())
    }
}
