//! Recordings: writing them (plain and gzip), reading them back line by line, playing them in
//! time (speed, gap capping, pause, resume, skip), `lktop watch --record`, and the shipped demo
//! recording.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use lktop::events::{EngineEvent, EventKind};
use lktop::record::{
    PlayOptions, RecordError, Recorder, Replay, ReplayHandle, ReplayItem, parse_speed,
};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::Instant;

/// Unix milliseconds of the first test event.
const BASE: i64 = 1_764_000_000_000;

/// A small event that carries a number, built from JSON like a recording's line.
fn event(at_ms: i64, number: u64) -> EngineEvent {
    serde_json::from_value(
        serde_json::json!({"at_ms": at_ms, "type": "events_dropped", "count": number}),
    )
    .unwrap()
}

fn number(event: &EngineEvent) -> u64 {
    match event.kind {
        EventKind::EventsDropped { count } => count,
        _ => panic!("not a test event: {event:?}"),
    }
}

/// A recording of events at `BASE + offset` for each offset, numbered from 0.
fn record(dir: &Path, name: &str, offsets_ms: &[i64]) -> PathBuf {
    let path = dir.join(name);
    let mut recorder = Recorder::create(&path).unwrap();
    for (n, offset) in (0_u64..).zip(offsets_ms) {
        recorder.write(&event(BASE + offset, n)).unwrap();
    }
    assert_eq!(recorder.finish().unwrap(), offsets_ms.len() as u64);
    path
}

fn play(dir: &Path, offsets_ms: &[i64], options: PlayOptions) -> (ReplayHandle, Receiver) {
    let path = record(dir, "timed.ndjson", offsets_ms);
    let (handle, items) = Replay::open(&path).unwrap().spawn(options);
    (handle, Receiver(items))
}

struct Receiver(mpsc::Receiver<ReplayItem>);

