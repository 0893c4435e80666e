//! `hcwrap sync`: crontabs and timers become checks. What the management API received,
//! the plan the user read, and the files as they were written.

mod support;

use std::process::Output;

use support::api::{API_KEY, READ_ONLY_KEY};
use support::{PING_KEY, Server, TempDir, hcwrap, run, stderr, stdout};

const HCWRAP: &str = "/usr/bin/hcwrap";

fn sync(server: &Server, args: &[&str]) -> Output {
    run(hcwrap()
        .args(["sync", "--api-url", &server.api_url(), "--api-key", API_KEY])
        .args(["--hcwrap", HCWRAP, "--tz", "UTC"])
        .args(args))
}

fn api_posts(server: &Server) -> Vec<serde_json::Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/api/"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// A system crontab that exercises every rule: comments, blank lines, environment
/// lines, `%` and its escape, trailing spaces, a slug comment, a nickname, `@reboot`, a
/// shell command, a duplicate, a line hcwrap wraps already, one runitor wraps.
const CRONTAB: &str = "\
# /etc/cron.d/backup: nightly jobs
SHELL=/bin/bash
MAILTO=ops@example.org

CRON_TZ=Europe/Riga
# hcwrap: slug=db-dump
30 2 * * * postgres pg_dumpall | gzip > /srv/db.gz   
0 4 * * * root /usr/local/bin/rotate.sh --keep 7
@hourly root /usr/local/bin/rotate.sh --quick
@reboot root /usr/local/bin/warm-cache
0 5 * * * root mail -s report ops%Everything is fine.%Bye
0 6 * * * root date +\\%F >> /var/log/dates
*/5 * * * * root /usr/bin/hcwrap --slug queue -- /usr/local/bin/drain
0 1 * * 0 root /usr/local/bin/runitor -uuid 1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b -- /usr/local/bin/weekly
";

#[test]
fn a_crontab_is_planned_without_a_change_and_applied_byte_for_byte_then_left_alone() {
    let server = Server::start();
    let dir = TempDir::new("sync-file");
    let path = dir.file("backup", CRONTAB);
    let key = dir.file("ping-key", PING_KEY);
    let key_arg = format!("file:{key}");
    let args = ["--crontab", &path, "--ping-key", &key_arg];

    let plan = sync(&server, &args);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        CRONTAB,
        "a plan changes nothing"
    );
    assert!(api_posts(&server).is_empty());
    for expected in [
        "db-dump   30 2 * * *",
        "Europe/Riga",
        "rotate    0 4 * * *",
        "rotate-2  0 * * * *",
        "skip: @reboot is not a schedule",
        "skip: runitor wraps it: --migrate-runitor rewrites it for hcwrap",
        "queue",
        "+HC_PING_KEY=file:",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(
        !text.contains("4b5a-6978"),
        "a UUID in a command is cut short:\n{text}"
    );

    let applied = sync(&server, &[&args[..], &["--apply"]].concat());
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}{}",
        stdout(&applied),
        stderr(&applied)
    );
    let written = std::fs::read_to_string(&path).unwrap();
    let expected = CRONTAB
        .replace(
            "CRON_TZ=Europe/Riga\n",
            &format!(
                "CRON_TZ=Europe/Riga\n# Added by hcwrap sync: what the wrapped jobs ping with.\n\
                 HC_API_URL={}\nHC_PING_KEY={key_arg}\n",
                server.api_url()
            ),
        )
        .replace(
            "postgres pg_dumpall | gzip > /srv/db.gz   ",
            "postgres /usr/bin/hcwrap --slug db-dump -- /bin/bash -c 'pg_dumpall | gzip > /srv/db.gz'   ",
        )
        .replace("root /usr/local/bin/rotate.sh --keep 7", "root /usr/bin/hcwrap --slug rotate -- /usr/local/bin/rotate.sh --keep 7")
        .replace("root /usr/local/bin/rotate.sh --quick", "root /usr/bin/hcwrap --slug rotate-2 -- /usr/local/bin/rotate.sh --quick")
        .replace("root mail -s report ops%", "root /usr/bin/hcwrap --slug mail -- mail -s report ops%")
        .replace("root date +\\%F >> /var/log/dates", "root /usr/bin/hcwrap --slug date -- /bin/bash -c 'date +\\%F >> /var/log/dates'");
    assert_eq!(written, expected);
    assert_eq!(
        std::fs::read_to_string(format!("{path}.hcwrap-backup")).unwrap(),
        CRONTAB
    );
    let checks = server.checks();
    let db = checks.iter().find(|c| c["slug"] == "db-dump").unwrap();
    assert_eq!(db["schedule"], "30 2 * * *");
    assert_eq!(db["tz"], "Europe/Riga");
    assert_eq!(db["grace"], 6 * 3600);
    assert_eq!(db["name"], "db-dump");
    let hourly = checks.iter().find(|c| c["slug"] == "rotate-2").unwrap();
    assert_eq!(
        (hourly["schedule"].as_str(), hourly["grace"].as_u64()),
        (Some("0 * * * *"), Some(900))
    );
    assert!(
        checks.iter().any(|c| c["slug"] == "queue"),
        "a wrapped line's check is set up too"
    );

    // Twice: nothing changes, nothing is asked of the server but the list.
    let posts = api_posts(&server).len();
    let again = sync(&server, &[&args[..], &["--apply"]].concat());
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    assert_eq!(api_posts(&server).len(), posts, "{}", stdout(&again));
    assert!(
        stdout(&again).contains("No crontab line or drop-in file changes."),
        "{}",
        stdout(&again)
    );
}

