//! Coreset selection: a fraction of the training set to train a model from scratch on.

use super::{positive_fraction, CompressionMethod, Make, SubsetInput};
use anyhow::Result;
use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// `coreset`: train from scratch on a fraction of the training set (the paper's fractions).
pub const METHOD: CompressionMethod = CompressionMethod {
    name: "coreset",
    parameter: "fraction",
    about: "train from scratch on a fraction of the training set, chosen by CRAIG or at random",
    grid: [0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01],
    check: positive_fraction,
    search: None,
    make: Make::Train(select),
};

/// The coreset of `fraction` chosen as `input.settings.coreset` says.
fn select(input: &mut SubsetInput, fraction: f64) -> Result<Coreset> {
    match input.settings.coreset {
        CoresetMethod::Random => Ok(random_coreset(
            input.by_class,
            fraction,
            input.settings.seed ^ fraction.to_bits(),
        )),
        CoresetMethod::Craig => {
            let (emb, dim) = (input.embeddings)()?;
            craig_coreset(input.by_class, &emb, dim, fraction, input.device)
        }
    }
}

/// How a coreset is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoresetMethod {
    /// CRAIG (Mirzasoleiman et al. 2020): per-class greedy facility location on the original
    /// model's embeddings, each chosen image weighted by how many images it stands for (default).
    Craig,
    /// Uniformly random, class-balanced.
    Random,
}

/// A chosen subset: training-set indices and per-image loss weights (`None`: unweighted).
#[derive(Clone, Debug, PartialEq)]
pub struct Coreset {
    pub indices: Vec<usize>,
    pub weights: Option<Vec<f32>>,
}

/// Images to keep from a class of `n`: `round(fraction · n)`, at least 1 (when n ≥ 1).
pub fn class_budget(n: usize, fraction: f64) -> usize {
    if n == 0 {
        return 0;
    }
    ((fraction * n as f64).round() as usize).clamp(1, n)
}

/// Class-balanced random subset: `class_budget` images of every class, uniformly, seeded.
pub fn random_coreset(by_class: &[Vec<usize>], fraction: f64, seed: u64) -> Coreset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut indices = Vec::new();
    for members in by_class {
        let mut m = members.clone();
        m.shuffle(&mut rng);
        m.truncate(class_budget(members.len(), fraction));
        indices.extend(m);
    }
    indices.sort_unstable();
    Coreset {
        indices,
        weights: None,
    }
}

