//! Argument values: a strategy per argument name where the seeded graph gives the value a
//! meaning (ids, page sizes, link types, filters), a fallback per type otherwise, and
//! variables for some of them, declared with or without defaults, given or not.

use std::collections::HashMap;

use async_graphql::parser::types::{BaseType, Type};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Map, Value};

use super::schema::{FieldDef, Kind, SCHEMA, named};
use super::{At, Gen, MAX_FANOUT};

/// The page size a connection has when the request gives none.
const DEFAULT_PAGE: usize = 20;

/// Moments for `DateTime` arguments, before, among and after the seeded media.
const MOMENTS: &[&str] = &[
    "2000-01-01T00:00:00Z",
    "2024-06-01T12:30:00Z",
    "2100-01-01T00:00:00+02:00",
];

/// An argument value before it is written into the document.
#[derive(Debug, Clone)]
pub(super) enum Val {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Enum(String),
    List(Vec<Val>),
    Obj(Vec<(String, Val)>),
    Null,
    Var(String),
}

impl Val {
    /// The value as GraphQL source.
    pub(super) fn literal(&self) -> String {
        match self {
            Val::Int(n) => n.to_string(),
            Val::Float(f) => format!("{f:?}"),
            // JSON's string escapes are GraphQL's.
            Val::Str(s) => serde_json::to_string(s).expect("a string"),
            Val::Bool(b) => b.to_string(),
            Val::Enum(e) => e.clone(),
            Val::List(items) => {
                let items: Vec<String> = items.iter().map(Val::literal).collect();
                format!("[{}]", items.join(", "))
            }
            Val::Obj(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.literal()))
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
            Val::Null => "null".into(),
            Val::Var(name) => format!("${name}"),
        }
    }

    /// The value as a request's `variables` carry it.
    fn json(&self) -> Value {
        match self {
            Val::Int(n) => Value::from(*n),
            Val::Float(f) => Value::from(*f),
            Val::Str(s) | Val::Enum(s) => Value::from(s.as_str()),
            Val::Bool(b) => Value::from(*b),
            Val::List(items) => Value::Array(items.iter().map(Val::json).collect()),
            Val::Obj(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.json()))
                    .collect::<Map<_, _>>(),
            ),
            Val::Null => Value::Null,
            Val::Var(_) => unreachable!("a variable's value holds no variable"),
        }
    }

    /// Another value of the same type (`type_name` is the named type of its location), for
    /// a default the request overrides.
    fn decoy(&self, type_name: &str) -> Option<Val> {
        match (self, type_name) {
            (Val::Bool(b), _) => Some(Val::Bool(!b)),
            (Val::Int(n), _) => Some(Val::Int(n + 1)),
            (Val::Str(s), "String" | "ID") => Some(Val::Str(format!("{s}-default"))),
            (Val::Str(s), "DateTime") => {
                let other = MOMENTS.iter().find(|m| **m != s.as_str());
                other.map(|m| Val::Str(m.to_string()))
            }
            (Val::List(_), _) => Some(Val::List(Vec::new())),
            _ => None,
        }
    }
}

/// A value as written in the document, and whether the server sees one: a variable neither
/// given nor defaulted leaves the argument out.
pub(super) struct Written {
    pub(super) val: Val,
    pub(super) present: bool,
}

/// A variable of the operation.
struct Variable {
    name: String,
    declared: String,
    default: Option<String>,
    /// Its entry in `variables`: `None` leaves it out of the request.
    given: Option<Value>,
    present: bool,
}

/// The operation's variables, created where a value becomes one, so each is used.
#[derive(Default)]
pub(super) struct Variables {
    defs: Vec<Variable>,
    /// The variable already holding a value at a location type, by (type, literal): reusing
    /// it is what a client does with `$first` in several places.
    by_use: HashMap<(String, String), usize>,
}

impl Variables {
    /// `($a: Int = 2, $b: ID!)`, or nothing.
    pub(super) fn definitions(&self) -> String {
        if self.defs.is_empty() {
            return String::new();
        }
        let defs: Vec<String> = self
            .defs
            .iter()
            .map(|v| match &v.default {
                Some(default) => format!("${}: {} = {default}", v.name, v.declared),
                None => format!("${}: {}", v.name, v.declared),
            })
            .collect();
        format!("({})", defs.join(", "))
    }

    /// The request's `variables`.
    pub(super) fn values(&self) -> Value {
        let given = self
            .defs
            .iter()
            .filter_map(|v| Some((v.name.clone(), v.given.clone()?)))
            .collect::<Map<_, _>>();
        Value::Object(given)
    }
}

