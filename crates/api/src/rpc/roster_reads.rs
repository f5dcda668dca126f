//! Support reads of the rest of the roster: SearchRoster, GetStaff, GetClassroom,
//! ListStudentClassrooms, and GetSourceRecords (what the SIS sent for a student in the
//! latest pull).

use std::collections::BTreeMap;

use engine::Engine;
use model::ids::{ClassroomId, SourceId, StaffId, StudentId};
use model::roster::EnrollmentRole;
use proto::v1 as pb;
use tonic::Status;

use super::reads::{either, key, known_district, Key};
use crate::convert::roster::{
    classroom_to_proto, school_to_proto, source_record_to_proto, staff_to_proto,
};
use crate::convert::time;
use crate::status::{from_engine, from_store, not_found};
use model::limits::echo;
use model::search::SearchText;
use store::search::{Match, SearchCursor};

/// Pages of a search: 50 by default, at most 500.
const SEARCH_PAGE: (u64, u64) = (50, 500);

pub(super) async fn search(
    engine: &Engine,
    r: pb::SearchRosterRequest,
) -> Result<pb::SearchRosterResponse, Status> {
    let pb::SearchRosterRequest {
        district_id,
        query,
        page_size,
        page_token,
    } = r;
    let size = crate::page::size(page_size, SEARCH_PAGE.0, SEARCH_PAGE.1)?;
    let text = SearchText::parse("query", &query).map_err(crate::status::invalid)?;
    let district = known_district(engine, &district_id).await?;
    let request = format!("search/{district}/{}", query.trim());
    let after = match crate::page::after(&page_token, &request)? {
        Some(key) => Some(SearchCursor::decode(&key).ok_or_else(|| {
            Status::invalid_argument("page_token: is not a token this server gave for this request")
        })?),
        None => None,
    };
    let found = engine
        .reads()
        .search_roster(&district, &text, after.as_ref(), size + 1)
        .await
        .map_err(from_engine)?;
    let mut matches: Vec<pb::RosterMatch> = found.iter().map(|(m, _)| match_to_proto(m)).collect();
    // A full page, or one cut short by the answer's size, continues after its last row.
    let (n, more) = crate::page::fit(&matches, size);
    matches.truncate(n);
    let next_page_token = match (more, n.checked_sub(1).and_then(|i| found.get(i))) {
        (true, Some((_, cursor))) => crate::page::token(&request, &cursor.encode()),
        _ => String::new(),
    };
    Ok(pb::SearchRosterResponse {
        matches,
        next_page_token,
    })
}

fn match_to_proto(m: &Match) -> pb::RosterMatch {
    pb::RosterMatch {
        kind: m.kind.as_str().into(),
        id: m.id.clone(),
        source_id: m.source_id.clone(),
        first_name: m.first_name.clone(),
        last_name: m.last_name.clone(),
        student_number: m.student_number.clone(),
        email: m.email.clone(),
        archived: m.archived,
        matched: m.matched.into(),
    }
}

pub(super) async fn staff(engine: &Engine, r: pb::GetStaffRequest) -> Result<pb::Staff, Status> {
    let pb::GetStaffRequest { district_id, staff } = r;
    let (staff_id, source_id) = either!(staff, get_staff_request::Staff, StaffId);
    let key = key::<StaffId>(&staff_id, &source_id, "staff_id")?;
    let district = known_district(engine, &district_id).await?;
    let store = engine.store();
    let staff = match key {
        Key::Ours(id) => store.get_staff(&district, id).await.map_err(from_store)?,
        Key::Source(source) => store
            .staff_by_source(&district, std::slice::from_ref(&source))
            .await
            .map_err(from_store)?
            .remove(&source)
            .map(|s| s.value)
            .ok_or_else(|| not_found("staff with source id", &echo(source.as_str())))?,
    };
    Ok(staff_to_proto(&district, &staff))
}

pub(super) async fn classroom(
    engine: &Engine,
    r: pb::GetClassroomRequest,
) -> Result<pb::Classroom, Status> {
    let pb::GetClassroomRequest {
        district_id,
        classroom,
    } = r;
    let (classroom_id, source_id) =
        either!(classroom, get_classroom_request::Classroom, ClassroomId);
    let key = key::<ClassroomId>(&classroom_id, &source_id, "classroom_id")?;
    let district = known_district(engine, &district_id).await?;
    let store = engine.store();
    let classroom = match key {
        Key::Ours(id) => store
            .get_classroom(&district, id)
            .await
            .map_err(from_store)?,
        Key::Source(source) => store
            .classrooms_by_source(&district, std::slice::from_ref(&source))
            .await
            .map_err(from_store)?
            .remove(&source)
            .map(|c| c.value)
            .ok_or_else(|| not_found("classroom with source id", &echo(source.as_str())))?,
    };
    let enrollments = store
        .enrollments_of_classrooms(&district, std::slice::from_ref(&classroom.source_id))
        .await
        .map_err(from_store)?;
    Ok(classroom_to_proto(&district, &classroom, &enrollments))
}