#[derive(PartialEq)]
struct Gain(f32, usize);
impl Eq for Gain {}
impl PartialOrd for Gain {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Gain {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

/// Greedy facility location on one class: maximises `F(S) = Σ_i max_{j∈S} sim(i, j)` with
/// `sim = d_max − ‖e_i − e_j‖`, by lazy greedy (marginal gains only shrink, so stale upper bounds
/// in a max-heap are re-evaluated only when they reach the top). Returns the chosen positions
/// (into `dist`'s rows) and their weights: how many members have each as their most similar choice.
pub fn facility_location(dist: &[f32], n: usize, k: usize) -> (Vec<usize>, Vec<f32>) {
    let d_max = dist.iter().cloned().fold(0.0f32, f32::max);
    let sim = |i: usize, j: usize| d_max - dist[i * n + j];
    let mut best = vec![0.0f32; n];
    let gain =
        |j: usize, best: &[f32]| -> f32 { (0..n).map(|i| (sim(i, j) - best[i]).max(0.0)).sum() };
    let mut heap: BinaryHeap<Gain> = (0..n).map(|j| Gain(gain(j, &best), j)).collect();
    let mut chosen = Vec::with_capacity(k);
    let mut taken = vec![false; n];
    while chosen.len() < k.min(n) {
        let Some(Gain(g, j)) = heap.pop() else { break };
        if taken[j] {
            continue;
        }
        let fresh = gain(j, &best);
        if heap.peek().is_some_and(|top| fresh < top.0) && fresh < g {
            heap.push(Gain(fresh, j));
            continue;
        }
        taken[j] = true;
        chosen.push(j);
        for (i, b) in best.iter_mut().enumerate() {
            *b = b.max(sim(i, j));
        }
    }
    let mut weights = vec![0.0f32; chosen.len()];
    for i in 0..n {
        let (mut arg, mut val) = (0usize, f32::NEG_INFINITY);
        for (c, &j) in chosen.iter().enumerate() {
            if sim(i, j) > val {
                val = sim(i, j);
                arg = c;
            }
        }
        weights[arg] += 1.0;
    }
    (chosen, weights)
}

/// Pairwise Euclidean distances between the rows of `e` (n × d, row-major), through a matrix
/// product on `device`.
pub fn pairwise_distances(e: &[f32], n: usize, d: usize, device: &Device) -> Result<Vec<f32>> {
    let t = Tensor::from_vec(e.to_vec(), (n, d), device)?;
    let g = t.matmul(&t.t()?)?;
    let sq = t.sqr()?.sum_keepdim(1)?;
    let d2 = ((sq.broadcast_add(&sq.t()?)? - (g * 2.0)?)?).relu()?;
    Ok(d2.sqrt()?.flatten_all()?.to_vec1::<f32>()?)
}

/// CRAIG coreset: per class, facility location on the embeddings `emb` (one row of `dim` values
/// per training image), `class_budget` images per class, weights normalised to mean 1.
pub fn craig_coreset(
    by_class: &[Vec<usize>],
    emb: &[f32],
    dim: usize,
    fraction: f64,
    device: &Device,
) -> Result<Coreset> {
    let mut pairs: Vec<(usize, f32)> = Vec::new();
    for members in by_class {
        let n = members.len();
        if n == 0 {
            continue;
        }
        let k = class_budget(n, fraction);
        let mut e = Vec::with_capacity(n * dim);
        for &i in members {
            e.extend_from_slice(&emb[i * dim..(i + 1) * dim]);
        }
        let dist = pairwise_distances(&e, n, dim, device)?;
        let (chosen, weights) = facility_location(&dist, n, k);
        pairs.extend(
            chosen
                .into_iter()
                .zip(weights)
                .map(|(c, w)| (members[c], w)),
        );
    }
    pairs.sort_by_key(|p| p.0);
    let mean = pairs.iter().map(|p| p.1).sum::<f32>() / pairs.len().max(1) as f32;
    Ok(Coreset {
        indices: pairs.iter().map(|p| p.0).collect(),
        weights: Some(pairs.iter().map(|p| p.1 / mean).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_and_class_balance() {
        assert_eq!(class_budget(100, 0.05), 5);
        assert_eq!(class_budget(10, 0.01), 1);
        assert_eq!(class_budget(0, 0.5), 0);
        let by_class: Vec<Vec<usize>> = (0..3)
            .map(|c| (0..40).map(|i| i * 3 + c).collect())
            .collect();
        let cs = random_coreset(&by_class, 0.25, 7);
        assert_eq!(cs.indices.len(), 30);
        for c in 0..3 {
            assert_eq!(cs.indices.iter().filter(|&&i| i % 3 == c).count(), 10);
        }
        assert_eq!(random_coreset(&by_class, 0.25, 7), cs);
    }

    #[test]
    fn facility_location_picks_one_point_per_cluster() {
        // Points on a line: clusters at 0 (3 points), 10 (2 points), 20 (1 point).
        let x = [0.0f32, 0.1, -0.1, 10.0, 10.1, 20.0];
        let n = x.len();
        let dist: Vec<f32> = (0..n * n).map(|k| (x[k / n] - x[k % n]).abs()).collect();
        let (chosen, weights) = facility_location(&dist, n, 3);
        // Three picks cover the three clusters, one each, and each pick stands for its cluster.
        let cluster = |i: usize| (x[i] / 10.0).round() as usize;
        let mut covered: Vec<usize> = chosen.iter().map(|&c| cluster(c)).collect();
        covered.sort();
        assert_eq!(covered, vec![0, 1, 2], "{chosen:?}");
        for (c, w) in chosen.iter().zip(&weights) {
            assert_eq!(*w, [3.0, 2.0, 1.0][cluster(*c)]);
        }
    }
}
