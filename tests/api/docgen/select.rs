//! Selections: fields, inline fragments and named fragments, within the bounds that keep a
//! document inside the server's limits (depth, list levels, fan-out, aliases). The response
//! key of each field comes from [`keys`](super::keys), which keeps every document mergeable.

use rand::Rng;

use super::schema::{FieldDef, Kind, SCHEMA, TypeDef, is_list, named};
use super::{At, Gen, MAX_ALIASES, MAX_DEPTH, MAX_FANOUT, MAX_FRAGMENTS, MAX_LEVELS, Reach};

/// Items a plain list of objects (`Media.albums`, `nodes(ids:)`) is counted as.
const LIST_FAN: usize = 3;
/// Deepest nesting of fragments in fragments, which keeps their recursion finite.
const MAX_FRAGMENT_NESTING: usize = 3;

pub(super) enum Sel {
    Field(FieldSel),
    Inline {
        on: Option<String>,
        directives: String,
        body: Vec<Sel>,
    },
    Spread {
        fragment: usize,
        directives: String,
    },
}

pub(super) struct FieldSel {
    pub(super) alias: Option<String>,
    pub(super) name: String,
    pub(super) args: String,
    pub(super) directives: String,
    pub(super) body: Option<Vec<Sel>>,
    /// The named type of the field, what `body` selects on.
    ty: String,
    /// Whether it opens a list level (a page, or a list of objects).
    pub(super) level: bool,
    /// How many items it fans out to: its page size, 1 when it is not a list.
    pub(super) fan: usize,
}

pub(super) struct Fragment {
    pub(super) name: String,
    pub(super) on: String,
    pub(super) body: Vec<Sel>,
    /// Set once the body is generated; a fragment can only be spread after that, which is
    /// what keeps fragments free of cycles.
    pub(super) reach: Option<Reach>,
}

