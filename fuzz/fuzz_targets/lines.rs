//! libFuzzer target `lines`: see [`fedflow_fuzz::lines`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedflow_fuzz::lines(data));
