//! Layer-wise compression search (`native search`): the budget of a per-layer allocation, the
//! greedy search with re-measurement, the strategies that drive it, and the paired comparison
//! of their final models. Everything here is arithmetic on measurements; the forward passes
//! that produce them are the caller's.

mod budget;
mod greedy;
mod paired;
mod result;
mod strategy;

pub use budget::{BudgetSpace, Direction, LayerLadder};
pub use greedy::{Ended, Greedy, GreedyState, Step, Target};
pub use paired::{more_accurate, paired_accuracy_difference, PairedDifference};
pub use result::{Allocation, FinalModel, SearchResult, SearchSettings, Sensitivity, Timing};
pub use strategy::{
    strategy, strategy_names, Drive, Measurement, NamedDrive, Strategy, DEFAULT_STRATEGIES, NAMED,
};
