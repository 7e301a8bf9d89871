//! The object types of the schema.

pub(crate) mod audit;
pub(crate) mod node;
pub(crate) mod user;
