fn main() {
    // tonic's code generation needs protoc; the vendored binary works offline.
    if std::env::var_os("PROTOC").is_none() {
        if let Ok(p) = protoc_bin_vendored::protoc_bin_path() {
            std::env::set_var("PROTOC", p);
        }
    }
    println!("cargo:rerun-if-changed=proto/federation.proto");
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_protos(&["proto/federation.proto"], &["proto"])
        .expect("compiling proto/federation.proto");
}
