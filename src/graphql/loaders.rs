//! The loaders of one request, built for one viewer so that nothing they read crosses users:
//! every nested read is one batched query per level, however many parents a page has.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{albums, integrations, links, media, tags, users};
use uuid::Uuid;

use super::batch::{Batcher, Jobs};
use crate::error::AppError;
use crate::service::Services;
use crate::store;
use crate::store::kinds::KindTable;
use crate::store::links::{Direction, LinkPage, Member, MemberPage};
use crate::store::rows::MediaColumns;

type LoadResult<K, V> = Result<HashMap<K, V>, async_graphql::Error>;

fn db_error(e: sea_orm::DbErr) -> async_graphql::Error {
    AppError::from(e).into()
}

/// The loaders of one request.
pub(crate) struct Loaders {
    pub users: Batcher<Uuid, UserLoader>,
    pub media: Batcher<Uuid, ActiveLoader<media::Entity>>,
    pub albums: Batcher<Uuid, ActiveLoader<albums::Entity>>,
    pub links: Batcher<Uuid, LinkLoader>,
    pub variants: Batcher<(Uuid, MediaColumns), VariantsLoader>,
    pub members: Batcher<(Uuid, MemberPage), MembersLoader>,
    pub link_pages: Batcher<(Uuid, LinkPage), LinkPagesLoader>,
    pub link_counts: Batcher<(Uuid, Option<Vec<String>>, Direction), LinkCountsLoader>,
    pub albums_of_media: Batcher<Uuid, AlbumsOfMediaLoader>,
    pub duplicates: Batcher<Uuid, DuplicatesLoader>,
    pub first_members: Batcher<Uuid, FirstMemberLoader>,
    pub integrations: Batcher<Uuid, ActiveLoader<integrations::Entity>>,
    pub has_credentials: Batcher<Uuid, CredentialsLoader>,
    pub sources: Batcher<Uuid, SourceLoader>,
    pub tags: Batcher<Uuid, ActiveLoader<tags::Entity>>,
    pub tags_of_media: Batcher<Uuid, TagsOfMediaLoader>,
    /// Their queued batches, run by [`super::batch::drive`].
    pub jobs: Jobs,
}

#[derive(Clone)]
pub(crate) struct Scope {
    services: Arc<Services>,
    /// Objects are looked up among this user's only (nil: nobody's).
    viewer: Uuid,
}

impl Loaders {
    pub(crate) fn new(services: Arc<Services>, viewer: Option<Uuid>) -> Arc<Self> {
        let s = Scope {
            services,
            viewer: viewer.unwrap_or(Uuid::nil()),
        };
        let jobs = Jobs::default();
        Arc::new(Self {
            users: Batcher::new(UserLoader(s.clone()), jobs.clone()),
            media: Batcher::new(ActiveLoader::new(&s), jobs.clone()),
            albums: Batcher::new(ActiveLoader::new(&s), jobs.clone()),
            links: Batcher::new(LinkLoader(s.clone()), jobs.clone()),
            variants: Batcher::new(VariantsLoader(s.clone()), jobs.clone()),
            members: Batcher::new(MembersLoader(s.clone()), jobs.clone()),
            link_pages: Batcher::new(LinkPagesLoader(s.clone()), jobs.clone()),
            link_counts: Batcher::new(LinkCountsLoader(s.clone()), jobs.clone()),
            albums_of_media: Batcher::new(AlbumsOfMediaLoader(s.clone()), jobs.clone()),
            duplicates: Batcher::new(DuplicatesLoader(s.clone()), jobs.clone()),
            first_members: Batcher::new(FirstMemberLoader(s.clone()), jobs.clone()),
            integrations: Batcher::new(ActiveLoader::new(&s), jobs.clone()),
            has_credentials: Batcher::new(CredentialsLoader(s.clone()), jobs.clone()),
            sources: Batcher::new(SourceLoader(s.clone()), jobs.clone()),
            tags: Batcher::new(ActiveLoader::new(&s), jobs.clone()),
            tags_of_media: Batcher::new(TagsOfMediaLoader(s), jobs.clone()),
            jobs,
        })
    }
}

/// The viewer's active rows of one kind by id (media: thumbnails included), one statement
/// per batch, the same for every kind (`store::kinds`).
pub(crate) struct ActiveLoader<E> {
    scope: Scope,
    kind: std::marker::PhantomData<fn() -> E>,
}

