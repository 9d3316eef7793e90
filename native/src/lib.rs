//! The reps command line as a library: the subcommands (`analyze`, `pack`, `train-sweep`,
//! `search`, `bench-train`), the models, compression methods and training they use, and the sweep's
//! staging. `main.rs` parses the arguments and calls in here; the unit tests run with
//! `cargo test -p native --lib`, which needs nothing but Rust.

pub mod analyze;
pub mod bench_train;
pub mod cli;
pub mod compress;
pub mod data;
pub mod device;
pub mod input_file;
pub mod interrupt;
pub mod model;
pub mod output_file;
pub mod pack;
pub mod search;
pub mod sweep;
pub mod test_hooks;
pub mod train;
