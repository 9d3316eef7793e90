//! PLCC (Pearson), SRCC (Spearman with average ranks for ties) and KRCC (Kendall tau-b).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a correlation has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undefined {
    /// Fewer than three pairs.
    TooFewPoints(usize),
    /// One of the series does not vary (or, for tau-b, every pair is tied).
    Constant(&'static str),
    /// The series have different lengths.
    LengthMismatch(usize, usize),
    /// A correlation is ±1, or two scores are the same up to scale (Steiger's test).
    Perfect,
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undefined::TooFewPoints(n) => write!(f, "fewer than 3 models ({n})"),
            Undefined::Constant(which) => write!(f, "the {which} series is constant"),
            Undefined::LengthMismatch(a, b) => write!(f, "series of lengths {a} and {b}"),
            Undefined::Perfect => write!(
                f,
                "a correlation is ±1 or the two scores are the same up to scale"
            ),
        }
    }
}

fn check(x: &[f64], y: &[f64]) -> Result<(), Undefined> {
    if x.len() != y.len() {
        return Err(Undefined::LengthMismatch(x.len(), y.len()));
    }
    if x.len() < 3 {
        return Err(Undefined::TooFewPoints(x.len()));
    }
    Ok(())
}

/// Signed Pearson correlation `Σ(x−x̄)(y−ȳ) / sqrt(Σ(x−x̄)² Σ(y−ȳ)²)`, clamped to [−1, 1].
/// Undefined for fewer than 3 pairs or a constant series.
pub fn pearson(x: &[f64], y: &[f64]) -> Result<f64, Undefined> {
    check(x, y)?;
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    // A series whose spread is at the rounding level of its values is treated as constant.
    let flat = |s: f64, v: &[f64]| {
        let scale = v.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        s <= n * (crate::tolerances::CONSTANT_SERIES * scale).powi(2)
    };
    if flat(sxx, x) {
        return Err(Undefined::Constant("score"));
    }
    if flat(syy, y) {
        return Err(Undefined::Constant("accuracy-drop"));
    }
    Ok((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Ranks 1..n, tied values sharing the mean of the ranks they span.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman correlation: Pearson of the average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<f64, Undefined> {
    check(x, y)?;
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Kendall tau-b: `(n_c − n_d) / sqrt((n_0 − n_1)(n_0 − n_2))`, where `n_0 − n_1` and `n_0 − n_2`
/// count the pairs not tied in x and in y.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<f64, Undefined> {
    check(x, y)?;
    let (mut concordant, mut discordant) = (0i64, 0i64);
    let (mut untied_x, mut untied_y) = (0i64, 0i64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let sx = (x[i] - x[j]).partial_cmp(&0.0).map_or(0, |o| o as i64);
            let sy = (y[i] - y[j]).partial_cmp(&0.0).map_or(0, |o| o as i64);
            untied_x += (sx != 0) as i64;
            untied_y += (sy != 0) as i64;
            match sx * sy {
                1 => concordant += 1,
                -1 => discordant += 1,
                _ => {}
            }
        }
    }
    if untied_x == 0 {
        return Err(Undefined::Constant("score"));
    }
    if untied_y == 0 {
        return Err(Undefined::Constant("accuracy-drop"));
    }
    Ok(tau_b_of_counts(concordant - discordant, untied_x, untied_y))
}

/// Kendall's tau-b from its pair counts: `(n_c − n_d) / (√untied_x · √untied_y)`, clamped to
/// [−1, 1]. The square roots round, so that unclamped a perfect agreement can exceed 1 (with 3
/// untied pairs on each side, that is 3 models, it gives 1 + 2⁻⁵²). Both counts must be positive.
pub(crate) fn tau_b_of_counts(
    concordant_minus_discordant: i64,
    untied_x: i64,
    untied_y: i64,
) -> f64 {
    (concordant_minus_discordant as f64 / ((untied_x as f64).sqrt() * (untied_y as f64).sqrt()))
        .clamp(-1.0, 1.0)
}

/// PLCC, SRCC and KRCC of one score series against the accuracy drops. Each is `None` when
/// undefined, and `reason` then says why.
///
/// The intervals and p-values are filled in by the report's inference
/// (`analysis::Report::with_inference`), and are `None` until then: `*_ci` is the percentile
/// bootstrap interval over models, `*_p` the two-sided permutation p-value of no association.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Correlations {
    pub plcc: Option<f64>,
    pub srcc: Option<f64>,
    pub krcc: Option<f64>,
    pub reason: Option<String>,
    pub plcc_ci: Option<[f64; 2]>,
    pub srcc_ci: Option<[f64; 2]>,
    pub krcc_ci: Option<[f64; 2]>,
    pub plcc_p: Option<f64>,
    pub srcc_p: Option<f64>,
    pub krcc_p: Option<f64>,
}

impl Correlations {
    /// All three undefined for `reason`.
    pub fn undefined(reason: impl Into<String>) -> Self {
        Correlations {
            reason: Some(reason.into()),
            ..Correlations::default()
        }
    }
}

/// The three correlations of `scores` against `drops`.
pub fn correlate(scores: &[f64], drops: &[f64]) -> Correlations {
    let p = pearson(scores, drops);
    let s = spearman(scores, drops);
    let k = kendall_tau_b(scores, drops);
    let reason = [&p, &s, &k]
        .iter()
        .find_map(|r| r.as_ref().err())
        .map(|e| e.to_string());
    Correlations {
        plcc: p.ok(),
        srcc: s.ok(),
        krcc: k.ok(),
        reason,
        ..Correlations::default()
    }
}

/// The three correlation statistics, in the order of [`Correlations`]' fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    Plcc,
    Srcc,
    Krcc,
}

