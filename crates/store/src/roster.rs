//! The rest of the roster: schools, staff, classrooms, students' source contacts, and
//! enrollments of students and staff in classrooms. Read by source id for planning and by
//! our id for support; written by a run's apply.

use std::collections::HashMap;

use chrono::Utc;
use model::district::StaffPermission;
use model::ids::{ClassroomId, DistrictId, RunId, SourceId, StaffId};
use model::roster::{
    Classroom, Contact, ContactType, Enrollment, EnrollmentRole, Phone, Relationship, School, Staff,
};
use model::staging::StagedKind;
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::convert::{found, json, named, parse, to_json};
use crate::entities::{classrooms, contacts, enrollments, schools, staff, staged_records};
use crate::{upsert_rows, Store, StoreError, Synced, BATCH_ROWS};

/// Keyed rows of one table, read by source id in chunks.
macro_rules! by_source {
    ($name:ident, $entity:ident, $model:ty, $from:ident) => {
        /// The records with these source ids, with their source hashes, keyed by source
        /// id; unknown ids are left out. One query per [`BATCH_ROWS`] ids.
        pub async fn $name(
            &self,
            district: &DistrictId,
            source_ids: &[SourceId],
        ) -> Result<HashMap<SourceId, Synced<$model>>, StoreError> {
            let mut out = HashMap::with_capacity(source_ids.len());
            for chunk in source_ids.chunks(BATCH_ROWS) {
                let rows = $entity::Entity::find()
                    .filter($entity::Column::DistrictId.eq(district.as_str()))
                    .filter($entity::Column::SourceId.is_in(chunk.iter().map(SourceId::as_str)))
                    .all(self.db())
                    .await?;
                for m in rows {
                    let source_hash = m.source_hash.clone();
                    let value = $from(m)?;
                    out.insert(value.source_id.clone(), Synced { value, source_hash });
                }
            }
            Ok(out)
        }
    };
}

impl Store {
    by_source!(schools_by_source, schools, School, school_from_row);
    by_source!(staff_by_source, staff, Staff, staff_from_row);
    by_source!(
        classrooms_by_source,
        classrooms,
        Classroom,
        classroom_from_row
    );

    /// The source contacts of these students (by the students' source ids), ordered by
    /// student then contact.
    pub async fn contacts_of_students(
        &self,
        district: &DistrictId,
        students: &[SourceId],
    ) -> Result<Vec<Synced<Contact>>, StoreError> {
        let mut out = Vec::new();
        for chunk in students.chunks(BATCH_ROWS) {
            let rows = contacts::Entity::find()
                .filter(contacts::Column::DistrictId.eq(district.as_str()))
                .filter(contacts::Column::StudentSourceId.is_in(chunk.iter().map(SourceId::as_str)))
                .order_by_asc(contacts::Column::StudentSourceId)
                .order_by_asc(contacts::Column::SourceId)
                .all(self.db())
                .await?;
            for m in rows {
                let source_hash = m.source_hash.clone();
                out.push(Synced {
                    value: contact_from_row(m)?,
                    source_hash,
                });
            }
        }
        Ok(out)
    }

    /// The enrollments of these classrooms (by source id).
    pub async fn enrollments_of_classrooms(
        &self,
        district: &DistrictId,
        classrooms: &[SourceId],
    ) -> Result<Vec<Enrollment>, StoreError> {
        let mut out = Vec::new();
        for chunk in classrooms.chunks(BATCH_ROWS) {
            let rows = enrollments::Entity::find()
                .filter(enrollments::Column::DistrictId.eq(district.as_str()))
                .filter(
                    enrollments::Column::ClassroomSourceId
                        .is_in(chunk.iter().map(SourceId::as_str)),
                )
                .order_by_asc(enrollments::Column::ClassroomSourceId)
                .order_by_asc(enrollments::Column::PersonSourceId)
                .all(self.db())
                .await?;
            for m in rows {
                out.push(enrollment_from_row(m)?);
            }
        }
        Ok(out)
    }

    /// The classrooms a person (student or staff, by source id) is enrolled in.
    pub async fn enrollments_of_person(
        &self,
        district: &DistrictId,
        person: &SourceId,
    ) -> Result<Vec<Enrollment>, StoreError> {
        enrollments::Entity::find()
            .filter(enrollments::Column::DistrictId.eq(district.as_str()))
            .filter(enrollments::Column::PersonSourceId.eq(person.as_str()))
            .order_by_asc(enrollments::Column::ClassroomSourceId)
            .all(self.db())
            .await?
            .into_iter()
            .map(enrollment_from_row)
            .collect()
    }

