//! Failed HTTP exchanges, with no usable answer: which kind of failure the error chain of
//! reqwest, hyper, rustls and the OS says it was, and its words for an operator.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use super::kind::ApiErrorKind;

/// Classifies a failed HTTP exchange (no usable answer) and describes it for an operator.
pub(crate) fn describe_transport(
    err: reqwest::Error,
    request_timeout: Duration,
) -> (ApiErrorKind, String) {
    // The URL is already in ApiError's Display; keeping it here would print it twice.
    let err = err.without_url();
    let mut detail = chain_text(&err);
    let kind = classify_transport(&err, request_timeout, &detail);
    if answered_in_plain_http(&err) {
        detail.push_str("; ");
        detail.push_str(PLAIN_HTTP_HINT);
    }
    (kind, detail)
}

/// The same for an exchange of lktop's direct transport (hyper-util's client, `api::direct`):
/// `connect` says the connection could not be made.
pub(crate) fn describe_direct_transport(
    err: &(dyn StdError + 'static),
    connect: bool,
    request_timeout: Duration,
) -> (ApiErrorKind, String) {
    let mut detail = chain_text(err);
    let kind = kind_from_source_chain(err, request_timeout)
        .or_else(|| connect.then_some(ApiErrorKind::Unreachable))
        .or_else(|| kind_from_text(&detail, request_timeout))
        .unwrap_or(ApiErrorKind::Unreachable);
    if answered_in_plain_http(err) {
        detail.push_str("; ");
        detail.push_str(PLAIN_HTTP_HINT);
    }
    (kind, detail)
}

/// Said when a `https://` or `wss://` URL reaches a server without TLS.
const PLAIN_HTTP_HINT: &str = "the server speaks plain HTTP; use http:// or ws://";

/// True when the TLS handshake got bytes that are not TLS at all: a plain HTTP server
/// answering the `ClientHello` with an HTTP error, which rustls reports only as a corrupt message
/// of type `InvalidContentType` (an `H` where a record type belongs).
fn answered_in_plain_http(err: &(dyn StdError + 'static)) -> bool {
    // io::Error's source() skips the error it wraps (and that one may be an io::Error
    // wrapping rustls's), so the wrapped errors are followed as well as the sources.
    let mut pending = vec![err];
    while let Some(err) = pending.pop() {
        if let Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) =
            err.downcast_ref::<rustls::Error>()
        {
            return true;
        }
        if let Some(wrapped) = err.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            pending.push(wrapped);
        }
        pending.extend(err.source());
    }
    false
}

/// True when reqwest got a whole body but it was not the JSON asked for. reqwest 0.13 reports a
/// body that broke off part way as a decode error too, so the kind alone cannot tell a
/// non-Twirp error page from a dropped connection; the JSON parser's error in the chain can.
pub(crate) fn is_undecodable_json(err: &reqwest::Error) -> bool {
    if !err.is_decode() {
        return false;
    }
    let mut current = err.source();
    while let Some(err) = current {
        if err.is::<serde_json::Error>() {
            return true;
        }
        current = err.source();
    }
    false
}

fn classify_transport(
    err: &reqwest::Error,
    request_timeout: Duration,
    detail: &str,
) -> ApiErrorKind {
    if err.is_timeout() {
        return ApiErrorKind::Timeout {
            after: Some(request_timeout),
        };
    }
    if let Some(kind) = kind_from_source_chain(err, request_timeout) {
        return kind;
    }
    if err.is_connect() || err.is_dns() {
        return ApiErrorKind::Unreachable;
    }
    kind_from_text(detail, request_timeout).unwrap_or(ApiErrorKind::Unreachable)
}

/// Looks through the wrapped errors for an I/O or hyper error whose kind says what happened.
fn kind_from_source_chain(
    err: &(dyn StdError + 'static),
    request_timeout: Duration,
) -> Option<ApiErrorKind> {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(io_err) = err.downcast_ref::<io::Error>() {
            match io_err.kind() {
                io::ErrorKind::ConnectionRefused => return Some(ApiErrorKind::ConnectionRefused),
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::BrokenPipe => return Some(ApiErrorKind::ConnectionReset),
                io::ErrorKind::TimedOut => {
                    return Some(ApiErrorKind::Timeout {
                        after: Some(request_timeout),
                    });
                }
                _ => {}
            }
        }
        if let Some(hyper_err) = err.downcast_ref::<hyper::Error>() {
            if hyper_err.is_timeout() {
                return Some(ApiErrorKind::Timeout {
                    after: Some(request_timeout),
                });
            }
            if hyper_err.is_incomplete_message()
                || hyper_err.is_canceled()
                || hyper_err.is_closed()
                || hyper_err.is_body_write_aborted()
            {
                return Some(ApiErrorKind::ConnectionReset);
            }
        }
        current = err.source();
    }
    None
}

