//! Key bindings: one table of the dashboard's actions, their contexts and default keys, from
//! which the help overlay and the footer are drawn, and which the `keys:` section of the
//! configuration rebinds.
//!
//! - [`spec`]: one key written as text (`ctrl+c`) and matched against terminal events;
//! - [`actions`]: the actions, declared once;
//! - [`context`]: where each action works;
//! - [`bindings`]: the key map in effect, with rebinding and clash checks;
//! - [`config_section`]: the configuration's `keys:` section checked with the key map.

mod actions;
mod bindings;
mod config_section;
mod context;
mod spec;
#[cfg(test)]
mod test_keys;

pub use actions::KeyAction;
pub use bindings::{Keymap, KeymapProblem};
pub use config_section::key_section_problems;
pub(crate) use context::{Context, Watching};
pub use spec::{KeyParseError, KeySpec};
