//! Student–guardian links with their origin, tier and deciding rule.

use std::collections::BTreeMap;

use model::ids::{DistrictId, GuardianId, StudentId};
use model::link::{AccessTier, Decision, Link, LinkOrigin, RuleId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};

use crate::convert::{json, named, parse, to_json};
use crate::entities::links as row;
use crate::{Store, StoreError, BATCH_ROWS};

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

    /// Inserts or replaces links by (student, guardian), in one transaction.
    pub async fn upsert_links(
        &self,
        district: &DistrictId,
        links: &[Link],
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        for chunk in links.chunks(BATCH_ROWS) {
            let rows = chunk
                .iter()
                .map(|l| sea_orm::IntoActiveModel::into_active_model(to_row(district, l)));
            row::Entity::insert_many(rows)
                .on_conflict(
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
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

fn to_row(district: &DistrictId, l: &Link) -> row::Model {
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

fn from_row(m: row::Model) -> Result<Link, StoreError> {
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
