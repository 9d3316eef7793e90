pub mod charts;
pub mod download;
pub mod figures;
pub mod heatmap;
pub mod seeds;
pub mod statistics;
pub mod tables;
