//! The sandbox's RoomService as its server runs it, on a small fixed world, for the two Twirp
//! fuzz targets and the seed generator.
//!
//! A body reaches [`livekit_sandbox::service::handle`], the function the server calls with the
//! method name from the URL, so decoding is fuzzed exactly as a client reaches it. The caller is
//! an admin of [`ROOM`], where [`IDENTITY`] publishes two tracks: a body that names them goes
//! past the grant check and into the room store as well.

use std::sync::Mutex;

use livekit_api::access_token::{Claims, VideoGrants};
use livekit_sandbox::clock::SimClock;
use livekit_sandbox::codec::Encoding;
use livekit_sandbox::rooms::{RoomStore, ServerLimits, TrackSpec};
use livekit_sandbox::service::{self, Call, METHODS};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

/// The room the caller administers.
pub const ROOM: &str = "fuzz";
/// The participant in [`ROOM`].
pub const IDENTITY: &str = "alice";
/// Fixes the store's sids, so seeds can name the tracks.
const SEED: u64 = 6;

/// [`ROOM`] with [`IDENTITY`] publishing a microphone and a camera; the same every time.
///
/// # Panics
/// If the sandbox refuses to set up this world, which no input can cause.
#[must_use]
pub fn world(now_ms: i64) -> RoomStore {
    let mut store = RoomStore::new(ServerLimits::default(), ChaCha8Rng::seed_from_u64(SEED));
    store
        .join(ROOM, IDENTITY, "Alice", now_ms)
        .expect("alice joins an empty room");
    for track in [TrackSpec::microphone(), TrackSpec::camera()] {
        store
            .publish(ROOM, IDENTITY, &track)
            .expect("alice is in the room");
    }
    store
}

/// The sids of [`IDENTITY`]'s tracks in [`world`], microphone first.
#[must_use]
pub fn track_sids() -> Vec<String> {
    world(0)
        .participants(ROOM)
        .iter()
        .flat_map(|participant| &participant.tracks)
        .map(|track| track.sid.clone())
        .collect()
}

/// Grants for every RoomService method on [`ROOM`], as an admin token would carry.
#[must_use]
pub fn admin_claims() -> Claims {
    Claims {
        video: VideoGrants {
            room_admin: true,
            room: ROOM.to_owned(),
            room_create: true,
            room_list: true,
            ..VideoGrants::default()
        },
        ..Claims::default()
    }
}

/// Gives `body` to every RoomService method in `encoding`, each on a fresh [`world`].
///
/// # Panics
/// When the sandbox panics, or when it answers JSON that is empty or not JSON (the Node SDK
/// reads every answer with `JSON.parse`).
pub fn call_every_method(encoding: Encoding, body: &[u8]) {
    let claims = admin_claims();
    let clock = SimClock::new(1.0);
    for method in METHODS {
        let store = Mutex::new(world(clock.now_ms()));
        let call = Call {
            encoding,
            claims: &claims,
            body,
            store: &store,
            clock: &clock,
        };
        let Ok(answer) = service::handle(method, &call) else {
            continue;
        };
        if encoding == Encoding::Json {
            assert!(
                serde_json::from_slice::<serde_json::Value>(&answer).is_ok(),
                "{method} answered with something that is not JSON: {answer:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The committed seeds name the world's track sids; a change to how the sandbox draws sids
    /// would leave them pointing nowhere (run `--example twirp_seeds` again then).
    #[test]
    fn the_committed_seeds_reach_the_room_store() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let claims = admin_claims();
        let clock = SimClock::new(1.0);
        for (folder, encoding) in [
            ("twirp_protobuf", Encoding::Protobuf),
            ("twirp_json", Encoding::Json),
        ] {
            let body = std::fs::read(corpus.join(folder).join("mute_published_track"))
                .expect("the seed is committed");
            let store = Mutex::new(world(clock.now_ms()));
            let call = Call {
                encoding,
                claims: &claims,
                body: &body,
                store: &store,
                clock: &clock,
            };
            let answer = service::handle("MutePublishedTrack", &call);
            assert!(answer.is_ok(), "{folder}: {:?}", answer.err());
        }
    }
}
