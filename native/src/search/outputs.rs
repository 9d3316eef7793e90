//! A search's final models and files: each strategy's checkpoint and recipe, their evaluation on
//! the test set, `search.reps`, `search.json`, `search.md` and the manifest.

use super::measure::Measurer;
use super::run::Plan;
use super::source::Source;
use crate::output_file::write_atomic;
use crate::sweep::extract::{describe, Described};
use crate::sweep::manifest::FileRecord;
use crate::sweep::snapshot_of;
use anyhow::{Context, Result};
use reps::analysis::{analyze, open_files, AnalysisOptions, Claim};
use reps::formats::{snapshot, ReadBudget};
use reps::search::{
    more_accurate, paired_accuracy_difference, Allocation, FinalModel, SearchResult,
    SearchSettings, Sensitivity,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The recipe of one strategy's model: the method's value for each layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub method: String,
    pub strategy: String,
    pub budget: f64,
    /// Each weight tensor's value (`null`: untouched).
    pub layers: BTreeMap<String, Option<f64>>,
}

/// The files of a finished search, by name relative to `OUT`.
pub const RESULT_FILES: [&str; 3] = ["search.json", "search.md", "search.reps"];

/// What the search found, before its models are built.
pub struct Searched {
    pub table: Sensitivity,
    pub allocations: Vec<Allocation>,
    /// The settings the output directory is pinned to.
    pub settings: SearchSettings,
    /// Seconds this run took.
    pub seconds: f64,
}

/// Builds, evaluates and writes every strategy's model and the search's files.
pub fn write(
    out: &Path,
    source: &Source,
    plan: &Plan,
    m: &mut Measurer,
    searched: Searched,
) -> Result<SearchResult> {
    let Searched {
        table,
        allocations,
        settings,
        seconds,
    } = searched;
    let original_flat: Vec<f32> = m.weights().iter().flat_map(|w| w.values.clone()).collect();
    let mut written: Vec<(String, Vec<u8>)> = Vec::new();
    m.set(&vec![None; m.weights().len()])?;
    let (original, _) = describe(
        m.net(),
        Described {
            name: "original",
            method: "original",
            parameter: None,
        },
        &source.data.test,
        &source.samples,
        source.cfg.no_pool,
        &original_flat,
    )?;
    let original_accuracy = original.accuracy.expect("described");
    let mut models = vec![original];
    let mut correct = Vec::new();
    for a in &allocations {
        m.set(&a.values)?;
        let checkpoint = m.net().checkpoint_bytes()?;
        let name = format!("checkpoints/{}.safetensors", a.strategy);
        write_atomic(&out.join(&name), &checkpoint)?;
        written.push((name, checkpoint));
        let recipe = Recipe {
            method: plan.method.name.to_string(),
            strategy: a.strategy.clone(),
            budget: a.budget,
            layers: plan
                .space
                .layers
                .iter()
                .zip(&a.values)
                .map(|(l, v)| (l.name.clone(), *v))
                .collect(),
        };
        let name = format!("recipe-{}.json", a.strategy);
        let bytes = serde_json::to_vec_pretty(&recipe)?;
        write_atomic(&out.join(&name), &bytes)?;
        written.push((name, bytes));
        let (model, c) = describe(
            m.net(),
            Described {
                name: &a.strategy,
                method: plan.method.name,
                parameter: Some((plan.search.budget, a.budget)),
            },
            &source.data.test,
            &source.samples,
            source.cfg.no_pool,
            &original_flat,
        )?;
        models.push(model);
        correct.push(c);
    }
    let mut snap = snapshot_of(&source.cfg, &source.data, &source.samples, models);
    snap.producer = "reps native search".into();
    let bytes = snapshot::encode(&snap)?;
    write_atomic(&out.join("search.reps"), &bytes)?;
    let opened = open_files(
        &[("search.reps".to_string(), bytes.clone())],
        None,
        &mut ReadBudget::new(u64::MAX),
    )?;
    written.push(("search.reps".into(), bytes));
    let report = analyze(&opened.input, &AnalysisOptions::default())?;
    let uniform = allocations.iter().position(|a| a.strategy == "uniform");
    let mut finals = Vec::new();
    for (i, a) in allocations.iter().enumerate() {
        let r = report
            .models
            .iter()
            .find(|r| r.name == a.strategy)
            .context("every strategy's model is in the report")?;
        let vs_uniform = match uniform {
            Some(u) if u != i => Some(paired_accuracy_difference(
                &correct[i],
                &correct[u],
                settings.resamples,
                reps::analysis::LEVEL,
                source.cfg.seed,
            )?),
            _ => None,
        };
        finals.push(FinalModel {
            strategy: a.strategy.clone(),
            budget: a.budget,
            levels: a.values.clone(),
            accuracy: r.accuracy.context("accuracy")?,
            reps: r.reps_weighted,
            reps_equal: r.reps_equal,
            cka: r.cka,
            prediction_agreement: r.baselines.prediction_agreement,
            calibration: a.measurement.clone(),
            vs_uniform,
        });
    }
    let claims = claims(&finals, &correct, &allocations, &settings, source.cfg.seed)?;
    let result = SearchResult {
        settings,
        budget_name: plan.search.budget.to_string(),
        space: plan.space.clone(),
        original_accuracy,
        sensitivity: table,
        allocations,
        models: finals,
        claims,
        timing: m.timing,
        seconds,
    };
    let json = serde_json::to_vec_pretty(&result)?;
    write_atomic(&out.join("search.json"), &json)?;
    written.push(("search.json".into(), json));
    let md = super::markdown::render(&result).into_bytes();
    write_atomic(&out.join("search.md"), &md)?;
    written.push(("search.md".into(), md));
    let manifest: BTreeMap<String, FileRecord> = written
        .iter()
        .map(|(n, b)| (n.clone(), FileRecord::of(b)))
        .collect();
    write_atomic(
        &out.join("manifest.json"),
        &serde_json::to_vec_pretty(&serde_json::json!({ "files": manifest }))?,
    )?;
    Ok(result)
}

