//! A YAML tree read from text that may hold secrets, its text cleared when the tree is dropped.
//!
//! `serde_yaml` parses into a [`Value`] whose strings are plain `String`s: without this, every
//! secret the file or an override wrote would stay in freed memory once the tree is gone.

use std::ops::{Deref, DerefMut};

use serde_yaml::Value;
use zeroize::Zeroize;

/// A [`Value`] whose every string, keys included, is zeroed when it is dropped. No `Debug`:
/// it holds the secrets as written.
pub(crate) struct ScrubbedTree(Value);

impl ScrubbedTree {
    pub(crate) fn new(tree: Value) -> Self {
        Self(tree)
    }
}

impl Deref for ScrubbedTree {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0
    }
}

impl DerefMut for ScrubbedTree {
    fn deref_mut(&mut self) -> &mut Value {
        &mut self.0
    }
}

impl Drop for ScrubbedTree {
    fn drop(&mut self) {
        scrub(&mut self.0);
    }
}

/// Zeroes every string in `value` where it lies; a mapping, which hands out its keys only
/// by value, is emptied on the way.
pub(crate) fn scrub(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Sequence(items) => items.iter_mut().for_each(scrub),
        Value::Mapping(mapping) => {
            for (mut key, mut entry) in std::mem::take(mapping) {
                scrub(&mut key);
                scrub(&mut entry);
            }
        }
        Value::Tagged(tagged) => scrub(&mut tagged.value),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_yaml::Mapping;

    use super::*;

    #[test]
    fn strings_are_zeroed_where_they_lie_and_mappings_emptied() {
        let mut tree: Value = serde_yaml::from_str(
            "- hunter2-secret-0123456789
- !tagged [another-secret-0123456789]
- {api_secret: s3cr3t}
",
        )
        .expect("valid YAML");
        let capacity = |value: &Value| match value {
            Value::String(text) => text.capacity(),
            _ => 0,
        };
        let before = capacity(&tree[0]);
        let tagged_before = match &tree[1] {
            Value::Tagged(tagged) => capacity(&tagged.value[0]),
            _ => 0,
        };
        scrub(&mut tree);
        // Emptied in the same allocation: zeroed there, not handed back to the allocator as is.
        assert_eq!(tree[0].as_str(), Some(""));
        assert!(before > 0 && capacity(&tree[0]) == before);
        let Value::Tagged(tagged) = &tree[1] else {
            panic!("the tag stays: {:?}", tree[1]);
        };
        assert_eq!(tagged.value[0].as_str(), Some(""));
        assert_eq!(capacity(&tagged.value[0]), tagged_before);
        assert_eq!(tree[2], Value::Mapping(Mapping::new()));
    }
}
