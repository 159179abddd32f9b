#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata_env_fuzz::export_state(data));
