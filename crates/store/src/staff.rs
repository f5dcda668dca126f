//! Staff: what spot sync needs to know of them (that they are staff).

use model::ids::{DistrictId, StaffId};
use model::roster::Staff;
use sea_orm::{ActiveValue, EntityTrait};

use crate::entities::staff as row;
use crate::{Store, StoreError};

impl Store {
    /// Whether `id` is a staff member of the district.
    pub async fn staff_exists(
        &self,
        district: &DistrictId,
        id: StaffId,
    ) -> Result<bool, StoreError> {
        Ok(
            row::Entity::find_by_id((district.to_string(), id.to_string()))
                .one(self.db())
                .await?
                .is_some(),
        )
    }

    /// Stores a staff member (as a staff roster sync or an import does).
    pub async fn insert_staff(
        &self,
        district: &DistrictId,
        staff: &Staff,
    ) -> Result<(), StoreError> {
        let model = row::ActiveModel {
            district_id: ActiveValue::Set(district.to_string()),
            id: ActiveValue::Set(staff.id.to_string()),
            source_id: ActiveValue::Set(staff.source_id.to_string()),
            first_name: ActiveValue::Set(staff.first_name.clone()),
            last_name: ActiveValue::Set(staff.last_name.clone()),
            email: ActiveValue::Set(staff.email.clone()),
            school_source_ids: ActiveValue::Set(crate::convert::to_json(&staff.school_source_ids)),
            archived: ActiveValue::Set(staff.archived),
            source_hash: ActiveValue::Set(String::new()),
            updated_at: ActiveValue::Set(crate::convert::now()),
        };
        row::Entity::insert(model).exec(self.db()).await?;
        Ok(())
    }
}
