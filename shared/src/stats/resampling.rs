//! Resampling: bootstrap index sets, random permutations, percentile intervals
//! and Monte-Carlo permutation p-values, with the conventions of `scipy.stats` (`bootstrap` with
//! `method='percentile'`, `permutation_test` with `alternative='two-sided'`).

use super::clusters::Clusters;
use super::correlation::{average_ranks, kendall_tau_b, pearson, tau_b_of_counts, Statistic};
use super::resampler::Resampler;
use crate::parallel;

/// The `q`-quantile (`0 ≤ q ≤ 1`) of ascending `sorted` values with linear interpolation between
/// order statistics: `x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋])` with `h = (n − 1) q` (numpy's default,
/// type 7 of Hyndman and Fan). `None` for no values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The percentile bootstrap interval at `level` (e.g. 0.95) of the statistic's values over the
/// resamples: the `(1 − level)/2` and `(1 + level)/2` quantiles ([`quantile`]) of the finite
/// values. Resamples where the statistic is undefined (NaN: a resample that repeats one model so
/// often that a series is constant) are left out. `None` when fewer than half the resamples give
/// a value, as the interval would then describe an odd subset of them.
pub fn percentile_interval(values: &[f64], level: f64) -> Option<[f64; 2]> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || finite.len() * 2 < values.len() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some([quantile(&finite, tail)?, quantile(&finite, 1.0 - tail)?])
}

/// A p-value as tables print it: four decimals, and `< 0.0001` below that (a permutation test
/// with B permutations cannot go below `2 / (B + 1)`, and a normal tail can underflow to 0).
pub fn format_p_value(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// `p = 0.0123`, or `p < 0.0001` ([`format_p_value`]).
pub fn p_label(p: f64) -> String {
    match format_p_value(p) {
        small if small.starts_with('<') => format!("p {small}"),
        p => format!("p = {p}"),
    }
}

/// Two-sided Monte-Carlo permutation p-value of `observed` against the statistic's values under
/// `null` random permutations, as `scipy.stats.permutation_test` computes it:
/// `p = min(1, 2 · min(P≤, P≥))` with `P≤ = (#{null ≤ observed + γ} + 1) / (B + 1)`,
/// `P≥ = (#{null ≥ observed − γ} + 1) / (B + 1)`, `γ = 100 ε |observed|` (ε the f64 machine
/// epsilon, so that values equal up to rounding count as ties) and `B` the number of finite null
/// values. The `+1` counts the observed arrangement itself, so `p ≥ 2 / (B + 1)`. `None` without
/// finite null values.
pub fn permutation_p_value(observed: f64, null: &[f64]) -> Option<f64> {
    let gamma = 100.0 * f64::EPSILON * observed.abs();
    let (mut b, mut less, mut greater) = (0usize, 0usize, 0usize);
    for &v in null.iter().filter(|v| v.is_finite()) {
        b += 1;
        less += (v <= observed + gamma) as usize;
        greater += (v >= observed - gamma) as usize;
    }
    if b == 0 {
        return None;
    }
    let p = |count: usize| (count as f64 + 1.0) / (b as f64 + 1.0);
    Some((2.0 * p(less).min(p(greater))).min(1.0))
}

/// `+1`, `0` or `−1` as `a` is above, equal to or below `b` (the pair signs of Kendall's tau).
fn sign(a: f64, b: f64) -> i8 {
    (a > b) as i8 - (a < b) as i8
}

fn gather<T: Copy>(v: &[T], idx: &[usize], out: &mut Vec<T>) {
    out.clear();
    out.extend(idx.iter().map(|&i| v[i]));
}

/// The pair signs `sign(v[a] − v[b])` for `a < b`, row by row, and how many are not ties.
fn pair_signs(v: &[f64], out: &mut Vec<i8>) -> i64 {
    out.clear();
    for a in 0..v.len() {
        out.extend(v[a + 1..].iter().map(|&w| sign(v[a], w)));
    }
    out.iter().filter(|&&s| s != 0).count() as i64
}

/// Kendall's tau-b from the pair products' sum and the untied counts, as
/// [`super::kendall_tau_b`] computes it (NaN where it is undefined).
fn tau_b(concordant_minus_discordant: i64, untied_x: i64, untied_y: i64) -> f64 {
    if untied_x == 0 || untied_y == 0 {
        return f64::NAN;
    }
    tau_b_of_counts(concordant_minus_discordant, untied_x, untied_y)
}

/// What every resample of one series reuses: its values, average ranks, the order of its values
/// with runs of equal values, and the signs of its pairs in sample order.
struct Prepared<'a> {
    x: &'a [f64],
    ranks: Vec<f64>,
    /// Indices in ascending order of value, and the runs of equal values in that order.
    order: Vec<usize>,
    runs: Vec<std::ops::Range<usize>>,
    /// The pair signs in sample order ([`pair_signs`]) and how many are not ties.
    pairs: Vec<i8>,
    untied: i64,
}