impl<E> ActiveLoader<E> {
    fn new(scope: &Scope) -> Self {
        Self {
            scope: scope.clone(),
            kind: std::marker::PhantomData,
        }
    }
}

impl<E: KindTable> Loader<Uuid> for ActiveLoader<E>
where
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, E::Model> {
        let rows = store::kinds::find_active::<E>(&self.scope.services.db, self.scope.viewer, keys)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(|row| (E::id(&row), row)).collect())
    }
}

/// The viewer's own account row (nobody else's is readable).
pub(crate) struct UserLoader(Scope);

impl Loader<Uuid> for UserLoader {
    type Value = users::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, users::Model> {
        let mut out = HashMap::new();
        if keys.contains(&self.0.viewer) {
            let row = self.0.services.viewer_user(self.0.viewer).await?;
            out.insert(row.id, row);
        }
        Ok(out)
    }
}

/// The viewer's visible links by id.
pub(crate) struct LinkLoader(Scope);

impl Loader<Uuid> for LinkLoader {
    type Value = links::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, links::Model> {
        let rows = store::links::find_active(&self.0.services.db, self.0.viewer, keys)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(|l| (l.id, l)).collect())
    }
}

/// Thumbnails by original id, smallest first, with the columns asked for.
pub(crate) struct VariantsLoader(Scope);

impl Loader<(Uuid, MediaColumns)> for VariantsLoader {
    type Value = Vec<Arc<media::Model>>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(Uuid, MediaColumns)],
    ) -> LoadResult<(Uuid, MediaColumns), Vec<Arc<media::Model>>> {
        let mut by_columns: HashMap<MediaColumns, Vec<Uuid>> = HashMap::new();
        for (original, columns) in keys {
            by_columns.entry(*columns).or_default().push(*original);
        }
        let mut out: HashMap<(Uuid, MediaColumns), Vec<Arc<media::Model>>> = HashMap::new();
        for (columns, originals) in by_columns {
            let pairs =
                store::links::variants_of(&self.0.services.db, self.0.viewer, &originals, columns)
                    .await
                    .map_err(db_error)?;
            for (original, variant) in pairs {
                out.entry((original, columns))
                    .or_default()
                    .push(Arc::new(variant));
            }
        }
        Ok(out)
    }
}

/// A page of members per album, the per-album limit inside the SQL.
pub(crate) struct MembersLoader(Scope);

impl Loader<(Uuid, MemberPage)> for MembersLoader {
    type Value = Vec<Arc<Member>>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(Uuid, MemberPage)],
    ) -> LoadResult<(Uuid, MemberPage), Vec<Arc<Member>>> {
        let mut by_page: HashMap<&MemberPage, Vec<Uuid>> = HashMap::new();
        for (album, page) in keys {
            by_page.entry(page).or_default().push(*album);
        }
        let mut out: HashMap<(Uuid, MemberPage), Vec<Arc<Member>>> = HashMap::new();
        for (page, albums) in by_page {
            let rows =
                store::links::member_pages(&self.0.services.db, self.0.viewer, &albums, page)
                    .await
                    .map_err(db_error)?;
            for album in &albums {
                out.entry((*album, *page)).or_default();
            }
            for member in rows {
                out.entry((member.album, *page))
                    .or_default()
                    .push(Arc::new(member));
            }
        }
        Ok(out)
    }
}

/// A page of links per parent object, the per-parent limit inside the SQL.
pub(crate) struct LinkPagesLoader(Scope);

impl Loader<(Uuid, LinkPage)> for LinkPagesLoader {
    type Value = Vec<links::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(Uuid, LinkPage)],
    ) -> LoadResult<(Uuid, LinkPage), Vec<links::Model>> {
        let mut by_page: HashMap<&LinkPage, Vec<Uuid>> = HashMap::new();
        for (parent, page) in keys {
            by_page.entry(page).or_default().push(*parent);
        }
        let mut out: HashMap<(Uuid, LinkPage), Vec<links::Model>> = HashMap::new();
        for (page, parents) in by_page {
            let rows = store::links::link_pages(&self.0.services.db, self.0.viewer, &parents, page)
                .await
                .map_err(db_error)?;
            for parent in &parents {
                out.entry((*parent, page.clone())).or_default();
            }
            for (parent, link) in rows {
                out.entry((parent, page.clone())).or_default().push(link);
            }
        }
        Ok(out)
    }
}

