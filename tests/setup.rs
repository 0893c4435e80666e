//! The check's setup through the management API (`--api-key` with `--schedule`, `--grace`,
//! ...): what the loopback server's API received, what the pings did, what the user saw.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};

use support::api::{API_KEY, READ_ONLY_KEY};
use support::{PING_KEY, Reply, Server, TempDir, UUID, hcwrap, run, stderr, stdout};

/// hcwrap with its cache in `cache` and the server's ping API, plus `args`, then `-- command`.
fn wrapped(server: &Server, cache: &TempDir, args: &[&str], command: &[&str]) -> Output {
    run(hcwrap()
        .env("XDG_CACHE_HOME", &cache.0)
        .arg("--api-url")
        .arg(server.api_url())
        .args(args)
        .arg("--")
        .args(command))
}

/// The requests to the management API, and the pings, each as `METHOD path`.
fn seen(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn api_bodies(server: &Server) -> Vec<serde_json::Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| serde_json::from_slice(&r.body).expect("a JSON body"))
        .collect()
}

#[test]
fn a_check_by_slug_is_created_with_its_settings_before_its_first_ping() {
    let server = Server::start();
    let cache = TempDir::new("setup-create");
    let out = wrapped(
        &server,
        &cache,
        &[
            "--slug",
            "db-dump",
            "--ping-key",
            PING_KEY,
            "--api-key",
            API_KEY,
            "--schedule",
            "*/5 * * * *",
            "--tz",
            "Europe/Riga",
            "--grace",
            "10m",
        ],
        &["echo", "dumped"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "dumped\n");
    assert_eq!(stderr(&out), "", "a setup that works says nothing");
    server.wait_for(3);
    let base = format!("/ping/{PING_KEY}/db-dump");
    assert_eq!(
        seen(&server),
        [
            "POST /api/v3/checks/".to_owned(),
            format!("POST {base}/start"),
            format!("POST {base}")
        ]
    );
    let request = &server.requests()[0];
    assert_eq!(request.header("X-Api-Key"), Some(API_KEY));
    assert_eq!(
        api_bodies(&server)[0],
        serde_json::json!({
            "slug": "db-dump", "unique": ["slug"], "name": "db-dump",
            "schedule": "*/5 * * * *", "tz": "Europe/Riga", "grace": 600
        })
    );
    let checks = server.checks();
    let created = checks
        .iter()
        .find(|c| c["slug"] == "db-dump")
        .expect("created");
    assert_eq!(created["schedule"], "*/5 * * * *");
    assert_eq!(created["grace"], 600);
    assert_eq!(created["name"], "db-dump");
}

#[test]
fn unchanged_settings_cost_no_request_and_a_change_costs_one() {
    let server = Server::start();
    let cache = TempDir::new("setup-rate");
    let args = |grace: &'static str| {
        vec![
            "--slug",
            "hourly",
            "--ping-key",
            PING_KEY,
            "--api-key",
            API_KEY,
            "--schedule",
            "@hourly",
            "--grace",
            grace,
        ]
    };
    for _ in 0..5 {
        let out = wrapped(&server, &cache, &args("5m"), &["true"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let out = wrapped(&server, &cache, &args("7m"), &["true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    server.wait_for(14);
    let api: Vec<String> = seen(&server)
        .into_iter()
        .filter(|s| s.contains("/api/"))
        .collect();
    assert_eq!(
        api.len(),
        2,
        "one request for the first run, one for the change: {api:?}"
    );
    assert_eq!(api_bodies(&server)[1]["grace"], 420);
    assert_eq!(
        server
            .checks()
            .iter()
            .filter(|c| c["slug"] == "hourly")
            .count(),
        1
    );
}

#[test]
fn with_an_api_key_a_slug_needs_no_ping_key() {
    let server = Server::start();
    let cache = TempDir::new("setup-no-ping-key");
    let args = ["--slug", "backup", "--api-key", API_KEY, "--period", "1d"];
    let command = ["sh", "-c", "echo url=${HC_PING_URL:-none}"];
    let first = wrapped(&server, &cache, &args, &command);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // The first run learns the UUID only on its pings thread: the command did not get it.
    assert_eq!(stdout(&first), "url=none\n");
    server.wait_for(3);
    let uuid = server
        .checks()
        .iter()
        .find(|c| c["slug"] == "backup")
        .map(|c| c["uuid"].as_str().unwrap().to_owned())
        .expect("created");
    assert_eq!(
        seen(&server),
        [
            "POST /api/v3/checks/".to_owned(),
            format!("POST /ping/{uuid}/start"),
            format!("POST /ping/{uuid}")
        ]
    );
    // The next run knows it: the command gets it, and nothing is asked again.
    let second = wrapped(&server, &cache, &args, &command);
    assert_eq!(
        stdout(&second),
        format!("url={}/{uuid}\n", server.api_url())
    );
    server.wait_for(5);
    assert_eq!(
        seen(&server).iter().filter(|s| s.contains("/api/")).count(),
        1
    );
}

#[test]
fn an_existing_slug_without_settings_is_looked_up_and_an_unknown_one_is_not_made_up() {
    let server = Server::start();
    let cache = TempDir::new("setup-find");
    let out = wrapped(
        &server,
        &cache,
        &["--slug", support::SLUG, "--api-key", API_KEY],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    server.wait_for(3);
    assert_eq!(
        seen(&server),
        [
            "GET /api/v3/checks/".to_owned(),
            format!("POST /ping/{UUID}/start"),
            format!("POST /ping/{UUID}")
        ]
    );
    assert_eq!(
        server.requests()[0].query,
        format!("slug={}", support::SLUG)
    );

    let out = wrapped(
        &server,
        &cache,
        &["--slug", "nope", "--api-key", API_KEY],
        &["echo", "ran"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "ran\n");
    let said = stderr(&out);
    assert!(
        said.contains("has no check with the slug 'nope': add --create"),
        "{said}"
    );
    assert!(said.contains("so the run is not reported"), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(!seen(&server).iter().any(|s| s.contains("nope")));
}

#[test]
fn a_check_by_uuid_is_updated_with_only_the_fields_given() {
    let server = Server::start();
    let cache = TempDir::new("setup-update");
    let out = wrapped(
        &server,
        &cache,
        &[
            "--uuid",
            UUID,
            "--api-key",
            API_KEY,
            "--tags",
            "prod db",
            "--channels",
            "*",
        ],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    server.wait_for(3);
    assert_eq!(seen(&server)[0], format!("POST /api/v3/checks/{UUID}"));
    assert_eq!(
        api_bodies(&server)[0],
        serde_json::json!({"tags": "prod db", "channels": "*"})
    );
    let checks = server.checks();
    let check = checks.iter().find(|c| c["uuid"] == UUID).unwrap();
    assert_eq!(check["tags"], "prod db");
    assert_eq!(check["name"], "Nightly backup", "the name was left alone");
}

/// A run whose setup the server refuses as `reply` (or, with `Reply::Normal`, on its own):
/// the command ran, its status came out, its pings went, and one line said why.
/// With `held`, the refusal stands for later runs (400, 401, 403, 429).
fn refused(args: &[&str], reply: Reply, expected: &str, held: bool) {
    let server = Server::start();
    let cache = TempDir::new("setup-refused");
    server.script([reply]);
    let mut all = vec!["--slug", support::SLUG, "--ping-key", PING_KEY];
    all.extend_from_slice(args);
    let out = wrapped(&server, &cache, &all, &["sh", "-c", "echo ran; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ran\n");
    let said = stderr(&out);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with(&format!(
            "hcwrap: could not set up the check '{}' on {}: ",
            support::SLUG,
            server.site_url()
        )),
        "{said}"
    );
    assert!(said.contains(expected), "{said}");
    assert!(
        said.trim_end().ends_with("its pings go on as usual"),
        "{said}"
    );
    assert!(
        !said.contains(&API_KEY[8..]) && !said.contains(&READ_ONLY_KEY[8..]),
        "{said}"
    );
    let requests = server.wait_for(3);
    assert_eq!(requests[1].suffix(), "/start");
    assert_eq!(requests[2].suffix(), "/3");
    // Not remembered as done. A refusal (400, 401, 403, 429) stands for a while: the next
    // run says it again without asking; anything else is asked again.
    let again = wrapped(&server, &cache, &all, &["true"]);
    assert_eq!(again.status.code(), Some(0));
    let requests = server.wait_for(5);
    if held {
        assert_eq!(requests[3].suffix(), "/start", "asked again: {requests:?}");
        let said = stderr(&again);
        assert!(
            said.contains(expected) && said.contains("asked again when the settings change"),
            "{said}"
        );
    } else {
        assert!(requests[3].path.starts_with("/api/v3/checks/"));
    }
}

#[test]
fn a_refused_setting_is_one_line_naming_the_option_and_the_pings_go_on() {
    refused(
        &[
            "--api-key",
            API_KEY,
            "--schedule",
            "0 3 * * *",
            "--tz",
            "Africa/Abidjan",
        ],
        Reply::Normal,
        "the server refused --tz: tz is not a valid timezone",
        true,
    );
    refused(
        &["--api-key", API_KEY, "--schedule", "every day at noon"],
        Reply::Normal,
        "the server refused --schedule: schedule is not a valid cron or OnCalendar expression",
        true,
    );
}

#[test]
fn refused_keys_full_projects_and_rate_limits_are_said_as_such() {
    // A read-only key (hcr_) is known by its prefix: no request that must fail is made.
    let server = Server::start();
    let cache = TempDir::new("setup-read-only");
    let out = wrapped(
        &server,
        &cache,
        &["--uuid", UUID, "--api-key", READ_ONLY_KEY, "--grace", "1h"],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("the API key is a read-only one"),
        "{}",
        stderr(&out)
    );
    let requests = server.wait_for(2);
    assert!(
        requests.iter().all(|r| !r.path.starts_with("/api/")),
        "{requests:?}"
    );
    refused(
        &["--api-key", "hcw_wrongwrongwrongwrong", "--grace", "1h"],
        Reply::Normal,
        "401",
        true,
    );
    refused(
        &["--api-key", API_KEY, "--grace", "1h"],
        Reply::Status(403, "", vec![]),
        "no room for another check",
        true,
    );
    refused(
        &["--api-key", API_KEY, "--grace", "1h"],
        Reply::Status(429, "", vec![]),
        "too many API requests",
        true,
    );
    refused(
        &["--api-key", API_KEY, "--grace", "1h"],
        Reply::Status(500, "{\"error\": \"boom\"}", vec![]),
        "the server answered 500: boom",
        false,
    );
}

#[test]
fn a_management_api_that_hangs_never_holds_up_the_command() {
    let server = Server::start();
    let cache = TempDir::new("setup-hang");
    server.script([Reply::Hang]);
    let mut child = hcwrap()
        .env("XDG_CACHE_HOME", &cache.0)
        .args([
            "--api-url",
            &server.api_url(),
            "--uuid",
            UUID,
            "--api-key",
            API_KEY,
        ])
        .args([
            "--grace",
            "1h",
            "--ping-timeout",
            "2s",
            "--",
            "echo",
            "started",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "started\n");
    // The command ran while the API's answer was still awaited, and no ping went before it.
    let requests = server.requests();
    assert!(requests.len() <= 1, "{requests:?}");
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0));
    let said = stderr(&out);
    assert!(
        said.contains("no answer within 2s; its pings go on as usual"),
        "{said}"
    );
    let requests = server.wait_for(3);
    assert_eq!(requests[1].suffix(), "/start");
    assert_eq!(requests[2].suffix(), "");
}

#[test]
fn settings_without_an_api_key_are_a_usage_error() {
    let server = Server::start();
    let cache = TempDir::new("setup-no-key");
    let out = wrapped(
        &server,
        &cache,
        &["--uuid", UUID, "--grace", "1h"],
        &["echo", "ran"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "hcwrap: error: --grace: the check's settings are set through the management API, \
         which needs the project's API key: give --api-key or set HC_API_KEY (a read-write \
         key, from the project's settings)\n"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn hcwrap_ping_sets_the_check_up_first_and_takes_the_key_from_a_file() {
    let server = Server::start();
    let cache = TempDir::new("setup-ping");
    let key_file = cache.file("api-key", &format!("{API_KEY}\n"));
    let out = run(hcwrap()
        .env("XDG_CACHE_HOME", &cache.0)
        .env("HC_API_KEY", format!("file:{key_file}"))
        .args([
            "ping",
            "fail",
            "--api-url",
            &server.api_url(),
            "--slug",
            "hook-job",
        ])
        .args(["--create", "--period", "1h", "--message", "disk full"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    server.wait_for(2);
    let uuid = server
        .checks()
        .iter()
        .find(|c| c["slug"] == "hook-job")
        .unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        seen(&server),
        [
            "POST /api/v3/checks/".to_owned(),
            format!("POST /ping/{uuid}/fail")
        ]
    );
    assert_eq!(server.requests()[1].body_text(), "disk full");
    assert_eq!(api_bodies(&server)[0]["timeout"], 3600);
}

#[test]
fn a_dry_run_shows_the_setup_without_the_key_and_sends_nothing() {
    let server = Server::start();
    let cache = TempDir::new("setup-dry");
    let out = wrapped(
        &server,
        &cache,
        &[
            "--dry-run",
            "--slug",
            "db",
            "--api-key",
            API_KEY,
            "--schedule",
            "@daily",
            "--tz",
            "UTC",
        ],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains(&format!(
        "dry run: POST {}/api/v3/checks/ {{\"name\":\"db\",\"schedule\":\"0 0 * * *\",\"slug\":\"db\",\"tz\":\"UTC\",\"unique\":[\"slug\"]}}",
        server.site_url()
    )), "{said}");
    assert!(!said.contains(API_KEY), "{said}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_day_later_the_setup_is_applied_again_and_a_deleted_check_comes_back() {
    let server = Server::start();
    let cache = TempDir::new("setup-day");
    let args = [
        "--slug",
        "daily-job",
        "--ping-key",
        PING_KEY,
        "--api-key",
        API_KEY,
        "--schedule",
        "@daily",
    ];
    let out = wrapped(&server, &cache, &args, &["true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    server.wait_for(3);
    // The check is deleted on the server, and the state file says a day has passed.
    server.edit_checks(|checks| checks.list.retain(|c| c["slug"] != "daily-job"));
    let state_dir = cache.0.join("hcwrap");
    let state = std::fs::read_dir(&state_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("check-")
        })
        .expect("a state file");
    let text = std::fs::read_to_string(&state).unwrap();
    let at: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("at "))
        .unwrap()
        .parse()
        .unwrap();
    std::fs::write(
        &state,
        text.replace(&format!("at {at}"), &format!("at {}", at - 86_400)),
    )
    .unwrap();
    let out = wrapped(&server, &cache, &args, &["true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let requests = server.wait_for(6);
    assert_eq!(requests[3].path, "/api/v3/checks/");
    assert!(
        server.checks().iter().any(|c| c["slug"] == "daily-job"),
        "created again"
    );
    assert_eq!(requests[4].suffix(), "/start");
}

#[test]
fn hcwrap_ping_keeps_half_its_time_for_the_ping_when_the_api_hangs() {
    let server = Server::start();
    let cache = TempDir::new("setup-ping-hang");
    server.script([Reply::Hang]);
    let out = run(hcwrap()
        .env("XDG_CACHE_HOME", &cache.0)
        .args([
            "ping",
            "fail",
            "--api-url",
            &server.api_url(),
            "--uuid",
            UUID,
        ])
        .args([
            "--api-key",
            API_KEY,
            "--grace",
            "2m",
            "--max-time",
            "4s",
            "--message",
            "boom",
        ]));
    assert_eq!(out.status.code(), Some(0));
    let said = stderr(&out);
    assert!(
        said.contains("could not set up the check 1f1c… on"),
        "{said}"
    );
    assert!(said.contains("its pings go on as usual"), "{said}");
    let requests = server.wait_for(2);
    assert_eq!(requests[1].suffix(), "/fail");
    assert_eq!(requests[1].body_text(), "boom");
}

#[test]
fn no_secret_is_shown_whole_or_in_part() {
    let server = Server::start();
    let cache = TempDir::new("setup-secrets");
    let out = wrapped(
        &server,
        &cache,
        &[
            "--dry-run",
            "--uuid",
            UUID,
            "--api-key",
            API_KEY,
            "--grace",
            "5m",
        ],
        &["true"],
    );
    let said = stderr(&out);
    assert!(
        said.contains("/api/v3/checks/1f1c… {\"grace\":300}"),
        "{said}"
    );
    assert!(!said.contains(&UUID[8..]), "{said}");
    let key = "SECRETLEGACYKEY0123456789abcd ef";
    let out = wrapped(
        &server,
        &cache,
        &["--uuid", UUID, "--api-key", key, "--grace", "5m"],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(!stderr(&out).contains("SECR"), "{}", stderr(&out));
}

#[test]
fn a_lookup_takes_only_the_check_with_that_very_slug() {
    let server = Server::start();
    let cache = TempDir::new("setup-lookup");
    // A server that ignores the filter, answering with another check.
    server.script([Reply::Status(
        200,
        r#"{"checks": [{"slug": "other", "uuid": "2f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"}]}"#,
        vec![],
    )]);
    let out = wrapped(
        &server,
        &cache,
        &["--slug", "job1", "--api-key", API_KEY],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("has no check with the slug 'job1'"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.requests().len(), 1, "nothing pinged");
    // Two checks with one slug: ambiguous, as the ping API says with 409.
    server.edit_checks(|checks| {
        let mut twin = checks.list[0].clone();
        twin.insert(
            "uuid".into(),
            serde_json::json!("3f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"),
        );
        checks.list.push(twin);
    });
    let out = wrapped(
        &server,
        &cache,
        &["--slug", support::SLUG, "--api-key", API_KEY],
        &["true"],
    );
    assert!(
        stderr(&out).contains("more than one check has the slug"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_check_deleted_on_the_server_is_looked_up_again_on_the_next_run() {
    let server = Server::start();
    let cache = TempDir::new("setup-deleted");
    let args = [
        "--slug",
        "gone-soon",
        "--api-key",
        API_KEY,
        "--period",
        "1h",
    ];
    wrapped(&server, &cache, &args, &["true"]);
    server.wait_for(3);
    server.edit_checks(|checks| checks.list.retain(|c| c["slug"] != "gone-soon"));
    // The remembered UUID is unknown now: 404, and the setup is forgotten...
    wrapped(&server, &cache, &args, &["true"]);
    server.wait_for(5);
    // ...so the next run sets the check up again.
    let out = wrapped(&server, &cache, &args, &["true"]);
    assert_eq!(out.status.code(), Some(0));
    let requests = server.wait_for(8);
    assert_eq!(requests[5].path, "/api/v3/checks/");
    assert!(server.checks().iter().any(|c| c["slug"] == "gone-soon"));
}

#[test]
fn an_empty_api_key_from_the_environment_never_stops_the_job() {
    let server = Server::start();
    let cache = TempDir::new("setup-fork");
    let out = run(hcwrap()
        .env("XDG_CACHE_HOME", &cache.0)
        .env("HC_PING_URL", server.check_url())
        .env("HC_API_KEY", "")
        .args(["--grace", "2m", "--", "echo", "ran"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ran\n");
    assert!(
        stderr(&out).contains("warning: the check's settings are not applied: HC_API_KEY is empty"),
        "{}",
        stderr(&out)
    );
    server.wait_for(2);
}

#[test]
fn headers_and_the_key_go_only_where_the_check_is() {
    let server = Server::start();
    let other = Server::start();
    let cache = TempDir::new("setup-origin");
    let out = wrapped(
        &server,
        &cache,
        &[
            "--uuid",
            UUID,
            "-H",
            "X-Token: tok123456",
            "--site-url",
            &other.site_url(),
            "--api-key",
            API_KEY,
            "--grace",
            "3m",
        ],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let api = &other.wait_for(1)[0];
    assert_eq!(
        api.header("X-Token"),
        None,
        "a header for the ping server went elsewhere"
    );
    assert_eq!(server.wait_for(2)[0].header("X-Token"), Some("tok123456"));
    // A variable does not send the key away from the site the check's URL implies.
    let cache = TempDir::new("setup-origin-env");
    let out = run(hcwrap()
        .env("XDG_CACHE_HOME", &cache.0)
        .env("HC_SITE_URL", other.site_url())
        .args([
            "--url",
            &server.check_url(),
            "--api-key",
            API_KEY,
            "--grace",
            "4m",
            "--",
            "true",
        ]));
    assert_eq!(out.status.code(), Some(0));
    server.wait_for(5);
    assert_eq!(other.requests().len(), 1);
}

#[test]
fn a_slug_over_100_characters_is_refused_before_the_run() {
    let server = Server::start();
    let cache = TempDir::new("setup-long-slug");
    let slug = "a".repeat(101);
    let out = wrapped(
        &server,
        &cache,
        &[
            "--slug",
            &slug,
            "--ping-key",
            PING_KEY,
            "--api-key",
            API_KEY,
            "--grace",
            "2m",
        ],
        &["echo", "ran"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("over 100 characters"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_tz_rule_that_is_not_a_zone_name_is_said_and_passed_over() {
    let server = Server::start();
    let cache = TempDir::new("setup-posix-tz");
    let out = run(hcwrap()
        .env("XDG_CACHE_HOME", &cache.0)
        .env("TZ", "EST5EDT,M3.2.0,M11.1.0")
        .args([
            "--dry-run",
            "--uuid",
            UUID,
            "--api-url",
            &server.api_url(),
            "--api-key",
            API_KEY,
        ])
        .args(["--schedule", "0 3 * * *", "--", "true"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("warning: TZ='EST5EDT,M3.2.0,M11.1.0' is not a time zone name"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_hosted_services_ok_not_found_forgets_the_check_too() {
    let server = Server::start();
    let cache = TempDir::new("setup-ok-not-found");
    let args = [
        "--slug",
        "gone-hosted",
        "--api-key",
        API_KEY,
        "--period",
        "1h",
    ];
    wrapped(&server, &cache, &args, &["true"]);
    server.wait_for(3);
    // As hc-ping.com answers a UUID it does not know.
    server.script([Reply::Status(200, "OK (not found)", vec![])]);
    let out = wrapped(&server, &cache, &args, &["true"]);
    assert!(
        stderr(&out).contains("was not recorded: the server does not know this check"),
        "{}",
        stderr(&out)
    );
    server.wait_for(5);
    wrapped(&server, &cache, &args, &["true"]);
    let requests = server.wait_for(8);
    assert_eq!(
        requests[5].path, "/api/v3/checks/",
        "set up again: {requests:?}"
    );
}

#[test]
fn a_cache_directory_not_made_yet_is_made() {
    let server = Server::start();
    let cache = TempDir::new("setup-xdg-missing");
    let missing = cache.0.join("not-yet");
    for _ in 0..3 {
        let out = run(hcwrap()
            .env("XDG_CACHE_HOME", &missing)
            .args([
                "--api-url",
                &server.api_url(),
                "--uuid",
                UUID,
                "--api-key",
                API_KEY,
            ])
            .args(["--grace", "2m", "--", "true"]));
        assert_eq!(out.status.code(), Some(0));
    }
    let requests = server.wait_for(7);
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .count(),
        1
    );
    assert!(missing.join("hcwrap").is_dir());
}
