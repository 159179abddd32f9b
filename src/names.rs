//! What a name may be: variable names, the ones strata reserves or refuses from unreviewed
//! files, context and session names, and the "did you mean" suggestion for a mistyped key.
//! A leaf: every module that reads or prints names asks here.

use anyhow::{Result, bail};

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Variables a layer may not set: the shell owns them, or strata does.
const RESERVED: &[&str] = &[
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
    "STRATA_STATE",
    "STRATA_SESSION",
    "BASHOPTS",
    "SHELLOPTS",
    "EUID",
    "UID",
    "PPID",
];

/// Variables strata finds its own config, state and trust store through: a layer that moved
/// them would point later evaluations at files it wrote itself (a config that trusts `/`).
const LOCATES_STRATA: &[&str] = &["HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"];

/// Whether a layer (or `strata set`) may set `name`; the error says why not.
pub fn check_settable(name: &str) -> Result<(), String> {
    if !valid_name(name) {
        return Err(format!(
            "invalid variable name {:?}: names are letters, digits and _, not starting with a digit",
            crate::display::escape(name)
        ));
    }
    if RESERVED.contains(&name) || name.starts_with("STRATA_") || name.starts_with("__strata") {
        return Err(format!(
            "{name} is managed by the shell or by strata and cannot be set here"
        ));
    }
    if LOCATES_STRATA.contains(&name) {
        return Err(format!(
            "{name} cannot be set by strata: strata finds its own config and trust store through it, so a layer must not move it"
        ));
    }
    Ok(())
}

/// Whether `name` makes a shell or the dynamic loader run code when set: the command search
/// path, prompt and start-up hooks, exported functions, preloaded libraries. A dotenv file is
/// not covered by the content hash `strata allow` records, so these are never taken from one;
/// a reviewed `[env]` or `[path]` may set them.
pub fn runs_code(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "PATH",
        "PROMPT_COMMAND",
        "PS0",
        "PS1",
        "PS2",
        "PS3",
        "PS4",
        "PROMPT",
        "PROMPT2",
        "PROMPT3",
        "PROMPT4",
        "RPROMPT",
        "RPROMPT2",
        "RPS1",
        "RPS2",
        "BASH_ENV",
        "ENV",
        "ZDOTDIR",
        "fish_function_path",
        "fish_complete_path",
        "fish_user_paths",
    ];
    const PREFIXES: &[&str] = &["BASH_FUNC_", "LD_", "DYLD_"];
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether `name` holds a colon-separated list that replacing outright would empty of every
/// entry (`PATH`, `MANPATH`, `PYTHONPATH`…).
pub fn is_list(name: &str) -> bool {
    name.ends_with("PATH")
}

/// An environment value cannot hold a NUL byte (the C environment ends a string there).
pub fn check_value(value: &[u8]) -> Result<(), String> {
    if value.contains(&0) {
        return Err(
            "a value cannot contain a NUL byte (\\u0000): the environment ends a string there"
                .into(),
        );
    }
    Ok(())
}

/// Check a context or session name: 1–64 characters of letters, digits, `.`, `_`, `-`, not
/// starting with `-` or `.`, so it is always one plain file name (no `/`, no `..`).
pub fn validate_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.starts_with(['-', '.']);
    if !ok {
        bail!(
            "invalid {what} name {name:?}: use 1-64 letters, digits, '.', '_' or '-', not starting with '-' or '.'"
        );
    }
    Ok(())
}

/// Closest of `candidates` to `word`, when close enough to suggest.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb))
                    .min(row[j] + 1)
                    .min(row[j + 1] + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
