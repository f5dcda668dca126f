//! ListConnectors: the kinds this server knows and what each needs.

use engine::Engine;
use proto::v1 as pb;

use crate::convert::districts::connectors_to_proto;

pub(super) fn list(engine: &Engine) -> pb::ListConnectorsResponse {
    connectors_to_proto(engine.registry())
}
