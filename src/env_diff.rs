//! The target environment versus the current one: what strata must set, unset and edit, and
//! what it set before (from the state) undone again.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::state::{Added, ListRecord, Removed, State, VarRecord, fnv1a};

/// A map that keeps insertion order (the order layers assigned things) with fast lookups.
pub type Ordered<V> = indexmap::IndexMap<String, V, rustc_hash::FxBuildHasher>;

/// The current environment, by name (hashed with FxHash: short keys, no untrusted input that
/// could aim at collisions beyond the user's own environment).
pub type Env = HashMap<OsString, OsString>;

fn split_list(value: &OsStr) -> Vec<OsString> {
    if value.is_empty() {
        return Vec::new();
    }
    value
        .as_bytes()
        .split(|&b| b == b':')
        .map(|e| OsString::from_vec(e.to_vec()))
        .collect()
}

fn join_list(entries: &[OsString]) -> OsString {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        out.extend_from_slice(e.as_bytes());
    }
    OsString::from_vec(out)
}

fn hash_of(v: Option<&OsString>) -> Option<u64> {
    v.map(|v| fnv1a(v.as_bytes()))
}

/// The environment as it would be without strata: `current` with strata's own changes undone.
/// A variable the user changed since strata set it keeps the user's value; entries the user
/// added to a list since stay in it.
pub fn base_env(current: &Env, state: Option<&State>) -> Env {
    let mut base = current.clone();
    let Some(state) = state else { return base };
    for v in &state.vars {
        let key = OsString::from(&v.name);
        if hash_of(current.get(&key)) != v.set_hash {
            continue; // the user changed it: their value wins
        }
        match &v.prev {
            Some(p) => base.insert(key, p.clone()),
            None => base.remove(&key),
        };
    }
    for l in &state.lists {
        let key = OsString::from(&l.name);
        let Some(cur) = current.get(&key) else {
            continue;
        };
        let mut entries = split_list(cur);
        for a in &l.added {
            if let Some(pos) = entries.iter().position(|e| *e == a.entry) {
                entries.remove(pos);
            }
        }
        // Moved entries go back where they were.
        let mut moved: Vec<&Added> = l.added.iter().filter(|a| a.old_index.is_some()).collect();
        moved.sort_by_key(|a| a.old_index);
        for a in moved {
            let at = a.old_index.unwrap_or(0).min(entries.len());
            entries.insert(at, a.entry.clone());
        }
        // Removed ones go back in front of the entry that followed them, wherever the user has
        // moved it since (last first, so that a run of removed entries keeps its order), unless
        // the user has put them back themselves.
        let mut missing: Vec<&Removed> = l
            .removed
            .iter()
            .filter(|r| !entries.contains(&r.entry))
            .collect();
        missing.sort_by_key(|r| std::cmp::Reverse(r.old_index));
        for r in missing {
            let at = match &r.next {
                None => entries.len(),
                Some(next) => match entries.iter().position(|e| e == next) {
                    Some(i) => i,
                    None => r.old_index.min(entries.len()),
                },
            };
            entries.insert(at, r.entry.clone());
        }
        if entries.is_empty() && l.was_unset {
            base.remove(&key);
        } else {
            base.insert(key, join_list(&entries));
        }
    }
    base
}

/// Entries to put at the front and back of one PATH-like list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListEdit {
    /// In final order: innermost file first.
    pub prepend: Vec<OsString>,
    /// In final order: outermost file first.
    pub append: Vec<OsString>,
    /// Entries to take out of the list (every occurrence).
    pub remove: Vec<OsString>,
}

/// What the layers ask for, relative to the base environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Plain variables: `Some` to set, `None` to unset.
    pub vars: Ordered<Option<OsString>>,
    /// Entry-wise list edits, for variables not also set outright in `vars`.
    pub lists: Ordered<ListEdit>,
}

/// The result of applying a target to a base environment.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Every variable strata manages now or managed before, with its new value.
    pub values: Ordered<Option<OsString>>,
    /// Restore records for the new state.
    pub vars: Vec<VarRecord>,
    /// List records for the new state.
    pub lists: Vec<ListRecord>,
}

