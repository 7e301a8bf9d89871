use sea_orm::entity::prelude::*;

/// One accepted chunk of an upload session, stored as its own object until completion.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upload_chunks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub upload_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub chunk_offset: i64,
    pub length: i64,
    pub object_key: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::upload_sessions::Entity",
        from = "Column::UploadId",
        to = "super::upload_sessions::Column::Id",
        on_delete = "Cascade"
    )]
    Session,
}

impl Related<super::upload_sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
