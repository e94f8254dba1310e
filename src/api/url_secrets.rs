//! Secrets written into a URL: credentials before the host (`http://key:secret@host`) and
//! parameters that carry one (`?api_secret=…`, `?access_token=…`, also after a `#`). A URL is
//! shown in errors, logs, events and on screen, so lktop refuses such a URL for a server and
//! never quotes one without masking what it carries.

use std::fmt;

/// What in a URL is shown as a mask; the configuration's own mask, so that every hidden value
/// looks the same.
const MASK: &str = "********";

/// Words in a parameter's name that make its value a secret, as APIs and proxies name them:
/// `api_secret`, `access_token`, `apiKey`, `password`, `sig`, `X-Amz-Signature`, `auth`.
const SECRET_PARAMETER_WORDS: [&str; 9] = [
    "secret",
    "token",
    "key",
    "password",
    "passwd",
    "pwd",
    "auth",
    "signature",
    "credential",
];

/// A secret a URL carries; never the secret's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlSecret {
    /// A user name, a password or both before the host.
    Credentials,
    /// A query (or fragment) parameter whose name says it holds a secret.
    Parameter(String),
}

impl fmt::Display for UrlSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Credentials => f.write_str("a user name or password before the host"),
            Self::Parameter(name) => write!(f, "the parameter `{name}`, which holds a secret"),
        }
    }
}

/// The first secret `text` carries as a URL, also when it is written without a scheme
/// (`key:secret@host:7880`, read as `http://` would read it).
pub(crate) fn secret_in_url(text: &str) -> Option<UrlSecret> {
    let (url, _) = parse_leniently(text)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Some(UrlSecret::Credentials);
    }
    let query = url.query_pairs();
    let fragment = url
        .fragment()
        .map(|fragment| url::form_urlencoded::parse(fragment.as_bytes()))
        .into_iter()
        .flatten();
    query
        .chain(fragment)
        .find(|(name, _)| is_secret_parameter(name))
        .map(|(name, _)| UrlSecret::Parameter(name.into_owned()))
}

/// `text` as it may be shown: credentials and secret parameters masked, the rest as written
/// (normalized by the URL parser). Text that does not parse as a URL may hold anything, so it
/// is masked whole when it looks like it could carry a secret (an `@`, a `?`, a `#`).
pub(crate) fn redacted_url(text: &str) -> String {
    let Some((mut url, added_scheme)) = parse_leniently(text) else {
        return if text.contains(['@', '?', '#']) {
            MASK.to_owned()
        } else {
            text.trim().to_owned()
        };
    };
    if secret_in_url(text).is_none() {
        return text.trim().to_owned();
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Fails only for URLs that cannot have credentials, which this one has.
        let _ = url.set_username(MASK);
        let _ = url.set_password(None);
    }
    let query = url.query().map(masked_parameters);
    url.set_query(query.as_deref());
    let fragment = url.fragment().map(masked_parameters);
    url.set_fragment(fragment.as_deref());
    let shown = url.to_string();
    match added_scheme {
        Some(scheme) => shown.strip_prefix(scheme).unwrap_or(&shown).to_owned(),
        None => shown,
    }
}

/// `text` with every secret removed: the URL to write instead (`http://host:7880`).
pub(crate) fn without_secrets(text: &str) -> Option<String> {
    let (mut url, added_scheme) = parse_leniently(text)?;
    url.set_username("").ok()?;
    url.set_password(None).ok()?;
    let kept = |parameters: &str| {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(parameters.as_bytes())
            .filter(|(name, _)| !is_secret_parameter(name))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        (!pairs.is_empty()).then(|| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        })
    };
    let query = url.query().and_then(kept);
    url.set_query(query.as_deref());
    let fragment = url.fragment().and_then(kept);
    url.set_fragment(fragment.as_deref());
    let clean = url.to_string();
    // `http://host:7880/` was written `http://host:7880`: the fix quotes it the same way.
    let clean = if text.trim().ends_with('/') {
        clean
    } else {
        clean.trim_end_matches('/').to_owned()
    };
    Some(match added_scheme {
        Some(scheme) => clean.strip_prefix(scheme).unwrap_or(&clean).to_owned(),
        None => clean,
    })
}

