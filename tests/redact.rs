//! `--redact` and `--redact-env`: values that must not reach the server in the output.

mod support;

use support::{Server, hcwrap, run, stderr, stdout};

#[test]
fn every_occurrence_is_replaced_in_what_is_sent_not_in_what_is_shown() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.env("DB_PASSWORD", "s3cr3t-pw");
    cmd.args([
        "--url",
        &server.check_url(),
        "--redact",
        "hunter2",
        "--redact-env",
        "DB_PASSWORD",
        "--",
    ]);
    cmd.args([
        "sh",
        "-c",
        "echo login hunter2; echo db=s3cr3t-pw; echo hunter2hunter2; exit 1",
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "login hunter2\ndb=s3cr3t-pw\nhunter2hunter2\n",
        "passthrough is unchanged"
    );
    let body = server.wait_for(2)[1].body_text();
    assert_eq!(
        body,
        "login [redacted]\ndb=[redacted]\n[redacted][redacted]\n[hcwrap] exit status 1\n"
    );
}

#[test]
fn a_value_split_across_two_reads_is_still_found() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--redact", "hunter2", "--"]);
    // Two writes with a pause between them: hcwrap reads them as two chunks.
    cmd.args(["sh", "-c", "printf 'pw=hun'; sleep 0.2; printf 'ter2\\n'"]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "pw=hunter2\n");
    assert_eq!(server.wait_for(2)[1].body_text(), "pw=[redacted]\n");
}

#[test]
fn the_end_of_a_value_at_the_cut_is_not_sent() {
    let server = Server::start();
    let mut cmd = hcwrap();
    // The body keeps the last 100 bytes; the value straddles that cut.
    cmd.args([
        "--url",
        &server.check_url(),
        "--body-limit",
        "100",
        "--redact",
        "hunter2",
        "--",
    ]);
    cmd.args([
        "sh",
        "-c",
        "printf 'hunter2'; i=0; while [ $i -lt 90 ]; do printf x; i=$((i+1)); done",
    ]);
    run(&mut cmd);
    let body = server.wait_for(2)[1].body_text();
    assert!(!body.contains("ter2") && !body.contains("er2"), "{body}");
    assert!(body.len() <= 100, "{body}");
}

#[test]
fn an_unset_redact_env_hides_nothing_and_a_value_given_for_the_name_is_not_shown() {
    // A CI fork has no secrets: an unset or empty variable holds nothing to hide, and the
    // job runs.
    let server = Server::start();
    let out = run(hcwrap().env("EMPTY_SECRET", "").args([
        "--url",
        &server.check_url(),
        "--redact-env",
        "NOT_SET_ANYWHERE",
        "--redact-env",
        "EMPTY_SECRET",
        "--",
        "sh",
        "-c",
        "echo built; exit 2",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stdout(&out), "built\n");
    assert_eq!(stderr(&out), "");
    // `--redact-env "$PASSWORD"`: the value given for the name is refused, not shown.
    for value in ["hunter2SuperSecretPw!", "A=secret", ""] {
        let out = run(hcwrap().args(["--dry-run", "--redact-env", value, "--", "true"]));
        assert_eq!(out.status.code(), Some(125));
        assert_eq!(
            stderr(&out),
            "hcwrap: error: --redact-env: give the name of a variable (such as BACKUP_ERROR), \
             not its value\n"
        );
    }
}
