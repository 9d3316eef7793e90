//! Times crate `reps`'s full per-layer report on two activation files, for `bench/compare_numpy.py`.
//!
//! Usage: `cargo run --release -p reps --example time_report -- REF.npy MODEL.npy LABELS.npy REPEATS [--stream | --report]`
//! Prints one JSON line: the best wall time in seconds over REPEATS runs and the values computed,
//! so that the script can check that both implementations computed the same numbers. With
//! `--stream`, the files' rows are read in chunks by `compare_models_streamed` (the path of
//! `native analyze --stream`; for N > D the D × D second moments are accumulated), from the
//! files' bytes already in memory, and reading is timed with the analysis. With `--report`, the
//! whole report is timed as `reps.analyze` of the Python package makes it (`bench/python_api.py`):
//! the input's layers checked, the comparisons, the report, the inference with no resamples and
//! the JSON text.

use reps::analysis::{
    compare_models, AnalysisInput, AnalysisOptions, InferenceOptions, ModelInput,
};
use reps::formats::{parse_npy, read_labels, ArrayData};
use reps::{Activations, Values};
use std::time::Instant;

fn load(path: &str) -> Activations {
    let bytes = std::fs::read(path).expect("readable input");
    let a = parse_npy(path, "x", &bytes, &mut budget()).expect("valid .npy");
    let values = match a.data {
        ArrayData::F32(v) => Values::F32(v.into()),
        ArrayData::F64(v) => Values::F64(v.into()),
        ArrayData::Int(_) | ArrayData::Text(_) => panic!("{path}: float array expected"),
    };
    Activations::new(a.shape[0], a.shape[1..].to_vec(), values).expect("finite activations")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() == 5 || (args.len() == 6 && ["--stream", "--report"].contains(&&*args[5])),
        "usage: time_report REF.npy MODEL.npy LABELS.npy REPEATS [--stream | --report]"
    );
    if args.len() == 6 && args[5] == "--stream" {
        return streamed(&args);
    }
    let whole_report = args.len() == 6;
    let (x, y) = (load(&args[1]), load(&args[2]));
    let labels = read_labels(&args[3], &std::fs::read(&args[3]).unwrap(), &mut budget()).unwrap();
    let repeats: usize = args[4].parse().unwrap();
    // The path of `native analyze` on two models: the reference's and the model's statistics
    // side by side, then the comparison (`compare_models`).
    let model = |name: &str, a: Activations| {
        ModelInput::new(name, format!("{name}.npy"), vec![("x".into(), a)])
    };
    let input = AnalysisInput {
        models: vec![model("m0", x), model("m1", y)],
        labels: Some((labels, args[3].clone())),
    };
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats {
        let t = Instant::now();
        if whole_report {
            // As an API user builds the input from arrays in memory: each layer checked
            // (`Activations::new`, its values shared, not copied).
            for m in &input.models {
                let a = &m.layers[0].1;
                Activations::new(a.rows(), a.sample_shape().to_vec(), a.values().clone()).unwrap();
            }
        }
        let c = compare_models(&input, &AnalysisOptions::default(), &mut |_| {}).unwrap();
        if whole_report {
            let no_resamples = InferenceOptions {
                bootstrap: 0,
                permutations: 0,
                seed: 0,
                stable_drop: 0.05,
            };
            let report = c.report(&c.layers, None).unwrap();
            let json = serde_json::to_string(&report.with_inference(&no_resamples).unwrap());
            assert!(json.unwrap().len() > 100);
        }
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(c);
    }
    let c = out.unwrap();
    let r = c.models[0].layers.get("x").unwrap();
    let m = c.models[1].layers.get("x").unwrap();
    print_result(best, r.raw.effective_rank, m);
}

/// The JSON line the script reads: the best time, and the values to check against numpy's.
fn print_result(best: f64, ref_rank: f64, c: &reps::metrics::LayerComparison) {
    println!(
        "{{\"seconds\": {best}, \"ref_effective_rank\": {ref_rank}, \"effective_rank\": {}, \"dead_fraction\": {}, \"separation\": {}, \"decay_slope\": {}, \"cka\": {}, \"cka_debiased\": {}}}",
        c.raw.effective_rank,
        c.raw.dead_fraction,
        c.raw.separation.unwrap(),
        c.raw.decay_slope,
        c.cka,
        c.cka_debiased.unwrap_or(f64::NAN)
    );
}

/// The same report through the streamed analysis.
fn streamed(args: &[String]) {
    use reps::analysis::compare_models_streamed;
    use reps::formats::stream::{open_streamed_model, SliceSource};
    let bytes: Vec<Vec<u8>> = args[1..3]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let labels = read_labels(&args[3], &std::fs::read(&args[3]).unwrap(), &mut budget()).unwrap();
    let repeats: usize = args[4].parse().unwrap();
    let sources = [
        SliceSource::new("x.npy", &bytes[0]),
        SliceSource::new("y.npy", &bytes[1]),
    ];
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats {
        let t = Instant::now();
        let models: Vec<_> = sources
            .iter()
            .map(|s| {
                open_streamed_model(s, "m", Some(false), &mut budget())
                    .unwrap()
                    .model
            })
            .collect();
        let models: Vec<_> = models
            .into_iter()
            .enumerate()
            .map(|(i, mut m)| {
                m.name = format!("m{i}");
                m
            })
            .collect();
        let options = AnalysisOptions::default();
        let c = compare_models_streamed(
            &models,
            Some((labels.clone(), args[3].clone())),
            &options,
            None,
            &mut |_| {},
        )
        .unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(c);
    }
    let c = out.unwrap();
    let layer = &c.layers[0];
    let r = c.models[0].layers.get(layer).unwrap();
    let m = c.models[1].layers.get(layer).unwrap();
    print_result(best, r.raw.effective_rank, m);
}

fn budget() -> reps::formats::ReadBudget {
    reps::formats::ReadBudget::default()
}
