//! The kinds of object the server knows, in one table: each kind's GraphQL type (the prefix of
//! its global ids), its table, whether it has a trash, and how links name it.
//!
//! Everything kind-specific is derived from [`Kind::spec`]: global ids (`graphql::ids`), the
//! link kinds ([`ObjectKind`], the subset links may join), the SQL that hides links to trashed
//! objects (`store::sql::end_active`), and `node(id:)`'s dispatch, which matches on [`Kind`]
//! without a catch-all. A new kind is a new variant: the compiler then asks for its spec, its
//! place in [`Kind::ALL`] and every dispatch, and the tests below check the table is coherent.

/// A kind of object a global id can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    User,
    Media,
    Album,
    Link,
    Integration,
    Tag,
    /// A resumable upload session (not a `Node`: it is not an object of the library).
    Upload,
}

/// What the server knows of a kind.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The GraphQL type, and the prefix of the kind's global ids.
    pub type_name: &'static str,
    /// The table of its rows.
    pub table: &'static str,
    /// The column of that table naming the user whose row it is.
    pub owner: &'static str,
    /// Deleting one moves it to the trash (`deleted_at`) until it is restored or purged.
    pub trashed: bool,
    /// How a link names it in `links.from_object_type` / `to_object_type`; `None` for the
    /// kinds links never join.
    pub link_end: Option<&'static str>,
}

impl Kind {
    /// Every kind, in [`Kind::index`] order.
    pub(crate) const ALL: [Kind; 7] = [
        Kind::User,
        Kind::Media,
        Kind::Album,
        Kind::Link,
        Kind::Integration,
        Kind::Tag,
        Kind::Upload,
    ];

    /// The kind's place in [`Kind::ALL`]: a new variant must be given one (the tests check
    /// that `ALL` holds it there).
    #[cfg(test)]
    const fn index(self) -> usize {
        match self {
            Kind::User => 0,
            Kind::Media => 1,
            Kind::Album => 2,
            Kind::Link => 3,
            Kind::Integration => 4,
            Kind::Tag => 5,
            Kind::Upload => 6,
        }
    }

    pub(crate) const fn spec(self) -> &'static Spec {
        match self {
            Kind::User => &Spec {
                type_name: "User",
                table: "users",
                owner: "id",
                trashed: true,
                link_end: None,
            },
            Kind::Media => &Spec {
                type_name: "Media",
                table: "media",
                owner: "user_id",
                trashed: true,
                link_end: Some("media"),
            },
            Kind::Album => &Spec {
                type_name: "Album",
                table: "albums",
                owner: "user_id",
                trashed: true,
                link_end: Some("album"),
            },
            Kind::Link => &Spec {
                type_name: "Link",
                table: "links",
                owner: "user_id",
                trashed: true,
                link_end: None,
            },
            Kind::Integration => &Spec {
                type_name: "Integration",
                table: "integrations",
                owner: "user_id",
                trashed: true,
                link_end: Some("integration"),
            },
            Kind::Tag => &Spec {
                type_name: "Tag",
                table: "tags",
                owner: "user_id",
                trashed: true,
                link_end: Some("tag"),
            },
            Kind::Upload => &Spec {
                type_name: "Upload",
                table: "upload_sessions",
                owner: "user_id",
                trashed: false,
                link_end: None,
            },
        }
    }

    pub(crate) const fn type_name(self) -> &'static str {
        self.spec().type_name
    }

    /// The kind whose GraphQL type is `name`.
    pub(crate) fn from_type_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.type_name() == name)
    }

    /// The kind as a link end, when links may join it.
    pub(crate) const fn object(self) -> Option<ObjectKind> {
        match self {
            Kind::Media => Some(ObjectKind::Media),
            Kind::Album => Some(ObjectKind::Album),
            Kind::Integration => Some(ObjectKind::Integration),
            Kind::Tag => Some(ObjectKind::Tag),
            Kind::User | Kind::Link | Kind::Upload => None,
        }
    }
}

/// The kinds a link may join: the kinds whose spec has a `link_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ObjectKind {
    Media,
    Album,
    Integration,
    Tag,
}

impl ObjectKind {
    /// Every link kind.
    pub(crate) const ALL: [ObjectKind; 4] = [
        ObjectKind::Media,
        ObjectKind::Album,
        ObjectKind::Integration,
        ObjectKind::Tag,
    ];

    pub(crate) const fn kind(self) -> Kind {
        match self {
            ObjectKind::Media => Kind::Media,
            ObjectKind::Album => Kind::Album,
            ObjectKind::Integration => Kind::Integration,
            ObjectKind::Tag => Kind::Tag,
        }
    }

    /// How links name it.
    pub(crate) fn as_str(self) -> &'static str {
        self.kind()
            .spec()
            .link_end
            .expect("every ObjectKind has a link end (checked by the kinds' tests)")
    }

    /// The link kind links name `s`.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The link types the server gives a meaning to, each with the kinds of the ends it joins
/// (from, to): a client's link of one of these types must join exactly these.
pub(crate) const BUILT_IN_LINKS: [(&str, ObjectKind, ObjectKind); 5] = [
    ("contains", ObjectKind::Album, ObjectKind::Media),
    ("source", ObjectKind::Media, ObjectKind::Integration),
    ("duplicate_of", ObjectKind::Media, ObjectKind::Media),
    ("variant_of", ObjectKind::Media, ObjectKind::Media),
    ("tagged", ObjectKind::Media, ObjectKind::Tag),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_place_and_a_unique_name() {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i, "{kind:?}");
            assert_eq!(Kind::from_type_name(kind.type_name()), Some(kind));
            let same_table = Kind::ALL
                .iter()
                .filter(|k| k.spec().table == kind.spec().table);
            assert_eq!(same_table.count(), 1, "{kind:?}");
        }
    }

    #[test]
    fn the_link_kinds_are_exactly_the_kinds_with_a_link_end() {
        for kind in Kind::ALL {
            assert_eq!(
                kind.spec().link_end.is_some(),
                kind.object().is_some(),
                "{kind:?}"
            );
            if let Some(object) = kind.object() {
                assert_eq!(object.kind(), kind);
                assert!(ObjectKind::ALL.contains(&object));
                assert_eq!(ObjectKind::parse(object.as_str()), Some(object));
                // Links hide trashed ends: every end has a trash to be hidden by.
                assert!(kind.spec().trashed, "{kind:?}");
            }
        }
        assert_eq!(
            ObjectKind::ALL.len(),
            Kind::ALL.iter().filter(|k| k.object().is_some()).count()
        );
    }

    #[test]
    fn the_schemas_node_types_are_the_kinds() {
        let sdl = crate::graphql::sdl();
        let nodes: Vec<&str> = sdl
            .lines()
            .filter_map(|l| l.strip_prefix("type ")?.strip_suffix(" implements Node {"))
            .collect();
        assert!(!nodes.is_empty());
        for name in &nodes {
            assert!(Kind::from_type_name(name).is_some(), "{name} is not a kind");
        }
        // Every kind but the upload session is a Node, and links join only Nodes.
        for kind in Kind::ALL {
            assert_eq!(
                nodes.contains(&kind.type_name()),
                kind != Kind::Upload,
                "{kind:?}"
            );
        }
    }
}
