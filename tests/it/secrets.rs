//! Secrets: values in a real keyring (the kernel keyring, and gnome-keyring's Secret Service on a
//! D-Bus session bus these tests start), age files written by the real `age` tool, and the
//! promise that no secret's bytes land in a strata file, in `STRATA_STATE` or in any
//! human-facing output without `--reveal`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::*;

/// A value no test shares with another (the kernel keyring is shared by every test).
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos:x}-{}-SECRET", std::process::id())
}

/// `strata ARGS` with `value` on standard input.
#[track_caller]
fn with_stdin(w: &World, rel: &str, args: &[&str], value: &[u8]) -> Output {
    let input = w.scratch("stdin");
    fs::write(&input, value).unwrap();
    let mut cmd = w.strata_command(rel, args);
    cmd.stdin(Stdio::from(fs::File::open(&input).unwrap()));
    w.finish(cmd, args)
}

/// Every regular file under strata's config, state and data directories.
fn strata_files(w: &World) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk(&e.path(), out);
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    let mut out = Vec::new();
    for d in [w.config_dir(), w.state_dir(), w.data_dir()] {
        walk(&d, &mut out);
    }
    out
}

#[track_caller]
fn assert_on_no_disk(w: &World, secret: &str) {
    for f in strata_files(w) {
        assert!(
            !contains(&fs::read(&f).unwrap(), secret.as_bytes()),
            "the secret is in {}",
            f.display()
        );
    }
}

