//! Replays every file of `corpus/<target>/` through the target's checks, on stable Rust:
//! `cargo test --manifest-path tests/fuzz/Cargo.toml`. Crashes the fuzzer finds are added to
//! the corpus, so this is also the regression test for each of them.

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    for f in &files {
        let data = std::fs::read(f).unwrap();
        if let Err(e) = std::panic::catch_unwind(|| check(&data)) {
            std::panic::resume_unwind(Box::new(format!(
                "{} failed on {}: {:?}",
                target,
                f.display(),
                e.downcast_ref::<String>()
                    .map(String::as_str)
                    .or(e.downcast_ref::<&str>().copied())
            )));
        }
    }
    eprintln!("{target}: {} corpus files", files.len());
}

#[test]
fn layer_file_corpus() {
    replay("layer_file", strata_env_fuzz::layer_file);
}

#[test]
fn dotenv_corpus() {
    replay("dotenv", strata_env_fuzz::dotenv);
}

#[test]
fn state_decode_corpus() {
    replay("state_decode", strata_env_fuzz::state_decode);
}

#[test]
fn export_state_corpus() {
    replay("export_state", strata_env_fuzz::export_state);
}
