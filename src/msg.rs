//! hcwrap's own messages: one line each on stderr, starting `hcwrap:`.
//!
//! Writes ignore errors on purpose: a closed or broken stderr must never stop the run or
//! the final ping (`eprintln!` would panic).

use std::io::Write;

/// Prints `hcwrap: <text>` as one line on stderr.
pub fn say(text: &str) {
    let line = format!("hcwrap: {text}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