impl Receiver {
    async fn event(&mut self) -> EngineEvent {
        match self.0.recv().await {
            Some(ReplayItem::Event(event)) => *event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// The number of the next event and the milliseconds since `start` it arrived at.
    async fn timed(&mut self, start: Instant) -> (u64, u128) {
        let event = self.event().await;
        (number(&event), start.elapsed().as_millis())
    }
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn plain_and_gzip_recordings_round_trip_as_watch_lines() {
    let dir = tempfile::tempdir().unwrap();
    let offsets: Vec<i64> = (0..1000).map(|n| n * 37).collect();
    for name in ["session.ndjson", "session.ndjson.gz", "SESSION.NDJSON.GZ"] {
        let path = record(dir.path(), name, &offsets);
        let replay = Replay::open(&path).unwrap();
        assert_eq!(replay.is_compressed(), name.to_lowercase().ends_with(".gz"));
        let events: Vec<EngineEvent> = replay.map(Result::unwrap).collect();
        assert_eq!(events.len(), 1000);
        for (n, event) in (0_u64..).zip(&events) {
            assert_eq!(number(event), n);
            assert_eq!(event.at_ms, BASE + offsets[usize::try_from(n).unwrap()]);
        }
        // Exactly what `lktop watch` prints: serde_json::to_string of each event, one a line.
        let expected: String = events
            .iter()
            .map(|event| serde_json::to_string(event).unwrap() + "\n")
            .collect();
        let text = if replay_is_gzip(&path) {
            gunzip(&path)
        } else {
            std::fs::read_to_string(&path).unwrap()
        };
        assert_eq!(text, expected, "{name}");
    }
}

fn replay_is_gzip(path: &Path) -> bool {
    std::fs::read(path).unwrap().starts_with(&[0x1f, 0x8b])
}

#[test]
fn gzip_is_recognised_by_its_magic_bytes_and_a_wrong_name_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let gz = record(dir.path(), "a.ndjson.gz", &[0, 10]);
    let renamed = dir.path().join("a.recording");
    std::fs::rename(&gz, &renamed).unwrap();
    let replay = Replay::open(&renamed).unwrap();
    assert!(replay.is_compressed());
    assert_eq!(replay.map(Result::unwrap).count(), 2);

    let plain = record(dir.path(), "b.ndjson", &[0]);
    let misnamed = dir.path().join("b.ndjson.gz");
    std::fs::rename(&plain, &misnamed).unwrap();
    let err = Replay::open(&misnamed).unwrap_err();
    assert!(matches!(err, RecordError::NotGzip { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("b.ndjson.gz") && text.contains("rename"),
        "{text}"
    );

    // An empty file (a recorder that never got an event) is an empty recording.
    std::fs::write(dir.path().join("empty.ndjson.gz"), b"").unwrap();
    assert_eq!(
        Replay::open(&dir.path().join("empty.ndjson.gz"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn errors_name_the_file_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("x.ndjson");
    let err = Recorder::create(&missing).unwrap_err().to_string();
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(err.contains("directory exists"), "{err}");

    let err = Replay::open(&missing).unwrap_err().to_string();
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(err.contains("--record"), "{err}");
}

#[test]
fn an_unfinished_recording_is_readable_up_to_its_last_flush() {
    let dir = tempfile::tempdir().unwrap();
    for (name, gzip) in [("crash.ndjson", false), ("crash.ndjson.gz", true)] {
        let path = dir.path().join(name);
        let mut recorder = Recorder::create(&path).unwrap();
        // The first event is flushed at once, then every second of event time.
        recorder.write(&event(BASE, 0)).unwrap();
        recorder.write(&event(BASE + 200, 1)).unwrap();
        recorder.write(&event(BASE + 1200, 2)).unwrap();
        recorder.write(&event(BASE + 1300, 3)).unwrap();
        // "Crash": read the file while the recorder still holds its buffers.
        let items: Vec<_> = Replay::open(&path).unwrap().collect();
        let events: Vec<u64> = items
            .iter()
            .filter_map(|item| item.as_ref().ok().map(number))
            .collect();
        assert_eq!(events, [0, 1, 2], "{name}: {items:?}");
        if gzip {
            // The gzip stream has no end yet: said once, as the last item.
            let problem = items.last().unwrap().as_ref().unwrap_err();
            assert!(problem.message.contains("not finished"), "{problem}");
        } else {
            assert_eq!(items.len(), 3);
        }
        drop(recorder);
    }
}

#[test]
fn many_events_flush_without_waiting_for_event_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("burst.ndjson");
    let mut recorder = Recorder::create(&path).unwrap();
    for n in 0..600 {
        recorder.write(&event(BASE, n)).unwrap();
    }
    // All at the same millisecond: flushed by count (the first, then every 256).
    let on_disk = Replay::open(&path).unwrap().count();
    assert!((513..600).contains(&on_disk), "{on_disk}");
    recorder.finish().unwrap();
}

const MIXED: &str = concat!(
    r#"{"at_ms":1764000000000,"type":"events_dropped","count":0}"#,
    "\n\n",
    "sandbox: up | pool 0/8 in use\n",
    r#"{"at_ms":1764000000010,"type":"no_such_event"}"#,
    "\n",
    r#"{"at_ms":1764000000020,"type":"config_rejected","error":"bad"}"#,
    "\r\n",
    r#"{"at_ms":1764000000030,"type":"events_dropped","count":1"#,
    "\n",
    r#"{"at_ms":1764000000040,"type":"events_dropped","count":2}"#,
);

#[test]
fn malformed_lines_are_reported_with_their_line_number_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.ndjson");
    std::fs::write(&path, MIXED).unwrap();
    let items: Vec<_> = Replay::open(&path).unwrap().collect();
    let summary: Vec<String> = items
        .iter()
        .map(|item| match item {
            Ok(event) => format!("event {}", event.at_ms - BASE),
            Err(problem) => format!("line {}", problem.line),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "event 0", "line 3", "line 4", "event 20", "line 6", "event 40"
        ]
    );
    let problems: Vec<String> = items
        .iter()
        .filter_map(|item| item.as_ref().err().map(ToString::to_string))
        .collect();
    let prefix = path.display().to_string();
    assert!(
        problems[0].starts_with(&format!("{prefix}:3: expected value at column 1")),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("without --summary"), "{}", problems[0]);
    assert!(
        problems[1].starts_with(&format!("{prefix}:4: unknown variant `no_such_event`")),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].starts_with(&format!("{prefix}:6: EOF while parsing an object")),
        "{}",
        problems[2]
    );
    for problem in &problems {
        assert!(!problem.contains("line 1 column"), "{problem}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_player_reports_problems_in_order_and_plays_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.ndjson");
    std::fs::write(&path, MIXED).unwrap();
    let (handle, mut items) = Replay::open(&path).unwrap().spawn(PlayOptions::default());
    let mut seen = Vec::new();
    while let Some(item) = items.recv().await {
        seen.push(match item {
            ReplayItem::Event(event) => format!("event {}", event.at_ms - BASE),
            ReplayItem::Problem { line, message } => {
                assert!(!message.is_empty());
                format!("problem {line}")
            }
            ReplayItem::Finished { events } => format!("finished {events}"),
        });
    }
    assert_eq!(
        seen,
        [
            "event 0",
            "problem 3",
            "problem 4",
            "event 20",
            "problem 6",
            "event 40",
            "finished 3"
        ]
    );
    handle.stopped().await;
    assert!(!handle.is_running());
    let position = handle.position();
    assert_eq!(position.at_ms, BASE + 40);
    assert_eq!(position.started_at_ms, BASE);
    assert_eq!(position.elapsed(), Duration::from_millis(40));
    assert_eq!(position.events, 3);
}

#[tokio::test(start_paused = true)]
async fn events_are_released_at_their_scaled_deltas_and_long_gaps_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let options = PlayOptions::default().with_speed(2.0).unwrap();
    // 60 s of silence is 30 s at 2x: capped to the default 5 s.
    let (handle, mut items) = play(dir.path(), &[0, 1000, 1500, 61_500, 61_600], options);
    let start = Instant::now();
    let mut times = Vec::new();
    for _ in 0..5 {
        times.push(items.timed(start).await);
    }
    assert_eq!(times, [(0, 0), (1, 500), (2, 750), (3, 5750), (4, 5800)]);
    assert!(matches!(
        items.0.recv().await,
        Some(ReplayItem::Finished { events: 5 })
    ));
    // The clock jumped over the idle stretch: the position is the recording's, not real time.
    assert_eq!(handle.position().at_ms, BASE + 61_600);
}

#[tokio::test(start_paused = true)]
async fn the_gap_cap_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let options = PlayOptions::default().with_max_gap(Duration::from_millis(100));
    let (_handle, mut items) = play(dir.path(), &[0, 50, 10_050], options);
    let start = Instant::now();
    let times = [
        items.timed(start).await,
        items.timed(start).await,
        items.timed(start).await,
    ];
    assert_eq!(times, [(0, 0), (1, 50), (2, 150)]);
}

#[tokio::test(start_paused = true)]
async fn pause_holds_the_events_and_resume_releases_them() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut items) = play(dir.path(), &[0, 1000, 2000], PlayOptions::default());
    let start = Instant::now();
    assert_eq!(items.timed(start).await, (0, 0));
    handle.pause();
    assert!(handle.is_paused());
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(items.0.try_recv().unwrap_err(), TryRecvError::Empty);
    assert_eq!(
        handle.position().at_ms,
        BASE,
        "the clock stops while paused"
    );
    handle.resume();
    assert!(!handle.is_paused());
    assert_eq!(items.timed(start).await, (1, 31_000));
    assert_eq!(items.timed(start).await, (2, 32_000));
}

#[tokio::test(start_paused = true)]
async fn a_player_started_paused_shows_the_first_event_and_waits() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut items) = play(dir.path(), &[0, 1000], PlayOptions::default().paused(true));
    let start = Instant::now();
    assert_eq!(items.timed(start).await, (0, 0));
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(items.0.try_recv().unwrap_err(), TryRecvError::Empty);
    handle.resume();
    assert_eq!(items.timed(start).await, (1, 11_000));
}

