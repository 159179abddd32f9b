//! `strata import`: translating direnv `.envrc` files and dotenv files into `.strata.toml`.
//!
//! Two kinds of tests. The translation tests run a set of real-world-style `.envrc` files through
//! [`strata_env::import::from_envrc`] and check the TOML and the list of untranslated lines. The
//! equivalence tests put each fully translated fixture in a directory, let the real `direnv`
//! evaluate the `.envrc` (`direnv allow` + `direnv export json`) and strata evaluate the
//! translation (`strata allow` + `strata env --format json`), and compare every variable the
//! fixture changes, byte for byte. direnv is required: a missing direnv fails the test with a
//! message saying how to install it (CI installs it), it is never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use strata_env::import::{Translation, from_dotenv, from_envrc};
use strata_env::layers::file::{Kind, parse};

use crate::support::World;

/// One `.envrc` fixture.
struct Fixture {
    name: &'static str,
    /// Directory under `work/` the `.envrc` goes in.
    dir: &'static str,
    envrc: &'static str,
    /// The expected `.strata.toml`, without the header comment line.
    toml: &'static str,
    /// Expected untranslated lines: (line, a fragment of the reason).
    untranslated: &'static [(usize, &'static str)],
    /// Other files to create first, e.g. a parent `.envrc` or a `.env` (path under `work/`).
    files: &'static [(&'static str, &'static str)],
    /// Variables set in the environment both tools start from (`None`: removed).
    base_env: &'static [(&'static str, Option<&'static str>)],
    /// Variables the fixture changes, compared between direnv and strata.
    vars: &'static [&'static str],
}

const HEADER: &str = "# Imported from .envrc by `strata import direnv`.\n";

const NODE: Fixture = Fixture {
    name: "node",
    dir: "web",
    envrc: r#"# Node.js project
export NODE_ENV=development
PATH_add node_modules/.bin
export NPM_CONFIG_PREFIX="$PWD/.npm-global"
PATH_add "$NPM_CONFIG_PREFIX/bin"
watch_file package.json
"#,
    toml: r#"root = true

[env]
NODE_ENV = "development"
NPM_CONFIG_PREFIX = "${STRATA_DIR}/.npm-global"

[path]
prepend = ["${NPM_CONFIG_PREFIX}/bin", "node_modules/.bin"]
"#,
    untranslated: &[],
    files: &[],
    base_env: &[],
    vars: &["NODE_ENV", "NPM_CONFIG_PREFIX", "PATH"],
};

const PYTHON: Fixture = Fixture {
    name: "python",
    dir: "py",
    envrc: r#"export VIRTUAL_ENV=$PWD/.venv
PATH_add .venv/bin
export PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH="$PWD/src:$PYTHONPATH"
unset PYTHONHOME
"#,
    toml: r#"root = true

[env]
VIRTUAL_ENV = "${STRATA_DIR}/.venv"
PYTHONDONTWRITEBYTECODE = "1"
PYTHONHOME = false

[path]
prepend = [".venv/bin"]

[paths.PYTHONPATH]
prepend = ["src"]
"#,
    untranslated: &[],
    files: &[],
    base_env: &[
        ("PYTHONPATH", Some("/opt/site")),
        ("PYTHONHOME", Some("/usr")),
    ],
    vars: &[
        "VIRTUAL_ENV",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPATH",
        "PYTHONHOME",
        "PATH",
    ],
};

const MONOREPO: Fixture = Fixture {
    name: "monorepo child",
    dir: "mono/services/api",
    envrc: r#"source_up
export SERVICE=api
export SHARED="child of $ORG"
PATH_add bin
"#,
    toml: r#"root = false

[env]
SERVICE = "api"
SHARED = "child of ${ORG:-}"

[path]
prepend = ["bin"]
"#,
    untranslated: &[],
    files: &[(
        "mono/.envrc",
        "export ORG=acme\nexport SHARED=parent\nPATH_add tools\n",
    )],
    base_env: &[],
    vars: &["ORG", "SERVICE", "SHARED", "PATH"],
};

