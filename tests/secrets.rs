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
    let dead = support::dead_port();
    let dead_uuid = format!("http://127.0.0.1:{dead}/ping/{UUID}");
    let dead_slug = format!("http://127.0.0.1:{dead}/ping/{PING_KEY}/{SLUG}");
    for by_slug in [false, true] {
        // A server for each form of URL: on a slow machine a ping given up at 300ms leaves
        // its reply to the next request, which must then still be about this URL.
        let server = Server::start();
        let url = &if by_slug {
            format!("{}/{PING_KEY}/{SLUG}", server.api_url())
        } else {
            server.check_url()
        };
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
            &dead_uuid,
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

/// A password in the check URL and a header value, distinctive like the UUID and key.
const PASSWORD: &str = "Pw7qLk2xZr9m";
const HEADER_VALUE: &str = "Hv3nQ8wT5yBc";

/// Runs hcwrap with `args`; fails unless it is refused with an error that shows no piece
/// of any secret.
fn assert_refused_showing_no_secret(args: &[String]) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = printed(&args);
    assert!(text.starts_with("hcwrap: error: "), "{args:?}: {text}");
    assert_no_piece(
        &format!("{args:?}"),
        &text,
        &[UUID, PING_KEY, PASSWORD, HEADER_VALUE],
    );
}

/// Fails if `text` holds any piece of 8 or more characters of a secret, in any case.
fn assert_no_piece(what: &str, text: &str, secrets: &[&str]) {
    let text = text.to_ascii_lowercase();
    for secret in secrets {
        let secret = secret.to_ascii_lowercase();
        let chars: Vec<char> = secret.chars().collect();
        for piece in chars.windows(8) {
            let piece: String = piece.iter().collect();
            assert!(
                !text.contains(&piece),
                "{what}: printed '{piece}' of a secret:\n{text}"
            );
        }
    }
}

// The sweep: every message hcwrap can print, provoked with a URL that holds a UUID (or a
// ping key) and a password, and a header with a value; none shows a piece of any of them.

#[test]
fn the_sweep_finds_no_secret_in_what_the_server_provokes() {
    let header = format!("X-Api-Key: {HEADER_VALUE}");
    let elsewhere = Server::start();
    for by_slug in [false, true] {
        let server = Server::start();
        // The check's own secret, the one its URL holds; hcwrap knows no other.
        let (path, secret) = if by_slug {
            (format!("/ping/{PING_KEY}/{SLUG}"), PING_KEY)
        } else {
            (format!("/ping/{UUID}"), UUID)
        };
        let secrets = [secret, PASSWORD, HEADER_VALUE, "YWxpY2U6UHc3cUxrMnhacjlt"];
        let url = format!("http://alice:{PASSWORD}@127.0.0.1:{}{path}", server.port);
        // An answer that quotes the URL back, long enough that a cut at 100 characters
        // falls inside the secret.
        // Before it, what else a server might quote back: the password, the header's
        // value, the Basic authorization they make, the secret without dashes.
        let basic = "YWxpY2U6UHc3cUxrMnhacjlt"; // base64 of alice:Pw7qLk2xZr9m, no padding
        let compact = secret.replace('-', "");
        let quoted: &'static str = Box::leak(
            format!(
                "{PASSWORD} {HEADER_VALUE} {basic} Basic%20{basic}%3D {compact} {}{url} {secret}",
                "x".repeat(80)
            )
            .into_boxed_str(),
        );
        let away = format!("http://alice:{PASSWORD}@127.0.0.1:{}{path}", elsewhere.port);
        server.script([
            Reply::Status(404, quoted, vec![]),
            Reply::Status(409, quoted, vec![]),
            Reply::Status(200, quoted, vec![]),
            Reply::Status(401, quoted, vec![]),
            Reply::Status(503, quoted, vec![]),
            Reply::Status(307, "", vec![("Location", away.clone())]),
            Reply::Status(
                302,
                quoted,
                vec![("Location", format!("//{UUID}.example/{PASSWORD}"))],
            ),
            Reply::Hang,
        ]);
        let with = |extra: &[&str]| {
            let mut args = vec![
                "--ping-retries",
                "0",
                "--ping-timeout",
                "300ms",
                "--header",
                header.as_str(),
                "--url",
                url.as_str(),
            ];
            args.extend_from_slice(extra);
            printed(&args)
        };
        // A script under a directory named by the check's own secret.
        let missing = format!(
            "/nonexistent/{}/job.sh",
            if by_slug { PING_KEY } else { UUID }
        );
        for (what, extra) in [
            ("404, then 409", vec!["--", "true"]),
            ("a noted OK, then 401", vec!["--", "true"]),
            ("503, then a redirect elsewhere", vec!["--", "true"]),
            (
                "a redirect to a host named by the UUID, then a hang",
                vec!["--", "false"],
            ),
            ("a dry run", vec!["--dry-run", "--", "true"]),
            ("a command not found", vec!["--", missing.as_str()]),
            (
                "a dry run of a command not found",
                vec!["--dry-run", "--", missing.as_str()],
            ),
        ] {
            assert_no_piece(what, &with(&extra), &secrets);
        }
        assert_no_piece(
            "hcwrap ping",
            &printed(&[
                "ping",
                "fail",
                "--ping-retries",
                "0",
                "--header",
                &header,
                "--url",
                &url,
            ]),
            &secrets,
        );
    }
    assert!(elsewhere.requests().is_empty());
}

