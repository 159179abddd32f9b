//! The README is true: every `sh` block in it is pasted, in order, into a real interactive bash
//! and zsh with the hook installed as the README says; every command must succeed, and every
//! `# text` line right below a command must appear in what the terminal showed after it (the
//! command's output or the hook's line at the next prompt). The prompt recipes are rendered by
//! the real shells, and the rc lines of the shell table install a working hook.
//!
//! A block preceded by `<!-- readme-test: skip (why) -->` is not run (the install command, the
//! test command itself).

use std::path::Path;

use crate::support::*;

/// One command of a block and the output lines the README shows under it.
#[derive(Debug)]
struct Cmd {
    text: String,
    expect: Vec<String>,
    line: usize,
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The runnable `sh` blocks, as commands, in README order.
fn commands(text: &str) -> Vec<Cmd> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Cmd> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        if fence != "```sh" {
            i += 1;
            continue;
        }
        let skip = i > 0
            && lines[i - 1]
                .trim_start()
                .starts_with("<!-- readme-test: skip");
        i += 1;
        let mut block: Vec<(usize, &str)> = Vec::new();
        while i < lines.len() && lines[i].trim_start() != "```" {
            block.push((i + 1, lines[i]));
            i += 1;
        }
        i += 1;
        if skip {
            continue;
        }
        let mut k = 0;
        while k < block.len() {
            let (line, l) = block[k];
            k += 1;
            if let Some(expected) = l.strip_prefix("# ") {
                out.last_mut()
                    .unwrap_or_else(|| {
                        panic!("README.md:{line}: an output line before any command")
                    })
                    .expect
                    .push(expected.to_string());
                continue;
            }
            if l.trim().is_empty() {
                continue;
            }
            let mut text = l.to_string();
            // A heredoc goes in with its body, up to its terminator.
            if let Some(at) = l.find("<<'") {
                let word: String = l[at + 3..].chars().take_while(|&c| c != '\'').collect();
                while k < block.len() {
                    text.push('\n');
                    text.push_str(block[k].1);
                    k += 1;
                    if block[k - 1].1 == word {
                        break;
                    }
                }
            }
            out.push(Cmd {
                text,
                expect: Vec::new(),
                line,
            });
        }
    }
    out
}

