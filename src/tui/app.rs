//! The dashboard's state: what the engine has reported (per server), what the user is looking
//! at, and the popups open. Only [`update`](super::update::update) changes it; drawing reads it.

use std::collections::BTreeMap;

use super::cursor::Cursor;
use super::events_view::EventsView;
use super::history_view::HistoryView;
use super::keys::{Keymap, Watching};
use super::log::{EventLog, Level};
use super::nodes_table::NodesTable;
use super::popup::Popup;
use super::rooms::RoomsView;
use super::screen::Screen;
use super::server_view::{ServerView, StateView};
use crate::config::{AudioProfile, KeyList, MediaLimitsConfig, QualityConfig, RoomLimitsConfig};
use crate::events::{EngineEvent, EventKind, LiveSettings};
use crate::poller::PollStats;
use crate::pool::PoolEvent;
use crate::signals::Signal;

/// Where the events come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// A running engine; `sandbox` is the built-in sandbox's URL when lktop started it.
    Live { sandbox: Option<String> },
    /// A recording played back; nothing can be changed.
    Replay {
        file: String,
        speed: f64,
        paused: bool,
        /// Recording time of the last event played and of the first one.
        at_ms: i64,
        started_at_ms: i64,
        finished: bool,
    },
}

impl Mode {
    #[must_use]
    pub(crate) fn is_replay(&self) -> bool {
        matches!(self, Self::Replay { .. })
    }

    /// What the dashboard watches, which decides whether the demo's and a replay's keys work.
    #[must_use]
    pub(crate) fn watching(&self) -> Watching {
        match self {
            Self::Live { sandbox: None } => Watching::Servers,
            Self::Live { sandbox: Some(_) } => Watching::Sandbox,
            Self::Replay { .. } => Watching::Recording,
        }
    }

    /// In a replay, the recording time of the event just played (the first one's too, when
    /// it is the first).
    fn played_to(&mut self, at_ms: i64) {
        if let Self::Replay {
            at_ms: played,
            started_at_ms,
            ..
        } = self
        {
            if *started_at_ms == 0 {
                *started_at_ms = at_ms;
            }
            *played = at_ms;
        }
    }
}

/// What the screens draw: the live data, or a copy taken when the user froze the view.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenData {
    pub servers: Vec<ServerView>,
    pub limits: RoomLimitsConfig,
    /// What each node's figures are checked against (`media_limits`).
    pub media_limits: MediaLimitsConfig,
    /// How often the engine reads the nodes (`quality_monitoring.metrics_interval`).
    pub(crate) metrics_interval_ms: i64,
    pub audio_default: AudioProfile,
    /// The event log's sequence number at that moment (entries after it are hidden while
    /// frozen).
    pub log_seq: u64,
    /// When the data was current (the freeze time while frozen).
    pub(crate) at_ms: i64,
    /// Where the engine takes webhooks, when it does.
    pub(crate) webhooks_listen: Option<String>,
    /// Causes the webhook listener refused webhooks for, with the first reason.
    pub(crate) webhooks_refused: BTreeMap<String, String>,
}

/// A short-lived message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub(crate) until_ms: i64,
}