impl Statistic {
    pub const ALL: [Statistic; 3] = [Statistic::Plcc, Statistic::Srcc, Statistic::Krcc];

    /// `plcc`, `srcc` or `krcc`.
    pub fn key(self) -> &'static str {
        match self {
            Statistic::Plcc => "plcc",
            Statistic::Srcc => "srcc",
            Statistic::Krcc => "krcc",
        }
    }

    /// `PLCC`, `SRCC` or `KRCC`.
    pub fn label(self) -> &'static str {
        match self {
            Statistic::Plcc => "PLCC",
            Statistic::Srcc => "SRCC",
            Statistic::Krcc => "KRCC",
        }
    }
}

impl Correlations {
    /// The value of `statistic`.
    pub fn value(&self, statistic: Statistic) -> Option<f64> {
        match statistic {
            Statistic::Plcc => self.plcc,
            Statistic::Srcc => self.srcc,
            Statistic::Krcc => self.krcc,
        }
    }

    /// The bootstrap interval of `statistic`, once inferred.
    pub fn interval(&self, statistic: Statistic) -> Option<[f64; 2]> {
        match statistic {
            Statistic::Plcc => self.plcc_ci,
            Statistic::Srcc => self.srcc_ci,
            Statistic::Krcc => self.krcc_ci,
        }
    }

    /// The permutation p-value of `statistic`, once inferred.
    pub fn p_value(&self, statistic: Statistic) -> Option<f64> {
        match statistic {
            Statistic::Plcc => self.plcc_p,
            Statistic::Srcc => self.srcc_p,
            Statistic::Krcc => self.krcc_p,
        }
    }

    /// Sets the interval and p-value of `statistic`.
    pub(super) fn set_inference(
        &mut self,
        statistic: Statistic,
        interval: Option<[f64; 2]>,
        p: Option<f64>,
    ) {
        let (ci, pv) = match statistic {
            Statistic::Plcc => (&mut self.plcc_ci, &mut self.plcc_p),
            Statistic::Srcc => (&mut self.srcc_ci, &mut self.srcc_p),
            Statistic::Krcc => (&mut self.krcc_ci, &mut self.krcc_p),
        };
        *ci = interval;
        *pv = p;
    }
}