const DOTENV: Fixture = Fixture {
    name: "dotenv",
    dir: "app",
    envrc: r#"dotenv
dotenv_if_exists .env.local
export APP_ENV=dev
export DATABASE_URL_RO="${DATABASE_URL}?readonly=1"
"#,
    toml: r#"root = true

[env]
APP_ENV = "dev"
DATABASE_URL_RO = "${DATABASE_URL:-}?readonly=1"

[dotenv]
files = [".env", { path = ".env.local", optional = true }]
"#,
    untranslated: &[],
    files: &[(
        "app/.env",
        "# secrets\nDATABASE_URL=postgres://localhost/app\nexport API_KEY='k$y \"quoted\"'\nGREETING=\"hello world\"\n",
    )],
    base_env: &[],
    vars: &[
        "DATABASE_URL",
        "API_KEY",
        "GREETING",
        "APP_ENV",
        "DATABASE_URL_RO",
    ],
};

const LAYOUT: Fixture = Fixture {
    name: "layout python",
    dir: "lp",
    envrc: r#"layout python3
export FLASK_APP=app.py
use nix
"#,
    toml: r#"root = true

[env]
FLASK_APP = "app.py"

# Not translated (translate by hand, or keep them out of the environment):
#   line 1: layout python3
#     (layout python3 runs code; strata files cannot (it creates .direnv/python-VERSION; set VIRTUAL_ENV to that directory and prepend its bin/ in [path]))
#   line 3: use nix
#     (use nix runs code (a version manager or nix); strata files cannot. Run it once and copy the variables it sets, or use the tool's own shell integration)
"#,
    untranslated: &[(1, "layout python3 runs code"), (3, "use nix runs code")],
    files: &[],
    base_env: &[],
    vars: &[],
};

const GIT_SHA: Fixture = Fixture {
    name: "command substitution",
    dir: "sha",
    envrc: r#"export GIT_SHA=$(git rev-parse HEAD)
export BUILD_TIME=`date +%s`
export ROOT=$(pwd)
export CONFIG="$(pwd)/config.yml"
"#,
    toml: r#"root = true

[env]
ROOT = "${STRATA_DIR}"
CONFIG = "${STRATA_DIR}/config.yml"

# Not translated (translate by hand, or keep them out of the environment):
#   line 1: export GIT_SHA=$(git rev-parse HEAD)
#     (command substitution $(git rev-parse HEAD): strata files cannot run commands)
#   line 2: export BUILD_TIME=`date +%s`
#     (command substitution `date +%s`: strata files cannot run commands)
"#,
    untranslated: &[
        (1, "command substitution $(git rev-parse HEAD)"),
        (2, "command substitution `date +%s`"),
    ],
    files: &[],
    base_env: &[],
    vars: &[],
};

const QUOTING: Fixture = Fixture {
    name: "quoting",
    dir: "q",
    envrc: r#"export A="a b"
export B='single $NOT "quoted" \n'
export C="dq \"esc\" \$dollar \\ back \`tick\` \n keep"
export D=$HOME/x
export E="${HOME}/y"
export F=plain\ escaped\$
export G="multi
line"
export H=$'tab\there\n'
export I="${UNSET_VAR:-fall back}"
export J="[$UNSET_VAR2]"
export K=~/tilde:~/two
export L=a=b=c
name=local
export M="${name}-suffix"
N=1; export N
export O=$A-$B
unset OLD_VAR
export P=hash#not-comment # a comment
export Q="emoji ☃ and "'$$'""
export R=\
continued
X=1 Y="two words"
export X
export S="${X}${Y}" T='it'\''s'
"#,
    toml: r#"root = true

[env]
A = "a b"
B = 'single $$NOT "quoted" \n'
C = 'dq "esc" $$dollar \ back `tick` \n keep'
D = "${HOME}/x"
E = "${HOME}/y"
F = "plain escaped$$"
G = "multi\nline"
H = "tab\there\n"
I = "${UNSET_VAR:-fall back}"
J = "[${UNSET_VAR2:-}]"
K = "${HOME}/tilde:${HOME}/two"
L = "a=b=c"
M = "local-suffix"
N = "1"
O = "${A}-${B}"
OLD_VAR = false
P = "hash#not-comment"
Q = "emoji ☃ and $$$$"
R = "continued"
X = "1"
S = "${X}two words"
T = "it's"
"#,
    untranslated: &[],
    files: &[],
    base_env: &[
        ("OLD_VAR", Some("old")),
        ("UNSET_VAR", None),
        ("UNSET_VAR2", None),
    ],
    vars: &[
        "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "OLD_VAR", "P",
        "Q", "R", "X", "S", "T",
    ],
};

