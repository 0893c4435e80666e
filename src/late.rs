//! Reports kept in the [`outbox`](crate::outbox), delivered late: by the next run of the
//! check (wrapped, or `hcwrap ping`) before its own ping, and by `hcwrap flush`; and the
//! line that says a report was kept.

use crate::check::Check;
use crate::msg::say;
use crate::outbox::{MAX_KEPT, Outbox, Report};
use crate::ping::{Delivery, HttpOptions, Pinger};
use crate::stop::Stop;

/// Keeps `report`; returns what to add to the line that says its ping was not delivered.
pub fn keep(outbox: &Outbox, report: &Report) -> String {
    match outbox.keep(report) {
        Ok((file, dropped)) => format!(
            "; kept in {}: the next run, or `hcwrap flush`, delivers it{}",
            file.display(),
            if dropped > 0 {
                format!(" (the oldest kept report was dropped to make room: {MAX_KEPT} are kept)")
            } else {
                String::new()
            }
        ),
        Err(e) => format!("; it could not be kept for later: {e:#}"),
    }
}

/// How to deliver kept reports.
#[derive(Debug, Clone)]
pub struct Late {
    /// The HTTP options: one attempt each, as the caller sets them.
    pub http: HttpOptions,
    /// The server's body limit now: a late body is cut to it.
    pub limit: usize,
    /// How long to wait for another hcwrap delivering them (`hcwrap flush`) to finish, so
    /// that this one's pings come after them.
    pub patience: std::time::Duration,
}

/// Delivers the reports earlier runs of the check kept, oldest first, as `late` says,
/// until one cannot be delivered.
pub fn deliver_waiting(outbox: &Outbox, check: &Check, late: Late, stop: &Stop) {
    let waiting = outbox.waiting();
    if waiting.is_empty() {
        return;
    }
    let Some(_held) = outbox.claim(late.patience) else {
        return;
    };
    let pinger = Pinger::new(check.clone(), late.http);
    // Read again under the lock: another run may have delivered some meanwhile.
    for report in outbox.waiting() {
        if deliver_late(&pinger, &report, &|t| check.redact(t), stop, late.limit).is_err() {
            return;
        }
    }
}

/// Sends `report` late with `pinger` and removes it once the server recorded it (or
/// refused it), saying so; `Err` with why it could not be delivered, to stop there.
pub fn deliver_late(
    pinger: &Pinger,
    report: &Report,
    redact: &dyn Fn(&str) -> String,
    stop: &Stop,
    limit: usize,
) -> Result<(), String> {
    let (endpoint, body) = report.late_ping(limit);
    match pinger.send(endpoint, None, &body, stop) {
        Delivery::Delivered { .. } => {
            let _ = std::fs::remove_file(&report.file);
            say(&format!("delivered late: {}", report.describe(redact)));
            Ok(())
        }
        // A check the server does not know: it never will (deleted); the report goes.
        // Other refusals (401 or 403 from a proxy that wants the run's --header) are
        // kept: they are hcwrap's configuration to mend, not the report's fault.
        Delivery::NotDelivered(failure) if failure.check_unknown() => {
            let _ = std::fs::remove_file(&report.file);
            say(&format!(
                "dropped a kept report the server refused ({}): {}",
                failure.why,
                report.describe(redact)
            ));
            Ok(())
        }
        Delivery::NotDelivered(failure) => Err(failure.why),
    }
}