#[tokio::test(start_paused = true)]
async fn a_speed_change_rescales_the_wait_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut items) = play(
        dir.path(),
        &[0, 1000, 2000, 3000, 4000],
        PlayOptions::default(),
    );
    let start = Instant::now();
    assert_eq!(items.timed(start).await, (0, 0));
    assert_eq!(items.timed(start).await, (1, 1000));
    handle.set_speed(4.0).unwrap();
    assert_eq!(items.timed(start).await, (2, 1250));
    // Half-way to the next event (125 ms real = 500 ms recorded), slow down to 0.5x: the
    // remaining 500 ms of recording take 1000 ms.
    tokio::time::sleep(Duration::from_millis(125)).await;
    handle.set_speed(0.5).unwrap();
    assert_eq!(items.timed(start).await, (3, 2375));
    assert!(handle.set_speed(0.0).is_err());
    assert!(handle.set_speed(1001.0).is_err());
    assert!((handle.speed() - 0.5).abs() < f64::EPSILON);
    assert_eq!(items.timed(start).await, (4, 4375));
}

#[tokio::test(start_paused = true)]
async fn skip_delivers_the_skipped_events_at_once_and_moves_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let options = PlayOptions::default().with_max_gap(Duration::from_secs(60));
    let (handle, mut items) = play(dir.path(), &[0, 1000, 2000, 10_000, 11_000], options);
    let start = Instant::now();
    assert_eq!(items.timed(start).await, (0, 0));
    handle.skip(Duration::from_secs(5));
    assert_eq!(items.timed(start).await, (1, 0));
    assert_eq!(items.timed(start).await, (2, 0));
    assert_eq!(handle.position().at_ms, BASE + 5000);
    assert_eq!(items.timed(start).await, (3, 5000));
    assert_eq!(items.timed(start).await, (4, 6000));
}

