use std::path::Path;
use std::time::Duration;

use yaml_located::LocatedIssue;

use super::Scenario;
use super::load::strip_positions;
use crate::faults::Disruption;

fn issues(yaml: &str) -> Vec<LocatedIssue> {
    Scenario::from_yaml(yaml, "x.yaml")
        .expect_err("the scenario should be refused")
        .issues()
        .to_vec()
}

/// The issue's key as written in messages; empty for the document as a whole.
fn key(issue: &LocatedIssue) -> String {
    issue
        .key
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn line(issue: &LocatedIssue) -> Option<usize> {
    issue.origin.position().map(|position| position.line)
}

#[test]
fn the_built_in_demo_loads() {
    let demo = Scenario::demo();
    assert!(demo.rooms.len() >= 5);
    assert!(!demo.dynamic_rooms.is_empty());
    assert!(!demo.faults.is_empty());
}

#[test]
fn an_empty_document_is_the_empty_scenario() {
    assert_eq!(Scenario::from_yaml("", "x").unwrap(), Scenario::empty());
    assert_eq!(
        Scenario::from_yaml("# nothing yet\n---\n", "x").unwrap(),
        Scenario::empty()
    );
}

#[test]
fn offsets_allow_zero_and_durations_parse_as_in_the_config() {
    let scenario = Scenario::from_yaml(
        "tick: 500ms\nfaults:\n  - at: 0\n    apply: { kind: clear }\n  - at: 1m 30s\n    \
             every: 90\n    apply: { kind: listener_down, duration: 5s }\n",
        "x",
    )
    .unwrap();
    assert_eq!(scenario.tick.get(), Duration::from_millis(500));
    assert_eq!(scenario.faults[0].at, Duration::ZERO);
    assert_eq!(scenario.faults[1].at, Duration::from_secs(90));
    assert_eq!(
        scenario.faults[1].apply,
        Disruption::ListenerDown {
            duration: Some(Duration::from_secs(5))
        }
    );
    let err = issues("faults:\n  - at: -5\n    apply: { kind: clear }\n");
    assert!(err[0].problem.contains("negative"), "{err:?}");
}

#[test]
fn an_unknown_key_names_its_path_and_line() {
    let err = issues("rooms:\n  - name: a\n    participants:\n      maxx: 3\n");
    assert_eq!(key(&err[0]), "rooms[0].participants.maxx");
    assert_eq!(line(&err[0]), Some(4));
    assert!(err[0].problem.contains("unknown field `maxx`"), "{err:?}");
}

#[test]
fn a_wrong_type_names_its_path_and_position() {
    let text = "seed: 1\nrooms:\n  - name: a\n  - name: b\n    participants:\n      max: ten\n";
    let err = Scenario::from_yaml(text, "assets/x.yaml").unwrap_err();
    let rendered = err.to_string();
    assert!(
        rendered.starts_with("assets/x.yaml:6:12: rooms[1].participants.max: invalid type"),
        "{rendered}"
    );
    assert!(!rendered.contains("at line"), "{rendered}");
}

#[test]
fn yaml_syntax_errors_carry_a_position() {
    let err = issues("rooms: [\n  name: a\n");
    assert!(line(&err[0]).is_some(), "{err:?}");
}

#[test]
fn semantic_problems_are_reported_together_with_positions() {
    let text = "\
speed: 0
rooms:
  - name: a
    participants:
      min: 5
      max: 3
      publish:
        video: 1.5
  - name: a
    participants:
      join_rate: -1
dynamic_rooms:
  - prefix: ''
";
    let err = Scenario::from_yaml(text, "x.yaml").unwrap_err();
    let found: Vec<(String, Option<usize>)> = err
        .issues()
        .iter()
        .map(|issue| (key(issue), line(issue)))
        .collect();
    let expected = [
        ("speed", Some(1)),
        ("rooms[0].participants.min", Some(5)),
        ("rooms[0].participants.publish.video", Some(8)),
        ("rooms[1].name", Some(9)),
        ("rooms[1].participants.join_rate", Some(11)),
        ("dynamic_rooms[0].prefix", Some(13)),
    ]
    .map(|(key, line)| (key.to_owned(), line));
    assert_eq!(found, expected);
    let rendered = err.to_string();
    assert!(
        rendered.starts_with("the scenario x.yaml has 6 problems:"),
        "{rendered}"
    );
    assert!(
        rendered.contains("x.yaml:8:9: rooms[0].participants.publish.video: video is 1.5"),
        "{rendered}"
    );
}

#[test]
fn surge_periods_and_fault_rates_are_checked() {
    let text = "\
rooms:
  - name: a
    surge: { at: 1m, participants: 60, duration: 2m, ramp: 30s, every: 3m }
faults:
  - at: 1m
    apply: { kind: faults, error_rate: 1.5 }
";
    let keys: Vec<String> = issues(text).iter().map(key).collect();
    assert_eq!(keys, ["rooms[0].surge.every", "faults[0].apply"]);
    let keys: Vec<String> = issues("tick: 1m\n").iter().map(key).collect();
    assert_eq!(keys, ["tick"]);
}

#[test]
fn timeouts_become_whole_seconds_in_the_create_request() {
    let scenario = Scenario::from_yaml(
        "rooms:\n  - name: a\n    empty_timeout: 1500ms\n    max_participants: 4\n",
        "x",
    )
    .unwrap();
    let request = scenario.rooms[0].create_request();
    assert_eq!(
        (
            request.empty_timeout,
            request.departure_timeout,
            request.max_participants
        ),
        (2, 0, 4)
    );
}

#[test]
fn a_missing_file_names_its_path() {
    let err = Scenario::load(Path::new("/nonexistent/scenario.yaml")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/scenario.yaml"),
        "{err}"
    );
}

#[test]
fn strip_positions_leaves_other_text_alone() {
    assert_eq!(
        strip_positions("bad at line 3 column 5, while parsing at line 2 column 1"),
        "bad, while parsing"
    );
    assert_eq!(strip_positions("at line of fire"), "at line of fire");
}

#[test]
fn media_faults_load_and_bad_values_are_named() {
    let scenario = Scenario::from_yaml(
        "faults:\n  - at: 1m\n    apply: { kind: faults, media: { loss_pct: 8, rtt_ms: 250 }, \
         duration: 30s }\n  - at: 2m\n    apply: { kind: drain }\n  - at: 3m\n    apply: { kind: serve }\n",
        "x.yaml",
    )
    .unwrap();
    let Disruption::Faults { faults, duration } = &scenario.faults[0].apply else {
        panic!("{:?}", scenario.faults[0].apply);
    };
    let media = faults.media.unwrap();
    assert_eq!(
        (media.loss_pct, media.rtt_ms, media.jitter_ms),
        (Some(8.0), Some(250.0), None)
    );
    assert_eq!(*duration, Some(Duration::from_secs(30)));
    assert_eq!(scenario.faults[1].apply, Disruption::Drain);
    assert_eq!(scenario.faults[2].apply, Disruption::Serve);

    let found =
        issues("faults:\n  - at: 1m\n    apply: { kind: faults, media: { loss_pct: 120 } }\n");
    assert_eq!(
        found.iter().map(key).collect::<Vec<_>>(),
        ["faults[0].apply"]
    );
    let rendered = found[0].to_string();
    assert!(
        rendered.contains("media.loss_pct is 120; allowed 0.0..=100.0"),
        "{rendered}"
    );
    let found =
        issues("faults:\n  - at: 1m\n    apply: { kind: faults, media: { jitter_ms: -1 } }\n");
    assert!(
        found[0]
            .to_string()
            .contains("media.jitter_ms is -1; allowed 0 or more"),
        "{}",
        found[0]
    );
    let found = issues("faults:\n  - at: 1m\n    apply: { kind: faults, media: { los_pct: 1 } }\n");
    assert!(found[0].to_string().contains("los_pct"), "{}", found[0]);
}