/// The dashboard.
#[derive(Debug, Clone)]
pub struct App {
    pub mode: Mode,
    pub screen: Screen,
    /// The live data, always current.
    pub live: ScreenData,
    /// Set while frozen: what the screens show instead of `live`.
    pub(crate) frozen: Option<Box<ScreenData>>,
    pub(crate) selected_server: usize,
    pub(crate) overview: Cursor,
    pub(crate) connections: Cursor,
    pub rooms: RoomsView,
    /// The room open in the detail screen and the selected row (participants and their
    /// tracks, flattened).
    pub room_detail: Option<RoomDetail>,
    /// The events screen: its selection, filter and detail view.
    pub events_view: EventsView,
    /// The History screen: finished rooms.
    pub history: HistoryView,
    /// The Nodes screen: its sort, filter, selection and the node open in the detail.
    pub nodes: NodesTable,
    pub log: EventLog,
    pub popup: Option<Popup>,
    pub polling_paused: bool,
    pub poll_interval_ms: u64,
    pub flash: Option<Flash>,
    /// Terminal size in cells.
    pub width: u16,
    pub height: u16,
    /// The current time (Unix ms); moves with the heartbeat, the only clock `update` reads.
    pub now_ms: i64,
    pub keymap: Keymap,
    /// The `keys:` section the key map was built from, to tell a reload that changed it.
    pub(crate) keys_config: BTreeMap<String, KeyList>,
    /// `--color never` or `NO_COLOR`: every style without colour.
    pub monochrome: bool,
    /// The file the session records to, while it does (the header's `REC`).
    pub recording: Option<String>,
    pub should_quit: bool,
    /// The signal that ended the dashboard, for the exit status.
    pub(crate) stopped_by: Option<Signal>,
}

/// The room open in the room detail screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomDetail {
    pub(crate) server: usize,
    pub room: String,
    pub(crate) cursor: Cursor,
}

impl App {
    #[must_use]
    pub fn new(mode: Mode, keymap: Keymap, limits: RoomLimitsConfig, now_ms: i64) -> Self {
        Self {
            mode,
            screen: Screen::Overview,
            live: ScreenData {
                servers: Vec::new(),
                limits,
                media_limits: MediaLimitsConfig::default(),
                metrics_interval_ms: metrics_interval_ms(&QualityConfig::default()),
                audio_default: AudioProfile::default(),
                log_seq: 0,
                at_ms: now_ms,
                webhooks_listen: None,
                webhooks_refused: BTreeMap::new(),
            },
            frozen: None,
            selected_server: 0,
            overview: Cursor::default(),
            connections: Cursor::default(),
            rooms: RoomsView::default(),
            room_detail: None,
            events_view: EventsView::default(),
            history: HistoryView::default(),
            nodes: NodesTable::default(),
            log: EventLog::default(),
            popup: None,
            polling_paused: false,
            poll_interval_ms: 2000,
            flash: None,
            width: 80,
            height: 24,
            now_ms,
            keymap,
            keys_config: BTreeMap::new(),
            monochrome: false,
            recording: None,
            should_quit: false,
            stopped_by: None,
        }
    }

    /// The time the screens count ages and countdowns from: the recording's clock while
    /// replaying (the time of the last event played), the wall clock otherwise.
    #[must_use]
    pub fn clock_ms(&self) -> i64 {
        match &self.mode {
            Mode::Replay { at_ms, .. } if *at_ms > 0 => *at_ms,
            _ => self.now_ms,
        }
    }

    /// Whether the terminal is too small to draw the screens (they say so instead).
    #[must_use]
    pub(crate) fn too_small(&self) -> bool {
        super::layout::too_small(ratatui::layout::Rect::new(0, 0, self.width, self.height))
    }

    /// The time the screens count ages from: the freeze time while frozen (ages stop),
    /// else [`App::clock_ms`].
    #[must_use]
    pub(crate) fn view_clock_ms(&self) -> i64 {
        self.frozen
            .as_ref()
            .map_or_else(|| self.clock_ms(), |frozen| frozen.at_ms)
    }

    /// The time a server's room figures are drawn against: when they were read while they
    /// are stale, so a dead server's room ages stop rather than count on as if current.
    #[must_use]
    pub(crate) fn figures_clock_ms(&self, server: &ServerView) -> i64 {
        let now = self.view_clock_ms();
        match server.figures_at_ms() {
            Some(at) if server.is_stale() => at.min(now),
            _ => now,
        }
    }

    /// What the screens draw.
    #[must_use]
    pub fn data(&self) -> &ScreenData {
        self.frozen.as_deref().unwrap_or(&self.live)
    }

    #[must_use]
    pub fn is_frozen(&self) -> bool {
        self.frozen.is_some()
    }

