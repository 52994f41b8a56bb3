//! Giving memory the collector has freed back to the operating system.
//!
//! glibc's allocator keeps freed memory in its arenas for reuse and returns to the system only
//! what lies at the top of the main heap. An evaluation allocates a whole snapshot, the sinks'
//! records and the API's answers, and frees them a moment later, from whichever worker thread
//! ran them; over an hour at 10,000 groups about half of lagwatch's resident memory was such
//! freed memory (600 MB held by the arenas, 300 MB of it in use; docs/benchmarks.md, the
//! soak). After every evaluation, once its snapshot has been handed on, [`spawn`] asks glibc
//! to release the free pages of every arena (`malloc_trim`), which takes a few milliseconds.
//! Other allocators (musl's, or a library user's own) are left alone.

use lagwatch_lib::core::Snapshot;
use lagwatch_lib::runtime::CancellationToken;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long after a new snapshot the release waits: the sinks and the HTTP API's history
/// have taken what they need from it by then, and the previous snapshot is freed.
const AFTER_SNAPSHOT: Duration = Duration::from_secs(2);

/// Releases free memory after every new snapshot until `stop`.
pub(crate) fn spawn(mut snapshots: watch::Receiver<Snapshot>, stop: CancellationToken) {
    if !SUPPORTED {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                changed = snapshots.changed() => if changed.is_err() { return },
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(AFTER_SNAPSHOT) => {}
            }
            // Skip the snapshots that came during the wait; this release covers them.
            snapshots.borrow_and_update();
            let started = Instant::now();
            let released = tokio::task::spawn_blocking(release).await.unwrap_or(false);
            tracing::debug!(took = ?started.elapsed(), released, "free memory handed back to the system");
        }
    });
}

/// Whether this build can hand memory back (glibc on Linux).
const SUPPORTED: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

/// Asks glibc to release the free pages of all its arenas; `true` when any were released.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release() -> bool {
    // SAFETY: malloc_trim takes no pointer and only walks glibc's own arenas, each under its
    // lock; it is safe to call from any thread at any time.
    unsafe { libc::malloc_trim(0) != 0 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() -> bool {
    false
}
