pub mod charts;
pub mod figures;
pub mod tables;