const PATHS: Fixture = Fixture {
    name: "path forms",
    dir: "paths",
    envrc: r#"export PATH="$PWD/tools:$PATH"
PATH_add bin ./scripts/
path_add LD_LIBRARY_PATH lib
export GOPATH=$PWD/go
PATH_add "$GOPATH/bin"
export PATH=$PATH:/opt/extra/bin
export MANPATH="$PWD/man:$MANPATH"
"#,
    toml: r#"root = true

[env]
GOPATH = "${STRATA_DIR}/go"

[path]
prepend = ["${GOPATH}/bin", "bin", "scripts", "tools"]
append = ["/opt/extra/bin"]

[paths.LD_LIBRARY_PATH]
prepend = ["lib"]

[paths.MANPATH]
prepend = ["man"]
"#,
    untranslated: &[],
    files: &[],
    base_env: &[
        ("LD_LIBRARY_PATH", None),
        ("MANPATH", Some("/usr/share/man")),
    ],
    vars: &["PATH", "LD_LIBRARY_PATH", "GOPATH", "MANPATH"],
};

const BLOCKS: Fixture = Fixture {
    name: "conditionals and functions",
    dir: "blocks",
    envrc: r#"if has nvm; then
  export A=1
fi
use_thing() {
  export B=2
}
export C=3
[[ -f .env.local ]] && dotenv .env.local
for f in a b; do export "V_$f=1"; done
eval "$(tool init -)"
source_env_if_exists .envrc.local
export D=4
"#,
    toml: r#"root = true

[env]
C = "3"
D = "4"

# Not translated (translate by hand, or keep them out of the environment):
#   line 1: if has nvm; then
#     (starts a if: strata files have no conditionals, loops or functions)
#   line 2:   export A=1
#     (inside the if at line 1: strata cannot apply it conditionally)
#   line 3: fi
#     (inside the if at line 1: strata cannot apply it conditionally)
#   line 4: use_thing() {
#     (starts a function: strata files have no conditionals, loops or functions)
#   line 5:   export B=2
#     (inside the function at line 4: strata cannot apply it conditionally)
#   line 6: }
#     (inside the function at line 4: strata cannot apply it conditionally)
#   line 8: [[ -f .env.local ]] && dotenv .env.local
#     (a conditional (&& / ||): strata files cannot run commands)
#   line 9: for f in a b; do export "V_$f=1"; done
#     (starts a for: strata files have no conditionals, loops or functions)
#   line 10: eval "$(tool init -)"
#     (command substitution $(tool init -): strata files cannot run commands)
#   line 11: source_env_if_exists .envrc.local
#     (source_env_if_exists runs another shell file; import that file too (a personal .envrc.local becomes .strata.local.toml), or list it under [dotenv] if it is a dotenv file)
"#,
    untranslated: &[
        (1, "starts a if"),
        (2, "inside the if at line 1"),
        (3, "inside the if at line 1"),
        (4, "starts a function"),
        (5, "inside the function at line 4"),
        (6, "inside the function at line 4"),
        (8, "a conditional"),
        (9, "starts a for"),
        (10, "command substitution"),
        (11, "source_env_if_exists runs another shell file"),
    ],
    files: &[],
    base_env: &[],
    vars: &[],
};

