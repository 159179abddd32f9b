//! Tool settings: one typed struct, and one table ([`SETTINGS`]) that says, for every key, its
//! default as people write it, what it means, where it may come from, and how its text is read
//! and written. A new setting is one entry there (and its field); nothing else matches keys.
//!
//! Sources, lowest first: defaults, system file, global file, directory files (outer first),
//! `STRATA_*` environment variables, `-c key=value` flags. `trust.paths` is honoured only from
//! the system and global files and flags: a directory file cannot make itself trusted.

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

/// Where `strata use NAME` switches when neither `--session` nor `--global` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UseScope {
    /// Every terminal, at its next prompt (the global selection).
    Global,
    /// This terminal only: its session's own choice.
    Session,
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
    /// `prompt.format`: the prompt segment, with `{context}`, `{session}`, `{dir}`,
    /// `{untrusted}`, `{protected}`.
    pub prompt_format: String,
    /// `color`: auto | always | never.
    pub color: ColorMode,
    /// `use.scope`: where `strata use NAME` switches by default.
    pub use_scope: UseScope,
    /// `limits.layer_file`: the largest directory file strata reads; a larger one is skipped.
    pub layer_limit: u64,
    /// `limits.dotenv_file`: the largest dotenv file strata reads.
    pub dotenv_limit: u64,
    /// `secrets.store`: the keyring `strata set --secret` uses (`None`: the first that answers).
    pub secrets_store: Option<crate::secrets::Store>,
    /// `secrets.identities`: the age identity files (empty: `identities.txt` in strata's config
    /// directory).
    pub identities: Vec<PathBuf>,
    /// Where each key's value came from.
    pub origins: Vec<(&'static str, Origin)>,
}

/// The prompt segment unless `prompt.format` says otherwise: `prod · app`, and
/// `protected prod · app` while the context is protected (see [`crate::prompt`] for the
/// format).
pub const DEFAULT_PROMPT_FORMAT: &str = "{protected }{context · dir}";

/// How a setting's text is read, and how it is written in a TOML file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off` as text).
    Bool,
    /// `500ms`, `30s`, `5m`, `1h`, `7d`.
    Duration,
    /// `512KiB`, `1MiB`, or a number of bytes.
    Size,
    /// One of a few words.
    Choice(&'static [&'static str]),
    /// Free text (checked by the setter).
    Text,
    /// A list of directories (colon-separated as text, an array in TOML).
    Paths,
}

/// One setting.
pub struct Entry {
    /// Dotted key, as written in `[settings]` and `strata config`.
    pub key: &'static str,
    /// What it does, for listings.
    pub about: &'static str,
    /// Its default, as people write it.
    pub default: &'static str,
    /// How its text is read.
    pub kind: Type,
    /// It may come from `STRATA_<KEY>` (not `context`, which has its own place in the context
    /// precedence, nor `trust.paths`, which layer files could influence through the
    /// environment).
    pub env: bool,
    set: fn(&mut Settings, &Value) -> Result<()>,
    get: fn(&Settings) -> String,
}

const LOG_WORDS: &[&str] = &["quiet", "info", "verbose"];
const STORE_WORDS: &[&str] = &["auto", "secret-service", "keyutils", "keychain"];
const COLOR_WORDS: &[&str] = &["auto", "always", "never"];
const USE_SCOPE_WORDS: &[&str] = &["global", "session"];

