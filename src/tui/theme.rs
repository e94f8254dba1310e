//! Colours and emphasis, in one place. With `--color never` (or `NO_COLOR`) every style keeps
//! only its modifiers (bold, reversed, dim), so states stay distinguishable without colour.

use ratatui::style::{Color, Modifier, Style};

use crate::quality::Grade;
use crate::reconnect::ConnectionState;

use super::log::Level;
use super::server_view::ServerHealth;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub(crate) monochrome: bool,
}

impl Theme {
    #[must_use]
    pub fn new(monochrome: bool) -> Self {
        Self { monochrome }
    }

    fn paint(self, style: Style) -> Style {
        if self.monochrome {
            Style {
                fg: None,
                bg: None,
                underline_color: None,
                ..style
            }
        } else {
            style
        }
    }

    #[must_use]
    pub(crate) fn fg(self, color: Color) -> Style {
        self.paint(Style::new().fg(color))
    }

    #[must_use]
    pub(crate) fn title(self) -> Style {
        self.paint(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD))
    }

    #[must_use]
    #[expect(
        clippy::unused_self,
        reason = "dimming needs no colour, so monochrome changes nothing; a style like the others"
    )]
    pub(crate) fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    #[must_use]
    pub(crate) fn header_row(self) -> Style {
        self.paint(Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD))
    }

    /// The selected row: a background, so coloured cells keep their colour (reverse video
    /// would turn them into blocks); reverse only without colour.
    #[must_use]
    pub fn selected(self) -> Style {
        if self.monochrome {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
                .bg(Color::Indexed(238))
                .add_modifier(Modifier::BOLD)
        }
    }

    #[must_use]
    pub(crate) fn key(self) -> Style {
        self.badge(Color::Cyan)
    }

    #[must_use]
    pub(crate) fn badge(self, color: Color) -> Style {
        self.paint(
            Style::new()
                .fg(Color::Black)
                .bg(color)
                .add_modifier(Modifier::BOLD),
        )
        .add_modifier(if self.monochrome {
            Modifier::REVERSED
        } else {
            Modifier::empty()
        })
    }

    #[must_use]
    pub(crate) fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    #[must_use]
    pub(crate) fn warn(self) -> Style {
        self.paint(Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD))
    }

    #[must_use]
    pub(crate) fn error(self) -> Style {
        self.paint(Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
    }

    /// A sample that was lost (requests made, none answered).
    #[must_use]
    pub(crate) fn lost(self) -> Style {
        self.paint(Style::new().fg(Color::Red))
    }

    /// Muted tracks: grey, or dim without colour (never both: grey dimmed is unreadable).
    #[must_use]
    pub(crate) fn muted(self) -> Style {
        if self.monochrome {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new().fg(Color::Indexed(245))
        }
    }

    #[must_use]
    pub(crate) fn state(self, state: ConnectionState) -> Style {
        match state {
            ConnectionState::Connected => self.ok(),
            ConnectionState::Connecting => self.fg(Color::Cyan),
            ConnectionState::Reconnecting => self.warn(),
            ConnectionState::Failed => self.error(),
            ConnectionState::Disconnected => self.dim(),
        }
    }

    #[must_use]
    pub(crate) fn health(self, health: ServerHealth) -> Style {
        match health {
            ServerHealth::Up => self.ok(),
            ServerHealth::Unknown => self.dim(),
            ServerHealth::Down | ServerHealth::Unauthenticated => self.error(),
        }
    }

    #[must_use]
    pub(crate) fn grade(self, grade: Option<Grade>) -> Style {
        match grade {
            Some(Grade::Excellent) => {
                self.paint(Style::new().fg(Color::Green).add_modifier(Modifier::BOLD))
            }
            Some(Grade::Good) => self.ok(),
            Some(Grade::Fair) => self.warn(),
            Some(Grade::Poor) => self.error(),
            None => self.dim(),
        }
    }

    #[must_use]
    pub(crate) fn level(self, level: Level) -> Style {
        match level {
            Level::Info => Style::new(),
            Level::Action => self.fg(Color::Cyan),
            Level::Warn => self.warn(),
            Level::Error => self.error(),
        }
    }

    /// A node that is draining (shutting down): it takes no new rooms.
    #[must_use]
    pub(crate) fn draining(self) -> Style {
        self.paint(
            Style::new()
                .fg(Color::Magenta)
                .add_modifier(Modifier::ITALIC),
        )
    }

    /// A value over its limit.
    #[must_use]
    pub(crate) fn over(self) -> Style {
        self.error()
    }
}
