//! Named contexts on disk: `$XDG_CONFIG_HOME/strata/contexts/<name>.toml`, the global
//! selection in `$XDG_STATE_HOME/strata/current-context` and the one before it in
//! `previous-context` (for `strata context use -`).
//!
//! A selection is one line per [`Choice`], the one in force first:
//!
//! ```text
//! prod until 1764072000
//! dev
//! ```
//!
//! `strata use --ttl 30m prod` put `prod` in front of `dev` until that time (unix seconds);
//! from then on the first line that has not expired is in force, so every shell goes back to
//! `dev` at its next prompt without anyone rewriting the file. `-` is "no context". A plain
//! selection is the name alone on its line, as it always was.

use anyhow::{Result, bail};

use crate::names::validate_name;

use std::path::{Path, PathBuf};

use super::{Dirs, LockPolicy, ensure_private_dir, lock};
use crate::display::tilde;

impl Dirs {
    /// The directory of context files.
    pub fn contexts_dir(&self) -> PathBuf {
        self.config.join("contexts")
    }

    /// The file of context `name` (validate the name first).
    pub fn context_file(&self, name: &str) -> PathBuf {
        self.contexts_dir().join(format!("{name}.toml"))
    }

    /// The file naming the globally selected context.
    pub fn current_context_file(&self) -> PathBuf {
        self.state.join("current-context")
    }

    fn previous_context_file(&self) -> PathBuf {
        self.state.join("previous-context")
    }
}

/// One of strata's own small files, as text (`None` when missing, not private, or not text).
fn read_text(path: &Path) -> Option<String> {
    let bytes = crate::files::read_mine(path, crate::files::SMALL_CAP).ok()??;
    String::from_utf8(bytes).ok()
}

/// The first line of one of strata's own small files.
fn read_line(path: &Path) -> Option<String> {
    let text = read_text(path)?;
    Some(text.lines().next().unwrap_or("").trim().to_string())
}

/// The most choices a selection keeps: `--ttl` switches stack up, and each must end somewhere.
const MAX_CHOICES: usize = 8;

/// One choice of context: a name (`None`: no context) and, for `strata use --ttl`, when it
/// ends (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The context chosen.
    pub name: Option<String>,
    /// When the choice ends.
    pub until: Option<i64>,
}

impl Choice {
    /// A choice with no end.
    pub fn plain(name: Option<&str>) -> Choice {
        Choice {
            name: name.map(str::to_string),
            until: None,
        }
    }

    /// `NAME`, `NAME until UNIX`, `-` or `- until UNIX`; `None` for anything else (a name
    /// that is not valid among it).
    pub fn parse(line: &str) -> Option<Choice> {
        let mut words = line.split_ascii_whitespace();
        let name = match words.next()? {
            "-" => None,
            n => {
                validate_name("context", n).ok()?;
                Some(n.to_string())
            }
        };
        let until = match (words.next(), words.next(), words.next()) {
            (None, _, _) => None,
            (Some("until"), Some(t), None) => Some(t.parse().ok()?),
            _ => return None,
        };
        Some(Choice { name, until })
    }

    /// The line [`Choice::parse`] reads back.
    pub fn render(&self) -> String {
        let name = self.name.as_deref().unwrap_or("-");
        match self.until {
            Some(t) => format!("{name} until {t}"),
            None => name.to_string(),
        }
    }

    /// The choice is still in force at `now`.
    pub fn live(&self, now: i64) -> bool {
        self.until.is_none_or(|t| t > now)
    }
}

/// A selection: the choice in force and, behind it, the ones it goes back to when it
/// expires, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection(pub Vec<Choice>);

impl Selection {
    /// The choices of `lines` up to the first one that does not parse.
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Selection {
        Selection(
            lines
                .into_iter()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map_while(Choice::parse)
                .take(MAX_CHOICES)
                .collect(),
        )
    }

    /// One line per choice.
    pub fn lines(&self) -> Vec<String> {
        self.0.iter().map(Choice::render).collect()
    }