impl Gen<'_> {
    /// The operation's selection: two to four parts sharing the budget, so that each root
    /// field gets a selection of some size.
    pub(super) fn root_selection(&mut self) -> Vec<Sel> {
        let parts = self.rng.random_range(2..=4);
        let share = (self.budget / parts).max(4);
        let mut sels = Vec::new();
        for _ in 0..parts {
            self.budget = share;
            sels.extend(self.selection_set(&SCHEMA.query, At::ROOT));
        }
        sels
    }

    /// A selection set on `type_name`: one to three selections, more fields while the budget
    /// lasts. Abstract types get fragments more often, since they have few fields.
    pub(super) fn selection_set(&mut self, type_name: &str, at: At) -> Vec<Sel> {
        let parent = SCHEMA.get(type_name);
        let fragments = match parent.kind {
            _ if at.fragments >= MAX_FRAGMENT_NESTING => 0,
            Kind::Object => 24,
            _ => 80,
        };
        let mut sels = Vec::new();
        for _ in 0..self.rng.random_range(1..=3) {
            if !sels.is_empty() && self.budget <= 0 {
                break;
            }
            let roll = self.rng.random_range(0..100);
            let sel = if roll < fragments / 2 {
                Some(self.inline_fragment(parent, at))
            } else if roll < fragments {
                self.spread(parent, at)
            } else if roll < fragments + 10 {
                self.again(&sels, at)
            } else {
                None
            };
            let sel = sel.unwrap_or_else(|| self.field(parent, at));
            sels.push(sel);
        }
        sels
    }

    /// A field of `parent`: objects and lists likelier while the budget lasts, as they are
    /// where executors differ.
    fn field(&mut self, parent: &'static TypeDef, at: At) -> Sel {
        let weights: Vec<u32> = parent
            .fields
            .iter()
            .map(|f| self.weight(parent, f, at))
            .collect();
        let mut roll = self.rng.random_range(0..weights.iter().sum::<u32>());
        let index = weights
            .iter()
            .position(|w| {
                let here = roll < *w;
                roll = roll.saturating_sub(*w);
                here
            })
            .expect("a field");
        let field = &parent.fields[index];
        let (field, key) = match self.key_for(parent, field, at) {
            Some(key) => (field, key),
            None => {
                let typename = parent.fields.last().expect("__typename");
                let key = self.key_for(parent, typename, at).expect("__typename");
                (typename, key)
            }
        };
        self.budget -= 1;
        self.seen.insert((&parent.name, &field.name));
        let level = opens_level(parent, field);
        let fan = match (level, field.arg("first")) {
            (true, Some(_)) => key.fan,
            (true, None) => LIST_FAN,
            (false, _) => 1,
        };
        let ty = named(&field.ty).to_string();
        let body = SCHEMA
            .is_composite(&ty)
            .then(|| self.selection_set(&ty, at.below(level, fan)));
        Sel::Field(FieldSel {
            alias: key.alias,
            name: field.name.clone(),
            args: key.args,
            // async-graphql's validator skips `__typename` fields, so a variable used only
            // in their directives is refused as unused: they get literals.
            directives: self.directives(10, field.name != "__typename"),
            body,
            ty,
            level,
            fan,
        })
    }

    /// How likely `field` is picked: fields new to the document likelier, so that a document
    /// spreads over the schema rather than repeating a few fields.
    fn weight(&self, parent: &'static TypeDef, field: &FieldDef, at: At) -> u32 {
        let novelty = if self
            .seen
            .contains(&(parent.name.as_str(), field.name.as_str()))
        {
            1
        } else {
            4
        };
        if !SCHEMA.is_composite(named(&field.ty)) {
            return novelty * if field.name == "__typename" { 1 } else { 2 };
        }
        let level = opens_level(parent, field);
        let least_fan = if field.arg("first").is_some() {
            1
        } else {
            LIST_FAN
        };
        let room = at.depth < MAX_DEPTH
            && (!level || (at.levels < MAX_LEVELS && at.fanout * least_fan <= MAX_FANOUT));
        // An object of leaves only (`PageInfo`) leads nowhere deeper.
        let leads_on = SCHEMA
            .get(named(&field.ty))
            .fields
            .iter()
            .any(|f| SCHEMA.is_composite(named(&f.ty)));
        match room {
            false => 0,
            true if parent.name == SCHEMA.query => novelty * 8,
            true if self.budget <= 4 => 1,
            true if leads_on => novelty * 8 * SCHEMA.rarity(named(&field.ty)),
            true => novelty * 3,
        }
    }

    /// The key of a field already in this selection, selected again with another selection
    /// inside, which the executor has to merge with the first.
    fn again(&mut self, sels: &[Sel], at: At) -> Option<Sel> {
        let fields: Vec<&FieldSel> = sels
            .iter()
            .filter_map(|s| match s {
                Sel::Field(f) if f.body.is_some() => Some(f),
                _ => None,
            })
            .collect();
        if fields.is_empty() {
            return None;
        }
        let first = fields[self.rng.random_range(0..fields.len())];
        if first.alias.is_some() {
            if self.keys.aliased >= MAX_ALIASES {
                return None;
            }
            self.keys.aliased += 1;
        }
        let (alias, name, args) = (first.alias.clone(), first.name.clone(), first.args.clone());
        let (ty, level, fan) = (first.ty.clone(), first.level, first.fan);
        self.budget -= 1;
        let body = Some(self.selection_set(&ty, at.below(level, fan)));
        Some(Sel::Field(FieldSel {
            alias,
            name,
            args,
            directives: self.directives(10, true),
            body,
            ty,
            level,
            fan,
        }))
    }

    /// `... on T { }` (or without a type condition) around a selection of its own.
    fn inline_fragment(&mut self, parent: &'static TypeDef, at: At) -> Sel {
        let on = if self.chance(25) {
            None
        } else {
            Some(self.type_condition(parent))
        };
        let directives = self.directives(25, true);
        let body = self.selection_set(on.as_deref().unwrap_or(&parent.name), at.in_fragment());
        Sel::Inline {
            on,
            directives,
            body,
        }
    }

    /// A spread of a named fragment that fits here, reused when one exists (colocated
    /// fragments are spread in many places), else made now.
    fn spread(&mut self, parent: &'static TypeDef, at: At) -> Option<Sel> {
        let usable: Vec<usize> = (0..self.fragments.len())
            .filter(|&i| {
                let f = &self.fragments[i];
                f.reach
                    .is_some_and(|r| at.fits(r) && r.fields as i64 <= self.budget.max(4))
                    && SCHEMA.overlaps(&f.on, &parent.name)
            })
            .collect();
        let fragment =
            if !usable.is_empty() && (self.fragments.len() >= MAX_FRAGMENTS || self.chance(55)) {
                let i = usable[self.rng.random_range(0..usable.len())];
                self.budget -= self.fragments[i].reach.map_or(0, |r| r.fields as i64);
                i
            } else if self.fragments.len() < MAX_FRAGMENTS {
                self.new_fragment(parent, at)
            } else {
                return None;
            };
        Some(Sel::Spread {
            fragment,
            directives: self.directives(20, true),
        })
    }

    fn new_fragment(&mut self, parent: &'static TypeDef, at: At) -> usize {
        let on = self.type_condition(parent);
        let index = self.fragments.len();
        self.fragments.push(Fragment {
            name: format!("{on}Fields{index}"),
            on: on.clone(),
            body: Vec::new(),
            reach: None,
        });
        let body = self.selection_set(&on, at.in_fragment());
        let reach = self.reach(&body);
        let fragment = &mut self.fragments[index];
        fragment.body = body;
        fragment.reach = Some(reach);
        index
    }

    /// A type condition valid in a selection on `parent`: the type itself, or any type that
    /// can share an object with it (its interfaces and unions, or their members). On an
    /// abstract type, mostly one of its object types, where the fields are.
    fn type_condition(&mut self, parent: &'static TypeDef) -> String {
        let roll = self.rng.random_range(0..100);
        let choices = match (parent.kind, roll) {
            (Kind::Object, 0..50) | (_, 0..10) => return parent.name.clone(),
            (Kind::Object, _) | (_, 10..25) => SCHEMA.spread_targets(&parent.name),
            _ => parent.possible.iter().map(String::as_str).collect(),
        };
        choices[self.rng.random_range(0..choices.len())].to_string()
    }

    /// `@skip` and `@include`, on about `percent` in a hundred selections, with variables
    /// or (unless `variables` is false) only literals.
    fn directives(&mut self, percent: u32, variables: bool) -> String {
        if !self.chance(percent) {
            return String::new();
        }
        match self.rng.random_range(0..5) {
            0 | 1 => format!(" @include(if: {})", self.condition(true, variables)),
            2 | 3 => format!(" @skip(if: {})", self.condition(false, variables)),
            _ => {
                let skip = self.condition(false, variables);
                let include = self.condition(true, variables);
                format!(" @skip(if: {skip}) @include(if: {include})")
            }
        }
    }

    /// How far `sels` reach below where they are written.
    pub(super) fn reach(&self, sels: &[Sel]) -> Reach {
        let mut all = Reach::NONE;
        for sel in sels {
            let one = match sel {
                Sel::Field(f) => {
                    let inner = f.body.as_ref().map_or(Reach::NONE, |b| self.reach(b));
                    Reach {
                        depth: 1 + inner.depth,
                        levels: inner.levels + usize::from(f.level),
                        fanout: f.fan * inner.fanout,
                        fields: 1 + inner.fields,
                    }
                }
                Sel::Inline { body, .. } => self.reach(body),
                Sel::Spread { fragment, .. } => self.fragments[*fragment]
                    .reach
                    .expect("only finished fragments are spread"),
            };
            all = Reach {
                depth: all.depth.max(one.depth),
                levels: all.levels.max(one.levels),
                fanout: all.fanout.max(one.fanout),
                fields: all.fields + one.fields,
            };
        }
        all
    }
}

/// Whether `field` of `parent` opens a list level: a page, or a list of objects that is not
/// the page of a connection (whose `edges` and `nodes` are the connection's own level).
fn opens_level(parent: &TypeDef, field: &FieldDef) -> bool {
    let is_page = parent.fields.iter().any(|f| f.name == "totalCount");
    field.arg("first").is_some()
        || (SCHEMA.is_composite(named(&field.ty)) && is_list(&field.ty) && !is_page)
}
