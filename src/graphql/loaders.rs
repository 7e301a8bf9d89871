//! DataLoaders, built per request so that their caches never cross users: every nested read
//! of a list is one batched query.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::media;
use uuid::Uuid;

use crate::error::AppError;
use crate::service::Services;
use crate::store;

/// The loaders of one request.
pub(crate) struct Loaders {
    pub variants: DataLoader<VariantsLoader>,
}

impl Loaders {
    pub(crate) fn new(services: Arc<Services>) -> Arc<Self> {
        Arc::new(Self {
            variants: DataLoader::new(VariantsLoader(services), tokio::spawn),
        })
    }
}

/// Thumbnails by original id, smallest first.
pub(crate) struct VariantsLoader(Arc<Services>);

impl Loader<Uuid> for VariantsLoader {
    type Value = Vec<media::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let pairs = store::links::variants_of(&self.0.db, keys)
            .await
            .map_err(AppError::from)?;
        let mut out: HashMap<Uuid, Vec<media::Model>> = HashMap::new();
        for (original, variant) in pairs {
            out.entry(original).or_default().push(variant);
        }
        Ok(out)
    }
}
