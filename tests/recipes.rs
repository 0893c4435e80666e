//! The README's hook recipes, run as the tools run them: the Backrest hook script rendered
//! as Backrest renders it and fed to `sh` on its stdin, as Backrest does. (borgmatic's
//! recipe runs with the real borgmatic in `scripts/borgmatic-check`; the crontab recipe
//! with the real cron in `scripts/deb-check`.)

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use support::{Server, TempDir, UUID};

/// The script of the README's Backrest hook whose list item starts with `item`.
fn backrest_script(item: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("#### Backrest").expect("a Backrest section")..];
    let item = &section[section.find(item).expect("the hook in the README")..];
    let start = item.find("```sh\n").unwrap() + "```sh\n".len();
    let end = start + item[start..].find("```").unwrap();
    item[start..end]
        .lines()
        .map(|line| line.strip_prefix("  ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders `template` as Go's text/template does for what the recipe uses:
/// `{{ if .Error }}A{{ else }}B{{ end }}`, `{{ .Error }}` (raw, as Backrest inserts it) and
/// `{{ .ShellEscape .Error }}`.
fn render(template: &str, error: &str) -> String {
    let (before, rest) = template.split_once("{{ if .Error }}").unwrap();
    let (then, rest) = rest.split_once("{{ else }}").unwrap();
    let (otherwise, after) = rest.split_once("{{ end }}").unwrap();
    assert!(
        !after.contains("{{") && !before.contains("{{"),
        "{template}"
    );
    let chosen = if error.is_empty() { otherwise } else { then };
    let chosen = chosen
        .replace("{{ .ShellEscape .Error }}", &shell_escape(error))
        .replace("{{ .Error }}", error);
    assert!(
        !chosen.contains("{{"),
        "a template action this test does not know: {chosen}"
    );
    format!("{before}{chosen}{after}")
}

/// Backrest's `ShellEscape`: `shellescape.Quote` (al.essio.dev/pkg/shellescape 1.6): `''`
/// for nothing, the text as it is when it holds only `[\w@%+=:,./-]`, else the text in
/// single quotes with each `'` written `'"'"'`.
fn shell_escape(text: &str) -> String {
    if text.is_empty() {
        return "''".to_owned();
    }
    let plain = text
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "@%+=:,./-".contains(c));
    if plain {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', "'\"'\"'"))
}

/// Runs `script` as Backrest does: `sh`, the script on its stdin, with hcwrap on PATH.
fn run_as_backrest(shell: &str, script: &str, server: &Server) -> std::process::Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hcwrap")).parent().unwrap();
    let path = format!("{}:/usr/bin:/bin", bin_dir.display());
    let mut child = Command::new(shell)
        .env_clear()
        .env("PATH", path)
        .env("HC_API_URL", server.api_url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    support::finish(child)
}

#[test]
fn the_backrest_end_hook_sends_an_error_full_of_shell_syntax_as_it_is() {
    let template = backrest_script("- **End**");
    let dir = TempDir::new("backrest");
    let secret = dir.file("backup.uuid", &format!("{UUID}\n"));
    let template = template.replace("/etc/hcwrap/backup.uuid", &secret);
    let marker = dir.0.join("executed");
    let m = marker.display();
    let error = format!(
        "repository \"main\" failed: `touch {m}` $(touch {m}) ${{HOME}} 'it''s' \\\\ \"$(touch \
         {m})\"\nsecond line; touch {m} && echo done\n  indented\ttab"
    );
    // A line that would end a here-document, and text that reads as an option.
    let heredoc_end = format!("first\nHCWRAP_END\nEOF\ntouch {m}\n'\ntouch {m}");
    for shell in ["sh", "bash"] {
        for error in [error.as_str(), &heredoc_end, "-rf: --help --", "plain-word"] {
            let server = Server::start();
            let out = run_as_backrest(shell, &render(&template, error), &server);
            assert!(out.status.success(), "{shell}: {}", support::stderr(&out));
            let got = server.wait_for(1);
            assert_eq!(got[0].suffix(), "/fail", "{shell}");
            assert_eq!(got[0].body_text(), format!("{error}\n"), "{shell}");
            assert!(!marker.exists(), "{shell} executed part of the error");
        }

        // No error: the success ping, with nothing read from the script's stdin.
        let server = Server::start();
        let out = run_as_backrest(shell, &render(&template, ""), &server);
        assert!(out.status.success(), "{shell}: {}", support::stderr(&out));
        let got = server.wait_for(1);
        assert_eq!((got[0].suffix().as_str(), got[0].body.len()), ("", 0));
    }
}

#[test]
fn the_backrest_start_hook_reads_nothing_of_the_script_after_it() {
    let template = backrest_script("- **Start**");
    let dir = TempDir::new("backrest-start");
    let secret = dir.file("backup.uuid", &format!("{UUID}\n"));
    // The script is the shell's stdin: a line after hcwrap must still run.
    let script = format!(
        "{}\necho after-the-ping\n",
        template
            .replace("/etc/hcwrap/backup.uuid", &secret)
            .trim_end()
    );
    let server = Server::start();
    let out = run_as_backrest("bash", &script, &server);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert_eq!(support::stdout(&out), "after-the-ping\n");
    assert_eq!(server.wait_for(1)[0].suffix(), "/start");
}

/// The README's CI step, run as a CI runner runs it (`sh -c` with the step's `env:`): with
/// the secret, and in a fork, where GitHub gives the secret as an empty string.
#[test]
fn the_ci_step_reports_with_its_secret_and_still_runs_in_a_fork() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("### A CI step").unwrap()..];
    let step = section
        .lines()
        .find_map(|line| line.trim().strip_prefix("run: "))
        .expect("the step's run: line");
    // `make integration`, standing in: a `make` that says it ran and fails, as a broken
    // build would.
    let dir = TempDir::new("ci-step");
    let bin = dir.0.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_hcwrap"), bin.join("hcwrap")).unwrap();
    dir.file(
        "bin/make",
        "#!/bin/sh\necho \"make $*: 2 tests failed\"\nexit 2\n",
    );
    std::fs::set_permissions(
        bin.join("make"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let run_step = |secret: &str| {
        let child = Command::new("sh")
            .args(["-c", step])
            .env_clear()
            .env("PATH", &path)
            .env("HC_PING_URL", secret)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        support::finish(child)
    };

    let server = Server::start();
    let out = run_step(&server.check_url());
    assert_eq!(
        out.status.code(),
        Some(2),
        "the build's status fails the step"
    );
    assert_eq!(support::stdout(&out), "make integration: 2 tests failed\n");
    let got = server.wait_for(2);
    assert_eq!(got[1].suffix(), "/fail");
    assert_eq!(
        got[1].body_text(),
        "make integration: 2 tests failed\n[hcwrap] exit status 2\n"
    );

    // A fork: the secret is empty. The build still runs and fails the step as it should;
    // one line says it went unmonitored.
    let out = run_step("");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(support::stdout(&out), "make integration: 2 tests failed\n");
    let err = support::stderr(&out);
    assert!(
        err.starts_with("hcwrap: warning: not monitored: no check chosen")
            && err.lines().count() == 1,
        "{err}"
    );
}
