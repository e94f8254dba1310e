//! lktop's own Twirp calls: to the `RoomService`, for the places where `RoomClient` cannot be
//! trusted (answers it would panic on, errors whose HTTP status it throws away) and for
//! the calls the poller and the health checks make all the time (`ListRooms`,
//! `ListParticipants`): `RoomClient` signs a fresh token and parses the server URL again on
//! every call, while this client reuses the server's tokens (`tokens`) for a few minutes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_protocol as proto;
use prost::Message;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::direct::{Answer, DirectClient};
use super::error::{
    ApiError, ApiErrorKind, BuildError, ClockSkew, describe_transport, kind_for_non_twirp_status,
    retry_after, sanitize_server_text, server_date,
};
use super::tokens::{TOKEN_TTL, TokenCache, TokenScope};

/// The Twirp services lktop calls, as named in the URL path (`/twirp/{service}/{method}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Service {
    Room,
    Egress,
    Ingress,
    AgentDispatch,
}

impl Service {
    fn path(self) -> &'static str {
        match self {
            Self::Room => "/twirp/livekit.RoomService",
            Self::Egress => "/twirp/livekit.Egress",
            Self::Ingress => "/twirp/livekit.Ingress",
            Self::AgentDispatch => "/twirp/livekit.AgentDispatchService",
        }
    }
}
const USER_AGENT_VALUE: &str = concat!("lktop/", env!("CARGO_PKG_VERSION"));

/// Enough of an error body to hold any Twirp error JSON a server sends.
const ERROR_BODY_LIMIT: usize = 16 * 1024;
/// A diagnostic only needs the start of the body: the first line of a text/plain error or the
/// title of an HTML page. livekit-server's 401 for a token it refuses echoes the whole token
/// (a few hundred bytes) before saying why, and the why tells a clock skew from a wrong secret.
const PROBE_BODY_LIMIT: usize = 1024;
/// How much server text an error message shows.
const SHOWN_TEXT_CHARS: usize = 200;

/// A room name no one creates, so the diagnostic `ListRooms` is cheap at any number of rooms.
const PROBE_ROOM: &str = "lktop-diagnostic-probe";

/// Status and start of the body of the diagnostic `ListRooms`, and what its headers add.
pub(super) struct ProbeAnswer {
    pub(crate) status: u16,
    /// Sanitized and bounded: safe to show.
    pub(crate) text: String,
    /// The wait its `Retry-After` asked for.
    pub(crate) retry_after: Option<Duration>,
    /// A 401 for the token's times, with the server's clock from its `Date`.
    pub(crate) clock_skew: Option<ClockSkew>,
}

/// What a call's token grants.
pub(super) enum Grants {
    /// A grant set lktop calls with all the time: signed once and reused (see `tokens`).
    Reused(TokenScope),
    /// Signed for this call alone.
    Once(VideoGrants),
}

pub(super) struct TwirpClient {
    /// The server's calls when no proxy applies to it; `http` otherwise.
    direct: Option<DirectClient>,
    http: reqwest::Client,
    base: reqwest::Url,
    endpoint: String,
    api_key: String,
    api_secret: SecretString,
    request_timeout: Duration,
    /// The server's reusable tokens, shared with its other connections.
    tokens: Arc<TokenCache>,
}

#[derive(Deserialize)]
struct TwirpErrorBody {
    code: String,
    #[serde(default)]
    msg: String,
}

impl TwirpClient {
    /// `base` must already be a normalized `http(s)://host[:port]` URL; `endpoint` is how it
    /// is shown in errors.
    pub(super) fn new(
        base: reqwest::Url,
        endpoint: String,
        api_key: &str,
        api_secret: &SecretString,
        request_timeout: Duration,
        tokens: Arc<TokenCache>,
    ) -> Result<Self, BuildError> {
        let uri: http::Uri = base
            .as_str()
            .parse()
            .map_err(|err: http::uri::InvalidUri| BuildError::HttpClient(err.to_string()))?;
        Ok(Self {
            direct: DirectClient::for_server(&uri, tls_config()?),
            http: build_http_client()?,
            base,
            endpoint,
            api_key: api_key.to_owned(),
            api_secret: api_secret.clone(),
            request_timeout,
            tokens,
        })
    }

