//! Editing `[env]` of a TOML layer file in place with `toml_edit`, keeping every comment and
//! the layout of everything it does not touch.

use anyhow::{Result, anyhow};
use toml_edit::{DocumentMut, Item, Table, value};

use crate::display::tilde;

/// Set `sets` and remove `unsets` in the `[env]` table of `text`; returns the new text and the
/// names that were removed.
pub fn edit_env(
    path: &std::path::Path,
    text: &str,
    sets: &[(String, String)],
    unsets: &[String],
) -> Result<(String, Vec<String>)> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("{}: cannot edit, it is not valid TOML: {e}", tilde(path)))?;
    if !sets.is_empty() && !doc.contains_key("env") {
        // Comments after the last item belong to the document's trailing text; keep them
        // above the new table rather than letting the table jump ahead of them.
        let trailing = doc.trailing().as_str().unwrap_or_default().to_string();
        let mut table = Table::new();
        if !trailing.trim().is_empty() {
            table
                .decor_mut()
                .set_prefix(format!("{}\n", trailing.trim_end()) + "\n");
            doc.set_trailing("");
        }
        doc.insert("env", Item::Table(table));
    }
    let mut removed = Vec::new();
    if let Some(env) = doc.get_mut("env") {
        let env = env
            .as_table_like_mut()
            .ok_or_else(|| anyhow!("{}: `env` is not a table", tilde(path)))?;
        for (k, v) in sets {
            match env.get_mut(k) {
                Some(item) if item.is_value() => {
                    // Keep the key's decoration (comments around it) and replace the value.
                    let decor = item.as_value().map(|v| v.decor().clone());
                    *item = value(v.as_str());
                    if let (Some(decor), Some(new)) = (decor, item.as_value_mut()) {
                        *new.decor_mut() = decor;
                    }
                }
                _ => {
                    env.insert(k, value(v.as_str()));
                }
            }
        }
        for k in unsets {
            if env.remove(k).is_some() {
                removed.push(k.clone());
            }
        }
    }
    Ok((doc.to_string(), removed))
}

/// Add `entries` to the front (`prepend`) or back (`append`) list of the variable `var` in
/// `text`: `[path]` for `PATH`, `[paths.VAR]` otherwise. An entry already there is not added
/// twice.
pub fn edit_list(
    path: &std::path::Path,
    text: &str,
    var: &str,
    entries: &[String],
    front: bool,
) -> Result<String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("{}: cannot edit, it is not valid TOML: {e}", tilde(path)))?;
    let table = if var == "PATH" {
        doc.entry("path")
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_like_mut()
    } else {
        let paths = doc
            .entry("paths")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            })
            .as_table_like_mut()
            .ok_or_else(|| anyhow!("{}: `paths` is not a table", tilde(path)))?;
        paths
            .entry(var)
            .or_insert(Item::Table(Table::new()))
            .as_table_like_mut()
    }
    .ok_or_else(|| anyhow!("{}: the table for {var} is not a table", tilde(path)))?;
    let key = if front { "prepend" } else { "append" };
    let list = table
        .entry(key)
        .or_insert(value(toml_edit::Array::new()))
        .as_array_mut()
        .ok_or_else(|| anyhow!("{}: `{key}` for {var} is not an array", tilde(path)))?;
    for e in entries {
        if !list.iter().any(|v| v.as_str() == Some(e)) {
            list.push(e.as_str());
        }
    }
    Ok(doc.to_string())
}

