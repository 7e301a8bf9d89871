//! Writing a run as JSON text, keys in plan order, with field errors as the spec has them:
//! an error is reported at its field's path and the field is null; a null in a non-null
//! field makes its parent null instead, up to the nearest field that may be null.
//!
//! Objects are written optimistically and cut back to where they started when one of
//! their non-null fields turns out null: errors are rare, so nothing is checked twice.

use async_graphql::{PathSegment, Pos, ServerError};

use super::plan::{Answer, Entry, Plan};
use super::run::{Done, Ref, Slot, Slots};
use crate::error::AppError;
use crate::graphql::json;

pub(crate) struct Writer {
    pub out: Vec<u8>,
    path: Vec<PathSegment>,
    pub errors: Vec<ServerError>,
}

impl Writer {
    /// A writer of values under `path` (the root field's key).
    pub(crate) fn new(capacity: usize, path: Vec<PathSegment>) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            path,
            errors: Vec::new(),
        }
    }

    /// Writes object `i` of `done`; `false`, with nothing written, when it is null because
    /// a non-null field of it is.
    pub(crate) fn object(&mut self, plan: &Plan, done: &Done, i: usize) -> bool {
        let start = self.out.len();
        self.out.push(b'{');
        for (e, entry) in plan.entries.iter().enumerate() {
            self.out.extend_from_slice(&entry.prefix);
            let ok = match &entry.answer {
                Answer::Typename => {
                    json::string(&mut self.out, &plan.type_name);
                    true
                }
                Answer::Direct(write) => {
                    write(&done.objs[i], &mut self.out);
                    true
                }
                Answer::Failed(err) => {
                    self.path.push(PathSegment::Field(entry.key.clone()));
                    self.report(entry, err.clone());
                    self.path.pop();
                    self.null_unless_required(entry)
                }
                Answer::Batch(_) => match &done.slots[e] {
                    Some(slots) => self.field(entry, slots, i),
                    None => self.null_unless_required(entry),
                },
            };
            if !ok {
                self.out.truncate(start);
                return false;
            }
        }
        self.out.push(b'}');
        true
    }

    /// Writes the value of `entry` for parent `i`; `false`, with nothing written, when it is
    /// null and the field may not be.
    pub(crate) fn field(&mut self, entry: &Entry, slots: &Slots, i: usize) -> bool {
        self.path.push(PathSegment::Field(entry.key.clone()));
        let at = self.out.len();
        let ok = self.slot(entry, slots, &slots.outs[i]);
        self.path.pop();
        if ok {
            return true;
        }
        self.out.truncate(at);
        self.null_unless_required(entry)
    }

    fn null_unless_required(&mut self, entry: &Entry) -> bool {
        if entry.ty.nullable {
            self.out.extend_from_slice(b"null");
        }
        entry.ty.nullable
    }

    /// `false` when the value is null (written as nothing: the caller decides).
    fn slot(&mut self, entry: &Entry, slots: &Slots, slot: &Slot) -> bool {
        match slot {
            Slot::Null if entry.ty.nullable => {
                self.out.extend_from_slice(b"null");
                true
            }
            Slot::Null => {
                let err = AppError::internal(anyhow::anyhow!(
                    "a resolver gave null for the non-null field `{}`",
                    entry.name
                ));
                self.report(
                    entry,
                    async_graphql::Error::from(err).into_server_error(Pos::default()),
                );
                false
            }
            Slot::Value(v) => {
                json::value(&mut self.out, v);
                true
            }
            Slot::Time(t) => {
                json::string(&mut self.out, &t.to_rfc3339());
                true
            }
            Slot::Err(err) => {
                self.report(entry, err.clone().into_server_error(Pos::default()));
                false
            }
            Slot::One(r) => self.child(entry, slots, *r),
            Slot::Many(refs) => self.list(entry, slots, refs.iter().map(|r| Some(*r))),
            Slot::ManyOpt(refs) => self.list(entry, slots, refs.iter().copied()),
        }
    }

    fn child(&mut self, entry: &Entry, slots: &Slots, r: Ref) -> bool {
        self.object(&entry.children[r.plan], &slots.children[r.plan], r.index)
    }

    fn list(
        &mut self,
        entry: &Entry,
        slots: &Slots,
        items: impl Iterator<Item = Option<Ref>>,
    ) -> bool {
        let items_nullable = entry.ty.list.unwrap_or(true);
        self.out.push(b'[');
        for (k, item) in items.enumerate() {
            if k > 0 {
                self.out.push(b',');
            }
            self.path.push(PathSegment::Index(k));
            let at = self.out.len();
            let ok = match item {
                Some(r) => self.child(entry, slots, r),
                None => false,
            };
            self.path.pop();
            if !ok {
                self.out.truncate(at);
                if !items_nullable {
                    return false;
                }
                self.out.extend_from_slice(b"null");
            }
        }
        self.out.push(b']');
        true
    }

    fn report(&mut self, entry: &Entry, mut err: ServerError) {
        err.path = self.path.clone();
        err.locations = entry.locations.clone();
        self.errors.push(err);
    }
}