    /// The server the rooms and connections screens show.
    #[must_use]
    pub fn server(&self) -> Option<&ServerView> {
        self.data().servers.get(self.selected_server)
    }

    pub(crate) fn live_server_mut(&mut self, name: &str) -> &mut ServerView {
        if let Some(index) = self.live.servers.iter().position(|s| s.name == name) {
            return &mut self.live.servers[index];
        }
        self.live.servers.push(ServerView::new(name.to_owned()));
        let last = self.live.servers.len() - 1;
        &mut self.live.servers[last]
    }

    /// Folds an engine event into the live data and the log.
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per event kind; each arm hands over to the view it changes"
    )]
    pub fn absorb(&mut self, event: EngineEvent) {
        let at_ms = event.at_ms;
        self.log.record(&event);
        self.live.log_seq = self.log.seq();
        self.live.at_ms = at_ms.max(self.live.at_ms);
        match event.kind {
            EventKind::Started {
                servers,
                webhooks,
                settings,
                node_sources,
                ..
            } => {
                for name in servers {
                    let configured = node_sources.get(&name).cloned().unwrap_or_default();
                    self.live_server_mut(&name).nodes.configured = configured;
                }
                self.live.webhooks_listen = webhooks;
                self.apply_settings(settings);
            }
            EventKind::ServerState {
                server,
                state,
                cause,
                ..
            } => {
                self.live_server_mut(&server).state = Some(StateView {
                    state,
                    since_ms: at_ms,
                    cause,
                });
            }
            EventKind::Pool { event } => {
                let server = pool_event_server(&event).to_owned();
                self.live_server_mut(&server)
                    .absorb_pool_event(&event, at_ms);
            }
            EventKind::PoolStatus { status, requests } => {
                let server = status.server.clone();
                self.live_server_mut(&server)
                    .absorb_status(status, requests);
            }
            EventKind::Quality {
                server,
                report,
                checkout,
            } => self
                .live_server_mut(&server)
                .absorb_quality(report, checkout, at_ms),
            kind @ (EventKind::PollBudget { .. }
            | EventKind::RoomFinished { .. }
            | EventKind::Webhook { .. }
            | EventKind::WebhookDrift { .. }
            | EventKind::WebhookRefused { .. }) => self.absorb_push_and_budget(kind),
            EventKind::Rooms { update, stats } => self.absorb_rooms(update, stats),
            EventKind::Snapshot { snapshot, stats } => {
                let server = snapshot.server.clone();
                self.live_server_mut(&server)
                    .absorb_snapshot(snapshot, stats);
                self.refresh_room_order_of(&server);
            }
            EventKind::PollFailed { server, error } => {
                self.live_server_mut(&server)
                    .absorb_poll_failure(error, at_ms);
            }
            EventKind::Violations { server, violations } => {
                self.live_server_mut(&server).set_violations(violations);
                self.refresh_room_order();
            }
            EventKind::RoomAlert { server, alert } => {
                self.live_server_mut(&server).note_alert(alert, at_ms);
            }
            kind @ (EventKind::NodeHealth { .. }
            | EventKind::NodeCountDrift { .. }) => self.absorb_nodes(kind, at_ms),
            kind @ (EventKind::Egress { .. }
            | EventKind::Ingress { .. }
            | EventKind::AgentDispatches { .. }
            | EventKind::JobsAccess { .. }) => self.absorb_jobs(kind, at_ms),
            EventKind::Command {
                command: crate::events::Command::SetLimits { limits },
                outcome,
                ..
            } if outcome.is_done() => {
                self.live.limits = limits;
                self.refresh_room_order();
            }
            EventKind::Command {
                command: crate::events::Command::SetPolling { paused },
                outcome,
                ..
            } if outcome.is_done() => self.polling_paused = paused,
            EventKind::ConfigApplied { settings, .. } => self.apply_settings(settings),
            EventKind::RecordingStopped { .. } => self.recording = None,
            EventKind::RoomChanges { server, changes } => {
                self.live_server_mut(&server)
                    .departures
                    .absorb_changes(&changes);
            }
            EventKind::Enforced { .. }
            | EventKind::EnforcementHeld { .. }
            | EventKind::SandboxFault { .. }
            | EventKind::Command { .. }
            | EventKind::ConfigRejected { .. }
            | EventKind::EventsDropped { .. }
            // Said in the log; the next `node_health` carries the state they describe.
            | EventKind::NodeSourceState { .. }
            | EventKind::NodeChanged { .. }
            | EventKind::MediaViolations { .. } => {}
        }
        self.mode.played_to(at_ms);
    }

    /// Settings from the engine's start or a reload: limits, the audio default, the polling
    /// interval and the key bindings (a binding set that does not work is refused with the
    /// reason, and the running keys stay).
    fn apply_settings(&mut self, settings: LiveSettings) {
        if settings.history_max_rooms > 0 {
            self.history.set_max(settings.history_max_rooms);
        }
        self.live.limits = settings.limits;
        self.live.media_limits = settings.media_limits;
        self.live.metrics_interval_ms = metrics_interval_ms(&settings.quality);
        self.live.audio_default = settings.audio_default;
        if settings.poll_interval_ms > 0 {
            self.poll_interval_ms = settings.poll_interval_ms;
        }
        if settings.keys != self.keys_config {
            match Keymap::with_overrides(&settings.keys) {
                Ok(keymap) => {
                    self.keymap = keymap;
                    self.log.push(
                        self.live.at_ms,
                        Level::Info,
                        None,
                        "key bindings reloaded".to_owned(),
                    );
                }
                Err(problems) => {
                    let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    self.log.push(
                        self.live.at_ms,
                        Level::Error,
                        None,
                        format!(
                            "key bindings not changed, the running ones stay:\n{}",
                            list.join("\n")
                        ),
                    );
                }
            }
            self.keys_config = settings.keys;
        }
        self.refresh_room_order();
    }

    /// Sorts and filters the rooms of every live server for the rooms table.
    pub(crate) fn refresh_room_order(&mut self) {
        for server in &mut self.live.servers {
            server.room_order = self.rooms.order(server, &self.live.limits);
        }
    }

    fn refresh_room_order_of(&mut self, name: &str) {
        if let Some(server) = self.live.servers.iter_mut().find(|s| s.name == name) {
            server.room_order = self.rooms.order(server, &self.live.limits);
        }
    }

    /// After an update of a few of `name`'s rooms: only those move in the order.
    /// A poll's rooms; the order is kept up to date for the rooms it touched only.
    fn absorb_rooms(&mut self, update: crate::rooms_update::RoomsUpdate, stats: PollStats) {
        let server = update.server.clone();
        let touched: Option<Vec<String>> =
            (!update.full).then(|| update.touched().map(str::to_owned).collect());
        self.live_server_mut(&server).absorb_rooms(update, stats);
        match touched {
            None => self.refresh_room_order_of(&server),
            Some(touched) if !touched.is_empty() => {
                self.reorder_touched_rooms(&server, &touched);
            }
            Some(_) => {}
        }
    }

    /// What a server's nodes say: a reading, the media limits past, the count drift.
    fn absorb_nodes(&mut self, kind: EventKind, at_ms: i64) {
        match kind {
            EventKind::NodeHealth {
                server,
                nodes,
                sources,
            } => {
                let limits = self.live.media_limits;
                let view = &mut self.live_server_mut(&server).nodes;
                view.absorb_reading(nodes, sources, at_ms);
                // Derived from each reading rather than taken from `media_violations`, which
                // the engine sends (for the log) only when the set changes: the figures move
                // with every reading, and the screens show them as of now.
                view.violations = view
                    .nodes()
                    .iter()
                    .flat_map(|node| crate::nodes::node_breaches(node, &limits))
                    .collect();
            }
            EventKind::NodeCountDrift { server, drift } => {
                self.live_server_mut(&server).nodes.drift = drift;
            }
            _ => {}
        }
    }

    /// What the polling budget and webhooks say.
    fn absorb_push_and_budget(&mut self, kind: EventKind) {
        match kind {
            EventKind::PollBudget { server, coverage } => {
                self.live_server_mut(&server).budget_short = (!coverage.enough).then_some(coverage);
            }
            EventKind::Webhook {
                server,
                webhook,
                update,
            } => self.absorb_webhook(&server, &webhook, update),
            EventKind::WebhookDrift { server, drift } => {
                self.live_server_mut(&server).absorb_drift(drift);
            }
            EventKind::WebhookRefused { cause, reason, .. } => {
                self.live.webhooks_refused.entry(cause).or_insert(reason);
            }
            EventKind::RoomFinished { server, room } => self.history.push(server, room),
            _ => {}
        }
    }

    /// Egress, ingress, dispatches and access to them; the rooms table's order moves with
    /// them (its egress and agents columns sort and filter).
    fn absorb_jobs(&mut self, kind: EventKind, at_ms: i64) {
        let server = match kind {
            EventKind::Egress { server, update } => {
                self.live_server_mut(&server)
                    .jobs
                    .absorb_egress(&update, at_ms);
                server
            }
            EventKind::Ingress { server, update } => {
                self.live_server_mut(&server)
                    .jobs
                    .absorb_ingress(&update, at_ms);
                server
            }
            EventKind::AgentDispatches {
                server,
                room,
                dispatches,
            } => {
                self.live_server_mut(&server)
                    .jobs
                    .absorb_dispatches(room, dispatches, at_ms);
                server
            }
            EventKind::JobsAccess {
                server,
                service,
                allowed,
                cause,
            } => {
                self.live_server_mut(&server)
                    .jobs
                    .absorb_access(service, allowed, cause);
                return;
            }
            _ => return,
        };
        self.refresh_room_order_of(&server);
    }

    /// A webhook: its totals, and the rooms it changed, applied like a poll's update.
    fn absorb_webhook(
        &mut self,
        server: &str,
        webhook: &crate::webhooks::WebhookNote,
        update: Option<crate::rooms_update::RoomsUpdate>,
    ) {
        let view = self.live_server_mut(server);
        view.webhooks = Some(webhook.totals);
        view.departures.absorb_webhook(webhook);
        let Some(update) = update else {
            return;
        };
        let touched: Vec<String> = update.touched().map(str::to_owned).collect();
        if view.absorb_webhook_update(update) {
            self.reorder_touched_rooms(server, &touched);
        }
    }

    fn reorder_touched_rooms(&mut self, name: &str, touched: &[String]) {
        if let Some(server) = self.live.servers.iter_mut().find(|s| s.name == name) {
            let mut order = std::mem::take(&mut server.room_order);
            self.rooms
                .reorder(&mut order, touched, server, &self.live.limits);
            server.room_order = order;
        }
    }

    /// After the sort or filter changed: the live order and the frozen copy's (sorting and
    /// filtering work while frozen).
    pub(crate) fn reorder_rooms(&mut self) {
        for data in std::iter::once(&mut self.live).chain(self.frozen.as_deref_mut()) {
            for server in &mut data.servers {
                server.room_order = self.rooms.order(server, &data.limits);
            }
        }
    }
}

