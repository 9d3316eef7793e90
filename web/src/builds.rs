//! The two builds of the analysis worker that trunk writes (`www/index.html`): `worker`, on
//! WebAssembly SIMD (simd128, which every current browser validates), and `worker_relaxed`, built
//! with the cargo feature `relaxed-simd`, whose Gram kernel uses relaxed SIMD's fused
//! multiply-add (`reps::gram_fused`). A module with relaxed-SIMD instructions fails validation in
//! browsers without them (Safari; Chrome and Edge have them from 114, Firefox from 146), so the
//! page starts the relaxed build only where a tiny module using one validates.

/// The baseline build's loader (trunk's `data-loader-shim`), relative to the page.
pub const BASELINE_LOADER: &str = "./worker_loader.js";
/// The relaxed-SIMD build's loader.
pub const RELAXED_LOADER: &str = "./worker_relaxed_loader.js";

/// The loader of the build this code is part of: a worker starts its helpers from its own build.
pub const OWN_LOADER: &str = if cfg!(feature = "relaxed-simd") {
    RELAXED_LOADER
} else {
    BASELINE_LOADER
};

/// A module of one function returning `f64x2.relaxed_madd` of three zero vectors: it validates
/// exactly where relaxed SIMD does.
pub const RELAXED_PROBE: [u8; 82] = {
    let mut m = [0u8; 82];
    let head: [u8; 24] = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
        0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
        0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
    ];
    let mut i = 0;
    while i < head.len() {
        m[i] = head[i];
        i += 1;
    }
    // Three `v128.const 0` (0xfd 0x0c and 16 zero bytes), then f64x2.relaxed_madd (0xfd, LEB128
    // 0x107) and `end`.
    let mut k = 0;
    while k < 3 {
        m[24 + 18 * k] = 0xfd;
        m[25 + 18 * k] = 0x0c;
        k += 1;
    }
    m[78] = 0xfd;
    m[79] = 0x87;
    m[80] = 0x02;
    m[81] = 0x0b;
    m
};

/// Whether this browser validates relaxed SIMD.
pub fn browser_has_relaxed_simd() -> bool {
    let probe = js_sys::Uint8Array::from(&RELAXED_PROBE[..]);
    js_sys::WebAssembly::validate(&probe.into()).unwrap_or(false)
}

/// The loader the page starts: the relaxed build where the browser has relaxed SIMD, unless
/// `simd` (the page's `?simd=`) is `baseline`.
pub fn page_loader(simd: Option<&str>) -> &'static str {
    if simd != Some("baseline") && browser_has_relaxed_simd() {
        RELAXED_LOADER
    } else {
        BASELINE_LOADER
    }
}
