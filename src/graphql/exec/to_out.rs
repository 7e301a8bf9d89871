//! What the executor takes over from a resolver: a root field's value or a mutation's payload,
//! converted to the values the executor holds ([`Obj`], [`Out`]). Scalars and lists are
//! converted here; each object type implements [`ToOut`] beside its definition
//! (`graphql::types`), each payload beside its own (`graphql::mutation`).

use async_graphql::Value;
use chrono::{DateTime, Utc};

use super::obj::{Obj, Out};

/// A value the executor can take over from a resolver: a root field's or a payload's.
pub(crate) trait ToOut {
    /// A scalar or an enum (lists of them are one leaf value).
    const LEAF: bool = false;

    fn to_out(&self) -> Out;

    /// A live feed's event: its place in the user's journal.
    fn event(&self) -> Option<i64> {
        None
    }
}

impl<T: ToOut> ToOut for Option<T> {
    const LEAF: bool = T::LEAF;

    fn to_out(&self) -> Out {
        match self {
            Some(v) => v.to_out(),
            None => Out::Null,
        }
    }
}

impl<T: ToOut> ToOut for Vec<T> {
    const LEAF: bool = T::LEAF;

    fn to_out(&self) -> Out {
        let outs = self.iter().map(ToOut::to_out);
        if T::LEAF {
            return Out::Value(Value::List(
                outs.map(|o| match o {
                    Out::Value(v) => v,
                    Out::Time(t) => async_graphql::ScalarType::to_value(&t),
                    _ => Value::Null,
                })
                .collect(),
            ));
        }
        let items: Vec<Option<Obj>> = outs
            .map(|o| match o {
                Out::One(obj) => Some(obj),
                _ => None,
            })
            .collect();
        if items.iter().all(Option::is_some) {
            Out::Many(items.into_iter().flatten().collect())
        } else {
            Out::ManyOpt(items)
        }
    }
}

macro_rules! leaf_by_into {
    ($($t:ty),*) => {$(
        impl ToOut for $t {
            const LEAF: bool = true;

            fn to_out(&self) -> Out {
                Out::Value(Value::from(self.clone()))
            }
        }
    )*};
}

leaf_by_into!(bool, i32, i64, f64, String);

impl ToOut for async_graphql::ID {
    const LEAF: bool = true;

    fn to_out(&self) -> Out {
        Out::Value(Value::String(self.0.clone()))
    }
}

impl ToOut for DateTime<Utc> {
    const LEAF: bool = true;

    fn to_out(&self) -> Out {
        Out::Time(*self)
    }
}

impl ToOut for crate::graphql::scalars::BigInt {
    const LEAF: bool = true;

    fn to_out(&self) -> Out {
        Out::Value(async_graphql::ScalarType::to_value(self))
    }
}
