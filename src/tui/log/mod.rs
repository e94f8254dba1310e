//! The event log: what happened, in an operator's words, one line per thing that happened.
//!
//! - [`wording`] turns each engine event into [`Note`]s: a state change once (a server down
//!   and back, a grade, a limit exceeded and met again), not a line per poll that sees it;
//! - [`rooms`] writes one poll's room churn as a line per room;
//! - [`ring`] keeps the newest [`LOG_CAPACITY`] entries and collapses repeats: a note with the
//!   same [`CollapseKey`], level and server as a recent entry becomes that entry again, with a
//!   count, moved to the newest position;
//! - [`memory`] is what the wording remembers between events to tell a change from a repeat;
//! - [`filter`] is the events screen's query language; [`human`] writes numbers in words.

mod filter;
mod human;
mod memory;
mod note;
mod ring;
mod rooms;
mod wording;

pub(crate) use filter::{LogQuery, SYNTAX as FILTER_SYNTAX};
pub use note::{Level, LogEntry};
pub use ring::EventLog;
pub(crate) use ring::LOG_CAPACITY;
pub(crate) use wording::{describe_command, describe_command_outcome};
