//! Crate `reps` inside Chromium (WebAssembly): the importers and the metrics give the values
//! derived by hand or in closed form, as on native targets. Run by scripts/test.sh with
//! `cargo test -p web --target wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]

use reps::formats::{read_model_file, snapshot};
use reps::metrics::{compare_layers, effective_rank, LayerStats};
use reps::stats::{kendall_tau_b, spearman};
use reps::Activations;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn matrix_products_run_the_simd128_kernels() {
    // After a layer's statistics (Gram products through faer and gemm), the gemm crate's choice of
    // kernels is its simd128 one; the viewer's worker reports the same (`data-kernels`).
    let values: Vec<f64> = (0..40 * 64).map(|i| ((i * 7919) % 97) as f64).collect();
    let a = Activations::from_rows_f64(40, 64, values).unwrap();
    assert!(LayerStats::compute(&a, None, 5).unwrap().effective_rank > 1.0);
    assert_eq!(reps::product_kernels(), "simd128");
}

#[wasm_bindgen_test]
fn the_gram_kernel_equals_the_direct_sum() {
    // The two-lane SIMD Gram kernel of the browser against Σ_k x_ik x_jk term by term, at shapes
    // that are not multiples of its 4 × 4 tiles or its 256-feature blocks (200 × 8192 is checked
    // natively, in reps's unit tests: this test crate is unoptimised, and its direct sum there
    // would hold the page longer than the test driver waits).
    for (n, d) in [(1, 1), (3, 5), (17, 300), (40, 7), (5, 513), (9, 1100)] {
        let x = faer::Mat::from_fn(n, d, |i, j| {
            (((i * 7919 + j * 104_729) % 1009) as f64 / 1009.0 - 0.5) * (1.0 + (j % 3) as f64)
        });
        // The simd128 kernel (what the test crate's `gram` runs) and the relaxed-SIMD one
        // (Chromium validates relaxed SIMD).
        for k in [reps::gram(x.as_ref()), reps::gram_fused(x.as_ref())] {
            for i in 0..n {
                for j in 0..=i {
                    let want: f64 = (0..d).map(|c| x[(i, c)] * x[(j, c)]).sum();
                    let scale = (k[(i, i)] * k[(j, j)]).sqrt();
                    assert!(
                        (k[(i, j)] - want).abs() <= 1e-13 * scale,
                        "{n}×{d} ({i}, {j})"
                    );
                    assert_eq!(k[(i, j)], k[(j, i)]);
                }
            }
        }
    }
}

#[wasm_bindgen_test]
fn the_relaxed_simd_probe_validates_here() {
    // Chromium has relaxed SIMD: the probe the page starts the relaxed build on validates, and
    // the same module with its opcode changed to an unassigned one (0x1ff) does not.
    assert!(web::builds::browser_has_relaxed_simd());
    let mut broken = web::builds::RELAXED_PROBE;
    broken[79] = 0xff;
    broken[80] = 0x03;
    let probe = js_sys::Uint8Array::from(&broken[..]);
    assert!(!js_sys::WebAssembly::validate(&probe.into()).unwrap());
}

#[wasm_bindgen_test]
fn golden_snapshots_decode_in_the_browser() {
    // Version 1, read into the current types.
    let v1 = include_bytes!("../../tests/golden/v1.reps");
    let s = snapshot::decode("v1.reps", v1).unwrap();
    assert_eq!(s.sample_indices, vec![3, 14, 15, 92]);
    assert_eq!(s.models.len(), 2);
    assert_eq!(s.models[1].parameter, Some(4.0));
    assert_eq!(
        (
            s.models[1].method.as_str(),
            s.models[1].parameter_name.as_deref()
        ),
        ("quant", Some("bits"))
    );
    assert_eq!(s.models[1].logits.as_deref(), Some("fc"));
    // Versions 2 and 3 read; encoding gives the committed version-4 bytes (no usize or pointer
    // width leaks into the format, and the checksums are the same on wasm32).
    let v2 = include_bytes!("../../tests/golden/v2.reps");
    let v3 = include_bytes!("../../tests/golden/v3.reps");
    let v4 = include_bytes!("../../tests/golden/v4.reps");
    let s = snapshot::decode("v2.reps", v2).unwrap();
    assert_eq!(s.models[1].method, "distill");
    assert_eq!(snapshot::decode("v3.reps", v3).unwrap(), s);
    assert_eq!(snapshot::encode(&s).unwrap(), v4.to_vec());
    assert_eq!(snapshot::decode("v4.reps", v4).unwrap(), s);
    for (name, bytes) in [("v3.reps", &v3[..]), ("v4.reps", &v4[..])] {
        let mut flipped = bytes.to_vec();
        flipped[100] ^= 4;
        assert!(snapshot::decode(name, &flipped)
            .unwrap_err()
            .to_string()
            .contains("CRC-32"));
    }
    let mut truncated = v1.to_vec();
    truncated.truncate(40);
    assert!(snapshot::decode("v1.reps", &truncated)
        .unwrap_err()
        .to_string()
        .starts_with("v1.reps: "));
}

