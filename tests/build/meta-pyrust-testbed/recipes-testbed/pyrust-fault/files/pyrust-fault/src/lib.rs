//! pyrust_fault: a PyO3 module whose initialisation faults on purpose, for meta-pyrust's
//! test bed. The fault is chosen when the module is compiled (PYRUST_FAULT):
//!   "segv"  writes through a null pointer (the interpreter dies with SIGSEGV),
//!   "hang"  never returns from PyInit_pyrust_fault (the import check's timeout must end it),
//!   unset   imports cleanly.
//! The file name stays right (the class's suffix fix applies): only the import check can
//! find these faults.
//!
//! Two functions give do_pyrust_ptest's test-bed recipes (python3-pyrust-ptest-*) faults
//! only the package's own tests find: `checksum` reads words in the machine's byte order
//! (right on little-endian targets only), `forever` never returns.

use pyo3::prelude::*;

/// Sum of the 32-bit words of `data`. The format says little-endian words; this reads them
/// in the machine's byte order, the slip that only shows on a big-endian target.
#[pyfunction]
fn checksum(data: &[u8]) -> u64 {
    data.chunks_exact(4)
        .map(|word| u64::from(u32::from_ne_bytes([word[0], word[1], word[2], word[3]])))
        .sum()
}

/// Never returns: a hanging test, for do_pyrust_ptest's time limit.
#[pyfunction]
fn forever() {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

#[pymodule]
fn pyrust_fault(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(checksum, m)?)?;
    m.add_function(wrap_pyfunction!(forever, m)?)?;
    match option_env!("PYRUST_FAULT") {
        Some("segv") => unsafe { std::ptr::null_mut::<u8>().write_volatile(1) },
        Some("hang") => loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        },
        _ => {}
    }
    Ok(())
}