/// Apply `target` to `base`. `previously` names the variables the old state managed, so those
/// no longer in the target get their base value back.
///
/// Re-applying what strata already applied is a no-op for each variable: when the old state
/// set a variable to the same value (or put the same entries in a list), the variable keeps
/// its value in `current`, so a change the user made since (a value, an entry added in front)
/// stands until the configuration itself changes.
pub fn apply(base: &Env, target: Target, previously: Option<&State>, current: &Env) -> Applied {
    let mut out = Applied::default();
    let n = target.vars.len() + target.lists.len();
    out.values.reserve(n);
    out.vars.reserve(target.vars.len());
    let old_vars: HashMap<&str, &VarRecord> = previously
        .map(|s| s.vars.iter().map(|v| (v.name.as_str(), v)).collect())
        .unwrap_or_default();
    for (name, val) in target.vars {
        if let Some(old) = old_vars.get(name.as_str())
            && old.set_hash == hash_of(val.as_ref())
        {
            out.vars.push((*old).clone());
            let cur = current.get(OsStr::new(&name)).cloned();
            out.values.insert(name, cur);
            continue;
        }
        let prev = base.get(OsStr::new(&name)).cloned();
        out.vars.push(VarRecord {
            name: name.clone(),
            set_hash: hash_of(val.as_ref()),
            prev,
        });
        out.values.insert(name, val);
    }
    for (name, edit) in &target.lists {
        if out.values.contains_key(name) {
            continue;
        }
        let before = base.get(OsStr::new(name));
        let mut rest = before.map(|v| split_list(v)).unwrap_or_default();
        let mut added = Vec::new();
        let mut seen = HashSet::default();
        let mut take = |entry: &OsString, rest: &mut Vec<OsString>, original: &[OsString]| {
            if !seen.insert(entry.clone()) {
                return false;
            }
            let old_index = original.iter().position(|e| e == entry);
            if let Some(pos) = rest.iter().position(|e| e == entry) {
                rest.remove(pos);
            }
            added.push(Added {
                entry: entry.clone(),
                old_index,
            });
            true
        };
        let original = rest.clone();
        // Removed first, as a user's list has them; one added by a layer stays.
        let mut removed = Vec::new();
        for r in &edit.remove {
            if edit.prepend.contains(r) || edit.append.contains(r) {
                continue; // a layer puts it back: it is moved, not removed
            }
            // Every occurrence, each with where it was, so that all of them come back.
            for (i, e) in original.iter().enumerate() {
                if e == r && !removed.iter().any(|m: &Removed| m.old_index == i) {
                    removed.push(Removed {
                        entry: r.clone(),
                        old_index: i,
                        next: original.get(i + 1).cloned(),
                    });
                }
            }
            rest.retain(|e| e != r);
        }
        let front: Vec<OsString> = edit
            .prepend
            .iter()
            .filter(|e| take(e, &mut rest, &original))
            .cloned()
            .collect();
        let back: Vec<OsString> = edit
            .append
            .iter()
            .filter(|e| take(e, &mut rest, &original))
            .cloned()
            .collect();
        let mut all = front;
        all.extend(rest);
        all.extend(back);
        let cur = current.get(OsStr::new(name));
        if let Some(old) = previously.and_then(|s| s.lists.iter().find(|l| l.name == *name))
            && let Some(cur) = cur
            && old
                .added
                .iter()
                .map(|a| &a.entry)
                .eq(added.iter().map(|a| &a.entry))
            && old
                .removed
                .iter()
                .map(|a| &a.entry)
                .eq(removed.iter().map(|a| &a.entry))
            && old.added.iter().all(|a| split_list(cur).contains(&a.entry))
            && !old
                .removed
                .iter()
                .any(|a| split_list(cur).contains(&a.entry))
        {
            out.values.insert(name.clone(), Some(cur.clone()));
            out.lists.push(old.clone());
            continue;
        }
        out.values.insert(name.clone(), Some(join_list(&all)));
        out.lists.push(ListRecord {
            name: name.clone(),
            was_unset: before.is_none(),
            added,
            removed,
        });
    }
    if let Some(old) = previously {
        let names = old
            .vars
            .iter()
            .map(|v| &v.name)
            .chain(old.lists.iter().map(|l| &l.name));
        for name in names {
            if !out.values.contains_key(name) {
                out.values
                    .insert(name.clone(), base.get(OsStr::new(name)).cloned());
            }
        }
    }
    out
}

