//! The library needs the cfg its build script sets after a successful compiler probe:
//! without it the crate does not compile, so a skipped probe cannot pass silently.

#[cfg(not(buildscript_probe_nonzero))]
compile_error!("build.rs did not set cfg(buildscript_probe_nonzero): its compiler probe did not run");

/// One more than `n`, as a `NonZero` (the type the build script probed for).
#[cfg(buildscript_probe_nonzero)]
pub fn successor(n: u32) -> Option<core::num::NonZero<u32>> {
    n.checked_add(1).and_then(core::num::NonZero::new)
}
