//! Generates the gRPC code and the descriptor set (for reflection) from `proto/`, with the
//! `protoc` that ships inside the `protoc-bin-vendored` crate, so a fresh machine needs no
//! system package.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    // google/protobuf/*.proto (Timestamp) ship with the vendored protoc.
    let well_known = protoc_bin_vendored::include_path()?;

    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "rostersync/v1/access.proto",
        "rostersync/v1/districts.proto",
        "rostersync/v1/roster.proto",
        "rostersync/v1/runs.proto",
        "rostersync/v1/sync_service.proto",
    ];
    let paths: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("rostersync_descriptor.bin"))
        .btree_map(".")
        .codec_path("crate::codec::Protobuf")
        .compile_protos(&paths, &[root, well_known])?;
    Ok(())
}
