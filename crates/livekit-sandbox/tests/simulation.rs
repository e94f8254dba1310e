//! The sandbox's simulation driven step by step with explicit simulated times: no sleeping,
//! no timing assertions. The demo scenario's promises (which room goes over which limit when,
//! when faults fire) are checked here, so `assets/demo.yaml`'s comments stay true.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livekit_protocol as proto;
use livekit_sandbox::clock::SimClock;
use livekit_sandbox::faults::Disruption;
use livekit_sandbox::rooms::{RoomStore, ServerLimits};
use livekit_sandbox::scenario::Scenario;
use livekit_sandbox::simulation::{CloseReason, SimEvent, Simulation};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio_util::sync::CancellationToken;

/// Simulated Unix ms at which every test starts.
const T0: i64 = 1_700_000_000_000;
const TICK_MS: i64 = 250;
const MINUTE: i64 = 60_000;

/// A simulation and its store, stepped by hand.
struct Harness {
    store: RoomStore,
    simulation: Simulation,
    /// Elapsed simulated ms of the last step.
    elapsed_ms: i64,
    /// Every event so far, with the elapsed ms of the step that produced it.
    events: Vec<(i64, SimEvent)>,
}

impl Harness {
    fn new(scenario: Scenario) -> Self {
        let store = RoomStore::new(
            ServerLimits::default(),
            ChaCha8Rng::seed_from_u64(scenario.seed),
        );
        let clock = SimClock::new(scenario.speed);
        let mut harness = Self {
            store,
            simulation: Simulation::new(scenario, clock),
            elapsed_ms: 0,
            events: Vec::new(),
        };
        let events = harness.simulation.setup(&mut harness.store, T0);
        harness.events.extend(events.into_iter().map(|e| (0, e)));
        harness
    }

    fn demo() -> Self {
        Self::new(Scenario::demo())
    }

    /// Steps every tick up to `until_ms` elapsed, calling `inspect` after each step.
    fn run_until(&mut self, until_ms: i64, mut inspect: impl FnMut(i64, &RoomStore)) {
        while self.elapsed_ms + TICK_MS <= until_ms {
            self.elapsed_ms += TICK_MS;
            let events = self.simulation.step(&mut self.store, T0 + self.elapsed_ms);
            let at = self.elapsed_ms;
            self.events.extend(events.into_iter().map(|e| (at, e)));
            inspect(self.elapsed_ms, &self.store);
        }
    }

    fn advance(&mut self, until_ms: i64) {
        self.run_until(until_ms, |_, _| {});
    }

    fn count(&self, room: &str) -> usize {
        self.store.participants(room).len()
    }
}

