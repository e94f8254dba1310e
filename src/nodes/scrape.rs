//! One GET of a livekit-server Prometheus endpoint, told apart the way an engineer needs it:
//! refused credentials, an error page from something else at that address, a body that is not
//! the exposition format, or the nodes it describes.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::health::SourceState;
use super::node_scrape::NodeScrape;

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

/// The GET of one scrape. reqwest's `basic_auth` marks the `Authorization` header it builds
/// sensitive, so its debug output and any log of the request print `Sensitive`, not the
/// password (a test below holds it to that).
fn request(
    http: &reqwest::Client,
    url: &str,
    auth: Option<&BasicAuth>,
    timeout: Duration,
) -> reqwest::RequestBuilder {
    let request = http
        .get(url)
        .timeout(timeout)
        // Prometheus asks for the text format by this header; an endpoint that can also
        // write protobuf or OpenMetrics then answers with the format this reader takes.
        .header(
            reqwest::header::ACCEPT,
            "text/plain;version=0.0.4;q=1,*/*;q=0.1",
        );
    match auth {
        Some(auth) => request.basic_auth(&auth.username, Some(auth.password.expose_secret())),
        None => request,
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
) -> Result<NodeScrape, ScrapeError> {
    let response = request(http, url, auth, timeout)
        .send()
        .await
        .map_err(|err| {
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
    NodeScrape::parse(text).map_err(ScrapeError::down)
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

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use http::{Response, StatusCode, header};
    use http_body_util::Full;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::nodes::rates::media_figures;

    const CAPTURED: &str = include_str!("../../tests/fixtures/livekit_node_metrics.txt");

    #[test]
    fn the_basic_auth_header_is_sensitive() {
        let auth = BasicAuth {
            username: "prom".to_owned(),
            password: SecretString::from("metrics-password-0123456789"),
        };
        let http = crate::api::build_http_client().unwrap();
        let request = request(
            &http,
            "http://127.0.0.1:6789/metrics",
            Some(&auth),
            Duration::from_secs(1),
        )
        .build()
        .expect("a valid request");
        let header = &request.headers()[header::AUTHORIZATION];
        assert!(header.is_sensitive());
        assert!(!format!("{request:?}").contains("cHJvbTpt"), "{request:?}");
    }
    const NODE: &str = "ND_9fKwP2mLq4Rz";

    /// A real HTTP listener on loopback answering with whatever `answer` holds now:
    /// (status, content type, body); it wants basic auth `prom:pass` when `auth` is set.
    async fn endpoint(
        answer: Arc<Mutex<(StatusCode, &'static str, String)>>,
        auth: bool,
        shutdown: &CancellationToken,
    ) -> String {
        let bound = crate::http_server::serve(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            "test metrics",
            guarded_listener::ListenerLimits::new(64 * 1024, 64),
            shutdown.clone(),
            move |request: http::Request<guarded_listener::GuardedBody>| {
                let answer = answer.lock().unwrap().clone();
                let authorized = request
                    .headers()
                    .get(header::AUTHORIZATION)
                    .is_some_and(|value| value == "Basic cHJvbTpwYXNz");
                async move {
                    let (status, kind, body) = if auth && !authorized {
                        (
                            StatusCode::UNAUTHORIZED,
                            "text/plain",
                            "Unauthorized\n".to_owned(),
                        )
                    } else {
                        answer
                    };
                    Response::builder()
                        .status(status)
                        .header(header::CONTENT_TYPE, kind)
                        .body(Full::new(Bytes::from(body)))
                        .unwrap()
                }
            },
        )
        .await
        .unwrap();
        format!("http://{bound}/metrics")
    }

    fn text_format(body: &str) -> Arc<Mutex<(StatusCode, &'static str, String)>> {
        Arc::new(Mutex::new((
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            body.to_owned(),
        )))
    }

    #[tokio::test]
    async fn a_captured_exposition_gives_every_family_and_a_restart_counts_from_zero() {
        let shutdown = CancellationToken::new();
        let answer = text_format(CAPTURED);
        let url = endpoint(Arc::clone(&answer), false, &shutdown).await;
        let http = crate::api::build_http_client().unwrap();
        let timeout = Duration::from_secs(5);
        let first = scrape(&http, &url, None, timeout).await.unwrap();
        let node = &first.nodes[NODE];
        assert_eq!(node.node_type.as_deref(), Some("SERVER"));
        assert_eq!(node.rooms, Some(9.0));
        assert_eq!(node.participants, Some(57.0));
        assert_eq!(node.tracks_published, Some(89.0));
        assert_eq!(
            node.join_failures,
            Some(7.0),
            "signal_failed 5 + rtc_failure 2"
        );
        assert_eq!(node.twirp_errors, Some(15.0));
        assert_eq!(node.rss_bytes, Some(743_247_872.0));
        assert!(node.rtt_ms.is_some() && node.jitter_us.is_some());

        // The server restarted: every counter starts again, smaller than before.
        let restarted: String = CAPTURED
            .lines()
            .map(|line| match line.rsplit_once(' ') {
                Some((series, value)) if series.starts_with("livekit_packet") => {
                    let value: f64 = value.parse().unwrap();
                    format!("{series} {}\n", (value / 100.0).round())
                }
                _ if line.starts_with("process_cpu_seconds_total") => {
                    "process_cpu_seconds_total 3\n".to_owned()
                }
                _ => format!("{line}\n"),
            })
            .collect();
        *answer.lock().unwrap() = text_format(&restarted).lock().unwrap().clone();
        let second = scrape(&http, &url, None, timeout).await.unwrap();
        let figures = media_figures(node, &second.nodes[NODE], Duration::from_secs(10));
        let loss = figures.packet_loss_pct.unwrap();
        // 80 lost of 11,373 received since the restart.
        assert!((loss - 0.698).abs() < 0.01, "{loss}");
        assert_eq!(
            figures.cpu_pct,
            Some(30.0),
            "3 s of CPU in 10 s since the restart"
        );
        shutdown.cancel();
    }

    #[tokio::test]
    async fn refusals_error_pages_and_foreign_metrics_are_told_apart() {
        let shutdown = CancellationToken::new();
        let http = crate::api::build_http_client().unwrap();
        let timeout = Duration::from_secs(5);

        let guarded = endpoint(text_format(CAPTURED), true, &shutdown).await;
        let refused = scrape(&http, &guarded, None, timeout).await.unwrap_err();
        assert_eq!(refused.state, SourceState::Unauthenticated, "{refused:?}");
        assert!(refused.message.contains("metrics_username"), "{refused:?}");
        let auth = BasicAuth {
            username: "prom".into(),
            password: SecretString::from("pass"),
        };
        assert!(scrape(&http, &guarded, Some(&auth), timeout).await.is_ok());
        assert!(!format!("{auth:?}").contains("pass\""), "{auth:?}");

        let html = Arc::new(Mutex::new((
            StatusCode::OK,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><body>Grafana</body></html>".to_owned(),
        )));
        let page = endpoint(html, false, &shutdown).await;
        let error = scrape(&http, &page, None, timeout).await.unwrap_err();
        assert!(error.message.contains("HTML page"), "{error:?}");

        let gateway = Arc::new(Mutex::new((
            StatusCode::BAD_GATEWAY,
            "text/plain",
            "upstream down".to_owned(),
        )));
        let proxy = endpoint(gateway, false, &shutdown).await;
        let error = scrape(&http, &proxy, None, timeout).await.unwrap_err();
        assert_eq!(error.state, SourceState::Down);
        assert!(error.message.contains("502"), "{error:?}");

        let node_exporter = endpoint(
            text_format("# TYPE node_load1 gauge\nnode_load1 0.5\n"),
            false,
            &shutdown,
        )
        .await;
        let error = scrape(&http, &node_exporter, None, timeout)
            .await
            .unwrap_err();
        assert!(error.message.contains("not livekit-server's"), "{error:?}");

        let missing_family = CAPTURED
            .lines()
            .filter(|line| !line.contains("livekit_room_total"))
            .collect::<Vec<_>>()
            .join("\n");
        let partial = endpoint(text_format(&missing_family), false, &shutdown).await;
        let nodes = scrape(&http, &partial, None, timeout).await.unwrap();
        assert_eq!(nodes.nodes[NODE].rooms, None, "unknown, not 0");
        assert_eq!(nodes.nodes[NODE].participants, Some(57.0));

        let closed = "http://127.0.0.1:9/metrics";
        let error = scrape(&http, closed, None, timeout).await.unwrap_err();
        assert_eq!(error.state, SourceState::Down, "{error:?}");
        shutdown.cancel();
    }
}
