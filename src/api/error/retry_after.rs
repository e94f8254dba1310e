//! `Retry-After` (RFC 9110, section 10.2.3): how long a server that is overloaded (429) or down
//! for a while (503) asks its clients to wait, as delta-seconds or as an HTTP-date.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::{DATE, RETRY_AFTER};

/// The wait an answer's `Retry-After` asks for, if it has one that parses.
///
/// An HTTP-date is measured from the answer's own `Date` when it has one: both are read off
/// the server's clock, so a server whose clock is off still asks for the wait it means. Without
/// `Date` it is measured from `now`. A date already past asks for no wait.
#[must_use]
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let until = httpdate::parse_http_date(value).ok()?;
    let from = server_date(headers).unwrap_or(now);
    Some(until.duration_since(from).unwrap_or(Duration::ZERO))
}

/// The answer's `Date`: the server's clock when it answered.
#[must_use]
pub(crate) fn server_date(headers: &HeaderMap) -> Option<SystemTime> {
    let value = headers.get(DATE)?.to_str().ok()?;
    httpdate::parse_http_date(value.trim()).ok()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(http::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn delta_seconds_and_http_dates_parse() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            retry_after(&headers(&[(RETRY_AFTER, "120")]), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(&headers(&[(RETRY_AFTER, " 0 ")]), now),
            Some(Duration::ZERO)
        );
        // Measured from `now` without a Date header...
        assert_eq!(
            retry_after(
                &headers(&[(RETRY_AFTER, "Sun, 06 Nov 1994 08:50:07 GMT")]),
                now
            ),
            Some(Duration::from_secs(30))
        );
        // ...and from the server's own Date with one, whatever this machine's clock says.
        let far_off = now + Duration::from_secs(3_600);
        assert_eq!(
            retry_after(
                &headers(&[
                    (RETRY_AFTER, "Sun, 06 Nov 1994 08:50:07 GMT"),
                    (DATE, "Sun, 06 Nov 1994 08:49:57 GMT"),
                ]),
                far_off
            ),
            Some(Duration::from_secs(10))
        );
        // A date already past asks for no wait.
        assert_eq!(
            retry_after(
                &headers(&[(RETRY_AFTER, "Sun, 06 Nov 1994 08:00:00 GMT")]),
                now
            ),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn absent_or_unreadable_values_ask_for_nothing() {
        let now = SystemTime::now();
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
        for value in ["-5", "soon", "1.5", "Sunday"] {
            assert_eq!(
                retry_after(&headers(&[(RETRY_AFTER, value)]), now),
                None,
                "{value}"
            );
        }
    }
}
