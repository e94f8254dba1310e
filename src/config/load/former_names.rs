//! Keys under the names the original Python optimizer gave them. Its users' files load
//! unchanged: the value is read under today's name, problems with it are still placed on the
//! line that wrote it, and `check-config` says the current name once, as a note.

use serde_yaml::{Mapping, Value};
use yaml_located::{KeyPath, Segment};

use crate::config::validate::Violation;

/// (the former name, its parent section, today's name).
const FORMER_NAMES: &[(&str, &str, &str)] =
    &[("quality_thresholds", "quality_monitoring", "thresholds")];

/// A key the file wrote under a former name.
#[derive(Debug, Clone)]
pub(super) struct Renamed {
    pub(super) former: KeyPath,
    pub(super) current: KeyPath,
}

impl Renamed {
    /// Where a key at or below today's name was written: under the former name.
    pub(super) fn as_written(&self, key: &KeyPath) -> Option<KeyPath> {
        let below = key.segments().strip_prefix(self.current.segments())?;
        Some(
            below
                .iter()
                .fold(self.former.clone(), |path, segment| match segment {
                    Segment::Key(name) => path.key(name.clone()),
                    Segment::Index(index) => path.index(*index),
                }),
        )
    }

    /// `check-config`'s note.
    pub(super) fn note(&self, file_position: Option<String>) -> String {
        let at = file_position
            .map(|at| format!("{at}: "))
            .unwrap_or_default();
        format!(
            "{at}{} is read as {}, the name it has now (the original optimizer's name still \
             works; rename it to drop this note)",
            self.former, self.current
        )
    }
}

/// Moves every value written under a former name to today's name in `tree`. A file that
/// writes both names gets a problem at the former one: which value it means is not clear.
pub(super) fn rename_former_keys(tree: &mut Value) -> (Vec<Renamed>, Vec<Violation>) {
    let mut renamed = Vec::new();
    let mut problems = Vec::new();
    for (former, section, current) in FORMER_NAMES {
        let Some(Value::Mapping(parent)) = tree.get_mut(*section) else {
            continue;
        };
        let former_path = KeyPath::root().key(*section).key(*former);
        let current_path = KeyPath::root().key(*section).key(*current);
        if !parent.contains_key(*former) {
            continue;
        }
        if parent.contains_key(*current) {
            // Dropped, so the former name is this one problem and not an unknown key too.
            parent.remove(*former);
            problems.push(Violation {
                key: former_path,
                problem: format!("{current_path} is written too; the two are the same setting"),
                help: Some(format!("keep only `{current}`")),
                suggested_value: None,
            });
            continue;
        }
        move_key(parent, former, current);
        renamed.push(Renamed {
            former: former_path,
            current: current_path,
        });
    }
    (renamed, problems)
}

fn move_key(parent: &mut Mapping, from: &str, to: &str) {
    if let Some(value) = parent.remove(from) {
        parent.insert(Value::String(to.to_owned()), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_former_name_is_read_as_the_current_one_and_placed_where_it_was_written() {
        let mut tree: Value =
            serde_yaml::from_str("quality_monitoring:\n  quality_thresholds:\n    fair: 0.4\n")
                .unwrap();
        let (renamed, problems) = rename_former_keys(&mut tree);
        assert!(problems.is_empty());
        assert_eq!(tree["quality_monitoring"]["thresholds"]["fair"], 0.4);
        let written = renamed[0]
            .as_written(&"quality_monitoring.thresholds.fair".parse().unwrap())
            .unwrap();
        assert_eq!(
            written.to_string(),
            "quality_monitoring.quality_thresholds.fair"
        );
        assert_eq!(
            renamed[0].as_written(&"quality_monitoring.min_success_rate".parse().unwrap()),
            None
        );
    }

    #[test]
    fn both_names_at_once_are_a_problem() {
        let mut tree: Value = serde_yaml::from_str(
            "quality_monitoring:\n  quality_thresholds: {fair: 0.4}\n  thresholds: {fair: 0.5}\n",
        )
        .unwrap();
        let (renamed, problems) = rename_former_keys(&mut tree);
        assert!(renamed.is_empty());
        assert_eq!(
            problems[0].key.to_string(),
            "quality_monitoring.quality_thresholds"
        );
    }
}
