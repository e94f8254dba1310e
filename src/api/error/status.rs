//! Non-200 answers that carry no Twirp error (a proxy's page, a server that lost the status):
//! the status is all there is to classify them by.

use super::kind::ApiErrorKind;

/// Kind for a non-200 answer that carries no Twirp error: only the status is left to go on.
pub(crate) fn kind_for_non_twirp_status(status: u16) -> ApiErrorKind {
    match status {
        401 => ApiErrorKind::Unauthenticated,
        403 => ApiErrorKind::PermissionDenied,
        _ => ApiErrorKind::Server,
    }
}

/// Kind and status to report for a call whose non-Twirp error answer lost its status, judged
/// from the status of the diagnostic probe that followed it.
///
/// Only statuses that mean the same for any call (auth failures, a rate limit, server
/// failures) are carried over: another status belonged to the probe, not to the failed call.
pub(crate) fn classify_probe_answer(probe_status: u16) -> (ApiErrorKind, Option<u16>) {
    match probe_status {
        401 | 403 | 429 | 500..=599 => {
            (kind_for_non_twirp_status(probe_status), Some(probe_status))
        }
        _ => (ApiErrorKind::Server, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_twirp_statuses_classify() {
        assert_eq!(
            kind_for_non_twirp_status(401),
            ApiErrorKind::Unauthenticated
        );
        assert_eq!(
            kind_for_non_twirp_status(403),
            ApiErrorKind::PermissionDenied
        );
        assert_eq!(kind_for_non_twirp_status(502), ApiErrorKind::Server);
        assert_eq!(kind_for_non_twirp_status(404), ApiErrorKind::Server);
    }

    #[test]
    fn probe_answers_carry_only_call_independent_statuses() {
        assert_eq!(
            classify_probe_answer(401),
            (ApiErrorKind::Unauthenticated, Some(401))
        );
        assert_eq!(
            classify_probe_answer(403),
            (ApiErrorKind::PermissionDenied, Some(403))
        );
        assert_eq!(
            classify_probe_answer(502),
            (ApiErrorKind::Server, Some(502))
        );
        assert_eq!(
            classify_probe_answer(503),
            (ApiErrorKind::Server, Some(503))
        );
        assert_eq!(
            classify_probe_answer(429),
            (ApiErrorKind::Server, Some(429))
        );
        assert_eq!(classify_probe_answer(200), (ApiErrorKind::Server, None));
        assert_eq!(classify_probe_answer(404), (ApiErrorKind::Server, None));
    }
}