/// One row of the room detail's participants table: a participant, or one of its tracks
/// under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DetailRow {
    /// The room's egress jobs (`JobsView::egress_of`), by index.
    Egress(usize),
    Ingress(usize),
    Dispatch(usize),
    Participant(usize),
    Track(usize, usize),
}

/// The room detail's rows: its egress jobs, ingress and agent dispatches first (few, and what
/// an operator acts on), then each participant followed by its tracks.
#[must_use]
pub(crate) fn detail_rows(
    room: &crate::snapshot::RoomSummary,
    jobs: Option<&crate::tui::jobs_view::JobsView>,
) -> Vec<DetailRow> {
    let mut rows = Vec::new();
    if let Some(jobs) = jobs {
        rows.extend((0..jobs.egress_of(&room.name).len()).map(DetailRow::Egress));
        rows.extend((0..jobs.ingress_of(&room.name).len()).map(DetailRow::Ingress));
        rows.extend((0..jobs.dispatches_of(&room.name).len()).map(DetailRow::Dispatch));
    }
    let Some(participants) = &room.participants else {
        return rows;
    };
    for (p, participant) in participants.iter().enumerate() {
        rows.push(DetailRow::Participant(p));
        rows.extend((0..participant.tracks.len()).map(|t| DetailRow::Track(p, t)));
    }
    rows
}

