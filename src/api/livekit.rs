//! [`RoomApi`] against a real server, through livekit-api's `RoomClient`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use livekit_api::access_token::VideoGrants;
use livekit_api::services::room::{self as lk_room, RoomClient};
use livekit_api::services::{ServerError, ServiceError};
use secrecy::{ExposeSecret, SecretString};

use super::error::{
    ApiError, ApiErrorKind, BuildError, ClockSkew, classify_probe_answer, describe_transport,
    is_undecodable_json, sanitize_server_text, twirp_code_status,
};
use super::room_api::{CreateRoomOptions, RoomApi, UpdateParticipantOptions};
use super::tokens::{TokenCache, TokenScope};
use super::twirp::{Grants, Service, TwirpClient};
use livekit_protocol as proto;

/// Room for the request timeout of reqwest to fire first and be classified properly; the outer
/// timeout only catches a call that hangs despite it.
const SAFETY_MARGIN: Duration = Duration::from_millis(500);

/// The `RoomService` of one server.
///
/// Holds its own HTTP connections: two values never share a keep-alive connection.
pub struct LiveKitRoomApi {
    endpoint: String,
    api_key: String,
    request_timeout: Duration,
    rooms: RoomClient,
    pub(super) twirp: TwirpClient,
}

impl LiveKitRoomApi {
    /// `url` is the server's `http(s)://` or `ws(s)://` URL, without a path: livekit-api
    /// replaces any path with `/twirp/...`, so a path prefix would be silently ignored.
    ///
    /// # Errors
    /// An unusable URL, an empty key or secret, a zero timeout, or an HTTP client that cannot
    /// be set up.
    pub fn new(
        url: &str,
        api_key: &str,
        api_secret: &SecretString,
        request_timeout: Duration,
    ) -> Result<Self, BuildError> {
        Self::sharing_tokens(url, api_key, api_secret, request_timeout, Arc::default())
    }

    /// As [`LiveKitRoomApi::new`], reusing the signed tokens in `tokens`: give every connection
    /// to one server the same cache (and only connections with the same key and secret).
    ///
    /// # Errors
    /// As [`LiveKitRoomApi::new`].
    pub fn sharing_tokens(
        url: &str,
        api_key: &str,
        api_secret: &SecretString,
        request_timeout: Duration,
        tokens: Arc<TokenCache>,
    ) -> Result<Self, BuildError> {
        let base = server_base_url(url)?;
        if api_key.is_empty() {
            return Err(BuildError::EmptyApiKey);
        }
        if api_secret.expose_secret().is_empty() {
            return Err(BuildError::EmptyApiSecret);
        }
        if request_timeout.is_zero() {
            return Err(BuildError::ZeroTimeout);
        }
        let endpoint = base.as_str().trim_end_matches('/').to_owned();
        // Built before the RoomClient: livekit-api builds an identical client but panics when
        // that fails, so a failure here turns its panic into an error.
        let twirp = TwirpClient::new(
            base,
            endpoint.clone(),
            api_key,
            api_secret,
            request_timeout,
            tokens,
        )?;
        let rooms = RoomClient::with_api_key(&endpoint, api_key, api_secret.expose_secret())
            .with_failover(false)
            .with_request_timeout(request_timeout);
        Ok(Self {
            endpoint,
            api_key: api_key.to_owned(),
            request_timeout,
            rooms,
            twirp,
        })
    }

    /// The server's base URL as shown in errors, e.g. `http://127.0.0.1:7880`.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Runs one call with the safety-net timeout and turns livekit-api's error into an
    /// [`ApiError`].
    async fn call<T>(
        &self,
        method: &'static str,
        call: impl Future<Output = Result<T, ServiceError>> + Send,
    ) -> Result<T, ApiError> {
        match self.bounded(method, Box::pin(call)).await? {
            Ok(value) => Ok(value),
            Err(err) => Err(Box::pin(self.classify(method, err)).await),
        }
    }

    pub(super) async fn bounded<T>(
        &self,
        method: &'static str,
        call: Pin<Box<dyn Future<Output = T> + Send + '_>>,
    ) -> Result<T, ApiError> {
        tokio::time::timeout(self.request_timeout + SAFETY_MARGIN, call)
            .await
            .map_err(|_| {
                self.twirp.error(
                    method,
                    ApiErrorKind::Timeout {
                        after: Some(self.request_timeout),
                    },
                    None,
                    "no answer within the request timeout; the call was abandoned",
                )
            })
    }

