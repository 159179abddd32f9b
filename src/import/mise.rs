//! `strata import mise`: the `[env]` of a `mise.toml` as a `.strata.toml`.
//!
//! | `mise.toml` | `.strata.toml` |
//! |---|---|
//! | `NAME = "value"`, `NAME = 1`, `NAME = true` | `[env] NAME = "…"` (a literal `$` as `$$`) |
//! | `NAME = false` | `NAME = false` (unset) |
//! | `NAME = { value = "…", redact = true }` | `[env]` and `[secrets] mask` |
//! | `_.path = "bin"`, `_.path = ["bin", "{{config_root}}/tools"]` | `[path] prepend` (`{{config_root}}` → `${STRATA_DIR}`) |
//! | `_.file = ".env"`, `_.file = [".env", { path = ".env.local" }]` | `[dotenv] files` |
//!
//! Anything else — other tera templates (`{{env.HOME}}`, `{{exec(…)}}`), `_.source` (runs a
//! script), `_.python.venv`, JSON/YAML env files, `required`, `tools`, `tasks` — is listed with
//! its line and the reason; nothing is dropped silently.

use toml_edit::{Array, DocumentMut, Item, Table, Value};

use super::Translation;

/// The pieces of the translation, before rendering.
#[derive(Default)]
struct Out {
    env: Vec<(String, Option<String>)>,
    mask: Vec<String>,
    path: Vec<String>,
    files: Vec<String>,
    untranslated: Vec<(usize, String, String)>,
    notes: Vec<String>,
}

/// Translate the text of a `mise.toml`. Never fails on what it cannot translate: that is
/// listed; a file that is not TOML is an error.
pub fn from_mise(text: &str) -> Result<Translation, String> {
    let doc = toml_edit::Document::parse(text)
        .map_err(|e| format!("not valid TOML: {}", e.message().trim()))?;
    let line_of = |span: Option<std::ops::Range<usize>>| {
        span.map_or(0, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        })
    };
    let source_line = |line: usize| -> String {
        text.lines()
            .nth(line.saturating_sub(1))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let mut out = Out::default();
    for (key, item) in doc.as_table().iter() {
        if key != "env" {
            out.notes.push(format!(
                "[{key}] is mise's own (tools, tasks, settings) and is not translated"
            ));
        }
        let _ = item;
    }
    let Some(env) = doc.get("env").and_then(Item::as_table_like) else {
        out.notes.push("there is no [env] table".into());
        return Ok(render(out, text));
    };
    for (name, item) in env.iter() {
        let (k, _) = env.get_key_value(name).expect("iterated");
        let line = line_of(k.span().or_else(|| item.span()));
        let mut skip = |reason: &str| {
            out.untranslated.push((
                line,
                super::one_line(&source_line(line)),
                reason.to_string(),
            ));
        };
        if name == "_" {
            directives(item, &line_of, &source_line, &mut out);
            continue;
        }
        if crate::names::check_settable(name).is_err() {
            skip("not a variable strata can set");
            continue;
        }
        match item.as_value() {
            Some(Value::String(s)) => match literal(s.value()) {
                Ok(v) => out.env.push((name.to_string(), Some(v))),
                Err(why) => skip(&why),
            },
            Some(Value::Integer(i)) => out
                .env
                .push((name.to_string(), Some(i.value().to_string()))),
            Some(Value::Float(f)) => out
                .env
                .push((name.to_string(), Some(f.value().to_string()))),
            Some(Value::Boolean(b)) if !*b.value() => out.env.push((name.to_string(), None)),
            Some(Value::Boolean(_)) => out.env.push((name.to_string(), Some("true".into()))),
            Some(Value::InlineTable(t)) => {
                let value = t.get("value").and_then(Value::as_str);
                let other = t.iter().find(|(k, _)| !matches!(*k, "value" | "redact"));
                match (value, other) {
                    (Some(v), None) => match literal(v) {
                        Ok(v) => {
                            out.env.push((name.to_string(), Some(v)));
                            if t.get("redact").and_then(Value::as_bool) == Some(true) {
                                out.mask.push(name.to_string());
                            }
                        }
                        Err(why) => skip(&why),
                    },
                    (_, Some((k, _))) => skip(&format!("`{k}` has no strata equivalent")),
                    (None, None) => skip("a table without `value`"),
                }
            }
            _ => skip("not a string, a number or false"),
        }
    }
    Ok(render(out, text))
}