/// Last resort for errors whose types lktop cannot see (a TLS library's private error wrapping
/// an I/O failure, say): the words are stable enough to be worth a guess.
fn kind_from_text(detail: &str, request_timeout: Duration) -> Option<ApiErrorKind> {
    let lower = detail.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if says(&["connection refused"]) {
        Some(ApiErrorKind::ConnectionRefused)
    } else if says(&[
        "connection reset",
        "connection closed",
        "connection aborted",
        "broken pipe",
        "incomplete message",
        "unexpected eof",
    ]) {
        Some(ApiErrorKind::ConnectionReset)
    } else if says(&["timed out", "timeout"]) {
        Some(ApiErrorKind::Timeout {
            after: Some(request_timeout),
        })
    } else {
        None
    }
}

/// Every message in the source chain, skipping ones an outer error already printed.
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut current = err.source();
    while let Some(err) = current {
        let message = err.to_string();
        if !message.is_empty() && !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        current = err.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    #[derive(Debug)]
    struct Wrapper(io::Error);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn io_kinds_deep_in_the_chain_classify() {
        let timeout = Duration::from_secs(1);
        let cases = [
            (
                io::ErrorKind::ConnectionRefused,
                Some(ApiErrorKind::ConnectionRefused),
            ),
            (
                io::ErrorKind::ConnectionReset,
                Some(ApiErrorKind::ConnectionReset),
            ),
            (
                io::ErrorKind::ConnectionAborted,
                Some(ApiErrorKind::ConnectionReset),
            ),
            (
                io::ErrorKind::UnexpectedEof,
                Some(ApiErrorKind::ConnectionReset),
            ),
            (
                io::ErrorKind::BrokenPipe,
                Some(ApiErrorKind::ConnectionReset),
            ),
            (
                io::ErrorKind::TimedOut,
                Some(ApiErrorKind::Timeout {
                    after: Some(timeout),
                }),
            ),
            (io::ErrorKind::PermissionDenied, None),
        ];
        for (io_kind, expected) in cases {
            let err = Wrapper(io::Error::new(io_kind, "boom"));
            assert_eq!(
                kind_from_source_chain(&err, timeout),
                expected,
                "{io_kind:?}"
            );
        }
    }

    #[test]
    fn text_fallback_recognises_common_wording() {
        let timeout = Duration::from_secs(1);
        assert_eq!(
            kind_from_text(
                "client error (SendRequest): connection closed before message completed",
                timeout
            ),
            Some(ApiErrorKind::ConnectionReset)
        );
        assert_eq!(
            kind_from_text(
                "tcp connect error: Connection refused (os error 111)",
                timeout
            ),
            Some(ApiErrorKind::ConnectionRefused)
        );
        assert_eq!(kind_from_text("invalid peer certificate", timeout), None);
    }

    #[test]
    fn a_tls_handshake_answered_in_plain_http_is_recognised_through_io_errors() {
        let not_tls = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        // As hyper-rustls hands it over: an io::Error wrapping an io::Error wrapping rustls's.
        let inner = io::Error::new(io::ErrorKind::InvalidData, not_tls);
        let wrapped = Wrapper(io::Error::other(inner));
        assert!(answered_in_plain_http(&wrapped));
        let other_tls = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidCcs);
        let wrapped = Wrapper(io::Error::new(io::ErrorKind::InvalidData, other_tls));
        assert!(!answered_in_plain_http(&wrapped));
        let refused = Wrapper(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert!(!answered_in_plain_http(&refused));
    }

    #[test]
    fn chain_text_skips_repeated_messages() {
        let err = Wrapper(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(chain_text(&err), "client error: refused");
    }
}
