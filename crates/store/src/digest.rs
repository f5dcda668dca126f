//! A district's content digest: one hash over every record's synced fields, each table
//! in key order — equal for two districts (or one district at two moments) exactly when
//! they hold the same roster. Bookkeeping is left out: source hashes, when a row was
//! written, search keys and a link's facts (how its rule decided, not what it is).

use futures::TryStreamExt;
use model::fields;
use model::ids::DistrictId;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use sha2::{Digest, Sha256};

use crate::entities::{
    classrooms, contacts, enrollments, guardians, links, schools, staff, students,
};
use crate::{roster, Store, StoreError};

/// Hashes one table's rows of a district, in the order given, record by record.
macro_rules! hash_table {
    ($self:ident, $hash:ident, $district:ident, $table:ident, [$($order:ident),+], $record:expr) => {{
        $hash.update(concat!("#", stringify!($table), "\n").as_bytes());
        let mut rows = $table::Entity::find()
            .filter($table::Column::DistrictId.eq($district.as_str()))
            $(.order_by_asc($table::Column::$order))+
            .stream($self.db())
            .await?;
        while let Some(m) = rows.try_next().await? {
            let (key, fields): (String, fields::Fields) = $record(m)?;
            $hash.update(key.as_bytes());
            for (name, value) in fields {
                $hash.update(b"\t");
                $hash.update(name.as_bytes());
                $hash.update(b"=");
                $hash.update(value.as_bytes());
            }
            $hash.update(b"\n");
        }
    }};
}

impl Store {
    /// The district's content digest (hex SHA-256): see the module's note for what it
    /// covers. Reads each table once, a row at a time.
    pub async fn roster_digest(&self, district: &DistrictId) -> Result<String, StoreError> {
        let mut h = Sha256::new();
        let d = district;
        hash_table!(self, h, d, schools, [Id], |m| roster::school_from_row(m)
            .map(|s| (s.id.to_string(), fields::school_fields(&s))));
        hash_table!(self, h, d, staff, [Id], |m| roster::staff_from_row(m)
            .map(|s| (s.id.to_string(), fields::staff_fields(&s))));
        hash_table!(self, h, d, classrooms, [Id], |m| {
            roster::classroom_from_row(m).map(|c| (c.id.to_string(), fields::classroom_fields(&c)))
        });
        hash_table!(self, h, d, students, [Id], |m| crate::students::from_row(m)
            .map(|s| (s.id.to_string(), fields::student_fields(&s))));
        hash_table!(self, h, d, guardians, [Id], |m| crate::guardians::from_row(
            m
        )
        .map(|g| (g.id.to_string(), fields::guardian_fields(&g))));
        hash_table!(self, h, d, contacts, [StudentSourceId, SourceId], |m| {
            roster::contact_from_row(m).map(|c| {
                (
                    format!("{}/{}", c.student_source_id, c.source_id),
                    fields::contact_fields(&c),
                )
            })
        });
        hash_table!(self, h, d, links, [StudentId, GuardianId], |m| {
            crate::links::from_row(m).map(|l| {
                (
                    format!("{}/{}", l.student_id, l.guardian_id),
                    fields::link_fields(&l),
                )
            })
        });
        hash_table!(
            self,
            h,
            d,
            enrollments,
            [ClassroomSourceId, PersonSourceId, Role],
            |m| roster::enrollment_from_row(m)
                .map(|e| (String::new(), fields::enrollment_fields(&e)))
        );
        Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }
}