const ALLEXPORT: Fixture = Fixture {
    name: "set -a and shell-local variables",
    dir: "allexport",
    envrc: r#"set -a
FOO=bar
set +a
helper=/opt/thing
export THING_HOME=$helper
export THING_BIN="${THING_HOME}/bin"
export COUNT=1
export COUNT="$COUNT+1"
"#,
    toml: r#"root = true

[env]
FOO = "bar"
THING_HOME = "/opt/thing"
THING_BIN = "${THING_HOME}/bin"
COUNT = "1+1"
"#,
    untranslated: &[],
    files: &[],
    base_env: &[],
    vars: &["FOO", "THING_HOME", "THING_BIN", "COUNT"],
};

/// Functions and aliases an .envrc defines in vain (direnv runs it in a subshell): those that
/// are a command with the caller's arguments after it become `[aliases]`.
const ALIASES: Fixture = Fixture {
    name: "aliases",
    dir: "tools",
    envrc: r#"export FOO=bar
t() { cargo test -- "$@"; }
function b {
  cargo build --release "$@"
}
alias gs='git status' ll="ls -l"
alias bad='echo $HOME'
greet() { echo hi; }
"#,
    toml: r#"root = true

[env]
FOO = "bar"

[aliases]
t = ["cargo", "test", "--"]
b = ["cargo", "build", "--release"]
gs = ["git", "status"]
ll = ["ls", "-l"]

# Not translated (translate by hand, or keep them out of the environment):
#   line 7: alias bad='echo $HOME'
#     (alias bad holds shell syntax; a strata alias is a command and its arguments)
#   line 8: greet() { echo hi; }
#     (starts a function: strata files have no conditionals, loops or functions)
"#,
    untranslated: &[(7, "shell syntax"), (8, "functions")],
    files: &[],
    base_env: &[],
    vars: &["FOO"],
};

const FIXTURES: &[&Fixture] = &[
    &NODE, &PYTHON, &MONOREPO, &DOTENV, &LAYOUT, &GIT_SHA, &QUOTING, &PATHS, &BLOCKS, &ALLEXPORT,
    &ALIASES,
];

/// Every translation is valid strata (it parses and validates as a directory file).
fn check_valid(name: &str, t: &Translation) {
    if let Err(e) = parse(Path::new("/x/.strata.toml"), Kind::Dir, t.toml.as_bytes()) {
        panic!(
            "{name}: the translation does not validate: {e:#}\n{}",
            t.toml
        );
    }
}

