//! What the executor needs to know of the schema: each object type's fields with their
//! return types, the possible types of each interface and union, and the root types. Read
//! once, at start, from the same registry async-graphql builds for the SDL, so the two can
//! never disagree.

use std::collections::HashMap;

use async_graphql::registry::{MetaType, MetaTypeName, Registry};

/// The shape of a field's value: a leaf or an object, maybe in a list, each level nullable
/// or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldType {
    /// The named type under the list and non-null wrappers.
    pub named: String,
    /// The field's own value may be null.
    pub nullable: bool,
    /// `Some(item_nullable)` for a list (one level: the schema has no list of lists).
    pub list: Option<bool>,
    /// The named type is an object, interface or union.
    pub composite: bool,
}

/// A composite type as the executor sees it.
#[derive(Debug, Default)]
pub(crate) struct TypeInfo {
    /// Fields by name (objects and interfaces).
    pub fields: HashMap<String, FieldType>,
    /// The object types a value of this type can be: itself for an object, the implementors
    /// of an interface, the members of a union.
    pub possible: Vec<String>,
}

/// The schema's composite types, by name.
#[derive(Debug)]
pub(crate) struct SchemaInfo {
    types: HashMap<String, TypeInfo>,
    pub query: String,
    pub mutation: Option<String>,
    pub subscription: Option<String>,
}

impl SchemaInfo {
    /// Reads the registry of a schema.
    pub(crate) fn from_registry(registry: &Registry) -> Self {
        let composite = |name: &str| registry.types.get(name).is_some_and(|t| t.is_composite());
        let mut types = HashMap::new();
        for (name, ty) in &registry.types {
            let possible: Vec<String> = match ty {
                MetaType::Object { .. } => vec![name.clone()],
                MetaType::Interface { possible_types, .. }
                | MetaType::Union { possible_types, .. } => {
                    let mut all: Vec<String> = possible_types.iter().cloned().collect();
                    all.sort();
                    all
                }
                _ => continue,
            };
            let fields = ty
                .fields()
                .map(|fields| {
                    fields
                        .values()
                        .map(|f| (f.name.clone(), field_type(&f.ty, &composite)))
                        .collect()
                })
                .unwrap_or_default();
            types.insert(name.clone(), TypeInfo { fields, possible });
        }
        Self {
            types,
            query: registry.query_type.clone(),
            mutation: registry.mutation_type.clone(),
            subscription: registry.subscription_type.clone(),
        }
    }

    /// The root type of operations of type `ty`.
    pub(crate) fn root(&self, ty: async_graphql::parser::types::OperationType) -> &str {
        use async_graphql::parser::types::OperationType;
        match ty {
            OperationType::Query => &self.query,
            OperationType::Mutation => self.mutation.as_deref().unwrap_or_default(),
            OperationType::Subscription => self.subscription.as_deref().unwrap_or_default(),
        }
    }

    pub(crate) fn get(&self, type_name: &str) -> Option<&TypeInfo> {
        self.types.get(type_name)
    }

    /// The return type of `type_name.field`.
    pub(crate) fn field(&self, type_name: &str, field: &str) -> Option<&FieldType> {
        self.types.get(type_name)?.fields.get(field)
    }

    /// Whether a fragment with type condition `condition` applies to an object of type
    /// `object` (the spec's DoesFragmentTypeApply).
    pub(crate) fn applies(&self, object: &str, condition: &str) -> bool {
        object == condition
            || self
                .types
                .get(condition)
                .is_some_and(|t| t.possible.iter().any(|p| p == object))
    }

    /// Every composite type, for tests that walk the schema.
    #[cfg(test)]
    pub(crate) fn types(&self) -> impl Iterator<Item = (&String, &TypeInfo)> {
        self.types.iter()
    }
}

fn field_type(ty: &str, composite: &impl Fn(&str) -> bool) -> FieldType {
    let (nullable, inner) = match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => (false, inner),
        _ => (true, ty),
    };
    let (list, named) = match MetaTypeName::create(inner) {
        MetaTypeName::List(item) => match MetaTypeName::create(item) {
            MetaTypeName::NonNull(item) => (Some(false), item),
            _ => (Some(true), item),
        },
        _ => (None, inner),
    };
    FieldType {
        named: named.to_string(),
        nullable,
        list,
        composite: composite(named),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types_are_read_from_their_names() {
        let object = |n: &str| n == "Media";
        let t = field_type("[Media!]!", &object);
        assert_eq!(
            (t.named.as_str(), t.nullable, t.list, t.composite),
            ("Media", false, Some(false), true)
        );
        let t = field_type("[Node]!", &object);
        assert_eq!(
            (t.nullable, t.list, t.composite),
            (false, Some(true), false)
        );
        let t = field_type("DateTime", &object);
        assert_eq!(
            (t.named.as_str(), t.nullable, t.list),
            ("DateTime", true, None)
        );
    }

    #[test]
    fn the_schema_has_no_list_of_lists() {
        // The executor writes one list level; a nested list would need more.
        let info = crate::graphql::schema_info();
        for (name, ty) in info.types() {
            for (field, t) in &ty.fields {
                assert!(
                    !t.named.starts_with('['),
                    "{name}.{field} is a list of lists"
                );
            }
        }
    }
}