    async fn classify(&self, method: &'static str, err: ServiceError) -> ApiError {
        match err {
            ServiceError::Twirp(ServerError::Twirp(twirp)) => {
                let kind = ApiErrorKind::from_twirp(&twirp.code, &twirp.msg)
                    .unwrap_or(ApiErrorKind::Server);
                let status = twirp_code_status(&twirp.code);
                let code = sanitize_server_text(&twirp.code, 64);
                let msg = sanitize_server_text(&twirp.msg, 200);
                // RoomClient keeps no headers, so no Date to measure the skew by.
                let skew = (kind == ApiErrorKind::Unauthenticated)
                    .then(|| ClockSkew::recognise(&msg, None, SystemTime::now()))
                    .flatten();
                self.twirp
                    .error(method, kind, status, format!("{code}: {msg}"))
                    .answered_by_server()
                    .with_clock_skew(skew)
            }
            ServiceError::Twirp(ServerError::Prost(err)) => self.twirp.error(
                method,
                ApiErrorKind::Malformed,
                Some(200),
                format!("the answer does not decode: {err}"),
            ),
            ServiceError::Twirp(ServerError::Url(err)) => self.twirp.error(
                method,
                ApiErrorKind::Unreachable,
                None,
                format!("invalid server URL: {err}"),
            ),
            ServiceError::Twirp(ServerError::Request(err)) if is_undecodable_json(&err) => {
                self.diagnose_lost_status(method).await
            }
            ServiceError::Twirp(ServerError::Request(err)) => {
                let (kind, detail) = describe_transport(err, self.request_timeout);
                self.twirp.error(method, kind, None, detail)
            }
            ServiceError::AccessToken(err) => self.twirp.error(
                method,
                ApiErrorKind::Unauthenticated,
                None,
                format!("could not sign an access token: {err}"),
            ),
            ServiceError::Env(err) => self.twirp.error(
                method,
                ApiErrorKind::Unauthenticated,
                None,
                format!("credentials from the environment: {err}"),
            ),
        }
    }

    /// `RoomClient` parses every non-200 body as Twirp JSON; when the body is something else
    /// (an HTML 502 page from a proxy, the real server's text/plain 401 "invalid authorization
    /// token" for a wrong secret) all it returns is a body-decoding error, with the HTTP status
    /// gone. Without the status lktop could not tell a wrong secret from a broken proxy, so it
    /// asks the same server once more, with a read-only call of its own that keeps the status.
    async fn diagnose_lost_status(&self, method: &'static str) -> ApiError {
        let preamble = format!("the server answered {method} with a non-Twirp error body");
        match self.bounded(method, Box::pin(self.twirp.probe())).await {
            Ok(Ok(answer)) => {
                let (kind, status) = classify_probe_answer(answer.status);
                let message = if status.is_some() {
                    format!("HTTP {}: {}", answer.status, answer.text)
                } else {
                    format!(
                        "{preamble}; a diagnostic ListRooms answered HTTP {}: {}",
                        answer.status, answer.text
                    )
                };
                self.twirp
                    .error(method, kind, status, message)
                    .with_retry_after(answer.retry_after)
                    .with_clock_skew(answer.clock_skew)
            }
            Ok(Err(probe_err)) | Err(probe_err) => self.twirp.error(
                method,
                probe_err.kind(),
                probe_err.status(),
                format!(
                    "{preamble}; a diagnostic ListRooms then failed: {}",
                    probe_err.message()
                ),
            ),
        }
    }
}

impl fmt::Debug for LiveKitRoomApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveKitRoomApi")
            .field("url", &self.endpoint)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

pub(super) fn room_admin(room: &str) -> VideoGrants {
    VideoGrants {
        room_admin: true,
        room: room.to_owned(),
        ..VideoGrants::default()
    }
}

impl RoomApi for LiveKitRoomApi {
    // Not through RoomClient: the poller and the health checks call it all the time, and
    // lktop's own call reuses one token where RoomClient signs one per call.
    async fn list_rooms(&self, names: Vec<String>) -> Result<Vec<proto::Room>, ApiError> {
        const METHOD: &str = "ListRooms";
        let request = proto::ListRoomsRequest { names };
        let response: proto::ListRoomsResponse = self
            .bounded(
                METHOD,
                Box::pin(self.twirp.call(
                    Service::Room,
                    METHOD,
                    Grants::Reused(TokenScope::RoomList),
                    &request,
                )),
            )
            .await??;
        Ok(response.rooms)
    }

    // Not through RoomClient either: the poller calls it for every room at every poll, and a
    // room's token is reused across the server's connections (`tokens`).
    async fn list_participants(&self, room: &str) -> Result<Vec<proto::ParticipantInfo>, ApiError> {
        const METHOD: &str = "ListParticipants";
        let request = proto::ListParticipantsRequest {
            room: room.to_owned(),
        };
        let response: proto::ListParticipantsResponse = self
            .bounded(
                METHOD,
                Box::pin(self.twirp.call(
                    Service::Room,
                    METHOD,
                    Grants::Reused(TokenScope::RoomAdmin(room.to_owned())),
                    &request,
                )),
            )
            .await??;
        Ok(response.participants)
    }

