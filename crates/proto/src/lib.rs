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

pub mod codec {
    //! The protobuf codec of the generated services: prost's, except that a message that
    //! does not decode is the caller's error — `INVALID_ARGUMENT`, in words that name no
    //! internal type — rather than `INTERNAL`.

    use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
    use tonic::Status;
    use tonic_prost::ProstCodec;

    /// Prost encoding and decoding, with malformed input answered `INVALID_ARGUMENT`.
    #[derive(Debug)]
    pub struct Protobuf<T, U>(ProstCodec<T, U>);

    impl<T, U> Default for Protobuf<T, U> {
        fn default() -> Self {
            Self(ProstCodec::default())
        }
    }

    impl<T, U> Codec for Protobuf<T, U>
    where
        T: prost::Message + Send + 'static,
        U: prost::Message + Default + Send + 'static,
    {
        type Encode = T;
        type Decode = U;
        type Encoder = <ProstCodec<T, U> as Codec>::Encoder;
        type Decoder = MalformedIsInvalid<<ProstCodec<T, U> as Codec>::Decoder>;

        fn encoder(&mut self) -> Self::Encoder {
            self.0.encoder()
        }

        fn decoder(&mut self) -> Self::Decoder {
            MalformedIsInvalid(self.0.decoder())
        }
    }

    /// A decoder whose decode errors become `INVALID_ARGUMENT`.
    #[derive(Debug)]
    pub struct MalformedIsInvalid<D>(D);

    impl<D: Decoder<Error = Status>> Decoder for MalformedIsInvalid<D> {
        type Item = D::Item;
        type Error = Status;

        fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
            self.0.decode(buf).map_err(|_| {
                Status::invalid_argument(
                    "the message is not valid protobuf for this method \
                     (a field has the wrong wire type, length or encoding)",
                )
            })
        }

        fn buffer_settings(&self) -> BufferSettings {
            self.0.buffer_settings()
        }
    }
}