/// The kernel keyring holds strata's entry for `name` of session `id` in world `w`.
fn in_kernel_keyring(w: &World, id: &str, name: &str) -> bool {
    let account = strata_env::secrets::account(
        &strata_env::secrets::install_id(&w.state_dir()),
        &format!("session/{id}"),
        name,
    );
    Command::new("keyctl")
        .args(["search", "@u", "user", &format!("strata:{account}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("keyctl (Debian package keyutils) must be installed")
        .success()
}

fn kernel_world() -> World {
    World::new()
        .env("STRATA_SESSION", "work")
        .env("STRATA_SECRETS_STORE", "keyutils")
}

/// `name` has the secret `value` in `sh` at `label`; tcsh's hook reads strata's code from a
/// file, and a secret never goes into one: there it is left out, with a line that says why.
fn assert_secret_reached(r: &ShellRun, sh: Shell, label: &str, name: &str, value: &str) {
    if sh == Tcsh {
        r.assert_unset(label, name);
        let said = String::from_utf8_lossy(&r.out.stderr).into_owned();
        assert!(
            said.contains(&format!("{name} is a secret")),
            "{}",
            r.describe()
        );
    } else {
        r.assert_set(label, name, value);
    }
}

per_shell! {
    fn keyring_secret_reaches_the_shell_and_nothing_else(sh) {
        let token = unique("ghp");
        let w = kernel_world();
        with_stdin(&w, "", &["set", "--secret", "GITHUB_TOKEN"], format!("{token}\n").as_bytes())
            .success();
        assert!(in_kernel_keyring(&w, "work", "GITHUB_TOKEN"));
        let session = fs::read_to_string(w.state_dir().join("sessions/work.toml")).unwrap();
        assert!(session.contains("GITHUB_TOKEN = \"keyutils\""), "{session}");
        let r = w.run_shell(sh, &[
            prompt(), snap("in"),
            mark("why"), run_strata(&["why", "GITHUB_TOKEN"]),
            mark("show"), run_strata(&["session", "show"]),
            mark("status"), run_strata(&["status"]),
            mark("reveal"), run_strata(&["why", "--reveal", "GITHUB_TOKEN"]),
        ]);
        // The trailing newline `echo`/a terminal adds is not part of the value.
        assert_secret_reached(&r, sh, "in", "GITHUB_TOKEN", &token);
        let state = r.var("in", "STRATA_STATE").expect("the hook ran");
        assert!(!contains(state, token.as_bytes()), "the secret is in STRATA_STATE");
        for label in ["why", "show", "status"] {
            assert!(!contains(r.stdout_at(label), token.as_bytes()), "{label} shows the secret\n{}", r.describe());
            assert!(!contains(r.stderr_at(label), token.as_bytes()), "{label} says the secret\n{}", r.describe());
        }
        assert!(contains(r.stdout_at("why"), b"********"), "{}", r.describe());
        assert!(contains(r.stdout_at("reveal"), token.as_bytes()), "{}", r.describe());
        assert!(!contains(r.stderr_until("why"), token.as_bytes()), "the change line says the secret");
        assert_on_no_disk(&w, &token);
        w.strata(&["unset", "GITHUB_TOKEN"]).success();
        assert!(!in_kernel_keyring(&w, "work", "GITHUB_TOKEN"), "unset leaves it in the keyring");
    }

    fn exec_only_secret_never_reaches_the_shell(sh) {
        let key = unique("deploy");
        let w = kernel_world();
        with_stdin(&w, "", &["set", "--secret", "--exec-only", "DEPLOY_KEY"], key.as_bytes()).success();
        let out = w.scratch("exec-out");
        let r = w.run_shell(sh, &[
            prompt(), snap("in"),
            raw(format!(
                "strata exec -- sh -c 'printf %s \"$DEPLOY_KEY\" > {}'",
                out.display()
            )),
            mark("env"), run_strata(&["env"]),
        ]);
        r.assert_unset("in", "DEPLOY_KEY");
        assert_eq!(fs::read_to_string(&out).unwrap(), key);
        assert!(!contains(r.stdout_at("env"), key.as_bytes()), "strata env gives an exec-only secret to a shell");
        assert_on_no_disk(&w, &key);
    }

    fn expired_secret_leaves_the_shell_and_the_keyring(sh) {
        let token = unique("short");
        let w = kernel_world();
        with_stdin(&w, "", &["set", "--secret", "--ttl", "3s", "SHORT"], token.as_bytes()).success();
        // TTLs are whole seconds: wait for the clock, not for a racy window (3 s: a shell
        // such as xonsh takes most of one to start).
        let r = w.run_shell(sh, &[prompt(), snap("in"), raw(sh.cmd(&["sleep", "4.2"])), prompt(), snap("later")]);
        assert_secret_reached(&r, sh, "in", "SHORT", &token);
        r.assert_unset("later", "SHORT");
        assert!(!in_kernel_keyring(&w, "work", "SHORT"), "an expired secret stays in the keyring");
        let session = fs::read_to_string(w.state_dir().join("sessions/work.toml")).unwrap();
        assert!(!session.contains("SHORT"), "{session}");
    }
}

#[test]
fn a_ttl_is_also_a_kernel_timeout() {
    let w = kernel_world();
    with_stdin(
        &w,
        "",
        &["set", "--secret", "--ttl", "8h", "TOKEN"],
        b"t0ken",
    )
    .success();
    let account = strata_env::secrets::account(
        &strata_env::secrets::install_id(&w.state_dir()),
        "session/work",
        "TOKEN",
    );
    let keys = fs::read_to_string("/proc/keys").unwrap();
    let line = keys
        .lines()
        .find(|l| l.ends_with(&format!("strata:{account}: 5")))
        .unwrap_or_else(|| panic!("no key for {account} in /proc/keys:\n{keys}"));
    // /proc/keys gives the time left (e.g. `8h`) where a key without one says `perm`.
    let expiry = line.split_whitespace().nth(3).unwrap();
    assert!(expiry == "8h" || expiry == "7h", "{line}");
    w.strata(&["session", "end"]).success();
    assert!(
        !in_kernel_keyring(&w, "work", "TOKEN"),
        "session end leaves the secret"
    );
}

#[test]
fn the_value_never_comes_from_the_command_line() {
    let w = kernel_world();
    w.strata(&["set", "--secret", "TOKEN=abc"])
        .code_is(1)
        .stderr_contains("comes from standard input, never the command line")
        .stderr_contains("printf %s \"$VALUE\" | strata set --secret TOKEN");
    with_stdin(&w, "", &["set", "--secret", "TOKEN"], b"")
        .code_is(1)
        .stderr_contains("no value for TOKEN");
    assert!(!w.state_dir().join("sessions/work.toml").exists());
}

#[test]
fn no_keyring_is_a_clear_error_and_no_file() {
    let token = unique("nowhere");
    let w = World::new()
        .env("STRATA_SESSION", "work")
        .env("STRATA_SECRETS_STORE", "secret-service")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    with_stdin(&w, "", &["set", "--secret", "TOKEN"], token.as_bytes())
        .code_is(1)
        .stderr_contains("the Secret Service is not available: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)");
    assert_on_no_disk(&w, &token);
    assert!(!w.state_dir().join("sessions/work.toml").exists());
}

#[test]
fn dir_and_context_secrets_live_in_the_keyring_too() {
    let token = unique("dirtok");
    let w = kernel_world()
        .dir_config("p", "[env]\nPLAIN = \"1\"\n")
        .allow("p");
    with_stdin(
        &w,
        "p",
        &["set", "--dir", "--secret", "API_TOKEN"],
        token.as_bytes(),
    )
    .success();
    let file = fs::read_to_string(w.path("p/.strata.toml")).unwrap();
    assert!(
        file.contains("[secrets.keyring]") && file.contains("API_TOKEN = \"keyutils\""),
        "{file}"
    );
    let out = w
        .strata_in("p", &["get", "API_TOKEN"])
        .success()
        .stdout_str();
    assert_eq!(out.trim_end(), token);
    // Still allowed: strata's own edit keeps the trust it had.
    let status = w.strata_in("p", &["status"]).success().stdout_str();
    assert!(
        status.contains("applied") && !status.contains("not allowed"),
        "{status}"
    );
    w.strata(&["context", "create", "prod"]).success();
    let ctx_token = unique("ctxtok");
    with_stdin(
        &w,
        "",
        &["set", "--context=prod", "--secret", "DB_PASSWORD"],
        ctx_token.as_bytes(),
    )
    .success();
    let got = w
        .strata(&["--context", "prod", "get", "DB_PASSWORD"])
        .success()
        .stdout_str();
    assert_eq!(got.trim_end(), ctx_token);
    let shown = w
        .strata(&["context", "show", "prod"])
        .success()
        .stdout_str();
    assert!(!shown.contains(&ctx_token), "{shown}");
    assert_on_no_disk(&w, &token);
    assert_on_no_disk(&w, &ctx_token);
    w.strata_in("p", &["unset", "--dir", "API_TOKEN"]).success();
    w.strata_in("p", &["get", "API_TOKEN"]).code_is(1);
}

#[test]
fn a_file_can_mask_a_plain_value() {
    let w = World::new()
        .dir_config("p", "[env]\nDB_PASSWORD = \"plain-but-private\"\nURL = \"db://u:${DB_PASSWORD}@h\"\n[secrets]\nmask = [\"DB_PASSWORD\"]\n")
        .allow("p");
    let why = w
        .strata_in("p", &["why", "DB_PASSWORD"])
        .success()
        .stdout_str();
    assert!(
        !why.contains("plain-but-private") && why.contains("********"),
        "{why}"
    );
    // A value built from a secret is one too.
    let why = w.strata_in("p", &["why", "URL"]).success().stdout_str();
    assert!(!why.contains("plain-but-private"), "{why}");
    let env = w.strata_in("p", &["env"]).success().stdout_str();
    assert!(
        env.contains("plain-but-private"),
        "machine output carries the value: {env}"
    );
}

// ---- the Secret Service: gnome-keyring on a session bus of the test's own ----

/// A D-Bus session bus with gnome-keyring's Secret Service unlocked on it, for one world.
struct SecretService {
    address: String,
    pids: Vec<i32>,
}

impl SecretService {
    fn start(w: &World) -> SecretService {
        let runtime = w.root().join("runtime");
        fs::create_dir_all(&runtime).unwrap();
        fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let out = w
            .command("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .env("XDG_RUNTIME_DIR", &runtime)
            .output()
            .expect("dbus-daemon (Debian package dbus) must be installed");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        let address = lines
            .next()
            .expect("dbus-daemon printed its address")
            .to_string();
        let bus_pid: i32 = lines
            .next()
            .expect("dbus-daemon printed its pid")
            .trim()
            .parse()
            .unwrap();
        let mut keyring = w
            .command("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring) must be installed");
        use std::io::Write;
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"test-password")
            .unwrap();
        assert!(
            keyring.wait().unwrap().success(),
            "gnome-keyring-daemon --unlock failed"
        );
        let mut pids = vec![bus_pid];
        // The daemon forked itself; find it by its bus (it is the one with our runtime dir).
        if let Ok(found) = Command::new("pgrep")
            .args(["-f", "gnome-keyring-daemon"])
            .output()
        {
            for p in String::from_utf8_lossy(&found.stdout).lines() {
                if let Ok(pid) = p.trim().parse::<i32>() {
                    let environ = fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
                    if contains(&environ, address.as_bytes()) {
                        pids.push(pid);
                    }
                }
            }
        }
        SecretService { address, pids }
    }

    /// `secret-tool search` for strata's entries: what an independent client sees.
    fn items(&self, w: &World) -> String {
        let out = w
            .command("secret-tool")
            .args(["search", "--all", "service", "strata"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("secret-tool (Debian package libsecret-tools) must be installed");
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for pid in &self.pids {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

per_shell! {
    fn secret_service_secret_reaches_the_shell_and_nothing_else(sh) {
        let token = unique("ss");
        let w = World::new().env("STRATA_SESSION", "work");
        let ss = SecretService::start(&w);
        let w = w.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
        // auto: the Secret Service answers, so it is chosen.
        with_stdin(&w, "", &["set", "--secret", "GITHUB_TOKEN"], token.as_bytes()).success();
        let session = fs::read_to_string(w.state_dir().join("sessions/work.toml")).unwrap();
        assert!(session.contains("GITHUB_TOKEN = \"secret-service\""), "{session}");
        assert!(ss.items(&w).contains("session/work/GITHUB_TOKEN"), "{}", ss.items(&w));
        let r = w.run_shell(sh, &[
            prompt(), snap("in"),
            mark("show"), run_strata(&["session", "show"]),
        ]);
        assert_secret_reached(&r, sh, "in", "GITHUB_TOKEN", &token);
        assert!(!contains(r.var("in", "STRATA_STATE").unwrap(), token.as_bytes()));
        assert!(!contains(r.stdout_at("show"), token.as_bytes()), "{}", r.describe());
        assert!(contains(r.stdout_at("show"), b"secret in the Secret Service"), "{}", r.describe());
        assert_on_no_disk(&w, &token);
        w.strata(&["session", "end"]).success();
        assert!(!ss.items(&w).contains("session/work/GITHUB_TOKEN"), "session end leaves it: {}", ss.items(&w));
    }
}

// ---- age files written by the real age tool ----

/// An identity in strata's default identity file; returns its recipient.
fn age_identity(w: &World) -> String {
    let file = w.config_dir().join("identities.txt");
    fs::create_dir_all(w.config_dir()).unwrap();
    fs::set_permissions(
        w.config_dir(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&file)
        .output()
        .expect("age-keygen (Debian package age) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .expect("age-keygen prints the public key")
        .to_string()
}

/// `age` encrypting `plain` to `recipients` (`-r`/`-R` arguments) into `out`.
fn age_encrypt(args: &[&str], plain: &[u8], out: &Path) {
    let mut child = Command::new("age")
        .args(args)
        .arg("-o")
        .arg(out)
        .stdin(Stdio::piped())
        .spawn()
        .expect("age (Debian package age) must be installed");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(plain).unwrap();
    assert!(child.wait().unwrap().success());
}

fn age_decrypt(identity: &Path, file: &Path) -> Vec<u8> {
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

per_shell! {
    fn age_files_from_the_age_tool_load_armored_and_binary(sh) {
        let w = World::new();
        let recipient = age_identity(&w);
        let pw = unique("db");
        let armored = w.path("p/.env.age");
        let binary = w.path("p/extra.env.age");
        fs::create_dir_all(w.path("p")).unwrap();
        age_encrypt(&["-a", "-r", &recipient], format!("DB_PASSWORD={pw}\n").as_bytes(), &armored);
        age_encrypt(&["-r", &recipient], b"EXTRA=two words\n", &binary);
        let w = w
            .dir_config("p", "[dotenv]\nfiles = [\".env.age\", \"extra.env.age\"]\n[env]\nURL = \"db://app:${DB_PASSWORD}@db\"\n")
            .allow("p");
        let r = w.run_shell(sh, &[
            cd("p"), prompt(), snap("in"),
            mark("why"), run_strata(&["why", "URL"]),
        ]);
        assert_secret_reached(&r, sh, "in", "DB_PASSWORD", &pw);
        assert_secret_reached(&r, sh, "in", "EXTRA", "two words");
        assert_secret_reached(&r, sh, "in", "URL", &format!("db://app:{pw}@db"));
        assert!(!contains(r.stdout_at("why"), pw.as_bytes()), "{}", r.describe());
        assert!(!contains(r.stderr_until("why"), pw.as_bytes()), "{}", r.describe());
        assert_on_no_disk(&w, &pw);
    }
}

#[test]
fn an_ssh_key_is_an_identity_as_for_the_age_tool() {
    let w = World::new();
    let key = w.home().join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (Debian package openssh-client) must be installed");
    assert!(out.status.success());
    fs::create_dir_all(w.path("p")).unwrap();
    age_encrypt(
        &["-R", key.with_extension("pub").to_str().unwrap()],
        b"FROM_SSH=yes\n",
        &w.path("p/.env.age"),
    );
    let w = w
        .dir_config("p", "[dotenv]\nfiles = [\".env.age\"]\n")
        .allow("p")
        .env("STRATA_SECRETS_IDENTITIES", key.to_str().unwrap());
    let out = w
        .strata_in("p", &["get", "FROM_SSH"])
        .success()
        .stdout_str();
    assert_eq!(out.trim_end(), "yes");
}

#[test]
fn a_file_nobody_can_decrypt_is_one_warning_naming_it() {
    let w = World::new();
    age_identity(&w);
    fs::create_dir_all(w.path("p")).unwrap();
    // Encrypted to someone else.
    let other = w.scratch("other.txt");
    Command::new("age-keygen")
        .arg("-o")
        .arg(&other)
        .output()
        .unwrap();
    let theirs = String::from_utf8_lossy(&fs::read(&other).unwrap())
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .unwrap();
    age_encrypt(&["-r", &theirs], b"X=1\n", &w.path("p/.env.age"));
    let w = w
        .dir_config("p", "[dotenv]\nfiles = [\".env.age\"]\n[env]\nOK = \"1\"\n")
        .allow("p");
    let out = w.strata_in("p", &["export", "bash"]);
    out.success();
    let err = out.stderr_str();
    assert_eq!(err.matches("cannot decrypt").count(), 1, "{err}");
    assert!(
        err.contains(".env.age")
            && err.contains("none of your age identities is among its recipients"),
        "{err}"
    );
    assert!(
        out.stdout_str().contains("OK=1"),
        "the rest of the file applies"
    );
}

#[test]
fn secret_edit_reencrypts_for_the_recipients_and_leaves_no_plaintext() {
    let w = World::new();
    let me = age_identity(&w);
    let teammate_file = w.scratch("teammate.txt");
    Command::new("age-keygen")
        .arg("-o")
        .arg(&teammate_file)
        .output()
        .unwrap();
    let teammate = String::from_utf8_lossy(&fs::read(&teammate_file).unwrap())
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .unwrap();
    fs::create_dir_all(w.path("p")).unwrap();
    age_encrypt(
        &["-a", "-r", &me],
        b"OLD=value-SECRET\n",
        &w.path("p/.env.age"),
    );
    let w = w
        .dir_config(
            "p",
            &format!("[dotenv]\nfiles = [\".env.age\"]\n[secrets]\nrecipients = [\"{me}\", \"{teammate}\"]\n"),
        )
        .allow("p");
    let editor = w.scratch("editor.sh");
    let seen = w.scratch("editor-saw");
    fs::write(
        &editor,
        format!(
            "#!/bin/sh\nstat -c %a \"$(dirname \"$1\")\" \"$1\" > {}\nprintf 'NEW=added-SECRET\\n' >> \"$1\"\n",
            seen.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let runtime = w.root().join("runtime");
    fs::create_dir_all(&runtime).unwrap();
    let w = w
        .env("EDITOR", editor.to_str().unwrap())
        .env("XDG_RUNTIME_DIR", runtime.to_str().unwrap());
    w.strata_in("p", &["secret", "edit", ".env.age"])
        .success()
        .stderr_contains("to 2 recipients");
    assert_eq!(
        fs::read_to_string(&seen).unwrap(),
        "700\n600\n",
        "the plaintext is private"
    );
    let ciphertext = fs::read(w.path("p/.env.age")).unwrap();
    assert!(
        ciphertext.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"),
        "armored stays armored"
    );
    for who in [w.config_dir().join("identities.txt"), teammate_file] {
        assert_eq!(
            age_decrypt(&who, &w.path("p/.env.age")),
            b"OLD=value-SECRET\nNEW=added-SECRET\n"
        );
    }
    assert_eq!(
        fs::read_dir(runtime.join("strata")).unwrap().count(),
        0,
        "plaintext left behind"
    );
    assert_on_no_disk(&w, "added-SECRET");
    let got = w.strata_in("p", &["get", "NEW"]).success().stdout_str();
    assert_eq!(got.trim_end(), "added-SECRET");
}

#[test]
fn secret_edit_killed_mid_edit_leaves_nothing_after_the_next_run() {
    let w = World::new();
    let me = age_identity(&w);
    fs::create_dir_all(w.path("p")).unwrap();
    let w = w
        .dir_config("p", &format!("[secrets]\nrecipients = [\"{me}\"]\n"))
        .allow("p");
    let runtime = w.root().join("runtime");
    fs::create_dir_all(&runtime).unwrap();
    // An editor that kills strata (its parent) outright, as a crash would.
    let killer = w.scratch("killer.sh");
    fs::write(
        &killer,
        "#!/bin/sh\nprintf 'X=crash-SECRET\\n' >> \"$1\"\nkill -9 $PPID\n",
    )
    .unwrap();
    fs::set_permissions(&killer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let w = w.env("XDG_RUNTIME_DIR", runtime.to_str().unwrap());
    let args = ["secret", "edit", ".env.age"];
    let mut cmd = w.strata_command("p", &args);
    cmd.env("EDITOR", &killer);
    let out = w.finish(cmd, &args);
    assert_eq!(out.code(), -9, "strata was killed: {}", out.describe());
    assert_eq!(
        fs::read_dir(runtime.join("strata")).unwrap().count(),
        1,
        "the crash left its directory"
    );
    // The next edit (here one that changes nothing) removes what the dead one left.
    let w = w.env("EDITOR", "true");
    w.strata_in("p", &["secret", "edit", ".env.age"]).success();
    assert_eq!(
        fs::read_dir(runtime.join("strata")).unwrap().count(),
        0,
        "plaintext left behind"
    );
    assert!(
        !w.path("p/.env.age").exists()
            || !contains(&fs::read(w.path("p/.env.age")).unwrap(), b"crash-SECRET")
    );
}

#[test]
fn secret_edit_refuses_recipients_from_an_unreviewed_file() {
    let w = World::new();
    age_identity(&w);
    let w = w.dir_config("p", "[secrets]\nrecipients = [\"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\"]\n");
    w.strata_in("p", &["secret", "edit", ".env.age"])
        .code_is(1)
        .stderr_contains("is not allowed, and its recipients decide who can read what you encrypt");
    assert!(!w.path("p/.env.age").exists());
}

#[test]
fn gha_masks_a_keyring_secret_and_a_masked_file_value() {
    let token = unique("ghp");
    let w = kernel_world()
        .dir_config(
            "p",
            "[env]\nDB_PASSWORD = \"plain-but-private\"\nPUBLIC = \"visible\"\n[secrets]\nmask = [\"DB_PASSWORD\"]\n",
        )
        .allow("p");
    with_stdin(
        &w,
        "",
        &["set", "--secret", "GITHUB_TOKEN"],
        format!("{token}\n").as_bytes(),
    )
    .success();
    let env_file = w.scratch("github_env");
    let path_file = w.scratch("github_path");
    let mut cmd = w.strata_command("p", &["env", "--format", "gha"]);
    cmd.env("GITHUB_ENV", &env_file)
        .env("GITHUB_PATH", &path_file);
    let out = w.finish(cmd, &["env", "--format", "gha"]);
    out.success();
    // The runner learns every secret value before anything of the job can print it, and only
    // those: a mask of a public value would hide it in every later log line.
    let stdout = out.stdout_str();
    assert!(
        stdout.contains(&format!("::add-mask::{token}\n")),
        "{}",
        out.describe()
    );
    assert!(
        stdout.contains("::add-mask::plain-but-private\n"),
        "{}",
        out.describe()
    );
    assert!(!stdout.contains("visible"), "{}", out.describe());
    assert!(
        !contains(&out.stderr, token.as_bytes()),
        "{}",
        out.describe()
    );
    // The job's later steps do get the values (that is what $GITHUB_ENV is for).
    let written = fs::read(&env_file).unwrap();
    assert!(contains(&written, token.as_bytes()));
    w.strata(&["unset", "GITHUB_TOKEN"]).success();
}

#[test]
fn an_agent_shell_gets_a_keyring_secret_and_no_file_holds_it() {
    let token = unique("agent");
    let w = kernel_world()
        .dir_config("p", "[env]\nA = \"1\"\n")
        .allow("p");
    with_stdin(
        &w,
        "",
        &["set", "--secret", "AGENT_TOKEN"],
        token.as_bytes(),
    )
    .success();
    let env_file = w.root().join("agent/env.bash");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    w.strata(&["hook", "bash", "--env-file", env_file.to_str().unwrap()])
        .success();
    let agent = || {
        let mut cmd = w.command("bash");
        cmd.env("BASH_ENV", &env_file)
            .env("PWD", w.path("p"))
            .current_dir(w.path("p"))
            .args(["-c", r#"printf '%s|%s' "${AGENT_TOKEN-}" "$A""#]);
        let out = run_with_timeout(cmd, "bash -c".into());
        out.success();
        out.stdout_str()
    };
    for _ in 0..2 {
        assert_eq!(agent(), format!("{token}|1"));
    }
    // The agent cache keeps no entry while a secret applies: nothing on disk holds the value.
    assert_on_no_disk(&w, &token);
    w.strata(&["unset", "AGENT_TOKEN"]).success();
    assert_eq!(agent(), "|1");
    assert_eq!(agent(), "|1");
    let index = fs::read_to_string(w.state_dir().join("agent/index.bash")).unwrap();
    assert!(
        index.contains(".bash"),
        "without secrets the cache is used again:\n{index}"
    );
}