impl<'a> Prepared<'a> {
    fn new(x: &'a [f64]) -> Self {
        let n = x.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
        let mut runs = Vec::new();
        let mut start = 0;
        for i in 1..=n {
            if i == n || x[order[i]] != x[order[start]] {
                runs.push(start..i);
                start = i;
            }
        }
        let mut pairs = Vec::new();
        let untied = pair_signs(x, &mut pairs);
        Prepared {
            x,
            ranks: average_ranks(x),
            order,
            runs,
            pairs,
            untied,
        }
    }

    /// The average ranks of `x[idx]` from the multiplicity `counts[j]` of each index in `idx`:
    /// a run of equal values holding `c` draws after `before` smaller draws spans the ranks
    /// `before + 1 ..= before + c`, whose mean is `before + (c + 1) / 2`. The same numbers as
    /// [`average_ranks`] of the gathered values, in O(n).
    fn resampled_ranks(
        &self,
        idx: &[usize],
        counts: &[i32],
        rank_of: &mut [f64],
        out: &mut Vec<f64>,
    ) {
        let mut before = 0.0;
        for run in &self.runs {
            let members = &self.order[run.clone()];
            let c: i32 = members.iter().map(|&j| counts[j]).sum();
            let rank = before + (c as f64 + 1.0) / 2.0;
            for &j in members {
                rank_of[j] = rank;
            }
            before += c as f64;
        }
        gather(rank_of, idx, out);
    }

    /// The pairs of a resample with the multiplicities `counts` that are not ties: all
    /// `m (m − 1) / 2` pairs of its `m` draws less, for each run of equal values holding `c`
    /// draws (repeats of one index included), its `c (c − 1) / 2` pairs. In O(n).
    fn resampled_untied(&self, counts: &[i32]) -> i64 {
        let pairs = |c: i64| c * (c - 1) / 2;
        let m: i64 = counts.iter().map(|&c| c as i64).sum();
        let tied: i64 = self
            .runs
            .iter()
            .map(|run| {
                pairs(
                    self.order[run.clone()]
                        .iter()
                        .map(|&j| counts[j] as i64)
                        .sum(),
                )
            })
            .sum();
        pairs(m) - tied
    }
}

/// `½ cᵀ T c` for the `n × n` table `T` (symmetric, zero diagonal) of pair products
/// `sign(x_i − x_j) · sign(y_i − y_j)`: over a resample that draws index `i` `c_i` times, the
/// sum over its pairs of draws of their sign products, which is Kendall's `n_c − n_d`. Exact in
/// integers, and a dense product that vectorises (no gathering of pairs).
fn half_quadratic(table: &[i8], counts: &[i32]) -> i64 {
    let n = counts.len();
    let mut total = 0i64;
    for (i, &ci) in counts.iter().enumerate().filter(|(_, &c)| c != 0) {
        let row = &table[i * n..(i + 1) * n];
        let dot: i32 = row.iter().zip(counts).map(|(&t, &c)| t as i32 * c).sum();
        total += ci as i64 * dot as i64;
    }
    total / 2
}

