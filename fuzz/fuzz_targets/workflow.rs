#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| threatscan::fuzz::run("workflow", data));