async fn student_source(
    engine: &Engine,
    district: &model::ids::DistrictId,
    key: Key<StudentId>,
) -> Result<model::roster::Student, Status> {
    let store = engine.store();
    match key {
        Key::Ours(id) => store.get_student(district, id).await,
        Key::Source(source) => store.find_student_by_source(district, &source).await,
    }
    .map_err(from_store)
}

pub(super) async fn student_classrooms(
    engine: &Engine,
    r: pb::ListStudentClassroomsRequest,
) -> Result<pb::ListStudentClassroomsResponse, Status> {
    let pb::ListStudentClassroomsRequest {
        district_id,
        student,
        page_size,
        page_token,
    } = r;
    let (student_id, source_id) =
        either!(student, list_student_classrooms_request::Student, StudentId);
    let key = key::<StudentId>(&student_id, &source_id, "student_id")?;
    let size = crate::page::size(page_size, 100, 1000)?;
    let district = known_district(engine, &district_id).await?;
    let student = student_source(engine, &district, key).await?;
    // A student's classrooms are read whole, in source id order, and paged here.
    let request = format!("classrooms/{district}/{}", student.id);
    let after = crate::page::after(&page_token, &request)?;
    let store = engine.store();
    let enrolled: Vec<SourceId> = store
        .enrollments_of_person(&district, &student.source_id)
        .await
        .map_err(from_store)?
        .into_iter()
        .filter(|e| e.role == EnrollmentRole::Student)
        .map(|e| e.classroom_source_id)
        .collect();
    let classrooms: BTreeMap<SourceId, _> = store
        .classrooms_by_source(&district, &enrolled)
        .await
        .map_err(from_store)?
        .into_iter()
        .filter(|(k, _)| after.as_deref().is_none_or(|a| k.as_str() > a))
        .map(|(k, v)| (k, v.value))
        .collect();
    let mut shown: Vec<pb::Classroom> = classrooms
        .values()
        .take(size as usize + 1)
        .map(|c| classroom_to_proto(&district, c, &[]))
        .collect();
    let (n, more) = crate::page::fit(&shown, size);
    shown.truncate(n);
    let page: Vec<_> = classrooms.values().take(n).collect();
    let mut schools: Vec<SourceId> = page
        .iter()
        .map(|c| c.school_source_id.clone())
        .chain(student.school_source_id.clone().filter(|_| after.is_none()))
        .collect();
    schools.sort();
    schools.dedup();
    let schools: BTreeMap<SourceId, _> = store
        .schools_by_source(&district, &schools)
        .await
        .map_err(from_store)?
        .into_iter()
        .map(|(k, v)| (k, v.value))
        .collect();
    Ok(pb::ListStudentClassroomsResponse {
        next_page_token: match (more, page.last()) {
            (true, Some(last)) => crate::page::token(&request, last.source_id.as_str()),
            _ => String::new(),
        },
        classrooms: shown,
        schools: schools.values().map(school_to_proto).collect(),
    })
}

pub(super) async fn source_records(
    engine: &Engine,
    r: pb::GetSourceRecordsRequest,
) -> Result<pb::SourceRecords, Status> {
    let pb::GetSourceRecordsRequest {
        district_id,
        student,
    } = r;
    let (student_id, source_id) = either!(student, get_source_records_request::Student, StudentId);
    let key = key::<StudentId>(&student_id, &source_id, "student_id")?;
    let district = known_district(engine, &district_id).await?;
    let source = match key {
        Key::Source(source) => source,
        ours => student_source(engine, &district, ours).await?.source_id,
    };
    let (run, records) = engine
        .reads()
        .source_records(&district, &source)
        .await
        .map_err(from_engine)?;
    Ok(pb::SourceRecords {
        run_id: run.id.to_string(),
        pull_time: run.started_at.and_then(time),
        records: records.iter().map(source_record_to_proto).collect(),
    })
}
