//! Any text as the configuration file, through the loader `lktop` and `lktop check-config` use
//! (layering, positions, validation): a configuration or a list of problems, never a panic.
//!
//! What the loader accepts must also be what validation accepts, and must print without its
//! secret: `render_masked` checks that itself in a build with debug assertions, as this one is.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use lktop::config::{load_text, render_masked, validate};

fuzz_target!(|data: &[u8]| {
    // `lktop` reads the file with `read_to_string`; lossy decoding keeps every input useful.
    let text = String::from_utf8_lossy(data);
    // A path that does not exist: problems name it, and no file permission is looked at.
    let file = Path::new("fuzz-input/performance.yaml");
    match load_text(Some(file), Some(&text), &[]) {
        Ok(loaded) => {
            let problems = validate(&loaded.config);
            assert!(
                problems.is_empty(),
                "the loader accepted a configuration that validation refuses: {problems:?}"
            );
            let _ = render_masked(&loaded.config);
        }
        Err(err) => {
            assert!(
                !err.issues.is_empty(),
                "a refusal names at least one problem"
            );
            let _ = err.to_string();
        }
    }
});