/// Every setting, in the order listings show them.
pub const SETTINGS: &[Entry] = &[
    Entry {
        key: "log",
        about: "quiet hides the change line (STRATA_LOG=quiet, -q), verbose lists the files",
        default: "info",
        kind: Type::Choice(LOG_WORDS),
        env: true,
        set: |s, v| {
            s.log = match choice("log", v, LOG_WORDS)? {
                "quiet" => Log::Quiet,
                "verbose" => Log::Verbose,
                _ => Log::Info,
            };
            Ok(())
        },
        get: |s| {
            match s.log {
                Log::Quiet => "quiet",
                Log::Info => "info",
                Log::Verbose => "verbose",
            }
            .into()
        },
    },
    Entry {
        key: "hide_diff",
        about: "print `environment updated` instead of `+FOO ~PATH`",
        default: "false",
        kind: Type::Bool,
        env: true,
        set: |s, v| {
            s.hide_diff = boolean("hide_diff", v)?;
            Ok(())
        },
        get: |s| s.hide_diff.to_string(),
    },
    Entry {
        key: "color",
        about: "never turns prompt colours off (NO_COLOR and --no-color too)",
        default: "auto",
        kind: Type::Choice(COLOR_WORDS),
        env: true,
        set: |s, v| {
            s.color = match choice("color", v, COLOR_WORDS)? {
                "always" => ColorMode::Always,
                "never" => ColorMode::Never,
                _ => ColorMode::Auto,
            };
            Ok(())
        },
        get: |s| {
            match s.color {
                ColorMode::Auto => "auto",
                ColorMode::Always => "always",
                ColorMode::Never => "never",
            }
            .into()
        },
    },
    Entry {
        key: "context",
        about: "pin a context, typically from a directory file",
        default: "",
        kind: Type::Text,
        env: false,
        set: |s, v| {
            let name = text("context", v)?;
            if name.is_empty() {
                s.context = None;
                return Ok(());
            }
            crate::names::validate_name("context", &name)?;
            s.context = Some(name);
            Ok(())
        },
        get: |s| s.context.clone().unwrap_or_default(),
    },
    Entry {
        key: "use.scope",
        about: "where strata use switches: global (every terminal) or session (only this terminal; --global for all)",
        default: "global",
        kind: Type::Choice(USE_SCOPE_WORDS),
        env: true,
        set: |s, v| {
            s.use_scope = match choice("use.scope", v, USE_SCOPE_WORDS)? {
                "session" => UseScope::Session,
                _ => UseScope::Global,
            };
            Ok(())
        },
        get: |s| {
            match s.use_scope {
                UseScope::Global => "global",
                UseScope::Session => "session",
            }
            .into()
        },
    },
    Entry {
        key: "prompt.format",
        about: "the prompt segment (see Prompt setup)",
        default: DEFAULT_PROMPT_FORMAT,
        kind: Type::Text,
        env: true,
        set: |s, v| {
            let f = text("prompt.format", v)?;
            crate::prompt::check_format(&f).map_err(|e| anyhow!("prompt.format: {e}"))?;
            s.prompt_format = f;
            Ok(())
        },
        get: |s| s.prompt_format.clone(),
    },
    Entry {
        key: "trust.paths",
        about: "directories whose files are trusted without strata allow (system/global config only)",
        default: "",
        kind: Type::Paths,
        env: false,
        set: |s, v| {
            s.trust_paths = paths("trust.paths", v)?;
            Ok(())
        },
        get: |s| {
            s.trust_paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(":")
        },
    },
    Entry {
        key: "lock.timeout",
        about: "give up waiting for a lock after this long",
        default: "30s",
        kind: Type::Duration,
        env: true,
        set: |s, v| {
            s.lock.timeout = parse_duration(&text("lock.timeout", v)?)?;
            Ok(())
        },
        get: |s| duration_text(s.lock.timeout),
    },
    Entry {
        key: "lock.warn_after",
        about: "say `waiting for lock on FILE…` after this long",
        default: "5s",
        kind: Type::Duration,
        env: true,
        set: |s, v| {
            s.lock.warn_after = parse_duration(&text("lock.warn_after", v)?)?;
            Ok(())
        },
        get: |s| duration_text(s.lock.warn_after),
    },
    Entry {
        key: "session.ttl",
        about: "sessions idle this long are collected",
        default: "7d",
        kind: Type::Duration,
        env: true,
        set: |s, v| {
            s.session_ttl = parse_duration(&text("session.ttl", v)?)?;
            Ok(())
        },
        get: |s| duration_text(s.session_ttl),
    },
    Entry {
        key: "dotenv.default",
        about: "load `.env` beside each directory file without listing it",
        default: "false",
        kind: Type::Bool,
        env: true,
        set: |s, v| {
            s.dotenv_default = boolean("dotenv.default", v)?;
            Ok(())
        },
        get: |s| s.dotenv_default.to_string(),
    },
    Entry {
        key: "hook.fast_path",
        about: "let the hook skip running strata when nothing can have changed",
        default: "true",
        kind: Type::Bool,
        env: true,
        set: |s, v| {
            s.fast_path = boolean("hook.fast_path", v)?;
            Ok(())
        },
        get: |s| s.fast_path.to_string(),
    },
    Entry {
        key: "limits.layer_file",
        about: "the largest directory file strata reads; a larger one is skipped",
        default: "1MiB",
        kind: Type::Size,
        env: true,
        set: |s, v| {
            s.layer_limit = parse_size(&size_text("limits.layer_file", v)?)?;
            Ok(())
        },
        get: |s| size_text_of(s.layer_limit),
    },
    Entry {
        key: "limits.dotenv_file",
        about: "the largest dotenv file strata reads",
        default: "8MiB",
        kind: Type::Size,
        env: true,
        set: |s, v| {
            s.dotenv_limit = parse_size(&size_text("limits.dotenv_file", v)?)?;
            Ok(())
        },
        get: |s| size_text_of(s.dotenv_limit),
    },
    Entry {
        key: "secrets.store",
        about: "the keyring strata set --secret uses; auto: the Secret Service if it answers, else the kernel keyring",
        default: "auto",
        kind: Type::Choice(STORE_WORDS),
        env: true,
        set: |s, v| {
            s.secrets_store =
                crate::secrets::Store::parse(choice("secrets.store", v, STORE_WORDS)?);
            Ok(())
        },
        get: |s| s.secrets_store.map_or("auto", |st| st.name()).into(),
    },
    Entry {
        key: "secrets.identities",
        about: "age identity files for .age dotenv files (empty: identities.txt in strata's config directory)",
        default: "",
        kind: Type::Paths,
        env: true,
        set: |s, v| {
            s.identities = paths("secrets.identities", v)?;
            Ok(())
        },
        get: |s| {
            s.identities
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(":")
        },
    },
];

