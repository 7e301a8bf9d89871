//! The schema as the generator walks it: types, fields and arguments read from
//! `schema.graphql`, so a field added to the API is generated without an edit here.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    BaseType, FieldDefinition, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};

/// The public schema, parsed once per test binary.
pub(super) static SCHEMA: LazyLock<Schema> =
    LazyLock::new(|| Schema::parse(include_str!("../../../schema.graphql")));

pub(super) struct Schema {
    types: HashMap<String, TypeDef>,
    /// Type names in SDL order: everything the generator iterates goes in a fixed order, so a
    /// seed gives the same document on every run.
    order: Vec<String>,
    /// The query root's name.
    pub(super) query: String,
    /// For each composite type, a name standing for every composite type it can share an object
    /// with, through any chain of interfaces and unions. Two fields of one document can only
    /// be merged by the executor when their parent types are in one class.
    class: HashMap<String, String>,
    /// For each type, how many fields of the types a query reaches return it.
    ways_in: HashMap<String, u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Scalar,
    Enum,
    Object,
    Interface,
    Union,
    Input,
}

pub(super) struct TypeDef {
    pub(super) name: String,
    pub(super) kind: Kind,
    /// Output fields, `__typename` included (objects, interfaces, unions).
    pub(super) fields: Vec<FieldDef>,
    /// Input fields (input objects).
    pub(super) inputs: Vec<InputDef>,
    /// Values (enums).
    pub(super) values: Vec<String>,
    /// The object types a value of this type can have: the type itself for an object.
    pub(super) possible: Vec<String>,
}

pub(super) struct FieldDef {
    pub(super) name: String,
    pub(super) args: Vec<InputDef>,
    pub(super) ty: Type,
    /// The arguments with their types and whether they have defaults: two fields of one name
    /// with the same signature take the same argument values.
    pub(super) signature: String,
}

pub(super) struct InputDef {
    pub(super) name: String,
    pub(super) ty: Type,
    pub(super) has_default: bool,
}

impl InputDef {
    fn of(def: &InputValueDefinition) -> Self {
        InputDef {
            name: def.name.node.to_string(),
            ty: def.ty.node.clone(),
            has_default: def.default_value.is_some(),
        }
    }

    /// Whether a request must give it.
    pub(super) fn required(&self) -> bool {
        !self.ty.nullable && !self.has_default
    }
}

impl FieldDef {
    fn of(def: &FieldDefinition) -> Self {
        let args: Vec<InputDef> = def
            .arguments
            .iter()
            .map(|a| InputDef::of(&a.node))
            .collect();
        let signature = args
            .iter()
            .map(|a| {
                let default = if a.has_default { "=" } else { "" };
                format!("{}:{}{default}", a.name, a.ty)
            })
            .collect::<Vec<_>>()
            .join(",");
        FieldDef {
            name: def.name.node.to_string(),
            args,
            ty: def.ty.node.clone(),
            signature,
        }
    }

    fn typename() -> Self {
        FieldDef {
            name: "__typename".into(),
            args: Vec::new(),
            ty: Type::new("String!").expect("a type"),
            signature: String::new(),
        }
    }

    pub(super) fn arg(&self, name: &str) -> Option<&InputDef> {
        self.args.iter().find(|a| a.name == name)
    }
}

/// The named type inside any list and non-null wrappers.
pub(super) fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

pub(super) fn is_list(ty: &Type) -> bool {
    matches!(ty.base, BaseType::List(_))
}