/// Runs `count` resamples in parallel chunks (in order within each): `shared(b)` computes what
/// resample `b` gives every series, `each(series, shared)` its three correlations. Returns
/// `out[s][statistic][b]`.
fn resample<T: Sync, S>(
    count: usize,
    series: &[T],
    shared: impl Fn(usize) -> S + Sync + Send,
    each: impl Fn(&T, &S, &mut Scratch) -> [f64; 3] + Sync + Send,
) -> Vec<[Vec<f64>; 3]> {
    let per = count.div_ceil(parallel::threads().max(1)).max(1);
    let chunks: Vec<std::ops::Range<usize>> = (0..count)
        .step_by(per)
        .map(|start| start..(start + per).min(count))
        .collect();
    let parts = parallel::map(&chunks, |range| {
        let mut scratch = Scratch::default();
        let mut out: Vec<Vec<[f64; 3]>> = vec![Vec::with_capacity(range.len()); series.len()];
        for b in range.clone() {
            let s = shared(b);
            for (o, x) in out.iter_mut().zip(series) {
                o.push(each(x, &s, &mut scratch));
            }
        }
        out
    });
    (0..series.len())
        .map(|s| {
            std::array::from_fn(|stat| {
                parts
                    .iter()
                    .flat_map(|p| p[s].iter().map(move |v| v[stat]))
                    .collect()
            })
        })
        .collect()
}

/// Buffers reused across the resamples of one chunk.
#[derive(Default)]
struct Scratch {
    values: Vec<f64>,
    ranks: Vec<f64>,
    rank_of: Vec<f64>,
}

/// What one resample of the models gives every series: the drawn indices, their multiplicities,
/// the drops, their ranks and their untied pairs.
struct DrawnModels<'a> {
    idx: &'a [usize],
    counts: Vec<i32>,
    drops: Vec<f64>,
    drop_ranks: Vec<f64>,
    untied_drops: i64,
}

/// The `n × n` table of pair products `sign(x_i − x_j) · sign(y_i − y_j)` (symmetric, zero
/// diagonal) that [`half_quadratic`] weighs with a resample's draw counts.
fn concordance(x: &[f64], y: &[f64]) -> Vec<i8> {
    let n = x.len();
    (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            sign(x[i], x[j]) * sign(y[i], y[j])
        })
        .collect()
}

/// One series prepared for the bootstrap, with its table of pair products against the drops
/// ([`half_quadratic`]).
struct Paired<'a> {
    series: Prepared<'a>,
    concordance: Vec<i8>,
}

