use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "guardians")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub source_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub home_phone: String,
    pub mobile_phone: String,
    pub address_street: String,
    pub address_city: String,
    pub address_region: String,
    pub address_postal_code: String,
    pub status: String,
    pub sis_connected: bool,
    /// The first name as searched (`model::search::name_key`).
    pub first_key: String,
    /// The last name as searched.
    pub last_key: String,
    /// The home phone in E.164, empty when it is none.
    pub home_phone_e164: String,
    /// The mobile phone in E.164, empty when it is none.
    pub mobile_phone_e164: String,
    pub archived: bool,
    pub source_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
