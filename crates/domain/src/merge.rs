//! Three-way merge per field against the base snapshot (the values both
//! sides agreed on at the last sync). A field changed on one side flows to
//! the other; changed on both to the same value is fine; changed on both to
//! different values is a conflict: that field is held (neither side is
//! written), the rest of the record still syncs.

use std::collections::{BTreeMap, BTreeSet};

/// A record as field → value. An absent field and `None` both mean "empty".
pub type Record = BTreeMap<String, Option<String>>;

/// A field changed differently on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    pub field: String,
    pub base: Option<String>,
    pub store: Option<String>,
    pub erp: Option<String>,
}

/// What to write where, and what waits for a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merge {
    /// Field values to write to the store.
    pub to_store: Record,
    /// Field values to write to the ERP.
    pub to_erp: Record,
    /// Held fields, in field order.
    pub conflicts: Vec<FieldConflict>,
}

impl Merge {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }
}

fn get<'a>(r: &'a Record, f: &str) -> Option<&'a String> {
    r.get(f).and_then(Option::as_ref)
}

/// Merges `store` and `erp` against `base`, field by field.
pub fn merge(base: &Record, store: &Record, erp: &Record) -> Merge {
    let fields: BTreeSet<&String> = base.keys().chain(store.keys()).chain(erp.keys()).collect();
    let mut out = Merge::default();
    for f in fields {
        let (b, s, e) = (get(base, f), get(store, f), get(erp, f));
        if s == e {
            continue; // unchanged, or changed the same way on both sides
        }
        if s == b {
            out.to_store.insert(f.clone(), e.cloned());
        } else if e == b {
            out.to_erp.insert(f.clone(), s.cloned());
        } else {
            out.conflicts.push(FieldConflict {
                field: f.clone(),
                base: b.cloned(),
                store: s.cloned(),
                erp: e.cloned(),
            });
        }
    }
    out
}

/// How a person decided a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    KeepStore,
    KeepErp,
    Custom(Option<String>),
}

impl FieldConflict {
    /// The writes that carry out `resolution`: (to store, to ERP); `None`
    /// means that side already holds the chosen value.
    pub fn writes(&self, resolution: &Resolution) -> (Option<Option<String>>, Option<Option<String>>) {
        let value = match resolution {
            Resolution::KeepStore => self.store.clone(),
            Resolution::KeepErp => self.erp.clone(),
            Resolution::Custom(v) => v.clone(),
        };
        let to_store = (self.store != value).then(|| value.clone());
        let to_erp = (self.erp != value).then_some(value);
        (to_store, to_erp)
    }
}

