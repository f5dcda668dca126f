use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "students")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub source_id: String,
    pub student_number: String,
    pub state_id: String,
    pub legal_first_name: String,
    pub legal_last_name: String,
    pub middle_name: String,
    pub birth_date: Option<Date>,
    pub gender: String,
    pub school_source_id: Option<String>,
    pub grade: String,
    pub enrollment_status: String,
    pub independent_student: bool,
    pub org_email: String,
    pub personal_email: String,
    pub web_id: String,
    /// The first name as searched (`model::search::name_key`).
    pub first_key: String,
    /// The last name as searched.
    pub last_key: String,
    pub archived: bool,
    pub source_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
