//! How `LiveKitRoomApi` classifies what a server (or the lack of one) does, against tiny HTTP
//! servers on 127.0.0.1 that answer every request with one canned response, and against the
//! faults, listener outages and restarts of the built-in sandbox.

#[path = "support/configs.rs"]
mod configs;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use configs::{SECRET, cut_answers, hung_requests, room_api, sandbox, slow_answers, unavailable};
use livekit_sandbox::Sandbox;
use livekit_sandbox::faults::Faults;
use lktop::api::{ApiError, ApiErrorKind, LiveKitRoomApi, RoomApi, proto};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

const TEST_BOUND: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// What the canned server does once it has read a request.
#[derive(Clone)]
enum Reply {
    /// Writes these bytes verbatim, then closes the connection.
    Raw(Vec<u8>),
    /// Never answers, holding the connection open.
    Silence,
}

#[derive(Debug, Clone)]
struct RecordedRequest {
    head: String,
    body: Vec<u8>,
}

impl RecordedRequest {
    fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or_default()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }
}

/// Serves until dropped.
struct CannedServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl CannedServer {
    async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let accept_loop = tokio::spawn(async move {
            // Owned by this task so that aborting it drops every connection task too.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                connections.spawn(serve_one(stream, reply.clone(), Arc::clone(&recorded)));
            }
        });
        Self {
            addr,
            requests,
            accept_loop,
        }
    }

    /// A server answering every request with `reply`, and lktop's client of it.
    async fn with_client(reply: Reply) -> (Self, LiveKitRoomApi) {
        let server = Self::start(reply).await;
        let api = room_api(&server.url(), REQUEST_TIMEOUT);
        (server, api)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn serve_one(
    mut stream: TcpStream,
    reply: Reply,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    requests.lock().unwrap().push(request);
    match reply {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Silence => std::future::pending::<()>().await,
    }
}

/// Reads one HTTP/1.1 request: the head up to the blank line, then `Content-Length` bytes.
async fn read_request(stream: &mut TcpStream) -> Option<RecordedRequest> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut request = RecordedRequest {
        head,
        body: Vec::new(),
    };
    let content_length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + content_length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    request.body = buffer[head_end..head_end + content_length].to_vec();
    Some(request)
}

fn http_response(status_line: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {status_line}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

fn twirp_error(status_line: &str, code: &str, msg: &str) -> Reply {
    let body = format!(r#"{{"code":"{code}","msg":"{msg}"}}"#);
    Reply::Raw(http_response(
        status_line,
        "application/json",
        body.as_bytes(),
    ))
}

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_BOUND, test)
        .await
        .expect("the test took longer than its bound")
}

/// The checks every failure must pass, whatever its kind.
fn assert_error(
    err: &ApiError,
    api: &LiveKitRoomApi,
    method: &str,
    kind: ApiErrorKind,
    status: Option<u16>,
) {
    let shown = format!("{err}");
    let debugged = format!("{err:?}");
    assert_eq!(err.kind(), kind, "{shown}");
    assert_eq!(err.status(), status, "{shown}");
    assert_eq!(err.method(), method, "{shown}");
    assert!(shown.starts_with(&format!("{method}: ")), "{shown}");
    assert!(shown.contains(api.endpoint()), "{shown}");
    for text in [&shown, &debugged, &format!("{api:?}")] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
        assert!(!text.contains("Bearer"), "authorization leaked: {text}");
        assert!(!text.contains("eyJ"), "token leaked: {text}");
    }
}

