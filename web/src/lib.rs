//! The reps viewer: drop snapshots or activation files, and every diagnostic is computed in the
//! browser by crate `reps` (no data leaves the machine).
//!
//! - [`app`]: the page (yew), its state in [`state`] (the reducer) and its worker's hook in
//!   [`hooks`]; [`views`]: its tables and charts; [`view_state`]: the view as the URL's hash
//!   holds it;
//! - [`bridge`] (page side) and [`worker`] (worker side): reading and analysing in a web worker,
//!   with [`protocol`] the messages between them, and [`helpers`] the worker's own helper
//!   workers, which share the comparisons on machines with more cores; [`builds`]: which of the
//!   worker's two builds (simd128, relaxed SIMD) the page starts;
//! - [`load`]: files → analysis input → everything the page draws (pure Rust, tested natively).

pub mod app;
pub mod blob_source;
pub mod bridge;
pub mod builds;
pub mod helpers;
pub mod hooks;
pub mod load;
pub mod protocol;
pub mod state;
pub mod view_state;
pub mod views;
pub mod worker;
