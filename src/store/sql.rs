//! Raw SQL for the queries the builder cannot say (window functions, recursive CTEs), written
//! once with `?` placeholders and numbered for PostgreSQL here.

use crate::kinds::ObjectKind;
use sea_orm::{DbBackend, Statement, Value};

/// A statement from SQL written with `?` placeholders (none may appear elsewhere in it).
pub(crate) fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(ch);
                }
            }
            out
        }
        _ => sql.to_string(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `?, ?, ?` for `n` values.
pub(crate) fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `alias.col AS prefixcol, …` for every column of an entity, in its order.
pub(crate) fn columns<E: sea_orm::EntityTrait>(alias: &str, prefix: &str) -> String {
    use sea_orm::{IdenStatic, Iterable};
    let names: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
    super::rows::select_list(alias, prefix, &names)
}

/// The condition "the object at this end of link `alias` is not deleted and belongs to the
/// link's user": links to deleted objects are hidden from every read (and come back when the
/// object is restored), and a link never shows another user's object. One clause per kind of
/// [`ObjectKind::ALL`], from the kinds' table.
pub(crate) fn end_active(alias: &str, end: &str) -> String {
    let clauses: Vec<String> = ObjectKind::ALL
        .into_iter()
        .map(|kind| {
            let spec = kind.kind().spec();
            let trash = if spec.trashed {
                " AND x.deleted_at IS NULL"
            } else {
                ""
            };
            format!(
                "({alias}.{end}_object_type = '{name}' AND EXISTS (SELECT 1 FROM {table} x \
                 WHERE x.id = {alias}.{end}_object_id AND x.{owner} = {alias}.user_id{trash}))",
                name = kind.as_str(),
                table = spec.table,
                owner = spec.owner,
            )
        })
        .collect();
    format!("({})", clauses.join(" OR "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        let s = statement(
            DbBackend::Postgres,
            "a = ? AND b IN (?, ?)",
            vec![1.into(), 2.into(), 3.into()],
        );
        assert_eq!(s.sql, "a = $1 AND b IN ($2, $3)");
        let s = statement(DbBackend::Sqlite, "a = ?", vec![1.into()]);
        assert_eq!(s.sql, "a = ?");
        assert_eq!(marks(3), "?, ?, ?");
    }

    #[test]
    fn links_to_a_trashed_object_of_every_link_kind_are_hidden() {
        let sql = end_active("l", "to");
        for kind in ObjectKind::ALL {
            let clause = format!(
                "l.to_object_type = '{}' AND EXISTS (SELECT 1 FROM {} x",
                kind.as_str(),
                kind.kind().spec().table
            );
            assert!(sql.contains(&clause), "{sql}");
        }
        assert_eq!(
            sql.matches("x.deleted_at IS NULL").count(),
            ObjectKind::ALL.len()
        );
        assert_eq!(sql.matches("= l.user_id").count(), ObjectKind::ALL.len());
    }
}
