//! Writes the seed corpora of `twirp_protobuf` and `twirp_json`: one request body per
//! RoomService method, in each encoding, as the official SDKs send them, naming the room,
//! participant and tracks of `lktop_fuzz::world` so each seed reaches the room store.
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example twirp_seeds
//! ```

use std::collections::HashMap;
use std::path::Path;

use lktop::api::proto;
use livekit_sandbox::codec::Encoding;
use lktop_fuzz::{IDENTITY, ROOM, track_sids};
use prost::Message;
use serde::Serialize;

fn write<T: Message + Serialize>(name: &str, request: &T) -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (target, encoding) in [
        ("twirp_protobuf", Encoding::Protobuf),
        ("twirp_json", Encoding::Json),
    ] {
        let folder = corpus.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(name), encoding.encode(request))?;
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let room = ROOM.to_owned();
    let identity = IDENTITY.to_owned();
    let tracks = track_sids();
    write(
        "create_room",
        &proto::CreateRoomRequest {
            name: "fuzz-new".to_owned(),
            empty_timeout: 30,
            departure_timeout: 10,
            max_participants: 5,
            metadata: r#"{"team":"core"}"#.to_owned(),
            ..proto::CreateRoomRequest::default()
        },
    )?;
    write(
        "list_rooms",
        &proto::ListRoomsRequest {
            names: vec![room.clone(), "elsewhere".to_owned()],
        },
    )?;
    write(
        "delete_room",
        &proto::DeleteRoomRequest { room: room.clone() },
    )?;
    write(
        "list_participants",
        &proto::ListParticipantsRequest { room: room.clone() },
    )?;
    write(
        "participant_identity",
        &proto::RoomParticipantIdentity {
            room: room.clone(),
            identity: identity.clone(),
            ..proto::RoomParticipantIdentity::default()
        },
    )?;
    write(
        "mute_published_track",
        &proto::MuteRoomTrackRequest {
            room: room.clone(),
            identity: identity.clone(),
            track_sid: tracks[0].clone(),
            muted: true,
        },
    )?;
    write(
        "update_participant",
        &proto::UpdateParticipantRequest {
            room: room.clone(),
            identity: identity.clone(),
            metadata: r#"{"role":"host"}"#.to_owned(),
            permission: Some(proto::ParticipantPermission {
                can_subscribe: true,
                can_publish: false,
                can_publish_data: true,
                ..proto::ParticipantPermission::default()
            }),
            name: "Alice A.".to_owned(),
            attributes: HashMap::from([
                ("desk".to_owned(), "4".to_owned()),
                ("gone".to_owned(), String::new()),
            ]),
        },
    )?;
    write(
        "update_subscriptions",
        &proto::UpdateSubscriptionsRequest {
            room: room.clone(),
            identity: identity.clone(),
            track_sids: vec![tracks[0].clone()],
            subscribe: true,
            participant_tracks: vec![proto::ParticipantTracks {
                participant_sid: "PA_unknown".to_owned(),
                track_sids: tracks.clone(),
            }],
        },
    )?;
    write(
        "send_data",
        &proto::SendDataRequest {
            room: room.clone(),
            data: b"hello".to_vec(),
            kind: proto::data_packet::Kind::Reliable as i32,
            destination_identities: vec![identity],
            topic: Some("chat".to_owned()),
            nonce: vec![7; 16],
            ..proto::SendDataRequest::default()
        },
    )?;
    write(
        "update_room_metadata",
        &proto::UpdateRoomMetadataRequest {
            room,
            metadata: r#"{"audio_optimization":{"target_latency_ms":50}}"#.to_owned(),
        },
    )
}
