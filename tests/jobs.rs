//! Egress, ingress and agent dispatches through the engine, against the sandbox driven by the
//! official Rust SDK as an application would drive a server: a recording started by the SDK
//! is seen and followed to its end, stopping it from the dashboard lands in the sandbox
//! (checked through the SDK's own listing, not lktop's view), a dispatch created from lktop
//! adds an agent to the room and is deleted again, and a key that may not read egress is
//! said once without failing anything else.

#[path = "support/configs.rs"]
mod configs;
#[path = "support/fault_proxy.rs"]
#[allow(
    dead_code,
    reason = "the jobs tests use only the proxy's refusal of one method"
)]
mod fault_proxy;
#[path = "support/engine_harness.rs"]
#[allow(
    dead_code,
    reason = "the jobs tests use the engine harness without files or enforcement"
)]
mod harness;

use std::time::Duration;

use configs::{KEY, SECRET, TestConfig, sandbox};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fault_proxy::{FaultProxy, ProxyMode, http_response};
use harness::{SERVER, WAIT, bounded, start, stop};
use livekit_api::services::agent_dispatch::AgentDispatchClient;
use livekit_api::services::egress::{
    EgressClient, EgressListFilter, EgressListOptions, EgressOutput, RoomCompositeOptions,
};
use livekit_api::services::room::{CreateRoomOptions, RoomClient};
use livekit_protocol as proto;
use lktop::events::{Command, EventKind, ServerState};
use lktop::jobs::{EgressStatus, JobsService};
use lktop::pool::PoolEvent;
use lktop::snapshot::ParticipantKind;
use lktop::tui::popup::Popup;
use lktop::tui::{Action, Effect, update};

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: a recording seen, stopped, and an agent sent in and called off"
)]
async fn a_recording_is_seen_and_stopped_and_an_agent_is_dispatched() {
    bounded(Duration::from_secs(60), async {
        let sandbox = sandbox().await;
        let url = sandbox.url();
        RoomClient::with_api_key(&url, KEY, SECRET)
            .create_room("standup", CreateRoomOptions::default())
            .await
            .expect("the room is created");
        let egress = EgressClient::with_api_key(&url, KEY, SECRET);
        let started = egress
            .start_room_composite_egress(
                "standup",
                vec![EgressOutput::File(proto::EncodedFileOutput {
                    filepath: "standup.mp4".into(),
                    ..Default::default()
                })],
                RoomCompositeOptions::default(),
            )
            .await
            .expect("the recording starts");

        let (engine, mut events) = start(
            TestConfig::new()
                .server(SERVER, &url)
                .polling_interval(Duration::from_millis(200))
                .build(),
        )
        .await;

        // Seen by the engine's active listing, with what it records and where.
        let seen = events
            .wait_for(
                WAIT,
                "the recording in an egress event",
                |kind| match kind {
                    EventKind::Egress { update, .. } => update
                        .changed
                        .iter()
                        .find(|job| job.egress_id == started.egress_id)
                        .cloned(),
                    _ => None,
                },
            )
            .await;
        assert_eq!(seen.room, "standup");
        assert!(seen.records(), "{seen:?}");
        assert_eq!(seen.source, "room composite");
        assert!(seen.status.is_running(), "{seen:?}");

        // Stopped from the dashboard: the rooms screen, the room opened, `x` on its egress row
        // asks, naming the job, and `y` sends the command the event loop hands the engine.
        events
            .wait_for(WAIT, "a poll the dashboard takes in", |kind| {
                matches!(kind, EventKind::Rooms { .. }).then_some(())
            })
            .await;
        let app = &mut events.app;
        for key in ['3', '\n', 'x'] {
            let code = if key == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(key)
            };
            let _ = update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        }
        let asked = match &app.popup {
            Some(Popup::Confirm(confirm)) => confirm.message.clone(),
            other => panic!("no confirmation: {other:?}"),
        };
        assert!(asked.contains(&started.egress_id), "{asked}");
        let effects = update(
            app,
            Action::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)),
        );
        let command = effects
            .into_iter()
            .find_map(|effect| match effect {
                Effect::Send(command) => Some(command),
                _ => None,
            })
            .expect("the confirmation sends a command");
        assert_eq!(
            command,
            Command::StopEgress {
                server: SERVER.into(),
                egress_id: started.egress_id.clone(),
            }
        );
        let id = engine.send(command).unwrap();
        let outcome = events.outcome(id).await;
        assert!(outcome.is_done(), "{outcome:?}");
        // The sandbox itself says the job is ending or over.
        let listed = egress
            .list_egress(EgressListOptions {
                filter: EgressListFilter::Egress(started.egress_id.clone()),
                ..Default::default()
            })
            .await
            .expect("the SDK lists the job");
        let status = proto::EgressStatus::try_from(listed[0].status).unwrap();
        assert!(
            matches!(
                status,
                proto::EgressStatus::EgressEnding | proto::EgressStatus::EgressComplete
            ),
            "{status:?}"
        );
        // And the engine follows it out of the active list to its end.
        events
            .wait_for(WAIT, "the recording complete", |kind| match kind {
                EventKind::Egress { update, .. } => update
                    .changed
                    .iter()
                    .find(|job| {
                        job.egress_id == started.egress_id && job.status == EgressStatus::Complete
                    })
                    .map(|_| ()),
                _ => None,
            })
            .await;

        // A dispatch from lktop: the sandbox holds it and its agent joins the room.
        let id = engine
            .send(Command::CreateDispatch {
                server: SERVER.into(),
                room: "standup".into(),
                agent_name: "note-taker".into(),
                metadata: r#"{"lang":"en"}"#.into(),
            })
            .unwrap();
        let outcome = events.outcome(id).await;
        assert!(outcome.is_done(), "{outcome:?}");
        let dispatches = AgentDispatchClient::with_api_key(&url, KEY, SECRET);
        let held = dispatches.list_dispatch("standup").await.unwrap();
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(held[0].agent_name, "note-taker");
        assert_eq!(held[0].metadata, r#"{"lang":"en"}"#);
        events
            .wait_for(WAIT, "the agent in the room", |kind| match kind {
                EventKind::Rooms { update, .. } => update
                    .upserted
                    .iter()
                    .filter(|room| room.name == "standup")
                    .flat_map(|room| room.participants.iter().flatten())
                    .find(|p| p.kind == ParticipantKind::Agent)
                    .map(|_| ()),
                _ => None,
            })
            .await;

        let id = engine
            .send(Command::DeleteDispatch {
                server: SERVER.into(),
                room: "standup".into(),
                dispatch_id: held[0].id.clone(),
            })
            .unwrap();
        let outcome = events.outcome(id).await;
        assert!(outcome.is_done(), "{outcome:?}");
        assert!(
            dispatches
                .list_dispatch("standup")
                .await
                .unwrap()
                .is_empty(),
            "the sandbox no longer holds the dispatch"
        );

        // Commands on things that do not exist fail with the server's words.
        let id = engine
            .send(Command::StopEgress {
                server: SERVER.into(),
                egress_id: "EG_missing".into(),
            })
            .unwrap();
        let outcome = events.outcome(id).await;
        assert!(!outcome.is_done(), "{outcome:?}");

        stop(engine, sandbox).await;
    })
    .await;
}

