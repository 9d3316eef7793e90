//! The search itself: the sensitivity pass, then each strategy's allocation, with every finished
//! piece kept under `state/` so that a stopped search continues from its last finished step.

use super::measure::Measurer;
use crate::compress::{CompressionMethod, LayerSearch};
use crate::output_file::write_atomic;
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use reps::search::{
    Allocation, BudgetSpace, Drive, Ended, Greedy, GreedyState, LayerLadder, Measurement,
    Sensitivity, Strategy, Target,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a search is asked for.
pub struct Plan {
    pub method: &'static CompressionMethod,
    pub search: LayerSearch,
    pub ladder: Vec<f64>,
    pub space: BudgetSpace,
    pub target: Target,
    pub strategies: Vec<Strategy>,
    pub refresh: usize,
}

impl Plan {
    /// The budget space of `weights` (every weight tensor, in name order) on `ladder`.
    pub fn space(
        search: &LayerSearch,
        weights: &[crate::model::WeightTensor],
        ladder: &[f64],
    ) -> Result<BudgetSpace> {
        let layers = weights
            .iter()
            .map(|w| LayerLadder {
                name: w.name.clone(),
                parameters: w.values.len(),
                amounts: std::iter::once((search.amount)(&w.dims, None))
                    .chain(ladder.iter().map(|&v| (search.amount)(&w.dims, Some(v))))
                    .collect(),
            })
            .collect();
        Ok(BudgetSpace::new(layers, search.direction)?)
    }

    /// The per-layer values of ladder levels (0: untouched).
    pub fn values(&self, levels: &[usize]) -> Vec<Option<f64>> {
        levels
            .iter()
            .map(|&k| k.checked_sub(1).map(|i| self.ladder[i]))
            .collect()
    }
}

/// The files of a search's progress under `OUT/state/`.
pub struct StateFiles(pub PathBuf);

impl StateFiles {
    fn sensitivity(&self) -> PathBuf {
        self.0.join("sensitivity.json")
    }
    fn strategy(&self, name: &str) -> PathBuf {
        self.0.join(format!("{name}.json"))
    }
    fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{}: not a search state file (delete it to start that part again)",
                    path.display()
                )
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    fn write<T: Serialize>(path: &Path, value: &T) -> Result<()> {
        write_atomic(path, &serde_json::to_vec(value)?)
    }
}

fn bar(len: u64, template: &str, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_string());
    bar
}

/// Measures (or reads back) the sensitivity table: the untouched model, then each layer alone
/// at each ladder step. A step whose budget amount equals the previous one's makes the same
/// weights and takes its measurement.
pub fn sensitivity(plan: &Plan, m: &mut Measurer, files: &StateFiles) -> Result<Sensitivity> {
    let path = files.sensitivity();
    let mut s: Sensitivity = StateFiles::read(&path)?.unwrap_or_default();
    let layers = plan.space.layers.len();
    let steps = plan.space.steps();
    let progress = bar(
        (layers * steps) as u64,
        "  {prefix:14} [{bar:30}] {pos}/{len} candidates (ETA {eta})",
        "sensitivity",
    );
    progress.set_position((s.rows.len() * steps) as u64);
    if s.untouched.is_none() {
        s.untouched = Some(m.untouched()?);
        StateFiles::write(&path, &s)?;
    }
    while s.rows.len() < layers {
        let i = s.rows.len();
        let amounts = &plan.space.layers[i].amounts;
        let mut row: Vec<Measurement> = Vec::with_capacity(steps);
        for k in 1..=steps {
            let same = k > 1 && amounts[k] == amounts[k - 1];
            let measured = match (same, row.last()) {
                (true, Some(previous)) => previous.clone(),
                _ => {
                    let mut values = vec![None; layers];
                    values[i] = Some(plan.ladder[k - 1]);
                    m.measure(&values)?
                }
            };
            row.push(measured);
            progress.inc(1);
        }
        s.rows.push(row);
        StateFiles::write(&path, &s)?;
    }
    progress.finish_and_clear();
    Ok(s)
}