/// The `_.path`, `_.file`, `_.source`… directives.
fn directives(
    item: &Item,
    line_of: &dyn Fn(Option<std::ops::Range<usize>>) -> usize,
    source_line: &dyn Fn(usize) -> String,
    out: &mut Out,
) {
    let Some(t) = item.as_table_like() else {
        return;
    };
    for (name, item) in t.iter() {
        let line = line_of(
            item.span()
                .or_else(|| t.get_key_value(name).and_then(|(k, _)| k.span())),
        );
        let mut skip = |reason: String| {
            out.untranslated
                .push((line, super::one_line(&source_line(line)), reason));
        };
        let entries: Vec<&Value> = match item.as_value() {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v) => vec![v],
            None => Vec::new(),
        };
        match name {
            "path" => {
                for v in entries {
                    match v.as_str().map(path_entry) {
                        Some(Ok(p)) => out.path.push(p),
                        Some(Err(why)) => skip(why),
                        None => skip("a path entry that is not a string".into()),
                    }
                }
            }
            "file" => {
                for v in entries {
                    let path = match v {
                        Value::String(s) => Some(s.value().as_str()),
                        Value::InlineTable(t) => t.get("path").and_then(Value::as_str),
                        _ => None,
                    };
                    match path {
                        Some(p)
                            if p.ends_with(".json")
                                || p.ends_with(".yaml")
                                || p.ends_with(".yml") =>
                        {
                            skip(format!("{p}: strata loads dotenv files, not JSON or YAML"))
                        }
                        Some(p) if p.contains("{{") => {
                            skip("a tera template in a file name".into())
                        }
                        Some(p) => out.files.push(p.to_string()),
                        None => skip("a file entry without a path".into()),
                    }
                }
            }
            "source" => skip("_.source runs a script; strata files never run code".into()),
            other => skip(format!("_.{other} has no strata equivalent")),
        }
    }
}

/// A mise value as a strata value: no tera templates, `$` written `$$`.
fn literal(v: &str) -> Result<String, String> {
    if v.contains("{{") || v.contains("{%") {
        return Err("a tera template: strata values are literal (with ${VAR} references)".into());
    }
    Ok(v.replace('$', "$$"))
}

/// A `_.path` entry: `{{config_root}}` is the file's directory; other templates are not kept.
fn path_entry(v: &str) -> Result<String, String> {
    let v = v
        .replace("{{config_root}}", "${STRATA_DIR}")
        .replace("{{ config_root }}", "${STRATA_DIR}");
    if v.contains("{{") || v.contains("{%") {
        return Err("a tera template other than {{config_root}}".into());
    }
    if v.contains(':') {
        return Err("an entry with ':' (one directory per entry)".into());
    }
    Ok(v.strip_prefix("./").unwrap_or(&v).to_string())
}

fn render(out: Out, text: &str) -> Translation {
    let _ = text;
    let mut doc = DocumentMut::new();
    if !out.files.is_empty() {
        let mut t = Table::new();
        t["files"] = toml_edit::value(out.files.iter().map(String::as_str).collect::<Array>());
        doc["dotenv"] = Item::Table(t);
    }
    if !out.env.is_empty() {
        let mut t = Table::new();
        for (k, v) in &out.env {
            t[k.as_str()] = match v {
                Some(v) => toml_edit::value(v.as_str()),
                None => toml_edit::value(false),
            };
        }
        doc["env"] = Item::Table(t);
    }
    if !out.path.is_empty() {
        let mut t = Table::new();
        t["prepend"] = toml_edit::value(out.path.iter().map(String::as_str).collect::<Array>());
        doc["path"] = Item::Table(t);
    }
    if !out.mask.is_empty() {
        let mut t = Table::new();
        t["mask"] = toml_edit::value(out.mask.iter().map(String::as_str).collect::<Array>());
        doc["secrets"] = Item::Table(t);
    }
    let mut toml = String::from(
        "# Imported from mise.toml by `strata import mise`; review it, then run strata allow.\n",
    );
    toml.push_str(&doc.to_string());
    if !out.untranslated.is_empty() {
        toml.push_str("\n# Not translated (strata files are data; see strata import --help):\n");
        for (line, src, why) in &out.untranslated {
            toml.push_str(&format!("# line {line}: {src}  ({why})\n"));
        }
    }
    Translation {
        toml,
        untranslated: out.untranslated,
        notes: out.notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_path_file_translate_and_the_rest_is_listed() {
        let t = from_mise(
            "[tools]\nnode = \"22\"\n\n[env]\nPLAIN = \"a $b\"\nN = 3\nGONE = false\nTOKEN = { value = \"x\", redact = true }\nTPL = \"{{env.HOME}}/x\"\n_.path = [\"./bin\", \"{{config_root}}/tools\"]\n_.file = \".env\"\n_.source = \"setup.sh\"\n",
        )
        .unwrap();
        assert!(t.toml.contains("PLAIN = \"a $$b\""), "{}", t.toml);
        assert!(
            t.toml.contains("N = \"3\"") && t.toml.contains("GONE = false"),
            "{}",
            t.toml
        );
        assert!(
            t.toml
                .contains("prepend = [\"bin\", \"${STRATA_DIR}/tools\"]"),
            "{}",
            t.toml
        );
        assert!(t.toml.contains("files = [\".env\"]"), "{}", t.toml);
        assert!(t.toml.contains("mask = [\"TOKEN\"]"), "{}", t.toml);
        let lines: Vec<usize> = t.untranslated.iter().map(|u| u.0).collect();
        assert_eq!(lines, [9, 12], "{:?}", t.untranslated);
        assert!(t.notes.iter().any(|n| n.contains("[tools]")));
        crate::layers::file::parse(
            std::path::Path::new("/p/.strata.toml"),
            crate::layers::file::Kind::Dir,
            t.toml.as_bytes(),
        )
        .unwrap();
    }
}
