use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "form_authorships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub guardian_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub student_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
