//! Tool settings: one typed struct, defaults in one place, each value remembering where it
//! came from.
//!
//! Sources, lowest first: defaults, system file, global file, directory files (outer first),
//! `STRATA_*` environment variables, `-c key=value` flags. `trust.paths` is honoured only from
//! the system and global files: a directory file cannot make itself trusted.

use anyhow::{Result, anyhow, bail};
use std::path::PathBuf;
use std::time::Duration;
use toml_edit::Value;

use crate::layers::file::{Kind, SettingEntry};
use crate::names::did_you_mean;
use crate::store::LockPolicy;

/// How chatty the hook is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// Nothing but errors.
    Quiet,
    /// One line per change (the default).
    Info,
    /// Also what was evaluated and why.
    Verbose,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file, at a line.
    File(PathBuf, usize),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(p, line) => write!(f, "{}:{line}", crate::display::tilde(p)),
            Origin::Env(v) => write!(f, "env {v}"),
            Origin::Flag(s) => write!(f, "flag {s}"),
        }
    }
}

/// Every setting strata understands.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `log`: quiet | info | verbose.
    pub log: Log,
    /// `hide_diff`: hide the `+FOO ~PATH` list in the change line.
    pub hide_diff: bool,
    /// `trust.paths`: directory prefixes whose files are trusted without `strata allow`.
    pub trust_paths: Vec<PathBuf>,
    /// `lock.warn_after` and `lock.timeout`.
    pub lock: LockPolicy,
    /// `dotenv.default`: load `.env` beside each directory file without listing it.
    pub dotenv_default: bool,
    /// `hook.fast_path`: let the shell skip running strata when nothing can have changed.
    pub fast_path: bool,
    /// `context`: pin a context (typically from a directory file).
    pub context: Option<String>,
    /// `session.ttl`: sessions nobody wrote to for this long are collected.
    pub session_ttl: Duration,
    /// `prompt.format`: the prompt segment, with `{context}`, `{session}`, `{dir}`, `{untrusted}`.
    pub prompt_format: String,
    /// `color`: auto | always | never.
    pub color: ColorMode,
    /// `limits.layer_file`: the largest directory file strata reads; a larger one is skipped.
    pub layer_limit: u64,
    /// `limits.dotenv_file`: the largest dotenv file strata reads.
    pub dotenv_limit: u64,
    /// Where each key's value came from.
    pub origins: Vec<(&'static str, Origin)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            log: Log::Info,
            hide_diff: false,
            trust_paths: Vec::new(),
            lock: LockPolicy::default(),
            dotenv_default: false,
            fast_path: true,
            context: None,
            session_ttl: Duration::from_secs(7 * 86400),
            prompt_format: DEFAULT_PROMPT_FORMAT.to_string(),
            color: ColorMode::Auto,
            layer_limit: crate::files::LAYER_CAP,
            dotenv_limit: crate::files::DOTENV_CAP,
            origins: Vec::new(),
        }
    }
}

/// Every key, in the order listings show them.
pub const KEYS: &[&str] = &[
    "log",
    "hide_diff",
    "color",
    "context",
    "prompt.format",
    "trust.paths",
    "lock.timeout",
    "lock.warn_after",
    "session.ttl",
    "dotenv.default",
    "hook.fast_path",
    "limits.layer_file",
    "limits.dotenv_file",
];

/// The prompt segment unless `prompt.format` says otherwise: `prod · app` (see
/// [`crate::prompt`] for the format).
pub const DEFAULT_PROMPT_FORMAT: &str = "{context · dir}";

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// When `NO_COLOR` is unset (the prompt is for a terminal).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Parse `30s`, `5m`, `1h`, `7d`, `250ms`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow!("invalid duration {text:?} (write e.g. 500ms, 30s, 5m, 1h, 7d)"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => bail!("invalid duration {text:?}: unknown unit {unit:?} (use ms, s, m, h or d)"),
    };
    if !secs.is_finite() || !(0.0..=1e10).contains(&secs) {
        bail!("invalid duration {text:?}");
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parse a size: `512`, `64KiB`, `1MiB`, `2G` (every unit counts in 1024s).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow!("invalid size {text:?} (write e.g. 512KiB, 1MiB, 8MiB)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => bail!("invalid size {text:?}: unknown unit {unit:?} (use B, KiB, MiB or GiB)"),
    };
    n.checked_mul(mult)
        .ok_or_else(|| anyhow!("invalid size {text:?}: too large"))
}

fn as_bool(key: &str, v: &Value) -> Result<bool> {
    match v {
        Value::Boolean(b) => Ok(*b.value()),
        Value::String(s) => text_bool(key, s.value()),
        _ => bail!("{key} must be true or false"),
    }
}

fn text_bool(key: &str, s: &str) -> Result<bool> {
    match s {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => bail!("{key} must be true or false, not {s:?}"),
    }
}

