//! One level of the walk behind `traverse`: the user's active links that leave (or reach,
//! or touch) a set of nodes. The service walks level by level, each node once, so the work
//! is bounded by the nodes it visits rather than by the paths between them.

use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::links::Direction;
use super::sql::{self, Sql};

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
        let mut q = Sql::new(db.get_database_backend());
        let side = |q: &mut Sql, from: &str, to: &str| {
            q.push(&format!(
                "SELECT l.{to}_object_id AS node_id, l.{to}_object_type AS node_type, \
                        l.id AS via_link, l.{from}_object_id AS prev_id \
                 FROM links l WHERE l.deleted_at IS NULL AND l.user_id = "
            ))
            .bind(user_id)
            .push(" AND ")
            .in_ids(&format!("l.{from}_object_id"), chunk);
            if let Some(types) = types {
                q.push(" AND ").in_strings("l.link_type", types);
            }
            q.push(&format!(
                " AND {} AND {}",
                sql::end_active("l", from),
                sql::end_active("l", to)
            ));
        };
        match direction {
            Direction::Out => side(&mut q, "from", "to"),
            Direction::In => side(&mut q, "to", "from"),
            Direction::Both => {
                side(&mut q, "from", "to");
                q.push(" UNION ALL ");
                side(&mut q, "to", "from");
            }
        }
        let rows = db.query_all_raw(q.statement()).await?;
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
