//! `rostersync.v1.SyncService`: the trait implementation delegates each RPC to the module
//! of its group.

mod connectors;
mod districts;
mod events;
mod keys;
mod reads;
mod review;
mod roster_reads;
mod runs;

use engine::Engine;
use model::ids::DistrictId;
use proto::v1 as pb;
use proto::v1::sync_service_server::SyncService;
use tonic::{Request, Response, Status};

use crate::access;
use crate::status::invalid_field;
use model::access::Ability;

/// The SyncService implementation.
#[derive(Debug, Clone)]
pub struct SyncApi {
    engine: Engine,
}

impl SyncApi {
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

/// Reads the `district_id` field of a request.
pub(crate) fn district_id(raw: &str) -> Result<DistrictId, Status> {
    if raw.trim().is_empty() {
        return Err(Status::invalid_argument("district_id: is required"));
    }
    raw.trim().parse().map_err(invalid_field)
}

#[tonic::async_trait]
impl SyncService for SyncApi {
    async fn create_district(
        &self,
        request: Request<pb::CreateDistrictRequest>,
    ) -> Result<Response<pb::District>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Configure).await?;
        districts::create(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn update_district(
        &self,
        request: Request<pb::UpdateDistrictRequest>,
    ) -> Result<Response<pb::District>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Configure).await?;
        districts::update(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_district(
        &self,
        request: Request<pb::GetDistrictRequest>,
    ) -> Result<Response<pb::District>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        districts::get(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_districts(
        &self,
        request: Request<pb::ListDistrictsRequest>,
    ) -> Result<Response<pb::ListDistrictsResponse>, Status> {
        let (caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        districts::list(&engine, &caller.scope.districts, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn delete_district(
        &self,
        request: Request<pb::DeleteDistrictRequest>,
    ) -> Result<Response<pb::DeleteDistrictResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Configure).await?;
        districts::delete(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_connectors(
        &self,
        request: Request<pb::ListConnectorsRequest>,
    ) -> Result<Response<pb::ListConnectorsResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        Ok(Response::new(connectors::list(&engine)))
    }

    async fn test_connection(
        &self,
        request: Request<pb::TestConnectionRequest>,
    ) -> Result<Response<pb::TestConnectionResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Configure).await?;
        connectors::test(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn test_notification(
        &self,
        request: Request<pb::TestNotificationRequest>,
    ) -> Result<Response<pb::TestNotificationResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Configure).await?;
        events::test(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn start_sync(
        &self,
        request: Request<pb::StartSyncRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Run).await?;
        runs::start(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn import_guardians(
        &self,
        request: Request<tonic::Streaming<pb::ImportGuardiansRequest>>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        let caller = access::caller(&self.engine, &request).await?;
        access::require(&caller, Ability::Run)?;
        runs::import(
            &self.engine.acting_for(&caller),
            &caller,
            request.into_inner(),
        )
        .await
        .map(Response::new)
    }

    async fn get_sync_run(
        &self,
        request: Request<pb::GetSyncRunRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        runs::get(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_sync_runs(
        &self,
        request: Request<pb::ListSyncRunsRequest>,
    ) -> Result<Response<pb::ListSyncRunsResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        runs::list(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    type WatchSyncRunStream = runs::WatchStream;
    type WatchChangesStream = runs::ChangeStream;
    type WatchRunEventsStream = events::EventStream;

    async fn watch_run_events(
        &self,
        request: Request<pb::WatchRunEventsRequest>,
    ) -> Result<Response<Self::WatchRunEventsStream>, Status> {
        let (caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        let guard = request.metadata().clone();
        events::watch(&engine, &caller, request.into_inner())
            .await
            .map(|stream| Response::new(access::guard(&self.engine, &guard, stream)))
    }

    async fn watch_changes(
        &self,
        request: Request<pb::WatchChangesRequest>,
    ) -> Result<Response<Self::WatchChangesStream>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        let guard = request.metadata().clone();
        runs::watch_feed(&engine, request.into_inner())
            .await
            .map(|stream| Response::new(access::guard(&self.engine, &guard, stream)))
    }

    async fn list_changes(
        &self,
        request: Request<pb::ListChangesRequest>,
    ) -> Result<Response<pb::ListChangesResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        runs::list_feed(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn watch_sync_run(
        &self,
        request: Request<pb::WatchSyncRunRequest>,
    ) -> Result<Response<Self::WatchSyncRunStream>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        let guard = request.metadata().clone();
        runs::watch(&engine, request.into_inner())
            .await
            .map(|stream| Response::new(access::guard(&self.engine, &guard, stream)))
    }

    async fn list_run_changes(
        &self,
        request: Request<pb::ListRunChangesRequest>,
    ) -> Result<Response<pb::ListRunChangesResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        runs::changes(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn approve_sync_run(
        &self,
        request: Request<pb::ApproveSyncRunRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Run).await?;
        runs::approve(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn cancel_sync_run(
        &self,
        request: Request<pb::CancelSyncRunRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Run).await?;
        runs::cancel(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn revert_sync_run(
        &self,
        request: Request<pb::RevertSyncRunRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Run).await?;
        runs::revert(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn spot_sync(
        &self,
        request: Request<pb::SpotSyncRequest>,
    ) -> Result<Response<pb::SpotSyncResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::SpotSync).await?;
        runs::spot_sync(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_student(
        &self,
        request: Request<pb::GetStudentRequest>,
    ) -> Result<Response<pb::Student>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        reads::student(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_guardian(
        &self,
        request: Request<pb::GetGuardianRequest>,
    ) -> Result<Response<pb::Guardian>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        reads::guardian(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_student_links(
        &self,
        request: Request<pb::ListStudentLinksRequest>,
    ) -> Result<Response<pb::ListStudentLinksResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        reads::student_links(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn search_roster(
        &self,
        request: Request<pb::SearchRosterRequest>,
    ) -> Result<Response<pb::SearchRosterResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        roster_reads::search(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_staff(
        &self,
        request: Request<pb::GetStaffRequest>,
    ) -> Result<Response<pb::Staff>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        roster_reads::staff(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_classroom(
        &self,
        request: Request<pb::GetClassroomRequest>,
    ) -> Result<Response<pb::Classroom>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        roster_reads::classroom(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_student_classrooms(
        &self,
        request: Request<pb::ListStudentClassroomsRequest>,
    ) -> Result<Response<pb::ListStudentClassroomsResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        roster_reads::student_classrooms(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_source_records(
        &self,
        request: Request<pb::GetSourceRecordsRequest>,
    ) -> Result<Response<pb::SourceRecords>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        roster_reads::source_records(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        let (_caller, engine) = access::admit(&self.engine, &request, Ability::Read).await?;
        keys::audit(&engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        let (caller, engine) = access::admit(&self.engine, &request, Ability::Admin).await?;
        keys::create(&engine, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        let (caller, engine) = access::admit(&self.engine, &request, Ability::Admin).await?;
        keys::list(&engine, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::ApiKey>, Status> {
        let (caller, engine) = access::admit(&self.engine, &request, Ability::Admin).await?;
        keys::revoke(&engine, &caller, request.into_inner())
            .await
            .map(Response::new)
    }
}