impl Settings {
    /// The value of `key` as text (lists colon-separated, durations like `30s`).
    pub fn get_text(&self, key: &str) -> Option<String> {
        // The largest unit that writes it exactly, as people write durations: 7d, 30s, 250ms.
        let dur = |d: Duration| {
            let ms = d.as_millis();
            for (unit, size) in [
                ("d", 86_400_000),
                ("h", 3_600_000),
                ("m", 60_000),
                ("s", 1000),
            ] {
                if ms >= size && ms.is_multiple_of(size) {
                    return format!("{}{unit}", ms / size);
                }
            }
            format!("{ms}ms")
        };
        Some(match key {
            "log" => match self.log {
                Log::Quiet => "quiet",
                Log::Info => "info",
                Log::Verbose => "verbose",
            }
            .to_string(),
            "hide_diff" => self.hide_diff.to_string(),
            "color" => match self.color {
                ColorMode::Auto => "auto",
                ColorMode::Always => "always",
                ColorMode::Never => "never",
            }
            .to_string(),
            "context" => self.context.clone().unwrap_or_default(),
            "prompt.format" => self.prompt_format.clone(),
            "trust.paths" => self
                .trust_paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(":"),
            "lock.timeout" => dur(self.lock.timeout),
            "lock.warn_after" => dur(self.lock.warn_after),
            "session.ttl" => dur(self.session_ttl),
            "dotenv.default" => self.dotenv_default.to_string(),
            "hook.fast_path" => self.fast_path.to_string(),
            "limits.layer_file" => crate::files::human_size(self.layer_limit).replace(' ', ""),
            "limits.dotenv_file" => crate::files::human_size(self.dotenv_limit).replace(' ', ""),
            _ => return None,
        })
    }

