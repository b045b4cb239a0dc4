//! libFuzzer target `wire`: see [`fedflow_fuzz::wire`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedflow_fuzz::wire(data));
