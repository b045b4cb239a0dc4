//! libFuzzer target `job_conf`: see [`fedflow_fuzz::job_conf`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedflow_fuzz::job_conf(data));
