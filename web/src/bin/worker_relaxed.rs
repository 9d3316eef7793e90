//! The analysis worker built with relaxed SIMD (trunk builds it with the cargo feature
//! `relaxed-simd`); the page starts it instead of `worker` where the browser validates relaxed
//! SIMD and `?simd=baseline` is not given.

fn main() {
    #[cfg(target_arch = "wasm32")]
    web::worker::run();
}
