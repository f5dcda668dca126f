use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub student_source_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_id: String,
    pub first_name: String,
    pub last_name: String,
    pub emails: String,
    pub relationship: String,
    pub contact_type: String,
    pub phones: String,
    pub decision_making: Option<bool>,
    pub source_hash: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