    pub async fn get_staff(&self, district: &DistrictId, id: StaffId) -> Result<Staff, StoreError> {
        let row = staff::Entity::find_by_id((district.to_string(), id.to_string()))
            .one(self.db())
            .await?;
        found(row, "staff", || id.to_string(), staff_from_row)
    }

    pub async fn get_classroom(
        &self,
        district: &DistrictId,
        id: ClassroomId,
    ) -> Result<Classroom, StoreError> {
        let row = classrooms::Entity::find_by_id((district.to_string(), id.to_string()))
            .one(self.db())
            .await?;
        found(row, "classroom", || id.to_string(), classroom_from_row)
    }

    /// How many of a district's staff are archived (`true`) or not (`false`).
    pub async fn count_staff(
        &self,
        district: &DistrictId,
        archived: bool,
    ) -> Result<u64, StoreError> {
        Ok(staff::Entity::find()
            .filter(staff::Column::DistrictId.eq(district.as_str()))
            .filter(staff::Column::Archived.eq(archived))
            .count(self.db())
            .await?)
    }

    /// How many of a district's classrooms are archived (`true`) or not (`false`).
    pub async fn count_classrooms(
        &self,
        district: &DistrictId,
        archived: bool,
    ) -> Result<u64, StoreError> {
        Ok(classrooms::Entity::find()
            .filter(classrooms::Column::DistrictId.eq(district.as_str()))
            .filter(classrooms::Column::Archived.eq(archived))
            .count(self.db())
            .await?)
    }

    /// Non-archived staff the run's pull did not list, in source-id order after `after`.
    pub async fn staff_not_staged(
        &self,
        district: &DistrictId,
        run: RunId,
        after: Option<&SourceId>,
        limit: u64,
    ) -> Result<Vec<SourceId>, StoreError> {
        self.not_staged("staff", StagedKind::Staff, district, run, after, limit)
            .await
    }

    /// Non-archived classrooms the run's pull did not list, in source-id order after
    /// `after`.
    pub async fn classrooms_not_staged(
        &self,
        district: &DistrictId,
        run: RunId,
        after: Option<&SourceId>,
        limit: u64,
    ) -> Result<Vec<SourceId>, StoreError> {
        self.not_staged(
            "classrooms",
            StagedKind::Classroom,
            district,
            run,
            after,
            limit,
        )
        .await
    }

    async fn not_staged(
        &self,
        table: &'static str,
        kind: StagedKind,
        district: &DistrictId,
        run: RunId,
        after: Option<&SourceId>,
        limit: u64,
    ) -> Result<Vec<SourceId>, StoreError> {
        let t = Alias::new(table);
        let listed = Query::select()
            .expr(Expr::val(1))
            .from(staged_records::Entity)
            .and_where(
                Expr::col((staged_records::Entity, staged_records::Column::DistrictId))
                    .equals((t.clone(), Alias::new("district_id"))),
            )
            .and_where(
                Expr::col((staged_records::Entity, staged_records::Column::RunId))
                    .eq(run.to_string()),
            )
            .and_where(
                Expr::col((staged_records::Entity, staged_records::Column::Kind)).eq(kind.as_str()),
            )
            .and_where(
                Expr::col((staged_records::Entity, staged_records::Column::RecordKey))
                    .equals((t.clone(), Alias::new("source_id"))),
            )
            .to_owned();
        let mut query = Query::select()
            .column((t.clone(), Alias::new("source_id")))
            .from(t.clone())
            .and_where(Expr::col((t.clone(), Alias::new("district_id"))).eq(district.as_str()))
            .and_where(Expr::col((t.clone(), Alias::new("archived"))).eq(false))
            .cond_where(Condition::all().add(Expr::exists(listed).not()))
            .order_by((t.clone(), Alias::new("source_id")), sea_orm::Order::Asc)
            .limit(limit)
            .to_owned();
        if let Some(after) = after {
            query.and_where(Expr::col((t, Alias::new("source_id"))).gt(after.as_str()));
        }
        let backend = self.db().get_database_backend();
        let rows = self.db().query_all(backend.build(&query)).await?;
        rows.iter()
            .map(|r| {
                r.try_get::<String>("", "source_id")
                    .map(SourceId::new)
                    .map_err(StoreError::from)
            })
            .collect()
    }
}

