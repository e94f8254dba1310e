//! Problems in YAML files that say where they are.
//!
//! serde decodes a YAML file into typed values but forgets where each value was written. This
//! crate keeps the other half: a [`KeyPath`] names a place in the document
//! (`connection_pool.pool_size`, `rooms[1].participants.max`), a [`Locator`] reads the same
//! text once more for the line and column of every key and value, and a [`LocatedIssue`] is
//! one problem with its key, where it comes from ([`Origin`]: `file:line:column`, a place in
//! another program's file, an environment variable, a command-line flag or a built-in
//! default), what is wrong and how to fix it. [`ConfigDuration`] reads durations as people
//! write them (`30`, `1.5`, `30s`, `1500ms`, `2m`).
//!
//! lktop's configuration and the scenarios of `livekit-sandbox` both report their problems
//! with it.
//!
//! ```
//! use std::path::PathBuf;
//! use yaml_located::{KeyPath, LocatedIssue, Locator, Origin, Target};
//!
//! let text = "connection_pool:\n  pool_size: 0\n";
//! let key: KeyPath = "connection_pool.pool_size".parse().unwrap();
//! let position = Locator::new(text).find(&key, Target::Value);
//! let issue = LocatedIssue {
//!     key: Some(key),
//!     origin: Origin::File {
//!         path: PathBuf::from("performance.yaml"),
//!         position,
//!         line_text: Some("  pool_size: 0".to_owned()),
//!     },
//!     problem: "0 is out of range; allowed 1..=256".to_owned(),
//!     help: None,
//! };
//! assert_eq!(
//!     issue.one_line(),
//!     "performance.yaml:2:14: connection_pool.pool_size: 0 is out of range; allowed 1..=256"
//! );
//! assert_eq!(
//!     issue.to_string(),
//!     "performance.yaml:2:14: connection_pool.pool_size: 0 is out of range; allowed 1..=256\n   |\n \
//!      2 |   pool_size: 0\n   |              ^"
//! );
//! ```

mod duration;
mod issue;
mod key_path;
mod locate;

pub use duration::ConfigDuration;
pub use issue::{LocatedIssue, Origin};
pub use key_path::{KeyPath, Segment};
pub use locate::{DuplicateKey, Locator, Position, Target, duplicate_key};