#[test]
fn translations_match_the_expected_toml_and_untranslated_lines() {
    let mut failures = Vec::new();
    for f in FIXTURES {
        let t = from_envrc(f.envrc);
        check_valid(f.name, &t);
        let expected = format!("{HEADER}{}", f.toml);
        if t.toml != expected {
            failures.push(format!(
                "--- {}: TOML differs\nexpected:\n{expected}\nactual:\n{}\n",
                f.name, t.toml
            ));
        }
        let lines: Vec<usize> = t.untranslated.iter().map(|(l, _, _)| *l).collect();
        let want: Vec<usize> = f.untranslated.iter().map(|(l, _)| *l).collect();
        if lines != want {
            failures.push(format!(
                "--- {}: untranslated lines {lines:?}, expected {want:?}: {:#?}",
                f.name, t.untranslated
            ));
            continue;
        }
        let src: Vec<&str> = f.envrc.lines().collect();
        for ((line, text, reason), (_, fragment)) in t.untranslated.iter().zip(f.untranslated) {
            if !reason.contains(fragment) || text != src[line - 1] {
                failures.push(format!(
                    "--- {}: line {line}: {text:?} / {reason:?}, expected the text of line {line} and a reason with {fragment:?}",
                    f.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn notes_explain_what_was_dropped_or_changed() {
    let notes = from_envrc(NODE.envrc).notes;
    assert!(notes[0].contains("root = true"), "{notes:#?}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("line 6: watch_file dropped")),
        "{notes:#?}"
    );
    let notes = from_envrc(MONOREPO.envrc).notes;
    assert!(
        notes[0].contains("line 1: source_up → root = false"),
        "{notes:#?}"
    );
    let notes = from_envrc(ALLEXPORT.envrc).notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("line 4: helper is set but not exported")),
        "{notes:#?}"
    );
    // source_up after other statements: the order of overrides differs, which is said.
    let notes = from_envrc("export A=1\nsource_up\n").notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("line 2: source_up is not the first statement")),
        "{notes:#?}"
    );
    // A parent-relative entry: the same directory, spelled differently than direnv spells it.
    let notes = from_envrc("PATH_add ../bin\n").notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("line 1: direnv adds ../bin to PATH")),
        "{notes:#?}"
    );
    // dotenv after exports: strata loads dotenv files first.
    let notes = from_envrc("export A=1\ndotenv\n").notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("loads [dotenv] files before [env]")),
        "{notes:#?}"
    );
}

#[test]
fn what_strata_cannot_express_is_listed_not_guessed() {
    let cases: &[(&str, &str)] = &[
        // A reference to a variable as it was before this file set it.
        ("export B=$A\nexport A=2\n", "uses $A as it was before"),
        // A use of PATH after the file edited it.
        (
            "PATH_add bin\nexport OLD=$PATH\n",
            "after this file edited it",
        ),
        (
            "PATH_add bin\nexport PATH=/only\n",
            "after this file edited it",
        ),
        ("export X=${Y#prefix}\n", "only ${VAR} and ${VAR:-default}"),
        (
            "export X=${Y-unset-only}\n",
            "only ${VAR} and ${VAR:-default}",
        ),
        ("export X=$((1 + 2))\n", "arithmetic"),
        ("export X=$1\n", "special parameter $1"),
        ("export STRATA_LOG=quiet\n", "STRATA_LOG is managed"),
        ("PATH_add bin/*\n", "glob"),
        ("export X=~root/bin\n", "another user's home"),
        ("export X=\"unterminated\n", "unterminated double quote"),
        ("FOO=bar make\n", "applies to that command only"),
        ("cat <<EOF > .env\nA=1\nEOF\n", "redirection"),
        ("echo hi | tee x\n", "pipeline"),
        ("export PATH=$PATH::/x\n", "empty entry"),
        ("LOCAL_ONLY=x:$LOCAL_ONLY\n", "not exported here"),
    ];
    for (envrc, fragment) in cases {
        let t = from_envrc(envrc);
        check_valid(envrc, &t);
        assert!(
            t.untranslated.iter().any(|(_, _, r)| r.contains(fragment)),
            "{envrc:?}: expected a reason with {fragment:?}, got {:#?}\n{}",
            t.untranslated,
            t.toml
        );
    }
    // A heredoc body is part of its command, not separate statements.
    let t = from_envrc("cat <<EOF > .env\nexport A=1\nEOF\nexport B=2\n");
    let lines: Vec<usize> = t.untranslated.iter().map(|(l, _, _)| *l).collect();
    assert_eq!(lines, [1, 2, 3], "{:#?}", t.untranslated);
    assert!(
        t.toml.contains("B = \"2\"") && !t.toml.contains("A = "),
        "{}",
        t.toml
    );
}

