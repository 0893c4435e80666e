//! The final ping, handed from the run to its pings thread, and taken back when hcwrap
//! gives up waiting for it.
//!
//! The thread sends the final ping after the start ping (and after any reports kept by
//! earlier runs). A signal can make hcwrap stop waiting at any point of that: while the
//! thread still waits for a server that does not answer, or before it even took the final
//! ping. The report must not be lost with the thread, so whatever the thread has not
//! settled is in one slot both sides see: the final ping as handed over, or, once the
//! thread is sending it, what to keep if it is not delivered. The side that takes it from
//! the slot deals with it, and only that side.

use std::sync::{Condvar, Mutex, PoisonError};

use crate::outbox::Report;
use crate::pings::Final;
use crate::records::RunRecord;

/// What to keep of a final ping that is being sent, if it is given up on.
#[derive(Debug)]
pub struct Pending {
    /// The report, for the outbox; `None` where it cannot be kept (no state directory).
    pub report: Option<Report>,
    /// The run's record as it stands with the ping not delivered.
    pub record: Option<RunRecord>,
}

/// Where the final ping is.
#[derive(Debug, Default)]
enum Slot {
    /// Not handed over yet.
    #[default]
    Empty,
    /// Handed over, not taken by the thread yet.
    Handed(Final),
    /// The run ends with no final ping.
    Nothing,
    /// Taken by the thread, which is judging it.
    Working,
    /// Being sent: what to keep if it is given up on.
    Sending(Box<Pending>),
    /// Settled by one side; the other does nothing more with it.
    Closed,
}

/// What the caller takes back when it gives up.
#[derive(Debug)]
pub enum Unsettled {
    /// The final ping as handed over: the thread never got to it.
    Handed(Final),
    /// The final ping being sent.
    Sending(Box<Pending>),
}

/// The slot, shared by the run and its pings thread.
#[derive(Debug, Default)]
pub struct Handover {
    slot: Mutex<Slot>,
    changed: Condvar,
}

impl Handover {
    fn with<T>(&self, f: impl FnOnce(&mut Slot) -> T) -> T {
        // A panic elsewhere while holding the lock leaves a slot still worth reading.
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut slot)
    }

    /// The run hands over its final ping (`None`: there is none).
    pub fn hand(&self, last: Option<Final>) {
        self.with(|slot| {
            *slot = match last {
                Some(last) => Slot::Handed(last),
                None => Slot::Nothing,
            };
        });
        self.changed.notify_all();
    }

    /// The thread waits for the final ping and takes it; `None` when there is none, or the
    /// caller took it back.
    pub fn take(&self) -> Option<Final> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        while matches!(*slot, Slot::Empty) {
            slot = self
                .changed
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
        match std::mem::replace(&mut *slot, Slot::Closed) {
            Slot::Handed(last) => {
                *slot = Slot::Working;
                Some(last)
            }
            _ => None,
        }
    }

    /// The thread is about to send the final ping: what to keep if it is given up on.
    pub fn sending(&self, pending: Pending) {
        self.with(|slot| {
            if matches!(slot, Slot::Working) {
                *slot = Slot::Sending(Box::new(pending));
            }
        });
    }

    /// The thread has sent it (delivered or not): whether the thread still settles it,
    /// rather than the caller, who took it back meanwhile.
    pub fn sent(&self) -> bool {
        self.with(|slot| {
            let mine = matches!(slot, Slot::Sending(_) | Slot::Working);
            *slot = Slot::Closed;
            mine
        })
    }

    /// The caller gives up: what the thread has not settled, if anything.
    pub fn take_back(&self) -> Option<Unsettled> {
        self.with(|slot| match std::mem::replace(slot, Slot::Closed) {
            Slot::Handed(last) => Some(Unsettled::Handed(last)),
            Slot::Sending(pending) => Some(Unsettled::Sending(pending)),
            other => {
                // Not handed over yet, or being judged: the thread keeps it.
                if matches!(other, Slot::Working) {
                    *slot = Slot::Working;
                }
                None
            }
        })
    }
}
