//! Link-time settings for libtorch, read from torch-sys (`links = "tch"`).
//!
//! - An rpath to libtorch's folder, so `report` runs without `LD_LIBRARY_PATH`.
//! - `libtorch_cuda` linked even though no symbol of it is used directly: libtorch
//!   registers its CUDA kernels from that library's static initialisers, so without it
//!   `tch::Cuda::is_available()` is false on GPU machines (tch-rs issue 980).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    let has_cuda = std::path::Path::new(&lib_dir)
        .join("libtorch_cuda.so")
        .exists();
    if has_cuda {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
