use livekit_protocol as proto;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::participants::ACTIVE_AFTER_MS;
use super::{Closed, RoomStore, ServerLimits, TrackSpec};
use crate::twirp_error::{TwirpCode, TwirpError};

const T0: i64 = 1_700_000_000_000;

fn store() -> RoomStore {
    RoomStore::new(ServerLimits::default(), ChaCha8Rng::seed_from_u64(7))
}

fn create(store: &mut RoomStore, name: &str, request: proto::CreateRoomRequest) -> proto::Room {
    store
        .create_room(
            &proto::CreateRoomRequest {
                name: name.to_owned(),
                ..request
            },
            T0,
        )
        .unwrap()
}

#[test]
fn create_applies_server_defaults_and_returns_an_existing_room() {
    let mut store = store();
    let room = create(&mut store, "r1", proto::CreateRoomRequest::default());
    assert!(room.sid.starts_with("RM_"));
    assert_eq!((room.empty_timeout, room.departure_timeout), (300, 20));
    assert_eq!(room.creation_time, T0 / 1000);
    let again = create(
        &mut store,
        "r1",
        proto::CreateRoomRequest {
            max_participants: 9,
            ..Default::default()
        },
    );
    assert_eq!(again, room, "the existing room, unchanged");
}

#[test]
fn names_and_metadata_respect_server_limits() {
    let mut store = store();
    let long = "x".repeat(257);
    let err = store
        .create_room(
            &proto::CreateRoomRequest {
                name: long,
                ..Default::default()
            },
            T0,
        )
        .unwrap_err();
    assert_eq!(err.code, TwirpCode::InvalidArgument);
    create(&mut store, "r", proto::CreateRoomRequest::default());
    let big = "m".repeat(512 * 1024 + 1);
    assert_eq!(
        store.update_room_metadata("r", &big).unwrap_err().code,
        TwirpCode::InvalidArgument
    );
    assert_eq!(
        store.update_room_metadata("nope", "x").unwrap_err(),
        TwirpError::room_not_found()
    );
}

#[test]
fn max_participants_refuses_a_join_beyond_the_limit() {
    let mut store = store();
    create(
        &mut store,
        "small",
        proto::CreateRoomRequest {
            max_participants: 2,
            ..Default::default()
        },
    );
    store.join("small", "a", "A", T0).unwrap();
    store.join("small", "b", "B", T0).unwrap();
    let err = store.join("small", "c", "C", T0).unwrap_err();
    assert_eq!(err.code, TwirpCode::ResourceExhausted);
    assert_eq!(store.list_rooms(&[])[0].num_participants, 2);
}

#[test]
fn counts_publishers_and_tracks_and_mutes_per_track() {
    let mut store = store();
    store.join("r", "alice", "Alice", T0).unwrap();
    store.join("r", "bob", "Bob", T0).unwrap();
    let mic = store
        .publish("r", "alice", &TrackSpec::microphone())
        .unwrap();
    store.publish("r", "alice", &TrackSpec::camera()).unwrap();
    let room = &store.list_rooms(&["r".to_owned()])[0];
    assert_eq!((room.num_participants, room.num_publishers), (2, 1));
    let muted = store
        .mute_published_track("r", "alice", &mic.sid, true)
        .unwrap();
    assert!(muted.muted);
    let alice = store.get_participant("r", "alice").unwrap();
    assert!(alice.tracks[0].muted && !alice.tracks[1].muted);
    assert_eq!(
        store
            .mute_published_track("r", "alice", "TR_nope", true)
            .unwrap_err()
            .code,
        TwirpCode::NotFound
    );
}

#[test]
fn empty_and_departure_timeouts_close_rooms() {
    let mut store = store();
    create(
        &mut store,
        "never-used",
        proto::CreateRoomRequest {
            empty_timeout: 10,
            ..Default::default()
        },
    );
    store.join("used", "a", "A", T0).unwrap();
    store
        .remove_participant(
            "used",
            "a",
            proto::DisconnectReason::ClientInitiated,
            T0 + 1_000,
        )
        .unwrap();
    assert!(store.tick(T0 + 9_999).is_empty());
    assert_eq!(
        store.tick(T0 + 10_000),
        vec![Closed::EmptyTimeout("never-used".into())]
    );
    // departure_timeout (20 s by default) counts from the last departure.
    assert!(store.tick(T0 + 20_999).is_empty());
    assert_eq!(
        store.tick(T0 + 21_000),
        vec![Closed::DepartureTimeout("used".into())]
    );
    assert_eq!(store.room_count(), 0);
}

#[test]
fn participants_become_active_and_attributes_merge() {
    let mut store = store();
    store.join("r", "a", "A", T0).unwrap();
    store.tick(T0 + ACTIVE_AFTER_MS);
    assert_eq!(
        store.get_participant("r", "a").unwrap().state,
        proto::participant_info::State::Active as i32
    );
    let update = |attributes: &[(&str, &str)]| proto::UpdateParticipantRequest {
        room: "r".into(),
        identity: "a".into(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Default::default()
    };
    store
        .update_participant(&update(&[("x", "1"), ("y", "2")]))
        .unwrap();
    store.update_participant(&update(&[("x", "")])).unwrap();
    let attributes = store.get_participant("r", "a").unwrap().attributes;
    assert_eq!(attributes.len(), 1);
    assert_eq!(attributes["y"], "2");
}

#[test]
fn send_data_checks_the_nonce() {
    let mut store = store();
    store.join("r", "a", "A", T0).unwrap();
    let request = |nonce: Vec<u8>| proto::SendDataRequest {
        room: "r".into(),
        nonce,
        ..Default::default()
    };
    store.send_data(&request(vec![0; 16])).unwrap();
    store.send_data(&request(Vec::new())).unwrap();
    assert_eq!(
        store.send_data(&request(vec![0; 8])).unwrap_err().code,
        TwirpCode::InvalidArgument
    );
}

#[test]
fn the_same_seed_gives_the_same_sids() {
    let sids = || {
        let mut store = store();
        store.join("r", "a", "A", T0).unwrap().sid
    };
    assert_eq!(sids(), sids());
}
