//! A test runner for the tests that need a tool this machine may lack (zsh, fish, groff, a
//! PID namespace): where the standard harness can only call such a test "ok" after it
//! returned early, this one says "skipped" and why. With `HCWRAP_REQUIRE_TOOLS` set (as
//! `.ci/run` sets it) a skip is a failure instead, unless what is missing is the kernel's
//! or the container's to give (see [`kernel_lacks`]), which no package installs: that
//! stays a skip, and says so.
//!
//! Used by test files with `harness = false` in Cargo.toml. It takes cargo test's name
//! filter (the first argument that is not an option) and `--list`; the cases run one
//! after another.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;

/// One test: its name, what it needs (`None` when it can run here, else why not), and
/// the test itself, which panics to fail.
pub struct Case {
    pub name: &'static str,
    pub needs: fn() -> Option<String>,
    pub run: fn(),
}

/// `None` when `tool --version` runs here, else why the case is skipped.
pub fn tool(tool: &str) -> Option<String> {
    let found = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    (!found).then(|| format!("{tool} is not installed; .ci/run installs it"))
}

/// The start of why a case is skipped when the kernel or the container lacks a feature.
const KERNEL: &str = "this kernel or container does not allow ";

/// Why a case is skipped for a kernel feature the machine does not give: `what`.
pub fn kernel_lacks(what: &str) -> String {
    format!("{KERNEL}{what}")
}

/// Needs nothing.
pub fn nothing() -> Option<String> {
    None
}

/// Runs the cases the command line selects; the exit status says whether all passed.
pub fn main(cases: &[Case]) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let exact = args.iter().any(|a| a == "--exact");
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| match &filter {
            Some(f) if exact => c.name == f,
            Some(f) => c.name.contains(f.as_str()),
            None => true,
        })
        .collect();
    if args.iter().any(|a| a == "--list") {
        for case in &selected {
            println!("{}: test", case.name);
        }
        return ExitCode::SUCCESS;
    }
    let require = std::env::var_os("HCWRAP_REQUIRE_TOOLS").is_some();
    println!("\nrunning {} tests", selected.len());
    let (mut passed, mut skipped, mut failed) = (0, 0, Vec::new());
    for case in &selected {
        match (case.needs)() {
            Some(why) if require && !why.starts_with(KERNEL) => {
                println!(
                    "test {} ... FAILED (HCWRAP_REQUIRE_TOOLS is set: {why})",
                    case.name
                );
                failed.push(case.name);
            }
            Some(why) => {
                println!("test {} ... skipped ({why})", case.name);
                skipped += 1;
            }
            None => {
                if catch_unwind(AssertUnwindSafe(case.run)).is_ok() {
                    println!("test {} ... ok", case.name);
                    passed += 1;
                } else {
                    println!("test {} ... FAILED", case.name);
                    failed.push(case.name);
                }
            }
        }
    }
    let result = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {result}. {passed} passed; {} failed; {skipped} skipped\n",
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
