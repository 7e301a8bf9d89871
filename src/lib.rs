//! Hypernet Core: a GraphQL server over a personal media library modelled as an object-link
//! graph.
//!
//! Data flows one way: `http` -> `graphql` -> `service` -> `store` -> `entity`; `auth` depends
//! on none of them.

pub(crate) mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub(crate) mod http;
pub(crate) mod kinds;
pub(crate) mod media;
pub mod metrics;
#[cfg(test)]
mod property_tests;
pub mod service;
pub mod startup;
pub(crate) mod storage;
pub(crate) mod store;
pub mod telemetry;

pub use config::Config;
pub use startup::App;
