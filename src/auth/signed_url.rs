//! Short-lived signed URLs for media bytes, so that `<img src>` works without a header:
//! HMAC-SHA256 over the media id and the expiry, with a key derived from the server secret.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks content URLs.
pub(crate) struct UrlSigner {
    key: Vec<u8>,
}

impl UrlSigner {
    /// A signer whose key is derived from `secret`, so that it differs from the JWT key.
    pub(crate) fn new(secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
        mac.update(b"hypernet content-url signing key v1");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    fn mac(&self, media_id: Uuid, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(media_id.as_bytes());
        mac.update(&expires.to_be_bytes());
        mac
    }

    /// The signature for `media_id` valid until `expires`, in hex.
    pub(crate) fn sign(&self, media_id: Uuid, expires: DateTime<Utc>) -> String {
        hex::encode(
            self.mac(media_id, expires.timestamp())
                .finalize()
                .into_bytes(),
        )
    }

    /// Whether `signature` was made by this server for `media_id` and `expires` has not passed.
    pub(crate) fn verify(
        &self,
        media_id: Uuid,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> bool {
        if expires < now.timestamp() {
            return false;
        }
        let Ok(bytes) = hex::decode(signature) else {
            return false;
        };
        self.mac(media_id, expires).verify_slice(&bytes).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn signatures_verify_until_they_expire() {
        let signer = UrlSigner::new(b"a server secret of some length!!");
        let id = Uuid::now_v7();
        let now = Utc::now();
        let exp = now + Duration::hours(1);
        let sig = signer.sign(id, exp);
        assert!(signer.verify(id, exp.timestamp(), &sig, now));
        assert!(
            !signer.verify(id, exp.timestamp(), &sig, now + Duration::hours(2)),
            "expired"
        );
        assert!(
            !signer.verify(Uuid::now_v7(), exp.timestamp(), &sig, now),
            "another media"
        );
        assert!(
            !signer.verify(id, exp.timestamp() + 3600, &sig, now),
            "a stretched expiry"
        );
        let mut tampered = sig.clone();
        tampered.replace_range(0..1, if &sig[0..1] == "0" { "1" } else { "0" });
        assert!(!signer.verify(id, exp.timestamp(), &tampered, now));
        assert!(!signer.verify(id, exp.timestamp(), "zz", now));
        let other = UrlSigner::new(b"another server's secret, longer!");
        assert!(!other.verify(id, exp.timestamp(), &sig, now));
    }
}