#[tokio::test]
async fn refused_connection() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let api = room_api(&format!("ws://{addr}"), REQUEST_TIMEOUT);

        let err = api.list_rooms(Vec::new()).await.unwrap_err();

        assert_error(
            &err,
            &api,
            "ListRooms",
            ApiErrorKind::ConnectionRefused,
            None,
        );
        assert!(err.is_transient());
        assert!(err.to_string().contains("connection refused"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn silent_server_times_out() {
    bounded(async {
        let server = CannedServer::start(Reply::Silence).await;
        let timeout = Duration::from_millis(300);
        let api = room_api(&server.url(), timeout);

        let err = api.list_participants("standup").await.unwrap_err();

        assert_error(
            &err,
            &api,
            "ListParticipants",
            ApiErrorKind::Timeout {
                after: Some(timeout),
            },
            None,
        );
        assert!(err.to_string().contains("timed out after 300ms"), "{err}");
    })
    .await;
}

/// A refused token and a token without the method's grant: livekit-server answers both with
/// `unauthenticated`, the second always with "permissions denied" (its `twirpAuthError`); the
/// key is good then, so it is a refused call, not rejected credentials.
#[tokio::test]
async fn twirp_unauthenticated_and_a_missing_grant() {
    bounded(async {
        for (msg, kind) in [
            (
                "invalid token: token is expired",
                ApiErrorKind::Unauthenticated,
            ),
            ("permissions denied", ApiErrorKind::PermissionDenied),
        ] {
            let (server, api) =
                CannedServer::with_client(twirp_error("401 Unauthorized", "unauthenticated", msg))
                    .await;

            let err = api.list_rooms(Vec::new()).await.unwrap_err();

            assert_error(&err, &api, "ListRooms", kind, Some(401));
            assert!(err.is_auth());
            assert!(err.message().contains(msg), "{err}");
            assert_eq!(server.requests().len(), 1, "a Twirp error needs no probe");
        }
    })
    .await;
}

#[tokio::test]
async fn plain_text_401_is_diagnosed_by_the_probe() {
    bounded(async {
        let server = CannedServer::start(Reply::Raw(http_response(
            "401 Unauthorized",
            "text/plain; charset=utf-8",
            b"invalid authorization token: go-jose/go-jose: error in cryptographic primitive\n",
        )))
        .await;
        let api = room_api(&server.url(), REQUEST_TIMEOUT);

        let err = api.delete_room("standup").await.unwrap_err();

        assert_error(
            &err,
            &api,
            "DeleteRoom",
            ApiErrorKind::Unauthenticated,
            Some(401),
        );
        assert!(
            err.message().contains("invalid authorization token"),
            "{err}"
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "the failed call, then exactly one probe");
        assert!(
            requests[1]
                .request_line()
                .starts_with("POST /twirp/livekit.RoomService/ListRooms "),
            "{:?}",
            requests[1]
        );
        assert_eq!(
            requests[1].header("content-type"),
            Some("application/protobuf")
        );
    })
    .await;
}

#[tokio::test]
async fn twirp_not_found_keeps_the_servers_words() {
    bounded(async {
        let (_server, api) = CannedServer::with_client(twirp_error(
            "404 Not Found",
            "not_found",
            "requested room does not exist",
        ))
        .await;

        let err = api.update_room_metadata("gone", "{}").await.unwrap_err();

        assert_error(
            &err,
            &api,
            "UpdateRoomMetadata",
            ApiErrorKind::NotFound,
            Some(404),
        );
        assert!(
            err.to_string().contains("requested room does not exist"),
            "{err}"
        );
        assert!(!err.is_transient() && !err.is_auth());
    })
    .await;
}

#[tokio::test]
async fn twirp_permission_denied() {
    bounded(async {
        let (_server, api) = CannedServer::with_client(twirp_error(
            "403 Forbidden",
            "permission_denied",
            "not allowed",
        ))
        .await;

        let err = api
            .remove_participant("standup", "alice")
            .await
            .unwrap_err();

        assert_error(
            &err,
            &api,
            "RemoveParticipant",
            ApiErrorKind::PermissionDenied,
            Some(403),
        );
        assert!(err.is_auth());
    })
    .await;
}

#[tokio::test]
async fn proxy_html_502_is_diagnosed_by_the_probe() {
    bounded(async {
        let page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        let (_server, api) = CannedServer::with_client(Reply::Raw(http_response(
            "502 Bad Gateway",
            "text/html",
            page,
        )))
        .await;

        let err = api.list_rooms(Vec::new()).await.unwrap_err();

        assert_error(&err, &api, "ListRooms", ApiErrorKind::Server, Some(502));
        assert!(err.is_transient());
        assert!(err.message().contains("502 Bad Gateway"), "{err}");
        assert!(!err.message().contains('<'), "tags should be stripped: {err}");
    })
    .await;
}

#[tokio::test]
async fn garbage_200_is_malformed() {
    bounded(async {
        let (_server, api) = CannedServer::with_client(Reply::Raw(http_response(
            "200 OK",
            "application/protobuf",
            b"this is not protobuf",
        )))
        .await;

        let err = api.list_rooms(Vec::new()).await.unwrap_err();

        assert_error(&err, &api, "ListRooms", ApiErrorKind::Malformed, Some(200));
    })
    .await;
}

#[tokio::test]
async fn answer_cut_short_is_a_reset() {
    bounded(async {
        let mut truncated =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/protobuf\r\nContent-Length: 100\r\n\r\n"
                .to_vec();
        truncated.extend_from_slice(b"\x0a\x03abc");
        let (_server, api) = CannedServer::with_client(Reply::Raw(truncated)).await;

        let err = api.list_rooms(Vec::new()).await.unwrap_err();

        assert_error(&err, &api, "ListRooms", ApiErrorKind::ConnectionReset, None);
        assert!(err.is_transient());
    })
    .await;
}

#[tokio::test]
async fn mute_answer_without_track_is_malformed_not_a_panic() {
    bounded(async {
        let (server, api) = CannedServer::with_client(Reply::Raw(http_response(
            "200 OK",
            "application/protobuf",
            b"",
        )))
        .await;

        let err = api
            .mute_published_track("standup", "alice", "TR_audio", true)
            .await
            .unwrap_err();

        assert_error(
            &err,
            &api,
            "MutePublishedTrack",
            ApiErrorKind::Malformed,
            Some(200),
        );
        assert!(
            err.message()
                .contains("server answered MutePublishedTrack without the track"),
            "{err}"
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let sent = proto::MuteRoomTrackRequest::decode(requests[0].body.as_slice()).unwrap();
        assert_eq!(
            sent,
            proto::MuteRoomTrackRequest {
                room: "standup".to_owned(),
                identity: "alice".to_owned(),
                track_sid: "TR_audio".to_owned(),
                muted: true,
            }
        );
    })
    .await;
}

#[tokio::test]
async fn list_rooms_round_trips_a_room() {
    bounded(async {
        let answer = proto::ListRoomsResponse {
            rooms: vec![proto::Room {
                name: "standup".to_owned(),
                num_participants: 3,
                ..proto::Room::default()
            }],
        };
        let (server, api) = CannedServer::with_client(Reply::Raw(http_response(
            "200 OK",
            "application/protobuf",
            &answer.encode_to_vec(),
        )))
        .await;

        let rooms = api.list_rooms(Vec::new()).await.unwrap();

        assert_eq!(rooms.len(), 1);
        assert_eq!(rooms[0].name, "standup");
        assert_eq!(rooms[0].num_participants, 3);
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert!(
            requests[0]
                .request_line()
                .starts_with("POST /twirp/livekit.RoomService/ListRooms "),
            "{:?}",
            requests[0]
        );
        assert!(
            requests[0]
                .header("authorization")
                .is_some_and(|v| v.starts_with("Bearer ")),
            "{:?}",
            requests[0]
        );
        assert!(!format!("{api:?}").contains(SECRET));
    })
    .await;
}

#[tokio::test]
async fn https_to_a_plain_http_server_says_to_use_http() {
    bounded(async {
        let sandbox = sandbox().await;
        let plain = sandbox.url();
        for url in [
            plain.replacen("http://", "https://", 1),
            plain.replacen("http://", "wss://", 1),
        ] {
            let api = room_api(&url, REQUEST_TIMEOUT);

            let err = api.list_rooms(Vec::new()).await.unwrap_err();

            assert_error(&err, &api, "ListRooms", ApiErrorKind::Unreachable, None);
            assert!(
                err.message()
                    .ends_with("the server speaks plain HTTP; use http:// or ws://"),
                "{url}: {err}"
            );
        }
        // A server that does speak TLS but is not there says nothing of the kind.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gone = listener.local_addr().unwrap();
        drop(listener);
        let err = room_api(&format!("https://{gone}"), REQUEST_TIMEOUT)
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert!(!err.message().contains("plain HTTP"), "{err}");
        sandbox.shutdown().await;
    })
    .await;
}

/// Runs `test` with a fresh sandbox and lktop's client of it, whose requests time out after
/// `timeout`; bounded, and the sandbox shut down after it.
async fn with_sandbox(timeout: Duration, test: impl AsyncFnOnce(&Sandbox, &LiveKitRoomApi)) {
    bounded(Box::pin(async {
        let sandbox = sandbox().await;
        test(&sandbox, &room_api(&sandbox.url(), timeout)).await;
        sandbox.shutdown().await;
    }))
    .await;
}

/// Whether lktop made the right error of a failed request.
type Classified = fn(&ApiError) -> bool;

/// The sandbox's faults as lktop's client classifies them. What the sandbox does under each
/// fault (and that it refuses rates outside 0..=1) is checked once, by the sandbox crate's
/// conformance tests against the official SDK; here, what lktop makes of it.
#[tokio::test]
async fn injected_errors_latency_hangs_and_drops_reach_the_client() {
    let failures: [(Faults, Classified); 3] = [
        (unavailable(1.0), |err| {
            (err.kind(), err.status()) == (ApiErrorKind::Server, Some(503))
        }),
        (hung_requests(), |err| {
            matches!(err.kind(), ApiErrorKind::Timeout { .. })
        }),
        (cut_answers(), |err| {
            err.kind() == ApiErrorKind::ConnectionReset
        }),
    ];
    with_sandbox(Duration::from_millis(800), async |sandbox, api| {
        for (faults, classified) in failures {
            sandbox.set_faults(faults).await.unwrap();
            let err = api.list_rooms(Vec::new()).await.unwrap_err();
            assert!(
                classified(&err),
                "{faults:?}: {err} ({:?}, status {:?})",
                err.kind(),
                err.status()
            );
        }

        // Latency within the request timeout is a slow answer, not an error.
        let latency = Duration::from_millis(150);
        sandbox.set_faults(slow_answers(latency)).await.unwrap();
        let started = std::time::Instant::now();
        let answer = api.list_rooms(Vec::new()).await;
        let took = started.elapsed();
        assert!(
            answer.is_ok() && took >= latency,
            "{answer:?} after {took:?}"
        );

        sandbox.clear_faults().await;
        api.list_rooms(Vec::new()).await.unwrap();
    })
    .await;
}

/// A server whose listener is down is refused or reset, not waited for, and answers again
/// once it is up. The sandbox's side (the same port, the rooms kept or lost by a restart) is
/// checked by the sandbox crate's conformance tests.
#[tokio::test]
async fn a_server_whose_listener_is_down_refuses_then_serves_once_it_is_up() {
    with_sandbox(Duration::from_secs(2), async |sandbox, api| {
        sandbox.listener_down().await;
        let err = api.list_rooms(Vec::new()).await.unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ApiErrorKind::ConnectionRefused | ApiErrorKind::ConnectionReset
            ),
            "{err}"
        );
        sandbox.listener_up().await;
        api.list_rooms(Vec::new())
            .await
            .expect("served again once the listener is up");
    })
    .await;
}
