//! Observations grouped into clusters (the models of one seed's sweep, which share an original
//! model) and the resamples that respect them: the two-stage cluster bootstrap and permutations
//! within clusters.

use super::resampler::Resampler;
use std::ops::Range;

/// A partition of the observations `0..n` into clusters of consecutive indices, in order.
/// [`Clusters::one`] (a single cluster) makes every resample below the ordinary one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clusters(Vec<Range<usize>>);

impl Clusters {
    /// Every one of `n` observations in one cluster: resampling ignores clustering.
    pub fn one(n: usize) -> Self {
        Clusters::of_sizes(&[n])
    }

    /// Consecutive clusters of the given sizes (`sizes[0]` observations, then `sizes[1]`, ...).
    /// Empty clusters are left out: they have nothing to draw.
    pub fn of_sizes(sizes: &[usize]) -> Self {
        let mut start = 0;
        let mut out = Vec::with_capacity(sizes.len());
        for &s in sizes {
            if s > 0 {
                out.push(start..start + s);
            }
            start += s;
        }
        Clusters(out)
    }

    /// The clusters, as ranges of observation indices.
    pub fn ranges(&self) -> &[Range<usize>] {
        &self.0
    }

    /// The number of observations.
    pub fn observations(&self) -> usize {
        self.0.last().map_or(0, |r| r.end)
    }

    /// The clusters of the observations `kept` (ascending indices into `0..n`), renumbered
    /// `0..kept.len()`: observation `kept[i]` becomes `i`, and a cluster with no kept member is
    /// left out.
    pub fn restrict(&self, kept: &[usize]) -> Self {
        let sizes: Vec<usize> = self
            .0
            .iter()
            .map(|r| kept.iter().filter(|i| r.contains(i)).count())
            .collect();
        Clusters::of_sizes(&sizes)
    }

    /// One two-stage cluster-bootstrap resample into `out`: `k` clusters drawn uniformly with
    /// replacement (`k` the number of clusters), then, in the drawn order, each drawn cluster's
    /// `m` members drawn uniformly with replacement from it (`m` its size). The resample's size
    /// varies with the clusters drawn when their sizes differ.
    ///
    /// With one cluster the first stage draws nothing, and `out` is exactly what
    /// [`Resampler::bootstrap_indices`] gives for the same generator: `n` indices uniform on
    /// `0..n`.
    pub fn bootstrap_indices(&self, rng: &mut Resampler, out: &mut Vec<usize>) {
        out.clear();
        let k = self.0.len();
        if k == 1 {
            rng.bootstrap_indices(self.0[0].len(), out);
            return;
        }
        let drawn: Vec<usize> = (0..k).map(|_| rng.below(k)).collect();
        for c in drawn {
            let r = &self.0[c];
            out.extend((0..r.len()).map(|_| r.start + rng.below(r.len())));
        }
    }

    /// Replaces `order` (a permutation of the observations) by one whose entries have been
    /// shuffled uniformly within each cluster (Fisher–Yates on each cluster's positions in turn).
    /// With one cluster this is [`Resampler::shuffle`] of the whole.
    pub fn shuffle_within(&self, rng: &mut Resampler, order: &mut [usize]) {
        for r in &self.0 {
            rng.shuffle(&mut order[r.clone()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_restriction_and_count() {
        let c = Clusters::of_sizes(&[2, 0, 3]);
        assert_eq!(c.ranges(), &[0..2, 2..5]);
        assert_eq!(c.observations(), 5);
        // Keep 1 (cluster 0) and 2, 4 (cluster 1): sizes 1 and 2.
        assert_eq!(c.restrict(&[1, 2, 4]).ranges(), &[0..1, 1..3]);
        // Nothing kept of cluster 0.
        assert_eq!(c.restrict(&[3]), Clusters::of_sizes(&[1]));
        assert_eq!(Clusters::one(4).observations(), 4);
        assert_eq!(Clusters::one(4).ranges().len(), 1);
    }

    #[test]
    fn one_cluster_is_the_plain_bootstrap_and_shuffle() {
        let (mut a, mut b) = (Resampler::new(9, 2), Resampler::new(9, 2));
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            Clusters::one(13).bootstrap_indices(&mut a, &mut x);
            b.bootstrap_indices(13, &mut y);
            assert_eq!(x, y);
        }
        let mut o1: Vec<usize> = (0..13).collect();
        let mut o2 = o1.clone();
        Clusters::one(13).shuffle_within(&mut a, &mut o1);
        b.shuffle(&mut o2);
        assert_eq!(o1, o2);
    }

    /// Each resample is whole clusters' worth of draws, each run of draws from one cluster; the
    /// permutation keeps every index inside its cluster.
    #[test]
    fn resamples_and_permutations_stay_within_clusters() {
        let c = Clusters::of_sizes(&[3, 1, 4]);
        let mut rng = Resampler::new(1, 0);
        let mut idx = Vec::new();
        let cluster_of = |i: usize| c.ranges().iter().position(|r| r.contains(&i)).unwrap();
        let mut seen_two_sizes = std::collections::BTreeSet::new();
        for _ in 0..200 {
            c.bootstrap_indices(&mut rng, &mut idx);
            // Split into runs of one cluster: each run's length is its cluster's size.
            let mut pos = 0;
            let mut drawn = 0;
            while pos < idx.len() {
                let k = cluster_of(idx[pos]);
                let len = c.ranges()[k].len();
                assert!(idx[pos..pos + len].iter().all(|&i| cluster_of(i) == k));
                pos += len;
                drawn += 1;
            }
            assert_eq!(drawn, 3);
            seen_two_sizes.insert(idx.len());
        }
        assert!(seen_two_sizes.len() > 1, "sizes vary: {seen_two_sizes:?}");
        let mut order: Vec<usize> = (0..8).collect();
        for _ in 0..50 {
            c.shuffle_within(&mut rng, &mut order);
            for (pos, &i) in order.iter().enumerate() {
                assert_eq!(cluster_of(pos), cluster_of(i));
            }
        }
    }
}
