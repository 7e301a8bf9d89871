//! Credentials and tokens: password hashing, access tokens, refresh tokens, generated secrets.
//! Depends on nothing else in the crate but the error type.

pub(crate) mod jwt;
pub(crate) mod password;
pub(crate) mod secret_box;
pub(crate) mod secret_file;
pub(crate) mod signed_url;
pub(crate) mod tokens;
