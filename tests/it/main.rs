//! strata's black-box integration tests, as one test crate: each module is one behaviour area
//! (`cargo test shell_hook::` runs one, `cargo test fast_path::no_op` one test), and all of
//! them share the harness in `support` (built once, not once per area).
//!
//! `support` comes first so that its `per_shell!` macro is in scope in every module after it.

#[macro_use]
mod support;

mod agent;
mod aliases;
mod bad_input;
mod ci_export;
mod commands;
mod config;
mod context_guard;
mod contexts_sessions;
mod crash;
mod crash_state;
mod day_one;
mod declarative;
mod dotenv_compat;
mod fast_path;
mod faults;
mod harness;
mod hostile;
mod import;
mod pause;
mod prompt_hook;
mod quoting_prop;
mod readme;
mod secrets;
mod security;
mod shell_hook;
mod trust;
