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
