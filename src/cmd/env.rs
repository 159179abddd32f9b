//! `strata env [--format shell|json|dotenv|gha|gitlab|systemd|docker] [-C DIR]`: what strata
//! sets at a directory, without a shell: every variable it sets or changes with its full
//! resulting value, and the ones it unsets.
//!
//! The CI and service formats are rendered by [`crate::ci`], which refuses what the consumer
//! cannot hold; this module writes the result: `gha` appends to the files GitHub Actions names,
//! the others go to stdout.

use anyhow::{Result, bail};
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::{Ctx, Run, Silent};
use crate::ci::{self, Refused, Var};
use crate::cli::{EnvArgs, EnvFormat};
use crate::env_diff::{Applied, Env, apply};
use crate::layers::Evaluation;
use crate::settings::Log;
use crate::shells::Shell;

/// Whether `name`'s value is a secret, for the formats that mask secret values (`gha`): a
/// keyring or age value, one a file's `[secrets] mask` names, or one built from either.
fn is_secret(eval: &Evaluation, name: &str) -> bool {
    eval.secrets.contains(name)
}

/// Print the environment strata resolves at the working directory.
impl Run for EnvArgs {
    /// Print the environment strata resolves at the working directory.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let format = self.format;
        let cwd = ctx.cwd()?;
        let (base, eval) = ctx.evaluate(&cwd, &mut Default::default())?;
        for w in &eval.warnings {
            crate::say!("{w}");
        }
        let mut applied = apply(&base, eval.target.clone(), None, &base);
        applied.values.sort_unstable_keys();
        let vars: Vec<Var<'_>> = applied
            .values
            .iter()
            .map(|(k, v)| Var {
                name: k,
                value: v.as_ref().map(|v| v.as_bytes()),
            })
            .collect();
        let rendered = match format {
            EnvFormat::Gha => return gha(&eval, &base, &applied, &vars),
            EnvFormat::Gitlab => ci::gitlab::render(&vars),
            EnvFormat::Systemd => ci::systemd::render(&vars),
            EnvFormat::Docker => ci::docker::render(&vars),
            EnvFormat::Json | EnvFormat::Shell | EnvFormat::Dotenv => {
                return plain(format, &applied);
            }
        };
        let rendered = rendered.map_err(|r| refused(format, &r))?;
        crate::display::say_all(&rendered.notes);
        std::io::stdout().write_all(&rendered.text)?;
        Ok(())
    }
}

/// Report every variable a format cannot express, and fail.
fn refused(format: EnvFormat, refusals: &[Refused]) -> anyhow::Error {
    let name = match format {
        EnvFormat::Gha => "gha",
        EnvFormat::Gitlab => "gitlab",
        EnvFormat::Systemd => "systemd",
        EnvFormat::Docker => "docker",
        EnvFormat::Json | EnvFormat::Shell | EnvFormat::Dotenv => "this format",
    };
    let lines: Vec<String> = refusals
        .iter()
        .map(|r| format!("--format {name} cannot express {r}"))
        .collect();
    crate::display::say_all(&lines);
    let nothing = match format {
        EnvFormat::Gha => "nothing was written to $GITHUB_ENV or $GITHUB_PATH",
        _ => "nothing was printed",
    };
    crate::say!("{nothing}; `strata exec -- CMD` passes any value as it is");
    Silent(1).into()
}