impl Schema {
    fn parse(sdl: &str) -> Schema {
        let doc = parse_schema(sdl).expect("schema.graphql parses");
        let mut schema = Schema {
            types: HashMap::new(),
            order: Vec::new(),
            query: "Query".into(),
            class: HashMap::new(),
            ways_in: HashMap::new(),
        };
        let mut implementations = Vec::new();
        for def in doc.definitions {
            match def {
                TypeSystemDefinition::Schema(s) => {
                    if let Some(query) = s.node.query {
                        schema.query = query.node.to_string();
                    }
                }
                TypeSystemDefinition::Type(t) => {
                    let name = t.node.name.node.to_string();
                    if let TypeKind::Object(object) = &t.node.kind {
                        implementations.extend(
                            object
                                .implements
                                .iter()
                                .map(|i| (name.clone(), i.node.to_string())),
                        );
                    }
                    schema.order.push(name.clone());
                    schema
                        .types
                        .insert(name.clone(), TypeDef::of(name, t.node.kind));
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        for (object, interface) in implementations {
            let def = schema.types.get_mut(&interface).expect("a known interface");
            def.possible.push(object);
        }
        schema.class = schema.classes();
        schema.ways_in = schema.ways_in();
        schema
    }

    pub(super) fn get(&self, name: &str) -> &TypeDef {
        self.types
            .get(name)
            .unwrap_or_else(|| panic!("type {name} is not in schema.graphql"))
    }

    /// The kind of a named type; the built-in scalars are not in the SDL.
    pub(super) fn kind(&self, name: &str) -> Kind {
        self.types.get(name).map_or(Kind::Scalar, |t| t.kind)
    }

    pub(super) fn is_composite(&self, name: &str) -> bool {
        matches!(
            self.kind(name),
            Kind::Object | Kind::Interface | Kind::Union
        )
    }

    /// Whether a value could be of both types, so a fragment on one may be spread in a
    /// selection on the other.
    pub(super) fn overlaps(&self, a: &str, b: &str) -> bool {
        let a = &self.get(a).possible;
        self.get(b).possible.iter().any(|t| a.contains(t))
    }

    /// The type conditions a fragment spread in a selection on `parent` may have.
    pub(super) fn spread_targets(&self, parent: &str) -> Vec<&str> {
        self.order
            .iter()
            .filter(|t| self.is_composite(t) && self.overlaps(parent, t))
            .map(String::as_str)
            .collect()
    }

    /// 1 to 4, higher for a type that few fields return (`AlbumMediaConnection` only from
    /// `Album.media`): picking fields of such types likelier makes up for the few ways to
    /// reach them.
    pub(super) fn rarity(&self, type_name: &str) -> u32 {
        let ways = self.ways_in.get(type_name).copied().unwrap_or(1).max(1);
        4_u32.div_ceil(ways).clamp(1, 4)
    }

    /// See [`Schema::class`].
    pub(super) fn class_of(&self, composite: &str) -> &str {
        &self.class[composite]
    }

    /// See [`Schema::ways_in`].
    fn ways_in(&self) -> HashMap<String, u32> {
        let mut ways: HashMap<String, u32> = HashMap::new();
        let mut reached = HashSet::new();
        let mut todo = vec![self.query.as_str()];
        while let Some(name) = todo.pop() {
            if !self.is_composite(name) || !reached.insert(name) {
                continue;
            }
            let def = self.get(name);
            todo.extend(def.possible.iter().map(String::as_str));
            for field in &def.fields {
                *ways.entry(named(&field.ty).to_string()).or_default() += 1;
                todo.push(named(&field.ty));
            }
        }
        ways
    }

    /// Connected components of [`Schema::overlaps`] over the composite types, each named by
    /// its first type in SDL order.
    fn classes(&self) -> HashMap<String, String> {
        let composites: Vec<&String> = self.order.iter().filter(|t| self.is_composite(t)).collect();
        let mut class: HashMap<String, String> = HashMap::new();
        for t in &composites {
            if class.contains_key(*t) {
                continue;
            }
            let mut stack = vec![(*t).clone()];
            while let Some(member) = stack.pop() {
                if class.contains_key(&member) {
                    continue;
                }
                class.insert(member.clone(), (*t).clone());
                stack.extend(
                    composites
                        .iter()
                        .filter(|other| self.overlaps(&member, other))
                        .map(|other| (*other).clone()),
                );
            }
        }
        class
    }
}

impl TypeDef {
    fn of(name: String, kind: TypeKind) -> TypeDef {
        let mut def = TypeDef {
            possible: Vec::new(),
            name,
            kind: Kind::Scalar,
            fields: Vec::new(),
            inputs: Vec::new(),
            values: Vec::new(),
        };
        match kind {
            TypeKind::Scalar => {}
            TypeKind::Object(object) => {
                def.kind = Kind::Object;
                def.fields = object
                    .fields
                    .iter()
                    .map(|f| FieldDef::of(&f.node))
                    .collect();
                def.possible.push(def.name.clone());
            }
            TypeKind::Interface(interface) => {
                def.kind = Kind::Interface;
                def.fields = interface
                    .fields
                    .iter()
                    .map(|f| FieldDef::of(&f.node))
                    .collect();
            }
            TypeKind::Union(union) => {
                def.kind = Kind::Union;
                def.possible = union.members.iter().map(|m| m.node.to_string()).collect();
            }
            TypeKind::Enum(e) => {
                def.kind = Kind::Enum;
                def.values = e
                    .values
                    .iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect();
            }
            TypeKind::InputObject(input) => {
                def.kind = Kind::Input;
                def.inputs = input.fields.iter().map(|f| InputDef::of(&f.node)).collect();
            }
        }
        if matches!(def.kind, Kind::Object | Kind::Interface | Kind::Union) {
            def.fields.push(FieldDef::typename());
        }
        def
    }
}