#[test]
fn dotenv_import_points_at_the_file_and_validates_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    std::fs::create_dir_all(dir.join("proj/config")).unwrap();
    let env = dir.join("proj/config/app.env");
    std::fs::write(&env, "A=1\nexport B='two words'\nA=3\n").unwrap();
    let t = from_dotenv(&env, &dir.join("proj")).unwrap();
    assert_eq!(
        t.toml,
        format!(
            "# Imported from {} by `strata import dotenv`: the values stay in that file.\n[dotenv]\nfiles = [\"config/app.env\"]\n",
            env.display()
        )
    );
    assert_eq!(t.notes, ["config/app.env sets 2: A, B"]);
    assert!(t.untranslated.is_empty());
    check_valid("dotenv", &t);
    // A file outside the directory is reached with `..`.
    let t = from_dotenv(&env, &dir.join("other")).unwrap();
    assert!(
        t.toml.contains("files = [\"../proj/config/app.env\"]"),
        "{}",
        t.toml
    );
    // A parse error names the file and line; so does a variable strata refuses.
    std::fs::write(&env, "A=1\nB=\"open\n").unwrap();
    let e = format!("{:#}", from_dotenv(&env, &dir).unwrap_err());
    assert!(e.contains("app.env:2"), "{e}");
    std::fs::write(&env, "A=1\nSTRATA_LOG=quiet\n").unwrap();
    let e = format!("{:#}", from_dotenv(&env, &dir).unwrap_err());
    assert!(e.contains("app.env:2") && e.contains("STRATA_LOG"), "{e}");
    let e = format!(
        "{:#}",
        from_dotenv(&dir.join("missing.env"), &dir).unwrap_err()
    );
    assert!(e.contains("missing.env does not exist"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Equivalence with the real direnv.
// ---------------------------------------------------------------------------------------------

fn direnv() -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let p = Path::new(dir).join("direnv");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "direnv is not installed: the import tests compare against the real direnv and never skip; \
         install it (`apt-get install -y direnv`, as CI does)"
    );
}

fn run(w: &World, mut cmd: Command, what: &str) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}\nworld: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        w.root().display()
    );
    out
}

/// A World with the fixture's files and base environment.
fn world_for(f: &Fixture) -> World {
    let mut w = World::new();
    for (k, v) in f.base_env {
        w = match v {
            Some(v) => w.env(k, v),
            None => w.env_remove(k),
        };
    }
    w = w.file(&format!("{}/.envrc", f.dir), f.envrc);
    for (path, text) in f.files {
        w = w.file(path, text);
    }
    w
}