/// Every key, in the order listings show them.
pub fn keys() -> impl Iterator<Item = &'static str> {
    SETTINGS.iter().map(|e| e.key)
}

/// The entry of `key`; an unknown key is an error with a suggestion.
pub fn entry(key: &str) -> Result<&'static Entry> {
    if let Some(e) = SETTINGS.iter().find(|e| e.key == key) {
        return Ok(e);
    }
    let all: Vec<&str> = keys().collect();
    let hint = did_you_mean(key, &all)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_else(|| format!(" (known: {})", all.join(", ")));
    bail!("unknown setting `{key}`{hint}")
}

fn text(key: &str, v: &Value) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{key} must be a string"))
}

fn size_text(key: &str, v: &Value) -> Result<String> {
    match v {
        Value::Integer(i) => Ok(i.value().to_string()),
        _ => text(key, v),
    }
}

/// One of `words` (`quiet, info or verbose`).
fn choice<'a>(key: &str, v: &Value, words: &[&'a str]) -> Result<&'a str> {
    let (last, rest) = words.split_last().expect("a choice has words");
    let list = format!("{} or {last}", rest.join(", "));
    let t = v.as_str().ok_or_else(|| anyhow!("{key} must be {list}"))?;
    words
        .iter()
        .find(|w| **w == t)
        .copied()
        .ok_or_else(|| anyhow!("{key} must be {list}, not {t:?}"))
}

