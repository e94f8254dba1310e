//! Line and column of every key and value in a YAML file, so an error about
//! `connection_pool.pool_size` can point at `performance.yaml:12:14`.
//!
//! `serde_yaml` decodes the typed config but keeps no positions once a value is decoded, so the
//! same text is also read by saphyr, whose `MarkedYaml` carries a span for every node.

use saphyr::{LoadableYamlNode, MarkedYaml, YamlData};

use super::key_path::{KeyPath, Segment};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Whether an error is about a key's name (an unknown key) or about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Key,
    Value,
}

pub struct Locator<'text> {
    root: Option<MarkedYaml<'text>>,
}

impl<'text> Locator<'text> {
    /// A file saphyr cannot read gives a locator that finds nothing: errors then name the key
    /// without a line, which is still correct.
    #[must_use]
    pub fn new(text: &'text str) -> Self {
        let root = MarkedYaml::load_from_str(text)
            .ok()
            .and_then(|documents| documents.into_iter().next());
        Self { root }
    }

    /// Where `path` is written; for a path that is not in the file (a missing key, a default),
    /// the nearest enclosing key that is.
    #[must_use]
    pub fn find(&self, path: &KeyPath, target: Target) -> Option<Position> {
        self.walk(path, target).map(|(position, _)| position)
    }

    /// Whether `path` itself is written in the file.
    #[must_use]
    pub fn contains(&self, path: &KeyPath) -> bool {
        self.walk(path, Target::Key).is_some_and(|(_, exact)| exact)
    }

    fn walk(&self, path: &KeyPath, target: Target) -> Option<(Position, bool)> {
        let mut node = self.root.as_ref()?;
        let mut found = None;
        let mut depth = 0;
        for segment in path.segments() {
            let (key_node, value_node) = match (segment, &node.data) {
                (Segment::Key(wanted), YamlData::Mapping(mapping)) => {
                    let Some((key, value)) = mapping
                        .iter()
                        .find(|(key, _)| key.data.as_str() == Some(wanted.as_str()))
                    else {
                        break;
                    };
                    (Some(key), value)
                }
                (Segment::Index(index), YamlData::Sequence(items)) => {
                    let Some(item) = items.get(*index) else { break };
                    (None, item)
                }
                _ => break,
            };
            found = Some((key_node, value_node));
            node = value_node;
            depth += 1;
        }
        let (key_node, value_node) = found?;
        let node = match (target, key_node) {
            (Target::Key, Some(key)) => key,
            _ => value_node,
        };
        let start = node.span.start;
        let position = Position {
            line: start.line(),
            column: start.col() + 1,
        };
        Some((position, depth == path.segments().len()))
    }
}

/// A key written twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The key as written at its second occurrence, without quotes.
    pub name: String,
    /// The second occurrence: the line to delete.
    pub second: Position,
    /// The first, when it is found in a block mapping above the second.
    pub first: Option<Position>,
}

/// The first key written twice in one mapping, located at its second occurrence: saphyr
/// checks for this while reading and reports where it saw the key again (`serde_yaml` only
/// names the start of the mapping).
#[must_use]
pub fn duplicate_key(text: &str) -> Option<DuplicateKey> {
    let err = MarkedYaml::load_from_str(text).err()?;
    if !err.info().contains("duplicate") {
        return None;
    }
    let second = Position {
        line: err.marker().line(),
        column: err.marker().col() + 1,
    };
    let lines: Vec<&str> = text.lines().collect();
    let written = lines.get(second.line.checked_sub(1)?)?;
    let from_key: String = written.chars().skip(second.column - 1).collect();
    let raw_name = key_text(&from_key)?;
    let first = (1..second.line).rev().find_map(|line| {
        let text = lines.get(line - 1)?;
        let prefix: String = text.chars().take(second.column - 1).collect();
        let rest: String = text.chars().skip(second.column - 1).collect();
        let in_same_mapping = prefix.chars().all(|c| c == ' ' || c == '-');
        (in_same_mapping && key_text(&rest) == Some(raw_name)).then_some(Position {
            line,
            column: second.column,
        })
    });
    Some(DuplicateKey {
        name: raw_name.trim_matches(['"', '\'']).to_owned(),
        second,
        first,
    })
}

/// The key at the start of `text` (`pool_size` of `pool_size: 3`), as written.
fn key_text(text: &str) -> Option<&str> {
    let (key, _) = text.split_once(':')?;
    let key = key.trim_end();
    (!key.is_empty() && !key.starts_with(['#', '-', ' '])).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
connection_pool:
  pool_size: 0
servers:
  - name: a
    url: ws://x
";

    #[test]
    fn finds_keys_and_values_by_path() {
        let locator = Locator::new(TEXT);
        let pool_size: KeyPath = "connection_pool.pool_size".parse().unwrap();
        assert_eq!(
            locator.find(&pool_size, Target::Key),
            Some(Position { line: 2, column: 3 })
        );
        assert_eq!(
            locator.find(&pool_size, Target::Value),
            Some(Position {
                line: 2,
                column: 14
            })
        );
        let url: KeyPath = "servers[0].url".parse().unwrap();
        assert_eq!(
            locator.find(&url, Target::Value),
            Some(Position {
                line: 5,
                column: 10
            })
        );
    }

    #[test]
    fn falls_back_to_the_nearest_written_parent() {
        let locator = Locator::new(TEXT);
        let missing: KeyPath = "servers[0].api_secret".parse().unwrap();
        assert_eq!(
            locator.find(&missing, Target::Value),
            Some(Position { line: 4, column: 5 })
        );
        assert!(!locator.contains(&missing));
        assert!(locator.contains(&"servers[0].url".parse().unwrap()));
        let unwritten: KeyPath = "metrics.listen".parse().unwrap();
        assert_eq!(locator.find(&unwritten, Target::Value), None);
    }

    #[test]
    fn a_duplicate_key_is_found_where_it_is_written_again() {
        let text = "connection_pool:\n  pool_size: 3\n  max_pool_size: 20\n  pool_size: 4\n";
        assert_eq!(
            duplicate_key(text),
            Some(DuplicateKey {
                name: "pool_size".to_owned(),
                second: Position { line: 4, column: 3 },
                first: Some(Position { line: 2, column: 3 }),
            })
        );
        let in_list = "servers:\n  - url: ws://a:1\n    api_key: k\n  - url: ws://b:1\n    \
                       url: ws://c:1\n";
        let found = duplicate_key(in_list).unwrap();
        assert_eq!(found.second, Position { line: 5, column: 5 });
        assert_eq!(found.first, Some(Position { line: 4, column: 5 }));
        assert_eq!(duplicate_key(TEXT), None);
    }
}
