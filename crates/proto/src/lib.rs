//! The gRPC contract, generated from `proto/rostersync/v1/*.proto` — the only source of
//! generated code — and the encoded descriptor set that reflection serves.
//!
//! Must never: know the domain model; conversions live in the `api` crate.

#![allow(missing_debug_implementations)]
#![allow(clippy::all, clippy::pedantic, clippy::unwrap_used)]

pub mod v1 {
    tonic::include_proto!("rostersync.v1");
}

/// The encoded `FileDescriptorSet` of every rostersync proto file, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("rostersync_descriptor");
