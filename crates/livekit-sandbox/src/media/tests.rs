use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::rooms::{RoomStore, ServerLimits, TrackSpec};

/// `rooms` rooms of `people` participants, each with a microphone and a camera; one camera of
/// each room muted.
fn store(rooms: usize, people: usize) -> RoomStore {
    let mut store = RoomStore::new(ServerLimits::default(), ChaCha8Rng::seed_from_u64(3));
    for room in 0..rooms {
        let name = format!("room-{room}");
        for person in 0..people {
            let identity = format!("p{person}");
            store.join(&name, &identity, &identity, 0).unwrap();
            store
                .publish(&name, &identity, &TrackSpec::microphone())
                .unwrap();
            let camera = TrackSpec {
                muted: person == 0,
                ..TrackSpec::camera()
            };
            store.publish(&name, &identity, &camera).unwrap();
        }
    }
    store
}

fn sum<K>(map: &BTreeMap<K, f64>, keep: impl Fn(&K) -> bool) -> f64 {
    map.iter()
        .filter(|(key, _)| keep(key))
        .map(|(_, value)| value.floor())
        .sum()
}

/// The incoming loss in percent over one step, as monitoring computes it from the counters.
fn incoming_loss_pct(before: &MediaModel, after: &MediaModel) -> f64 {
    let incoming_initial = |model: &MediaModel| {
        sum(&model.packets, |labels| {
            labels.direction == Direction::Incoming && labels.transmission == Transmission::Initial
        })
    };
    let incoming_lost = |model: &MediaModel| {
        sum(&model.lost, |labels| {
            labels.direction == Direction::Incoming
        })
    };
    let lost = incoming_lost(after) - incoming_lost(before);
    let received = incoming_initial(after) - incoming_initial(before);
    100.0 * lost / (received + lost)
}

#[test]
fn the_snapshot_counts_tracks_and_leaves_muted_ones_silent() {
    let snapshot = RoomSnapshot::of(&store(2, 3));
    assert_eq!(snapshot.rooms, 2);
    assert_eq!(snapshot.participants.len(), 6);
    assert_eq!(snapshot.published, [6, 6]);
    assert_eq!(snapshot.subscribed, [12, 12]);
    assert_eq!(snapshot.flows.len(), 10, "two muted cameras send nothing");
    assert!(
        snapshot
            .flows
            .iter()
            .all(|flow| flow.subscribers.len() == 2)
    );
}

#[test]
fn injected_loss_is_what_the_counters_say() {
    let snapshot = RoomSnapshot::of(&store(4, 4));
    let mut model = MediaModel::new(11);
    model.advance(&snapshot, None, Duration::from_secs(2));
    let before = model.clone();
    let fault = MediaFault {
        loss_pct: Some(8.0),
        ..MediaFault::default()
    };
    model.advance(&snapshot, Some(fault), Duration::from_millis(1_500));
    let pct = incoming_loss_pct(&before, &model);
    assert!((7.0..=9.0).contains(&pct), "{pct}");

    let healthy = model.clone();
    model.advance(&snapshot, None, Duration::from_secs(2));
    let pct = incoming_loss_pct(&healthy, &model);
    assert!(pct < 1.0, "{pct}");
}

#[test]
fn counters_grow_with_time_and_histograms_once_a_second() {
    let snapshot = RoomSnapshot::of(&store(1, 3));
    let mut model = MediaModel::new(5);
    model.advance(&snapshot, None, Duration::from_millis(400));
    assert!(
        model.rtt_ms.is_empty(),
        "less than a second: nothing observed yet"
    );
    let packets_before = model.totals.packets_in;
    model.advance(&snapshot, None, Duration::from_millis(700));
    assert!(model.totals.packets_in > packets_before);
    // Per stream: 5 flows in, each to 2 subscribers out.
    let observations: u64 = model.rtt_ms.values().map(Histogram::count).sum();
    assert_eq!(observations, 5 + 10);
    assert_eq!(model.quality_score.count(), 3);
    assert_eq!(model.joins.reached("rtc_success"), 3);

    // Audio: 50 packets a second from each of 3 microphones, 1.1 s.
    assert!(
        model
            .lost
            .keys()
            .any(|labels| labels.kind == proto::TrackType::Audio)
    );
    let expected_audio = 3.0 * 50.0 * 1.1;
    let video_min = 2.0 * 500_000.0 / 9_600.0 * 1.1;
    let total_in = model.totals.packets_in;
    assert!(total_in > expected_audio + video_min * 0.9, "{total_in}");
}

#[test]
fn a_fault_brings_nacks_plis_and_a_lower_score() {
    let snapshot = RoomSnapshot::of(&store(2, 4));
    let run = |fault: Option<MediaFault>| {
        let mut model = MediaModel::new(9);
        model.advance(&snapshot, fault, Duration::from_secs(3));
        let nacks: f64 = model.nacks.values().sum();
        let plis: f64 = model.plis.values().sum();
        let observations = u32::try_from(model.quality_score.count()).unwrap();
        let mean_score = model.quality_score.sum() / f64::from(observations);
        (
            nacks,
            plis,
            mean_score,
            model.joins.reached("signal_connected"),
        )
    };
    let healthy = run(None);
    let faulty = run(Some(MediaFault {
        loss_pct: Some(8.0),
        rtt_ms: Some(250.0),
        jitter_ms: Some(40.0),
    }));
    assert!(faulty.0 > healthy.0 * 10.0, "{faulty:?} {healthy:?}");
    assert!(faulty.1 > healthy.1 * 3.0, "{faulty:?} {healthy:?}");
    assert!(faulty.2 < healthy.2 - 0.5, "{faulty:?} {healthy:?}");
}
