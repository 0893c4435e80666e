//! A run's pings, on a thread of their own: the start ping beside the command, then the
//! final ping once the run has ended and the start ping is done, so the server sees them
//! in order. The run itself never waits for the server: with `--every`, the next run
//! starts on its tick while an earlier run's pings may still be going.
//!
//! The thread builds the final body itself, after the start ping, because the limit is in
//! the start ping's answer (`Ping-Body-Limit`).

use std::cell::OnceCell;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::body;
use crate::check::{Check, Endpoint};
use crate::child::Ended;
use crate::handover::{Handover, Pending, Unsettled};
use crate::late;
use crate::limit_cache::LimitCache;
use crate::msg::say;
use crate::outbox::{self, Report};
use crate::ping::{DEFAULT_BODY_LIMIT, Delivery, Failure, HttpOptions, MAX_BODY_LIMIT, Pinger};
use crate::records::{PingRecord, RunRecord};
use crate::report::{self, Rules};
use crate::run_state::Counts;
use crate::setup::Setup;
use crate::signals::{Meaning, Signals};
use crate::stop::Stop;
use crate::sys;
use crate::verdict::{self, Verdict};

/// What the final ping is about.
#[derive(Debug)]
pub enum Final {
    /// A run that ended, judged.
    Run(Box<JudgedRun>),
    /// A fixed ping: a run that was skipped or could not start, with hcwrap's notes.
    Fixed(Endpoint, Vec<String>),
}

/// A run that ended, as the run judged it.
#[derive(Debug)]
pub struct JudgedRun {
    /// How it ended.
    pub ended: Ended,
    /// The ping rules.
    pub rules: Rules,
    /// The verdict on it (`report::verdict`).
    pub verdict: Verdict,
    /// The check's counts after it, where they are kept: counted when the run ended, so
    /// that runs count in the order they ended, whatever their pings do.
    pub counts: Option<Counts>,
}

/// What a run's pings need to know.
#[derive(Debug, Clone)]
pub struct Target {
    /// The check.
    pub check: Check,
    /// How to send.
    pub http: HttpOptions,
    /// The run id, if pings carry one.
    pub run_id: Option<String>,
    /// `--body-limit`.
    pub body_limit: Option<usize>,
    /// Where the server's announced body limit is remembered, if anywhere.
    pub limit_cache: Option<LimitCache>,
    /// The check's setup, applied (when needed) before the first ping.
    pub setup: Option<Arc<Setup>>,
    /// What the run keeps besides its pings.
    pub records: Arc<crate::records::Records>,
    /// hcwrap exits once this run's pings are done (no `--every`): the thread then stays
    /// parked until the exit ends it instead of tearing itself down, which costs about
    /// 0.2 ms at the end of a run on a virtual machine (unmapping its stack and signal
    /// stack interrupts the other CPUs; BENCHMARKS.md). Under `--every` each run's thread
    /// must go.
    pub last_run: bool,
}

/// One run's pings, going on beside it.
#[derive(Debug)]
pub struct RunPings {
    target: Target,
    /// Where the final ping goes to the thread, and comes back from it when hcwrap gives
    /// up waiting; `None` without a thread.
    handover: Option<Arc<Handover>>,
    /// Becomes readable (end of file) when the thread has ended.
    done: Option<OwnedFd>,
    /// Raised when the command has ended: the start ping gets no more retries.
    start_stop: Stop,
    /// Raised to give up the final ping's retries.
    final_stop: Stop,
}

impl RunPings {
    /// Starts the thread, which sends the start ping at once if `start`. A larger
    /// `Ping-Body-Limit` in its answer raises `capacity` (with output to send).
    pub fn begin(target: Target, start: bool, capacity: Option<Arc<AtomicUsize>>) -> Self {
        let (start_stop, final_stop) = (Stop::default(), Stop::default());
        let handover = Arc::new(Handover::default());
        let spawned = sys::pipe().and_then(|(done_read, done_write)| {
            let (t, s, f) = (target.clone(), start_stop.clone(), final_stop.clone());
            let h = Arc::clone(&handover);
            thread::Builder::new()
                .name("pings".into())
                .spawn(move || {
                    pings(&t, start, capacity.as_deref(), &h, &s, &f);
                    // End of file on `done`: the caller may exit now.
                    drop(done_write);
                    if t.last_run {
                        loop {
                            thread::park();
                        }
                    }
                })
                .map(|_| done_read)
        });
        // Without a thread there is no start ping; the final ping goes out from `finish`,
        // on the caller's thread.
        let (handover, done) = match spawned {
            Ok(done) => (Some(handover), Some(done)),
            Err(_) => (None, None),
        };
        RunPings {
            target,
            handover,
            done,
            start_stop,
            final_stop,
        }
    }