    /// The choice in force at `now`: the first that has not expired (`None`: none is left).
    pub fn at(&self, now: i64) -> Option<&Choice> {
        self.0.iter().find(|c| c.live(now))
    }

    /// The choice that expired most recently, when the one in force came back by expiry:
    /// what `strata use -` returns to then.
    pub fn expired_head(&self, now: i64) -> Option<&Choice> {
        self.0.first().filter(|c| !c.live(now))
    }

    /// Put `choice` in force at `now`. One with an end goes in front of the live choices,
    /// which come back when it ends; one without replaces them all.
    pub fn push(&mut self, choice: Choice, now: i64) {
        if choice.until.is_none() {
            self.0 = vec![choice];
            return;
        }
        let mut rest: Vec<Choice> = self.0.drain(..).filter(|c| c.live(now)).collect();
        // Nothing behind a choice without an end is ever reached.
        if let Some(end) = rest.iter().position(|c| c.until.is_none()) {
            rest.truncate(end + 1);
        }
        // Too deep: the oldest choices with an end go, the one they all fall back to stays.
        while rest.len() >= MAX_CHOICES {
            let at = rest.len().saturating_sub(2);
            rest.remove(at);
        }
        self.0 = std::iter::once(choice).chain(rest).collect();
    }

    /// Rename context `old` to `new` wherever it is chosen.
    pub fn rename(&mut self, old: &str, new: &str) {
        for c in &mut self.0 {
            if c.name.as_deref() == Some(old) {
                c.name = Some(new.to_string());
            }
        }
    }

    /// Context `name` is chosen somewhere in the selection.
    pub fn mentions(&self, name: &str) -> bool {
        self.0.iter().any(|c| c.name.as_deref() == Some(name))
    }
}

/// The global selection (an unreadable or invalid file counts as none).
pub fn selection(dirs: &Dirs) -> Selection {
    read_text(&dirs.current_context_file())
        .map(|t| Selection::parse(t.lines()))
        .unwrap_or_default()
}

/// The globally selected context in force now, if any.
pub fn current(dirs: &Dirs) -> Option<String> {
    current_choice(dirs).and_then(|c| c.name)
}

/// The global choice in force now, with when it ends.
pub fn current_choice(dirs: &Dirs) -> Option<Choice> {
    selection(dirs).at(crate::clock::now()).cloned()
}

/// The selection before the current one: `None` when there was no switch yet,
/// `Some(None)` when no context was selected before.
pub fn previous(dirs: &Dirs) -> Option<Option<String>> {
    // The choice in force came back because a `--ttl` one ended: that one is the previous.
    if let Some(ended) = selection(dirs).expired_head(crate::clock::now()) {
        return Some(ended.name.clone());
    }
    let name = read_line(&dirs.previous_context_file())?;
    if name.is_empty() {
        return Some(None);
    }
    validate_name("context", &name).ok().map(|()| Some(name))
}

/// Select `name` globally (None clears the selection), remembering the old one for `use -`.
pub fn set_current(dirs: &Dirs, name: Option<&str>, policy: LockPolicy) -> Result<()> {
    switch(dirs, Choice::plain(name), policy).map(|_| ())
}

/// Put `choice` in force globally ([`Selection::push`]), remembering the context in force
/// before for `use -` when it changes. Returns the context in force before.
pub fn switch(dirs: &Dirs, choice: Choice, policy: LockPolicy) -> Result<Option<String>> {
    edit_selection(dirs, policy, |sel, now| {
        sel.push(choice, now);
        Ok(())
    })
}

