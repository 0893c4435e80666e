//! Making sure the check exists on the server and has the settings the command line gives
//! (`--schedule`, `--grace`, ...; see `check_settings.rs`), through the management API.
//!
//! **What is asked.** A check named by slug is created or updated in one request (an
//! upsert: `"unique": ["slug"]`), named by its slug unless `--name` says otherwise (the
//! API would leave the name empty); a check named by UUID is updated. A check named by
//! slug with an API key but no ping key gets its ping URL from the API: its UUID, put on
//! the ping API's base (never the answer's `ping_url`, whose host the user did not name);
//! with no setting given, it is only looked up (or created, with `--create`).
//!
//! **When.** On the run's pings thread, before the start ping, so that the command starts
//! at once and the pings do not go to a check that does not exist yet; for `hcwrap ping`,
//! within `--max-time`. One request, one attempt, within `--ping-timeout`. A refusal or
//! a failure is one line, and the pings go on as usual.
//!
//! **How often.** At most one request per run, and none when the same settings were
//! applied from this machine less than a day ago: each check's last setup (a fingerprint
//! of the request, when, and the check's UUID) is kept in a small file in hcwrap's cache
//! directory (`own_dir.rs`; mode 0600, as the UUID is a secret). After a day it is
//! applied again, so that a check deleted on the server comes back.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use crate::api::{Answer, Api};
use crate::check::{Check, CheckId, is_uuid, redact_partial};
use crate::check_settings::Settings;
use crate::lock::fnv1a;
use crate::msg::say;
use crate::own_dir::OwnDir;

/// How long a setup is trusted before it is applied again.
const FRESH: Duration = Duration::from_secs(24 * 60 * 60);

/// What the API is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Create or update the check with this slug.
    Upsert(String),
    /// Update the check with this UUID.
    Update(String),
    /// Find the UUID of the check with this slug.
    Find(String),
}

/// One check's setup, validated, ready to apply.
#[derive(Debug)]
pub struct Setup {
    api: Api,
    action: Action,
    /// The request's body (for `Find`, nothing is sent).
    body: Map<String, Value>,
    /// The pings go to the UUID the API gives (a slug with no ping key).
    pings_by_uuid: bool,
    /// Where the last setup is remembered, if anywhere.
    state: Option<(OwnDir, String)>,
    fingerprint: String,
    /// The last setup, as the state file and this process know it.
    last: Mutex<Option<Last>>,
}

/// A setup that was applied.
#[derive(Debug, Clone)]
struct Last {
    fingerprint: String,
    /// Seconds since the epoch.
    at: u64,
    uuid: Option<String>,
    /// The server refused this setup, saying this: not asked again before `until`
    /// (seconds since the epoch) unless the setup changes.
    refused: Option<(String, u64)>,
}

/// How long a refusal stands before the same setup is asked for again: a refused
/// setting, key or full project (400, 401, 403) until it changes or a day has passed;
/// too many requests (429) a minute. Anything else (no answer, 5xx) is asked again on the
/// next run.
fn hold(status: u16) -> Option<u64> {
    match status {
        400 | 401 | 403 => Some(FRESH.as_secs()),
        429 => Some(60),
        _ => None,
    }
}

