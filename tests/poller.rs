//! The rooms poller against the sandbox: snapshots, counts, the changes between polls and the
//! updates that carry them.

#[path = "support/configs.rs"]
mod configs;

use std::sync::Arc;
use std::time::Duration;

use configs::{room_api, sandbox};
use livekit_sandbox::admin::{JoinRequest, TrackRequest};
use lktop::api::RoomApi;
use lktop::poller::{Poll, RoomsPoller};
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

            let mut poller = RoomsPoller::new("sandbox", 4);
            let first = poller.poll(&api, 1).await.unwrap();
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
            let second = poller.poll(&api, 2).await.unwrap();
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
            let third = poller.poll(&api, 3).await.unwrap();
            assert_eq!(
                third.changes,
                [RoomChange::RoomFinished {
                    room: "gamma".into()
                }]
            );
            updates_carry_only_what_changed(&first, &second, &third);

            sandbox.listener_down().await;
            assert!(
                poller.poll(&api, 4).await.is_err(),
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
