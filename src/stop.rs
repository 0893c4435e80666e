//! A one-way flag that threads can sleep on: "stop waiting, something happened".
//!
//! Used to end a retry backoff early (the command finished, so the start ping's remaining
//! retries are pointless; a signal arrived while the final ping was being retried) and to
//! let the SIGKILL timer know the child has exited.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A flag that, once raised, wakes every thread sleeping on it and stays raised.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    /// Raises the flag and wakes the sleepers.
    pub fn raise(&self) {
        let (flag, cond) = &*self.0;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cond.notify_all();
    }

    /// Whether the flag is raised.
    #[cfg(test)]
    pub fn is_raised(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps for `duration` or until the flag is raised; true if it was raised.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let (flag, cond) = &*self.0;
        let mut raised = flag.lock().unwrap_or_else(PoisonError::into_inner);
        while !*raised {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            raised = cond
                .wait_timeout(raised, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *raised
    }
}

#[cfg(test)]
mod tests {
    use super::Stop;
    use std::time::Duration;

    #[test]
    fn a_raised_flag_ends_the_sleep_at_once() {
        let stop = Stop::default();
        assert!(!stop.sleep(Duration::ZERO));
        let other = stop.clone();
        let t = std::thread::spawn(move || other.sleep(Duration::from_secs(600)));
        stop.raise();
        assert!(t.join().unwrap());
        assert!(stop.is_raised());
    }
}
