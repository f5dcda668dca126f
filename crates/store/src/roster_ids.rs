//! Schools, staff and classrooms by our ids: an undo reads the records a run changed by
//! the ids its change log names.

use std::collections::HashMap;

use model::ids::DistrictId;
use model::roster::{Classroom, School, Staff};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entities::{classrooms, schools, staff};
use crate::roster::{classroom_from_row, school_from_row, staff_from_row};
use crate::{Store, StoreError, BATCH_ROWS};

/// Rows of one table by our ids, read in chunks.
macro_rules! by_id {
    ($name:ident, $entity:ident, $model:ty, $from:ident) => {
        /// The records with these ids (ours), keyed by id; unknown ids are left out. One
        /// query per [`BATCH_ROWS`] ids.
        pub async fn $name(
            &self,
            district: &DistrictId,
            ids: &[String],
        ) -> Result<HashMap<String, $model>, StoreError> {
            let mut out = HashMap::with_capacity(ids.len());
            for chunk in ids.chunks(BATCH_ROWS) {
                let rows = $entity::Entity::find()
                    .filter($entity::Column::DistrictId.eq(district.as_str()))
                    .filter($entity::Column::Id.is_in(chunk.iter().map(String::as_str)))
                    .all(self.db())
                    .await?;
                for m in rows {
                    let value = $from(m)?;
                    out.insert(value.id.to_string(), value);
                }
            }
            Ok(out)
        }
    };
}

impl Store {
    by_id!(schools_by_id, schools, School, school_from_row);
    by_id!(staff_by_id, staff, Staff, staff_from_row);
    by_id!(classrooms_by_id, classrooms, Classroom, classroom_from_row);
}
