//! Persisted documents: automatic persisted queries (a client registers a document under the
//! SHA-256 of its text, then sends only the hash) and trusted documents (the operator adds the
//! documents apps may run, and `HYPERNET_DOCUMENTS=trusted` runs those only). Kept in the
//! database, so every instance knows every document; read through a small cache, since a
//! document never changes under its id.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use entity::persisted_documents;
use lru::LruCache;
use sha2::{Digest, Sha256};

use super::Services;
use crate::error::{AppError, AppResult};
use crate::store;

/// The largest document a client may register.
pub(crate) const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// Documents by id, most recently used kept.
pub(crate) struct DocumentCache(Mutex<LruCache<String, Arc<persisted_documents::Model>>>);

impl DocumentCache {
    pub(crate) fn new() -> Self {
        Self(Mutex::new(LruCache::new(
            NonZeroUsize::new(1024).expect("not zero"),
        )))
    }

    fn get(&self, id: &str) -> Option<Arc<persisted_documents::Model>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    fn put(&self, doc: Arc<persisted_documents::Model>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(doc.id.clone(), doc);
    }
}

/// The id automatic persisted queries give a document: its SHA-256, in hex.
pub(crate) fn sha256_id(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Services {
    /// The persisted document `id`, if there is one; `trusted_only`: when a cached document
    /// is not trusted, ask the database whether the operator has trusted it since. The text
    /// under an id never changes, so every document is cached: hash-only requests, the common
    /// case, read no row.
    pub(crate) async fn persisted_document(
        &self,
        id: &str,
        trusted_only: bool,
    ) -> AppResult<Option<Arc<persisted_documents::Model>>> {
        if let Some(doc) = self.documents.get(id)
            && (doc.trusted || !trusted_only)
        {
            return Ok(Some(doc));
        }
        let Some(doc) = store::documents::find(&self.db, id).await? else {
            return Ok(None);
        };
        let doc = Arc::new(doc);
        self.documents.put(doc.clone());
        Ok(Some(doc))
    }

    /// Registers `text` under its SHA-256 (automatic persisted queries), evicting the oldest
    /// registered documents beyond the configured number.
    pub(crate) async fn register_document(&self, text: &str) -> AppResult<()> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(AppError::bad_input(
                "query",
                format!("a persisted document holds at most {MAX_DOCUMENT_BYTES} bytes"),
            ));
        }
        let id = sha256_id(text);
        if self.documents.get(&id).is_some() {
            return Ok(());
        }
        store::documents::insert(&self.db, &id, text, false).await?;
        store::documents::evict_registered(&self.db, self.max_persisted_documents).await?;
        Ok(())
    }

    /// Adds documents as trusted (`hypernet documents add`). A document already registered
    /// under an id becomes trusted; another text under a known id is refused. How many were
    /// new.
    pub async fn add_trusted_documents(&self, docs: &[(String, String)]) -> AppResult<usize> {
        let txn = self.db.begin_write().await?;
        let mut added = 0;
        for (id, body) in docs {
            if id.is_empty() || id.len() > 128 {
                return Err(AppError::bad_input(
                    "id",
                    format!("a document id has 1 to 128 characters: `{id}`"),
                ));
            }
            match store::documents::find(&txn, id).await? {
                Some(known) if known.body != *body => {
                    return Err(AppError::Conflict(format!(
                        "the document `{id}` is already known with another text"
                    )));
                }
                Some(known) if !known.trusted => store::documents::trust(&txn, id).await?,
                Some(_) => {}
                None => {
                    store::documents::insert(&txn, id, body, true).await?;
                    added += 1;
                }
            }
        }
        txn.commit().await?;
        Ok(added)
    }
}

/// The documents of a persisted-documents file, as (id, text): a JSON object of id to text
/// (what relay-compiler and graphql-codegen's client preset write), or Apollo's persisted
/// query manifest (`{"format": "apollo-persisted-query-manifest", "operations": [...]}`).
pub fn parse_documents_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let serde_json::Value::Object(map) = json else {
        return Err("expected a JSON object".into());
    };
    if map.get("format").and_then(|f| f.as_str()) == Some("apollo-persisted-query-manifest") {
        let ops = map
            .get("operations")
            .and_then(|o| o.as_array())
            .ok_or("the manifest has no `operations`")?;
        return ops
            .iter()
            .map(|op| {
                let field = |name: &str| {
                    op.get(name)
                        .and_then(|v| v.as_str())
                        .map(String::from)
                        .ok_or_else(|| format!("an operation has no `{name}`"))
                };
                Ok((field("id")?, field("body")?))
            })
            .collect();
    }
    map.into_iter()
        .map(|(id, body)| match body {
            serde_json::Value::String(text) => Ok((id, text)),
            _ => Err(format!("the document `{id}` is not a string")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_relay_codegen_and_apollo_are_read() {
        let relay = r#"{"a1b2": "query Q { viewer { id } }"}"#;
        assert_eq!(
            parse_documents_file(relay).unwrap(),
            [("a1b2".to_string(), "query Q { viewer { id } }".to_string())]
        );
        let apollo = r#"{"format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{"id": "ff", "name": "Q", "type": "query", "body": "query Q { viewer { id } }"}]}"#;
        assert_eq!(parse_documents_file(apollo).unwrap()[0].0, "ff");
        assert!(parse_documents_file("[1]").is_err());
        assert!(parse_documents_file(r#"{"x": 1}"#).is_err());
    }

    #[test]
    fn automatic_ids_are_the_sha256_of_the_text() {
        assert_eq!(
            sha256_id("{ viewer { id } }"),
            hex::encode(Sha256::digest(b"{ viewer { id } }"))
        );
    }
}