/// How a new variable carries its value.
enum Carry {
    Given,
    /// Declared with the value as its default, absent from the request.
    Defaulted,
    /// Declared with another default, given the value.
    Overridden,
    /// Declared without a default, absent from the request: the argument is left out.
    Omitted,
    /// Given as `null`: the argument is left out too.
    GivenNull,
}

impl Gen<'_> {
    /// The arguments of one use of `field` as `(a: 1, b: $v)` (or nothing), and how many items
    /// it asks for when it is a page (1 otherwise).
    pub(super) fn field_args(&mut self, field: &FieldDef, at: At) -> (String, usize) {
        let mut args = Vec::new();
        let fan = if field.arg("first").is_some() {
            self.page_args(field, at, &mut args)
        } else {
            1
        };
        for arg in &field.args {
            if matches!(arg.name.as_str(), "first" | "last" | "after" | "before") {
                continue;
            }
            let wanted = match arg.name.as_str() {
                "filter" => 45,
                "orderBy" => 35,
                "types" | "via" => 50,
                "direction" => 65,
                _ => 30,
            };
            if arg.required() || self.chance(wanted) {
                let val = self.value(&arg.name, &arg.ty);
                let written = self.written(&arg.ty, val, true);
                args.push((arg.name.clone(), written.val));
            }
        }
        if self.chance(20) {
            args.shuffle(&mut self.rng);
        }
        if args.is_empty() {
            return (String::new(), fan);
        }
        let args: Vec<String> = args
            .iter()
            .map(|(name, v)| format!("{name}: {}", v.literal()))
            .collect();
        (format!("({})", args.join(", ")), fan)
    }

    /// Page arguments: mostly a small `first`, some `last`, some none (the default page); now
    /// and then one the server refuses, which is a field error and not a validation error.
    fn page_args(&mut self, field: &FieldDef, at: At, args: &mut Vec<(String, Val)>) -> usize {
        let roomy = at.fanout * DEFAULT_PAGE <= MAX_FANOUT;
        let n = self.page_size(at);
        let roll = self.rng.random_range(0..1000);
        let (arg, val) = match roll {
            0..3 => ("first", Val::Int(0)),
            3..5 => ("first", Val::Int(101)),
            5..8 if field.arg("after").is_some() => {
                // base64url of "not-a-cursor": no list's cursor.
                args.push(("after".into(), Val::Str("bm90LWEtY3Vyc29y".into())));
                ("first", Val::Int(n as i64))
            }
            8..90 if roomy => return DEFAULT_PAGE,
            90..250 if field.arg("last").is_some() => ("last", Val::Int(n as i64)),
            _ => ("first", Val::Int(n as i64)),
        };
        let ty = field.arg(arg).expect("a page argument").ty.clone();
        let written = self.written(&ty, val.clone(), roomy);
        args.push((arg.into(), written.val));
        match val {
            _ if !written.present => DEFAULT_PAGE,
            Val::Int(n) if (1..=100).contains(&n) => n as usize,
            _ => 1,
        }
    }

    /// 1 to 5, small ones likelier, within what the path may still fan out to.
    fn page_size(&mut self, at: At) -> usize {
        let most = (MAX_FANOUT / at.fanout).clamp(1, 5);
        let n = [1, 1, 2, 2, 2, 3, 3, 4, 5][self.rng.random_range(0..9)];
        n.min(most)
    }

    /// A value for an argument or input field `name` of type `ty`.
    pub(super) fn value(&mut self, name: &str, ty: &Type) -> Val {
        if ty.nullable && self.chance(3) {
            return Val::Null;
        }
        match name {
            "id" => return Val::Str(self.any_id()),
            "ids" => return self.ids(),
            "from" => return Val::Str(self.start_id()),
            "inAlbum" => return Val::Str(self.id_among(|w| &w.albums)),
            "fromIntegration" => return Val::Str(self.id_among(|w| &w.integrations)),
            "tagIds" => {
                let n = self.rng.random_range(1..=2);
                return Val::List(
                    (0..n)
                        .map(|_| Val::Str(self.id_among(|w| &w.tags)))
                        .collect(),
                );
            }
            "types" | "via" if named(ty) == "String" => return self.link_types(),
            "maxDepth" => return Val::Int(self.rng.random_range(1..=3)),
            "filenameContains" => return self.one_of(&["p1", "png", "P", "zzz"]),
            "mimeType" => return self.one_of(&["image/png", "image/jpeg"]),
            "hash" => return Val::Str("0".repeat(64)),
            _ => {}
        }
        if let BaseType::List(inner) = &ty.base {
            let n = self.rng.random_range(1..=2);
            return Val::List((0..n).map(|_| self.value(name, inner)).collect());
        }
        let type_name = named(ty);
        match type_name {
            "Int" => Val::Int(self.rng.random_range(1..=3)),
            "Float" => Val::Float(0.5),
            "Boolean" => Val::Bool(self.chance(50)),
            "ID" => Val::Str(self.any_id()),
            "DateTime" => self.one_of(MOMENTS),
            "JSON" if self.chance(50) => Val::Obj(Vec::new()),
            "JSON" => Val::Obj(vec![("camera".into(), Val::Str("none".into()))]),
            _ => match SCHEMA.kind(type_name) {
                Kind::Enum => {
                    let values = &SCHEMA.get(type_name).values;
                    Val::Enum(values[self.rng.random_range(0..values.len())].clone())
                }
                Kind::Input => self.input_object(type_name),
                _ => Val::Str("x".into()),
            },
        }
    }

    /// An input object with its required fields and one or two others.
    fn input_object(&mut self, type_name: &str) -> Val {
        let def = SCHEMA.get(type_name);
        let mut optional: Vec<usize> = (0..def.inputs.len())
            .filter(|&i| !def.inputs[i].required())
            .collect();
        optional.shuffle(&mut self.rng);
        optional.truncate(self.rng.random_range(1..=2));
        let mut fields = Vec::new();
        for (i, input) in def.inputs.iter().enumerate() {
            if input.required() || optional.contains(&i) {
                fields.push((input.name.clone(), self.value(&input.name, &input.ty)));
            }
        }
        Val::Obj(fields)
    }

    /// Link types of the graph, sometimes one that no link has, sometimes a bare string
    /// (which input coercion turns into a list of one).
    fn link_types(&mut self) -> Val {
        let mut types: Vec<Val> = self
            .world
            .link_types
            .iter()
            .filter(|_| self.rng.random_bool(0.5))
            .map(|t| Val::Str(t.clone()))
            .collect();
        if types.is_empty() || self.chance(5) {
            types.push(Val::Str("labelled".into()));
        }
        if types.len() == 1 && self.chance(25) {
            return types.pop().expect("one type");
        }
        Val::List(types)
    }

    fn ids(&mut self) -> Val {
        let n = if self.chance(5) {
            0
        } else {
            self.rng.random_range(1..=4)
        };
        Val::List((0..n).map(|_| Val::Str(self.any_id())).collect())
    }

    /// An id of any kind: the viewer's objects mostly, another user's and malformed ones too
    /// (which resolve to null).
    fn any_id(&mut self) -> String {
        match self.rng.random_range(0..100) {
            0..35 => self.id_among(|w| &w.media),
            35..55 => self.id_among(|w| &w.albums),
            55..67 => self.id_among(|w| &w.links),
            67..71 => self.id_among(|w| &w.integrations),
            71..75 => self.id_among(|w| &w.tags),
            75..81 => self.world.user.clone(),
            81..90 => self.id_among(|w| &w.foreign),
            _ => self.garbage_id(),
        }
    }

    /// Where `traverse` starts: a media or an album, rarely something not the viewer's (a
    /// `NOT_FOUND` that nulls the whole answer, as `traverse` is non-null).
    fn start_id(&mut self) -> String {
        match self.rng.random_range(0..200) {
            0 => self.id_among(|w| &w.foreign),
            1..120 => self.id_among(|w| &w.media),
            _ => self.id_among(|w| &w.albums),
        }
    }

    /// One of the ids `pick` chooses from the world, or a malformed one when it has none.
    fn id_among(&mut self, pick: impl Fn(&super::World) -> &Vec<String>) -> String {
        let ids = pick(self.world);
        if ids.is_empty() {
            return self.garbage_id();
        }
        ids[self.rng.random_range(0..ids.len())].clone()
    }

    fn garbage_id(&mut self) -> String {
        match self.rng.random_range(0..4) {
            0 => String::new(),
            1 => "garbage".into(),
            2 => URL_SAFE_NO_PAD.encode(format!("Media:{}", "0".repeat(32))),
            _ => URL_SAFE_NO_PAD.encode(format!("Upload:{}", "0".repeat(32))),
        }
    }

    fn one_of(&mut self, strings: &[&str]) -> Val {
        Val::Str(strings[self.rng.random_range(0..strings.len())].to_string())
    }

    /// The `if:` of `@skip`/`@include`: a literal or (when `variables`) a variable, more often
    /// keeping the selection (`keep` is the value `@include` needs for that).
    pub(super) fn condition(&mut self, keep: bool, variables: bool) -> String {
        let val = Val::Bool(if self.chance(65) { keep } else { !keep });
        if !variables || self.chance(40) {
            return val.literal();
        }
        let ty = Type::new("Boolean!").expect("a type");
        self.variable(&ty, val, false).val.literal()
    }

    /// `val` as written at a location of type `ty`: mostly the literal itself, sometimes a
    /// variable, and in lists and input objects maybe with variables inside. `absent_ok` says
    /// whether the argument may end up left out.
    fn written(&mut self, ty: &Type, val: Val, absent_ok: bool) -> Written {
        if matches!(val, Val::Null) {
            return Written { val, present: true };
        }
        if self.chance(25) {
            return self.variable(ty, val, absent_ok);
        }
        Written {
            val: self.literal_parts(ty, val),
            present: true,
        }
    }

    /// The items of a list literal or the fields of an input object literal, now and then
    /// variables of their own types.
    fn literal_parts(&mut self, ty: &Type, val: Val) -> Val {
        match (val, &ty.base) {
            (Val::List(items), BaseType::List(inner)) => Val::List(
                items
                    .into_iter()
                    .map(|item| self.part(inner, item, false))
                    .collect(),
            ),
            (Val::Obj(fields), BaseType::Named(name)) if SCHEMA.kind(name) == Kind::Input => {
                let def = SCHEMA.get(name);
                let fields = fields
                    .into_iter()
                    .map(|(field, val)| {
                        let input = def.inputs.iter().find(|i| i.name == field);
                        let ty = &input.expect("a field of the input").ty;
                        let val = self.part(ty, val, true);
                        (field, val)
                    })
                    .collect();
                Val::Obj(fields)
            }
            (val, _) => val,
        }
    }

    fn part(&mut self, ty: &Type, val: Val, absent_ok: bool) -> Val {
        if self.chance(15) && !matches!(val, Val::Null) {
            return self.variable(ty, val, absent_ok).val;
        }
        self.literal_parts(ty, val)
    }

    /// A variable holding `val` at a location of type `ty`: reused when one already holds it
    /// there, else declared so that both graphql-js and async-graphql accept it in that
    /// location (a nullable variable in a non-null location needs a default).
    fn variable(&mut self, ty: &Type, val: Val, absent_ok: bool) -> Written {
        let key = (ty.to_string(), val.literal());
        if let Some(&i) = self.vars.by_use.get(&key) {
            let present = self.vars.defs[i].present;
            if (absent_ok || present) && self.chance(60) {
                return Written {
                    val: Val::Var(self.vars.defs[i].name.clone()),
                    present,
                };
            }
        }
        let decoy = val.decoy(named(ty));
        let carry = self.carry(ty.nullable && absent_ok, decoy.is_some());
        let nullable = Type {
            base: ty.base.clone(),
            nullable: true,
        };
        let literal = val.literal();
        let (declared, default, given, present) = match carry {
            Carry::Given => (ty.to_string(), None, Some(val.json()), true),
            Carry::Defaulted => (nullable.to_string(), Some(literal), None, true),
            Carry::Overridden => {
                let decoy = decoy.expect("a decoy").literal();
                (nullable.to_string(), Some(decoy), Some(val.json()), true)
            }
            Carry::Omitted => (ty.to_string(), None, None, false),
            Carry::GivenNull => (ty.to_string(), None, Some(Value::Null), false),
        };
        let name = format!("v{}", self.vars.defs.len() + 1);
        self.vars.by_use.insert(key, self.vars.defs.len());
        self.vars.defs.push(Variable {
            name: name.clone(),
            declared,
            default,
            given,
            present,
        });
        Written {
            val: Val::Var(name),
            present,
        }
    }

    fn carry(&mut self, may_be_absent: bool, has_decoy: bool) -> Carry {
        match self.rng.random_range(0..100) {
            0..40 => Carry::Given,
            40..70 => Carry::Defaulted,
            70..80 if has_decoy => Carry::Overridden,
            80..90 if may_be_absent => Carry::Omitted,
            90..100 if may_be_absent => Carry::GivenNull,
            _ => Carry::Given,
        }
    }
}
