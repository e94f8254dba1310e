//! Where an action works: on which screens, and whether only while the built-in sandbox runs or
//! a recording plays. Two actions may share a key only where their contexts never meet.

/// Where an action works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Context {
    /// Every screen.
    Global,
    Overview,
    Connections,
    Rooms,
    RoomDetail,
    Events,
    History,
    Nodes,
    NodeDetail,
    /// Both the rooms list and a room's detail screen.
    RoomActions,
    /// Every screen, while the dashboard runs its built-in sandbox.
    Demo,
    /// Every screen, while the dashboard plays a recording.
    Replay,
}

/// What the dashboard is watching, which decides whether the [`Context::Demo`] and
/// [`Context::Replay`] keys work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watching {
    /// Configured servers, through the engine.
    Servers,
    /// The built-in sandbox lktop started itself, whose faults the demo keys inject.
    Sandbox,
    /// A recording played back.
    Recording,
}

impl Context {
    /// Whether one key could mean an action of each context on some screen.
    #[must_use]
    pub(crate) fn overlaps(self, other: Self) -> bool {
        // The sandbox's keys and a replay's are never offered at once.
        if matches!(
            (self, other),
            (Self::Demo, Self::Replay) | (Self::Replay, Self::Demo)
        ) {
            return false;
        }
        let covers = |wide: Self, narrow: Self| match wide {
            Self::Global | Self::Demo | Self::Replay => true,
            Self::RoomActions => matches!(narrow, Self::Rooms | Self::RoomDetail),
            _ => false,
        };
        self == other || covers(self, other) || covers(other, self)
    }

    /// Whether this context's actions work on `screen` while the dashboard watches `watching`.
    #[must_use]
    pub(crate) fn is_active(self, screen: Self, watching: Watching) -> bool {
        match self {
            Self::Global => true,
            Self::Demo => watching == Watching::Sandbox,
            Self::Replay => watching == Watching::Recording,
            Self::RoomActions => {
                matches!(screen, Self::Rooms | Self::RoomDetail | Self::RoomActions)
            }
            own => own == screen,
        }
    }

    /// A short heading for the help overlay.
    #[must_use]
    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::Global => "everywhere",
            Self::Overview => "overview",
            Self::Connections => "connections",
            Self::Rooms => "rooms",
            Self::RoomDetail => "room detail",
            Self::Events => "event log",
            Self::History => "history",
            Self::Nodes => "nodes",
            Self::NodeDetail => "node detail",
            Self::RoomActions => "rooms and room detail",
            Self::Demo => "demo sandbox",
            Self::Replay => "replay",
        }
    }

    /// Where the context's actions work, for messages.
    fn screens(self) -> &'static str {
        match self {
            Self::Global | Self::Demo | Self::Replay => "every screen",
            Self::Overview => "the overview screen",
            Self::Connections => "the connections screen",
            Self::Rooms => "the rooms screen",
            Self::RoomDetail => "the room detail screen",
            Self::Events => "the event log screen",
            Self::History => "the history screen",
            Self::Nodes => "the nodes screen",
            Self::NodeDetail => "the node detail screen",
            Self::RoomActions => "the rooms and room detail screens",
        }
    }

    /// Where two overlapping contexts meet, for a clash message.
    pub(super) fn shared_scope(self, other: Self) -> String {
        // Global, Demo and Replay add no screen of their own; the shared rooms context is as
        // narrow as the screen it meets.
        let breadth = |context: Self| match context {
            Self::Global | Self::Demo | Self::Replay => 2,
            Self::RoomActions => 1,
            _ => 0,
        };
        let narrower = if breadth(other) < breadth(self) {
            other
        } else {
            self
        };
        let only_while = if self == Self::Demo || other == Self::Demo {
            " while the built-in sandbox runs"
        } else if self == Self::Replay || other == Self::Replay {
            " while a recording plays"
        } else {
            ""
        };
        format!("{}{only_while}", narrower.screens())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_overlap_where_they_share_a_screen() {
        use Context::{
            Connections, Demo, Events, Global, Overview, RoomActions, RoomDetail, Rooms,
        };
        let screens = [Overview, Connections, Rooms, RoomDetail, Events];
        let wide = [Global, RoomActions, Demo];
        for a in screens.into_iter().chain(wide) {
            assert!(Global.overlaps(a) && a.overlaps(Global) && Demo.overlaps(a));
            assert!(a.overlaps(a));
        }
        assert!(RoomActions.overlaps(Rooms) && RoomDetail.overlaps(RoomActions));
        assert!(!RoomActions.overlaps(Connections));
        assert!(!Rooms.overlaps(RoomDetail) && !Rooms.overlaps(Connections));
        assert!(
            RoomActions.is_active(Rooms, Watching::Servers)
                && !RoomActions.is_active(Events, Watching::Sandbox)
        );
        assert!(
            !Demo.is_active(Overview, Watching::Servers)
                && Demo.is_active(Overview, Watching::Sandbox)
        );
    }

    #[test]
    fn replay_keys_meet_every_screen_but_never_the_demo_keys() {
        use Context::{Demo, Global, Overview, Replay, RoomDetail};
        assert!(Replay.overlaps(Global) && Replay.overlaps(RoomDetail));
        assert!(!Replay.overlaps(Demo) && !Demo.overlaps(Replay));
        assert!(Replay.is_active(Overview, Watching::Recording));
        assert!(!Replay.is_active(Overview, Watching::Sandbox));
        assert!(!Demo.is_active(Overview, Watching::Recording));
        assert_eq!(
            Replay.shared_scope(Global),
            "every screen while a recording plays"
        );
    }
}
