//! Any text as a sandbox scenario file, through `Scenario::from_yaml` (what `lktop sandbox
//! --scenario FILE` loads): a scenario or its problems, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use livekit_sandbox::scenario::{Scenario, ScenarioError};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Scenario::from_yaml(&text, "fuzz-input.yaml") {
        // What the simulation derives from a scenario it accepted.
        Ok(scenario) => {
            for room in &scenario.rooms {
                let _ = room.create_request();
                if let Some(surge) = &room.surge {
                    let _ = surge.span();
                }
            }
            for group in &scenario.dynamic_rooms {
                let _ = group.create_request(&group.room_name(u32::MAX));
            }
        }
        Err(err) => {
            assert!(
                matches!(err, ScenarioError::Decode(_)) || !err.issues().is_empty(),
                "a refused scenario names at least one problem"
            );
            let _ = err.to_string();
        }
    }
});