fn tracks(store: &RoomStore, room: &str, kind: proto::TrackType) -> usize {
    store
        .participants(room)
        .iter()
        .flat_map(|p| &p.tracks)
        .filter(|t| t.r#type == kind as i32)
        .count()
}

fn scenario(yaml: &str) -> Scenario {
    Scenario::from_yaml(yaml, "test.yaml").unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn the_demo_sets_up_six_fixed_rooms_and_two_calls() {
    let harness = Harness::demo();
    let mut names = harness.store.room_names();
    names.sort();
    assert_eq!(
        names,
        [
            "call-0001",
            "call-0002",
            "design-review",
            "office-hours",
            "standup",
            "support-queue",
            "town-hall",
            "watercooler"
        ]
    );
    assert_eq!(harness.count("town-hall"), 34);
    assert_eq!(harness.count("standup"), 7);
    let first_join = harness.events.iter().find_map(|(_, e)| match e {
        SimEvent::Joined { identity, name, .. } => Some((identity.clone(), name.clone())),
        _ => None,
    });
    let (identity, name) = first_join.unwrap();
    assert_eq!(identity, "user-0001");
    assert!(name.ends_with('.') && name.contains(' '), "{name}");
}

#[test]
fn the_same_seed_gives_the_same_events_and_another_seed_others() {
    let events = |seed: u64| {
        let mut scenario = Scenario::demo();
        scenario.seed = seed;
        let mut harness = Harness::new(scenario);
        harness.advance(10 * MINUTE);
        harness.events
    };
    let first = events(1);
    assert!(first.len() > 500, "{} events", first.len());
    assert_eq!(first, events(1));
    assert_ne!(first, events(2));
}

#[test]
fn fixed_rooms_stay_within_min_and_max_outside_surges() {
    let mut harness = Harness::demo();
    let bounds: HashMap<String, (usize, usize)> = harness
        .simulation
        .scenario()
        .rooms
        .iter()
        .map(|room| {
            let model = &room.participants;
            (room.name.clone(), (model.min as usize, model.max as usize))
        })
        .collect();
    let mut surging: Vec<String> = Vec::new();
    let mut checked = 0;
    let mut seen = 0;
    harness.run_until(30 * MINUTE, |_, store| {
        // Surge events of this step are already in `events`: track them through the counts
        // instead, by asking which rooms are above max.
        for (room, &(min, max)) in &bounds {
            let count = store.participants(room).len();
            if count > max {
                if !surging.contains(room) {
                    surging.push(room.clone());
                }
                continue;
            }
            assert!(count >= min, "{room} has {count} participants, min {min}");
            checked += 1;
        }
        seen += 1;
    });
    assert!(checked > seen * 4, "most rooms are checked on most steps");
    surging.sort();
    assert_eq!(
        surging,
        ["design-review", "town-hall"],
        "only surging rooms exceed max"
    );
    // And those exceed max only between their SurgeStarted and SurgeEnded.
    let mut open: HashMap<String, i64> = HashMap::new();
    let mut windows = Vec::new();
    for (at, event) in &harness.events {
        match event {
            SimEvent::SurgeStarted { room, .. } => {
                open.insert(room.clone(), *at);
            }
            SimEvent::SurgeEnded { room } => {
                windows.push((room.clone(), open.remove(room).unwrap(), *at));
            }
            _ => {}
        }
    }
    assert_eq!(
        windows,
        [
            ("town-hall".to_owned(), 3 * MINUTE, 6 * MINUTE + 30_000),
            ("design-review".to_owned(), 5 * MINUTE, 7 * MINUTE + 10_000),
            ("town-hall".to_owned(), 18 * MINUTE, 21 * MINUTE + 30_000),
            (
                "design-review".to_owned(),
                20 * MINUTE,
                22 * MINUTE + 10_000
            ),
        ]
    );
}

#[test]
fn the_town_hall_surge_goes_over_fifty_participants_and_twenty_audio_tracks_then_ends() {
    let mut harness = Harness::demo();
    let mut first_over_fifty = None;
    let mut first_over_twenty_audio = None;
    harness.run_until(4 * MINUTE, |at, store| {
        if first_over_fifty.is_none() && store.participants("town-hall").len() > 50 {
            first_over_fifty = Some(at);
        }
        if first_over_twenty_audio.is_none()
            && tracks(store, "town-hall", proto::TrackType::Audio) > 20
        {
            first_over_twenty_audio = Some(at);
        }
    });
    let over_fifty = first_over_fifty.expect("town-hall goes over 50");
    assert!(
        (3 * MINUTE..3 * MINUTE + 45_000).contains(&over_fifty),
        "over 50 at {over_fifty} ms"
    );
    assert!(first_over_twenty_audio.is_some_and(|at| at < 4 * MINUTE));
    harness.advance(5 * MINUTE);
    assert_eq!(harness.count("town-hall"), 64, "held at the target");
    harness.advance(6 * MINUTE + 30_000);
    assert!(harness.count("town-hall") <= 45);
    assert!(
        harness
            .events
            .iter()
            .any(|(at, e)| *at == 6 * MINUTE + 30_000
                && *e
                    == SimEvent::SurgeEnded {
                        room: "town-hall".into()
                    })
    );
}

/// lktop's default limits, and the windows in which `assets/demo.yaml` promises to break them.
#[test]
fn the_demo_goes_over_lktops_default_limits_only_in_its_documented_windows() {
    const MIN: i64 = MINUTE;
    let within = |windows: &[(i64, i64)], at: i64| windows.iter().any(|w| (w.0..w.1).contains(&at));
    let town_hall = [(3 * MIN, 6 * MIN + 30_000), (18 * MIN, 21 * MIN + 30_000)];
    let design_review = [(5 * MIN, 7 * MIN + 10_000), (20 * MIN, 22 * MIN + 10_000)];
    let calls = [(8 * MIN, 10 * MIN + 45_000), (23 * MIN, 25 * MIN + 45_000)];
    let mut broken: HashMap<&str, usize> = HashMap::new();
    let mut harness = Harness::demo();
    harness.run_until(30 * MIN, |at, store| {
        for room in store.room_names() {
            let over_participants = store.participants(&room).len() > 50;
            let over_audio = tracks(store, &room, proto::TrackType::Audio) > 20;
            let over_video = tracks(store, &room, proto::TrackType::Video) > 10;
            if over_participants || over_audio {
                assert!(
                    room == "town-hall" && within(&town_hall, at),
                    "{room} at {at} ms"
                );
                *broken
                    .entry(if over_audio { "audio" } else { "participants" })
                    .or_default() += 1;
            }
            if over_video {
                assert!(
                    room == "design-review" && within(&design_review, at),
                    "{room} at {at}"
                );
                *broken.entry("video").or_default() += 1;
            }
        }
        if store.room_count() > 10 {
            assert!(
                within(&calls, at),
                "{} rooms at {at} ms",
                store.room_count()
            );
            *broken.entry("rooms").or_default() += 1;
        }
    });
    // Each limit is broken for minutes, not for a tick: four ticks a second.
    for limit in ["audio", "video", "rooms"] {
        assert!(
            broken.get(limit).copied().unwrap_or(0) > 4 * 60,
            "{limit}: {broken:?}"
        );
    }
}

#[test]
fn design_review_goes_over_ten_video_tracks() {
    let mut harness = Harness::demo();
    harness.advance(5 * MINUTE);
    assert!(tracks(&harness.store, "design-review", proto::TrackType::Video) <= 10);
    harness.advance(6 * MINUTE);
    assert_eq!(harness.count("design-review"), 20);
    let video = tracks(&harness.store, "design-review", proto::TrackType::Video);
    assert!(video > 10, "{video} video tracks");
}

#[test]
fn the_calls_surge_takes_the_sandbox_over_ten_rooms_and_back() {
    let mut harness = Harness::demo();
    let mut most_rooms_outside = 0;
    let mut most_rooms_during = 0;
    harness.run_until(15 * MINUTE, |at, store| {
        let rooms = store.room_count();
        if (8 * MINUTE..11 * MINUTE).contains(&at) {
            most_rooms_during = most_rooms_during.max(rooms);
        } else {
            most_rooms_outside = most_rooms_outside.max(rooms);
        }
    });
    assert!(
        most_rooms_during >= 13,
        "{most_rooms_during} rooms in the surge"
    );
    assert!(
        most_rooms_outside <= 10,
        "{most_rooms_outside} rooms outside it"
    );
    let started = harness
        .events
        .iter()
        .find(|(_, e)| matches!(e, SimEvent::RoomsSurgeStarted { .. }));
    assert_eq!(
        started,
        Some(&(
            8 * MINUTE,
            SimEvent::RoomsSurgeStarted {
                prefix: "call-".into(),
                rooms: 7
            }
        ))
    );
}

#[test]
fn dynamic_rooms_are_created_and_closed() {
    let mut harness = Harness::demo();
    harness.advance(20 * MINUTE);
    let created = |prefix: &str| {
        harness
            .events
            .iter()
            .filter(
                |(_, e)| matches!(e, SimEvent::RoomCreated { room } if room.starts_with(prefix)),
            )
            .count()
    };
    let closed = |prefix: &str, reason: CloseReason| {
        harness
            .events
            .iter()
            .filter(|(_, e)| {
                matches!(e, SimEvent::RoomClosed { room, reason: r }
                    if room.starts_with(prefix) && *r == reason)
            })
            .count()
    };
    assert!(created("call-") > 8, "calls created: {}", created("call-"));
    assert!(closed("call-", CloseReason::DepartureTimeout) > 5);
    assert!(created("webinar-") >= 2);
    assert!(closed("webinar-", CloseReason::Deleted) >= 1);
    // Fixed rooms never close in the demo: every one keeps at least one participant.
    assert_eq!(closed("standup", CloseReason::DepartureTimeout), 0);
}

#[test]
fn joins_beyond_max_participants_are_refused_and_reported() {
    let mut harness = Harness::demo();
    let mut most = 0;
    let mut agents = 0;
    harness.run_until(10 * MINUTE, |_, store| {
        let (agent, counted): (Vec<_>, Vec<_>) = store
            .participants("support-queue")
            .iter()
            .partition(|p| p.kind == proto::participant_info::Kind::Agent as i32);
        most = most.max(counted.len());
        agents = agents.max(agent.len());
    });
    // livekit-server does not count agents towards max_participants: the support-bot gets in
    // even when the room is full.
    assert_eq!(most, 6, "support-queue holds at most its max_participants");
    assert_eq!(agents, 1, "and its agent on top");
    let refused = harness
        .events
        .iter()
        .filter(|(_, e)| matches!(e, SimEvent::RefusedFull { room, .. } if room == "support-queue"))
        .count();
    assert!(refused > 0);

    // Already at setup: three initial participants for a room of two.
    let harness = Harness::new(scenario(
        "rooms:\n  - name: tiny\n    max_participants: 2\n    participants: { initial: 3 }\n",
    ));
    assert_eq!(harness.count("tiny"), 2);
    assert!(harness.events.iter().any(|(_, e)| matches!(
        e,
        SimEvent::RefusedFull { room, identity } if room == "tiny" && identity == "user-0003"
    )));
}

#[test]
fn demo_faults_become_due_at_their_scheduled_times() {
    let mut harness = Harness::demo();
    harness.advance(25 * MINUTE);
    let due: Vec<(i64, String)> = harness
        .events
        .iter()
        .filter_map(|(at, e)| match e {
            SimEvent::DisruptionDue { name, .. } => Some((*at / 1000, name.clone().unwrap())),
            _ => None,
        })
        .collect();
    let expected: Vec<(i64, String)> = [
        (60, "latency spike"),
        (120, "webhooks lost"),
        (150, "error burst"),
        (240, "restart (state kept)"),
        (420, "latency spike"),
        (480, "webhooks lost"),
        (510, "error burst"),
        (630, "flaky connections"),
        (690, "listener down"),
        (780, "latency spike"),
        (840, "webhooks lost"),
        (870, "error burst"),
        (960, "restart (state kept)"),
        (1140, "latency spike"),
        (1200, "webhooks lost"),
        (1230, "error burst"),
        (1350, "flaky connections"),
        (1410, "listener down"),
        (1500, "latency spike"),
    ]
    .into_iter()
    .map(|(secs, name)| (secs, name.to_owned()))
    .collect();
    assert_eq!(due, expected);
}

#[test]
fn repeating_faults_fire_once_per_period_even_with_uneven_steps() {
    let mut harness = Harness::new(scenario(
        "faults:\n  - at: 0\n    every: 90s\n    apply: { kind: restart, keep_state: false }\n",
    ));
    let mut fired = Vec::new();
    // Steps of 7 s, then one stall of 5 minutes: one event for the stall, no backlog.
    for elapsed_secs in (0..=280).step_by(7).chain([580, 587]) {
        let events = harness
            .simulation
            .step(&mut harness.store, T0 + elapsed_secs * 1000);
        if events
            .iter()
            .any(|e| matches!(e, SimEvent::DisruptionDue { .. }))
        {
            fired.push(elapsed_secs);
        }
    }
    assert_eq!(fired, [0, 91, 182, 273, 580]);
}

#[test]
fn a_restart_that_loses_state_sets_the_rooms_up_again() {
    let mut harness = Harness::demo();
    harness.advance(MINUTE);
    harness.store.clear();
    harness.advance(MINUTE + TICK_MS);
    let last: Vec<&SimEvent> = harness
        .events
        .iter()
        .filter(|(at, _)| *at == MINUTE + TICK_MS)
        .map(|(_, e)| e)
        .collect();
    assert!(last.contains(&&SimEvent::StateLost));
    assert!(last.contains(&&SimEvent::RoomCreated {
        room: "town-hall".into()
    }));
    assert_eq!(harness.count("town-hall"), 34);
    assert!(harness.store.room_count() >= 8);
}

#[test]
fn a_room_deleted_by_a_client_is_noticed_and_comes_back_with_the_next_join() {
    let mut harness = Harness::new(scenario(
        "rooms:\n  - name: a\n    max_participants: 5\n    participants: { initial: 2, min: 1, \
         max: 4, join_rate: 30 }\n  - name: b\n    participants: { initial: 1, min: 1 }\n",
    ));
    harness.store.delete_room("a").unwrap();
    harness.advance(MINUTE);
    assert!(harness.events.iter().any(|(_, e)| *e
        == SimEvent::RoomClosed {
            room: "a".into(),
            reason: CloseReason::Vanished
        }));
    assert!(
        !harness
            .events
            .iter()
            .any(|(_, e)| *e == SimEvent::StateLost)
    );
    let room = &harness.store.list_rooms(&["a".to_owned()])[0];
    assert_eq!(room.max_participants, 5, "recreated with its settings");
    assert!(harness.count("a") >= 1);
}

#[test]
fn a_bad_scenario_file_names_the_file_the_key_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "seed: 3\nrooms:\n  - name: lobby\n    participants:\n      min: 9\n      max: 3\n",
    )
    .unwrap();
    let message = Scenario::load(&path).unwrap_err().to_string();
    let expected = format!(
        "{}:5:7: rooms[0].participants.min: min (9) is greater than max (3)",
        path.display()
    );
    assert!(message.contains(&expected), "{message}");

    std::fs::write(&path, "rooms:\n  - name: lobby\n    colour: blue\n").unwrap();
    let message = Scenario::load(&path).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!(
            "{}:3:5: rooms[0].colour: unknown field `colour`",
            path.display()
        )),
        "{message}"
    );

    let message = Scenario::load(&dir.path().join("missing.yaml"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("missing.yaml"), "{message}");
}

