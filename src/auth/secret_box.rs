//! Integration secrets at rest: XChaCha20-Poly1305 with a fresh random 24-byte nonce per value
//! and the row's identity as associated data, so that a ciphertext copied to another row or
//! field does not decrypt. Each row records the id of the key that sealed it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// One encryption key and its id.
pub(crate) struct SecretBox {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SecretBox {
    /// A box for a 32-byte key.
    pub(crate) fn new(key: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            key.len() == KEY_LEN,
            "the secrets key must be {KEY_LEN} bytes (64 hex digits)"
        );
        let id = hex::encode(&Sha256::digest(key)[..8]);
        let cipher = XChaCha20Poly1305::new_from_slice(key)
            .map_err(|_| anyhow::anyhow!("invalid secrets key"))?;
        Ok(Self { id, cipher })
    }

    /// Parses a key given as 64 hex digits.
    pub(crate) fn from_hex(hex_key: &str) -> anyhow::Result<Self> {
        let key = hex::decode(hex_key.trim())
            .map_err(|_| anyhow::anyhow!("the secrets key must be 64 hex digits"))?;
        Self::new(&key)
    }

    /// The id stored beside every value this key seals.
    pub(crate) fn key_id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` for the place named by `aad`: base64 of nonce and ciphertext.
    pub(crate) fn seal(&self, plaintext: &str, aad: &str) -> anyhow::Result<String> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = XNonce::from(nonce_bytes);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing a secret failed"))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(STANDARD_NO_PAD.encode(out))
    }

    /// Opens a value sealed by this key for the place named by `aad`.
    pub(crate) fn open(&self, sealed: &str, aad: &str) -> anyhow::Result<String> {
        let raw = STANDARD_NO_PAD
            .decode(sealed)
            .map_err(|_| anyhow::anyhow!("a sealed secret is not valid base64"))?;
        anyhow::ensure!(raw.len() > NONCE_LEN, "a sealed secret is too short");
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!("a sealed secret does not open here (wrong key or wrong row)")
            })?;
        Ok(String::from_utf8(plain)?)
    }
}

/// The associated data of one secret field of one integration.
pub(crate) fn aad(integration_id: uuid::Uuid, field: &str) -> String {
    format!("hypernet/integration_secrets/{integration_id}/{field}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(byte: u8) -> SecretBox {
        SecretBox::new(&[byte; 32]).unwrap()
    }

    #[test]
    fn sealed_values_open_only_in_their_place() {
        let b = boxed(1);
        let here = aad(uuid::Uuid::nil(), "access_token");
        let sealed = b.seal("canary-secret", &here).unwrap();
        assert!(!sealed.contains("canary"));
        assert_eq!(b.open(&sealed, &here).unwrap(), "canary-secret");
        assert!(
            b.open(&sealed, &aad(uuid::Uuid::max(), "access_token"))
                .is_err(),
            "another row"
        );
        assert!(
            b.open(&sealed, &aad(uuid::Uuid::nil(), "refresh_token"))
                .is_err(),
            "another field"
        );
        assert!(boxed(2).open(&sealed, &here).is_err(), "another key");
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let b = boxed(1);
        assert_ne!(b.seal("same", "x").unwrap(), b.seal("same", "x").unwrap());
    }

    #[test]
    fn keys_have_stable_ids_and_must_be_32_bytes() {
        assert_eq!(boxed(1).key_id(), boxed(1).key_id());
        assert_ne!(boxed(1).key_id(), boxed(2).key_id());
        assert_eq!(boxed(1).key_id().len(), 16);
        assert!(SecretBox::new(&[0; 16]).is_err());
        assert!(SecretBox::from_hex("zz").is_err());
    }
}