#[test]
fn runitor_lines_are_migrated_when_asked() {
    let server = Server::start();
    let dir = TempDir::new("sync-runitor");
    let path = dir.file("weekly", "HC_PING_KEY=file:/etc/hc/key\n0 1 * * 0 root /usr/local/bin/runitor -uuid 1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b -- /usr/local/bin/weekly --all\n");
    let out = sync(
        &server,
        &["--crontab", &path, "--migrate-runitor", "--apply"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!(
            "HC_PING_KEY=file:/etc/hc/key\n# Added by hcwrap sync: what the wrapped jobs ping with.\n\
             HC_API_URL={}\n0 1 * * 0 root /usr/bin/hcwrap --slug weekly -- /usr/local/bin/weekly --all\n",
            server.api_url()
        )
    );
}

#[test]
fn a_crontab_cron_would_not_read_is_refused_whole_with_its_line() {
    let server = Server::start();
    let dir = TempDir::new("sync-bad");
    let path = dir.file("bad", "0 3 * * * root ok\n0 3 * * * root\n");
    let out = sync(&server, &["--crontab", &path, "--apply"]);
    assert_eq!(out.status.code(), Some(125));
    let said = stderr(&out);
    assert!(
        said.contains("cannot be read as a crontab, so it is left alone: line 2: no command"),
        "{said}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn a_key_given_as_itself_is_never_written_into_a_crontab() {
    let server = Server::start();
    let dir = TempDir::new("sync-key");
    let path = dir.file("job", "0 3 * * * root /usr/bin/backup\n");
    let out = sync(
        &server,
        &["--crontab", &path, "--ping-key", PING_KEY, "--apply"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("skip: the wrapped jobs need a key to ping with"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "0 3 * * * root /usr/bin/backup\n"
    );
    assert!(!stdout(&out).contains(PING_KEY) && !stderr(&out).contains(PING_KEY));
}

#[test]
fn a_check_the_server_refuses_leaves_its_line_as_it_was() {
    let server = Server::start();
    let dir = TempDir::new("sync-refused");
    server.edit_checks(|checks| checks.room = 1);
    let path = dir.file(
        "jobs",
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n",
    );
    let out = sync(&server, &["--crontab", &path, "--apply"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("could not set up the check 'backup': the server answered 403"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n"
    );
}

#[test]
fn a_read_only_key_plans_but_cannot_apply() {
    let server = Server::start();
    let dir = TempDir::new("sync-ro");
    let path = dir.file(
        "jobs",
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n",
    );
    let out = run(hcwrap()
        .args([
            "sync",
            "--api-url",
            &server.api_url(),
            "--api-key",
            READ_ONLY_KEY,
            "--hcwrap",
            HCWRAP,
        ])
        .args(["--crontab", &path]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("create"), "{}", stdout(&out));
}

#[test]
fn timers_get_drop_in_files_that_wrap_their_service() {
    let server = Server::start();
    let dir = TempDir::new("sync-systemd");
    dir.file(
        "backup.timer",
        "[Timer]\nOnCalendar=*-*-* 03:00:00\nPersistent=true\n",
    );
    dir.file(
        "backup.service",
        "[Service]\nType=oneshot\nExecStart=-/usr/local/bin/backup --full\n",
    );
    dir.file("boot.timer", "[Timer]\nOnBootSec=5min\n");
    dir.file("boot.service", "[Service]\nExecStart=/bin/true\n");
    let dropins = TempDir::new("sync-dropins");
    let systemd = format!("--systemd={}", dir.0.display());
    let args = [
        systemd.as_str(),
        "--dropin-dir",
        dropins.0.to_str().unwrap(),
        "--ping-key",
        "file:/etc/hc/key",
    ];
    let out = sync(&server, &[&args[..], &["--apply"]].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("skip: it has no OnCalendar="), "{text}");
    assert!(text.contains("systemctl daemon-reload"), "{text}");
    let dropin = std::fs::read_to_string(dropins.0.join("backup.service.d/hcwrap.conf")).unwrap();
    assert!(dropin.ends_with(
        &format!(
            "[Service]\nEnvironment=HC_API_URL={}\nEnvironment=HC_PING_KEY=file:/etc/hc/key\n\
             ExecStart=\nExecStart=-/usr/bin/hcwrap --slug backup -- /usr/local/bin/backup --full\n",
            server.api_url()
        )
    ), "{dropin}");
    let check = server
        .checks()
        .into_iter()
        .find(|c| c["slug"] == "backup")
        .unwrap();
    assert_eq!(check["schedule"], "*-*-* 03:00:00");
    assert_eq!(check["grace"], 3600);
    // Twice: recognised, nothing written or asked again.
    let posts = api_posts(&server).len();
    let again = sync(&server, &[&args[..], &["--apply"]].concat());
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(api_posts(&server).len(), posts, "{}", stdout(&again));
    assert!(stdout(&again).contains("unchanged"), "{}", stdout(&again));
}