impl App {
    /// The server and room open in the detail screen, whatever the data on screen holds.
    #[must_use]
    pub fn focused_room(&self) -> Option<(String, String)> {
        let detail = self.room_detail.as_ref()?;
        if self.screen != crate::tui::screen::Screen::RoomDetail {
            return None;
        }
        let server = self.live.servers.get(detail.server)?;
        Some((server.name.clone(), detail.room.clone()))
    }

    /// The jobs of the server whose room is open in the detail screen, from the data on screen.
    #[must_use]
    pub fn detail_jobs(&self) -> Option<&crate::tui::jobs_view::JobsView> {
        let detail = self.room_detail.as_ref()?;
        Some(&self.data().servers.get(detail.server)?.jobs)
    }

    /// The rows of the room detail's table as drawn now.
    #[must_use]
    pub(crate) fn room_detail_rows(&self) -> Vec<DetailRow> {
        self.detail_room()
            .map(|room| detail_rows(room, self.detail_jobs()))
            .unwrap_or_default()
    }

    /// The room open in the detail screen, from the data on screen.
    #[must_use]
    pub fn detail_room(&self) -> Option<&crate::snapshot::RoomSummary> {
        let detail = self.room_detail.as_ref()?;
        self.data()
            .servers
            .get(detail.server)?
            .snapshot
            .as_ref()?
            .rooms
            .get(&detail.room)
            .map(|room| &**room)
    }