#[test]
fn the_sweep_finds_no_secret_when_the_server_is_gone() {
    let header = format!("X-Api-Key: {HEADER_VALUE}");
    let dead = support::dead_port();
    let dead_url = format!("http://alice:{PASSWORD}@127.0.0.1:{dead}/ping/{UUID}");
    assert_no_piece(
        "a refused connection",
        &printed(&[
            "--ping-retries",
            "0",
            "-H",
            &header,
            "--url",
            &dead_url,
            "--",
            "true",
        ]),
        &[UUID, PASSWORD, HEADER_VALUE],
    );
    // URLs of shapes the server does not use: none of their path or query is shown.
    for url in [
        format!("http://127.0.0.1:{dead}/x/{PING_KEY}"),
        format!("http://127.0.0.1:{dead}/p/{PING_KEY}"),
        format!("http://127.0.0.1:{dead}/hc/?check={UUID}"),
        format!("http://127.0.0.1:{dead}/ping/{PING_KEY}/{UUID}"),
        format!("http://127.0.0.1:{dead}/ping/{UUID}/Not_A_Slug_{PING_KEY}"),
        format!("http://127.0.0.1:{dead}/q/?{PING_KEY}"),
    ] {
        assert_no_piece(
            &url,
            &printed(&["ping", "success", "--ping-retries", "0", "--url", &url]),
            &[UUID, PING_KEY],
        );
    }
}

