//! Staff: what spot sync needs to know of them (that they are staff).

use model::ids::{DistrictId, StaffId};
use model::roster::Staff;
use sea_orm::EntityTrait;

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
        let model = sea_orm::IntoActiveModel::into_active_model(crate::roster::staff_row(
            district,
            staff,
            "",
            crate::convert::now(),
        ));
        row::Entity::insert(model).exec(self.db()).await?;
        Ok(())
    }
}
