//! Probe the compiler like autocfg / anyhow / rustversion build scripts do.
//!
//! Those crates run `$RUSTC --version` and compile a snippet from stdin with
//! `--emit=metadata --crate-type=lib -`, through the wrappers cargo is using
//! (`RUSTC_WRAPPER`, then `RUSTC_WORKSPACE_WRAPPER`; cargo passes both to build
//! scripts). A compiler wrapper that cannot run nested therefore breaks here. A failed
//! probe fails the build with the command and its stderr, so the cause is visible.

use std::env;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The probe: `core::num::NonZero<T>` is generic since Rust 1.79.
const PROBE: &str = "pub fn probe(n: u32) -> Option<core::num::NonZero<u32>> { core::num::NonZero::new(n) }\n";

/// The compiler command line: the non-empty wrappers, then `$RUSTC` (autocfg's order).
fn compiler() -> Vec<OsString> {
    let mut argv: Vec<OsString> = ["RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER"]
        .iter()
        .filter_map(|name| env::var_os(name))
        .filter(|value| !value.is_empty())
        .collect();
    argv.push(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    argv
}

/// Run the compiler with `args`, `stdin` on its standard input; exits the build script on failure.
fn run(args: &[&str], stdin: &str) -> Output {
    let argv = compiler();
    let shown = format!("{} {}", argv.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "), args.join(" "));
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| fail(&shown, &err.to_string()));
    child.stdin.take().expect("piped").write_all(stdin.as_bytes()).expect("write probe to the compiler");
    let output = child.wait_with_output().unwrap_or_else(|err| fail(&shown, &err.to_string()));
    if !output.status.success() {
        fail(&shown, &format!("{}\n{}", output.status, String::from_utf8_lossy(&output.stderr)));
    }
    println!("cargo:warning=buildscript-probe ran: {shown}");
    output
}

/// Stop the build, naming the command and why it failed (cargo shows a build script's stderr).
fn fail(command: &str, why: &str) -> ! {
    eprintln!("buildscript-probe: compiler probe failed: {command}\n{why}");
    std::process::exit(1);
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC_WRAPPER");
    println!("cargo:rustc-check-cfg=cfg(buildscript_probe_nonzero)");
    let version = run(&["--version"], "");
    println!("cargo:warning=buildscript-probe compiler: {}", String::from_utf8_lossy(&version.stdout).trim());
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    // Like autocfg: the build's target, its flags (CARGO_ENCODED_RUSTFLAGS), output in OUT_DIR.
    let mut args = vec!["--crate-name", "buildscript_probe_check", "--crate-type=lib", "--emit=metadata", "--target", &target];
    let out = out_dir.to_str().expect("OUT_DIR is UTF-8");
    args.extend(["--out-dir", out]);
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    args.extend(flags.split('\x1f').filter(|flag| !flag.is_empty()));
    args.push("-");
    run(&args, PROBE);
    println!("cargo:rustc-cfg=buildscript_probe_nonzero");
}
