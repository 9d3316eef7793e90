//! The three compression methods of the paper: coreset selection, pruning, quantization.

pub mod coreset;
pub mod prune;
pub mod quantize;