/// A key whose tokens may not list egress (livekit-server's `unauthenticated` "permissions
/// denied"): said once, asked again only minutes later, and neither the server nor its pool
/// is taken for one that refuses the credentials.
#[tokio::test]
async fn a_missing_grant_is_said_once_and_fails_nothing_else() {
    bounded(Duration::from_secs(30), async {
        let sandbox = sandbox().await;
        let proxy = FaultProxy::start(sandbox.addr()).await;
        proxy.set_mode(ProxyMode::Refuse {
            method: "ListEgress".into(),
            answer: http_response(
                "401 Unauthorized",
                "application/json",
                br#"{"code":"unauthenticated","msg":"permissions denied"}"#,
            ),
        });
        let (engine, mut events) = start(
            TestConfig::new()
                .server(SERVER, &proxy.url())
                .polling_interval(Duration::from_millis(200))
                .build(),
        )
        .await;
        let seen = events.during(Duration::from_secs(3)).await;
        let refusals: Vec<_> = seen
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::JobsAccess {
                    service,
                    allowed,
                    cause,
                    ..
                } => Some((*service, *allowed, cause.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        let (service, allowed, cause) = &refusals[0];
        assert_eq!(*service, JobsService::Egress);
        assert!(!allowed);
        assert!(
            cause
                .as_deref()
                .is_some_and(|c| c.contains("permissions denied")),
            "{cause:?}"
        );
        assert_eq!(
            proxy.faulted_requests(),
            1,
            "asked once, not at every one of 15 intervals"
        );
        assert!(
            !seen.iter().any(|event| matches!(
                &event.kind,
                EventKind::ServerState {
                    state: ServerState::Unauthenticated | ServerState::Down,
                    ..
                } | EventKind::Pool {
                    event: PoolEvent::Unauthenticated { .. }
                }
            )),
            "a missing grant is not a rejected key"
        );
        assert!(
            seen.iter()
                .filter(|event| matches!(event.kind, EventKind::Rooms { .. }))
                .count()
                >= 5,
            "polling goes on"
        );
        stop(engine, sandbox).await;
    })
    .await;
}

/// Paused polling holds the jobs watcher too (an operator holding the view still during an
/// incident call), without spinning, and a resume starts it again.
#[tokio::test]
async fn paused_polling_pauses_the_jobs_reads() {
    bounded(Duration::from_secs(30), async {
        let sandbox = sandbox().await;
        let (engine, mut events) = start(
            TestConfig::new()
                .server(SERVER, &sandbox.url())
                .polling_interval(Duration::from_millis(100))
                .build(),
        )
        .await;
        events
            .wait_for(WAIT, "an egress read", |kind| {
                matches!(kind, EventKind::Egress { .. }).then_some(())
            })
            .await;
        let id = engine.send(Command::SetPolling { paused: true }).unwrap();
        assert!(events.outcome(id).await.is_done());
        // Services beside RoomService are counted together by the sandbox.
        let before = sandbox.requests_received("ListEgress");
        let _ = events.during(Duration::from_secs(1)).await;
        let paused = sandbox.requests_received("ListEgress") - before;
        assert!(
            paused <= 1,
            "{paused} reads while paused (one may have been in flight)"
        );

        let id = engine.send(Command::SetPolling { paused: false }).unwrap();
        assert!(events.outcome(id).await.is_done());
        events
            .wait_for(WAIT, "an egress read after the resume", |kind| {
                matches!(kind, EventKind::Egress { .. }).then_some(())
            })
            .await;
        assert!(sandbox.requests_received("ListEgress") > before + paused);
        stop(engine, sandbox).await;
    })
    .await;
}
