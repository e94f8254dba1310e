//! Checks of what lktop printed or reported, for the tests that read its words.

/// Asserts that `text` says each of `parts`, showing the whole text when one is missing.
#[track_caller]
pub fn assert_says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} is missing from:\n{text}");
    }
}
