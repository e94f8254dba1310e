//! The rooms poller against the sandbox: snapshots, counts, the changes between polls and the
//! updates that carry them.

#[path = "support/configs.rs"]
mod configs;

use std::sync::Arc;
use std::time::Duration;

use configs::{room_api, sandbox};
use livekit_sandbox::admin::{JoinRequest, TrackRequest};
use lktop::api::RoomApi;
use lktop::config::RoomLimitsConfig;
use lktop::poller::{Poll, RoomsPoller};
use lktop::read_plan::ReadPolicy;
use lktop::snapshot::{RoomChange, TrackKind};

fn joiner(identity: &str, tracks: &[(&str, bool)]) -> JoinRequest {
    JoinRequest {
        identity: identity.into(),
        name: identity.into(),
        tracks: tracks
            .iter()
            .map(|(kind, muted)| TrackRequest {
                kind: (*kind).into(),
                source: None,
                name: None,
                muted: *muted,
            })
            .collect(),
    }
}

/// The polls of the test below as updates: every room first, then the three rooms that changed
/// (ann's room gained dan, cat left beta, gamma opened), then only gamma's end; a room that did
/// not change is the same allocation in both snapshots.
fn updates_carry_only_what_changed(first: &Poll, second: &Poll, third: &Poll) {
    assert!(
        first.update.full,
        "the first poll's update holds every room"
    );
    let upserted: Vec<&str> = second
        .update
        .upserted
        .iter()
        .map(|room| room.name.as_str())
        .collect();
    assert_eq!(
        upserted,
        ["alpha", "beta", "gamma"],
        "the rooms that changed"
    );
    assert!(!second.update.full && second.update.removed.is_empty());
    assert!(third.update.upserted.is_empty(), "{:?}", third.update);
    assert_eq!(third.update.removed, ["gamma"]);
    for name in ["alpha", "beta"] {
        assert!(
            Arc::ptr_eq(&second.snapshot.rooms[name], &third.snapshot.rooms[name]),
            "{name} did not change, so both snapshots hold the same room"
        );
    }
}