/// One variable's change from the current environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<'a> {
    /// Newly set.
    Added(&'a str, &'a OsStr),
    /// Set to a different value.
    Changed(&'a str, &'a OsStr),
    /// Removed.
    Removed(&'a str),
}

/// The changes that move `current` to `values` (borrowed from `values`).
pub fn changes<'a>(current: &Env, values: &'a Ordered<Option<OsString>>) -> Vec<Change<'a>> {
    let mut out = Vec::with_capacity(values.len());
    for (name, new) in values {
        let cur = current.get(OsStr::new(name));
        match (cur, new) {
            (None, Some(v)) => out.push(Change::Added(name, v)),
            (Some(c), Some(v)) if c != v => out.push(Change::Changed(name, v)),
            (Some(_), None) => out.push(Change::Removed(name)),
            _ => {}
        }
    }
    out
}

/// The most one environment string (`NAME=value`) may hold: Linux's `MAX_ARG_STRLEN`.
pub const MAX_ENTRY: usize = 128 * 1024;

/// The most the whole environment strata leaves may take: half of the usual 2 MiB that
/// `execve` allows for arguments and environment together, so that commands keep room for their
/// arguments.
pub const MAX_ENV: usize = 1024 * 1024;

/// Refuse a result that would leave the shell unable to start any command: one variable over
/// [`MAX_ENTRY`], or an environment over [`MAX_ENV`] (as `execve` counts it: every
/// `NAME=value` string with its NUL, and a pointer to it).
pub fn check_size(current: &Env, values: &Ordered<Option<OsString>>) -> Result<(), String> {
    let entry = |name: &[u8], value: &[u8]| name.len() + value.len() + 2;
    let mut total: usize = 0;
    for (name, value) in current {
        if !values.contains_key(&*name.to_string_lossy()) {
            total += entry(name.as_bytes(), value.as_bytes()) + 8;
        }
    }
    for (name, value) in values {
        let Some(value) = value else { continue };
        let size = entry(name.as_bytes(), value.as_bytes());
        if size > MAX_ENTRY {
            return Err(format!(
                "{name} would be {} long, more than the {} one environment variable can hold (Linux refuses to start any command then); nothing was changed",
                crate::files::human_size(size as u64),
                crate::files::human_size(MAX_ENTRY as u64)
            ));
        }
        total += size + 8;
    }
    if total > MAX_ENV {
        return Err(format!(
            "the environment would grow to {}, more than strata lets it take ({}: beyond about 2 MiB no command can start); nothing was changed — look for a huge dotenv file",
            crate::files::human_size(total as u64),
            crate::files::human_size(MAX_ENV as u64)
        ));
    }
    Ok(())
}

/// Names listed in the change line before the rest are counted.
const SUMMARY_NAMES: usize = 40;

