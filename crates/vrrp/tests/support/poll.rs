//! Waiting for a non-blocking source through mio, as the VRRP child's loop does: the
//! Linux-layer tests read sockets, captures and the netlink monitor with it.

use std::time::{Duration, Instant};

/// Call `read` on `source` until it gives something, waiting (one mio `Poll`) for `source`
/// to become readable in between; None when nothing came within 5 s.
pub fn read_within_5s<S: mio::event::Source, T>(
    source: &mut S,
    mut read: impl FnMut(&mut S) -> Option<T>,
) -> Option<T> {
    let mut poll = mio::Poll::new().expect("poll");
    poll.registry()
        .register(source, mio::Token(0), mio::Interest::READABLE)
        .expect("register");
    let mut events = mio::Events::with_capacity(8);
    let deadline = Instant::now() + Duration::from_secs(5);
    let found = loop {
        if let Some(t) = read(source) {
            break Some(t);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break None;
        }
        poll.poll(&mut events, Some(left)).expect("poll");
    };
    poll.registry().deregister(source).expect("deregister");
    found
}