#[wasm_bindgen_test]
fn npz_written_in_the_test_is_read() {
    let x: Vec<f32> = (0..6).map(|i| i as f32).collect();
    let bytes = reps_e2e::files::npz(&[("feat", reps_e2e::files::npy_f32(&[3, 2], &x))], true);
    let m = read_model_file("m.npz", "m", &bytes, &mut budget()).unwrap();
    assert_eq!(m.layers[0].1.get(2, 1), 5.0);
    assert!(read_model_file("bad.npz", "m", &bytes[..20], &mut budget())
        .unwrap_err()
        .to_string()
        .starts_with("bad.npz"));
}

#[wasm_bindgen_test]
fn closed_forms_hold_in_webassembly() {
    // s = (3, 1): r_e = exp(−(¾ ln ¾ + ¼ ln ¼)).
    let h: f64 = -(0.75f64 * 0.75f64.ln() + 0.25 * 0.25f64.ln());
    assert!((effective_rank(&[9.0, 1.0]) - h.exp()).abs() < 1e-14);
    // Ties: Spearman 4.5/sqrt(22.5) and tau-b 5/sqrt(30) (worked out in shared/tests/correlations.rs).
    let (x, y) = ([1.0, 2.0, 2.0, 3.0], [1.0, 3.0, 2.0, 4.0]);
    assert!((spearman(&x, &y).unwrap() - 4.5 / 22.5f64.sqrt()).abs() < 1e-15);
    assert!((kendall_tau_b(&x, &y).unwrap() - 5.0 / 30f64.sqrt()).abs() < 1e-15);
    // A layer compared with itself: every similarity exactly 1 (Gram path N ≤ D and feature path N > D).
    for (n, d) in [(6usize, 40usize), (40, 6)] {
        let v: Vec<f64> = (0..n * d)
            .map(|i| ((i * 7919) % 97) as f64 / 97.0)
            .collect();
        let a = Activations::from_rows_f64(n, d, v).unwrap();
        let labels: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
        let s = LayerStats::compute(&a, Some(&labels), 10).unwrap();
        let c = compare_layers(&s, &s);
        assert_eq!(
            (c.effective_rank, c.separation, c.decay, c.cka),
            (1.0, Some(1.0), 1.0, 1.0)
        );
    }
}

/// The worker's code path in WebAssembly: the sample analysed over every layer, reported on the
/// default layers, equals a direct report; and a worker message survives postcard on wasm32.
#[wasm_bindgen_test]
fn worker_analysis_in_webassembly_equals_a_direct_report() {
    use web::protocol::{decode, encode, Response};
    let bytes = include_bytes!("../../www/sample.reps").to_vec();
    let loaded = reps::analysis::open_files(
        &[("sample.reps".into(), bytes)],
        None,
        &mut Default::default(),
    )
    .unwrap();
    let a = web::load::analyse(&loaded, None, &mut |_| {}).unwrap();
    let direct = reps::analysis::analyze(&loaded.input, &Default::default()).unwrap();
    let report = a.comparisons.report(&a.default_layers, None).unwrap();
    assert_eq!(report, direct);
    assert_eq!(report.models[0].cka, 1.0);
    let message = Response::Done {
        job: u32::MAX,
        analysis: Box::new(a),
    };
    assert_eq!(
        decode::<Response>(&encode(&message).unwrap()).unwrap(),
        message
    );
}

/// The same seed gives the same intervals and p-values as on native targets, bit for bit
/// (tests/golden/inference-seed7.json, checked natively by shared/tests/inference.rs).
#[wasm_bindgen_test]
fn inference_in_webassembly_gives_the_native_bits() {
    use reps::stats::{infer_correlations, Correlations};
    let golden: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/golden/inference-seed7.json")).unwrap();
    let v = |k: &str| -> Vec<f64> {
        golden[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let n = |k: &str| golden[k].as_u64().unwrap();
    let got = infer_correlations(
        &v("x"),
        &v("y"),
        n("resamples") as usize,
        n("permutations") as usize,
        n("seed"),
        0.95,
    );
    let want: Correlations = serde_json::from_value(golden["correlations"].clone()).unwrap();
    assert_eq!(got, want);
}

fn budget() -> reps::formats::ReadBudget {
    reps::formats::ReadBudget::default()
}
