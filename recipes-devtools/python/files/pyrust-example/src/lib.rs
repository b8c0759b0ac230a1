//! pyrust_example: the smallest useful PyO3 extension for meta-pyrust.
//!
//! Deliberately not abi3, so the file name carries the full EXT_SUFFIX
//! (`.cpython-311-arm-linux-gnueabihf.so`): a wrong suffix makes the import
//! fail instead of silently falling back to `.abi3.so`.

use pyo3::prelude::*;

/// add(a, b) -> int: the sum of two integers (i64; OverflowError on overflow).
#[pyfunction]
fn add(a: i64, b: i64) -> PyResult<i64> {
    a.checked_add(b)
        .ok_or_else(|| pyo3::exceptions::PyOverflowError::new_err("add: i64 overflow"))
}

/// triplet_probe() -> str: what this module was compiled for, as
/// "arch=<target_arch> os=<os> env=<env> endian=<endian> bits=<pointer width>
/// abi=<target_abi>", e.g. "arch=arm os=linux env=gnu endian=little bits=32 abi=eabihf".
#[pyfunction]
fn triplet_probe() -> String {
    let endian = if cfg!(target_endian = "big") { "big" } else { "little" };
    format!(
        "arch={} os={} env={} endian={} bits={} abi={}",
        std::env::consts::ARCH,
        std::env::consts::OS,
        target_env(),
        endian,
        usize::BITS,
        target_abi(),
    )
}

fn target_env() -> &'static str {
    if cfg!(target_env = "gnu") {
        "gnu"
    } else if cfg!(target_env = "musl") {
        "musl"
    } else if cfg!(target_env = "uclibc") {
        "uclibc"
    } else {
        ""
    }
}

fn target_abi() -> &'static str {
    // target_abi is stable since Rust 1.78.
    if cfg!(target_abi = "eabihf") {
        "eabihf"
    } else if cfg!(target_abi = "eabi") {
        "eabi"
    } else if cfg!(target_abi = "abi64") {
        "abi64"
    } else if cfg!(target_abi = "x32") {
        "x32"
    } else if cfg!(target_abi = "ilp32") {
        "ilp32"
    } else if cfg!(target_abi = "spe") {
        "spe"
    } else {
        ""
    }
}

#[pymodule]
fn pyrust_example(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add, m)?)?;
    m.add_function(wrap_pyfunction!(triplet_probe, m)?)?;
    m.add("__rust_version__", env!("CARGO_PKG_RUST_VERSION"))?;
    Ok(())
}