    /// One call with a protobuf request and answer.
    pub(super) async fn call<Req, Resp>(
        &self,
        service: Service,
        method: &'static str,
        grants: Grants,
        request: &Req,
    ) -> Result<Resp, ApiError>
    where
        Req: Message,
        Resp: Message + Default,
    {
        let (authorization, reused) = match grants {
            Grants::Reused(scope) => {
                let header = self
                    .tokens
                    .get_or_sign(&scope, || self.authorization(method, scope.grants()))?;
                (header, Some(scope))
            }
            Grants::Once(grants) => (self.authorization(method, grants)?, None),
        };
        let answer = self
            .exchange(
                service,
                method,
                authorization,
                request.encode_to_vec(),
                ERROR_BODY_LIMIT,
            )
            .await?;
        let status = answer.status;
        if let Some(scope) = reused
            && status == 401
        {
            self.tokens.forget(&scope);
        }
        if status == 200 {
            return Resp::decode(answer.body).map_err(|err| {
                self.error(
                    method,
                    ApiErrorKind::Malformed,
                    Some(200),
                    format!("the answer does not decode: {err}"),
                )
            });
        }
        Err(self.error_from_answer(method, &answer))
    }

    /// A read-only `ListRooms` whose only purpose is to learn the HTTP status (and the first
    /// words) the server answers with right now. See `LiveKitRoomApi::diagnose_lost_status`.
    pub(super) async fn probe(&self) -> Result<ProbeAnswer, ApiError> {
        let request = proto::ListRoomsRequest {
            names: vec![PROBE_ROOM.to_owned()],
        };
        let grants = VideoGrants {
            room_list: true,
            ..VideoGrants::default()
        };
        let authorization = self.authorization("ListRooms", grants)?;
        let answer = self
            .exchange(
                Service::Room,
                "ListRooms",
                authorization,
                request.encode_to_vec(),
                PROBE_BODY_LIMIT,
            )
            .await?;
        let text = describe_body(&answer.body);
        let now = SystemTime::now();
        Ok(ProbeAnswer {
            status: answer.status,
            retry_after: retry_after(&answer.headers, now),
            clock_skew: (answer.status == 401)
                .then(|| ClockSkew::recognise(&text, server_date(&answer.headers), now))
                .flatten(),
            text,
        })
    }

