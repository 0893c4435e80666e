//! The man page and completions in man/ and completions/ are what the code generates now,
//! and the shells and groff accept them.

use std::path::{Path, PathBuf};
use std::process::Command;

mod generator;
mod support;

use support::runner::{Case, nothing, tool};

fn main() -> std::process::ExitCode {
    support::runner::main(&[
        Case {
            name: "the_checked_in_files_are_what_the_code_generates",
            needs: nothing,
            run: the_checked_in_files_are_what_the_code_generates,
        },
        Case {
            name: "bash_loads_the_completions",
            needs: || tool("bash"),
            run: bash_loads_the_completions,
        },
        Case {
            name: "bash_completes_option_values_and_the_wrapped_command",
            needs: || tool("bash"),
            run: bash_completes_option_values_and_the_wrapped_command,
        },
        Case {
            name: "zsh_parses_its_completions",
            needs: || tool("zsh"),
            run: zsh_parses_its_completions,
        },
        Case {
            name: "zsh_completes_kinds_options_and_the_wrapped_command",
            needs: || tool("zsh"),
            run: zsh_completes_kinds_options_and_the_wrapped_command,
        },
        Case {
            name: "fish_parses_its_completions",
            needs: || tool("fish"),
            run: fish_parses_its_completions,
        },
        Case {
            name: "fish_completes_the_wrapped_command",
            needs: || tool("fish"),
            run: fish_completes_the_wrapped_command,
        },
        Case {
            name: "the_man_pages_render_without_warnings",
            needs: || tool("groff"),
            run: the_man_pages_render_without_warnings,
        },
    ])
}

const FILES: [&str; 11] = [
    "man/hcwrap.1",
    "man/hcwrap-ping.1",
    "man/hcwrap-probe.1",
    "man/hcwrap-doctor.1",
    "man/hcwrap-sync.1",
    "man/hcwrap-flush.1",
    "completions/hcwrap.bash",
    "completions/_hcwrap",
    "completions/hcwrap.fish",
    "completions/hcwrap.elv",
    "completions/_hcwrap.ps1",
];

/// Set to 1 to rewrite the checked-in files from the code.
const UPDATE: &str = "HCWRAP_UPDATE_GENERATED";

fn path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn the_checked_in_files_are_what_the_code_generates() {
    let update = std::env::var(UPDATE).is_ok_and(|v| v == "1");
    for file in FILES {
        let now = generator::generate(file);
        if update {
            std::fs::create_dir_all(path(file).parent().unwrap()).unwrap();
            std::fs::write(path(file), &now).unwrap();
            continue;
        }
        let checked_in = std::fs::read_to_string(path(file)).unwrap_or_default();
        assert!(
            checked_in == now,
            "{file} differs from what the code generates now; rewrite the generated files with `{UPDATE}=1 cargo test --test generated` and commit them"
        );
    }
}

fn bash_loads_the_completions() {
    let script = format!(
        "source {} && complete -p hcwrap",
        path("completions/hcwrap.bash").display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec = String::from_utf8(out.stdout).unwrap();
    assert!(
        spec.contains("-F _hcwrap_wrapped") && spec.trim_end().ends_with(" hcwrap"),
        "{spec}"
    );
}

fn bash_completes_option_values_and_the_wrapped_command() {
    let complete = |words: &[&str]| {
        let script = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
             _hcwrap_wrapped hcwrap \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path("completions/hcwrap.bash").display(),
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            words.len() - 1
        );
        let out = Command::new("bash").args(["-c", &script]).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let values = complete(&["hcwrap", "--on-nonzero-exit", ""]);
    for value in ["success", "fail", "exit-code", "log", "none"] {
        assert!(values.lines().any(|l| l == value), "{value} in {values:?}");
    }
    let commands = complete(&["hcwrap", "--uuid", "x", "--", "ech"]);
    assert!(commands.lines().any(|l| l == "echo"), "{commands:?}");
    // `hcwrap ping s<TAB>` offers the kinds, not file names.
    let kinds = complete(&["hcwrap", "ping", "s"]);
    assert_eq!(
        kinds.lines().collect::<Vec<_>>(),
        ["start", "success"],
        "{kinds:?}"
    );
}

fn zsh_parses_its_completions() {
    parses("zsh", "completions/_hcwrap");
}

fn fish_parses_its_completions() {
    parses("fish", "completions/hcwrap.fish");
}

fn parses(shell: &str, file: &str) {
    let out = Command::new(shell)
        .arg("-n")
        .arg(path(file))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell} -n {file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fish_completes_the_wrapped_command() {
    let script = format!(
        "source {}; complete -C 'hcwrap --uuid x -- ech'",
        path("completions/hcwrap.fish").display()
    );
    let out = Command::new("fish").args(["-c", &script]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("echo")), "{text:?}");
    let script = format!(
        "source {}; complete -C 'hcwrap ping s'",
        path("completions/hcwrap.fish").display()
    );
    let out = Command::new("fish").args(["-c", &script]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let kinds: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(kinds, ["start", "success"], "{text:?}");
}

fn the_man_pages_render_without_warnings() {
    for page in [
        "man/hcwrap.1",
        "man/hcwrap-ping.1",
        "man/hcwrap-probe.1",
        "man/hcwrap-doctor.1",
        "man/hcwrap-sync.1",
        "man/hcwrap-flush.1",
    ] {
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(path(page))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{page}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// zsh, interactive, completing as a user would press Tab: the kinds of `hcwrap ping`, the
/// subcommands, option values, and after `--` the wrapped command.
fn zsh_completes_kinds_options_and_the_wrapped_command() {
    let completions = path("completions");
    let complete = |typed: &str, shows: &str| {
        let mut zsh = support::pty::Shell::zsh(&completions);
        zsh.keys(typed);
        zsh.expect(shows)
    };
    // Several matches are listed below the line; one is completed in place.
    let listed = complete("hcwrap ping s\t", "start    success");
    assert!(!listed.contains("nesting level"), "{listed}");
    complete("hcwrap ping \t", "fail     log      start    success");
    complete("hcwrap pi\t", "hcwrap ping ");
    complete("hcwrap --on-success \t", "success    -- A success ping");
    complete("hcwrap --uuid x -- ech\t", "hcwrap --uuid x -- echo");
}
