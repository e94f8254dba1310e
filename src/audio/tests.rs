use proptest::prelude::*;

use super::*;
use crate::config::{AudioProfile, BUFFER_SIZE_MS, JITTER_BUFFER_MS, TARGET_LATENCY_MS};

const LIMIT: usize = 512 * 1024;

fn profile() -> AudioProfile {
    AudioProfile {
        target_latency_ms: 40,
        buffer_size_ms: 10,
        jitter_buffer_ms: 60,
        echo_cancellation: true,
        noise_suppression: false,
        auto_gain_control: true,
    }
}

const PROFILE_JSON: &str = r#"{"target_latency_ms":40,"buffer_size_ms":10,"jitter_buffer_ms":60,"echo_cancellation":true,"noise_suppression":false,"auto_gain_control":true}"#;

#[test]
fn merge_into_empty_metadata() {
    let merged = merge_profile("", &profile(), LIMIT).expect("merges");
    assert_eq!(
        merged,
        format!(r#"{{"audio_optimization":{PROFILE_JSON}}}"#)
    );
    assert_eq!(
        merge_profile("  \n", &profile(), LIMIT).expect("merges"),
        merged
    );
}

#[test]
fn merge_keeps_other_keys_in_their_order() {
    let existing = r#"{"zeta":1, "alpha":{"y":[1,2,{"b":null,"a":"x"}],"x":true}, "mid":"text"}"#;
    let merged = merge_profile(existing, &profile(), LIMIT).expect("merges");
    assert_eq!(
        merged,
        format!(
            r#"{{"zeta":1,"alpha":{{"y":[1,2,{{"b":null,"a":"x"}}],"x":true}},"mid":"text","audio_optimization":{PROFILE_JSON}}}"#
        )
    );
}

#[test]
fn merge_replaces_an_existing_profile_in_place() {
    let existing =
        r#"{"a":1,"audio_optimization":{"target_latency_ms":999},"b":2,"audio_optimization":3}"#;
    let merged = merge_profile(existing, &profile(), LIMIT).expect("merges");
    assert_eq!(
        merged,
        format!(r#"{{"a":1,"audio_optimization":{PROFILE_JSON},"b":2}}"#)
    );
    assert_eq!(read_profile(&merged), Ok(Some(profile())));
}

#[test]
fn merge_keeps_the_value_of_every_number() {
    // Found by the `metadata_merge` fuzz target: serde_json's default float parsing is not
    // exact, so a long number came back as a neighbouring f64 and every merge moved a value
    // that belongs to someone else. The `float_roundtrip` feature makes parsing exact.
    let existing = r#"{"big":108446744073709551616,"pi":3.14159265358979323846,"tiny":5e-324}"#;
    let merged = merge_profile(existing, &profile(), LIMIT).expect("merges");
    let numbers: serde_json::Value = serde_json::from_str(&merged).expect("JSON");
    for (key, text) in [
        ("big", "108446744073709551616"),
        ("pi", "3.14159265358979323846"),
        ("tiny", "5e-324"),
    ] {
        let exact: f64 = text.parse().expect("a number");
        assert_eq!(numbers[key].as_f64(), Some(exact), "{key}");
    }
    assert_eq!(
        merge_profile(&merged, &profile(), LIMIT).expect("merges"),
        merged,
        "merging again changes nothing"
    );
}

#[test]
fn merge_refuses_metadata_that_is_not_json() {
    let existing = "room for the weekly sync";
    let error = merge_profile(existing, &profile(), LIMIT).expect_err("refused");
    assert_eq!(error, AudioError::MetadataNotAnObject { found: "not JSON" });
    assert!(error.to_string().contains(
        "the room's metadata is not a JSON object (not JSON); lktop will not overwrite it"
    ));
    // Nothing to read or to clear either, and the text is left as it was.
    assert_eq!(read_profile(existing), Ok(None));
    assert_eq!(remove_profile(existing).as_deref(), Ok(existing));
}

#[test]
fn merge_refuses_json_that_is_not_an_object() {
    for (existing, found) in [
        (r#"[{"audio_optimization":1}]"#, "a JSON array"),
        (r#""text""#, "a JSON string"),
        ("42", "a JSON number"),
        ("null", "JSON null"),
        ("true", "a JSON boolean"),
    ] {
        assert_eq!(
            merge_profile(existing, &profile(), LIMIT),
            Err(AudioError::MetadataNotAnObject { found }),
            "{existing}"
        );
    }
}

#[test]
fn merge_refuses_a_result_over_the_size_limit() {
    let existing = format!(r#"{{"notes":"{}"}}"#, "x".repeat(400));
    let size = merge_profile(&existing, &profile(), LIMIT)
        .expect("fits")
        .len();
    assert!(merge_profile(&existing, &profile(), size).is_ok());
    let error = merge_profile(&existing, &profile(), size - 1).expect_err("too large");
    assert_eq!(
        error,
        AudioError::MetadataTooLarge {
            size,
            max_size: size - 1
        }
    );
    let message = error.to_string();
    assert!(message.contains(&size.to_string()) && message.contains(&(size - 1).to_string()));
}

#[test]
fn merge_refuses_a_profile_out_of_range() {
    let too_slow = AudioProfile {
        target_latency_ms: 5_000,
        ..profile()
    };
    assert_eq!(
        merge_profile("", &too_slow, LIMIT),
        Err(AudioError::InvalidProfile(ProfileProblem::OutOfRange {
            field: "target_latency_ms",
            value: 5_000,
            allowed: TARGET_LATENCY_MS,
        }))
    );
    let buffer_too_long = AudioProfile {
        target_latency_ms: 20,
        buffer_size_ms: 30,
        ..profile()
    };
    assert!(matches!(
        merge_profile("", &buffer_too_long, LIMIT),
        Err(AudioError::InvalidProfile(
            ProfileProblem::BufferLongerThanTarget { .. }
        ))
    ));
}

#[test]
fn read_back_round_trip() {
    let merged = merge_profile(r#"{"owner":"ops"}"#, &profile(), LIMIT).expect("merges");
    assert_eq!(read_profile(&merged), Ok(Some(profile())));
    assert_eq!(
        read_profile(&merge_profile("", &AudioProfile::default(), LIMIT).expect("merges")),
        Ok(Some(AudioProfile::default()))
    );
}

#[test]
fn read_finds_nothing_where_there_is_no_profile() {
    for metadata in ["", r#"{"owner":"ops"}"#, "plain text", "[1,2]"] {
        assert_eq!(read_profile(metadata), Ok(None), "{metadata}");
    }
}

#[test]
fn read_names_the_problem_with_a_malformed_profile() {
    let problem = |metadata: &str| match read_profile(metadata) {
        Err(AudioError::MalformedProfile { problem }) => problem,
        other => panic!("expected a malformed profile, got {other:?}"),
    };
    let out_of_range =
        PROFILE_JSON.replace(r#""jitter_buffer_ms":60"#, r#""jitter_buffer_ms":5000"#);
    assert_eq!(
        problem(&format!(r#"{{"audio_optimization":{out_of_range}}}"#)),
        "jitter_buffer_ms = 5000 is out of range; allowed 0..=2000"
    );
    let missing = r#"{"audio_optimization":{"target_latency_ms":40}}"#;
    assert!(problem(missing).contains("missing field `buffer_size_ms`"));
    let wrong_type = PROFILE_JSON.replace(
        r#""echo_cancellation":true"#,
        r#""echo_cancellation":"yes""#,
    );
    assert!(
        problem(&format!(r#"{{"audio_optimization":{wrong_type}}}"#))
            .starts_with("echo_cancellation: invalid type")
    );
    assert_eq!(
        problem(r#"{"audio_optimization":"on"}"#),
        "it is a JSON string, not an object"
    );
    let message = read_profile(missing).expect_err("malformed").to_string();
    assert!(message.starts_with("the room's `audio_optimization` entry is malformed: "));
}

#[test]
fn read_ignores_unknown_profile_fields() {
    let extended = PROFILE_JSON.replace('}', r#","opus_dtx":true}"#);
    assert_eq!(
        read_profile(&format!(r#"{{"audio_optimization":{extended}}}"#)),
        Ok(Some(profile()))
    );
}

#[test]
fn remove_clears_only_the_profile() {
    let merged = merge_profile(r#"{"a":1,"b":[2]}"#, &profile(), LIMIT).expect("merges");
    assert_eq!(remove_profile(&merged).as_deref(), Ok(r#"{"a":1,"b":[2]}"#));
    let only_profile = merge_profile("", &profile(), LIMIT).expect("merges");
    assert_eq!(remove_profile(&only_profile).as_deref(), Ok(""));
    let untouched = r#"{ "a" : 1 }"#;
    assert_eq!(remove_profile(untouched).as_deref(), Ok(untouched));
    assert_eq!(remove_profile("").as_deref(), Ok(""));
}

#[test]
fn profiles_fall_back_to_the_default() {
    let mut profiles = AudioProfiles::new(AudioProfile::default()).expect("valid default");
    assert_eq!(profiles.profile_for("standup"), AudioProfile::default());
    assert_eq!(profiles.set_room("standup", profile()), Ok(None));
    assert_eq!(profiles.profile_for("standup"), profile());
    assert_eq!(profiles.profile_for("other"), AudioProfile::default());
    assert_eq!(
        profiles.overrides().collect::<Vec<_>>(),
        [("standup", profile())]
    );
    assert_eq!(profiles.clear_room("standup"), Some(profile()));
    assert_eq!(profiles.profile_for("standup"), AudioProfile::default());
    assert_eq!(profiles.clear_room("standup"), None);
}

#[test]
fn profiles_refuse_invalid_profiles_and_keep_the_old_one() {
    let invalid = AudioProfile {
        buffer_size_ms: 0,
        ..profile()
    };
    assert!(AudioProfiles::new(invalid).is_err());
    let mut profiles = AudioProfiles::default();
    assert!(profiles.set_default(invalid).is_err());
    assert_eq!(profiles.default_profile(), AudioProfile::default());
    profiles.set_room("r", profile()).expect("valid");
    assert!(profiles.set_room("r", invalid).is_err());
    assert_eq!(profiles.profile_for("r"), profile());
    profiles.set_default(profile()).expect("valid");
    assert_eq!(profiles.profile_for("elsewhere"), profile());
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn valid_profile() -> impl Strategy<Value = AudioProfile> {
    (
        TARGET_LATENCY_MS,
        any::<u32>(),
        JITTER_BUFFER_MS,
        any::<[bool; 3]>(),
    )
        .prop_map(|(target, buffer, jitter, [echo, noise, gain])| {
            let buffer_range = *BUFFER_SIZE_MS.start()..=target.min(*BUFFER_SIZE_MS.end());
            let span = buffer_range.end() - buffer_range.start() + 1;
            AudioProfile {
                target_latency_ms: target,
                buffer_size_ms: buffer_range.start() + buffer % span,
                jitter_buffer_ms: jitter,
                echo_cancellation: echo,
                noise_suppression: noise,
                auto_gain_control: gain,
            }
        })
}

proptest! {
    #[test]
    fn merge_keeps_every_other_key_and_reads_back(
        entries in proptest::collection::vec(("[^\"]{0,10}", json_value()), 0..8),
        profile in valid_profile(),
    ) {
        // Distinct keys other than ours, in generation order (not sorted).
        let mut seen = std::collections::HashSet::new();
        let entries: Vec<_> = entries
            .into_iter()
            .filter(|(key, _)| key != METADATA_KEY && seen.insert(key.clone()))
            .collect();
        let members: Vec<String> = entries
            .iter()
            .map(|(key, value)| {
                format!("{}:{}", serde_json::to_string(key).unwrap(), serde_json::to_string(value).unwrap())
            })
            .collect();
        let existing = format!("{{{}}}", members.join(","));

        let merged = merge_profile(&existing, &profile, LIMIT).expect("merges");

        let ours = format!(
            "{}:{}",
            serde_json::to_string(METADATA_KEY).unwrap(),
            serde_json::to_string(&profile).unwrap()
        );
        let expected: Vec<String> = members.iter().cloned().chain([ours]).collect();
        prop_assert_eq!(&merged, &format!("{{{}}}", expected.join(",")));
        let parsed: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&merged).expect("merged metadata is JSON");
        for (key, value) in &entries {
            prop_assert_eq!(parsed.get(key), Some(value));
        }
        prop_assert_eq!(read_profile(&merged), Ok(Some(profile)));
        prop_assert_eq!(remove_profile(&merged).expect("clears"), if members.is_empty() {
            String::new()
        } else {
            existing.clone()
        });
    }
}
