//! Whose rows the database may show: the second wall behind the queries' own `user_id` filters.
//!
//! On PostgreSQL every table that belongs to a user has row-level security, forced on its
//! owner too, with policies keyed on the session setting `hypernet.viewer` (migration 9). The
//! pool sets it from the [`Scope`] of the task that runs the statement, so a query that forgot
//! its `user_id` filter still sees only the caller's rows:
//!
//! - a request runs as its signed-in user ([`Scope::User`]), or as nobody when it has no
//!   token ([`Scope::Anonymous`]: no user's row at all);
//! - [`Scope::System`] is work that has no single user: signing in before the user is known
//!   (`login`, `register`, `refreshSession`), the maintenance sweep, the thumbnail worker,
//!   a download through a signed URL once its signature has been checked, and the operator's
//!   commands. It is entered only through [`as_system`], at those places.
//!
//! A statement outside a transaction takes the scope of the task that sends it; a transaction
//! takes the scope in force when it begins. SQLite has no row-level security; the scope is
//! ignored there.

use std::future::Future;

use uuid::Uuid;

/// Whose rows the statements of a task may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Nobody's: tables that belong to users show no row.
    Anonymous,
    /// One user's rows.
    User(Uuid),
    /// Every user's rows, for the work listed in the module's doc.
    System,
}

/// The key of a user's advisory lock on PostgreSQL: the last eight bytes of the id, big-endian
/// (the change journal's trigger computes the same from the id's text, migration 11).
pub(crate) fn user_lock_key(user: Uuid) -> i64 {
    let bytes = user.as_bytes();
    i64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"))
}

impl Scope {
    /// The value of `hypernet.viewer` for this scope: what the policies compare with.
    pub(crate) fn setting(self) -> String {
        match self {
            Scope::Anonymous => String::new(),
            Scope::User(id) => id.hyphenated().to_string(),
            Scope::System => "system".to_string(),
        }
    }

    /// The scope of a request made by `viewer`, or by nobody.
    pub fn of(viewer: Option<Uuid>) -> Self {
        viewer.map_or(Scope::Anonymous, Scope::User)
    }
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// The scope of the running task: anonymous unless one was entered.
pub(crate) fn current() -> Scope {
    SCOPE.try_with(|s| *s).unwrap_or(Scope::Anonymous)
}

/// Runs `work` in `scope`.
pub async fn within<F: Future>(scope: Scope, work: F) -> F::Output {
    SCOPE.scope(scope, work).await
}

/// Runs `work` as the system: every user's rows. Only for the work the module's doc lists.
pub async fn as_system<F: Future>(work: F) -> F::Output {
    within(Scope::System, work).await
}
