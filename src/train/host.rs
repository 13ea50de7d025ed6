//! Process-wide settings that make libtorch train fast on the CPU.

/// Keeps freed tensor buffers in the heap instead of giving them back to the kernel.
///
/// glibc serves large blocks with `mmap` and trims the heap's top eagerly, so each
/// training step's activations (a few MB each) came back as fresh pages that the kernel
/// had to fault in and zero: a `perf` profile of Model 5 spent about 10 % of its time in
/// `clear_page_erms` and page faults, and setting these two thresholds took it from about
/// 1,340 to 1,670 images/s (see BENCHMARKS.md). 32 MiB is glibc's own ceiling for the
/// threshold it would otherwise adapt; larger blocks (test batches) still use `mmap`.
/// Call first thing in `main`. Malloc settings a user gives in `GLIBC_TUNABLES` win: then
/// this does nothing.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if !std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc.")) {
        // SAFETY: mallopt only sets allocator parameters; it is called before any other
        // thread exists, as glibc asks.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        }
    }
}
