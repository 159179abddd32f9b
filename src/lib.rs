//! strata: keeps a shell's environment in sync with state kept in files.
//!
//! The binary (`src/main.rs`) is a thin wrapper over [`cmd`]. The modules are public so that
//! tests, fuzz targets and benchmarks can reach the parsers and the state codec directly.
//!
//! Data flows one way: `cli` → `cmd` → (`layers` + `store`) → `env_diff` → `shells` (or `ci`,
//! for CI systems and service managers) → stdout. Nothing below `cmd` prints; nothing in
//! `shells` or `ci` knows about files.

pub mod agent;
pub mod ci;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod codec;
pub mod display;
pub mod env_diff;
pub mod files;
pub mod import;
pub mod layers;
pub mod names;
pub mod prompt;
pub mod secrets;
pub mod settings;
pub mod shells;
pub mod state;
pub mod store;