    /// Whether `server`'s node figures are old: no reading for three metrics intervals, so
    /// the engine has stopped reading them (or its events are not arriving).
    #[must_use]
    pub(crate) fn nodes_are_old(&self, server: &ServerView) -> bool {
        let read_at = server.nodes.read_at_ms;
        read_at > 0
            && self.view_clock_ms() - read_at > self.data().metrics_interval_ms.saturating_mul(3)
    }

    /// The node open in the detail screen: its server, and the node when the latest reading
    /// still has it.
    #[must_use]
    pub(crate) fn detail_node(&self) -> Option<(&ServerView, Option<&crate::nodes::NodeHealth>)> {
        let key = self.nodes.detail.as_ref()?;
        let server = self.data().servers.iter().find(|s| s.name == key.server)?;
        Some((server, server.nodes.node(&key.node_id)))
    }

    /// The room under the cursor of the rooms table.
    #[must_use]
    pub fn selected_room_name(&self) -> Option<&str> {
        self.server()?
            .room_order
            .get(self.rooms.cursor.selected)
            .map(String::as_str)
    }
}

fn metrics_interval_ms(quality: &QualityConfig) -> i64 {
    i64::try_from(quality.metrics_interval().as_millis()).unwrap_or(i64::MAX)
}

/// The server a pool event is about.
fn pool_event_server(event: &PoolEvent) -> &str {
    match event {
        PoolEvent::StateChanged { server, .. }
        | PoolEvent::Grew { server, .. }
        | PoolEvent::Shrank { server, .. }
        | PoolEvent::Unauthenticated { server, .. }
        | PoolEvent::Authenticated { server } => server,
    }
}
