//! Raw SQL for the queries the builder cannot say (window functions, lateral joins, unions),
//! written with [`Sql`]: text and values side by side, each placeholder written by the
//! binder as its value is bound.

use sea_orm::{DbBackend, Statement, Value};
use uuid::Uuid;

use crate::kinds::ObjectKind;

/// A statement being written: text pushed as it is, placeholders written by [`Sql::bind`] in
/// the backend's style (`$n` on PostgreSQL, `?` on SQLite). The text is never scanned for
/// placeholders, so nothing in it (a literal, jsonb's `?` operator) can be taken for one, and a
/// value cannot land on another's placeholder.
pub(crate) struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::with_capacity(256),
            values: Vec::new(),
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.values.len().to_string());
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends "`expr` is one of `items`": `expr = ?` for one item, else `expr IN (?, …)` with
    /// the list padded to a power of two by repeating its last item. A statement's text then
    /// takes one of a few shapes whatever the number of items (so the prepared-statement cache
    /// holds a handful per query, not one per length), and the planner still sees about how
    /// many there are: an array parameter (`= ANY($n)`) would keep one text but be estimated at
    /// ten items in PostgreSQL's generic plans, which sent traverse's wide levels to the wrong
    /// index. `items` must not be empty.
    fn any_of(&mut self, expr: &str, items: Vec<Value>) -> &mut Self {
        self.push(expr);
        if items.len() == 1 {
            let item = items.into_iter().next().expect("one item");
            return self.push(" = ").bind(item);
        }
        let padded = items.len().next_power_of_two();
        let last = items.last().cloned().expect("not empty");
        self.push(" IN (");
        for (i, item) in items
            .into_iter()
            .chain(std::iter::repeat(last))
            .take(padded)
            .enumerate()
        {
            if i > 0 {
                self.push(", ");
            }
            self.bind(item);
        }
        self.push(")")
    }

    /// `expr` is one of these ids (see [`Sql::any_of`]).
    pub(crate) fn in_ids(&mut self, expr: &str, ids: &[Uuid]) -> &mut Self {
        self.any_of(expr, ids.iter().map(|id| Value::from(*id)).collect())
    }

    /// `expr` is one of these strings (see [`Sql::any_of`]).
    pub(crate) fn in_strings(&mut self, expr: &str, items: &[String]) -> &mut Self {
        self.any_of(expr, items.iter().map(|s| Value::from(s.clone())).collect())
    }

    /// The ids as one relation `alias(column)`, a row each, for a PostgreSQL `FROM`: a
    /// `VALUES` list padded to a power of two like [`Sql::any_of`]'s lists (the padding removed
    /// by `DISTINCT`), so that the planner knows about how many rows to expect. (SQLite names
    /// a `VALUES` list's columns itself; its queries use [`Sql::in_ids`].)
    pub(crate) fn ids_relation(&mut self, ids: &[Uuid], alias: &str, column: &str) -> &mut Self {
        debug_assert!(self.is_postgres(), "a PostgreSQL relation");
        self.push(&format!("(SELECT DISTINCT {column} FROM ("))
            .values(ids.iter().map(|id| Value::from(*id)).collect(), "uuid")
            .push(&format!(") AS v({column})) AS {alias}"))
    }

    /// `VALUES (?::cast), …`, a row per value in their order, the list padded to a power of
    /// two by repeating its last value (see [`Sql::any_of`]). `values` must not be empty.
    pub(crate) fn values(&mut self, values: Vec<Value>, cast: &str) -> &mut Self {
        let padded = values.len().next_power_of_two();
        let last = values.last().cloned().expect("values of none");
        self.push("VALUES ");
        for (i, value) in values
            .into_iter()
            .chain(std::iter::repeat(last))
            .take(padded)
            .enumerate()
        {
            if i > 0 {
                self.push(", ");
            }
            self.push("(").bind(value).push("::").push(cast).push(")");
        }
        self
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
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
    fn placeholders_are_written_by_the_binder() {
        let mut q = Sql::new(DbBackend::Postgres);
        q.push("SELECT '?' , metadata ? 'k' FROM t WHERE a = ")
            .bind(1)
            .push(" AND ")
            .in_ids("b", &[Uuid::nil(), Uuid::max()])
            .push(" AND c = ")
            .bind("x")
            .push(" FROM ")
            .ids_relation(&[Uuid::nil(), Uuid::max(), Uuid::nil()], "p", "id");
        let stmt = q.statement();
        assert_eq!(
            stmt.sql,
            "SELECT '?' , metadata ? 'k' FROM t WHERE a = $1 AND b IN ($2, $3) AND c = $4 \
             FROM (SELECT DISTINCT id FROM (VALUES ($5::uuid), ($6::uuid), ($7::uuid), ($8::uuid)) \
             AS v(id)) AS p"
        );
        let values = stmt.values.unwrap().0;
        assert_eq!(values.len(), 8);
        assert_eq!(
            values[7],
            Value::from(Uuid::nil()),
            "padded with the last id"
        );

        let mut q = Sql::new(DbBackend::Sqlite);
        q.push("a = ")
            .bind(1)
            .push(" AND ")
            .in_strings("b", &["x".into(), "y".into(), "z".into()])
            .push(" AND ")
            .in_ids("c", &[Uuid::nil()]);
        let stmt = q.statement();
        assert_eq!(stmt.sql, "a = ? AND b IN (?, ?, ?, ?) AND c = ?");
        // Padded with its last item.
        let values = stmt.values.unwrap().0;
        assert_eq!(values.len(), 6);
        assert_eq!(values[4], Value::from("z"));
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
