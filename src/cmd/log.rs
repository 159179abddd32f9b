//! `strata log`: the history of state changes ([`crate::store::history`]), and the one place
//! commands add to it ([`record`]).

use anyhow::Result;
use std::io::Write;

use super::{Ctx, Run};
use crate::cli::LogArgs;
use crate::store::history::{self, Entry, Kind};

/// Add an entry of `kind` in `scope` to the history, with this invocation's session and
/// terminal; `fill` sets the rest. The change it records is made already, so a history that
/// cannot be written is a warning, not a failure.
pub fn record(ctx: &Ctx, kind: Kind, scope: &str, fill: impl FnOnce(&mut Entry)) {
    let mut entry = Entry::new(kind, scope);
    entry.session = ctx.session.clone();
    entry.tty = terminal();
    fill(&mut entry);
    let policy = ctx.base_settings().map(|s| s.lock).unwrap_or_default();
    if let Err(e) = history::record(&ctx.dirs, &entry, policy) {
        crate::say!("could not add to the history: {e}");
    }
}

/// The terminal of standard input or standard error, if either is one.
fn terminal() -> Option<String> {
    use std::os::fd::AsFd;
    rustix::termios::ttyname(std::io::stdin().as_fd(), Vec::new())
        .or_else(|_| rustix::termios::ttyname(std::io::stderr().as_fd(), Vec::new()))
        .ok()
        .map(|name| name.to_string_lossy().into_owned())
}

impl Run for LogArgs {
    /// Print the history, oldest first, filtered.
    fn run(&self, ctx: &Ctx) -> Result<()> {
        let since = match &self.since {
            Some(d) => {
                Some(crate::clock::now() - crate::settings::parse_duration(d)?.as_secs() as i64)
            }
            None => None,
        };
        let mut shown: Vec<Entry> = history::entries(&ctx.dirs)
            .into_iter()
            .filter(|e| self.kind.is_empty() || self.kind.contains(&e.kind))
            .filter(|e| since.is_none_or(|t| e.time >= t))
            .collect();
        if let Some(n) = self.limit {
            let skip = shown.len().saturating_sub(n);
            shown.drain(..skip);
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&shown)?);
            return Ok(());
        }
        if shown.is_empty() {
            crate::say!("no changes recorded (yet)");
        }
        let mut out = std::io::stdout().lock();
        for e in &shown {
            writeln!(out, "{}", crate::display::escape(&line(e)))?;
        }
        Ok(())
    }
}

/// An entry as one human line: `2026-12-01 23:10:05Z  context  global  dev -> prod  (session s1, /dev/pts/3)`.
fn line(e: &Entry) -> String {
    let what = match e.kind {
        Kind::Context => {
            let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "(none)".into());
            let mut s = format!("{} -> {}", name(&e.from), name(&e.to));
            if let Some(t) = e.until {
                s.push_str(&format!(" until {}", utc(t)));
            }
            s
        }
        _ => e.names.join(" "),
    };
    let mut by: Vec<String> = Vec::new();
    if let Some(s) = &e.session {
        by.push(format!("session {s}"));
    }
    if let Some(t) = &e.tty {
        by.push(t.clone());
    }
    let by = if by.is_empty() {
        String::new()
    } else {
        format!("  ({})", by.join(", "))
    };
    let what = if what.is_empty() {
        String::new()
    } else {
        format!("  {what}")
    };
    format!(
        "{}  {:<11}  {}{what}{by}",
        utc(e.time),
        e.kind.name(),
        e.scope
    )
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SSZ` (UTC: strata reads no time zone database).
pub fn utc(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        assert_eq!(utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(utc(1_764_630_245), "2025-12-01 23:04:05Z");
    }
}