/// Bootstrap distributions of the correlations (PLCC, SRCC, KRCC, in [`Statistic`] order) of each
/// series with `drops`: `out[s][statistic][i]` over `b` resamples, each drawing the pairs
/// `(series[s][j], drops[j])` with replacement, by clusters ([`Clusters::bootstrap_indices`]:
/// clusters first, then pairs within each drawn cluster; [`Clusters::one`] draws pairs alone).
/// Every series is resampled with the same index sets (paired), so differences between series
/// can be read resample by resample. A resample that leaves a correlation undefined gives NaN
/// there ([`percentile_interval`] leaves it out). Each value equals what [`super::correlate`]
/// gives on the resampled pairs.
pub fn bootstrap_correlations(
    series: &[Vec<f64>],
    drops: &[f64],
    clusters: &Clusters,
    b: usize,
    rng: &mut Resampler,
) -> Vec<[Vec<f64>; 3]> {
    let n = drops.len();
    debug_assert_eq!(clusters.observations(), n);
    let sets: Vec<Vec<usize>> = (0..b)
        .map(|_| {
            let mut idx = Vec::with_capacity(n);
            clusters.bootstrap_indices(rng, &mut idx);
            idx
        })
        .collect();
    let prepared_drops = Prepared::new(drops);
    let paired: Vec<Paired<'_>> = series
        .iter()
        .map(|x| {
            let series = Prepared::new(x);
            let concordance = concordance(x, drops);
            Paired {
                series,
                concordance,
            }
        })
        .collect();
    resample(
        b,
        &paired,
        |i| {
            let idx = &sets[i];
            let mut counts = vec![0i32; n];
            for &j in idx {
                counts[j] += 1;
            }
            let mut d = Vec::new();
            gather(drops, idx, &mut d);
            DrawnModels {
                drop_ranks: average_ranks(&d),
                untied_drops: prepared_drops.resampled_untied(&counts),
                idx,
                counts,
                drops: d,
            }
        },
        |p, m, scratch| {
            let x = &p.series;
            scratch.rank_of.resize(x.x.len(), 0.0);
            x.resampled_ranks(m.idx, &m.counts, &mut scratch.rank_of, &mut scratch.ranks);
            gather(x.x, m.idx, &mut scratch.values);
            [
                pearson(&scratch.values, &m.drops).unwrap_or(f64::NAN),
                pearson(&scratch.ranks, &m.drop_ranks).unwrap_or(f64::NAN),
                tau_b(
                    half_quadratic(&p.concordance, &m.counts),
                    x.resampled_untied(&m.counts),
                    m.untied_drops,
                ),
            ]
        },
    )
}

/// What one permutation of the drops gives every series.
struct PermutedDrops {
    drops: Vec<f64>,
    ranks: Vec<f64>,
    signs: Vec<i8>,
    untied: i64,
}

/// Two-sided permutation p-values ([`permutation_p_value`]) of each series' observed correlations
/// with `drops` (PLCC, SRCC, KRCC), from `p` random permutations of `drops` within each cluster
/// ([`Clusters::shuffle_within`]; with [`Clusters::one`], `scipy.stats.permutation_test` with
/// `permutation_type='pairings'`), the same permutations for every series. `None` where the
/// observed correlation is undefined.
pub fn permutation_p_values(
    series: &[Vec<f64>],
    drops: &[f64],
    clusters: &Clusters,
    p: usize,
    rng: &mut Resampler,
) -> Vec<[Option<f64>; 3]> {
    let n = drops.len();
    debug_assert_eq!(clusters.observations(), n);
    // Each permutation shuffles the previous one (any start gives a uniform permutation).
    let mut order: Vec<usize> = (0..n).collect();
    let orders: Vec<Vec<usize>> = (0..p)
        .map(|_| {
            clusters.shuffle_within(rng, &mut order);
            order.clone()
        })
        .collect();
    let drop_ranks = average_ranks(drops);
    let prepared: Vec<Prepared<'_>> = series.iter().map(|x| Prepared::new(x)).collect();
    let observed: Vec<[f64; 3]> = series
        .iter()
        .map(|x| {
            let nan = |r: Result<f64, _>| r.unwrap_or(f64::NAN);
            [
                nan(pearson(x, drops)),
                nan(pearson(&average_ranks(x), &drop_ranks)),
                nan(kendall_tau_b(x, drops)),
            ]
        })
        .collect();
    let null = resample(
        p,
        &prepared,
        |i| {
            let mut d = Vec::new();
            gather(drops, &orders[i], &mut d);
            let mut r = Vec::new();
            gather(&drop_ranks, &orders[i], &mut r);
            let mut signs = Vec::new();
            let untied = pair_signs(&d, &mut signs);
            PermutedDrops {
                drops: d,
                ranks: r,
                signs,
                untied,
            }
        },
        |prep, d, _| {
            // |sum| ≤ the number of pairs: in i32 when that fits (below 65,536 models), which
            // vectorises twice as wide as i64.
            let products = prep.pairs.iter().zip(&d.signs).map(|(&a, &b)| a * b);
            let sum = if prep.pairs.len() <= i32::MAX as usize {
                i64::from(products.map(i32::from).sum::<i32>())
            } else {
                products.map(i64::from).sum::<i64>()
            };
            [
                pearson(prep.x, &d.drops).unwrap_or(f64::NAN),
                pearson(&prep.ranks, &d.ranks).unwrap_or(f64::NAN),
                tau_b(sum, prep.untied, d.untied),
            ]
        },
    );
    observed
        .iter()
        .zip(&null)
        .map(|(obs, null)| {
            std::array::from_fn(|s| {
                obs[s]
                    .is_finite()
                    .then(|| permutation_p_value(obs[s], &null[s]))
                    .flatten()
            })
        })
        .collect()
}