/// `--format gha`: the masks on stdout, then the additions to `$GITHUB_ENV` and `$GITHUB_PATH`.
fn gha(eval: &Evaluation, base: &Env, applied: &Applied, vars: &[Var<'_>]) -> Result<()> {
    let file = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let Some(env_file) = file("GITHUB_ENV") else {
        bail!(
            "--format gha appends to the files named by $GITHUB_ENV and $GITHUB_PATH, which GitHub Actions sets in every step, and GITHUB_ENV is not set here (to see what it writes: GITHUB_ENV=$(mktemp) GITHUB_PATH=$(mktemp) strata env --format gha)"
        );
    };
    let prepend = path_prepend(eval, base, applied);
    let vars: Vec<Var<'_>> = match &prepend {
        Some(_) => vars.iter().filter(|v| v.name != "PATH").copied().collect(),
        None => vars.to_vec(),
    };
    let entries: Vec<&[u8]> = prepend.iter().flatten().map(|e| e.as_bytes()).collect();
    let input = ci::gha::Input {
        vars: &vars,
        path_prepend: &entries,
        is_set: &|name| base.contains_key(OsStr::new(name)),
        is_secret: &|name| is_secret(eval, name),
    };
    let out = ci::gha::render(&input, &mut ci::gha::random_delimiter)
        .map_err(|r| refused(EnvFormat::Gha, &r))?;
    let path_file = file("GITHUB_PATH");
    if !out.path.is_empty() && path_file.is_none() {
        bail!(
            "strata puts entries in front of PATH here, and GITHUB_PATH is not set (GitHub Actions sets it with GITHUB_ENV)"
        );
    }
    // Masks first: the runner must know a secret before any later step can print it.
    let mut stdout = std::io::stdout();
    stdout.write_all(&out.masks)?;
    stdout.flush()?;
    if !out.env.is_empty() {
        crate::store::append(&env_file, &out.env)?;
    }
    if let Some(path_file) = path_file.filter(|_| !out.path.is_empty()) {
        crate::store::append(&path_file, &out.path)?;
    }
    crate::display::say_all(&out.notes);
    if eval.settings.log != Log::Quiet {
        let mut done = Vec::new();
        if !out.names.is_empty() {
            done.push(format!("{} to $GITHUB_ENV", out.names.join(", ")));
        }
        if !entries.is_empty() {
            let n = entries.len();
            done.push(format!(
                "{n} {} to $GITHUB_PATH",
                if n == 1 { "entry" } else { "entries" }
            ));
        }
        if !done.is_empty() {
            crate::say!("appended {}", done.join(" and "));
        }
    }
    Ok(())
}

/// The entries strata puts in front of `PATH`, first first, when that is all it does to `PATH`
/// (what `$GITHUB_PATH` can say); `Some(empty)` when `PATH` ends up as it was; `None` when
/// strata does more (sets `PATH` outright, or appends to it), and `PATH` goes to `$GITHUB_ENV`
/// in full.
fn path_prepend(
    eval: &Evaluation,
    base: &Env,
    applied: &Applied,
) -> Option<Vec<std::ffi::OsString>> {
    if eval.target.vars.contains_key("PATH") {
        return None;
    }
    let Some(edit) = eval.target.lists.get("PATH") else {
        return Some(Vec::new());
    };
    if !edit.append.is_empty() {
        return None;
    }
    let now = applied.values.get("PATH").cloned().flatten();
    if now.as_deref() == base.get(OsStr::new("PATH")).map(|p| p.as_os_str()) {
        return Some(Vec::new());
    }
    let mut entries: Vec<std::ffi::OsString> = Vec::new();
    for e in &edit.prepend {
        if !entries.contains(e) {
            entries.push(e.clone());
        }
    }
    Some(entries)
}

/// The formats for a shell or a program: `shell`, `json`, `dotenv`.
fn plain(format: EnvFormat, applied: &Applied) -> Result<()> {
    let mut out = Vec::new();
    match format {
        EnvFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = applied
                .values
                .iter()
                .map(|(k, v)| {
                    let v = v.as_ref().map_or(serde_json::Value::Null, |v| {
                        serde_json::Value::String(v.to_string_lossy().into_owned())
                    });
                    (k.clone(), v)
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&map)?)?;
        }
        EnvFormat::Dotenv => {
            for (k, v) in &applied.values {
                match v {
                    Some(v) => writeln!(out, "{k}={}", dotenv_quote(v.as_bytes()))?,
                    None => writeln!(out, "# {k} is unset")?,
                }
            }
        }
        _ => {
            for (k, v) in &applied.values {
                match v {
                    Some(v) => writeln!(out, "export {k}={}", Shell::Bash.quote(v.as_bytes()))?,
                    None => writeln!(out, "unset {k}")?,
                }
            }
        }
    }
    std::io::stdout().write_all(&out)?;
    Ok(())
}

/// A double-quoted dotenv value: `\`, `"`, `$` and newlines escaped.
fn dotenv_quote(v: &[u8]) -> String {
    let text = String::from_utf8_lossy(v);
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::dotenv_quote;

    #[test]
    fn dotenv_values_round_trip_through_our_parser() {
        let value = "a \"b\" $HOME \\ \n\tz";
        let line = format!("K={}\n", dotenv_quote(value.as_bytes()));
        let parsed =
            crate::layers::dotenv::parse(std::path::Path::new("/x"), line.as_bytes(), &|_| None)
                .unwrap();
        assert_eq!(parsed[0].value.to_str(), Some(value));
    }
}
