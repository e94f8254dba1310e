//! Any bytes as a JSON request body, given to every RoomService method the way the sandbox's
//! server does: an answer (itself JSON) or a Twirp error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use livekit_sandbox::codec::Encoding;

fuzz_target!(|body: &[u8]| lktop_fuzz::call_every_method(Encoding::Json, body));
