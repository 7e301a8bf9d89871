//! The bounded walk behind `traverse`: one recursive query over the user's active links.
//! Each row is a step (node, depth, the link taken, the node it came from); `UNION` keeps the
//! rows distinct and the depth bound ends the recursion, so cycles are harmless.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Value};
use uuid::Uuid;

use super::links::{Direction, ObjectKind};
use super::sql;

/// One step of the walk.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub node: Uuid,
    pub kind: String,
    pub depth: i32,
    pub via: Uuid,
    pub prev: Uuid,
}

pub(crate) async fn walk(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    start: (ObjectKind, Uuid),
    types: Option<&[String]>,
    direction: Direction,
    max_depth: i32,
) -> Result<Vec<Step>, DbErr> {
    let uuid_type = match db.get_database_backend() {
        DbBackend::Postgres => "uuid",
        _ => "blob",
    };
    let (join, next_id, next_kind) = match direction {
        Direction::Out => (
            "l.from_object_id = w.node_id",
            "l.to_object_id",
            "l.to_object_type",
        ),
        Direction::In => (
            "l.to_object_id = w.node_id",
            "l.from_object_id",
            "l.from_object_type",
        ),
        Direction::Both => (
            "(l.from_object_id = w.node_id OR l.to_object_id = w.node_id)",
            "CASE WHEN l.from_object_id = w.node_id THEN l.to_object_id ELSE l.from_object_id END",
            "CASE WHEN l.from_object_id = w.node_id THEN l.to_object_type ELSE l.from_object_type END",
        ),
    };
    let mut values: Vec<Value> = vec![
        start.1.into(),
        start.0.as_str().into(),
        max_depth.into(),
        user_id.into(),
    ];
    let type_filter = match types {
        Some(types) => {
            values.extend(types.iter().map(|t| Value::from(t.clone())));
            format!("AND l.link_type IN ({})", sql::marks(types.len()))
        }
        None => String::new(),
    };
    let query = format!(
        "WITH RECURSIVE walk(node_id, node_type, depth, via_link, prev_id) AS (
            SELECT CAST(? AS {uuid_type}), CAST(? AS VARCHAR(50)), 0, CAST(NULL AS {uuid_type}), CAST(NULL AS {uuid_type})
            UNION
            SELECT {next_id}, {next_kind}, w.depth + 1, l.id, w.node_id
            FROM walk w JOIN links l ON {join}
            WHERE w.depth < ? AND l.user_id = ? AND l.deleted_at IS NULL {type_filter}
              AND {from_active} AND {to_active}
         )
         SELECT node_id, node_type, depth, via_link, prev_id FROM walk WHERE depth > 0",
        from_active = sql::end_active("l", "from"),
        to_active = sql::end_active("l", "to"),
    );
    let rows = db
        .query_all_raw(sql::statement(db.get_database_backend(), &query, values))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Step {
                node: row.try_get("", "node_id")?,
                kind: row.try_get("", "node_type")?,
                depth: row.try_get("", "depth")?,
                via: row.try_get("", "via_link")?,
                prev: row.try_get("", "prev_id")?,
            })
        })
        .collect()
}