fn run_readme(sh: Shell) {
    let readme = readme();
    let cmds = commands(&readme);
    assert!(cmds.len() > 30, "found only {} README commands", cmds.len());
    // A fresh user: strata's and XDG's directories are the defaults under HOME, as the README
    // assumes (`~/.local/state/strata`…).
    let mut w = World::new().env("USER", "tester");
    for var in [
        "STRATA_CONFIG_DIR",
        "STRATA_STATE_DIR",
        "STRATA_DATA_DIR",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
    ] {
        w = w.env_remove(var);
    }
    let texts: Vec<String> = cmds.iter().map(|c| c.text.clone()).collect();
    // As the README says for zsh: comments at the prompt need interactive_comments.
    let setup: Vec<String> = match sh {
        Zsh => vec!["setopt interactive_comments".into()],
        _ => Vec::new(),
    };
    let (run, typed) = w.interactive_steps(sh, &setup, &texts);
    let mut failures = Vec::new();
    for (c, t) in cmds.iter().zip(&typed) {
        let shown = String::from_utf8_lossy(&t.output);
        if t.status != Some(0) {
            failures.push(format!(
                "README.md:{}: `{}` exited {:?}:\n{}",
                c.line,
                c.text.lines().next().unwrap_or(""),
                t.status,
                show(&t.output)
            ));
        }
        for e in &c.expect {
            if !shown.contains(e.as_str()) {
                failures.push(format!(
                    "README.md:{}: after `{}` the README shows {e:?}, the terminal did not:\n{}",
                    c.line,
                    c.text.lines().next().unwrap_or(""),
                    show(&t.output)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "[{}] {} README line(s) are not true:\n{}\n\n{}",
        sh.name(),
        failures.len(),
        failures.join("\n\n"),
        run.describe()
    );
}

#[test]
fn every_readme_block_runs_as_written_in_bash() {
    run_readme(Bash);
}

#[test]
fn every_readme_block_runs_as_written_in_zsh() {
    run_readme(Zsh);
}

/// The code spans of the README bullet that starts with `- {shell}:`.
fn recipes(shell: &str) -> Vec<String> {
    let text = readme();
    let start = text
        .find(&format!("\n- {shell}: "))
        .unwrap_or_else(|| panic!("no prompt recipe for {shell} in the README"));
    let rest = &text[start + 1..];
    let end = rest[2..].find("\n- ").map_or(rest.len(), |e| e + 2);
    let bullet = &rest[..end];
    bullet
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// A world where the context `prod` (red) is active and the project directory is named
/// `100%app`, so each recipe is checked with a colour and a `%` that must stay literal.
fn prompt_world() -> World {
    let w = World::new()
        .dir_config("100%app", "[env]\nA = \"1\"\n")
        .allow("100%app");
    w.strata(&["context", "create", "prod"]).success();
    w.strata(&["context", "set", "prod", "color=red"]).success();
    w.strata(&["use", "prod"]).success();
    w
}

/// `bytes` with every `\x01…\x02` span (what readline does not count) removed, and the colour
/// codes in them checked.
fn visible_bash(bytes: &[u8]) -> (String, usize) {
    let mut out = Vec::new();
    let mut hidden = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 1 {
            let end = bytes[i..]
                .iter()
                .position(|&b| b == 2)
                .expect("\\001 without \\002")
                + i;
            assert!(
                bytes[i + 1..end].starts_with(b"\x1b["),
                "a hidden span that is not a colour: {}",
                show(&bytes[i..=end])
            );
            hidden += 1;
            i = end + 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), hidden)
}

#[test]
fn bash_prompt_recipes_render() {
    let w = prompt_world();
    let ps1s: Vec<String> = recipes("bash")
        .into_iter()
        .filter_map(|r| r.strip_prefix("PS1=").map(str::to_string))
        .collect();
    assert_eq!(ps1s.len(), 2, "two bash recipes in the README");
    for ps1 in ps1s {
        let r = w.run_shell(
            Bash,
            &[
                cd("100%app"),
                prompt(),
                raw(format!("PS1={ps1}")),
                mark("render"),
                raw(r#"printf '%s' "${PS1@P}""#),
            ],
        );
        let out = r.stdout_at("render");
        assert!(
            !contains(out, b"\\["),
            "bash shows a literal \\[: {}",
            show(out)
        );
        let (visible, hidden) = visible_bash(out);
        assert!(
            visible.starts_with("prod · 100%app") || visible.starts_with("(prod · 100%app)"),
            "{ps1}: the terminal shows {visible:?}"
        );
        if ps1.contains("strata prompt") {
            assert_eq!(
                hidden,
                2,
                "{ps1}: the colour is wrapped in \\001 \\002: {}",
                show(out)
            );
            assert!(contains(out, b"\x1b[31m"), "{ps1}: red: {}", show(out));
        }
    }
}

#[test]
fn zsh_prompt_recipes_render() {
    let w = prompt_world();
    let recipes = recipes("zsh");
    let assignments: Vec<&String> = recipes.iter().filter(|r| r.contains("RPROMPT=")).collect();
    assert_eq!(assignments.len(), 3, "{recipes:?}");
    for recipe in assignments {
        let r = w.run_shell(
            Zsh,
            &[
                cd("100%app"),
                prompt(),
                raw(recipe.clone()),
                raw("setopt prompt_subst"),
                // As zsh expands a prompt with PROMPT_SUBST: parameters and $(…) first, then %.
                mark("render"),
                raw(r#"__x=${(e)RPROMPT}; print -rn -- "${(%)__x}""#),
            ],
        );
        let out = r.stdout_at("render");
        // What the terminal gets: escapes expanded, %{ %} gone, the % in the name literal.
        let text = String::from_utf8_lossy(out)
            .replace("\x1b[31m", "")
            .replace("\x1b[39m", "")
            .replace("\x1b[0m", "");
        assert_eq!(text, "prod · 100%app", "{recipe}: {}", show(out));
        assert!(!contains(out, b"%{"), "{recipe}: {}", show(out));
        if recipe.contains("STRATA_PROMPT_COLOR") {
            assert!(contains(out, b"\x1b[31mprod"), "{recipe}: {}", show(out));
        }
        if recipe.contains("strata prompt") {
            assert!(
                contains(out, b"\x1b[31mprod\x1b[0m"),
                "{recipe}: {}",
                show(out)
            );
        }
    }
}

#[test]
fn fish_prompt_recipes_render() {
    let w = prompt_world();
    let recipes: Vec<String> = recipes("fish")
        .into_iter()
        .filter(|r| r.starts_with("function fish_right_prompt"))
        .collect();
    assert_eq!(recipes.len(), 2, "{recipes:?}");
    for recipe in recipes {
        let r = w.run_shell(
            Fish,
            &[
                cd("100%app"),
                prompt(),
                raw(recipe.clone()),
                mark("render"),
                raw("fish_right_prompt"),
            ],
        );
        let out = r.stdout_at("render");
        let text = String::from_utf8_lossy(out)
            .replace("\x1b[31m", "")
            .replace("\x1b[39m", "")
            .replace("\x1b[0m", "");
        assert_eq!(text, "prod · 100%app", "{recipe}: {}", show(out));
        if recipe.contains("STRATA_PROMPT_COLOR") {
            assert!(contains(out, b"\x1b[31mprod"), "{recipe}: {}", show(out));
        }
        if recipe.contains("strata prompt") {
            assert!(
                contains(out, b"\x1b[31mprod\x1b[0m"),
                "{recipe}: {}",
                show(out)
            );
        }
    }
}

/// The rc lines of the README's shell table install a hook that loads a project.
#[test]
fn the_shell_table_lines_install_the_hook() {
    let text = readme();
    for sh in ALL_SHELLS {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", sh.name())))
            .unwrap_or_else(|| panic!("no {} row in the shell table", sh.name()));
        // The third cell, a code span (with double backticks where the line has one).
        let cells: Vec<String> = row
            .replace("\\|", "\u{1}")
            .split('|')
            .map(str::to_string)
            .collect();
        let cell = cells.get(3).expect("the rc line is the third cell").trim();
        let line = cell.trim_matches('`').trim().replace('\u{1}', "|");
        assert_eq!(line, sh.hook_install(), "the README's {} line", sh.name());
    }
}

/// The README's settings table lists every setting with its real default.
#[test]
fn the_settings_table_is_the_settings() {
    let text = readme();
    let mut rows: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() == 5
            && cells[1].starts_with('`')
            && (cells[2].starts_with('`') || cells[2] == "—")
            && !cells[1].contains(' ')
        {
            let key = cells[1].trim_matches('`').to_string();
            let default = match cells[2] {
                "—" | "`[]`" => String::new(),
                d => d.trim_matches('`').to_string(),
            };
            rows.push((key, default));
        }
    }
    let w = World::new();
    let list = w.strata(&["config", "list", "--json"]).success().json();
    let keys: Vec<&String> = list.as_object().unwrap().keys().collect();
    let readme_keys: Vec<&String> = rows.iter().map(|(k, _)| k).collect();
    let mut a = keys.clone();
    let mut b = readme_keys.clone();
    a.sort();
    b.sort();
    assert_eq!(
        a, b,
        "the README's settings table and `strata config list` disagree"
    );
    for (key, default) in &rows {
        assert_eq!(
            list[key]["value"].as_str().unwrap_or_default(),
            default,
            "the README's default of {key}"
        );
        assert_eq!(list[key]["origin"], "default", "{key}");
    }
}