/// Set (`Some`) or remove (`None`) the top-level string `key` of `text` (a context's `color` or
/// `description`), in place; returns the new text and whether anything changed. A new key goes
/// before the first table, where TOML requires it.
pub fn edit_top(
    path: &std::path::Path,
    text: &str,
    key: &str,
    new: Option<&str>,
) -> Result<(String, bool)> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("{}: cannot edit, it is not valid TOML: {e}", tilde(path)))?;
    let changed = match new {
        Some(v) => {
            match doc.get_mut(key) {
                Some(Item::Value(old)) => {
                    let decor = old.decor().clone();
                    *old = v.into();
                    *old.decor_mut() = decor;
                }
                _ => {
                    // The comments at the top of the file (a header, usually) stay on top: they
                    // are the decoration of the first table, which the new key goes above.
                    let header = doc
                        .iter_mut()
                        .find_map(|(_, item)| item.as_table_mut())
                        .and_then(|t| {
                            let prefix = t.decor().prefix()?.as_str()?.to_string();
                            prefix.trim_start().starts_with('#').then(|| {
                                t.decor_mut().set_prefix("\n");
                                prefix
                            })
                        });
                    if let Some(h) = header {
                        doc.decor_mut().set_prefix(h);
                    }
                    doc.insert(key, value(v));
                }
            }
            true
        }
        None => doc.remove(key).is_some(),
    };
    Ok((doc.to_string(), changed))
}

/// Set (`Some`) or remove (`None`) the dotted `key` under `[settings]` of `text`, in place.
/// Returns the new text and whether anything changed.
pub fn edit_setting(
    path: &std::path::Path,
    text: &str,
    key: &str,
    new: Option<toml_edit::Value>,
) -> Result<(String, bool)> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("{}: cannot edit, it is not valid TOML: {e}", tilde(path)))?;
    let parts: Vec<&str> = key.split('.').collect();
    let (last, parents) = parts.split_last().expect("a key has at least one part");
    if new.is_some() && !doc.contains_key("settings") {
        doc.insert("settings", Item::Table(Table::new()));
    }
    let Some(mut table) = doc.get_mut("settings").and_then(|i| i.as_table_like_mut()) else {
        return Ok((doc.to_string(), false));
    };
    for part in parents {
        if table.get(part).is_none() {
            if new.is_none() {
                return Ok((doc.to_string(), false));
            }
            let mut t = Table::new();
            t.set_implicit(true);
            t.set_dotted(true);
            table.insert(part, Item::Table(t));
        }
        table = table
            .get_mut(part)
            .and_then(|i| i.as_table_like_mut())
            .ok_or_else(|| anyhow!("{}: settings.{part} is not a table", tilde(path)))?;
    }
    let changed = match new {
        Some(mut v) => {
            match table.get_mut(last) {
                // Keep the key (and the comments around it); replace only the value.
                Some(Item::Value(old)) => {
                    *v.decor_mut() = old.decor().clone();
                    *old = v;
                }
                _ => {
                    table.insert(last, Item::Value(v));
                }
            }
            true
        }
        None => table.remove(last).is_some(),
    };
    Ok((doc.to_string(), changed))
}

/// Make `name` a secret kept in `store` in `text` (`[secrets.keyring] NAME = "store"`, and in
/// `[secrets] exec_only` when `exec_only`), and drop it from `[env]`: its value is not in the
/// file.
pub fn edit_secret(
    path: &std::path::Path,
    text: &str,
    name: &str,
    store: crate::secrets::Store,
    exec_only: bool,
) -> Result<String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("{}: cannot edit, it is not valid TOML: {e}", tilde(path)))?;
    if let Some(env) = doc.get_mut("env").and_then(Item::as_table_like_mut) {
        env.remove(name);
    }
    let secrets = doc
        .entry("secrets")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| anyhow!("{}: `secrets` is not a table", tilde(path)))?;
    let listed = |secrets: &mut dyn toml_edit::TableLike, key: &str, add: bool| -> Result<()> {
        let entry = secrets.entry(key);
        let item = entry.or_insert(value(toml_edit::Array::new()));
        let arr = item
            .as_array_mut()
            .ok_or_else(|| anyhow!("{}: `secrets.{key}` is not an array", tilde(path)))?;
        arr.retain(|v| v.as_str() != Some(name));
        if add {
            arr.push(name);
        }
        Ok(())
    };
    if exec_only || secrets.contains_key("exec_only") {
        listed(secrets, "exec_only", exec_only)?;
    }
    let keyring = secrets
        .entry("keyring")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(false);
            Item::Table(t)
        })
        .as_table_like_mut()
        .ok_or_else(|| anyhow!("{}: `secrets.keyring` is not a table", tilde(path)))?;
    keyring.insert(name, value(store.name()));
    Ok(doc.to_string())
}

