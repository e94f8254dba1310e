//! Freeing large values away from the event loop. A 10,000-room snapshot holds some 100,000
//! strings; freeing the one a new poll replaced took a good part of the time the loop spent on
//! that poll, during which a key waited. The freeing happens on a thread of its own instead.

use std::sync::OnceLock;
use std::sync::mpsc::{self, Sender};

type Retired = Box<dyn Send>;

static RETIREMENT: OnceLock<Option<Sender<Retired>>> = OnceLock::new();

/// Drops `value` on the freeing thread (or here, when that thread cannot be started).
pub(crate) fn retire<T: Send + 'static>(value: T) {
    let sender = RETIREMENT.get_or_init(|| {
        let (sender, retired) = mpsc::channel::<Retired>();
        std::thread::Builder::new()
            .name("lktop-free".to_owned())
            .spawn(move || retired.iter().for_each(drop))
            .ok()
            .map(|_| sender)
    });
    match sender {
        Some(sender) => {
            // Sent back only when the thread is gone; then it is dropped here.
            let _ = sender.send(Box::new(value));
        }
        None => drop(value),
    }
}
