use sea_orm::entity::prelude::*;

/// A connection to an outside source of media (a photo cloud, a local folder, ...).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub integration_type: String,
    pub name: String,
    /// `active`, `paused`, `error` or `disconnected`.
    pub status: String,
    pub sync_cursor: Option<String>,
    pub last_sync_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub config: Json,
    /// Set while a sync runs; another sync may start only after it passes.
    pub sync_lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(has_one = "super::integration_secrets::Entity")]
    Secrets,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::integration_secrets::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Secrets.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
