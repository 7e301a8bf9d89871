use sea_orm::entity::prelude::*;

/// The credentials of one integration. Token columns hold ciphertext made by the application;
/// nothing here is ever stored in clear.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_secrets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub integration_id: Uuid,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub token_expires_at: Option<DateTimeUtc>,
    pub scopes: Option<String>,
    /// The key that encrypted this row's values.
    pub key_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::integrations::Entity",
        from = "Column::IntegrationId",
        to = "super::integrations::Column::Id",
        on_delete = "Cascade"
    )]
    Integration,
}

impl Related<super::integrations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Integration.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
