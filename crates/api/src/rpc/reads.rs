//! Support reads: GetStudent, GetGuardian, ListStudentLinks.

use std::collections::HashMap;

use engine::Engine;
use model::ids::{DistrictId, GuardianId, SourceId, StudentId};
use proto::v1 as pb;
use tonic::Status;

use super::district_id;
use crate::convert::roster::{guardian_to_proto, link_to_proto, student_to_proto};
use crate::status::{from_engine, from_store, invalid_field};

/// NOT_FOUND for the district itself, before any record of it is looked up, so the
/// caller can tell an unknown district from an unknown student.
pub(super) async fn known_district(engine: &Engine, raw: &str) -> Result<DistrictId, Status> {
    let id = district_id(raw)?;
    engine
        .districts()
        .get_district(&id)
        .await
        .map_err(from_engine)?;
    Ok(id)
}

/// A request's `oneof` of our id or the source's id, as (ours, source), either empty.
macro_rules! either {
    ($value:expr, $module:ident :: $oneof:ident, $ours:ident) => {
        match $value {
            Some(pb::$module::$oneof::$ours(x)) => (x, String::new()),
            Some(pb::$module::$oneof::SourceId(x)) => (String::new(), x),
            None => (String::new(), String::new()),
        }
    };
}
pub(super) use either;

/// Exactly one of our id or the source's id.
pub(super) enum Key<T> {
    Ours(T),
    Source(SourceId),
}

pub(super) fn key<T: std::str::FromStr<Err = model::FieldError>>(
    ours: &str,
    source: &str,
    field: &str,
) -> Result<Key<T>, Status> {
    match (ours.trim(), source.trim()) {
        ("", "") => Err(Status::invalid_argument(format!(
            "{field}: is required (or source_id)"
        ))),
        (ours, "") => ours.parse().map(Key::Ours).map_err(invalid_field),
        ("", source) => {
            model::limits::text("source_id", source, model::limits::SOURCE_ID)
                .map_err(invalid_field)?;
            Ok(Key::Source(SourceId::new(source)))
        }
        _ => Err(Status::invalid_argument(format!(
            "{field}: give {field} or source_id, not both"
        ))),
    }
}

pub(super) async fn student(
    engine: &Engine,
    request: pb::GetStudentRequest,
) -> Result<pb::Student, Status> {
    let pb::GetStudentRequest {
        district_id,
        student,
    } = request;
    let (student_id, source_id) = either!(student, get_student_request::Student, StudentId);
    let key = key::<StudentId>(&student_id, &source_id, "student_id")?;
    let district = known_district(engine, &district_id).await?;
    let store = engine.store();
    let student = match key {
        Key::Ours(id) => store.get_student(&district, id).await,
        Key::Source(source) => store.find_student_by_source(&district, &source).await,
    }
    .map_err(from_store)?;
    Ok(student_to_proto(&district, &student))
}

pub(super) async fn guardian(
    engine: &Engine,
    request: pb::GetGuardianRequest,
) -> Result<pb::Guardian, Status> {
    let pb::GetGuardianRequest {
        district_id,
        guardian,
    } = request;
    let (guardian_id, source_id) = either!(guardian, get_guardian_request::Guardian, GuardianId);
    let key = key::<GuardianId>(&guardian_id, &source_id, "guardian_id")?;
    let district = known_district(engine, &district_id).await?;
    let store = engine.store();
    let guardian = match key {
        Key::Ours(id) => store.get_guardian(&district, id).await,
        Key::Source(source) => store.find_guardian_by_source(&district, &source).await,
    }
    .map_err(from_store)?;
    Ok(guardian_to_proto(&district, &guardian))
}

pub(super) async fn student_links(
    engine: &Engine,
    request: pb::ListStudentLinksRequest,
) -> Result<pb::ListStudentLinksResponse, Status> {
    let pb::ListStudentLinksRequest {
        district_id,
        student_id,
        page_size,
        page_token,
    } = request;
    let size = crate::page::size(page_size, 100, 1000)?;
    let student_id: StudentId = match student_id.trim() {
        "" => return Err(Status::invalid_argument("student_id: is required")),
        raw => raw.parse().map_err(invalid_field)?,
    };
    let district = known_district(engine, &district_id).await?;
    let store = engine.store();
    // The student must exist: an empty list would otherwise hide a wrong id.
    store
        .get_student(&district, student_id)
        .await
        .map_err(from_store)?;
    // A student has a handful of links: they are read whole, in guardian order, and
    // paged here.
    let request = format!("links/{district}/{student_id}");
    let after = crate::page::after(&page_token, &request)?;
    let all = store
        .list_student_links(&district, student_id)
        .await
        .map_err(from_store)?;
    let links: Vec<_> = all
        .into_iter()
        .filter(|l| {
            after
                .as_deref()
                .is_none_or(|a| l.guardian_id.to_string().as_str() > a)
        })
        .take(size as usize + 1)
        .collect();
    let ids: Vec<GuardianId> = links.iter().map(|l| l.guardian_id).collect();
    let guardians: HashMap<GuardianId, model::roster::Guardian> = store
        .get_guardians(&district, &ids)
        .await
        .map_err(from_store)?
        .into_iter()
        .map(|g| (g.id, g))
        .collect();
    let mut shown: Vec<pb::StudentLink> = links
        .iter()
        .map(|l| link_to_proto(l, guardians.get(&l.guardian_id)))
        .collect();
    let (n, more) = crate::page::fit(&shown, size);
    shown.truncate(n);
    Ok(pb::ListStudentLinksResponse {
        next_page_token: match (more, n.checked_sub(1).and_then(|i| links.get(i))) {
            (true, Some(last)) => crate::page::token(&request, &last.guardian_id.to_string()),
            _ => String::new(),
        },
        links: shown,
    })
}
