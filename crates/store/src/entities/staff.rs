use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub source_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub school_source_ids: String,
    #[sea_orm(column_type = "Text")]
    pub permissions: String,
    /// The first name as searched (`model::search::name_key`).
    pub first_key: String,
    /// The last name as searched.
    pub last_key: String,
    pub archived: bool,
    pub source_hash: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
