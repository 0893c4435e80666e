//! The management API (v3) of the loopback server, as
//! `../shared/healthchecks-management-api.md` describes it: the calls hcwrap uses, the
//! fields' validation, and the answers' statuses and errors.

use serde_json::{Map, Value, json};

use super::{Request, SLUG, UUID};

/// A read-write API key of the project that owns `PING_KEY`.
pub const API_KEY: &str = "hcw_rw0123456789abcdefghijklmnopq";
/// A read-only key of the same project.
pub const READ_ONLY_KEY: &str = "hcr_ro0123456789abcdefghijklmnopq";
/// Time zones the double knows (the real server knows every IANA name).
const ZONES: &[&str] = &[
    "UTC",
    "Etc/UTC",
    "Europe/Riga",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
];

/// The project's checks, as the API keeps them.
#[derive(Debug)]
pub struct Checks {
    pub list: Vec<Map<String, Value>>,
    created: usize,
    /// The most checks the project may have (403 beyond it).
    pub room: usize,
}

impl Default for Checks {
    fn default() -> Self {
        let mut existing = defaults();
        existing.insert("name".into(), json!("Nightly backup"));
        existing.insert("slug".into(), json!(SLUG));
        existing.insert("uuid".into(), json!(UUID));
        Checks {
            list: vec![existing],
            created: 0,
            room: 20,
        }
    }
}

/// A new check's fields: what the server gives one.
fn defaults() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "name": "", "slug": "", "tags": "", "desc": "", "grace": 3600, "timeout": 86400,
        "n_pings": 0, "status": "new", "manual_resume": false, "methods": "",
        "filter_http_body": false, "success_kw": "", "failure_kw": "", "start_kw": "",
        "filter_default_fail": false, "channels": "*",
    }) else {
        unreachable!()
    };
    map
}

impl Checks {
    pub fn by_uuid(&self, uuid: &str) -> Option<&Map<String, Value>> {
        self.list.iter().find(|c| c["uuid"] == uuid)
    }

    pub fn by_slug(&self, slug: &str) -> Option<&Map<String, Value>> {
        self.list.iter().find(|c| c["slug"] == slug)
    }

    /// Whether a ping by UUID or by slug (under `PING_KEY`) finds a check.
    pub fn knows(&self, id: &str) -> bool {
        !id.is_empty() && self.list.iter().any(|c| c["uuid"] == id || c["slug"] == id)
    }
}

/// The answer to a request under `/api/v3/`: status and JSON body.
pub fn answer(r: &Request, checks: &mut Checks, ping_base: &str) -> (u16, String) {
    let (status, body) = route(r, checks, ping_base);
    (status, body.map_or_else(String::new, |b| b.to_string()))
}

fn error(status: u16, text: &str) -> (u16, Option<Value>) {
    (status, Some(json!({ "error": text })))
}