impl Setup {
    /// The setup for `check`, from the settings given and the API key; `None` when there
    /// is nothing to set up. `site` is the management API's site (`--site-url`, or what
    /// the ping URL implies).
    pub fn new(
        api: Api,
        check: &Check,
        settings: Option<&Settings>,
        create: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>> {
        let Some((_, id)) = check.id() else {
            bail!(
                "the check's URL is not one the Healthchecks server gives (<site>/ping/<uuid> \
                 or <site>/ping/<ping-key>/<slug>), so its settings cannot be set; give \
                 --uuid or --slug"
            );
        };
        let pings_by_uuid = check.is_awaiting_uuid();
        let mut body = settings.map(|s| s.fields().clone()).unwrap_or_default();
        let action = match id {
            CheckId::Slug(slug) if settings.is_some() || create => {
                body.insert("slug".into(), Value::from(slug.as_str()));
                body.insert("unique".into(), Value::from(vec!["slug"]));
                if !settings.is_some_and(|s| s.named) {
                    body.insert("name".into(), Value::from(slug.as_str()));
                }
                Action::Upsert(slug.clone())
            }
            CheckId::Slug(slug) if pings_by_uuid => Action::Find(slug.clone()),
            CheckId::Uuid(uuid) if settings.is_some() => Action::Update(uuid.clone()),
            _ => return Ok(None),
        };
        let (kind, id) = match &action {
            Action::Upsert(s) => ("slug", s),
            Action::Update(u) => ("uuid", u),
            Action::Find(s) => ("find", s),
        };
        let name = format!(
            "check-{:016x}",
            fnv1a(format!("{}\n{kind}\n{id}\n{}", api.site(), api.key_fingerprint()).as_bytes())
        );
        let fingerprint = format!(
            "{:016x}",
            fnv1a(Value::Object(body.clone()).to_string().as_bytes())
        );
        let state = OwnDir::cache(env).map(|dir| (dir, name));
        let last = state
            .as_ref()
            .and_then(|(dir, name)| dir.read(name, 1024))
            .and_then(|text| parse_state(&text));
        Ok(Some(Setup {
            api,
            action,
            body,
            pings_by_uuid,
            state,
            fingerprint,
            last: Mutex::new(last),
        }))
    }

    /// The check's UUID as the last setup found it, if the pings go by it.
    pub fn known_uuid(&self) -> Option<String> {
        if !self.pings_by_uuid {
            return None;
        }
        self.last().and_then(|l| l.uuid)
    }

    fn last(&self) -> Option<Last> {
        self.last.lock().ok().and_then(|l| l.clone())
    }

    /// Whether the setup is to be applied: it never was from here, it changed, it was a
    /// day ago or more, or in the future (a clock that was once ahead).
    fn needed(&self) -> bool {
        let now = now();
        self.last().is_none_or(|last| {
            let held = last
                .refused
                .as_ref()
                .is_some_and(|(_, until)| now < *until && last.at <= now);
            last.fingerprint != self.fingerprint
                || last.at > now
                || (!held && now - last.at >= FRESH.as_secs())
                || (!held && last.refused.is_some())
                || (!held && self.pings_by_uuid && last.uuid.is_none())
        })
    }

    /// Forgets the last setup: the server did not know the check (deleted on the server),
    /// so the next run applies the setup again, and looks its UUID up again.
    pub fn forget(&self) {
        if let Some((dir, name)) = &self.state {
            dir.remove(name);
        }
        if let Ok(mut slot) = self.last.lock() {
            *slot = None;
        }
    }

    /// Applies the setup if it is needed, and gives the check the pings go to: `check`
    /// itself, or the check by the UUID the API gave. Each problem is one line; `None`
    /// when there is no check to ping (a slug with no ping key whose UUID is unknown).
    pub fn prepare(&self, check: &Check, deadline: Option<Instant>) -> Option<Check> {
        // A refusal that still stands is said again, without asking again.
        let standing = self
            .last()
            .filter(|_| !self.needed())
            .and_then(|last| last.refused)
            .map(|(why, _)| {
                format!(
                    "{why} (so the server answered this setup before; it is asked again \
                     when the settings change, or later)"
                )
            });
        let attempt = match standing {
            Some(why) => Err(why),
            None if self.needed() => self.apply(deadline),
            None => Ok(self.known_uuid()),
        };
        let uuid = match attempt {
            Ok(uuid) => uuid,
            Err(why) => {
                let then = if self.pings_by_uuid && self.known_uuid().is_none() {
                    "with no ping key, its ping URL is not known, so the run is not \
                     reported (give --ping-key, or mend the above)"
                } else {
                    "its pings go on as usual"
                };
                say(&format!(
                    "could not set up {} on {}: {why}; {then}",
                    self.shown(),
                    self.api.site()
                ));
                self.known_uuid()
            }
        };
        // A dry run shows the pings even with no UUID known (a placeholder in the URL).
        if !self.pings_by_uuid || (uuid.is_none() && self.api.is_dry_run()) {
            return Some(check.clone());
        }
        uuid.and_then(|uuid| check.with_uuid(&uuid).ok())
    }

    /// The check, as messages name it.
    fn shown(&self) -> String {
        match &self.action {
            Action::Upsert(slug) | Action::Find(slug) => format!("the check '{slug}'"),
            Action::Update(uuid) => format!("the check {}", redact_partial(uuid)),
        }
    }

    /// The one request, and what it gave: the check's UUID.
    fn apply(&self, deadline: Option<Instant>) -> Result<Option<String>, String> {
        let body = Value::Object(self.body.clone());
        let (method, path, sent) = match &self.action {
            Action::Upsert(_) => ("POST", "checks/".to_owned(), Some(&body)),
            Action::Update(uuid) => ("POST", format!("checks/{uuid}"), Some(&body)),
            Action::Find(slug) => ("GET", format!("checks/?slug={slug}"), None),
        };
        if self.api.is_dry_run() {
            say(&crate::msg::printable(&self.api.redact(&format!(
                "dry run: {method} {}/api/v3/{path}{}",
                self.api.site(),
                sent.map(|b| format!(" {b}")).unwrap_or_default()
            ))));
            return Ok(self.known_uuid());
        }
        if sent.is_some() && self.api.is_read_only() {
            return Err(
                "the API key is a read-only one (hcr_…), which cannot change checks: give a \
                 read-write key (hcw_…) from the project's settings"
                    .to_owned(),
            );
        }
        let answer = self.api.call(method, &path, sent, deadline)?;
        if (200..300).contains(&answer.status) && answer.json.is_null() {
            return Err(format!(
                "the answer ({}) is not the management API's JSON: is {} the Healthchecks \
                 site? (give it with --site-url)",
                answer.status,
                self.api.site()
            ));
        }
        let uuid = match (&self.action, answer.status) {
            (Action::Upsert(_), 200 | 201) | (Action::Update(_), 200) => uuid_of(&answer.json),
            (Action::Find(slug), 200) => {
                let found = crate::api::checks_with_slug(&answer.json, slug);
                match found.as_slice() {
                    [check] => uuid_of(check),
                    [] => {
                        return Err(format!(
                            "the API key's project has no check with the slug '{slug}': add \
                             --create, or a setting such as --schedule, to create it"
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "more than one check has the slug '{slug}': give the check's \
                             UUID (--uuid) instead"
                        ));
                    }
                }
            }
            (Action::Update(_), status) => {
                return Err(self.refused(status, refusal(&self.api, status, &answer, true)));
            }
            (_, 404) => {
                return Err(format!(
                    "there is no management API at {} (404): give the Healthchecks site's \
                     URL with --site-url",
                    self.api.site()
                ));
            }
            (action, status) => {
                let writes = !matches!(action, Action::Find(_));
                return Err(self.refused(status, refusal(&self.api, status, &answer, writes)));
            }
        };
        if self.pings_by_uuid && uuid.is_none() {
            return Err(
                "the server's answer has no UUID for the check (a read-only API key gives \
                 none: give a read-write key, or --ping-key)"
                    .to_owned(),
            );
        }
        self.remember(uuid.clone());
        Ok(uuid)
    }

    /// `why` the server refused the setup with `status`, kept for as long as [`hold`]
    /// says (with the UUID known before).
    fn refused(&self, status: u16, why: String) -> String {
        if let Some(hold) = hold(status) {
            self.keep(Last {
                fingerprint: self.fingerprint.clone(),
                at: now(),
                uuid: self.last().and_then(|l| l.uuid),
                refused: Some((why.clone(), now() + hold)),
            });
        }
        why
    }

    /// Keeps this setup, done now, in this process and in the state file.
    fn remember(&self, uuid: Option<String>) {
        self.keep(Last {
            fingerprint: self.fingerprint.clone(),
            at: now(),
            uuid,
            refused: None,
        });
    }

    /// Keeps `last` in this process and in the state file.
    fn keep(&self, last: Last) {
        if let Some((dir, name)) = &self.state {
            let mut text = format!("fingerprint {}\nat {}\n", last.fingerprint, last.at);
            if let Some(uuid) = &last.uuid {
                let _ = writeln!(text, "uuid {uuid}");
            }
            if let Some((why, until)) = &last.refused {
                let _ = writeln!(
                    text,
                    "until {until}\nrefused {}",
                    crate::msg::printable(why)
                );
            }
            dir.write(name, &text);
        }
        if let Ok(mut slot) = self.last.lock() {
            *slot = Some(last);
        }
    }
}

/// A refusal of a management request in words: what the server said, and what to do;
/// `writes` for a request that changes a check.
pub fn refusal(api: &Api, status: u16, answer: &Answer, writes: bool) -> String {
    let said = api.error_text(answer);
    match status {
        400 => {
            let field = said
                .strip_prefix("json validation error: ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(flag_for);
            match field {
                Some(flag) => format!("the server refused {flag}: {}", validation(&said)),
                None if said.is_empty() => "the server refused the request (400)".to_owned(),
                None => format!("the server refused the request: {said}"),
            }
        }
        401 if writes => "the server refused the API key (401): it is wrong, or read-only \
                          (a read-only key cannot change checks; use a read-write key \
                          from the project's settings)"
            .to_owned(),
        401 => {
            "the server refused the API key (401): check it in the project's settings".to_owned()
        }
        403 => "the server answered 403: the project has no room for another check \
                (the account's limit)"
            .to_owned(),
        404 => "the server answered 404: the API key's project has no check with this \
                UUID (is the key another project's?)"
            .to_owned(),
        429 => "the server answered 429: too many API requests (it allows about 100 a \
                minute): it is asked again a minute later"
            .to_owned(),
        status if said.is_empty() => format!("the server answered {status}"),
        status => format!("the server answered {status}: {said}"),
    }
}

/// The option behind a field the server names in a validation error.
fn flag_for(field: &str) -> Option<&'static str> {
    Some(match field {
        "schedule" => "--schedule",
        "tz" => "--tz",
        "grace" => "--grace",
        "timeout" => "--period",
        "name" => "--name",
        "tags" => "--tags",
        "desc" => "--desc",
        "channels" => "--channels",
        "slug" => "--slug",
        _ => return None,
    })
}

/// A validation error without its prefix.
fn validation(said: &str) -> &str {
    said.strip_prefix("json validation error: ").unwrap_or(said)
}

/// The UUID in a check's JSON: `uuid`, or the last part of `ping_url`.
fn uuid_of(check: &Value) -> Option<String> {
    let direct = check.get("uuid").and_then(Value::as_str);
    let from_url = || {
        check
            .get("ping_url")
            .and_then(Value::as_str)
            .and_then(|url| url.trim_end_matches('/').rsplit('/').next())
    };
    direct
        .or_else(from_url)
        .filter(|u| is_uuid(u))
        .map(str::to_ascii_lowercase)
}

/// A state file's content.
fn parse_state(text: &str) -> Option<Last> {
    let mut fingerprint = None;
    let mut at = None;
    let mut uuid = None;
    let (mut until, mut refused) = (None, None);
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("fingerprint", v)) => fingerprint = Some(v.to_owned()),
            Some(("at", v)) => at = v.parse().ok(),
            Some(("uuid", v)) if is_uuid(v) => uuid = Some(v.to_owned()),
            Some(("until", v)) => until = v.parse::<u64>().ok(),
            Some(("refused", v)) => refused = Some(crate::msg::printable(v)),
            _ => {}
        }
    }
    Some(Last {
        fingerprint: fingerprint?,
        at: at?,
        uuid,
        refused: refused.zip(until),
    })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_is_read_back() {
        let last = parse_state(
            "fingerprint 00ff\nat 1700000000\nuuid 1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b\n",
        )
        .unwrap();
        assert_eq!(last.fingerprint, "00ff");
        assert_eq!(last.at, 1_700_000_000);
        assert_eq!(
            last.uuid.as_deref(),
            Some("1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b")
        );
        assert!(parse_state("at 1\n").is_none());
        assert!(
            parse_state("fingerprint x\nat 1\nuuid ../../etc\n")
                .unwrap()
                .uuid
                .is_none()
        );
    }

    #[test]
    fn the_uuid_comes_from_the_answer() {
        let json: Value = serde_json::from_str(
            r#"{"ping_url": "https://hc-ping.com/1F1C2E3D-4B5A-6978-8A9B-0C1D2E3F4A5B"}"#,
        )
        .unwrap();
        assert_eq!(
            uuid_of(&json).as_deref(),
            Some("1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b")
        );
        assert_eq!(uuid_of(&Value::Null), None);
    }

    #[test]
    fn validation_errors_name_the_option() {
        assert_eq!(flag_for("timeout"), Some("--period"));
        assert_eq!(
            validation("json validation error: grace is too small"),
            "grace is too small"
        );
    }
}
