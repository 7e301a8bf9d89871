//! Random valid query documents over the real schema, for differential tests of the
//! executors: a seed and the ids of a seeded graph give one document and its variables.
//!
//! The generator walks `schema.graphql` (so new fields are generated without edits) and
//! produces what clients send and executors get wrong: aliases, one response key selected
//! several times with different sub-selections (directly, through fragments, and on
//! different object types), named fragments reused and nested, inline fragments with and
//! without type conditions, fragments on interfaces and unions, `__typename` on abstract
//! types, `@skip`/`@include` with literals and variables, variables given, defaulted and
//! left out. Every document passes validation by construction (see `keys.rs`), within the
//! bounds below, which keep it inside the server's limits.

mod keys;
mod schema;
mod select;
mod tests;
mod usage;
mod values;

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use keys::Keys;
use select::{Fragment, Sel};
use values::Variables;

/// Deepest field nesting of a document (the server refuses past its `max_depth`).
const MAX_DEPTH: usize = 11;
/// Most list levels (pages, lists of objects) nested in one another.
const MAX_LEVELS: usize = 3;
/// Most items a path may fan out to (the product of its page sizes), which bounds the
/// document's complexity.
const MAX_FANOUT: usize = 500;
/// Most aliased fields in a document (the server's default limit is 30).
const MAX_ALIASES: usize = 24;
/// Most named fragments in a document.
const MAX_FRAGMENTS: usize = 8;

/// Ids of the seeded graph the documents may name (global ids as the API returns them).
pub struct World {
    /// The viewer's `User` id.
    pub user: String,
    pub media: Vec<String>,
    pub albums: Vec<String>,
    pub links: Vec<String>,
    pub integrations: Vec<String>,
    pub tags: Vec<String>,
    /// Ids that resolve to null or `NOT_FOUND`: another user's objects (and the viewer's
    /// objects in the trash, which behave the same).
    pub foreign: Vec<String>,
    /// Link types present in the graph, e.g. `contains`, `similar_to`.
    pub link_types: Vec<String>,
}

/// A query document and the `variables` to send with it.
pub struct Generated {
    pub query: String,
    pub variables: serde_json::Value,
}

/// The document of `seed` over `world`: the same seed gives the same text.
pub fn generate(seed: u64, world: &World) -> Generated {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut generator = Gen {
        budget: rng.random_range(8..=60),
        rng,
        world,
        keys: Keys::default(),
        fragments: Vec::new(),
        vars: Variables::default(),
        seen: HashSet::new(),
    };
    let root = generator.root_selection();
    Generated {
        query: generator.document(&root),
        variables: generator.vars.values(),
    }
}

/// The state of one document being generated.
struct Gen<'w> {
    rng: StdRng,
    world: &'w World,
    /// Fields still wanted; selections stop growing once it is spent.
    budget: i64,
    keys: Keys,
    fragments: Vec<Fragment>,
    vars: Variables,
    /// The (type, field) pairs selected so far.
    seen: HashSet<(&'static str, &'static str)>,
}

/// Where a selection is written: what it may still add below without breaking a bound.
#[derive(Debug, Clone, Copy)]
struct At {
    /// The depth of the fields of this selection (1 at the root).
    depth: usize,
    /// List levels above.
    levels: usize,
    /// Items the path above fans out to.
    fanout: usize,
    /// Fragments around this selection.
    fragments: usize,
}

impl At {
    const ROOT: At = At {
        depth: 1,
        levels: 0,
        fanout: 1,
        fragments: 0,
    };

    /// Inside a field here that opens a list level (`level`) of `fan` items.
    fn below(self, level: bool, fan: usize) -> At {
        At {
            depth: self.depth + 1,
            levels: self.levels + usize::from(level),
            fanout: self.fanout * fan,
            fragments: self.fragments,
        }
    }

    fn in_fragment(self) -> At {
        At {
            fragments: self.fragments + 1,
            ..self
        }
    }

    /// Whether a fragment reaching `reach` may be spread here.
    fn fits(self, reach: Reach) -> bool {
        self.depth - 1 + reach.depth <= MAX_DEPTH
            && self.levels + reach.levels <= MAX_LEVELS
            && self.fanout * reach.fanout <= MAX_FANOUT
    }
}

/// How far a selection reaches below where it is written.
#[derive(Debug, Clone, Copy)]
struct Reach {
    depth: usize,
    levels: usize,
    fanout: usize,
    fields: usize,
}

impl Reach {
    const NONE: Reach = Reach {
        depth: 0,
        levels: 0,
        fanout: 1,
        fields: 0,
    };
}

impl Gen<'_> {
    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    /// The operation, then the fragments in the order they were made.
    fn document(&mut self, root: &[Sel]) -> String {
        let variables = self.vars.definitions();
        let name = if self.chance(50) { " Generated" } else { "" };
        let mut out = if variables.is_empty() && name.is_empty() && self.chance(50) {
            "{\n".to_string()
        } else {
            format!("query{name}{variables} {{\n")
        };
        self.write(&mut out, root, 1);
        out.push('}');
        for fragment in &self.fragments {
            out.push_str(&format!(
                "\n\nfragment {} on {} {{\n",
                fragment.name, fragment.on
            ));
            self.write(&mut out, &fragment.body, 1);
            out.push('}');
        }
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, sels: &[Sel], indent: usize) {
        let pad = "  ".repeat(indent);
        for sel in sels {
            out.push_str(&pad);
            let body = match sel {
                Sel::Field(f) => {
                    if let Some(alias) = &f.alias {
                        out.push_str(&format!("{alias}: "));
                    }
                    out.push_str(&format!("{}{}{}", f.name, f.args, f.directives));
                    f.body.as_deref()
                }
                Sel::Inline {
                    on,
                    directives,
                    body,
                } => {
                    out.push_str("...");
                    if let Some(on) = on {
                        out.push_str(&format!(" on {on}"));
                    }
                    out.push_str(directives);
                    Some(body.as_slice())
                }
                Sel::Spread {
                    fragment,
                    directives,
                } => {
                    let name = &self.fragments[*fragment].name;
                    out.push_str(&format!("...{name}{directives}"));
                    None
                }
            };
            if let Some(body) = body {
                out.push_str(" {\n");
                self.write(out, body, indent + 1);
                out.push_str(&pad);
                out.push('}');
            }
            out.push('\n');
        }
    }
}