/// Every strategy's allocation, in the plan's order: the greedy ones step by step (resumed from
/// their state files), the others at the budget. With a [`Target::MinScore`], the `reps`
/// strategy runs first and its final budget becomes every other strategy's.
pub fn allocate(
    plan: &Plan,
    m: &mut Measurer,
    table: &Sensitivity,
    files: &StateFiles,
) -> Result<Vec<Allocation>> {
    let mut order: Vec<&Strategy> = plan.strategies.iter().collect();
    let mut budget = match plan.target {
        Target::Budget(b) => Some(b),
        Target::MinScore(_) => {
            let reps = order
                .iter()
                .position(|s| s.name == "reps")
                .context("a search with a REPS threshold needs the reps strategy")?;
            let first = order.remove(reps);
            order.insert(0, first);
            None
        }
    };
    let mut out = Vec::new();
    for s in order {
        let target = match budget {
            Some(b) => Target::Budget(b),
            None => plan.target,
        };
        let a = match s.drive {
            Drive::Score(_) | Drive::Accuracy => greedy(plan, m, table, files, s, target)?,
            Drive::Uniform | Drive::Global => fixed(plan, m, s, budget_of_target(target)?)?,
        };
        budget.get_or_insert(a.budget);
        out.push(a);
    }
    // Back to the plan's order.
    out.sort_by_key(|a| plan.strategies.iter().position(|s| s.name == a.strategy));
    Ok(out)
}

fn budget_of_target(t: Target) -> Result<f64> {
    match t {
        Target::Budget(b) => Ok(b),
        Target::MinScore(_) => bail!("a fixed allocation needs a budget"),
    }
}

/// A greedy strategy, continued from its state file.
fn greedy(
    plan: &Plan,
    m: &mut Measurer,
    table: &Sensitivity,
    files: &StateFiles,
    s: &Strategy,
    target: Target,
) -> Result<Allocation> {
    // A candidate without the score (none is expected once the original has it) ranks last.
    let value = |x: &Measurement| s.drive.value(x).unwrap_or(f64::NEG_INFINITY);
    let bound = |x: &Measurement| x.reps_lower.or(x.reps()).unwrap_or(f64::NEG_INFINITY);
    let untouched = table.untouched.as_ref().expect("measured first");
    if s.drive.value(untouched).is_none() {
        bail!(
            "strategy {}: the score is not defined on the calibration images",
            s.name
        );
    }
    let sensitivity: Vec<Vec<f64>> = table
        .rows
        .iter()
        .map(|r| r.iter().map(value).collect())
        .collect();
    let g = Greedy {
        space: &plan.space,
        untouched: value(untouched),
        sensitivity: &sensitivity,
        refresh_every: plan.refresh,
        target,
        score: &value,
        bound: &bound,
    };
    let path = files.strategy(s.name);
    let mut state = StateFiles::read(&path)?.unwrap_or_else(|| g.start());
    let (goal, start) = match target {
        Target::Budget(b) => (b, plan.space.budget(&vec![0; plan.space.layers.len()])),
        Target::MinScore(_) => (1.0, 0.0),
    };
    let progress = bar(
        1000,
        "  {prefix:14} [{bar:30}] {msg} (elapsed {elapsed})",
        s.name,
    );
    let show = |state: &GreedyState<Measurement>| {
        let b = plan.space.budget(&state.levels);
        let done = plan.space.progress(start, b) / plan.space.progress(start, goal);
        progress.set_position((done.clamp(0.0, 1.0) * 1000.0) as u64);
        progress.set_message(format!("step {}, budget {b:.4}", state.steps.len()));
    };
    show(&state);
    let mut measure = |levels: &[usize]| -> Result<Measurement> { m.measure(&plan.values(levels)) };
    while g.advance(&mut state, &mut measure)? {
        StateFiles::write(&path, &state)?;
        show(&state);
    }
    StateFiles::write(&path, &state)?;
    progress.finish_and_clear();
    let measurement = state
        .steps
        .last()
        .map(|st| st.measurement.clone())
        .unwrap_or_else(|| untouched.clone());
    if state.ended == Some(Ended::Exhausted) {
        if let Target::Budget(b) = target {
            if !plan.space.reached(plan.space.budget(&state.levels), b) {
                bail!(
                    "{}: every layer reached its last level before the budget {b}",
                    s.name
                );
            }
        }
    }
    Ok(Allocation {
        strategy: s.name.to_string(),
        values: plan.values(&state.levels),
        budget: plan.space.budget(&state.levels),
        measurement,
        greedy: Some(state),
    })
}

