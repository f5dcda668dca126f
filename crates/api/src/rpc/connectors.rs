//! ListConnectors: the kinds this server knows and what each needs; TestConnection: a
//! district's connector check.

use engine::Engine;
use proto::v1 as pb;

use tonic::Status;

use crate::convert::districts::{check_to_proto, connectors_to_proto};
use crate::status::from_engine;

pub(super) fn list(engine: &Engine) -> pb::ListConnectorsResponse {
    connectors_to_proto(engine.registry())
}

pub(super) async fn test(
    engine: &Engine,
    request: pb::TestConnectionRequest,
) -> Result<pb::TestConnectionResponse, Status> {
    let id = super::district_id(&request.district_id)?;
    let report = engine
        .districts()
        .test_connection(&id)
        .await
        .map_err(from_engine)?;
    Ok(check_to_proto(&report))
}