fn route(r: &Request, checks: &mut Checks, ping_base: &str) -> (u16, Option<Value>) {
    let write = r.method == "POST";
    match r.header("X-Api-Key") {
        None => return error(401, "missing api key"),
        Some(API_KEY) => {}
        Some(READ_ONLY_KEY) if !write => {}
        Some(_) => return error(401, "wrong api key"),
    }
    let read_only = r.header("X-Api-Key") == Some(READ_ONLY_KEY);
    let show = |c: &Map<String, Value>| shown(c, read_only, ping_base);
    let path = r.path.strip_prefix("/api/v3/checks/").unwrap_or("-");
    match (r.method.as_str(), path) {
        ("GET", "") => {
            let slug = r.query.split('&').find_map(|p| p.strip_prefix("slug="));
            let list: Vec<Value> = checks
                .list
                .iter()
                .filter(|c| slug.is_none_or(|s| c["slug"] == s))
                .map(show)
                .collect();
            (200, Some(json!({ "checks": list })))
        }
        ("GET", uuid) => match checks.by_uuid(uuid) {
            Some(c) => (200, Some(show(c))),
            None => (404, None),
        },
        ("POST", target) => {
            if !r
                .header("Content-Type")
                .is_some_and(|t| t.starts_with("application/json"))
            {
                return error(400, "could not parse request body");
            }
            let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&r.body) else {
                return error(400, "could not parse request body");
            };
            if let Err(why) = validate(&fields) {
                return error(400, &format!("json validation error: {why}"));
            }
            let existing = if target.is_empty() {
                let unique: Vec<&str> = fields
                    .get("unique")
                    .and_then(Value::as_array)
                    .map(|u| u.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                checks.list.iter().position(|c| {
                    !unique.is_empty() && unique.iter().all(|k| fields.get(*k) == c.get(*k))
                })
            } else {
                match checks.list.iter().position(|c| c["uuid"] == target) {
                    Some(i) => Some(i),
                    None => return (404, None),
                }
            };
            let (status, index) = if let Some(i) = existing {
                (200, i)
            } else {
                if checks.list.len() >= checks.room {
                    return (403, None);
                }
                checks.created += 1;
                let mut check = defaults();
                let n = checks.created;
                check.insert(
                    "uuid".into(),
                    json!(format!("{n:08x}-0000-4000-8000-{n:012x}")),
                );
                checks.list.push(check);
                (201, checks.list.len() - 1)
            };
            let check = &mut checks.list[index];
            for (key, value) in fields {
                if key == "unique" {
                    continue;
                }
                if key == "timeout" {
                    check.remove("schedule");
                    check.remove("tz");
                }
                if key == "schedule" {
                    check.remove("timeout");
                    check.entry("tz").or_insert(json!("UTC"));
                }
                check.insert(key, value);
            }
            (status, Some(show(check)))
        }
        _ => (405, None),
    }
}

/// The check as the API shows it: with its UUID and URLs for a read-write key, a
/// `unique_key` instead for a read-only one.
fn shown(c: &Map<String, Value>, read_only: bool, ping_base: &str) -> Value {
    let mut c = c.clone();
    let uuid = c["uuid"].as_str().unwrap_or_default().to_owned();
    if read_only {
        c.remove("uuid");
        c.insert("unique_key".into(), json!(format!("{:x}", uuid.len())));
    } else {
        c.insert("ping_url".into(), json!(format!("{ping_base}/{uuid}")));
        c.insert("update_url".into(), json!(format!("/api/v3/checks/{uuid}")));
    }
    Value::Object(c)
}

/// The server's validation of a create or update.
fn validate(fields: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in fields {
        if value.is_null() {
            return Err(format!("{key} is not a string"));
        }
        match key.as_str() {
            "timeout" | "grace" => {
                let n = value.as_u64().ok_or(format!("{key} is not a number"))?;
                if n < 60 {
                    return Err(format!("{key} is too small"));
                }
                if n > 31_536_000 {
                    return Err(format!("{key} is too large"));
                }
            }
            "name" | "schedule" | "slug" | "tags" | "desc" | "tz" | "channels" => {
                let text = value.as_str().ok_or(format!("{key} is not a string"))?;
                let too_long = matches!(key.as_str(), "name" | "schedule" | "slug")
                    && text.chars().count() > 100;
                if too_long {
                    return Err(format!("{key} is too long"));
                }
                match key.as_str() {
                    "slug"
                        if !text.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                        }) =>
                    {
                        return Err("slug does not match pattern".into());
                    }
                    "tz" if !ZONES.contains(&text) => {
                        return Err("tz is not a valid timezone".into());
                    }
                    "schedule" if !valid_schedule(text) => {
                        return Err("schedule is not a valid cron or OnCalendar expression".into());
                    }
                    _ => {}
                }
            }
            "unique" => {
                let ok = value.as_array().is_some_and(|u| {
                    u.iter().all(|k| {
                        matches!(
                            k.as_str(),
                            Some("name" | "slug" | "tags" | "timeout" | "grace")
                        )
                    })
                });
                if !ok {
                    return Err("unique has an unexpected value".into());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Five cron fields of cron's characters, or something with a time in it or a shorthand
/// (`OnCalendar`).
fn valid_schedule(text: &str) -> bool {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let cron = fields.len() == 5
        && fields.iter().all(|f| {
            f.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"*/,-".contains(&b))
        });
    let shorthand = [
        "minutely",
        "hourly",
        "daily",
        "weekly",
        "monthly",
        "yearly",
        "annually",
        "quarterly",
        "semiannually",
    ];
    cron || text.contains(':') || text.lines().all(|l| shorthand.contains(&l.trim()))
}