#[tokio::test]
async fn run_forwards_due_disruptions_and_stops_on_shutdown() {
    let scenario = scenario(
        "speed: 100\nrooms:\n  - name: a\n    participants: { initial: 1 }\nfaults:\n  - at: 1s\n    \
         apply: { kind: listener_down, duration: 10s }\n",
    );
    let clock = SimClock::new(scenario.speed);
    let store = Arc::new(Mutex::new(RoomStore::new(
        ServerLimits::default(),
        ChaCha8Rng::seed_from_u64(0),
    )));
    let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(Simulation::new(scenario, clock).run(
        Arc::clone(&store),
        sender,
        shutdown.clone(),
    ));
    let disruption = tokio::time::timeout(Duration::from_secs(30), receiver.recv())
        .await
        .expect("the fault is due after 10 ms of real time (1 s simulated at speed 100)")
        .expect("the channel is open");
    assert_eq!(
        disruption.disruption,
        Disruption::ListenerDown {
            duration: Some(Duration::from_secs(10))
        },
        "durations stay simulated time: the server converts them with its clock"
    );
    assert_eq!(disruption.name, None);
    assert!(store.lock().unwrap().has_room("a"));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("run stops on shutdown")
        .unwrap();
}

#[test]
fn the_demo_records_streams_dispatches_agents_takes_calls_and_an_ingress() {
    use proto::participant_info::Kind;
    let mut harness = Harness::demo();
    let mut kinds_seen = std::collections::HashSet::new();
    harness.run_until(10 * MINUTE, |_, store| {
        for room in store.room_names() {
            kinds_seen.extend(store.participants(&room).iter().map(|p| p.kind));
        }
    });
    for kind in [Kind::Standard, Kind::Agent, Kind::Sip, Kind::Ingress] {
        assert!(kinds_seen.contains(&(kind as i32)), "{kind:?} participants");
    }
    let started: Vec<(&str, i64)> = harness
        .events
        .iter()
        .filter_map(|(at, e)| match e {
            SimEvent::EgressStarted { room, .. } => Some((room.as_str(), *at)),
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        [
            ("standup", 20_000),
            ("town-hall", 90_000),
            ("watercooler", 6 * MINUTE)
        ]
    );
    let calls = |trunk_failure: bool| {
        harness
            .events
            .iter()
            .filter(|(_, e)| matches!(e, SimEvent::SipCallEnded { trunk_failure: t, .. } if *t == trunk_failure))
            .count()
    };
    assert!(calls(false) > 0, "callers hang up");
    assert!(harness.events.iter().any(|(_, e)| matches!(
        e,
        SimEvent::AgentDispatched { room, agent_name, .. } if room == "support-queue" && agent_name == "support-bot"
    )));
    assert!(harness.events.iter().any(|(at, e)| *at == 30_000
        && matches!(e, SimEvent::IngressReceiving { room, receiving: true, .. } if room == "office-hours")));
}