fn boolean(key: &str, v: &Value) -> Result<bool> {
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

fn paths(key: &str, v: &Value) -> Result<Vec<PathBuf>> {
    let arr = v
        .as_array()
        .ok_or_else(|| anyhow!("{key} must be an array of paths"))?;
    let mut out = Vec::new();
    for item in arr {
        let s = item
            .as_str()
            .ok_or_else(|| anyhow!("{key} must contain only strings"))?;
        let p = expand_home(s);
        if !p.is_absolute() {
            bail!("{key} entries must be absolute (or start with ~/), not {s:?}");
        }
        out.push(std::fs::canonicalize(&p).unwrap_or(p));
    }
    Ok(out)
}

/// A duration in the largest unit that writes it exactly, as people write durations: 7d,
/// 30s, 250ms.
pub fn duration_text(d: Duration) -> String {
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
}

fn size_text_of(n: u64) -> String {
    crate::files::human_size(n).replace(' ', "")
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

impl Entry {
    /// `text` (an env var, a flag, `strata config set`) as the TOML value this setting takes.
    pub fn value_of(&self, text: &str) -> Result<Value> {
        Ok(match self.kind {
            Type::Paths => Value::Array(text.split(':').filter(|s| !s.is_empty()).collect()),
            Type::Bool => Value::from(text_bool(self.key, text)?),
            _ => Value::from(text),
        })
    }
}

impl Default for Settings {
    /// Every entry's default, read the way any other source is.
    fn default() -> Self {
        let mut s = Settings {
            log: Log::Info,
            hide_diff: false,
            trust_paths: Vec::new(),
            lock: LockPolicy::default(),
            dotenv_default: false,
            fast_path: true,
            context: None,
            session_ttl: Duration::ZERO,
            prompt_format: String::new(),
            color: ColorMode::Auto,
            use_scope: UseScope::Global,
            layer_limit: 0,
            dotenv_limit: 0,
            secrets_store: None,
            identities: Vec::new(),
            origins: Vec::new(),
        };
        for e in SETTINGS {
            let v = e.value_of(e.default).expect("every default is valid");
            (e.set)(&mut s, &v).expect("every default is valid");
        }
        s
    }
}

impl Settings {
    /// The value of `key` as text (lists colon-separated, durations like `30s`).
    pub fn get_text(&self, key: &str) -> Option<String> {
        let e = SETTINGS.iter().find(|e| e.key == key)?;
        Some((e.get)(self))
    }

    /// Where `key`'s value came from (`None`: the built-in default).
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        self.origins.iter().find(|(k, _)| *k == key).map(|(_, o)| o)
    }

    /// The TOML value to write for `key` = `text` in a file, checked like any other source.
    pub fn toml_value(key: &str, text: &str) -> Result<Value> {
        let e = entry(key)?;
        let v = e.value_of(text)?;
        (e.set)(&mut Settings::default(), &v).map_err(|err| anyhow!("{key}: {err}"))?;
        Ok(v)
    }

    /// Set `key` from text (an env var or `-c key=value`).
    pub fn set_text(&mut self, key: &str, text: &str, origin: Origin) -> Result<()> {
        let e = entry(key)?;
        let v = e.value_of(text)?;
        self.set_entry(e, &v, origin)
    }

    /// Set `key` from a TOML value.
    pub fn set(&mut self, key: &str, v: &Value, origin: Origin) -> Result<()> {
        self.set_entry(entry(key)?, v, origin)
    }

    fn set_entry(&mut self, e: &'static Entry, v: &Value, origin: Origin) -> Result<()> {
        (e.set)(self, v).map_err(|err| match err.to_string() {
            m if m.starts_with(e.key) => err,
            m => anyhow!("{}: {m}", e.key),
        })?;
        self.origins.retain(|(k, _)| *k != e.key);
        self.origins.push((e.key, origin));
        Ok(())
    }

    /// Apply a file's `[settings]`. `trust.paths` in a directory file or a context is ignored
    /// (a repository must not trust itself; trust must not change with the context); the
    /// returned warnings say so.
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
            if e.key == "trust.paths" && (kind.is_dir() || kind == Kind::Context) {
                let why = if kind.is_dir() {
                    "in a directory file (a repository must not trust itself)"
                } else {
                    "in a context (trust must not change with the context)"
                };
                warnings.push(format!(
                    "{}: trust.paths is ignored {why}; set it in the global config instead",
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
    pub fn apply_env(&mut self) -> Result<()> {
        for e in SETTINGS.iter().filter(|e| e.env) {
            let var = env_var(e.key);
            if let Some(v) = std::env::var_os(&var) {
                let v = v.to_string_lossy();
                if v.is_empty() {
                    continue;
                }
                self.set_text(e.key, &v, Origin::Env(var.clone()))
                    .map_err(|err| anyhow!("{var}: {err}"))?;
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

/// The variable that sets `key` (`STRATA_LOCK_TIMEOUT` for `lock.timeout`).
fn env_var(key: &str) -> String {
    format!("STRATA_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// Every variable a setting is read from.
pub fn env_vars() -> Vec<String> {
    SETTINGS
        .iter()
        .filter(|e| e.env)
        .map(|e| env_var(e.key))
        .collect()
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
