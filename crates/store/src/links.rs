//! Student–guardian links with their origin, tier and deciding rule.

use std::collections::BTreeMap;

use model::ids::{DistrictId, GuardianId, StudentId};
use model::link::{AccessTier, Decision, Link, LinkOrigin, RuleId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::convert::{json, named, parse, to_json};
use crate::entities::links as row;
use crate::{upsert_rows, Store, StoreError, BATCH_ROWS};

const ENTITY: &str = "link";

impl Store {
    /// A student's links, ordered by guardian id.
    pub async fn list_student_links(
        &self,
        district: &DistrictId,
        student: StudentId,
    ) -> Result<Vec<Link>, StoreError> {
        row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::StudentId.eq(student.to_string()))
            .order_by_asc(row::Column::GuardianId)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// A guardian's links, ordered by student id.
    pub async fn list_guardian_links(
        &self,
        district: &DistrictId,
        guardian: GuardianId,
    ) -> Result<Vec<Link>, StoreError> {
        row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::GuardianId.eq(guardian.to_string()))
            .order_by_asc(row::Column::StudentId)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// The links of these students, in one query per [`BATCH_ROWS`] students, ordered by
    /// student then guardian.
    pub async fn links_of_students(
        &self,
        district: &DistrictId,
        students: &[StudentId],
    ) -> Result<Vec<Link>, StoreError> {
        let mut out = Vec::new();
        for chunk in students.chunks(BATCH_ROWS) {
            let rows = row::Entity::find()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::StudentId.is_in(chunk.iter().map(|s| s.to_string())))
                .all(self.db())
                .await?;
            for m in rows {
                out.push(from_row(m)?);
            }
        }
        out.sort_by_key(|l| (l.student_id, l.guardian_id));
        Ok(out)
    }

    /// The students holding at least one link of `origin` (an import's students), in id
    /// order after `after`, at most `limit`.
    pub async fn students_with_links_of(
        &self,
        district: &DistrictId,
        origin: LinkOrigin,
        after: Option<StudentId>,
        limit: u64,
    ) -> Result<Vec<StudentId>, StoreError> {
        use sea_orm::{QueryOrder, QuerySelect};
        let mut query = row::Entity::find()
            .select_only()
            .column(row::Column::StudentId)
            .distinct()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Origin.eq(origin.as_str()))
            .order_by_asc(row::Column::StudentId);
        if let Some(after) = after {
            query = query.filter(row::Column::StudentId.gt(after.to_string()));
        }
        let rows: Vec<String> = query.limit(limit).into_tuple().all(self.db()).await?;
        rows.iter()
            .map(|s| parse("link", s, "student_id", s))
            .collect()
    }

    /// How many links each of these guardians holds (guardians with none are left out).
    pub async fn count_links_of_guardians(
        &self,
        district: &DistrictId,
        guardians: &[GuardianId],
    ) -> Result<BTreeMap<GuardianId, u64>, StoreError> {
        use sea_orm::QuerySelect;
        let mut out = BTreeMap::new();
        for chunk in guardians.chunks(BATCH_ROWS) {
            let rows: Vec<(String, i64)> = row::Entity::find()
                .select_only()
                .column(row::Column::GuardianId)
                .column_as(row::Column::StudentId.count(), "n")
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::GuardianId.is_in(chunk.iter().map(|g| g.to_string())))
                .group_by(row::Column::GuardianId)
                .into_tuple()
                .all(self.db())
                .await?;
            for (id, n) in rows {
                out.insert(
                    parse(ENTITY, &id, "guardian_id", &id)?,
                    u64::try_from(n).unwrap_or(0),
                );
            }
        }
        Ok(out)
    }

    /// How many links a district holds.
    pub async fn count_links(&self, district: &DistrictId) -> Result<u64, StoreError> {
        Ok(row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .count(self.db())
            .await?)
    }

    /// Inserts or replaces links by (student, guardian), in one transaction.
    pub async fn upsert_links(
        &self,
        district: &DistrictId,
        links: &[Link],
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        write(&txn, links.iter().map(|l| to_row(district, l)).collect()).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Inserts or replaces link rows by (student, guardian) on `conn`, [`BATCH_ROWS`] per
/// statement. Each pair must appear at most once.
pub(crate) async fn write<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<row::Model>,
) -> Result<(), StoreError> {
    upsert_rows::<_, row::Entity>(
        conn,
        rows,
        OnConflict::columns([
            row::Column::DistrictId,
            row::Column::StudentId,
            row::Column::GuardianId,
        ])
        .update_columns([
            row::Column::Origin,
            row::Column::Tier,
            row::Column::RuleId,
            row::Column::Facts,
            row::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .await
}

/// Deletes the links of these (student, guardian) pairs on `conn`, one statement per
/// [`BATCH_ROWS`] pairs.
pub(crate) async fn delete<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    pairs: &[(StudentId, GuardianId)],
) -> Result<(), StoreError> {
    for chunk in pairs.chunks(BATCH_ROWS) {
        let any_pair = chunk
            .iter()
            .fold(Condition::any(), |cond, (student, guardian)| {
                cond.add(
                    Condition::all()
                        .add(row::Column::StudentId.eq(student.to_string()))
                        .add(row::Column::GuardianId.eq(guardian.to_string())),
                )
            });
        row::Entity::delete_many()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(any_pair)
            .exec(conn)
            .await?;
    }
    Ok(())
}

pub(crate) fn to_row(district: &DistrictId, l: &Link) -> row::Model {
    row::Model {
        district_id: district.to_string(),
        student_id: l.student_id.to_string(),
        guardian_id: l.guardian_id.to_string(),
        origin: l.origin.as_str().to_owned(),
        tier: l.tier.as_str().to_owned(),
        rule_id: l.decision.rule.to_string(),
        facts: to_json(&l.decision.facts),
        updated_at: l.updated_at,
    }
}

pub(crate) fn from_row(m: row::Model) -> Result<Link, StoreError> {
    let id = format!("{}/{}", m.student_id, m.guardian_id);
    let facts: BTreeMap<String, String> = json(ENTITY, &id, "facts", &m.facts)?;
    Ok(Link {
        student_id: parse(ENTITY, &id, "student_id", &m.student_id)?,
        guardian_id: parse(ENTITY, &id, "guardian_id", &m.guardian_id)?,
        origin: named(ENTITY, &id, "origin", &m.origin, LinkOrigin::parse)?,
        tier: named(ENTITY, &id, "tier", &m.tier, AccessTier::parse)?,
        decision: Decision {
            rule: RuleId::new(m.rule_id),
            facts,
        },
        updated_at: m.updated_at,
    })
}