/// "REPS-guided allocation keeps more test accuracy than X at the same budget", for X uniform
/// and agreement-guided, from the paired interval of the accuracy difference.
fn claims(
    finals: &[FinalModel],
    correct: &[Vec<bool>],
    allocations: &[Allocation],
    settings: &SearchSettings,
    seed: u64,
) -> Result<Vec<Claim>> {
    let at = |name: &str| allocations.iter().position(|a| a.strategy == name);
    let Some(reps) = at("reps") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (rival, words) in [("uniform", "uniform"), ("agreement", "agreement-guided")] {
        let Some(r) = at(rival) else { continue };
        let d = match &finals[reps].vs_uniform {
            Some(d) if rival == "uniform" => d.clone(),
            _ => paired_accuracy_difference(
                &correct[reps],
                &correct[r],
                settings.resamples,
                reps::analysis::LEVEL,
                seed,
            )?,
        };
        let verdict = more_accurate(d.interval);
        let interval = d.interval.map_or("no interval".to_string(), |[lo, hi]| {
            format!("[{lo:+.4}, {hi:+.4}]")
        });
        out.push(Claim {
            id: format!("reps_beats_{rival}"),
            statement: format!(
                "REPS-guided allocation keeps more test accuracy than {words} allocation at the same budget"
            ),
            verdict,
            evidence: format!(
                "accuracy {:.4} vs {:.4} (budget {:.4} vs {:.4}); difference {:+.4}, 95% paired bootstrap interval {interval}",
                finals[reps].accuracy,
                finals[r].accuracy,
                finals[reps].budget,
                finals[r].budget,
                d.difference
            ),
        });
    }
    Ok(out)
}
