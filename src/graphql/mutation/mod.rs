//! The mutation root, merged from one object per domain area.

mod albums;
mod auth;
mod integrations;
mod links;
mod media;
mod tags;
mod uploads;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    auth::AuthMutation,
    uploads::UploadMutation,
    media::MediaMutation,
    albums::AlbumMutation,
    links::LinkMutation,
    integrations::IntegrationMutation,
    tags::TagMutation,
);