#[test]
fn the_sweep_finds_no_secret_in_usage_errors() {
    // Each names the flag and not the secret.
    let no_dashes = UUID.replace('-', "");
    let short = &UUID[..35];
    let cases: Vec<Vec<String>> = vec![
        // The key given as the slug, as is easy to do.
        vec![
            "--slug".into(),
            PING_KEY.into(),
            "--ping-key".into(),
            "s".into(),
        ],
        vec![
            "--uuid".into(),
            UUID.into(),
            "--slug".into(),
            format!("x{UUID}"),
        ],
        vec![
            "--url".into(),
            format!("http://alice:{PASSWORD}@127.0.0.1:99999/ping/{UUID}"),
        ],
        vec![
            "--url".into(),
            format!("https://hc.example/ping/{no_dashes}"),
        ],
        vec!["--url".into(), format!("https://hc.example/{short}")],
        vec![
            "--url".into(),
            format!("https://hc.example/{PING_KEY}/{SLUG}/start"),
        ],
        vec![
            "--url".into(),
            format!("https://hc.example/ping/{UUID} {PASSWORD}"),
        ],
        vec![
            "--url".into(),
            format!("ftp://alice:{PASSWORD}@hc.example/{UUID}"),
        ],
        vec!["--uuid".into(), no_dashes.clone()],
        vec![
            "--uuid".into(),
            UUID.into(),
            "--api-url".into(),
            format!("https://alice:{PASSWORD}@hc.example"),
        ],
        vec![
            "--uuid".into(),
            UUID.into(),
            "-H".into(),
            format!("X-Api-Key={HEADER_VALUE}"),
        ],
        vec![
            "--uuid".into(),
            UUID.into(),
            "-H".into(),
            format!("X-Api-Key {HEADER_VALUE}"),
        ],
        vec![
            "--uuid".into(),
            UUID.into(),
            "-H".into(),
            format!("X-A\r\n{HEADER_VALUE}: 1"),
        ],
        vec![
            "--uuid".into(),
            UUID.into(),
            "--proxy".into(),
            format!("http://alice:{PASSWORD}@proxy:99999"),
        ],
        vec![
            "--uuid".into(),
            UUID.into(),
            "--proxy".into(),
            format!("socks5://alice:{PASSWORD}@proxy"),
        ],
        vec![
            "--slug".into(),
            SLUG.into(),
            "--ping-key".into(),
            format!("{PING_KEY}!"),
        ],
    ];
    for mut args in cases {
        // --strict: a check the environment fails to give is refused too.
        args.insert(0, "--strict".into());
        args.extend(["--".into(), "true".into()]);
        assert_refused_showing_no_secret(&args);
    }
}

#[test]
fn the_sweep_finds_no_secret_in_a_long_tls_error() {
    // A certificate for other names, one of which holds the check's UUID, at every
    // distance from the start of the error's text: no cut may leave a piece of it.
    for padding in (40_usize..=240).step_by(25) {
        let mut names: Vec<String> = ["p", "q", "r", "s"]
            .iter()
            .enumerate()
            .map(|(i, c)| c.repeat(padding.saturating_sub(60 * i).min(60)))
            .filter(|label| !label.is_empty())
            .map(|label| format!("{label}.example"))
            .collect();
        names.push(format!("{UUID}.example"));
        let (ca_pem, tls) = support::tls::private_ca_for(names);
        let dir = support::TempDir::new(&format!("tls-sweep-{padding}"));
        let ca_file = dir.file("ca.pem", &ca_pem);
        let server = Server::with_tls(tls);
        let url = format!("{}/{UUID}", server.api_url());
        let text = printed(&[
            "ping",
            "fail",
            "--ping-retries",
            "0",
            "--cacert",
            &ca_file,
            "--url",
            &url,
        ]);
        assert!(text.contains("not for the host in the URL"), "{text}");
        assert_no_piece(&format!("padding {padding}"), &text, &[UUID]);
    }
}

#[test]
fn the_sweep_finds_no_secret_in_arguments_given_without_their_flag() {
    // Arguments given without their flag are echoed by the parser: not whole.
    for args in [
        vec![
            "ping".to_owned(),
            format!("http://alice:{PASSWORD}@127.0.0.1/ping/{UUID}"),
        ],
        vec![format!("http://alice:{PASSWORD}@127.0.0.1/ping/{UUID}")],
        vec!["ping".into(), "success".into(), UUID.into()],
        vec![
            "ping".into(),
            "success".into(),
            PING_KEY.into(),
            "my-job".into(),
        ],
        vec![
            "ping".into(),
            "success".into(),
            "-H".into(),
            "X-A: 1".into(),
            format!("X-Api-Key: {HEADER_VALUE}"),
        ],
        vec![
            "--uuid".into(),
            UUID.into(),
            UUID.into(),
            "--".into(),
            "true".into(),
        ],
    ] {
        assert_refused_showing_no_secret(&args);
    }
    // A value that is not a UUID or key is shown by its first characters, escaped.
    let text = printed(&["ping", "success", "--uuid", "\u{1b}[2Jzzzzzzzzzzzzzzzzzz"]);
    assert!(
        text.contains("\\u{1b}[2J…") && !text.contains('\u{1b}'),
        "{text}"
    );
}