    /// The run has ended: stop retrying the start ping, and send the final one after it.
    pub fn finish(&mut self, last: Final) {
        self.start_stop.raise();
        if let Some(handover) = &self.handover {
            handover.hand(Some(last));
        } else {
            let cached = self.target.limit_cache.as_ref().and_then(LimitCache::read);
            let sent = send_final(
                &OnceCell::new(),
                &self.target,
                cached,
                last,
                &self.final_stop,
                None,
            );
            if let Some(Delivery::NotDelivered(failure)) = &sent.delivery {
                say(&format!(
                    "{}{}",
                    failure.line,
                    sent.kept.as_deref().unwrap_or("")
                ));
            }
            sent.conclude(&self.target, None);
        }
    }

    /// The run ends with no final ping.
    pub fn finish_nothing(&mut self) {
        self.start_stop.raise();
        if let Some(handover) = &self.handover {
            handover.hand(None);
        }
    }

    /// Gives up the retries left.
    pub fn give_up(&self) {
        self.start_stop.raise();
        self.final_stop.raise();
    }

    /// Whether the pings are all done.
    pub fn is_done(&self) -> bool {
        self.done.as_ref().is_none_or(|fd| {
            let mut fds = [libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }];
            sys::poll(&mut fds, Some(Duration::ZERO)).is_ok_and(|n| n > 0)
        })
    }

    /// Waits until the pings are done. An interrupting signal meanwhile (or one that came
    /// before: `late`) gives them up: hcwrap waits at most [`GIVE_UP_GRACE`] more, for
    /// an attempt already on its way, then stops waiting; the first such signal is
    /// returned.
    pub fn wait(self, signals: &mut Signals, late: bool) -> Option<i32> {
        let done = self.done.as_ref()?;
        let mut interrupted = None;
        let mut until: Option<Instant> = None;
        if late {
            self.give_up();
            until = Some(Instant::now() + GIVE_UP_GRACE);
        }
        loop {
            let mut fds = [
                libc::pollfd {
                    fd: done.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: signals.fd().as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            let left = until.map(|u| u.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                let kept = self
                    .handover
                    .as_ref()
                    .and_then(|h| h.take_back())
                    .map(|unsettled| settle(&self.target, unsettled))
                    .unwrap_or_default();
                say(&format!(
                    "gave up on the pings still on their way: interrupted{kept}"
                ));
                return interrupted;
            }
            if sys::poll(&mut fds, left).is_err() || fds[0].revents != 0 {
                // End of file: the thread dropped its end.
                return interrupted;
            }
            if fds[1].revents != 0 {
                for signal in signals.take(None) {
                    if crate::signals::meaning(signal) == Some(Meaning::Interrupt) {
                        interrupted.get_or_insert(signal);
                        self.give_up();
                        until.get_or_insert(Instant::now() + GIVE_UP_GRACE);
                    }
                }
            }
        }
    }
}

/// How long hcwrap still waits for the pings once a signal gave them up: long enough for
/// a thread in a backoff to notice and say so, short enough that a Ctrl-C ends hcwrap
/// at once to a person (an attempt waiting for a silent server is abandoned).
const GIVE_UP_GRACE: Duration = Duration::from_millis(100);

/// The pinger for `target`'s check.
fn pinger(target: &Target) -> Pinger {
    Pinger::new(target.check.clone(), target.http.clone())
}

/// The thread: the start ping, then the final one.
fn pings(
    target: &Target,
    start: bool,
    capacity: Option<&AtomicUsize>,
    handover: &Handover,
    start_stop: &Stop,
    final_stop: &Stop,
) {
    // The check must exist, with its settings, before its first ping (and a check by
    // slug with no ping key has no ping URL before that).
    let resolved;
    let target = match &target.setup {
        Some(setup) => match setup.prepare(&target.check, None) {
            Some(check) => {
                resolved = Target {
                    check,
                    ..target.clone()
                };
                &resolved
            }
            None => return,
        },
        None => target,
    };
    // Building the agent (and reading the trust store) happens here too, off the run's path,
    // and only for a ping that is sent: a run with none (unmonitored) never reads it.
    let pinger = OnceCell::new();
    // What the server said last time, until it says it again.
    let cached = target.limit_cache.as_ref().and_then(LimitCache::read);
    if let (Some(cached), Some(capacity)) = (cached, capacity) {
        capacity.fetch_max(
            body_limit(Some(cached), target.body_limit),
            Ordering::Relaxed,
        );
    }
    // Reports earlier runs could not deliver go first, so the server sees them in order.
    if let Some(outbox) = &target.records.outbox {
        let late = late::Late {
            http: HttpOptions {
                retries: 0,
                ..target.http.clone()
            },
            limit: body_limit(cached, target.body_limit),
            // A `hcwrap flush` delivering them gets as long as this run would take for them
            // all and its own ping (`MAX_KEPT` + 1 attempts).
            patience: target.http.timeout * 6,
        };
        late::deliver_waiting(outbox, &target.check, late, start_stop);
    }
    let started = start.then(|| {
        pinger.get_or_init(|| self::pinger(target)).send_counted(
            Endpoint::Start,
            target.run_id.as_deref(),
            "",
            start_stop,
        )
    });
    let start_record = started
        .as_ref()
        .map(|(delivery, attempts)| ping_record(Endpoint::Start, delivery, *attempts));
    let delivery = started.map(|(delivery, _)| delivery);
    let (announced, start_failure) = match delivery {
        Some(Delivery::Delivered { body_limit }) => (body_limit, None),
        Some(Delivery::NotDelivered(failure)) => (None, Some(failure)),
        None => (None, None),
    };
    let server_limit = announced.or(cached);
    if let (Some(server), Some(capacity)) = (server_limit, capacity) {
        capacity.fetch_max(
            body_limit(Some(server), target.body_limit),
            Ordering::Relaxed,
        );
    }
    // After the ring may grow: a test waits for the remembered limit to know it can.
    remember(target, announced, cached);
    let Some(last) = handover.take() else {
        return;
    };
    let sent = send_final(
        &pinger,
        target,
        server_limit,
        last,
        final_stop,
        Some((handover, start_record.as_ref())),
    );
    if sent.taken_back {
        return;
    }
    let final_delivery = sent.delivery.clone();
    // A check the server does not know (deleted there): the next run sets it up again
    // rather than a day later.
    let unknown =
        |d: &Option<Delivery>| matches!(d, Some(Delivery::NotDelivered(f)) if f.check_unknown());
    if let Some(setup) = &target.setup
        && (unknown(&final_delivery) || start_failure.as_ref().is_some_and(Failure::check_unknown))
    {
        setup.forget();
    }
    // A server that is down costs one line, not one per ping.
    let kept = sent.kept.as_deref().unwrap_or("");
    match (start_failure, final_delivery) {
        (Some(start), Some(Delivery::NotDelivered(end))) => {
            say(&format!("{}{kept}", both_failed(target, &start, &end)));
        }
        (None, Some(Delivery::NotDelivered(end))) => say(&format!("{}{kept}", end.line)),
        (start, end) => {
            if let Some(start) = start {
                say(&start.line);
            }
            if let Some(Delivery::Delivered { body_limit }) = end {
                remember(target, body_limit, server_limit);
            }
        }
    }
    sent.conclude(target, start_record);
}

/// A ping's name in the run log: "start", "success", "fail", "log", or an exit status.
fn ping_kind(endpoint: Endpoint) -> String {
    match endpoint {
        Endpoint::ExitCode(n) => n.to_string(),
        Endpoint::Success => "success".to_owned(),
        other => other.name().trim_end_matches(" ping").to_owned(),
    }
}

/// The run log's entry for one ping.
fn ping_record(endpoint: Endpoint, delivery: &Delivery, attempts: u32) -> PingRecord {
    PingRecord {
        kind: ping_kind(endpoint),
        delivered: matches!(delivery, Delivery::Delivered { .. }),
        attempts,
        error: match delivery {
            Delivery::NotDelivered(f) => Some(f.why.clone()),
            Delivery::Delivered { .. } => None,
        },
    }
}

/// What became of the final ping, and the run's record.
struct FinalSent {
    delivery: Option<Delivery>,
    record: Option<RunRecord>,
    /// Where the undelivered final ping was kept, to add to the line that says so.
    kept: Option<String>,
    /// hcwrap gave up waiting and settled the ping itself: nothing more to do here.
    taken_back: bool,
}

impl FinalSent {
    /// Writes the run's records, with the start ping's entry first.
    fn conclude(self, target: &Target, start: Option<PingRecord>) {
        if let Some(mut record) = self.record {
            if let Some(start) = start {
                record.pings.insert(0, start);
            }
            target.records.write(&record);
        }
    }
}

/// The one line for a run whose start and final pings both failed.
fn both_failed(target: &Target, start: &Failure, end: &Failure) -> String {
    let check = target
        .check
        .redact(&target.check.url(Endpoint::Success, None));
    let end_name = end.endpoint_name.as_str();
    if start.why == end.why {
        format!(
            "neither the start ping ({}) nor the {end_name} ({}) was recorded by {check}: {}",
            start.how, end.how, start.why
        )
    } else {
        format!(
            "neither the start ping ({}: {}) nor the {end_name} ({}: {}) was recorded by {check}",
            start.how, start.why, end.how, end.why
        )
    }
}

/// Keeps the limit the server `announced` for later runs, if it differs from `known`.
fn remember(target: &Target, announced: Option<usize>, known: Option<usize>) {
    if let (Some(cache), Some(limit)) = (&target.limit_cache, announced) {
        cache.remember(limit, known);
    }
}

/// The final ping, judged and built, not sent yet.
struct Prepared {
    /// The endpoint and the body, built within the limit.
    ping: Option<(Endpoint, String)>,
    /// The body's parts, for a report kept to be delivered later to another limit.
    parts: body::Parts,
    record: Option<RunRecord>,
    /// How the run went, in a few words, for a kept report.
    summary: String,
}

impl Prepared {
    /// Judges and counts the run (see [`judged`]) and builds its final ping within the
    /// limit `server_limit` implies.
    fn new(target: &Target, server_limit: Option<usize>, last: Final) -> Self {
        let limit = body_limit(server_limit, target.body_limit);
        match last {
            Final::Run(run) => {
                let JudgedRun {
                    mut ended,
                    rules,
                    verdict,
                    counts,
                } = *run;
                let (record, streak, summary) = judged(&ended, &rules, &verdict, target, counts);
                let (ping, parts) = match report::final_parts(&mut ended, &rules, &verdict, streak)
                {
                    Some((endpoint, parts)) => (Some((endpoint, parts.build(limit))), parts),
                    None => (None, body::Parts::default()),
                };
                Prepared {
                    ping,
                    parts,
                    record: Some(record),
                    summary,
                }
            }
            Final::Fixed(endpoint, notes) => {
                let parts = body::Parts {
                    output: None,
                    notes,
                };
                Prepared {
                    ping: Some((endpoint, parts.build(limit))),
                    parts,
                    record: None,
                    summary: "it did not run".into(),
                }
            }
        }
    }

    /// The report to keep if the final ping is not delivered; `None` without an outbox,
    /// or for a check whose ping URL is still unknown.
    fn report(&self, target: &Target) -> Option<Report> {
        let (endpoint, _) = self.ping.as_ref()?;
        target.records.outbox.as_ref()?;
        if !target.check.has_ping_url() {
            return None;
        }
        Some(Report {
            file: std::path::PathBuf::new(),
            url: target.check.plain_url(),
            endpoint: *endpoint,
            ended: self.record.as_ref().map_or_else(outbox::now_secs, |r| {
                (r.started + r.ran)
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            }),
            summary: self.summary.clone(),
            body: self.parts.clone(),
            headers: header_names(&target.http),
        })
    }

    /// The record with the final ping's outcome.
    fn record_with(&self, entry: PingRecord) -> Option<RunRecord> {
        let mut record = self.record.clone()?;
        record.sent = self.ping.as_ref().map(|(_, body)| body.len());
        record.pings.push(entry);
        Some(record)
    }
}

/// Judges the run, counts it, and sends its final ping; keeps the report when the ping
/// could not be delivered. With a thread, `handover` holds what to keep should hcwrap give
/// up waiting meanwhile, with the start ping's entry for the record.
fn send_final(
    pinger: &OnceCell<Pinger>,
    target: &Target,
    server_limit: Option<usize>,
    last: Final,
    stop: &Stop,
    handover: Option<(&Handover, Option<&PingRecord>)>,
) -> FinalSent {
    let prepared = Prepared::new(target, server_limit, last);
    let Some((endpoint, body)) = &prepared.ping else {
        return FinalSent {
            delivery: None,
            record: prepared.record,
            kept: None,
            taken_back: false,
        };
    };
    let endpoint = *endpoint;
    if let Some((handover, start)) = &handover {
        let given_up = PingRecord {
            kind: ping_kind(endpoint),
            delivered: false,
            attempts: 1,
            error: Some("given up: hcwrap was interrupted while it was being sent".into()),
        };
        let record = prepared.record_with(given_up).map(|mut r| {
            r.pings.splice(0..0, start.cloned());
            r
        });
        handover.sending(Pending {
            report: prepared.report(target),
            record,
        });
    }
    let (delivery, attempts) = pinger.get_or_init(|| self::pinger(target)).send_counted(
        endpoint,
        target.run_id.as_deref(),
        body,
        stop,
    );
    if let Some((handover, _)) = handover
        && !handover.sent()
    {
        return FinalSent {
            delivery: Some(delivery),
            record: None,
            kept: None,
            taken_back: true,
        };
    }
    let mut kept = None;
    if let Delivery::NotDelivered(failure) = &delivery
        && failure.how != "refused"
        && let (Some(report), Some(outbox)) = (prepared.report(target), &target.records.outbox)
    {
        kept = Some(late::keep(outbox, &report));
    }
    let record = prepared.record_with(ping_record(endpoint, &delivery, attempts));
    FinalSent {
        delivery: Some(delivery),
        record,
        kept,
        taken_back: false,
    }
}

/// The names of the headers pings send, for a kept report.
pub fn header_names(http: &HttpOptions) -> Vec<String> {
    http.headers
        .iter()
        .map(|(name, _)| name.as_str().to_owned())
        .collect()
}

/// hcwrap gave up waiting for the pings: keeps what the thread had not settled, and writes
/// the run's records; what to add to the line that says so.
fn settle(target: &Target, unsettled: Unsettled) -> String {
    let (report, record) = match unsettled {
        Unsettled::Handed(last) => {
            let cached = target.limit_cache.as_ref().and_then(LimitCache::read);
            let prepared = Prepared::new(target, cached, last);
            let entry = prepared.ping.as_ref().map(|(endpoint, _)| PingRecord {
                kind: ping_kind(*endpoint),
                delivered: false,
                attempts: 0,
                error: Some("not sent: hcwrap was interrupted before its turn".into()),
            });
            let record = match entry {
                Some(entry) => prepared.record_with(entry),
                None => prepared.record.clone(),
            };
            (prepared.report(target), record)
        }
        Unsettled::Sending(pending) => (pending.report, pending.record),
    };
    if let Some(record) = &record {
        target.records.write(record);
    }
    match (report, &target.records.outbox) {
        (Some(report), Some(outbox)) => {
            late::keep(outbox, &report).replacen("; kept in", "; the final ping was kept in", 1)
        }
        _ => String::new(),
    }
}

/// The run judged and counted: its record, the failures in a row it ends (where they are
/// counted), and how it went in a few words.
fn judged(
    ended: &Ended,
    rules: &Rules,
    verdict: &Verdict,
    target: &Target,
    counts: Option<Counts>,
) -> (RunRecord, Option<u64>, String) {
    let status = report::exit_status(ended);
    let exit_status = verdict::exit_status(status, verdict, &rules.judge);
    let mut record = RunRecord::of(ended, target.records.label.clone(), exit_status);
    record.failed = verdict.failed();
    let summary = match verdict {
        Verdict::Succeeded => "it succeeded".to_owned(),
        Verdict::Failed => report::cut_short(ended).unwrap_or_else(|| ended.outcome.describe()),
        Verdict::FailedRules(why) => {
            record.rule_failures.clone_from(why);
            "exit status 0, counted as failed".to_owned()
        }
    };
    if let Some(c) = counts {
        record.failures_in_a_row = Some(c.failures);
        record.last_success = c.last_success;
    }
    (record, counts.map(|c| c.failures), summary)
}

/// The final ping's body limit: the server's, or the default, lowered by `--body-limit`.
pub fn body_limit(server: Option<usize>, flag: Option<usize>) -> usize {
    server
        .unwrap_or(DEFAULT_BODY_LIMIT)
        .min(flag.unwrap_or(usize::MAX))
        .min(MAX_BODY_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_only_lowers_the_limit() {
        assert_eq!(body_limit(None, None), 100_000);
        assert_eq!(body_limit(Some(10_000), None), 10_000);
        assert_eq!(body_limit(Some(10_000), Some(50_000)), 10_000);
        assert_eq!(body_limit(Some(500_000), Some(50_000)), 50_000);
        assert_eq!(body_limit(Some(500_000), None), 500_000);
        assert_eq!(body_limit(Some(10_000_000), None), MAX_BODY_LIMIT);
    }
}