    async fn create_room(
        &self,
        name: &str,
        options: CreateRoomOptions,
    ) -> Result<proto::Room, ApiError> {
        let options = lk_room::CreateRoomOptions {
            empty_timeout: options.empty_timeout,
            departure_timeout: options.departure_timeout,
            max_participants: options.max_participants,
            metadata: options.metadata,
            ..lk_room::CreateRoomOptions::default()
        };
        self.call("CreateRoom", self.rooms.create_room(name, options))
            .await
    }

    async fn delete_room(&self, room: &str) -> Result<(), ApiError> {
        self.call("DeleteRoom", self.rooms.delete_room(room)).await
    }

    async fn update_room_metadata(
        &self,
        room: &str,
        metadata: &str,
    ) -> Result<proto::Room, ApiError> {
        self.call(
            "UpdateRoomMetadata",
            self.rooms.update_room_metadata(room, metadata),
        )
        .await
    }

    async fn remove_participant(&self, room: &str, identity: &str) -> Result<(), ApiError> {
        self.call(
            "RemoveParticipant",
            self.rooms.remove_participant(room, identity),
        )
        .await
    }

    // Not through RoomClient: it unwraps the answer's track and would panic on a server that
    // omits it.
    async fn mute_published_track(
        &self,
        room: &str,
        identity: &str,
        track_sid: &str,
        muted: bool,
    ) -> Result<proto::TrackInfo, ApiError> {
        const METHOD: &str = "MutePublishedTrack";
        let request = proto::MuteRoomTrackRequest {
            room: room.to_owned(),
            identity: identity.to_owned(),
            track_sid: track_sid.to_owned(),
            muted,
        };
        let response: proto::MuteRoomTrackResponse = self
            .bounded(
                METHOD,
                Box::pin(self.twirp.call(
                    Service::Room,
                    METHOD,
                    Grants::Once(room_admin(room)),
                    &request,
                )),
            )
            .await??;
        response.track.ok_or_else(|| {
            self.twirp.error(
                METHOD,
                ApiErrorKind::Malformed,
                Some(200),
                "server answered MutePublishedTrack without the track",
            )
        })
    }

    async fn update_participant(
        &self,
        room: &str,
        identity: &str,
        options: UpdateParticipantOptions,
    ) -> Result<proto::ParticipantInfo, ApiError> {
        let options = lk_room::UpdateParticipantOptions {
            metadata: options.metadata,
            attributes: options.attributes,
            permission: options.permission,
            name: options.name,
        };
        self.call(
            "UpdateParticipant",
            self.rooms.update_participant(room, identity, options),
        )
        .await
    }
}

/// Turns a server URL (`ws(s)://` or `http(s)://`) into the `http(s)://host[:port]` base every
/// call is made against. The configuration validates URLs with this too, so a URL that passes
/// `check-config` is one the API layer accepts.
///
/// # Errors
/// A scheme other than ws, wss, http, https; credentials, a path, query or fragment; no host.
pub(crate) fn server_base_url(url: &str) -> Result<reqwest::Url, BuildError> {
    let parsed =
        reqwest::Url::parse(url.trim()).map_err(|err| BuildError::InvalidUrl(err.to_string()))?;
    let scheme = match parsed.scheme() {
        "http" | "ws" => "http",
        "https" | "wss" => "https",
        other => {
            return Err(BuildError::InvalidUrl(format!(
                "scheme {other:?} is not one of http, https, ws, wss"
            )));
        }
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Not echoing the URL: the password is in it.
        return Err(BuildError::InvalidUrl(
            "the URL must not carry a user name or password; the API key and secret authenticate"
                .to_owned(),
        ));
    }
    // Quoted with any secret parameter masked: the query may carry one.
    let shown = super::url_secrets::redacted_url(url);
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(BuildError::InvalidUrl(format!(
            "{shown:?} has a path, query or fragment; LiveKit's API lives at the server's root"
        )));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| BuildError::InvalidUrl(format!("{shown:?} has no host")))?;
    let base = match parsed.port() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    };
    reqwest::Url::parse(&base).map_err(|err| BuildError::InvalidUrl(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalize_to_http_bases() {
        let cases = [
            ("ws://localhost:7880", "http://localhost:7880/"),
            (
                "wss://example.livekit.cloud",
                "https://example.livekit.cloud/",
            ),
            ("wss://example.com:443/", "https://example.com/"),
            ("http://127.0.0.1:7880/", "http://127.0.0.1:7880/"),
            ("https://[::1]:7443", "https://[::1]:7443/"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                server_base_url(input).unwrap().as_str(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn unusable_urls_are_refused_without_echoing_credentials() {
        for bad in [
            "localhost:7880",
            "ftp://host",
            "http://host/prefix",
            "http://host/?a=b",
            "not a url",
        ] {
            assert!(server_base_url(bad).is_err(), "{bad}");
        }
        let err = server_base_url("https://user:hunter2-password@host").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
