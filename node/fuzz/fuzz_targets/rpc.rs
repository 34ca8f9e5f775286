//! `cargo fuzz run rpc`: see `../tests/fuzz/rpc_target.rs`.
#![no_main]

#[path = "../../tests/fuzz/rpc_target.rs"]
mod rpc_target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| rpc_target::rpc(data));