/// Remove `names` from `[secrets]` (keyring, exec_only, mask) of `text`; returns the new text
/// and the keyring entries removed, with their keyring.
pub fn remove_secrets(
    path: &std::path::Path,
    text: &str,
    names: &[String],
) -> Result<(String, Vec<(String, crate::secrets::Store)>)> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("{}: cannot edit, it is not valid TOML: {e}", tilde(path)))?;
    let mut removed = Vec::new();
    if let Some(secrets) = doc.get_mut("secrets").and_then(Item::as_table_like_mut) {
        for key in ["exec_only", "mask"] {
            if let Some(arr) = secrets.get_mut(key).and_then(Item::as_array_mut) {
                arr.retain(|v| !v.as_str().is_some_and(|s| names.iter().any(|n| n == s)));
            }
        }
        if let Some(keyring) = secrets.get_mut("keyring").and_then(Item::as_table_like_mut) {
            for n in names {
                if let Some(item) = keyring.remove(n)
                    && let Some(store) = item.as_str().and_then(crate::secrets::Store::parse)
                {
                    removed.push((n.clone(), store));
                }
            }
        }
    }
    Ok((doc.to_string(), removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_layout_survive() {
        let text = "# project settings\nroot = true\n\n[env]\n# the greeting\nA = \"1\" # inline\nB = \"2\"\n\n[path]\nprepend = [\"bin\"] # keep\n";
        let (out, removed) = edit_env(
            std::path::Path::new("/x"),
            text,
            &[("A".into(), "one".into()), ("C".into(), "3".into())],
            &["B".into(), "NOPE".into()],
        )
        .unwrap();
        assert_eq!(removed, ["B"]);
        assert_eq!(
            out,
            "# project settings\nroot = true\n\n[env]\n# the greeting\nA = \"one\" # inline\nC = \"3\"\n\n[path]\nprepend = [\"bin\"] # keep\n"
        );
    }

    #[test]
    fn settings_are_written_as_dotted_keys() {
        let p = std::path::Path::new("/x");
        let (out, _) = edit_setting(
            p,
            "# mine\n[env]\nA = \"1\"\n",
            "lock.timeout",
            Some("5s".into()),
        )
        .unwrap();
        assert_eq!(
            out,
            "# mine\n[env]\nA = \"1\"\n\n[settings]\nlock.timeout = \"5s\"\n"
        );
        let (out, changed) = edit_setting(p, &out, "lock.timeout", None).unwrap();
        assert!(changed);
        assert!(!out.contains("timeout"), "{out}");
        let (_, changed) =
            edit_setting(p, "[settings]\nlog = \"quiet\"\n", "lock.timeout", None).unwrap();
        assert!(!changed);
    }

    #[test]
    fn list_entries_are_added_once() {
        let p = std::path::Path::new("/x");
        let out = edit_list(p, "[env]\nA = \"1\"\n", "PATH", &["/opt/bin".into()], true).unwrap();
        assert_eq!(
            out,
            "[env]\nA = \"1\"\n\n[path]\nprepend = [\"/opt/bin\"]\n"
        );
        let out = edit_list(p, &out, "PATH", &["/opt/bin".into(), "/b".into()], true).unwrap();
        assert!(out.contains("prepend = [\"/opt/bin\", \"/b\"]"), "{out}");
        let out = edit_list(p, "", "MANPATH", &["/m".into()], false).unwrap();
        assert_eq!(out, "[paths.MANPATH]\nappend = [\"/m\"]\n");
    }

    #[test]
    fn env_table_is_created() {
        let (out, _) = edit_env(
            std::path::Path::new("/x"),
            "# hi\n",
            &[("A".into(), "a b".into())],
            &[],
        )
        .unwrap();
        assert_eq!(out, "# hi\n\n[env]\nA = \"a b\"\n");
    }
}