#[tokio::test(start_paused = true)]
async fn skip_while_paused_delivers_the_span_and_stays_paused() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut items) = play(dir.path(), &[0, 1000, 2000, 3000], PlayOptions::default());
    let start = Instant::now();
    assert_eq!(items.timed(start).await, (0, 0));
    handle.pause();
    handle.skip(Duration::from_millis(2500));
    assert_eq!(items.timed(start).await, (1, 0));
    assert_eq!(items.timed(start).await, (2, 0));
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(items.0.try_recv().unwrap_err(), TryRecvError::Empty);
    assert!(handle.is_paused());
    assert_eq!(handle.position().at_ms, BASE + 2500);
    handle.resume();
    assert_eq!(items.timed(start).await, (3, 10_500));
}

#[tokio::test]
async fn dropping_the_receiver_stops_the_player() {
    let dir = tempfile::tempdir().unwrap();
    let hour = 3_600_000;
    let options = PlayOptions::default().with_max_gap(Duration::from_secs(3600));
    // Waiting out a gap.
    let (handle, mut items) = play(dir.path(), &[0, hour], options);
    items.event().await;
    assert!(handle.is_running());
    drop(items);
    tokio::time::timeout(Duration::from_secs(5), handle.stopped())
        .await
        .expect("the player stops within 5 s");
    assert!(!handle.is_running());
    // Paused.
    let (handle, mut items) = play(dir.path(), &[0, 1, 2], options.paused(true));
    items.event().await;
    drop(items);
    tokio::time::timeout(Duration::from_secs(5), handle.stopped())
        .await
        .expect("a paused player stops within 5 s");
    // Blocked on a full channel nobody reads.
    let offsets: Vec<i64> = vec![0; 10_000];
    let (handle, items) = play(dir.path(), &offsets, PlayOptions::default());
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(items);
    tokio::time::timeout(Duration::from_secs(5), handle.stopped())
        .await
        .expect("a blocked player stops within 5 s");
}

