//! Links GCC's unwinder into hcwrap itself, as `-static-libgcc` does for a C program.
//!
//! Rust's standard library for `*-linux-gnu` asks for `libgcc_s.so.1` (it unwinds panics
//! with it). Loading that library, and its constructor probing the CPU, is about 0.07 ms of
//! every run (each `cpuid` traps to the hypervisor on a virtual machine) and 100 to 300 KiB
//! of resident memory; BENCHMARKS.md has the measurements. With the static archive's
//! unwinder in the binary, the linker (`--as-needed`) leaves `libgcc_s` out and the binary
//! needs only libc.
//!
//! Taken only where it is plainly safe: a native build (not cross-compiling, where `cc`
//! would name the host's archive) for a dynamically linked glibc target, with a C compiler
//! that knows where `libgcc_eh.a` is. Anywhere else nothing changes.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CC");
    if let Some(archive) = static_unwinder()
        && let Some(dir) = archive.parent()
    {
        println!("cargo::rustc-link-search=native={}", dir.display());
        // The whole archive, so that every unwinder symbol is defined by the binary
        // itself whatever order the linker reads its inputs in (GNU ld or lld), and
        // none is left for libgcc_s to provide.
        println!("cargo::rustc-link-lib=static:+whole-archive=gcc_eh");
    }
}

/// Where `libgcc_eh.a` is, if this build should link it.
fn static_unwinder() -> Option<PathBuf> {
    let var = |name: &str| env::var(name).unwrap_or_default();
    let glibc_dynamic = var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && !var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|feature| feature == "crt-static");
    if !glibc_dynamic || var("TARGET") != var("HOST") {
        return None;
    }
    let cc = env::var_os("CC").unwrap_or_else(|| "cc".into());
    let answer = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    // A compiler that does not know the file prints its bare name back.
    let path = PathBuf::from(String::from_utf8(answer.stdout).ok()?.trim());
    (answer.status.success() && path.is_absolute() && path.is_file()).then_some(path)
}
