use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "districts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub connector_kind: String,
    pub connector_settings: String,
    pub connector_secrets: String,
    pub settings: String,
    pub time_zone: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub revision: i64,
    pub create_request_id: Option<String>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
    /// From when the nightly run is to be looked at; null while daily sync is off.
    pub nightly_due_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
