//! Staff: what spot sync needs to know of them (that they are staff). Runs write staff
//! through their plans ([`crate::roster`]).

use model::ids::{DistrictId, StaffId};
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
}