/// The `+FOO ~PATH -OLD` summary of a set of changes; past [`SUMMARY_NAMES`] names (or 1 KiB)
/// the rest are counted, not listed.
pub fn summary(changes: &[Change]) -> String {
    let mut names: Vec<(u8, &str)> = changes
        .iter()
        .map(|c| match c {
            Change::Added(n, _) => (0, *n),
            Change::Changed(n, _) => (1, *n),
            Change::Removed(n) => (2, *n),
        })
        .collect();
    names.sort_unstable();
    let mut out = String::new();
    let total = names.len();
    for (i, (kind, name)) in names.into_iter().enumerate() {
        if i == SUMMARY_NAMES || out.len() + name.len() > 1024 {
            out.push_str(&format!(" … and {} more", total - i));
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push(['+', '~', '-'][usize::from(kind)]);
        out.push_str(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &[u8])]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from_vec(v.to_vec())))
            .collect()
    }

    fn os(b: &[u8]) -> OsString {
        OsString::from_vec(b.to_vec())
    }

    #[test]
    fn apply_then_restore_is_identity() {
        let base = env(&[
            ("PATH", b"/usr/bin:/bin:/opt/x"),
            ("KEEP", b"k"),
            ("OLD", b"o"),
        ]);
        let mut target = Target::default();
        target.vars.insert("FOO".into(), Some(os(b"foo")));
        target.vars.insert("OLD".into(), None);
        target.lists.insert(
            "PATH".into(),
            ListEdit {
                prepend: vec![os(b"/p/bin"), os(b"/opt/x")],
                append: vec![os(b"/z")],
                remove: vec![],
            },
        );
        let applied = apply(&base, target.clone(), None, &base);
        assert_eq!(
            applied.values["PATH"],
            Some(os(b"/p/bin:/opt/x:/usr/bin:/bin:/z")),
            "an existing entry is moved, not duplicated"
        );
        let mut current = base.clone();
        for (k, v) in &applied.values {
            match v {
                Some(v) => current.insert(k.into(), v.clone()),
                None => current.remove(OsStr::new(k)),
            };
        }
        let st = State {
            vars: applied.vars,
            lists: applied.lists,
            ..State::default()
        };
        assert_eq!(base_env(&current, Some(&st)), base);
    }

    #[test]
    fn user_changes_survive_restore() {
        let base = env(&[("PATH", b"/usr/bin")]);
        let mut target = Target::default();
        target.vars.insert("FOO".into(), Some(os(b"strata")));
        target.lists.insert(
            "PATH".into(),
            ListEdit {
                prepend: vec![os(b"/p")],
                append: vec![],
                remove: vec![],
            },
        );
        let applied = apply(&base, target.clone(), None, &base);
        let st = State {
            vars: applied.vars,
            lists: applied.lists,
            ..State::default()
        };
        let current = env(&[("PATH", b"/mine:/p:/usr/bin"), ("FOO", b"user")]);
        let restored = base_env(&current, Some(&st));
        assert_eq!(restored[OsStr::new("FOO")], os(b"user"));
        assert_eq!(restored[OsStr::new("PATH")], os(b"/mine:/usr/bin"));
    }

    #[test]
    fn list_created_by_strata_is_unset_again() {
        let base = env(&[]);
        let mut target = Target::default();
        target.lists.insert(
            "PYTHONPATH".into(),
            ListEdit {
                prepend: vec![os(b"/a")],
                append: vec![],
                remove: vec![],
            },
        );
        let applied = apply(&base, target.clone(), None, &base);
        assert_eq!(applied.values["PYTHONPATH"], Some(os(b"/a")));
        let st = State {
            lists: applied.lists,
            ..State::default()
        };
        let current = env(&[("PYTHONPATH", b"/a")]);
        assert!(base_env(&current, Some(&st)).is_empty());
    }

    #[test]
    fn removed_entries_come_back_where_they_were() {
        let base = env(&[("PATH", b"/a:/old:/b:/old")]);
        let mut target = Target::default();
        target.lists.insert(
            "PATH".into(),
            ListEdit {
                prepend: vec![os(b"/p")],
                append: vec![],
                remove: vec![os(b"/old"), os(b"/never-there")],
            },
        );
        let applied = apply(&base, target, None, &base);
        assert_eq!(applied.values["PATH"], Some(os(b"/p:/a:/b")));
        let st = State {
            lists: applied.lists,
            ..State::default()
        };
        // The user added entries since; they stay, and each /old comes back in front of the
        // entry that followed it (the last one last).
        let current = env(&[("PATH", b"/mine:/p:/a:/b:/mine2")]);
        assert_eq!(
            base_env(&current, Some(&st))[OsStr::new("PATH")],
            os(b"/mine:/a:/old:/b:/mine2:/old")
        );
        // An entry the user put back themselves is not added twice.
        let current = env(&[("PATH", b"/p:/old:/a:/b")]);
        assert_eq!(
            base_env(&current, Some(&st))[OsStr::new("PATH")],
            os(b"/old:/a:/b")
        );
    }

    #[test]
    fn summary_orders_added_changed_removed() {
        let ch = vec![
            Change::Removed("OLD"),
            Change::Changed("PATH", OsStr::new("")),
            Change::Added("FOO", OsStr::new("")),
        ];
        assert_eq!(summary(&ch), "+FOO ~PATH -OLD");
    }
}