#[tokio::test]
async fn a_large_recording_is_streamed_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let total = 100_000_u64;
    let offsets: Vec<i64> = (0..100_000).collect();
    let path = record(dir.path(), "large.ndjson.gz", &offsets);
    let options = PlayOptions::default().with_speed(1000.0).unwrap();
    let (handle, items) = Replay::open(&path).unwrap().spawn(options);
    let mut items = Receiver(items);
    assert_eq!(number(&items.event().await), 0);
    // Nobody takes the next events: the reader stops a bounded distance ahead.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ahead = handle.lines_read();
    assert!(ahead < 1000, "the reader read {ahead} lines ahead");
    let mut next = 1;
    loop {
        match items.0.recv().await {
            Some(ReplayItem::Event(event)) => {
                assert_eq!(number(&event), next);
                next += 1;
            }
            Some(ReplayItem::Finished { events }) => {
                assert_eq!(events, total);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(next, total);
    assert_eq!(handle.lines_read(), total);
}

#[test]
fn speed_values_for_the_command_line() {
    assert_eq!(parse_speed("2"), Ok(2.0));
    assert_eq!(parse_speed("10x"), Ok(10.0));
    assert!(parse_speed("0").is_err());
    assert!(parse_speed("1e9").is_err());
    assert!(PlayOptions::default().with_speed(-1.0).is_err());
    assert!(PlayOptions::default().with_speed(f64::NAN).is_err());
}

// ---------------------------------------------------------------------------------------------
// `lktop watch --record`

/// `lktop` in an empty working directory and home, with none of the developer's LiveKit or
/// lktop variables: it watches its built-in sandbox.
fn lktop(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lktop"));
    command.args(args).current_dir(dir).env("HOME", dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("LIVEKIT_") || name.starts_with("LKTOP_") || name == "XDG_CONFIG_HOME" {
            command.env_remove(name);
        }
    }
    command.output().expect("lktop runs")
}

#[test]
fn watch_records_exactly_what_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(
        dir.path(),
        &["watch", "--duration", "3s", "--record", "session.ndjson.gz"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let recording = dir.path().join("session.ndjson.gz");
    assert_eq!(gunzip(&recording), stdout);
    let lines = stdout.lines().count();
    assert!(lines > 3, "{stdout}");
    assert!(
        stderr.contains(&format!("recorded {lines} events to session.ndjson.gz")),
        "{stderr}"
    );
    // What `lktop watch` prints is a recording too.
    std::fs::write(dir.path().join("stdout.ndjson"), &stdout).unwrap();
    let events: Vec<EngineEvent> = Replay::open(&dir.path().join("stdout.ndjson"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events.len(), lines);
    assert!(matches!(events[0].kind, EventKind::Started { .. }));
}

#[test]
fn watch_refuses_a_recording_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(
        dir.path(),
        &["watch", "--duration", "1s", "--record", "missing/x.ndjson"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot create the recording missing/x.ndjson"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[cfg(target_os = "linux")]
#[test]
fn a_failing_recording_stops_with_one_message_and_the_watch_goes_on() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(
        dir.path(),
        &["watch", "--duration", "2s", "--record", "/dev/full"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("recording stopped").count(), 1, "{stderr}");
    assert!(stderr.contains("/dev/full"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).lines().count() > 3,
        "the watch went on"
    );
}

// ---------------------------------------------------------------------------------------------
// The shipped demo recording

#[test]
fn the_shipped_demo_recording_replays_without_problems() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-recording.ndjson.gz");
    let replay = Replay::open(&path).unwrap();
    assert!(replay.is_compressed());
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut violations = 0;
    let mut previous = i64::MIN;
    for item in replay {
        let event = item.unwrap_or_else(|problem| {
            panic!("{problem}\n(re-record with scripts/record-demo.sh if the events changed)")
        });
        assert!(
            event.at_ms >= previous.saturating_sub(1000),
            "time runs forward"
        );
        previous = event.at_ms;
        let kind = serde_json::to_value(&event).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_owned();
        *counts.entry(kind).or_default() += 1;
        if let EventKind::Violations {
            violations: list, ..
        } = &event.kind
            && !list.is_empty()
        {
            violations += 1;
        }
    }
    for kind in [
        "started",
        "snapshot",
        "pool_status",
        "quality",
        "violations",
    ] {
        assert!(counts.contains_key(kind), "no {kind} event in {counts:?}");
    }
    assert!(
        violations > 0,
        "no Violations event with violations: {counts:?}"
    );
}

#[tokio::test]
async fn the_shipped_demo_recording_plays_through() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-recording.ndjson.gz");
    let total = Replay::open(&path).unwrap().count() as u64;
    let options = PlayOptions::default().with_speed(1000.0).unwrap();
    let (handle, mut items) = Replay::open(&path).unwrap().spawn(options);
    let started = std::time::Instant::now();
    let mut events = 0;
    loop {
        match items.recv().await {
            Some(ReplayItem::Event(_)) => events += 1,
            Some(ReplayItem::Finished { events: finished }) => {
                assert_eq!(finished, events);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(events, total);
    // Three recorded minutes at 1000x: well under ten seconds even on a busy machine.
    assert!(started.elapsed() < Duration::from_secs(10));
    let position = handle.position();
    assert!(
        position.elapsed() > Duration::from_secs(120),
        "{position:?}"
    );
}
