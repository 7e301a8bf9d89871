//! Short-lived access tokens: HS256 JWTs with `sub`, `sid` (the session: the refresh-token
//! family it was issued for), `jti`, `exp`, `iat`, `iss` and `aud`, the algorithm pinned
//! when verifying. A token without a session is refused.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ISSUER: &str = "hypernet";
const AUDIENCE: &str = "hypernet-api";
/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    jti: String,
    exp: i64,
    iat: i64,
    iss: String,
    aud: String,
}

/// Signs and verifies access tokens with one secret.
pub(crate) struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl AccessTokens {
    pub(crate) fn new(secret: &[u8], ttl: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= 32,
            "the JWT secret must be at least 32 bytes long"
        );
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            ttl,
        })
    }

    /// A token for `user_id` in `session`, and the moment it expires.
    pub(crate) fn issue(
        &self,
        user_id: Uuid,
        session: Uuid,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let now = Utc::now().trunc_subsecs(0);
        let expires_at = now + self.ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session.to_string(),
            jti: Uuid::new_v4().simple().to_string(),
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, expires_at))
    }

    /// The user a valid token speaks for and its session; `None` for anything invalid or
    /// expired. Whether the session is still open is for the caller to check.
    pub(crate) fn verify(&self, token: &str) -> Option<(Uuid, Uuid)> {
        self.verify_until(token)
            .map(|(user, session, _)| (user, session))
    }

    /// As [`verify`](Self::verify), with the moment the token stops being accepted (its
    /// `exp`, plus the leeway).
    pub(crate) fn verify_until(&self, token: &str) -> Option<(Uuid, Uuid, DateTime<Utc>)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let until = DateTime::from_timestamp(data.claims.exp.checked_add(LEEWAY_SECS as i64)?, 0)?;
        Some((
            Uuid::parse_str(&data.claims.sub).ok()?,
            Uuid::parse_str(&data.claims.sid).ok()?,
            until,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ttl_secs: u64) -> AccessTokens {
        AccessTokens::new(&[7u8; 32], Duration::from_secs(ttl_secs)).unwrap()
    }

    #[test]
    fn round_trip() {
        let t = tokens(60);
        let (id, sid) = (Uuid::now_v7(), Uuid::now_v7());
        let (token, _) = t.issue(id, sid).unwrap();
        assert_eq!(t.verify(&token), Some((id, sid)));
    }

    #[test]
    fn other_secrets_and_tampering_are_refused() {
        let (token, _) = tokens(60).issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();
        let other = AccessTokens::new(&[8u8; 32], Duration::from_secs(60)).unwrap();
        assert_eq!(other.verify(&token), None);
        let mut tampered = token.clone();
        tampered.push('x');
        assert_eq!(tokens(60).verify(&tampered), None);
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        // alg "none" with the same claims
        let header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
        let exp = Utc::now().timestamp() + 600;
        let body = base64_url(
            format!(
                r#"{{"sub":"{}","exp":{exp},"iat":0,"iss":"hypernet","aud":"hypernet-api"}}"#,
                Uuid::now_v7()
            )
            .as_bytes(),
        );
        assert_eq!(tokens(60).verify(&format!("{header}.{body}.")), None);
    }

    #[test]
    fn expired_tokens_are_refused() {
        let t = AccessTokens::new(&[7u8; 32], Duration::ZERO).unwrap();
        let claims = Claims {
            sub: Uuid::now_v7().to_string(),
            sid: Uuid::now_v7().to_string(),
            jti: "1".into(),
            exp: Utc::now().timestamp() - 2 * LEEWAY_SECS as i64,
            iat: 0,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &t.encoding).unwrap();
        assert_eq!(t.verify(&token), None);
    }

    #[test]
    fn tokens_without_a_session_are_refused() {
        // What servers before sessions were checked issued: no `sid`.
        #[derive(Serialize)]
        struct Old {
            sub: String,
            exp: i64,
            iat: i64,
            iss: String,
            aud: String,
        }
        let t = tokens(60);
        let old = Old {
            sub: Uuid::now_v7().to_string(),
            exp: Utc::now().timestamp() + 600,
            iat: 0,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &t.encoding).unwrap();
        assert_eq!(t.verify(&token), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(AccessTokens::new(b"short", Duration::from_secs(60)).is_err());
    }

    fn base64_url(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}
