//! `rostersync.v1.SyncService`: the trait implementation delegates each RPC to the module
//! of its group.

mod connectors;
mod districts;
mod reads;
mod roster_reads;
mod runs;

use engine::Engine;
use model::ids::DistrictId;
use proto::v1 as pb;
use proto::v1::sync_service_server::SyncService;
use tonic::{Request, Response, Status};

use crate::status::invalid_field;

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
        districts::create(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn update_district(
        &self,
        request: Request<pb::UpdateDistrictRequest>,
    ) -> Result<Response<pb::District>, Status> {
        districts::update(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_district(
        &self,
        request: Request<pb::GetDistrictRequest>,
    ) -> Result<Response<pb::District>, Status> {
        districts::get(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_districts(
        &self,
        request: Request<pb::ListDistrictsRequest>,
    ) -> Result<Response<pb::ListDistrictsResponse>, Status> {
        districts::list(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn delete_district(
        &self,
        request: Request<pb::DeleteDistrictRequest>,
    ) -> Result<Response<pb::DeleteDistrictResponse>, Status> {
        districts::delete(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_connectors(
        &self,
        _request: Request<pb::ListConnectorsRequest>,
    ) -> Result<Response<pb::ListConnectorsResponse>, Status> {
        Ok(Response::new(connectors::list(&self.engine)))
    }

    async fn test_connection(
        &self,
        request: Request<pb::TestConnectionRequest>,
    ) -> Result<Response<pb::TestConnectionResponse>, Status> {
        connectors::test(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn start_sync(
        &self,
        request: Request<pb::StartSyncRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        runs::start(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn import_guardians(
        &self,
        request: Request<tonic::Streaming<pb::ImportGuardiansRequest>>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        runs::import(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_sync_run(
        &self,
        request: Request<pb::GetSyncRunRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        runs::get(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_sync_runs(
        &self,
        request: Request<pb::ListSyncRunsRequest>,
    ) -> Result<Response<pb::ListSyncRunsResponse>, Status> {
        runs::list(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    type WatchSyncRunStream = runs::WatchStream;
    type WatchChangesStream = runs::ChangeStream;

    async fn watch_changes(
        &self,
        request: Request<pb::WatchChangesRequest>,
    ) -> Result<Response<Self::WatchChangesStream>, Status> {
        runs::watch_feed(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_changes(
        &self,
        request: Request<pb::ListChangesRequest>,
    ) -> Result<Response<pb::ListChangesResponse>, Status> {
        runs::list_feed(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn watch_sync_run(
        &self,
        request: Request<pb::WatchSyncRunRequest>,
    ) -> Result<Response<Self::WatchSyncRunStream>, Status> {
        runs::watch(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_run_changes(
        &self,
        request: Request<pb::ListRunChangesRequest>,
    ) -> Result<Response<pb::ListRunChangesResponse>, Status> {
        runs::changes(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn approve_sync_run(
        &self,
        request: Request<pb::ApproveSyncRunRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        runs::approve(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn cancel_sync_run(
        &self,
        request: Request<pb::CancelSyncRunRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        runs::cancel(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn spot_sync(
        &self,
        request: Request<pb::SpotSyncRequest>,
    ) -> Result<Response<pb::SpotSyncResponse>, Status> {
        runs::spot_sync(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_student(
        &self,
        request: Request<pb::GetStudentRequest>,
    ) -> Result<Response<pb::Student>, Status> {
        reads::student(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_guardian(
        &self,
        request: Request<pb::GetGuardianRequest>,
    ) -> Result<Response<pb::Guardian>, Status> {
        reads::guardian(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_student_links(
        &self,
        request: Request<pb::ListStudentLinksRequest>,
    ) -> Result<Response<pb::ListStudentLinksResponse>, Status> {
        reads::student_links(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_staff(
        &self,
        request: Request<pb::GetStaffRequest>,
    ) -> Result<Response<pb::Staff>, Status> {
        roster_reads::staff(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_classroom(
        &self,
        request: Request<pb::GetClassroomRequest>,
    ) -> Result<Response<pb::Classroom>, Status> {
        roster_reads::classroom(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_student_classrooms(
        &self,
        request: Request<pb::ListStudentClassroomsRequest>,
    ) -> Result<Response<pb::ListStudentClassroomsResponse>, Status> {
        roster_reads::student_classrooms(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_source_records(
        &self,
        request: Request<pb::GetSourceRecordsRequest>,
    ) -> Result<Response<pb::SourceRecords>, Status> {
        roster_reads::source_records(&self.engine, request.into_inner())
            .await
            .map(Response::new)
    }
}
