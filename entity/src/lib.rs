//! SeaORM entities of Hypernet Core, one file per table. The schema itself is owned by the
//! `migration` crate; these mirror it.

pub mod albums;
pub mod audit_log;
pub mod integration_secrets;
pub mod integrations;
pub mod links;
pub mod login_throttle;
pub mod media;
pub mod persisted_documents;
pub mod refresh_tokens;
pub mod tags;
pub mod upload_chunks;
pub mod upload_sessions;
pub mod users;
