//! Small helpers for what strata shows people: paths with `~` for the home directory.

use std::path::Path;

/// `path` for a message, with the home directory written as `~`.
pub fn tilde(path: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty() && h != "/")
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return if rest.as_os_str().is_empty() {
            "~".to_string()
        } else {
            format!("~/{}", rest.display())
        };
    }
    path.display().to_string()
}

/// The SGR parameters for a colour name (`red`, `bright-blue`, …) or a 256-colour index.
pub fn ansi_color(name: &str) -> Option<String> {
    const BASE: [&str; 8] = [
        "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
    ];
    let lower = name.trim().to_ascii_lowercase();
    if let Ok(n) = lower.parse::<u8>() {
        return Some(format!("38;5;{n}"));
    }
    let (bright, base) = match lower
        .strip_prefix("bright-")
        .or_else(|| lower.strip_prefix("bright_"))
    {
        Some(rest) => (true, rest),
        None => (false, lower.as_str()),
    };
    let i = BASE.iter().position(|c| *c == base)?;
    Some(format!("{}", if bright { 90 + i } else { 30 + i }))
}