    /// One exchange: the status, and the whole body of a 200 or the first `error_body_limit`
    /// bytes of any other answer.
    async fn exchange(
        &self,
        service: Service,
        method: &'static str,
        authorization: HeaderValue,
        body: Vec<u8>,
        error_body_limit: usize,
    ) -> Result<Answer, ApiError> {
        if let Some(direct) = &self.direct {
            let uri = format!(
                "{}{}/{method}",
                self.base.as_str().trim_end_matches('/'),
                service.path()
            )
            .parse()
            .map_err(|err: http::uri::InvalidUri| {
                self.error(method, ApiErrorKind::Unreachable, None, err.to_string())
            })?;
            let headers = [
                (
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/protobuf"),
                ),
                (USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE)),
                (AUTHORIZATION, authorization),
            ];
            return direct
                .post(uri, headers, body, error_body_limit, self.request_timeout)
                .await
                .map_err(|(kind, detail)| self.error(method, kind, None, detail));
        }
        let response = self.send(service, method, authorization, body).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = if status == 200 {
            response
                .bytes()
                .await
                .map_err(|err| self.transport_error(method, err))?
        } else {
            read_prefix(response, error_body_limit).await.into()
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    async fn send(
        &self,
        service: Service,
        method: &'static str,
        authorization: HeaderValue,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, ApiError> {
        let mut url = self.base.clone();
        url.set_path(&format!("{}/{method}", service.path()));
        self.http
            .post(url)
            .header(CONTENT_TYPE, "application/protobuf")
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header(AUTHORIZATION, authorization)
            .timeout(self.request_timeout)
            .body(body)
            .send()
            .await
            .map_err(|err| self.transport_error(method, err))
    }

    fn authorization(
        &self,
        method: &'static str,
        grants: VideoGrants,
    ) -> Result<HeaderValue, ApiError> {
        let jwt = AccessToken::with_api_key(&self.api_key, self.api_secret.expose_secret())
            .with_ttl(TOKEN_TTL)
            .with_grants(grants)
            .to_jwt()
            .map_err(|err| {
                self.error(
                    method,
                    ApiErrorKind::Unauthenticated,
                    None,
                    format!("could not sign an access token: {err}"),
                )
            })?;
        let mut value = HeaderValue::from_str(&format!("Bearer {jwt}")).map_err(|_| {
            self.error(
                method,
                ApiErrorKind::Unauthenticated,
                None,
                "the signed access token is not a valid header value",
            )
        })?;
        // Keeps the token out of any debug output of the request.
        value.set_sensitive(true);
        Ok(value)
    }

    /// The error a non-200 answer stands for, with the wait its `Retry-After` asks for and,
    /// for a token refused for its times, the clock skew its `Date` shows.
    fn error_from_answer(&self, method: &'static str, answer: &Answer) -> ApiError {
        let (status, body) = (answer.status, &answer.body);
        let error = if let Some(twirp) = parse_twirp_error(body)
            && let Some(kind) = ApiErrorKind::from_twirp(&twirp.code, &twirp.msg)
        {
            self.error(method, kind, Some(status), describe_twirp(&twirp))
                .answered_by_server()
        } else {
            self.error(
                method,
                kind_for_non_twirp_status(status),
                Some(status),
                format!("HTTP {status}, not a Twirp error: {}", describe_body(body)),
            )
        };
        let now = SystemTime::now();
        let skew = (error.kind() == ApiErrorKind::Unauthenticated)
            .then(|| ClockSkew::recognise(error.message(), server_date(&answer.headers), now))
            .flatten();
        error
            .with_retry_after(retry_after(&answer.headers, now))
            .with_clock_skew(skew)
    }

    fn transport_error(&self, method: &'static str, err: reqwest::Error) -> ApiError {
        let (kind, detail) = describe_transport(err, self.request_timeout);
        self.error(method, kind, None, detail)
    }

    /// An error about `method` on this server; the one constructor both clients use.
    pub(super) fn error(
        &self,
        method: &'static str,
        kind: ApiErrorKind,
        status: Option<u16>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::new(method, kind, status, self.endpoint.clone(), message)
    }
}

/// Built the way livekit-api builds its own client, so lktop's raw calls see the same TLS
/// trust as `RoomClient`: rustls on ring (reqwest 0.13 would default to aws-lc-rs, and a
/// process holding both providers with no installed default fails every TLS config) with the
/// webpki roots. Also what tests use to speak raw HTTP to a server.
///
/// # Errors
/// rustls cannot set up its default protocol versions, or reqwest cannot build the client.
pub fn build_http_client() -> Result<reqwest::Client, BuildError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        // A redirect would turn the POST into a GET; the diagnosis wants to see the 3xx itself.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|err| BuildError::HttpClient(err.to_string()))
}

/// rustls on ring with the webpki roots: the TLS of every client lktop builds.
pub(super) fn tls_config() -> Result<rustls::ClientConfig, BuildError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| BuildError::HttpClient(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Reads at most `limit` bytes of the body. A body that breaks off part way still tells
/// something, and the status is already known, so a read error just ends the body.
async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let take = chunk.len().min(limit - body.len());
                body.extend_from_slice(&chunk[..take]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

fn parse_twirp_error(body: &[u8]) -> Option<TwirpErrorBody> {
    serde_json::from_slice(body).ok()
}

fn describe_twirp(twirp: &TwirpErrorBody) -> String {
    let code = sanitize_server_text(&twirp.code, SHOWN_TEXT_CHARS);
    let msg = sanitize_server_text(&twirp.msg, SHOWN_TEXT_CHARS);
    if msg.is_empty() {
        code
    } else {
        format!("{code}: {msg}")
    }
}

/// A Twirp error as `code: msg`, anything else as its first words; `(empty body)` when there
/// is nothing to show.
fn describe_body(body: &[u8]) -> String {
    if let Some(twirp) = parse_twirp_error(body) {
        return describe_twirp(&twirp);
    }
    let text = sanitize_server_text(&String::from_utf8_lossy(body), SHOWN_TEXT_CHARS);
    if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use livekit_sandbox::{Sandbox, SandboxOptions};

    use super::*;

    #[test]
    fn bodies_are_described_briefly() {
        assert_eq!(
            describe_body(br#"{"code":"not_found","msg":"requested room does not exist"}"#),
            "not_found: requested room does not exist"
        );
        assert_eq!(
            describe_body(b"invalid authorization token: signature is invalid\n"),
            "invalid authorization token: signature is invalid"
        );
        assert_eq!(describe_body(b""), "(empty body)");
        assert_eq!(describe_body(br#"{"error":"nope"}"#), r#"{"error":"nope"}"#);
    }

    #[tokio::test]
    async fn the_authorization_header_is_sensitive_when_signed_and_when_reused() {
        let secret = SecretString::from("twirp-test-secret-0123456789abcdef");
        let base = "http://127.0.0.1:7880";
        let client = TwirpClient::new(
            reqwest::Url::parse(base).unwrap(),
            base.to_owned(),
            "devkey",
            &secret,
            Duration::from_secs(1),
            Arc::new(TokenCache::new()),
        )
        .unwrap();
        let scope = TokenScope::RoomList;
        let signed = client
            .tokens
            .get_or_sign(&scope, || client.authorization("ListRooms", scope.grants()))
            .unwrap();
        let reused = client
            .tokens
            .get_or_sign(&scope, || -> Result<HeaderValue, ApiError> {
                panic!("the token is reused, not signed again")
            })
            .unwrap();
        for header in [signed, reused] {
            assert!(header.is_sensitive());
            // What http (and so reqwest's and hyper's own logs) print of a sensitive value.
            assert_eq!(format!("{header:?}"), "Sensitive");
        }
    }

    async fn call_with(client: &TwirpClient, scope: &TokenScope) -> Result<(), ApiError> {
        let grants = Grants::Reused(scope.clone());
        match scope {
            TokenScope::RoomList => client
                .call::<_, proto::ListRoomsResponse>(
                    Service::Room,
                    "ListRooms",
                    grants,
                    &proto::ListRoomsRequest::default(),
                )
                .await
                .map(drop),
            TokenScope::RoomAdmin(room) => client
                .call::<_, proto::ListParticipantsResponse>(
                    Service::Room,
                    "ListParticipants",
                    grants,
                    &proto::ListParticipantsRequest { room: room.clone() },
                )
                .await
                .map(drop),
            TokenScope::Recording => client
                .call::<_, proto::ListEgressResponse>(
                    Service::Egress,
                    "ListEgress",
                    grants,
                    &proto::ListEgressRequest::default(),
                )
                .await
                .map(drop),
            TokenScope::IngressAdmin => client
                .call::<_, proto::ListIngressResponse>(
                    Service::Ingress,
                    "ListIngress",
                    grants,
                    &proto::ListIngressRequest::default(),
                )
                .await
                .map(drop),
        }
    }

    #[tokio::test]
    async fn reused_tokens_are_shared_last_until_they_age_and_are_forgotten_after_a_401() {
        let secret = SecretString::from("twirp-test-secret-0123456789abcdef");
        let sandbox = Sandbox::start(SandboxOptions::new("devkey", &secret))
            .await
            .unwrap();
        let now = sandbox.clock().now_ms();
        sandbox
            .rooms()
            .lock()
            .unwrap()
            .create_room(
                &proto::CreateRoomRequest {
                    name: "standup".into(),
                    ..proto::CreateRoomRequest::default()
                },
                now,
            )
            .unwrap();
        let tokens = Arc::new(TokenCache::new());
        let connection = || {
            TwirpClient::new(
                reqwest::Url::parse(&sandbox.url()).unwrap(),
                sandbox.url(),
                "devkey",
                &secret,
                Duration::from_secs(5),
                Arc::clone(&tokens),
            )
            .unwrap()
        };
        let (first, second) = (connection(), connection());
        tokio::time::timeout(Duration::from_secs(30), async {
            for scope in [
                TokenScope::RoomList,
                TokenScope::RoomAdmin("standup".into()),
            ] {
                call_with(&first, &scope).await.unwrap();
                let signed = tokens.reused_until(&scope).expect("a token is kept");
                call_with(&second, &scope).await.unwrap();
                assert_eq!(
                    tokens.reused_until(&scope),
                    Some(signed),
                    "{scope:?}: the other connection reuses it"
                );
                tokens.age(&scope);
                call_with(&first, &scope).await.unwrap();
                assert!(
                    tokens.reused_until(&scope).unwrap() > signed,
                    "{scope:?}: signed again"
                );
            }
            sandbox.set_api_secret(
                "devkey",
                SecretString::from("rotated-secret-0123456789abcdef"),
            );
            for scope in [
                TokenScope::RoomList,
                TokenScope::RoomAdmin("standup".into()),
            ] {
                let err = call_with(&second, &scope).await.unwrap_err();
                assert_eq!(err.kind(), ApiErrorKind::Unauthenticated, "{err}");
                assert_eq!(err.status(), Some(401), "{err}");
                assert_eq!(tokens.reused_until(&scope), None, "{scope:?}: forgotten");
            }
        })
        .await
        .expect("the calls finish");
        sandbox.shutdown().await;
    }
}