#[tokio::test]
async fn snapshots_count_tracks_and_report_changes() {
    tokio::time::timeout(
        Duration::from_secs(30),
        Box::pin(async {
            let sandbox = sandbox().await;
            let api = room_api(&sandbox.url(), Duration::from_secs(5));
            sandbox
                .join(
                    "alpha",
                    &joiner("ann", &[("audio", false), ("video", true)]),
                )
                .unwrap();
            sandbox
                .join("alpha", &joiner("ben", &[("audio", true)]))
                .unwrap();
            sandbox.join("beta", &joiner("cat", &[])).unwrap();

            let limits = RoomLimitsConfig::default();
            let every = ReadPolicy::every_room(&limits);
            let mut poller = RoomsPoller::new("sandbox", 4);
            let first = poller.poll(&api, 1, &every).await.unwrap();
            assert!(
                first.changes.is_empty(),
                "nothing to compare the first poll with"
            );
            assert_eq!(first.stats.rooms, 2);
            assert!(first.stats.failed_rooms.is_empty());
            let alpha = &first.snapshot.rooms["alpha"];
            assert_eq!((alpha.num_participants, alpha.num_publishers), (2, 2));
            assert_eq!((alpha.tracks.audio, alpha.tracks.audio_muted), (2, 1));
            assert_eq!((alpha.tracks.video, alpha.tracks.video_muted), (1, 1));
            assert_eq!(first.snapshot.participant_count(), 3);

            sandbox
                .join("alpha", &joiner("dan", &[("video", false)]))
                .unwrap();
            api.remove_participant("beta", "cat").await.unwrap();
            api.create_room("gamma", lktop::api::CreateRoomOptions::default())
                .await
                .unwrap();
            let second = poller.poll(&api, 2, &every).await.unwrap();
            let changes = &second.changes;
            assert!(
                changes.contains(&RoomChange::RoomStarted {
                    room: "gamma".into()
                }),
                "{changes:#?}"
            );
            assert!(changes.contains(&RoomChange::ParticipantJoined {
                room: "alpha".into(),
                identity: "dan".into()
            }));
            assert!(changes.iter().any(|change| matches!(
            change,
            RoomChange::TrackPublished { identity, kind: TrackKind::Video, .. } if identity == "dan"
        )));
            assert!(changes.contains(&RoomChange::ParticipantLeft {
                room: "beta".into(),
                identity: "cat".into()
            }));

            api.delete_room("gamma").await.unwrap();
            let third = poller.poll(&api, 3, &every).await.unwrap();
            assert_eq!(
                third.changes,
                [RoomChange::RoomFinished {
                    room: "gamma".into()
                }]
            );
            updates_carry_only_what_changed(&first, &second, &third);

            sandbox.listener_down().await;
            assert!(
                poller.poll(&api, 4, &every).await.is_err(),
                "a failed ListRooms fails the poll"
            );
            assert_eq!(
                poller.last().unwrap().taken_at_ms,
                3,
                "the last good snapshot is kept"
            );
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("bounded");
}

/// Requests the sandbox received for polling so far, by its own count.
fn received(sandbox: &livekit_sandbox::Sandbox) -> (u64, u64) {
    (
        sandbox.requests_received("ListRooms"),
        sandbox.requests_received("ListParticipants"),
    )
}

/// Under a budget of 5 reads per poll, 30 rooms: each poll sends the server one ListRooms and
/// five ListParticipants (its own count); a room where someone joined is read in the next poll;
/// the room open on screen is read every poll; every room is read within ceil(30 / 5) polls;
/// the lists not read keep their participants and say how old they are.
#[tokio::test]
async fn a_budget_reads_changed_and_focused_rooms_first_and_every_room_in_turn() {
    tokio::time::timeout(
        Duration::from_secs(60),
        Box::pin(async {
            let sandbox = sandbox().await;
            let api = room_api(&sandbox.url(), Duration::from_secs(5));
            for index in 0..30 {
                sandbox
                    .join(
                        &format!("room-{index:02}"),
                        &joiner(&format!("user-{index}"), &[("audio", false)]),
                    )
                    .unwrap();
            }
            let limits = RoomLimitsConfig::default();
            let policy = ReadPolicy {
                reads: Some(5),
                focused: Some("room-29"),
                limits: &limits,
            };
            let mut poller = RoomsPoller::new("sandbox", 4);
            let mut read_once = std::collections::BTreeSet::new();
            let mut polls = Vec::new();
            for at in 1..=7_i64 {
                let before = received(&sandbox);
                let poll = poller.poll(&api, at * 1_000, &policy).await.unwrap();
                let after = received(&sandbox);
                assert_eq!(
                    (after.0 - before.0, after.1 - before.1),
                    (1, 5),
                    "poll {at}: one ListRooms and the budget's five ListParticipants"
                );
                assert_eq!(poll.stats.participant_calls, 5);
                assert_eq!(poll.stats.unread_rooms, 25);
                let read_now: Vec<String> = poll
                    .snapshot
                    .rooms
                    .keys()
                    .filter(|room| poll.snapshot.read_in_this_poll(room))
                    .cloned()
                    .collect();
                assert_eq!(read_now.len(), 5, "poll {at}: {read_now:?}");
                if at > 1 {
                    assert!(
                        read_now.contains(&"room-29".to_owned()),
                        "poll {at}: the focused room is read every poll: {read_now:?}"
                    );
                }
                read_once.extend(read_now);
                polls.push(poll);
            }
            assert_eq!(read_once.len(), 30, "every room was read in turn");

            let last = polls.last().unwrap();
            let unread = last
                .snapshot
                .rooms
                .values()
                .find(|room| !last.snapshot.read_in_this_poll(&room.name))
                .unwrap();
            assert_eq!(
                unread.participants.as_ref().map(Vec::len),
                Some(1),
                "a room not read keeps the participants last read"
            );
            assert!(last.snapshot.participants_read_at(&unread.name).unwrap() < 7_000);

            sandbox
                .join("room-03", &joiner("late", &[("video", false)]))
                .unwrap();
            let poll = poller.poll(&api, 8_000, &policy).await.unwrap();
            assert!(
                poll.snapshot.read_in_this_poll("room-03"),
                "a room whose count moved is read in the next poll"
            );
            assert!(poll.changes.contains(&RoomChange::ParticipantJoined {
                room: "room-03".into(),
                identity: "late".into()
            }));
            // The update says which rooms were read, so a consumer holds the same ages.
            let mut held = polls.last().unwrap().snapshot.as_ref().clone();
            held.apply(poll.update.clone());
            assert_eq!(&held, poll.snapshot.as_ref());
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("bounded");
}
