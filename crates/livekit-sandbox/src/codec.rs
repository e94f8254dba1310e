//! Twirp's two encodings, chosen by the request's Content-Type and used for the answer too.

use bytes::Bytes;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::twirp_error::{TwirpCode, TwirpError};

pub(crate) const PROTOBUF: &str = "application/protobuf";
pub(crate) const JSON: &str = "application/json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The Python and Rust SDKs.
    Protobuf,
    /// The Node SDK: proto3 JSON (lowerCamelCase, enums as names, int64 as strings).
    Json,
}

impl Encoding {
    /// The encoding a Content-Type names: the part before `;`, trimmed, lower-cased.
    #[must_use]
    pub(crate) fn from_content_type(content_type: &str) -> Option<Self> {
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media_type.as_str() {
            PROTOBUF_ALIAS | PROTOBUF => Some(Self::Protobuf),
            JSON => Some(Self::Json),
            _ => None,
        }
    }

    #[must_use]
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Protobuf => PROTOBUF,
            Self::Json => JSON,
        }
    }

    /// Decodes a request; an empty body is the default message in both encodings.
    ///
    /// # Errors
    /// `malformed` with what did not decode.
    pub(crate) fn decode<T>(self, body: &[u8]) -> Result<T, TwirpError>
    where
        T: Message + Default + DeserializeOwned,
    {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        match self {
            Self::Protobuf => T::decode(body).map_err(|err| {
                TwirpError::new(
                    TwirpCode::Malformed,
                    format!("the request could not be decoded: {err}"),
                )
            }),
            Self::Json => serde_json::from_slice(body).map_err(|err| {
                TwirpError::new(
                    TwirpCode::Malformed,
                    format!("the request could not be decoded: {err}"),
                )
            }),
        }
    }

    /// Encodes an answer. JSON is never empty (`{}` at least): the Node SDK throws on an empty
    /// body.
    #[must_use]
    pub fn encode<T: Message + Serialize>(self, message: &T) -> Bytes {
        match self {
            Self::Protobuf => Bytes::from(message.encode_to_vec()),
            Self::Json => {
                let json = serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec());
                Bytes::from(json)
            }
        }
    }
}

/// Some clients write the older name of the protobuf media type.
const PROTOBUF_ALIAS: &str = "application/x-protobuf";

#[cfg(test)]
mod tests {
    use livekit_protocol as proto;

    use super::*;

    #[test]
    fn content_types_are_matched_like_twirp_does() {
        assert_eq!(
            Encoding::from_content_type("application/json;charset=UTF-8"),
            Some(Encoding::Json)
        );
        assert_eq!(
            Encoding::from_content_type(" Application/Protobuf "),
            Some(Encoding::Protobuf)
        );
        assert_eq!(Encoding::from_content_type("text/plain"), None);
        assert_eq!(Encoding::from_content_type(""), None);
    }

    #[test]
    fn empty_bodies_are_default_messages() {
        let request: proto::ListRoomsRequest = Encoding::Protobuf.decode(b"").unwrap();
        assert!(request.names.is_empty());
        let request: proto::ListRoomsRequest = Encoding::Json.decode(b"").unwrap();
        assert!(request.names.is_empty());
    }

    #[test]
    fn json_accepts_snake_case_enum_numbers_int64_numbers_and_unknown_fields() {
        let request: proto::CreateRoomRequest = Encoding::Json
            .decode(br#"{"name":"r","empty_timeout":5,"maxParticipants":3,"surprise":true}"#)
            .unwrap();
        assert_eq!(
            (
                request.name.as_str(),
                request.empty_timeout,
                request.max_participants
            ),
            ("r", 5, 3)
        );
        let request: proto::SendDataRequest = Encoding::Json
            .decode(br#"{"room":"r","kind":1,"data":"aGk="}"#)
            .unwrap();
        assert_eq!(request.kind, 1);
        assert_eq!(request.data, b"hi");
        let room: proto::Room = Encoding::Json
            .decode(br#"{"creationTime":12,"creation_time_ms":"13000"}"#)
            .unwrap();
        assert_eq!((room.creation_time, room.creation_time_ms), (12, 13_000));
    }

    #[test]
    fn json_answers_are_proto3_json_and_never_empty() {
        let empty = Encoding::Json.encode(&proto::DeleteRoomResponse::default());
        assert_eq!(&empty[..], b"{}");
        let room = proto::Room {
            name: "r".into(),
            creation_time: 1_700_000_000,
            num_participants: 2,
            ..Default::default()
        };
        let json: serde_json::Value =
            serde_json::from_slice(&Encoding::Json.encode(&room)).unwrap();
        assert_eq!(json["creationTime"], "1700000000", "int64 as a string");
        assert_eq!(json["numParticipants"], 2);
        assert!(json.get("metadata").is_none(), "defaults are omitted");
        let track = proto::TrackInfo {
            r#type: proto::TrackType::Video as i32,
            ..Default::default()
        };
        let json: serde_json::Value =
            serde_json::from_slice(&Encoding::Json.encode(&track)).unwrap();
        assert_eq!(json["type"], "VIDEO", "enums by name");
    }

    #[test]
    fn garbage_is_malformed() {
        let err = Encoding::Protobuf
            .decode::<proto::ListRoomsRequest>(&[0xff, 0xff, 0xff])
            .unwrap_err();
        assert_eq!(err.code, TwirpCode::Malformed);
        let err = Encoding::Json
            .decode::<proto::ListRoomsRequest>(b"{not json")
            .unwrap_err();
        assert_eq!(err.code, TwirpCode::Malformed);
    }
}
