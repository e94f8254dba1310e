//! What the media model needs of the rooms at one moment: who is there and which tracks flow
//! to how many subscribers.

use livekit_protocol as proto;

use super::labels::{country_of, stable_hash};
use crate::rooms::RoomStore;

/// An audio track's bitrate (Opus speech).
const AUDIO_BITS_PER_SEC: f64 = 32_000.0;
/// Opus sends a packet every 20 ms.
const AUDIO_PACKETS_PER_SEC: f64 = 50.0;
/// Video bitrates spread over this range, one per track.
const VIDEO_BITS_PER_SEC: (f64, f64) = (500_000.0, 1_500_000.0);
/// Video RTP packets carry about this many bytes.
const VIDEO_PACKET_BYTES: f64 = 1_200.0;

/// One published track that sends media (unmuted, audio or video).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Flow {
    pub kind: proto::TrackType,
    pub source: proto::TrackSource,
    /// The publisher's country.
    pub country: &'static str,
    /// Every other participant of the room: all of them subscribe.
    pub subscribers: Vec<&'static str>,
    pub packets_per_sec: f64,
    pub bytes_per_packet: f64,
}

impl Flow {
    fn new(track: &proto::TrackInfo, kind: proto::TrackType, country: &'static str) -> Self {
        let (bits_per_sec, packets_per_sec) = if kind == proto::TrackType::Audio {
            (AUDIO_BITS_PER_SEC, AUDIO_PACKETS_PER_SEC)
        } else {
            // The track's place in the range follows its sid, so it keeps its bitrate.
            #[expect(clippy::cast_precision_loss, reason = "a fraction from 0..1000")]
            let share = (stable_hash(&track.sid) % 1000) as f64 / 1000.0;
            let bits = VIDEO_BITS_PER_SEC.0 + share * (VIDEO_BITS_PER_SEC.1 - VIDEO_BITS_PER_SEC.0);
            (bits, bits / (VIDEO_PACKET_BYTES * 8.0))
        };
        Self {
            kind,
            source: proto::TrackSource::try_from(track.source)
                .unwrap_or(proto::TrackSource::Unknown),
            country,
            subscribers: Vec::new(),
            packets_per_sec,
            bytes_per_packet: bits_per_sec / 8.0 / packets_per_sec,
        }
    }
}

/// Rooms, participants and media flows at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RoomSnapshot {
    pub rooms: usize,
    /// Sid and country of every participant.
    pub participants: Vec<(String, &'static str)>,
    /// Published tracks (muted or not), audio then video.
    pub published: [usize; 2],
    /// Subscriptions (every other participant of the room subscribes to each track), audio
    /// then video.
    pub subscribed: [usize; 2],
    pub flows: Vec<Flow>,
}

impl RoomSnapshot {
    #[must_use]
    pub(crate) fn of(store: &RoomStore) -> Self {
        let mut snapshot = Self::default();
        for room in store.room_names() {
            let participants = store.participants(&room);
            snapshot.rooms += 1;
            let countries: Vec<&'static str> =
                participants.iter().map(|p| country_of(&p.sid)).collect();
            for (index, participant) in participants.iter().enumerate() {
                let country = countries[index];
                snapshot
                    .participants
                    .push((participant.sid.clone(), country));
                for track in &participant.tracks {
                    let kind = match proto::TrackType::try_from(track.r#type) {
                        Ok(proto::TrackType::Audio) => proto::TrackType::Audio,
                        Ok(proto::TrackType::Video) => proto::TrackType::Video,
                        _ => continue,
                    };
                    let slot = usize::from(kind == proto::TrackType::Video);
                    snapshot.published[slot] += 1;
                    snapshot.subscribed[slot] += participants.len() - 1;
                    if track.muted {
                        continue;
                    }
                    let mut flow = Flow::new(track, kind, country);
                    flow.subscribers = countries
                        .iter()
                        .enumerate()
                        .filter(|(other, _)| *other != index)
                        .map(|(_, country)| *country)
                        .collect();
                    snapshot.flows.push(flow);
                }
            }
        }
        snapshot
    }

    /// Published tracks of any kind: `NodeStats.num_tracks_in`.
    #[must_use]
    pub(crate) fn tracks_in(&self) -> usize {
        self.published.iter().sum()
    }

    /// Subscriptions of any kind: `NodeStats.num_tracks_out`.
    #[must_use]
    pub(crate) fn tracks_out(&self) -> usize {
        self.subscribed.iter().sum()
    }
}
