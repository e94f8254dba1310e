//! The line of a file quoted under a problem with it, as lktop's file and `lk`'s are quoted:
//! never a line that may hold a secret (one that names a secret, a token or a password, such
//! as a YAML syntax error on `api_secret:`'s line), and any URL on it with what it carries
//! masked (`url: http://********@host`).

use crate::api::redact_urls_in;

/// Words that make a line too risky to quote: what it sets may be a secret.
const SECRET_WORDS: [&str; 4] = ["secret", "token", "password", "passwd"];

/// Line `line` (1-based) of `text`, trimmed at its end, if it may be shown.
pub(crate) fn echoed_line(text: &str, line: usize) -> Option<String> {
    let quoted = text.lines().nth(line.checked_sub(1)?)?;
    let lower = quoted.to_ascii_lowercase();
    if SECRET_WORDS.iter().any(|word| lower.contains(word)) {
        return None;
    }
    Some(redact_urls_in(quoted.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_naming_a_secret_is_not_quoted_and_urls_are_masked() {
        let text = "servers:\n  - api_secret: \"unterminated\n    url: http://k:hunter2@h:1\n";
        assert_eq!(echoed_line(text, 1).as_deref(), Some("servers:"));
        assert_eq!(echoed_line(text, 2), None);
        assert_eq!(
            echoed_line(text, 3).as_deref(),
            Some("    url: http://********@h:1/")
        );
        assert_eq!(echoed_line(text, 0), None);
        assert_eq!(echoed_line(text, 9), None);
    }
}
