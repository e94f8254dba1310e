//! One GET of a livekit-server Prometheus endpoint, told apart the way an engineer needs it:
//! refused credentials, an error page from something else at that address, a body that is not
//! the exposition format, or the nodes it describes.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::exposition::Exposition;
use super::health::SourceState;
use super::node_counters::{NodeCounters, node_counters};

/// Larger than any livekit-server exposition (a busy node writes a few hundred KiB); a body
/// past this is not one.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Why a scrape gave no figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScrapeError {
    pub(crate) state: SourceState,
    pub(crate) message: String,
}

impl ScrapeError {
    fn down(message: String) -> Self {
        Self {
            state: SourceState::Down,
            message,
        }
    }
}

/// Basic auth of an endpoint (livekit-server's `prometheus.username` / `password`).
#[derive(Clone)]
pub(crate) struct BasicAuth {
    pub(crate) username: String,
    pub(crate) password: SecretString,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Reads `url` and reduces it to its nodes' counters.
///
/// # Errors
/// No answer within `timeout`, a refusal, an answer that is not livekit-server's metrics.
pub(crate) async fn scrape(
    http: &reqwest::Client,
    url: &str,
    auth: Option<&BasicAuth>,
    timeout: Duration,
) -> Result<BTreeMap<String, NodeCounters>, ScrapeError> {
    let mut request = http
        .get(url)
        .timeout(timeout)
        // Prometheus asks for the text format by this header; an endpoint that can also
        // write protobuf or OpenMetrics then answers with the format this reader takes.
        .header(
            reqwest::header::ACCEPT,
            "text/plain;version=0.0.4;q=1,*/*;q=0.1",
        );
    if let Some(auth) = auth {
        request = request.basic_auth(&auth.username, Some(auth.password.expose_secret()));
    }
    let response = request.send().await.map_err(|err| {
        let (kind, detail) = crate::api::describe_transport(err, timeout);
        ScrapeError::down(format!("{kind}: {detail}"))
    })?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(ScrapeError {
            state: SourceState::Unauthenticated,
            message: format!(
                "HTTP {status}: the endpoint refused the credentials; set metrics_username and \
                 metrics_password to livekit-server's prometheus.username and password"
            ),
        });
    }
    if !status.is_success() {
        return Err(ScrapeError::down(format!(
            "HTTP {status}: not livekit-server's metrics (check metrics_url's port and path)"
        )));
    }
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/html"));
    if html {
        return Err(ScrapeError::down(
            "answered with an HTML page, not metrics: is metrics_url livekit-server's \
             prometheus port and /metrics path?"
                .to_owned(),
        ));
    }
    let body = read_body(response).await.map_err(ScrapeError::down)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ScrapeError::down("the body is not UTF-8 text: not metrics".to_owned()))?;
    let exposition = Exposition::parse(text)
        .map_err(|err| ScrapeError::down(format!("not Prometheus text format: {err}")))?;
    node_counters(&exposition).map_err(ScrapeError::down)
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::with_capacity(
        usize::try_from(response.content_length().unwrap_or(0))
            .unwrap_or(0)
            .min(MAX_BODY),
    );
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| format!("the answer broke off: {err}"))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!(
                "the answer is larger than {} MiB: not livekit-server's metrics",
                MAX_BODY / (1024 * 1024)
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