/// Upserts school rows by id on `conn`.
pub(crate) async fn write_schools<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<schools::Model>,
) -> Result<(), StoreError> {
    upsert_rows::<_, schools::Entity>(
        conn,
        rows,
        OnConflict::columns([schools::Column::DistrictId, schools::Column::Id])
            .update_columns([
                schools::Column::SourceId,
                schools::Column::SchoolNumber,
                schools::Column::Name,
                schools::Column::Archived,
                schools::Column::SourceHash,
                schools::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .await
}

/// Upserts staff rows by id on `conn`.
pub(crate) async fn write_staff<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<staff::Model>,
) -> Result<(), StoreError> {
    upsert_rows::<_, staff::Entity>(
        conn,
        rows,
        OnConflict::columns([staff::Column::DistrictId, staff::Column::Id])
            .update_columns([
                staff::Column::SourceId,
                staff::Column::FirstName,
                staff::Column::LastName,
                staff::Column::Email,
                staff::Column::SchoolSourceIds,
                staff::Column::Permissions,
                staff::Column::FirstKey,
                staff::Column::LastKey,
                staff::Column::Archived,
                staff::Column::SourceHash,
                staff::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .await
}

/// Upserts classroom rows by id on `conn`.
pub(crate) async fn write_classrooms<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<classrooms::Model>,
) -> Result<(), StoreError> {
    upsert_rows::<_, classrooms::Entity>(
        conn,
        rows,
        OnConflict::columns([classrooms::Column::DistrictId, classrooms::Column::Id])
            .update_columns([
                classrooms::Column::SourceId,
                classrooms::Column::SchoolSourceId,
                classrooms::Column::Name,
                classrooms::Column::Archived,
                classrooms::Column::SourceHash,
                classrooms::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .await
}

/// Upserts contact rows by (student, contact) on `conn`.
pub(crate) async fn write_contacts<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<contacts::Model>,
) -> Result<(), StoreError> {
    upsert_rows::<_, contacts::Entity>(
        conn,
        rows,
        OnConflict::columns([
            contacts::Column::DistrictId,
            contacts::Column::StudentSourceId,
            contacts::Column::SourceId,
        ])
        .update_columns([
            contacts::Column::FirstName,
            contacts::Column::LastName,
            contacts::Column::Emails,
            contacts::Column::Relationship,
            contacts::Column::ContactType,
            contacts::Column::Phones,
            contacts::Column::DecisionMaking,
            contacts::Column::SourceHash,
            contacts::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .await
}

/// Deletes contacts by (student, contact) on `conn`.
pub(crate) async fn delete_contacts<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    keys: &[(SourceId, SourceId)],
) -> Result<(), StoreError> {
    for chunk in keys.chunks(BATCH_ROWS) {
        let mut any = Condition::any();
        for (student, contact) in chunk {
            any = any.add(
                Condition::all()
                    .add(contacts::Column::StudentSourceId.eq(student.as_str()))
                    .add(contacts::Column::SourceId.eq(contact.as_str())),
            );
        }
        contacts::Entity::delete_many()
            .filter(contacts::Column::DistrictId.eq(district.as_str()))
            .filter(any)
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Inserts enrollments on `conn` (one already there is left as it is).
pub(crate) async fn write_enrollments<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<enrollments::Model>,
) -> Result<(), StoreError> {
    upsert_rows::<_, enrollments::Entity>(
        conn,
        rows,
        OnConflict::columns([
            enrollments::Column::DistrictId,
            enrollments::Column::ClassroomSourceId,
            enrollments::Column::PersonSourceId,
            enrollments::Column::Role,
        ])
        .do_nothing()
        .to_owned(),
    )
    .await
}

/// Deletes enrollments on `conn`.
pub(crate) async fn delete_enrollments<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    gone: &[Enrollment],
) -> Result<(), StoreError> {
    for chunk in gone.chunks(BATCH_ROWS) {
        let mut any = Condition::any();
        for e in chunk {
            any = any.add(
                Condition::all()
                    .add(enrollments::Column::ClassroomSourceId.eq(e.classroom_source_id.as_str()))
                    .add(enrollments::Column::PersonSourceId.eq(e.person_source_id.as_str()))
                    .add(enrollments::Column::Role.eq(e.role.as_str())),
            );
        }
        enrollments::Entity::delete_many()
            .filter(enrollments::Column::DistrictId.eq(district.as_str()))
            .filter(any)
            .exec(conn)
            .await?;
    }
    Ok(())
}

pub(crate) fn school_row(
    district: &DistrictId,
    s: &School,
    hash: &str,
    now: chrono::DateTime<Utc>,
) -> schools::Model {
    schools::Model {
        district_id: district.to_string(),
        id: s.id.to_string(),
        source_id: s.source_id.to_string(),
        school_number: s.school_number.clone(),
        name: s.name.clone(),
        archived: s.archived,
        source_hash: hash.to_owned(),
        updated_at: now,
    }
}

pub(crate) fn school_from_row(m: schools::Model) -> Result<School, StoreError> {
    Ok(School {
        id: parse("school", &m.id, "id", &m.id)?,
        source_id: SourceId::new(m.source_id),
        school_number: m.school_number,
        name: m.name,
        archived: m.archived,
    })
}

pub(crate) fn staff_row(
    district: &DistrictId,
    s: &Staff,
    hash: &str,
    now: chrono::DateTime<Utc>,
) -> staff::Model {
    staff::Model {
        district_id: district.to_string(),
        id: s.id.to_string(),
        source_id: s.source_id.to_string(),
        first_name: s.first_name.clone(),
        last_name: s.last_name.clone(),
        email: s.email.clone(),
        school_source_ids: to_json(&s.school_source_ids),
        permissions: to_json(&s.permissions),
        first_key: model::search::name_key(&s.first_name),
        last_key: model::search::name_key(&s.last_name),
        archived: s.archived,
        source_hash: hash.to_owned(),
        updated_at: now,
    }
}

pub(crate) fn staff_from_row(m: staff::Model) -> Result<Staff, StoreError> {
    let id = m.id.clone();
    let permissions: Vec<StaffPermission> = json("staff", &id, "permissions", &m.permissions)?;
    Ok(Staff {
        id: parse("staff", &id, "id", &id)?,
        source_id: SourceId::new(m.source_id),
        first_name: m.first_name,
        last_name: m.last_name,
        email: m.email,
        school_source_ids: json("staff", &id, "school_source_ids", &m.school_source_ids)?,
        permissions: permissions.into_iter().collect(),
        archived: m.archived,
    })
}

pub(crate) fn classroom_row(
    district: &DistrictId,
    c: &Classroom,
    hash: &str,
    now: chrono::DateTime<Utc>,
) -> classrooms::Model {
    classrooms::Model {
        district_id: district.to_string(),
        id: c.id.to_string(),
        source_id: c.source_id.to_string(),
        school_source_id: c.school_source_id.to_string(),
        name: c.name.clone(),
        archived: c.archived,
        source_hash: hash.to_owned(),
        updated_at: now,
    }
}

pub(crate) fn classroom_from_row(m: classrooms::Model) -> Result<Classroom, StoreError> {
    Ok(Classroom {
        id: parse("classroom", &m.id, "id", &m.id)?,
        source_id: SourceId::new(m.source_id),
        school_source_id: SourceId::new(m.school_source_id),
        name: m.name,
        archived: m.archived,
    })
}

pub(crate) fn contact_row(
    district: &DistrictId,
    c: &Contact,
    hash: &str,
    now: chrono::DateTime<Utc>,
) -> contacts::Model {
    contacts::Model {
        district_id: district.to_string(),
        student_source_id: c.student_source_id.to_string(),
        source_id: c.source_id.to_string(),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        emails: to_json(&c.emails),
        relationship: c.relationship.as_str().to_owned(),
        contact_type: c.contact_type.as_str().to_owned(),
        phones: to_json(&c.phones),
        decision_making: c.decision_making,
        source_hash: hash.to_owned(),
        updated_at: now,
    }
}

pub(crate) fn contact_from_row(m: contacts::Model) -> Result<Contact, StoreError> {
    let id = format!("{}/{}", m.student_source_id, m.source_id);
    let phones: Vec<Phone> = json("contact", &id, "phones", &m.phones)?;
    Ok(Contact {
        source_id: SourceId::new(m.source_id),
        student_source_id: SourceId::new(m.student_source_id),
        first_name: m.first_name,
        last_name: m.last_name,
        emails: json("contact", &id, "emails", &m.emails)?,
        relationship: Relationship::parse(&m.relationship),
        contact_type: ContactType::parse(&m.contact_type),
        phones,
        decision_making: m.decision_making,
    })
}

pub(crate) fn enrollment_row(district: &DistrictId, e: &Enrollment) -> enrollments::Model {
    enrollments::Model {
        district_id: district.to_string(),
        classroom_source_id: e.classroom_source_id.to_string(),
        person_source_id: e.person_source_id.to_string(),
        role: e.role.as_str().to_owned(),
    }
}

pub(crate) fn enrollment_from_row(m: enrollments::Model) -> Result<Enrollment, StoreError> {
    let id = format!("{}/{}", m.classroom_source_id, m.person_source_id);
    Ok(Enrollment {
        role: named("enrollment", &id, "role", &m.role, EnrollmentRole::parse)?,
        classroom_source_id: SourceId::new(m.classroom_source_id),
        person_source_id: SourceId::new(m.person_source_id),
    })
}
