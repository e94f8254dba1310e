//! lktop's direct transport for its own Twirp calls: hyper-util's HTTP/1 client with lktop's
//! rustls configuration, used whenever no proxy applies to the server.
//!
//! reqwest, which lktop uses everywhere else, wraps the same client in layers a Twirp POST to
//! a known URL does not need, and re-parses the request URL (IDNA included) from every
//! response: at tens of thousands of calls per second that was the largest single cost the
//! profile showed on lktop's side (`docs/benchmarks.md`, pool throughput). Calls that must go
//! through a proxy (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, as reqwest reads them) keep using
//! reqwest.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioExecutor;

use super::error::{ApiErrorKind, describe_direct_transport};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// An answer: its status, its headers and as much of its body as was asked for.
pub(super) struct Answer {
    pub(super) status: u16,
    /// For what an error answer adds: `Retry-After`, and the server's clock in `Date`.
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

/// One server's direct HTTP client: its own keep-alive connections, never shared.
pub(super) struct DirectClient {
    client: Client<Connector, Full<Bytes>>,
}

impl DirectClient {
    /// A client for `base`, or `None` when a proxy of the environment applies to it (the
    /// caller then uses reqwest, which speaks to proxies).
    pub(super) fn for_server(base: &Uri, tls: rustls::ClientConfig) -> Option<Self> {
        Self::unless_proxied(base, tls, &Matcher::from_env())
    }

    fn unless_proxied(base: &Uri, tls: rustls::ClientConfig, proxies: &Matcher) -> Option<Self> {
        if proxies.intercept(base).is_some() {
            return None;
        }
        let mut http = HttpConnector::new();
        // As reqwest sets it: a Twirp request is one small write that must not wait.
        http.set_nodelay(true);
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Some(Self { client })
    }

    /// POSTs `body` to `uri` and reads the answer, at most `body_limit` bytes of it when the
    /// status is not 200 (a diagnosis needs only its start); all of it within `timeout`.
    pub(super) async fn post(
        &self,
        uri: Uri,
        headers: [(header::HeaderName, HeaderValue); 3],
        body: Vec<u8>,
        body_limit: usize,
        timeout: Duration,
    ) -> Result<Answer, (ApiErrorKind, String)> {
        let exchange = async {
            let mut request = Request::post(uri);
            if let Some(map) = request.headers_mut() {
                for (name, mut value) in headers {
                    // Marked here too, where it is sent, so no caller can forget it: hyper's
                    // and http's debug output then print `Sensitive`, not the token.
                    if name == header::AUTHORIZATION {
                        value.set_sensitive(true);
                    }
                    map.insert(name, value);
                }
            }
            let request = request
                .body(Full::new(Bytes::from(body)))
                .map_err(|err| (ApiErrorKind::Unreachable, err.to_string()))?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| describe_direct_transport(&err, err.is_connect(), timeout))?;
            let (head, body) = response.into_parts();
            let status = head.status.as_u16();
            let limit = if status == 200 {
                usize::MAX
            } else {
                body_limit
            };
            let body = read_body(body, limit, status == 200, timeout).await?;
            Ok(Answer {
                status,
                headers: head.headers,
                body,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err((
                ApiErrorKind::Timeout {
                    after: Some(timeout),
                },
                "operation timed out".to_owned(),
            )),
        }
    }
}

/// Reads up to `limit` bytes. A body that breaks off is an error when the whole body is
/// needed (`whole`); otherwise what came before still tells something.
async fn read_body(
    mut body: hyper::body::Incoming,
    limit: usize,
    whole: bool,
    timeout: Duration,
) -> Result<Bytes, (ApiErrorKind, String)> {
    let mut read = BytesMut::new();
    while read.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let take = data.len().min(limit - read.len());
                    read.extend_from_slice(&data[..take]);
                }
            }
            Some(Err(err)) if whole => {
                return Err(describe_direct_transport(&err, false, timeout));
            }
            Some(Err(_)) | None => break,
        }
    }
    Ok(read.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls() -> rustls::ClientConfig {
        super::super::twirp::tls_config().expect("rustls builds")
    }

    #[test]
    fn a_server_behind_a_proxy_is_left_to_reqwest() {
        let base: Uri = "https://lk.example.com".parse().unwrap();
        let proxied = Matcher::builder().all("http://proxy.internal:3128").build();
        assert!(DirectClient::unless_proxied(&base, tls(), &proxied).is_none());
        let excepted = Matcher::builder()
            .all("http://proxy.internal:3128")
            .no("lk.example.com")
            .build();
        assert!(DirectClient::unless_proxied(&base, tls(), &excepted).is_some());
        let none = Matcher::builder().build();
        assert!(DirectClient::unless_proxied(&base, tls(), &none).is_some());
    }
}