/// What direnv exports in the fixture's directory: `direnv export json` after `direnv allow`.
fn direnv_export(w: &World, f: &Fixture) -> serde_json::Map<String, serde_json::Value> {
    let direnv = direnv();
    let dir = w.path(f.dir);
    let config = w.root().join("direnv-config");
    std::fs::create_dir_all(&config).unwrap();
    let cmd = |args: &[&str]| {
        let mut c = w.command(&direnv);
        c.args(args).current_dir(&dir).env("DIRENV_CONFIG", &config);
        c
    };
    // Allow every .envrc on the way (a parent one too, for source_up).
    for (path, _) in f.files.iter().filter(|(p, _)| p.ends_with(".envrc")) {
        let p = w.path(path);
        run(
            w,
            cmd(&["allow", p.to_str().unwrap()]),
            "direnv allow (parent)",
        );
    }
    run(w, cmd(&["allow", "."]), "direnv allow");
    let out = run(w, cmd(&["export", "json"]), "direnv export json");
    match serde_json::from_slice(&out.stdout) {
        Ok(serde_json::Value::Object(m)) => m,
        other => panic!(
            "direnv export json printed no object ({other:?}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// What strata sets in the fixture's directory from the translated files.
fn strata_env(w: &World, f: &Fixture) -> serde_json::Map<String, serde_json::Value> {
    let mut envrcs: Vec<String> = f
        .files
        .iter()
        .filter(|(p, _)| p.ends_with(".envrc"))
        .map(|(p, _)| p.to_string())
        .collect();
    envrcs.push(format!("{}/.envrc", f.dir));
    for envrc in envrcs {
        let text = std::fs::read_to_string(w.path(&envrc)).unwrap();
        let t = from_envrc(&text);
        assert!(
            t.untranslated.is_empty(),
            "{}: {envrc} is not fully translated: {:#?}",
            f.name,
            t.untranslated
        );
        let toml = envrc.replace(".envrc", ".strata.toml");
        w.write(&toml, &t.toml);
        w.strata(&["allow", &w.path_str(&toml)]).success();
    }
    let out = w.strata(&["env", "--format", "json", "-C", &w.path_str(f.dir)]);
    out.success();
    match out.json() {
        serde_json::Value::Object(m) => m,
        other => panic!("strata env printed no object: {other}"),
    }
}

fn equivalent(f: &Fixture) {
    assert!(!f.vars.is_empty(), "{}: a fixture to compare", f.name);
    let w = world_for(f);
    let direnv = direnv_export(&w, f);
    let strata = strata_env(&w, f);
    let mut diffs = Vec::new();
    for var in f.vars {
        if !direnv.contains_key(*var) {
            diffs.push(format!(
                "{var}: not changed by direnv; the fixture is wrong"
            ));
        }
        let d = direnv.get(*var);
        let s = strata.get(*var);
        if d != s {
            diffs.push(format!("{var}: direnv {d:?}, strata {s:?}"));
        }
    }
    // Nothing else either: every variable direnv sets (but its own) is one strata sets.
    for (k, v) in &direnv {
        if !k.starts_with("DIRENV_") && !f.vars.contains(&k.as_str()) {
            diffs.push(format!(
                "{k}: set by direnv ({v}) but not listed in the fixture"
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{}: strata differs from direnv:\n{}\ndirenv: {direnv:#?}\nstrata: {strata:#?}",
        f.name,
        diffs.join("\n")
    );
}

#[test]
fn node_project_matches_direnv() {
    equivalent(&NODE);
}

#[test]
fn python_project_matches_direnv() {
    equivalent(&PYTHON);
}

#[test]
fn monorepo_child_with_source_up_matches_direnv() {
    equivalent(&MONOREPO);
}

#[test]
fn dotenv_matches_direnv() {
    equivalent(&DOTENV);
}

#[test]
fn quoting_matches_direnv() {
    equivalent(&QUOTING);
}

#[test]
fn path_forms_match_direnv() {
    equivalent(&PATHS);
}

#[test]
fn allexport_and_locals_match_direnv() {
    equivalent(&ALLEXPORT);
}

#[test]
fn import_command_writes_beside_the_file_and_never_overwrites() {
    let w = World::new().file(
        "proj/.envrc",
        "export GREETING=\"hello world\"\nPATH_add bin\nlayout python3\n",
    );
    let out = w.strata_in("proj", &["import", "direnv"]);
    out.success()
        .stderr_contains("wrote")
        .stderr_contains("line 3 not translated")
        .stderr_contains("strata allow");
    let toml = std::fs::read_to_string(w.path("proj/.strata.toml")).unwrap();
    assert!(toml.contains("GREETING = \"hello world\""), "{toml}");
    // A second import refuses to overwrite, unless forced.
    w.strata_in("proj", &["import", "direnv"])
        .code_is(1)
        .stderr_contains("--force");
    w.strata_in("proj", &["import", "direnv", "--force"])
        .success();
    // The result is a normal, untrusted directory file until allowed.
    w.strata_in("proj", &["allow"]).success();
    let env = w.strata_in("proj", &["env", "--format", "json"]);
    assert_eq!(env.json()["GREETING"], serde_json::json!("hello world"));
    // dotenv
    let w = World::new().file("app/.env", "A=1\nB='two'\n");
    w.strata_in("app", &["import", "dotenv", ".env"]).success();
    w.strata_in("app", &["allow"]).success();
    let env = w.strata_in("app", &["env", "--format", "json"]);
    assert_eq!(
        env.json()["B"],
        serde_json::json!("two"),
        "{}",
        env.describe()
    );
}