/// Table 2's entry of one score: the correlations of `x` with `y` and their inference,
/// `resamples` bootstrap resamples (stream 0 of `seed`) for the intervals at `level` and
/// `permutations` permutations (stream 1) for the p-values. The report's inference
/// (`analysis::Report::with_inference`) computes the same for many scores at once.
pub fn infer_correlations(
    x: &[f64],
    y: &[f64],
    resamples: usize,
    permutations: usize,
    seed: u64,
    level: f64,
) -> super::Correlations {
    let mut c = super::correlate(x, y);
    let series = [x.to_vec()];
    let one = Clusters::one(y.len());
    let boot = bootstrap_correlations(&series, y, &one, resamples, &mut Resampler::new(seed, 0));
    let p = permutation_p_values(&series, y, &one, permutations, &mut Resampler::new(seed, 1));
    c.fill_inference(&boot[0], &p[0], level);
    c
}

impl super::Correlations {
    /// Sets each defined correlation's interval (at `level`, from its bootstrap distribution in
    /// `boot`) and p-value (from `p`), in [`Statistic`] order; undefined ones keep none.
    pub fn fill_inference(&mut self, boot: &[Vec<f64>; 3], p: &[Option<f64>; 3], level: f64) {
        for s in Statistic::ALL {
            let defined = self.value(s).is_some();
            let ci = defined
                .then(|| percentile_interval(&boot[s as usize], level))
                .flatten();
            self.set_inference(s, ci, p[s as usize].filter(|_| defined));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_numpy_linear_interpolation() {
        // np.percentile([1, 2, 4, 8], [0, 2.5, 50, 97.5, 100]) = [1, 1.075, 3, 7.7, 8]
        let x = [1.0, 2.0, 4.0, 8.0];
        for (q, want) in [
            (0.0, 1.0),
            (0.025, 1.075),
            (0.5, 3.0),
            (0.975, 7.7),
            (1.0, 8.0),
        ] {
            assert!((quantile(&x, q).unwrap() - want).abs() < 1e-12, "q = {q}");
        }
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3.0], 0.9), Some(3.0));
    }

    #[test]
    fn interval_leaves_out_undefined_resamples_and_refuses_too_few() {
        let mut v: Vec<f64> = (0..=100).map(f64::from).collect();
        v.push(f64::NAN);
        // h = 100 · 0.05 (= 4.999999999999999 in floating point) and 100 · 0.95.
        let [lo, hi] = percentile_interval(&v, 0.9).unwrap();
        assert!(
            (lo - 5.0).abs() < 1e-12 && (hi - 95.0).abs() < 1e-12,
            "{lo} {hi}"
        );
        let mostly_undefined = [1.0, f64::NAN, f64::NAN];
        assert_eq!(percentile_interval(&mostly_undefined, 0.95), None);
    }

    /// By hand: observed 0.5 against null values 0.1, 0.6, −0.7, 0.5: three are ≤ 0.5 (with the
    /// tie) and two are ≥ 0.5, so P≤ = 4/5, P≥ = 3/5 and p = min(1, 6/5) = 1; observed 0.9: P≥ =
    /// 1/5, p = 2/5.
    #[test]
    fn permutation_p_value_by_hand() {
        let null = [0.1, 0.6, -0.7, 0.5];
        assert_eq!(permutation_p_value(0.5, &null), Some(1.0));
        assert!((permutation_p_value(0.9, &null).unwrap() - 0.4).abs() < 1e-15);
        assert_eq!(permutation_p_value(0.9, &[f64::NAN]), None);
    }

    /// The fast paths (ranks from multiplicities, pair signs from a table) give exactly what
    /// [`crate::stats::correlate`] gives on the gathered pairs, resample by resample, with ties
    /// and with resamples where a correlation is undefined.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn fast_resampling_equals_correlating_each_resample() {
        use crate::stats::correlate;
        let value = |c: &crate::stats::Correlations, s: Statistic| c.value(s).unwrap_or(f64::NAN);
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        for (x, y) in [
            (
                vec![0.3, 0.1, 0.3, 0.9, 0.5, 0.1],
                vec![1.0, 2.0, 2.0, 0.0, 5.0, 3.0],
            ),
            (
                (0..15).map(|i| ((i * 7) % 5) as f64).collect::<Vec<f64>>(),
                (0..15).map(|i| (i as f64).sin()).collect(),
            ),
        ] {
            let n = x.len();
            let boot = bootstrap_correlations(
                std::slice::from_ref(&x),
                &y,
                &Clusters::one(n),
                300,
                &mut Resampler::new(3, 0),
            );
            let mut rng = Resampler::new(3, 0);
            let mut idx = Vec::new();
            let mut undefined = 0;
            for b in 0..300 {
                rng.bootstrap_indices(n, &mut idx);
                let gx: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
                let gy: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
                let c = correlate(&gx, &gy);
                for s in Statistic::ALL {
                    let got = boot[0][s as usize][b];
                    assert!(
                        same(got, value(&c, s)),
                        "resample {b} {s:?}: {got} vs {c:?}"
                    );
                    undefined += got.is_nan() as usize;
                }
            }
            if n == 6 {
                assert!(
                    undefined > 0,
                    "the small case should hit undefined resamples"
                );
            }

            let p = permutation_p_values(
                std::slice::from_ref(&x),
                &y,
                &Clusters::one(n),
                200,
                &mut Resampler::new(3, 1),
            );
            let mut rng = Resampler::new(3, 1);
            let mut null: [Vec<f64>; 3] = Default::default();
            let mut order: Vec<usize> = (0..n).collect();
            for _ in 0..200 {
                rng.shuffle(&mut order);
                let py: Vec<f64> = order.iter().map(|&i| y[i]).collect();
                let c = correlate(&x, &py);
                for s in Statistic::ALL {
                    null[s as usize].push(value(&c, s));
                }
            }
            let observed = correlate(&x, &y);
            for s in Statistic::ALL {
                let want = permutation_p_value(value(&observed, s), &null[s as usize]);
                assert_eq!(p[0][s as usize], want, "{s:?}");
            }
        }
    }

    #[test]
    fn the_same_seed_and_stream_give_the_same_resamples_and_streams_differ() {
        let draw = |seed, stream| {
            let mut r = Resampler::new(seed, stream);
            let mut idx = Vec::new();
            r.bootstrap_indices(50, &mut idx);
            let mut order: Vec<usize> = (0..50).collect();
            r.shuffle(&mut order);
            (idx, order)
        };
        assert_eq!(draw(7, 0), draw(7, 0));
        assert_ne!(draw(7, 0), draw(7, 1));
        assert_ne!(draw(7, 0), draw(8, 0));
        let (idx, mut order) = draw(7, 0);
        assert!(idx.iter().all(|&i| i < 50));
        order.sort_unstable();
        assert_eq!(order, (0..50).collect::<Vec<_>>());
    }
}