/// Every URL on `line` (a line of a file quoted under a problem) as [`redacted_url`] shows it.
pub(crate) fn redact_urls_in(line: &str) -> String {
    let separators = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '[' | ']');
    let mut shown = String::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        let word_end = rest.find(separators).unwrap_or(rest.len());
        let (word, after) = rest.split_at(word_end);
        // `url: http://…` splits after `url:`; a word that is only a key is left as it is.
        if !word.ends_with(':') && secret_in_url(word).is_some() {
            shown.push_str(&redacted_url(word));
        } else {
            shown.push_str(word);
        }
        let separator_end = after
            .char_indices()
            .find(|&(_, c)| !separators(c))
            .map_or(after.len(), |(at, _)| at);
        shown.push_str(&after[..separator_end]);
        rest = &after[separator_end..];
    }
    shown
}

/// `text` as a URL; one written without a scheme is read as `http://` would read it, and the
/// scheme added is returned so it can be taken off again.
fn parse_leniently(text: &str) -> Option<(url::Url, Option<&'static str>)> {
    const ADDED: &str = "http://";
    let text = text.trim();
    if text.contains("://") {
        return url::Url::parse(text).ok().map(|url| (url, None));
    }
    url::Url::parse(&format!("{ADDED}{text}"))
        .ok()
        .filter(|url| url.host_str().is_some_and(|host| !host.is_empty()))
        .map(|url| (url, Some(ADDED)))
}

fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMETER_WORDS
        .iter()
        .any(|word| name.contains(word))
        || name == "sig"
}

/// Query or fragment parameters with each secret's value masked.
fn masked_parameters(parameters: &str) -> String {
    let mut masked = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(parameters.as_bytes()) {
        let value = if is_secret_parameter(&name) {
            MASK.into()
        } else {
            value
        };
        masked.append_pair(&name, &value);
    }
    masked.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_secret_parameters_are_found_with_or_without_a_scheme() {
        for (text, found) in [
            (
                "http://devkey:hunter2@host:7880",
                Some(UrlSecret::Credentials),
            ),
            ("wss://hunter2@host", Some(UrlSecret::Credentials)),
            ("devkey:hunter2@host:7880", Some(UrlSecret::Credentials)),
            (
                "https://host?api_secret=hunter2",
                Some(UrlSecret::Parameter("api_secret".to_owned())),
            ),
            (
                "https://host/?room=a&access_token=ey.J",
                Some(UrlSecret::Parameter("access_token".to_owned())),
            ),
            (
                "host:7880?secret=hunter2",
                Some(UrlSecret::Parameter("secret".to_owned())),
            ),
            (
                "https://host/#access_token=hunter2",
                Some(UrlSecret::Parameter("access_token".to_owned())),
            ),
            (
                "https://host/?apiKey=x",
                Some(UrlSecret::Parameter("apiKey".to_owned())),
            ),
            ("https://host:7880", None),
            ("https://host/?room=a", None),
            ("ws://localhost:7880/", None),
            ("not a url", None),
        ] {
            assert_eq!(secret_in_url(text), found, "{text}");
        }
    }

    #[test]
    fn a_shown_url_keeps_everything_but_its_secrets() {
        for (text, shown) in [
            (
                "http://devkey:hunter2@host:7880",
                "http://********@host:7880/",
            ),
            (
                "https://host/?room=a&api_secret=hunter2",
                "https://host/?room=a&api_secret=********",
            ),
            ("devkey:hunter2@host:7880", "********@host:7880/"),
            (
                "https://host/#access_token=hunter2&x=1",
                "https://host/#access_token=********&x=1",
            ),
            ("https://host:7880", "https://host:7880"),
            ("::not a url?secret=hunter2", "********"),
            ("plain words", "plain words"),
        ] {
            assert_eq!(redacted_url(text), shown, "{text}");
        }
    }

    #[test]
    fn the_url_to_write_instead_has_no_secret_and_keeps_the_rest() {
        for (text, clean) in [
            ("http://devkey:hunter2@host:7880", "http://host:7880"),
            (
                "https://host/?room=a&api_secret=hunter2",
                "https://host/?room=a",
            ),
            ("https://host?secret=hunter2", "https://host"),
            ("devkey:hunter2@host:7880", "host:7880"),
        ] {
            assert_eq!(without_secrets(text).as_deref(), Some(clean), "{text}");
        }
    }

    #[test]
    fn a_quoted_line_shows_its_urls_masked_and_the_rest_as_written() {
        assert_eq!(
            redact_urls_in("    url: \"http://devkey:hunter2@host:7880\"  # staging"),
            "    url: \"http://********@host:7880/\"  # staging"
        );
        assert_eq!(
            redact_urls_in("  - url: https://host?api_secret=hunter2, name: a"),
            "  - url: https://host/?api_secret=********, name: a"
        );
        assert_eq!(redact_urls_in("  pool_size: 8"), "  pool_size: 8");
    }
}
