//! The object types of the schema.

pub(crate) mod album;
pub(crate) mod audit;
pub(crate) mod change;
pub(crate) mod integration;
pub(crate) mod library;
pub(crate) mod link;
pub(crate) mod media;
pub(crate) mod node;
pub(crate) mod tag;
pub(crate) mod trash;
pub(crate) mod user;
