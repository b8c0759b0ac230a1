//! pyrust_fault: a PyO3 module whose initialisation faults on purpose, for meta-pyrust's
//! test bed. The fault is chosen when the module is compiled (PYRUST_FAULT):
//!   "segv"  writes through a null pointer (the interpreter dies with SIGSEGV),
//!   "hang"  never returns from PyInit_pyrust_fault (the import check's timeout must end it),
//!   unset   imports cleanly.
//! The file name stays right (the class's suffix fix applies): only the import check can
//! find these faults.

use pyo3::prelude::*;

#[pymodule]
fn pyrust_fault(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    match option_env!("PYRUST_FAULT") {
        Some("segv") => unsafe { std::ptr::null_mut::<u8>().write_volatile(1) },
        Some("hang") => loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        },
        _ => {}
    }
    Ok(())
}