/// Applies field writes to a record.
pub fn apply(record: &Record, writes: &Record) -> Record {
    let mut out = record.clone();
    for (f, v) in writes {
        out.insert(f.clone(), v.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(pairs: &[(&str, Option<&str>)]) -> Record {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned))).collect()
    }

    #[test]
    fn merge_table() {
        let base = rec(&[("price", Some("10.00")), ("title", Some("Mug")), ("phone", None)]);
        // (case, store, erp, to_store, to_erp, conflicting fields)
        type Case = (&'static str, Record, Record, Record, Record, Vec<&'static str>);
        let cases: Vec<Case> = vec![
            ("nothing changed", base.clone(), base.clone(), rec(&[]), rec(&[]), vec![]),
            (
                "store changed the title",
                rec(&[("price", Some("10.00")), ("title", Some("Blue mug"))]),
                base.clone(),
                rec(&[]),
                rec(&[("title", Some("Blue mug"))]),
                vec![],
            ),
            (
                "ERP changed the price",
                base.clone(),
                rec(&[("price", Some("12.00")), ("title", Some("Mug"))]),
                rec(&[("price", Some("12.00"))]),
                rec(&[]),
                vec![],
            ),
            (
                "both changed the price the same way",
                rec(&[("price", Some("12.00")), ("title", Some("Mug"))]),
                rec(&[("price", Some("12.00")), ("title", Some("Mug"))]),
                rec(&[]),
                rec(&[]),
                vec![],
            ),
            (
                "both changed the price differently; the title still flows",
                rec(&[("price", Some("11.00")), ("title", Some("Blue mug"))]),
                rec(&[("price", Some("12.00")), ("title", Some("Mug"))]),
                rec(&[]),
                rec(&[("title", Some("Blue mug"))]),
                vec!["price"],
            ),
            (
                "ERP cleared a field the store kept",
                base.clone(),
                rec(&[("price", Some("10.00")), ("title", None)]),
                rec(&[("title", None)]),
                rec(&[]),
                vec![],
            ),
        ];
        for (case, store, erp, to_store, to_erp, conflicts) in cases {
            let m = merge(&base, &store, &erp);
            assert_eq!(m.to_store, to_store, "{case}: to store");
            assert_eq!(m.to_erp, to_erp, "{case}: to ERP");
            assert_eq!(
                m.conflicts.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
                conflicts,
                "{case}: conflicts"
            );
        }
    }

    #[test]
    fn resolutions_write_only_where_needed() {
        let c = FieldConflict {
            field: "price".into(),
            base: Some("10".into()),
            store: Some("11".into()),
            erp: Some("12".into()),
        };
        assert_eq!(c.writes(&Resolution::KeepStore), (None, Some(Some("11".into()))));
        assert_eq!(c.writes(&Resolution::KeepErp), (Some(Some("12".into())), None));
        assert_eq!(
            c.writes(&Resolution::Custom(Some("13".into()))),
            (Some(Some("13".into())), Some(Some("13".into())))
        );
    }

    fn value() -> impl Strategy<Value = Option<String>> {
        prop_oneof![Just(None), "[a-c]".prop_map(Some)]
    }

    fn record() -> impl Strategy<Value = Record> {
        prop::collection::btree_map("[pqr]", value(), 0..4)
    }

    proptest! {
        #[test]
        fn after_applying_both_sides_agree_except_held_fields(base in record(), store in record(), erp in record()) {
            let m = merge(&base, &store, &erp);
            let new_store = apply(&store, &m.to_store);
            let new_erp = apply(&erp, &m.to_erp);
            let held: BTreeSet<&str> = m.conflicts.iter().map(|c| c.field.as_str()).collect();
            let fields: BTreeSet<&String> = base.keys().chain(store.keys()).chain(erp.keys()).collect();
            for f in fields {
                if held.contains(f.as_str()) {
                    prop_assert_eq!(get(&new_store, f), get(&store, f), "a held field is not written to the store");
                    prop_assert_eq!(get(&new_erp, f), get(&erp, f), "a held field is not written to the ERP");
                } else {
                    prop_assert_eq!(get(&new_store, f), get(&new_erp, f), "field {} converges", f);
                }
            }
        }

        #[test]
        fn conflicts_only_where_both_sides_changed_differently(base in record(), store in record(), erp in record()) {
            for c in merge(&base, &store, &erp).conflicts {
                prop_assert!(c.store != c.base && c.erp != c.base && c.store != c.erp, "{:?}", c);
            }
        }

        #[test]
        fn one_sided_changes_never_conflict(base in record(), erp in record()) {
            let m = merge(&base, &base, &erp);
            prop_assert!(m.is_clean());
            prop_assert!(m.to_erp.is_empty(), "the untouched store has nothing to send");
        }

        #[test]
        fn merge_is_symmetric(base in record(), store in record(), erp in record()) {
            let a = merge(&base, &store, &erp);
            let b = merge(&base, &erp, &store);
            prop_assert_eq!(a.to_store, b.to_erp);
            prop_assert_eq!(a.to_erp, b.to_store);
            prop_assert_eq!(a.conflicts.len(), b.conflicts.len());
        }
    }
}
