//! One level of the walk behind `traverse`: the user's active links that leave (or reach,
//! or touch) a set of nodes. The service walks level by level, each node once, so the work
//! is bounded by the nodes it visits rather than by the paths between them.

use sea_orm::{ConnectionTrait, DbErr, Value};
use uuid::Uuid;

use super::links::Direction;
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

/// Nodes of the frontier per statement.
const CHUNK: usize = 500;

/// The steps from `frontier` over one link (active, of the user, of `types` when given),
/// with `depth` set to `depth`.
pub(crate) async fn level(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    frontier: &[Uuid],
    types: Option<&[String]>,
    direction: Direction,
    depth: i32,
) -> Result<Vec<Step>, DbErr> {
    let mut steps = Vec::new();
    for chunk in frontier.chunks(CHUNK) {
        let mut values: Vec<Value> = Vec::new();
        let mut side = |from: &str, to: &str| {
            values.push(user_id.into());
            values.extend(chunk.iter().map(|id| Value::from(*id)));
            let type_filter = match types {
                Some(types) => {
                    values.extend(types.iter().map(|t| Value::from(t.clone())));
                    format!("AND l.link_type IN ({})", sql::marks(types.len()))
                }
                None => String::new(),
            };
            format!(
                "SELECT l.{to}_object_id AS node_id, l.{to}_object_type AS node_type, \
                        l.id AS via_link, l.{from}_object_id AS prev_id \
                 FROM links l \
                 WHERE l.user_id = ? AND l.deleted_at IS NULL AND l.{from}_object_id IN ({marks}) \
                   {type_filter} AND {from_active} AND {to_active}",
                marks = sql::marks(chunk.len()),
                from_active = sql::end_active("l", "from"),
                to_active = sql::end_active("l", "to"),
            )
        };
        let query = match direction {
            Direction::Out => side("from", "to"),
            Direction::In => side("to", "from"),
            Direction::Both => {
                let out = side("from", "to");
                let inward = side("to", "from");
                format!("{out} UNION ALL {inward}")
            }
        };
        let rows = db
            .query_all_raw(sql::statement(db.get_database_backend(), &query, values))
            .await?;
        for row in &rows {
            steps.push(Step {
                node: row.try_get("", "node_id")?,
                kind: row.try_get("", "node_type")?,
                depth,
                via: row.try_get("", "via_link")?,
                prev: row.try_get("", "prev_id")?,
            });
        }
    }
    Ok(steps)
}