/// Change the global selection under its lock; returns the context in force before. When the
/// context in force changes, the old one is remembered for `use -`.
pub fn edit_selection(
    dirs: &Dirs,
    policy: LockPolicy,
    f: impl FnOnce(&mut Selection, i64) -> Result<()>,
) -> Result<Option<String>> {
    ensure_private_dir(&dirs.state)?;
    let target = dirs.current_context_file();
    let _guard = lock(&target, policy)?;
    let now = crate::clock::now();
    let mut sel = selection(dirs);
    let old = sel.at(now).and_then(|c| c.name.clone());
    f(&mut sel, now)?;
    let new = sel.at(now).and_then(|c| c.name.clone());
    // previous-context is written under this same lock, so its stale temps are ours to clear.
    super::remove_stale_temps(&dirs.state, "previous-context");
    if old != new {
        let text = old.as_ref().map(|o| format!("{o}\n")).unwrap_or_default();
        super::replace_locked(&dirs.previous_context_file(), text.as_bytes())?;
    }
    super::announce(dirs)?;
    if sel.0.is_empty() || sel.0 == [Choice::plain(None)] {
        match std::fs::remove_file(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("cannot remove {}: {e}", tilde(&target)),
        }
    } else {
        let mut text = sel.lines().join("\n");
        text.push('\n');
        super::replace_locked(&target, text.as_bytes())?;
    }
    super::announce(dirs)?;
    Ok(old)
}

/// Every context name, sorted.
pub fn list(dirs: &Dirs) -> Result<Vec<String>> {
    let files = super::named_toml_files(&dirs.contexts_dir(), "context")?;
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(name: &str, until: Option<i64>) -> Choice {
        Choice {
            name: (name != "-").then(|| name.to_string()),
            until,
        }
    }

    #[test]
    fn selections_round_trip_and_skip_what_expired() {
        let sel = Selection::parse("prod until 100\nstaging until 50\ndev\n".lines());
        assert_eq!(
            sel.0,
            [
                choice("prod", Some(100)),
                choice("staging", Some(50)),
                choice("dev", None)
            ]
        );
        assert_eq!(sel.lines(), ["prod until 100", "staging until 50", "dev"]);
        assert_eq!(sel.at(10).unwrap().name.as_deref(), Some("prod"));
        // staging ended before prod did: straight back to dev.
        assert_eq!(sel.at(100).unwrap().name.as_deref(), Some("dev"));
        assert_eq!(sel.expired_head(100).unwrap().name.as_deref(), Some("prod"));
        assert!(sel.expired_head(99).is_none());
        // "-" is no context; anything else that does not parse ends the selection.
        let sel = Selection::parse(["- until 5", "../etc until 9", "dev"]);
        assert_eq!(sel.0, [choice("-", Some(5))]);
        assert!(Selection::parse(["prod until soon"]).0.is_empty());
        assert!(Selection::parse(["prod until 5 extra"]).0.is_empty());
        assert!(Selection::parse(["a\u{1b}[2J"]).0.is_empty());
    }

    #[test]
    fn pushing_stacks_choices_with_an_end_and_bounds_the_stack() {
        let mut sel = Selection::default();
        sel.push(choice("dev", None), 0);
        sel.push(choice("prod", Some(100)), 0);
        sel.push(choice("staging", Some(10)), 0);
        assert_eq!(sel.lines(), ["staging until 10", "prod until 100", "dev"]);
        // What expired goes at the next push; a plain choice replaces everything.
        sel.push(choice("qa", Some(200)), 50);
        assert_eq!(sel.lines(), ["qa until 200", "prod until 100", "dev"]);
        sel.push(choice("dev", None), 60);
        assert_eq!(sel.lines(), ["dev"]);
        for i in 0..20 {
            sel.push(choice(&format!("c{i}"), Some(1000 + i)), 0);
        }
        assert_eq!(sel.0.len(), MAX_CHOICES);
        assert_eq!(sel.0[0].name.as_deref(), Some("c19"));
        assert_eq!(sel.0.last().unwrap().name.as_deref(), Some("dev"));
    }

    #[test]
    fn names_that_could_escape_are_refused() {
        for bad in [
            "",
            "../x",
            "a/b",
            "/etc/x",
            "-x",
            ".hidden",
            "..",
            &"x".repeat(65),
        ] {
            assert!(validate_name("context", bad).is_err(), "{bad:?}");
        }
        for good in ["prod", "eu-west-1", "a.b_c", "0"] {
            validate_name("context", good).unwrap();
        }
    }
}
