//! Response keys, chosen so that any two selections under one key can be merged.
//!
//! GraphQL's OverlappingFieldsCanBeMerged rule compares every two fields with one response
//! key that can end up in one merged selection: they must be the same field with the same
//! arguments when their parent types can be the same object, and of the same shape always.
//! Rather than checking a document after the fact, the generator keeps what each key stands
//! for in a registry and makes every later use agree with it:
//! - a plain key (a field name or an `aN` alias) names one field, with one set of arguments
//!   and one type, wherever it appears among parent types that can share an object (one
//!   [`Schema::class_of`](super::schema::Schema::class_of) class);
//! - a `pN` key, used only on object types, may name a different field on each object type
//!   (such fields never have to agree by name, only by shape), all of one type.
//!
//! Since same-key fields then have the same type, their sub-selections meet in one class too,
//! and the registry makes those agree in turn.

use std::collections::HashMap;

use rand::Rng;

use super::schema::{FieldDef, Kind, SCHEMA, TypeDef};
use super::{At, Gen, MAX_ALIASES, MAX_FANOUT};

/// What a response key stands for (see the module docs).
struct Meaning {
    field: String,
    signature: String,
    ty: String,
    args: String,
    fan: usize,
}

impl Meaning {
    fn is(&self, field: &FieldDef) -> bool {
        self.field == field.name
            && self.signature == field.signature
            && self.ty == field.ty.to_string()
    }

    fn fits(&self, at: At) -> bool {
        at.fanout * self.fan <= MAX_FANOUT
    }
}

/// The response keys of a document so far.
#[derive(Default)]
pub(super) struct Keys {
    /// Plain keys by (class, key).
    plain: HashMap<(String, String), Meaning>,
    /// `aN` aliases by (class, alias), in the order they were made.
    aliases: Vec<(String, String)>,
    /// `pN` keys and their type, in the order they were made.
    poly: Vec<(String, String)>,
    /// What a `pN` key names, by (object type, key).
    poly_meanings: HashMap<(String, String), Meaning>,
    /// Aliased fields written so far: the server limits them.
    pub(super) aliased: usize,
}

/// The response key of one use of a field, and its arguments.
pub(super) struct Key {
    pub(super) alias: Option<String>,
    pub(super) args: String,
    /// The page size the arguments ask for (1 when the field is not a page).
    pub(super) fan: usize,
}

impl Gen<'_> {
    /// The key and arguments of a use of `field` on `parent`, agreeing with every other use
    /// of the key in the document; `None` when the field name is taken by other arguments
    /// and no alias is left.
    pub(super) fn key_for(
        &mut self,
        parent: &'static TypeDef,
        field: &FieldDef,
        at: At,
    ) -> Option<Key> {
        let class = SCHEMA.class_of(&parent.name).to_string();
        if self.keys.aliased < MAX_ALIASES {
            let key = match self.rng.random_range(0..100) {
                0..18 => self.reused_alias(&class, field, at),
                18..36 if parent.kind == Kind::Object => Some(self.poly_key(parent, field, at)),
                36..44 => Some(self.new_alias(&class, field, at)),
                _ => None,
            };
            if key.is_some() {
                self.keys.aliased += 1;
                return key;
            }
        }
        if let Some(key) = self.unaliased(&class, field, at) {
            return Some(key);
        }
        if self.keys.aliased < MAX_ALIASES {
            self.keys.aliased += 1;
            return Some(self.new_alias(&class, field, at));
        }
        None
    }

    fn unaliased(&mut self, class: &str, field: &FieldDef, at: At) -> Option<Key> {
        let slot = (class.to_string(), field.name.clone());
        match self.keys.plain.get(&slot) {
            Some(m) if m.is(field) && m.fits(at) => Some(Key {
                alias: None,
                args: m.args.clone(),
                fan: m.fan,
            }),
            Some(_) => None,
            None => {
                let meaning = self.meaning(field, at);
                let key = Key {
                    alias: None,
                    args: meaning.args.clone(),
                    fan: meaning.fan,
                };
                self.keys.plain.insert(slot, meaning);
                Some(key)
            }
        }
    }

    fn reused_alias(&mut self, class: &str, field: &FieldDef, at: At) -> Option<Key> {
        let fitting: Vec<&(String, String)> = self
            .keys
            .aliases
            .iter()
            .filter(|slot| slot.0 == class)
            .filter(|slot| self.keys.plain[*slot].is(field) && self.keys.plain[*slot].fits(at))
            .collect();
        if fitting.is_empty() {
            return None;
        }
        let slot = fitting[self.rng.random_range(0..fitting.len())];
        let meaning = &self.keys.plain[slot];
        Some(Key {
            alias: Some(slot.1.clone()),
            args: meaning.args.clone(),
            fan: meaning.fan,
        })
    }

    fn new_alias(&mut self, class: &str, field: &FieldDef, at: At) -> Key {
        let alias = format!("a{}", self.keys.aliases.len() + 1);
        let meaning = self.meaning(field, at);
        let key = Key {
            alias: Some(alias.clone()),
            args: meaning.args.clone(),
            fan: meaning.fan,
        };
        let slot = (class.to_string(), alias);
        self.keys.aliases.push(slot.clone());
        self.keys.plain.insert(slot, meaning);
        key
    }

    /// A `pN` key of the field's type: one that names nothing on `parent` yet (so another
    /// field of another type), one that already names this field on `parent`, or a new one.
    fn poly_key(&mut self, parent: &'static TypeDef, field: &FieldDef, at: At) -> Key {
        let ty = field.ty.to_string();
        // Keys of this type naming nothing on `parent` yet (so far only fields of other
        // types), and keys naming this very field on `parent`.
        let (mut elsewhere, mut here) = (Vec::new(), Vec::new());
        for (key, _) in self.keys.poly.iter().filter(|(_, t)| *t == ty) {
            match self
                .keys
                .poly_meanings
                .get(&(parent.name.clone(), key.clone()))
            {
                None => elsewhere.push(key.clone()),
                Some(m) if m.is(field) && m.fits(at) => here.push(key.clone()),
                Some(_) => {}
            }
        }
        let key = if !elsewhere.is_empty() && self.chance(60) {
            elsewhere.swap_remove(self.rng.random_range(0..elsewhere.len()))
        } else if !here.is_empty() && self.chance(60) {
            here.swap_remove(self.rng.random_range(0..here.len()))
        } else {
            let key = format!("p{}", self.keys.poly.len() + 1);
            self.keys.poly.push((key.clone(), ty));
            key
        };
        let slot = (parent.name.clone(), key.clone());
        if !self.keys.poly_meanings.contains_key(&slot) {
            let meaning = self.meaning(field, at);
            self.keys.poly_meanings.insert(slot.clone(), meaning);
        }
        let meaning = &self.keys.poly_meanings[&slot];
        Key {
            alias: Some(key),
            args: meaning.args.clone(),
            fan: meaning.fan,
        }
    }

    fn meaning(&mut self, field: &FieldDef, at: At) -> Meaning {
        let (args, fan) = self.field_args(field, at);
        Meaning {
            field: field.name.clone(),
            signature: field.signature.clone(),
            ty: field.ty.to_string(),
            args,
            fan,
        }
    }
}
