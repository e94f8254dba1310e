//! The live dashboard: a view over the engine's event stream. Input and engine events become
//! [`Action`]s, [`update`] folds them into the [`App`] state and returns [`Effect`]s for the
//! event loop to carry out, and `render` draws the state without changing it.

pub mod action;
pub mod app;
pub mod cursor;
pub mod events_view;
pub mod keys;
pub mod layout;
pub mod log;
mod logfile;
pub mod popup;
pub mod render;
mod retire;
pub mod rooms;
mod run;
pub mod screen;
pub mod server_view;
mod terminal;
pub mod theme;
pub mod update;

pub use action::{Action, DemoFault, Effect, ReplayControl};
pub use app::{App, Mode};
pub use run::{default_log_path, run_live, run_replay};
pub use screen::Screen;
pub use terminal::restore;
pub use update::update;
