//! Link-time settings for libtorch, read from torch-sys (`links = "tch"`).
//!
//! - An rpath to libtorch's folder, so `report` runs without `LD_LIBRARY_PATH`.
//! - `libtorch_cuda` linked even though no symbol of it is used directly: libtorch
//!   registers its CUDA kernels from that library's static initialisers, so without it
//!   `tch::Cuda::is_available()` is false on GPU machines (tch-rs issue 980).
//! - `csrc/numerics.cpp`, the shim that reads and sets libtorch's deterministic and
//!   cuDNN switches (`src/train/numerics.rs`), compiled against libtorch's headers with
//!   the flags torch-sys compiles its own C++ with.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/numerics.cpp");
    let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let include = std::path::Path::new(&lib_dir).join("../include");
    // PyTorch's wheels have used the C++11 ABI since 2.7; torch-sys reads the same variable.
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_owned());
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .file("csrc/numerics.cpp")
        .compile("report_numerics");
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
