//! `strata env [--format shell|json|dotenv] [-C DIR]`: what strata sets at a directory,
//! without a shell: every variable it sets or changes with its full resulting value, and the
//! ones it unsets.

use anyhow::Result;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use super::{Ctx, Run};
use crate::cli::{EnvArgs, EnvFormat};
use crate::env_diff::apply;
use crate::shells::Shell;

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
            EnvFormat::Shell => {
                for (k, v) in &applied.values {
                    match v {
                        Some(v) => writeln!(out, "export {k}={}", Shell::Bash.quote(v.as_bytes()))?,
                        None => writeln!(out, "unset {k}")?,
                    }
                }
            }
            EnvFormat::Dotenv => {
                for (k, v) in &applied.values {
                    match v {
                        Some(v) => writeln!(out, "{k}={}", dotenv_quote(v.as_bytes()))?,
                        None => writeln!(out, "# {k} is unset")?,
                    }
                }
            }
        }
        std::io::stdout().write_all(&out)?;
        Ok(())
    }
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
