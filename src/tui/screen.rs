//! The screens of the dashboard: the six tabs, the room detail under the rooms tab and the
//! node detail under the nodes tab.

use super::keys::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Overview,
    Connections,
    Rooms,
    RoomDetail,
    Events,
    History,
    Nodes,
    NodeDetail,
}

impl Screen {
    /// The tabs, in order; the room detail belongs to the rooms tab, the node detail to the
    /// nodes tab.
    pub(crate) const TABS: [Screen; 6] = [
        Screen::Overview,
        Screen::Connections,
        Screen::Rooms,
        Screen::Events,
        Screen::History,
        Screen::Nodes,
    ];

    #[must_use]
    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::Overview => "Overview",
            Self::Connections => "Connections",
            Self::Rooms | Self::RoomDetail => "Rooms",
            Self::Events => "Events",
            Self::History => "History",
            Self::Nodes | Self::NodeDetail => "Nodes",
        }
    }

    #[must_use]
    pub(crate) fn tab_index(self) -> usize {
        match self {
            Self::Overview => 0,
            Self::Connections => 1,
            Self::Rooms | Self::RoomDetail => 2,
            Self::Events => 3,
            Self::History => 4,
            Self::Nodes | Self::NodeDetail => 5,
        }
    }

    #[must_use]
    pub(crate) fn context(self) -> Context {
        match self {
            Self::Overview => Context::Overview,
            Self::Connections => Context::Connections,
            Self::Rooms => Context::Rooms,
            Self::RoomDetail => Context::RoomDetail,
            Self::Events => Context::Events,
            Self::History => Context::History,
            Self::Nodes => Context::Nodes,
            Self::NodeDetail => Context::NodeDetail,
        }
    }
}