/// Visible link counts per parent, for `totalCount`.
pub(crate) struct LinkCountsLoader(Scope);

impl Loader<(Uuid, Option<Vec<String>>, Direction)> for LinkCountsLoader {
    type Value = i64;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(Uuid, Option<Vec<String>>, Direction)],
    ) -> LoadResult<(Uuid, Option<Vec<String>>, Direction), i64> {
        let mut groups: HashMap<(&Option<Vec<String>>, Direction), Vec<Uuid>> = HashMap::new();
        for (parent, types, direction) in keys {
            groups.entry((types, *direction)).or_default().push(*parent);
        }
        let mut out = HashMap::new();
        for ((types, direction), parents) in groups {
            let counts = store::links::link_counts(
                &self.0.services.db,
                self.0.viewer,
                &parents,
                types.as_deref(),
                direction,
            )
            .await
            .map_err(db_error)?;
            let counts: HashMap<Uuid, i64> = counts.into_iter().collect();
            for parent in parents {
                out.insert(
                    (parent, types.clone(), direction),
                    counts.get(&parent).copied().unwrap_or(0),
                );
            }
        }
        Ok(out)
    }
}

/// The active albums each media is in.
pub(crate) struct AlbumsOfMediaLoader(Scope);

impl Loader<Uuid> for AlbumsOfMediaLoader {
    type Value = Vec<albums::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, Vec<albums::Model>> {
        let pairs = store::albums::containing(&self.0.services.db, self.0.viewer, keys)
            .await
            .map_err(db_error)?;
        let mut out: HashMap<Uuid, Vec<albums::Model>> = HashMap::new();
        for (media, album) in pairs {
            out.entry(media).or_default().push(album);
        }
        Ok(out)
    }
}

/// Media linked `duplicate_of` to each media, either way.
pub(crate) struct DuplicatesLoader(Scope);

impl Loader<Uuid> for DuplicatesLoader {
    type Value = Vec<media::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, Vec<media::Model>> {
        let pairs = store::links::duplicates_of(&self.0.services.db, self.0.viewer, keys)
            .await
            .map_err(db_error)?;
        let mut out: HashMap<Uuid, Vec<media::Model>> = HashMap::new();
        for (media, dup) in pairs {
            out.entry(media).or_default().push(dup);
        }
        Ok(out)
    }
}

/// The first member of each album (the default cover).
pub(crate) struct FirstMemberLoader(Scope);

impl Loader<Uuid> for FirstMemberLoader {
    type Value = media::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, media::Model> {
        Ok(
            store::links::first_members(&self.0.services.db, self.0.viewer, keys)
                .await
                .map_err(db_error)?
                .into_iter()
                .collect(),
        )
    }
}

/// Whether each integration has credentials (never the credentials themselves).
pub(crate) struct CredentialsLoader(Scope);

impl Loader<Uuid> for CredentialsLoader {
    type Value = bool;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, bool> {
        let with = store::integrations::with_secrets(&self.0.services.db, self.0.viewer, keys)
            .await
            .map_err(db_error)?;
        Ok(keys.iter().map(|k| (*k, with.contains(k))).collect())
    }
}

/// The integration each media came from.
pub(crate) struct SourceLoader(Scope);

impl Loader<Uuid> for SourceLoader {
    type Value = integrations::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, integrations::Model> {
        let pairs = store::integrations::sources_of(&self.0.services.db, self.0.viewer, keys)
            .await
            .map_err(db_error)?;
        let mut out = HashMap::new();
        for (media, integration) in pairs {
            out.entry(media).or_insert(integration);
        }
        Ok(out)
    }
}

/// The viewer's active tags on each media, by name.
pub(crate) struct TagsOfMediaLoader(Scope);

impl Loader<Uuid> for TagsOfMediaLoader {
    type Value = Vec<tags::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Uuid, Vec<tags::Model>> {
        let pairs = store::tags::of_media(&self.0.services.db, self.0.viewer, keys)
            .await
            .map_err(db_error)?;
        let mut out: HashMap<Uuid, Vec<tags::Model>> = HashMap::new();
        for (media, tag) in pairs {
            out.entry(media).or_default().push(tag);
        }
        Ok(out)
    }
}
