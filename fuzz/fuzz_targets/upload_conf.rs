//! libFuzzer target `upload_conf`: see [`fedflow_fuzz::upload_conf`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedflow_fuzz::upload_conf(data));
