//! Any bytes as a webhook, through the verifier lktop's listener uses: a verdict, never a
//! panic. The first byte picks how the rest is used:
//!
//! - even: an `Authorization` header and a body, split at the first newline, as any client
//!   could send them: accepted only as the trusted server's, otherwise refused with a 4xx;
//! - odd: a body, signed as livekit-server signs it (the trusted key, the body's sha256): never
//!   refused for its token, only for a body that is not an event; and the same token with
//!   one byte of the body changed is refused.

#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use livekit_api::access_token::AccessToken;
use lktop::webhooks::{Rejection, WebhookVerifier};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

const SERVER: &str = "fuzzed";
const KEY: &str = "devkey";
const SECRET: &str = "fuzzing-secret-0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut verifier = WebhookVerifier::default();
    verifier.trust(SERVER, KEY, &SecretString::from(SECRET));
    if mode % 2 == 0 {
        let (header, body) = match rest.iter().position(|&byte| byte == b'\n') {
            Some(newline) => (&rest[..newline], &rest[newline + 1..]),
            None => (rest, &[][..]),
        };
        let header = std::str::from_utf8(header).ok();
        match verifier.verify(header, body) {
            Ok((server, _)) => assert_eq!(server, SERVER),
            Err(rejection) => {
                assert!(rejection.status().is_client_error(), "{rejection:?}");
                assert!(!rejection.to_string().is_empty());
            }
        }
        return;
    }
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(rest));
    let token = AccessToken::with_api_key(KEY, SECRET)
        .with_sha256(&sha256)
        .to_jwt()
        .expect("a token with a key and a secret signs");
    let authorization = format!("Bearer {token}");
    match verifier.verify(Some(&authorization), rest) {
        Ok((server, _)) => assert_eq!(server, SERVER),
        Err(Rejection::Malformed { .. }) => {}
        Err(other) => panic!("a body signed with the trusted key was refused: {other:?}"),
    }
    if let Some((&first, tail)) = rest.split_first() {
        let changed = [&[first ^ 0x01], tail].concat();
        match verifier.verify(Some(&authorization), &changed) {
            Err(Rejection::BodyChanged { .. } | Rejection::Malformed { .. }) => {}
            other => panic!("a body changed after signing was not refused: {other:?}"),
        }
    }
});