    /// Where `key`'s value came from (`None`: the built-in default).
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        self.origins.iter().find(|(k, _)| *k == key).map(|(_, o)| o)
    }

    /// The TOML value to write for `key` = `text` in a file, checked like any other source.
    pub fn toml_value(key: &str, text: &str) -> Result<Value> {
        let mut scratch = Settings::default();
        scratch.set_text(key, text, Origin::Flag(String::new()))?;
        Ok(match key {
            "hide_diff" | "dotenv.default" | "hook.fast_path" => Value::from(text_bool(key, text)?),
            "trust.paths" => Value::Array(text.split(':').filter(|s| !s.is_empty()).collect()),
            _ => Value::from(text),
        })
    }

    /// Set `key` from text (an env var or `-c key=value`).
    pub fn set_text(&mut self, key: &str, text: &str, origin: Origin) -> Result<()> {
        let value = match key {
            "trust.paths" => Value::Array(text.split(':').filter(|s| !s.is_empty()).collect()),
            _ => Value::from(text),
        };
        self.set(key, &value, origin)
    }

    /// Set `key` from a TOML value.
    pub fn set(&mut self, key: &str, v: &Value, origin: Origin) -> Result<()> {
        let key: &'static str = match KEYS.iter().find(|k| **k == key) {
            Some(k) => k,
            None => {
                let hint = did_you_mean(key, KEYS)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_else(|| format!(" (known: {})", KEYS.join(", ")));
                bail!("unknown setting `{key}`{hint}");
            }
        };
        let text = |v: &Value| -> Result<String> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow!("{key} must be a string"))
        };
        let size_text = |v: &Value| -> Result<String> {
            match v {
                Value::Integer(i) => Ok(i.value().to_string()),
                _ => text(v),
            }
        };
        match key {
            "log" => {
                self.log = match text(v)?.as_str() {
                    "quiet" => Log::Quiet,
                    "info" => Log::Info,
                    "verbose" => Log::Verbose,
                    other => bail!("log must be quiet, info or verbose, not {other:?}"),
                }
            }
            "hide_diff" => self.hide_diff = as_bool(key, v)?,
            "trust.paths" => {
                let arr = v
                    .as_array()
                    .ok_or_else(|| anyhow!("trust.paths must be an array of directory paths"))?;
                let mut paths = Vec::new();
                for item in arr {
                    let s = item
                        .as_str()
                        .ok_or_else(|| anyhow!("trust.paths must contain only strings"))?;
                    let p = expand_home(s);
                    if !p.is_absolute() {
                        bail!("trust.paths entries must be absolute (or start with ~/), not {s:?}");
                    }
                    paths.push(std::fs::canonicalize(&p).unwrap_or(p));
                }
                self.trust_paths = paths;
            }
            "lock.timeout" => self.lock.timeout = parse_duration(&text(v)?)?,
            "lock.warn_after" => self.lock.warn_after = parse_duration(&text(v)?)?,
            "dotenv.default" => self.dotenv_default = as_bool(key, v)?,
            "hook.fast_path" => self.fast_path = as_bool(key, v)?,
            "context" => {
                let name = text(v)?;
                crate::names::validate_name("context", &name)?;
                self.context = Some(name);
            }
            "session.ttl" => self.session_ttl = parse_duration(&text(v)?)?,
            "limits.layer_file" => self.layer_limit = parse_size(&size_text(v)?)?,
            "limits.dotenv_file" => self.dotenv_limit = parse_size(&size_text(v)?)?,
            "prompt.format" => {
                let f = text(v)?;
                crate::prompt::check_format(&f).map_err(|e| anyhow!("prompt.format: {e}"))?;
                self.prompt_format = f;
            }
            "color" => {
                self.color = match text(v)?.as_str() {
                    "auto" => ColorMode::Auto,
                    "always" => ColorMode::Always,
                    "never" => ColorMode::Never,
                    other => bail!("color must be auto, always or never, not {other:?}"),
                }
            }
            _ => unreachable!("every key in KEYS is handled"),
        }
        self.origins.retain(|(k, _)| *k != key);
        self.origins.push((key, origin));
        Ok(())
    }

    /// Apply a file's `[settings]`. `trust.paths` in a directory file is ignored (a repository
    /// must not trust itself); the returned warnings say so.
    pub fn apply_file(
        &mut self,
        kind: Kind,
        path: &std::path::Path,
        entries: &[SettingEntry],
    ) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        for e in entries {
            let at = || {
                format!(
                    "{}:{}:{}",
                    crate::display::tilde(path),
                    e.pos.line,
                    e.pos.col
                )
            };
            if e.key == "trust.paths" && kind.is_dir() {
                warnings.push(format!(
                    "{}: trust.paths is ignored in a directory file (a repository must not trust itself); set it in the global config instead",
                    at()
                ));
                continue;
            }
            if e.key == "trust.paths" && kind == Kind::Context {
                warnings.push(format!(
                    "{}: trust.paths is ignored in a context (trust must not change with the context); set it in the global config instead",
                    at()
                ));
                continue;
            }
            self.set(
                &e.key,
                &e.value,
                Origin::File(path.to_path_buf(), e.pos.line),
            )
            .map_err(|err| anyhow!("{}: {err}", at()))?;
        }
        Ok(warnings)
    }

    /// Apply `STRATA_<KEY>` variables (`STRATA_LOCK_TIMEOUT` for `lock.timeout`).
    /// `STRATA_CONTEXT` is not read here: it has its own place in the context precedence (above
    /// the session's choice). `trust.paths` is never taken from the environment, which layer
    /// files can influence.
    pub fn apply_env(&mut self) -> Result<()> {
        for key in KEYS
            .iter()
            .filter(|k| !matches!(**k, "context" | "trust.paths"))
        {
            let var = format!("STRATA_{}", key.replace('.', "_").to_ascii_uppercase());
            if let Some(v) = std::env::var_os(&var) {
                let v = v.to_string_lossy();
                if v.is_empty() {
                    continue;
                }
                self.set_text(key, &v, Origin::Env(var.clone()))
                    .map_err(|e| anyhow!("{var}: {e}"))?;
            }
        }
        Ok(())
    }

    /// Apply `-c key=value` flags.
    pub fn apply_flags(&mut self, flags: &[String]) -> Result<()> {
        for f in flags {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| anyhow!("-c {f}: expected key=value"))?;
            self.set_text(k.trim(), v, Origin::Flag(format!("-c {f}")))
                .map_err(|e| anyhow!("-c {f}: {e}"))?;
        }
        Ok(())
    }
}

/// `~/x` to `$HOME/x`.
pub fn expand_home(s: &str) -> PathBuf {
    match (s.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ if s == "~" => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| s.into()),
        _ => PathBuf::from(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn unknown_keys_suggest() {
        let mut s = Settings::default();
        let e = s
            .set_text("lock.timout", "1s", Origin::Flag("-c".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `lock.timeout`"), "{e}");
    }

    #[test]
    fn directory_files_cannot_trust_themselves() {
        let mut s = Settings::default();
        let entry = SettingEntry {
            key: "trust.paths".into(),
            value: Value::Array(["/".to_string()].into_iter().collect()),
            pos: Default::default(),
        };
        let warnings = s
            .apply_file(
                Kind::Dir,
                std::path::Path::new("/p/.strata.toml"),
                std::slice::from_ref(&entry),
            )
            .unwrap();
        assert!(
            warnings[0].contains("ignored in a directory file"),
            "{warnings:?}"
        );
        assert!(s.trust_paths.is_empty());
        s.apply_file(Kind::Global, std::path::Path::new("/c.toml"), &[entry])
            .unwrap();
        assert_eq!(s.trust_paths, [PathBuf::from("/")]);
    }
}
