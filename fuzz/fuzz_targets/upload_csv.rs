//! libFuzzer target `upload_csv`: see [`fedflow_fuzz::upload_csv`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedflow_fuzz::upload_csv(data));