/// `uniform` (one ladder level for every layer) or `global` (the method's own rule at the budget).
fn fixed(plan: &Plan, m: &mut Measurer, s: &Strategy, budget: f64) -> Result<Allocation> {
    let values: Vec<Option<f64>> = match s.drive {
        Drive::Uniform => {
            let k = plan
                .space
                .uniform_level(budget)
                .with_context(|| format!("no ladder level reaches {budget} on every layer"))?;
            vec![Some(plan.ladder[k - 1]); plan.space.layers.len()]
        }
        _ => {
            let per_layer = plan
                .search
                .global
                .with_context(|| format!("{} has no global rule", plan.method.name))?;
            let crate::compress::Make::Weights(apply) = plan.method.make else {
                unreachable!("checked: a searched method derives weights")
            };
            let mut all = m.weights().to_vec();
            apply(&mut all, budget, &m.settings())?;
            all.iter().map(|w| Some(per_layer(w))).collect()
        }
    };
    let amounts: Vec<f64> = values
        .iter()
        .zip(m.weights())
        .map(|(v, w)| (plan.search.amount)(&w.dims, *v))
        .collect();
    Ok(Allocation {
        strategy: s.name.to_string(),
        greedy: None,
        budget: plan.space.budget_of(&amounts),
        measurement: m.measure(&values)?,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::{find, MethodSettings};
    use crate::data::synthetic;
    use crate::model::Network;
    use crate::search::measure::Calibration;
    use candle_core::Tensor;

    /// An untrained width-4 ResNet-18 whose block `layer1.0` has its second BatchNorm's scale
    /// at 1e-6: that block's residual branch (`conv1`, then `conv2`) barely reaches the residual
    /// sum, so compressing its two convolutions changes almost nothing the network outputs,
    /// while the stem `conv1` feeds every later layer.
    #[test]
    fn reps_compresses_the_irrelevant_layer_first_and_the_stem_last() {
        let net = Network::untrained("resnet18", 4, 3);
        let (arch, device) = (net.arch, net.device().clone());
        {
            let vars = net.params.varmap().data().lock().unwrap();
            let g = &vars["layer1.0.bn2.weight"];
            g.set(&Tensor::full(1e-6f32, g.dims(), &device).unwrap())
                .unwrap();
        }
        let data = synthetic::generate(1, 64, 8);
        let indices: Vec<usize> = (0..64).collect();
        let method = find("prune").unwrap();
        let search = method.search.unwrap();
        let settings = MethodSettings {
            coreset: crate::compress::coreset::CoresetMethod::Craig,
            quant_mode: crate::compress::quantize::QuantMode::PerTensor,
            seed: 1,
        };
        let calibration = Calibration {
            images: &data.train,
            indices: &indices,
            no_pool: false,
            layers: arch.default_layers.iter().map(|l| l.to_string()).collect(),
        };
        let mut m = Measurer::new(&net, method, settings, calibration, None).unwrap();
        let ladder = vec![0.5, 0.9];
        let space = Plan::space(&search, m.weights(), &ladder).unwrap();
        let layers: Vec<String> = space.layers.iter().map(|l| l.name.clone()).collect();
        let plan = Plan {
            method,
            search,
            ladder,
            space,
            target: Target::Budget(0.85),
            strategies: vec![reps::search::strategy("reps").unwrap()],
            refresh: 0,
        };
        let dir = std::env::temp_dir().join(format!("reps-search-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = StateFiles(dir.clone());
        let table = sensitivity(&plan, &mut m, &files).unwrap();
        let allocation = allocate(&plan, &mut m, &table, &files).unwrap().remove(0);
        std::fs::remove_dir_all(&dir).unwrap();
        let steps = &allocation.greedy.as_ref().unwrap().steps;
        let name = |i: usize| layers[steps[i].layer].as_str();
        let branch = ["layer1.0.conv1.weight", "layer1.0.conv2.weight"];
        // Both levels of both convolutions of the muted branch come first.
        for i in 0..4 {
            assert!(branch.contains(&name(i)), "step {i} moved {}", name(i));
        }
        // The muted branch ends at the last level; the stem, which every layer after it reads,
        // is never touched on the way to the budget.
        let value =
            |layer: &str| allocation.values[layers.iter().position(|l| l == layer).unwrap()];
        assert_eq!(value(branch[0]), Some(0.9));
        assert_eq!(value(branch[1]), Some(0.9));
        assert_eq!(value("conv1.weight"), None);
        assert!(allocation.budget >= 0.85);
    }
}
