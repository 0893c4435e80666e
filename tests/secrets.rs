//! No ping key, UUID or whole check URL in anything hcwrap prints, in any failure mode.

mod support;

use support::{PING_KEY, Reply, SLUG, Server, UUID, hcwrap, run};

/// Everything hcwrap printed, stdout and stderr, for a run in which the command prints
/// nothing itself.
fn printed(args: &[&str]) -> String {
    let out = run(hcwrap().args(args));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_clean(what: &str, text: &str) {
    for secret in [UUID, PING_KEY] {
        assert!(!text.contains(secret), "{what} printed a secret:\n{text}");
    }
}

#[test]
fn no_failure_mode_prints_a_secret() {
    let server = Server::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let by_uuid = server.check_url();
    let by_slug = format!("{}/{PING_KEY}/{SLUG}", server.api_url());
    let dead_uuid = format!("http://127.0.0.1:{dead}/ping/{UUID}");
    let dead_slug = format!("http://127.0.0.1:{dead}/ping/{PING_KEY}/{SLUG}");
    for url in [&by_uuid, &by_slug] {
        let quoted: &'static str = Box::leak(format!("no route to {url}").into_boxed_str());
        server.script([
            Reply::Status(404, quoted, vec![]),
            Reply::Status(409, quoted, vec![]),
            Reply::Status(200, quoted, vec![]),
            Reply::Status(301, "", vec![("Location", format!("{url}/elsewhere"))]),
            Reply::Status(404, quoted, vec![]),
            Reply::Hang,
        ]);
        let common = [
            "--ping-retries",
            "0",
            "--ping-timeout",
            "300ms",
            "--url",
            url.as_str(),
        ];
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("404 and 409", vec!["--", "true"]),
            (
                "OK with a note, then a redirect to a 404",
                vec!["--", "false"],
            ),
            ("a hanging server", vec!["--no-start-ping", "--", "true"]),
            ("a dry run", vec!["--dry-run", "--", "true"]),
            (
                "a command not found",
                vec!["--dry-run", "--", "hcwrap-no-such-command"],
            ),
        ];
        for (what, extra) in cases {
            let mut args: Vec<&str> = common.to_vec();
            args.extend(extra);
            assert_clean(what, &printed(&args));
        }
    }
    for url in [&dead_uuid, &dead_slug] {
        assert_clean(
            "a refused connection",
            &printed(&["--ping-retries", "0", "--url", url, "--", "true"]),
        );
        assert_clean(
            "hcwrap ping",
            &printed(&["ping", "fail", "--ping-retries", "0", "--url", url]),
        );
    }
    // Configuration mistakes name the flag, not the secret.
    for args in [
        vec!["--uuid", "1F1C2E3D4B5A69788A9B0C1D2E3F4A5B", "--", "true"],
        vec![
            "--url",
            &by_uuid,
            "--uuid",
            "2f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b",
            "--",
            "true",
        ],
        vec!["--slug", "Bad Slug", "--ping-key", PING_KEY, "--", "true"],
        vec![
            "--ping-key",
            PING_KEY,
            "--slug",
            SLUG,
            "--api-url",
            "ftp://x",
            "--",
            "true",
        ],
    ] {
        assert_clean("a configuration error", &printed(&args));
    }
}
