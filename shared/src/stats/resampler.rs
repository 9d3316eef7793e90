//! The seeded random generator behind every bootstrap and permutation.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded random generator (ChaCha8). Every `(seed, stream)` pair gives the same numbers on
/// every platform, in the browser too, so that a result can be reproduced from its seed.
#[derive(Clone, Debug)]
pub struct Resampler(ChaCha8Rng);

impl Resampler {
    /// The generator of `seed`; `stream` selects one of 2⁶⁴ independent sequences of the same
    /// seed (one per use, so that adding a use does not change the numbers of another).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Resampler(rng)
    }

    /// `n` indices drawn uniformly from `0..n` with replacement (one bootstrap resample), into `out`.
    pub fn bootstrap_indices(&mut self, n: usize, out: &mut Vec<usize>) {
        out.clear();
        out.extend((0..n).map(|_| self.below(n)));
    }

    /// One index drawn uniformly from `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// Replaces `order` by a uniformly random permutation of itself (Fisher–Yates).
    pub fn shuffle(&mut self, order: &mut [usize]) {
        order.shuffle(&mut self.0);
    }
}
