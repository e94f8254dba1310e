//! Recordings made before rooms updates replay as they did, and the same session recorded as
//! updates replays to the same dashboard.
//!
//! The shipped demo recording was made by an engine that sent every poll's rooms whole
//! (`snapshot` events). Its polls are turned into the `rooms` updates today's engine sends
//! (with the engine's own `RoomsUpdate`: full on a server's first poll, changes after), and
//! both streams are fed to dashboards on the overview, the rooms screen and a room's own
//! screen: after every event, each pair draws the same frame.

#[path = "support/headless_dashboard.rs"]
#[allow(
    dead_code,
    reason = "shared with the fault matrix, which reads server rows"
)]
mod headless_dashboard;

use std::collections::HashMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use headless_dashboard::HeadlessDashboard;
use lktop::events::{EngineEvent, EventKind};
use lktop::record::Replay;
use lktop::rooms_update::RoomsUpdate;
use lktop::snapshot::Snapshot;
use lktop::tui::Action;

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

/// The shipped demo recording, every line of it.
fn recorded_with_snapshots() -> Vec<EngineEvent> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-recording.ndjson.gz");
    Replay::open(&path)
        .expect("the demo recording opens")
        .map(|item| item.unwrap_or_else(|problem| panic!("{problem}")))
        .collect()
}

/// The same session as today's engine sends it: each `snapshot` becomes a `rooms` update
/// from the server's previous one.
fn as_updates(events: &[EngineEvent]) -> Vec<EngineEvent> {
    let mut previous: HashMap<String, Snapshot> = HashMap::new();
    events
        .iter()
        .map(|event| {
            let EventKind::Snapshot { snapshot, stats } = &event.kind else {
                return event.clone();
            };
            // Today's engine records which rooms each poll read: every one, then.
            let snapshot = Snapshot::clone(snapshot).with_every_room_read();
            let update = match previous.get(&snapshot.server) {
                Some(before) => RoomsUpdate::between(before, &snapshot),
                None => RoomsUpdate::full(&snapshot),
            };
            previous.insert(snapshot.server.clone(), snapshot);
            EngineEvent {
                at_ms: event.at_ms,
                kind: EventKind::Rooms {
                    update,
                    stats: stats.clone(),
                },
            }
        })
        .collect()
}

/// An event's `type`, as in its JSON line.
fn kind_of(event: &EngineEvent) -> String {
    serde_json::to_value(event).expect("events encode")["type"]
        .as_str()
        .unwrap_or("?")
        .to_owned()
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn a_recording_of_whole_snapshots_and_one_of_updates_draw_the_same_dashboard() {
    let old = recorded_with_snapshots();
    let polls = old
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Snapshot { .. }))
        .count();
    assert!(polls > 10, "the demo recording holds polls ({polls})");
    let new = as_updates(&old);
    let updates = new
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Rooms { .. }))
        .count();
    assert_eq!(updates, polls, "every poll became an update");

    // Which screen each pair shows: the overview, the rooms table, the first room's screen
    // (opened once the table has rooms).
    let screens: [&[Action]; 3] = [&[], &[key(KeyCode::Char('3'))], &[key(KeyCode::Char('3'))]];
    let mut pairs: Vec<(HeadlessDashboard, HeadlessDashboard)> = screens
        .iter()
        .map(|keys| {
            let mut pair = (
                HeadlessDashboard::new(WIDTH, HEIGHT),
                HeadlessDashboard::new(WIDTH, HEIGHT),
            );
            for action in *keys {
                pair.0.act(action.clone());
                pair.1.act(action.clone());
            }
            pair
        })
        .collect();
    let mut room_opened = false;
    for (index, (before, after)) in old.iter().zip(&new).enumerate() {
        for (with_snapshots, with_updates) in &mut pairs {
            with_snapshots.show(before);
            with_updates.show(after);
        }
        if !room_opened && matches!(before.kind, EventKind::Snapshot { .. }) {
            let (with_snapshots, with_updates) = &mut pairs[2];
            with_snapshots.act(key(KeyCode::Enter));
            with_updates.act(key(KeyCode::Enter));
            room_opened = with_snapshots.shows("participants");
        }
        for (screen, (with_snapshots, with_updates)) in pairs.iter().enumerate() {
            assert_eq!(
                with_snapshots.screen(),
                with_updates.screen(),
                "screen {screen} differs after event {index} (a {} event, sent as {})",
                kind_of(before),
                kind_of(after)
            );
        }
    }
    assert!(room_opened, "a room's own screen was compared");
}
