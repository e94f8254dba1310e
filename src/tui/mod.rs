//! The live dashboard: a view over the engine's event stream. Input and engine events become
//! [`Action`]s, [`update`] folds them into the [`App`] state and returns [`Effect`]s for the
//! event loop to carry out, and `render` draws the state without changing it.

mod action;
pub mod app;
mod cursor;
pub mod departures;
mod events_view;
pub mod history_view;
pub mod jobs_view;
pub mod keys;
mod layout;
pub mod log;
mod logfile;
pub mod nodes_table;
pub mod nodes_view;
pub mod participant_kinds;
pub mod popup;
pub mod render;
mod retire;
mod rooms;
mod run;
mod screen;
mod server_view;
mod terminal;
pub mod text_filter;
pub mod theme;
mod update;

pub use action::DemoFault;
pub use action::{Action, Effect, ReplayControl};
pub use app::{App, Mode};
pub(crate) use run::{run_live, run_replay};
pub use screen::Screen;
pub use update::update;
