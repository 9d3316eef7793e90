//! Training augmentation of the paper: random 4-pixel-padded crops and horizontal flips.

use super::SIDE;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded augmenter.
pub struct Augment {
    rng: ChaCha8Rng,
}

impl Augment {
    pub fn new(seed: u64) -> Self {
        Augment {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// How many 32-bit words of its random stream have been used (with [`Augment::resume_at`],
    /// what a mid-training checkpoint records).
    pub fn position(&self) -> u128 {
        self.rng.get_word_pos()
    }

    /// Continues the stream at `position` (a value [`Augment::position`] returned).
    pub fn resume_at(&mut self, position: u128) {
        self.rng.set_word_pos(position);
    }

    /// Writes a randomly shifted (by −4..=4 pixels in each direction, zero padding) and, with
    /// probability ½, horizontally flipped copy of the CHW image `src` into `dst`.
    pub fn apply(&mut self, src: &[u8], dst: &mut [u8]) {
        let dy = self.rng.random_range(0..=8) as isize - 4;
        let dx = self.rng.random_range(0..=8) as isize - 4;
        let flip = self.rng.random_bool(0.5);
        let side = SIDE as isize;
        for c in 0..3 {
            let plane = &src[c * SIDE * SIDE..(c + 1) * SIDE * SIDE];
            let out = &mut dst[c * SIDE * SIDE..(c + 1) * SIDE * SIDE];
            for y in 0..side {
                for x in 0..side {
                    let sx = if flip { side - 1 - x } else { x } + dx;
                    let sy = y + dy;
                    out[(y * side + x) as usize] =
                        if (0..side).contains(&sx) && (0..side).contains(&sy) {
                            plane[(sy * side + sx) as usize]
                        } else {
                            0
                        };
                }
            }
        }
    }
}
