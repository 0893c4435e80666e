//! `hcwrap sync`: crontabs and timers become checks. What the management API received,
//! the plan the user read, and the files as they were written.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use support::api::{API_KEY, READ_ONLY_KEY};
use support::{PING_KEY, Reply, Server, TempDir, hcwrap, run, stderr, stdout};

/// The hcwrap the wrapped lines name: this build (it must exist, and root can run it).
const HCWRAP: &str = env!("CARGO_BIN_EXE_hcwrap");

fn sync(server: &Server, args: &[&str]) -> Output {
    run(hcwrap()
        .args(["sync", "--api-url", &server.api_url(), "--api-key", API_KEY])
        .args(["--hcwrap", HCWRAP, "--tz", "UTC"])
        .args(args))
}

/// Where sync keeps the old text of the crontab at `path`.
fn backup(path: &str) -> String {
    let path = std::path::Path::new(path);
    let name = path.file_name().unwrap().to_string_lossy();
    path.with_file_name(format!(".{name}.hcwrap-backup"))
        .to_string_lossy()
        .into_owned()
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

# hcwrap: slug=db-dump
30 2 * * * root pg_dumpall | gzip > /srv/db.gz   
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
        "rotate    0 4 * * *",
        "rotate-2  0 * * * *",
        "skip: @reboot is not a schedule",
        "skip: runitor wraps it: --migrate-runitor rewrites it for hcwrap",
        "queue",
        // A runitor line below would read HC_API_URL: the key goes on each wrapped line.
        "--ping-key=file:",
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
    let expected = format!(
        "\
# /etc/cron.d/backup: nightly jobs
SHELL=/bin/bash
MAILTO=ops@example.org

# hcwrap: slug=db-dump
30 2 * * * root {HCWRAP} {o} --slug=db-dump -- /bin/bash -c 'pg_dumpall | gzip > /srv/db.gz'   
0 4 * * * root {HCWRAP} {o} --slug=rotate -- /usr/local/bin/rotate.sh --keep 7
@hourly root {HCWRAP} {o} --slug=rotate-2 -- /usr/local/bin/rotate.sh --quick
@reboot root /usr/local/bin/warm-cache
0 5 * * * root {HCWRAP} {o} --slug=mail -- mail -s report ops%Everything is fine.%Bye
0 6 * * * root {HCWRAP} {o} --slug=date -- /bin/bash -c 'date +\\%F >> /var/log/dates'
*/5 * * * * root /usr/bin/hcwrap --slug queue -- /usr/local/bin/drain
0 1 * * 0 root /usr/local/bin/runitor -uuid 1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b -- /usr/local/bin/weekly
",
        o = format!("--api-url={} --ping-key={key_arg}", server.api_url())
    );
    assert_eq!(written, expected);
    assert_eq!(std::fs::read_to_string(backup(&path)).unwrap(), CRONTAB);
    let checks = server.checks();
    let db = checks.iter().find(|c| c["slug"] == "db-dump").unwrap();
    assert_eq!(db["schedule"], "30 2 * * *");
    assert_eq!(db["tz"], "UTC");
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
             HC_API_URL={}\n0 1 * * 0 root {HCWRAP} --slug=weekly -- /usr/local/bin/weekly --all\n",
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
    // Another drop-in's ExecStart= is the one that runs: it is what gets wrapped.
    std::fs::create_dir_all(dir.0.join("other.service.d")).unwrap();
    dir.file("other.timer", "[Timer]\nOnCalendar=hourly\n");
    dir.file("other.service", "[Service]\nExecStart=/usr/bin/first\n");
    dir.file(
        "other.service.d/10-override.conf",
        "[Service]\nExecStart=\nExecStart=/usr/bin/second\n",
    );
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
    assert!(
        dropin.ends_with(&format!(
            "[Service]\nEnvironment=HC_API_URL={}\nEnvironment=HC_PING_KEY=file:/etc/hc/key\n\
             ExecStart=\nExecStart=-{HCWRAP} --slug=backup -- /usr/local/bin/backup --full\n",
            server.api_url()
        )),
        "{dropin}"
    );
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

#[test]
fn a_backup_path_that_is_a_symbolic_link_is_replaced_not_written_through() {
    let server = Server::start();
    let dir = TempDir::new("sync-symlink");
    let victim = dir.file("victim", "precious\n");
    let path = dir.file(
        "jobs",
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n",
    );
    std::os::unix::fs::symlink(&victim, backup(&path)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = sync(&server, &["--crontab", &path, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let backup = std::fs::symlink_metadata(backup(&path)).unwrap();
    assert!(backup.is_file(), "the link itself was replaced");
    assert_eq!(
        backup.permissions().mode() & 0o777,
        0o600,
        "as private as the crontab"
    );
    let written = std::fs::metadata(&path).unwrap();
    assert_eq!(written.permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_file_edited_while_the_checks_are_set_up_is_not_overwritten() {
    let server = Server::start();
    let dir = TempDir::new("sync-edited");
    let text = "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/one\n0 4 * * * root /usr/bin/two\n";
    let path = dir.file("jobs", text);
    // The list and the first check answer; the second hangs until --ping-timeout.
    server.script([Reply::Normal, Reply::Normal, Reply::Hang]);
    let child = hcwrap()
        .args(["sync", "--api-url", &server.api_url(), "--api-key", API_KEY])
        .args(["--hcwrap", HCWRAP, "--tz", "UTC", "--ping-timeout", "2s"])
        .args(["--crontab", &path, "--apply"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    server.wait_for(3);
    let edited = format!("{text}# added by the admin meanwhile\n");
    std::fs::write(&path, &edited).unwrap();
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("changed while hcwrap sync ran; nothing was written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
}

#[test]
fn key_paths_that_cron_or_systemd_would_misread_are_refused() {
    let server = Server::start();
    let dir = TempDir::new("sync-key-path");
    let path = dir.file("jobs", "0 3 * * * root /usr/bin/backup\n");
    for key in [
        "file:/k\n* * * * * root touch /tmp/INJECTED",
        "file:relative/key",
        "file:/my dir/key",
        "file:/a%b",
    ] {
        let out = sync(&server, &["--crontab", &path, "--ping-key", key, "--apply"]);
        assert_eq!(out.status.code(), Some(125), "{key:?}");
        assert!(
            stderr(&out).contains("must be an absolute path with no"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "0 3 * * * root /usr/bin/backup\n"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn environment_lines_count_for_the_jobs_below_them() {
    let server = Server::start();
    let dir = TempDir::new("sync-env");
    let text = "0 1 * * * root /usr/bin/early\nHC_PING_KEY=file:/k\n0 2 * * * root /usr/bin/late\n\
                HC_API_URL=https://other.example/ping\n0 3 * * * root /usr/bin/elsewhere\n";
    let path = dir.file("jobs", text);
    let out = sync(
        &server,
        &[
            "--crontab",
            &path,
            "--ping-key",
            "file:/etc/hc/key",
            "--apply",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("skip: the crontab sets HC_API_URL above it to another server"),
        "{}",
        stdout(&out)
    );
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with(&format!(
        "# Added by hcwrap sync: what the wrapped jobs ping with.\nHC_API_URL={}\nHC_PING_KEY=file:/etc/hc/key\n0 1 * * * root {HCWRAP} --slug=early",
        server.api_url()
    )), "{written}");
    assert!(
        written.ends_with("0 3 * * * root /usr/bin/elsewhere\n"),
        "{written}"
    );
}

#[test]
fn a_slug_another_host_synced_is_not_taken_over() {
    let server = Server::start();
    let dir = TempDir::new("sync-collision");
    server.edit_checks(|checks| {
        let mut theirs = checks.list[0].clone();
        theirs.insert("slug".into(), serde_json::json!("backup"));
        theirs.insert(
            "uuid".into(),
            serde_json::json!("5f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"),
        );
        theirs.insert(
            "desc".into(),
            serde_json::json!("hcwrap sync: otherhost: /etc/cron.d/x"),
        );
        checks.list.push(theirs);
    });
    let path = dir.file(
        "jobs",
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n",
    );
    let out = sync(&server, &["--crontab", &path, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("--slug=backup-2 --")
    );
    let checks = server.checks();
    let ours = checks.iter().find(|c| c["slug"] == "backup-2").unwrap();
    assert!(
        ours["desc"].as_str().unwrap().starts_with("hcwrap sync: "),
        "{ours:?}"
    );
    assert!(ours["desc"].as_str().unwrap().ends_with(&path), "{ours:?}");
}

#[test]
fn nothing_is_set_up_for_a_file_that_cannot_be_written() {
    let server = Server::start();
    let dir = TempDir::new("sync-preflight");
    let path = dir.file(
        "jobs",
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n",
    );
    std::fs::create_dir(backup(&path)).unwrap();
    let out = sync(&server, &["--crontab", &path, "--apply"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is a directory, so"),
        "{}",
        stderr(&out)
    );
    assert!(
        api_posts(&server).is_empty(),
        "no check for a line that stays as it was"
    );
}

#[test]
fn a_closed_stdout_or_a_server_that_is_not_healthchecks_fails_cleanly() {
    let server = Server::start();
    let dir = TempDir::new("sync-stdout");
    let path = dir.file(
        "jobs",
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n",
    );
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = run(hcwrap()
        .args([
            "sync",
            "--api-url",
            &server.api_url(),
            "--api-key",
            API_KEY,
            "--hcwrap",
            HCWRAP,
        ])
        .args(["--crontab", &path])
        .stdout(full));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    server.script([Reply::Status(200, "<html>hello</html>", vec![])]);
    let out = sync(&server, &["--crontab", &path, "--apply"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not the management API's list of checks"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n"
    );
}

#[test]
fn a_crontab_that_is_not_utf8_is_refused_naming_the_line() {
    let server = Server::start();
    let dir = TempDir::new("sync-utf8");
    let path = dir.0.join("jobs");
    std::fs::write(&path, b"# ok\n# caf\xe9\n0 3 * * * root /bin/true\n").unwrap();
    let out = sync(&server, &["--crontab", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("line 2 is not UTF-8 text"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn lines_cron_reads_otherwise_are_left_alone_saying_why() {
    let server = Server::start();
    let dir = TempDir::new("sync-edges");
    let long = format!("0 1 * * * root echo {}\n", "x".repeat(990));
    let text = format!(
        "HC_PING_KEY=file:/k\n\
         0 2 * * * root /tmp/argdump a\\ \n\
         {long}\
         SHELL=/usr/bin/fish\n\
         0 3 * * * root echo fishy\n"
    );
    let path = dir.file("jobs", &text);
    let out = sync(&server, &["--crontab", &path, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = stdout(&out);
    assert!(
        plan.contains("its command would be over 998 characters"),
        "{plan}"
    );
    assert!(plan.contains("SHELL is /usr/bin/fish"), "{plan}");
    let written = std::fs::read_to_string(&path).unwrap();
    // The escaped blank stays inside the quotes.
    assert!(
        written.contains(&format!(
            "root {HCWRAP} --slug=argdump -- /bin/sh -c '/tmp/argdump a\\ '\n"
        )),
        "{written}"
    );
    assert!(written.contains(&long) && written.contains("0 3 * * * root echo fishy\n"));

    let too_long = dir.file(
        "long",
        &format!("0 1 * * * root echo {}\n", "x".repeat(1000)),
    );
    let out = sync(&server, &["--crontab", &too_long]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("over 998 characters"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_foreign_hcwrap_line_keeps_its_environment() {
    let server = Server::start();
    let dir = TempDir::new("sync-foreign");
    let text = "0 1 * * * root /usr/bin/hcwrap --uuid 1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b -- /bin/true\n\
                0 2 * * * root /usr/bin/newjob\n";
    let path = dir.file("jobs", text);
    let out = sync(
        &server,
        &[
            "--crontab",
            &path,
            "--ping-key",
            "file:/etc/hc/key",
            "--apply",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        format!(
            "0 1 * * * root /usr/bin/hcwrap --uuid 1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b -- /bin/true\n\
             0 2 * * * root {HCWRAP} --api-url={} --ping-key=file:/etc/hc/key --slug=newjob -- /usr/bin/newjob\n",
            server.api_url()
        )
    );
}

#[test]
fn an_hcwrap_the_jobs_user_cannot_run_is_not_written() {
    let server = Server::start();
    let dir = TempDir::new("sync-no-exec");
    let closed = dir.file("hcwrap", "not a program");
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = dir.file(
        "jobs",
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n",
    );
    let out = run(hcwrap()
        .args(["sync", "--api-url", &server.api_url(), "--api-key", API_KEY])
        .args(["--hcwrap", &closed, "--crontab", &path, "--apply"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("root cannot run"), "{}", stdout(&out));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "HC_PING_KEY=file:/k\n0 3 * * * root /usr/bin/backup\n"
    );
}

#[test]
fn timers_that_cannot_be_wrapped_safely_are_skipped_and_delays_count_in_the_grace() {
    let server = Server::start();
    let dir = TempDir::new("sync-timers-edge");
    dir.file(
        "late.timer",
        "[Timer]\nOnCalendar=*-*-* 03:00:00\nRandomizedDelaySec=3h\n",
    );
    dir.file("late.service", "[Service]\nExecStart=/usr/bin/late\n");
    dir.file("argv.timer", "[Timer]\nOnCalendar=daily\n");
    dir.file("argv.service", "[Service]\nExecStart=-@/bin/echo echo hi\n");
    dir.file("zz.timer", "[Timer]\nOnCalendar=daily\n");
    dir.file("zz.service", "[Service]\nExecStart=/usr/bin/zz\n");
    std::fs::create_dir(dir.0.join("zz.service.d")).unwrap();
    dir.file(
        "zz.service.d/zz-local.conf",
        "[Service]\nExecStart=\nExecStart=/bin/echo from-zz\n",
    );
    let systemd = format!("--systemd={}", dir.0.display());
    let out = sync(
        &server,
        &[&systemd, "--ping-key", "file:/etc/hc/key", "--apply"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = stdout(&out);
    assert!(plan.contains("sets argv[0] with '@'"), "{plan}");
    assert!(
        plan.contains("zz-local.conf sorts after hcwrap.conf"),
        "{plan}"
    );
    let late = server
        .checks()
        .into_iter()
        .find(|c| c["slug"] == "late")
        .unwrap();
    assert_eq!(
        late["grace"],
        3600 + 3 * 3600,
        "the hour, and the 3 h delay"
    );
    assert!(!dir.0.join("zz.service.d/hcwrap.conf").exists());
}

#[test]
fn a_job_under_its_own_check_variables_is_left_alone() {
    let server = Server::start();
    let dir = TempDir::new("sync-own-check");
    let text = "HC_PING_KEY=file:/k\nHC_PING_URL=https://hc-ping.com/legacy\n\
                0 3 * * * root /usr/local/bin/pings-itself\n";
    let path = dir.file("jobs", text);
    let out = sync(&server, &["--crontab", &path, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("skip: the crontab sets HC_PING_URL above it"),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}
