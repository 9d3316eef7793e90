//! The streamed analysis (layers read in row chunks, issue 13) and the analysis split over parts
//! (the viewer's workers) against the in-memory one, and files read row by row: token files with
//! an attention mask, truncated and lying entries.

#![allow(clippy::needless_range_loop)] // matrix code reads best with indices

mod common;
use common::files::{f32_bytes, i64_bytes, npy, npy_f32, npz, safetensors};
use common::json::assert_contains;
use common::*;
use reps::analysis::{
    compare_layers_of, compare_models, compare_models_streamed, compare_models_with, AnalysisInput,
    AnalysisOptions, ModelInput, StreamedModel,
};
use reps::formats::stream::{list_entries, open_streamed_model, RowReader, SliceSource};
use reps::formats::ReadBudget;
use reps::Activations;

fn model<L>(name: &str, layers: Vec<(&str, L)>) -> ModelInput<L> {
    let layers = layers
        .into_iter()
        .map(|(k, l)| (k.to_string(), l))
        .collect();
    ModelInput {
        logits: Some("logits".into()),
        ..ModelInput::new(name, format!("{name}.npz"), layers)
    }
}

/// A reference with a wide layer (D = 48) and a narrow one (D = 5), plus logits (K = 3), and two
/// perturbed models, over `n` samples.
fn family(n: usize) -> Vec<ModelInput> {
    let mut rng = Rng(5);
    let y: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let mut wide = Dense::random(&mut rng, n, 48);
    let mut narrow = Dense::random(&mut rng, n, 5).scale(100.0);
    let mut logits = Dense::random(&mut rng, n, 3);
    for i in 0..n {
        wide.v[i * 48 + y[i]] += 3.0;
        narrow.v[i * 5 + y[i]] += 250.0;
        logits.v[i * 3 + y[i]] += 1.5;
        narrow.v[i * 5 + 4] = 7.25; // a dead neuron: constant column
    }
    (0..3)
        .map(|k| {
            let noise = |rng: &mut Rng, a: &Dense, s: f64| {
                let e = Dense::random(rng, a.rows, a.cols);
                Dense {
                    rows: a.rows,
                    cols: a.cols,
                    v: a.v
                        .iter()
                        .zip(&e.v)
                        .map(|(x, z)| x + s * k as f64 * z)
                        .collect(),
                }
            };
            let (w, nw, l) = (
                noise(&mut rng, &wide, 0.7),
                noise(&mut rng, &narrow, 40.0),
                noise(&mut rng, &logits, 0.5),
            );
            model(
                &format!("m{k}"),
                vec![
                    ("wide", w.activations()),
                    ("narrow", nw.activations()),
                    ("logits", l.activations()),
                ],
            )
        })
        .collect()
}

fn boxed(models: &[ModelInput]) -> Vec<StreamedModel<'_>> {
    models.iter().map(ModelInput::as_row_sources).collect()
}

fn options(reference: &str) -> AnalysisOptions {
    AnalysisOptions {
        reference: Some(reference.into()),
        layers: Some(vec!["wide".into(), "narrow".into(), "logits".into()]),
        ..AnalysisOptions::default()
    }
}

#[test]
fn models_split_over_parts_give_exactly_the_comparisons_of_one_pass() {
    let mut models = family(20);
    // Cross-model details: one accuracy given, one weight similarity known, the reference not first.
    models[1].accuracy = Some(0.8);
    models[2].weight_similarity = Some(0.9);
    let labels: Vec<u32> = (0..20).map(|i| (i % 3) as u32).collect();
    let input = AnalysisInput {
        models,
        labels: Some((labels, "labels.npy".into())),
    };
    let opts = options("m1");
    let whole = compare_models(&input, &opts, &mut |_| {}).unwrap();
    let mut steps = 0;
    let a = compare_layers_of(&input, &opts, &[2, 0], &mut |p| {
        steps += 1;
        assert_eq!((p.done, p.total), (steps, 6));
    })
    .unwrap();
    let b = compare_layers_of(&input, &opts, &[1], &mut |_| {}).unwrap();
    assert_eq!(steps, 6, "3 layers of 2 models");
    let joined = compare_models_with(&input, &opts, vec![b.clone(), a.clone()]).unwrap();
    assert_eq!(joined, whole);
    // A model missing or given twice is an error that names it.
    let e = compare_models_with(&input, &opts, vec![a.clone()]).unwrap_err();
    assert!(e.to_string().contains("'m1'"), "{e}");
    let e = compare_models_with(&input, &opts, vec![a.clone(), a, b]).unwrap_err();
    assert!(e.to_string().contains("repeated"), "{e}");
}

#[test]
fn streamed_equals_in_memory_for_n_above_and_below_d_at_any_chunk_size() {
    // n = 30: "wide" has N < D (the Gram path), "narrow" and "logits" N > D (streamed moments).
    // n = 61: every layer has N > D.
    for n in [30usize, 61] {
        let models = family(n);
        for labelled in [false, true] {
            let labels = labelled.then(|| {
                (
                    (0..n).map(|i| (i % 3) as u32).collect::<Vec<_>>(),
                    "y.npy".to_string(),
                )
            });
            let input = AnalysisInput {
                models: models.clone(),
                labels: labels.clone(),
            };
            let expected = compare_models(&input, &options("m1"), &mut |_| {}).unwrap();
            let expected = serde_json::to_value(&expected).unwrap();
            for chunk in [1, 7, n] {
                let streamed = boxed(&models);
                let got = compare_models_streamed(
                    &streamed,
                    labels.clone(),
                    &options("m1"),
                    Some(chunk),
                    &mut |_| {},
                )
                .unwrap();
                let got = serde_json::to_value(&got).unwrap();
                // The logit baselines add the same per-row terms in the same order: exact.
                for (e, g) in expected["models"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(got["models"].as_array().unwrap())
                {
                    assert_eq!(e["baselines"], g["baselines"], "chunk {chunk}");
                    assert_eq!(e["accuracy"], g["accuracy"], "chunk {chunk}");
                }
                assert_contains(
                    &expected,
                    &got,
                    &format!("n={n} labels={labelled} chunk={chunk}"),
                    1e-9,
                );
            }
        }
    }
}

/// A token file: (B, T, H) hidden states and (B, T, K) logits, with B = 3, T = 5, and the last
/// `pad[b]` tokens of sequence b padding (zeros in the arrays, 0 in the mask, −100 as label).
struct Tokens {
    hidden: Vec<f32>,
    logits: Vec<f32>,
    mask: Vec<i64>,
    labels: Vec<i64>,
}

const B: usize = 3;
const T: usize = 5;
const H: usize = 4;
const K: usize = 3;

fn tokens(seed: u64, pad: [usize; B]) -> Tokens {
    let mut rng = Rng(seed);
    let mut t = Tokens {
        hidden: vec![0.0; B * T * H],
        logits: vec![0.0; B * T * K],
        mask: vec![0; B * T],
        labels: vec![-100; B * T],
    };
    for b in 0..B {
        for s in 0..T - pad[b] {
            let i = b * T + s;
            t.mask[i] = 1;
            t.labels[i] = (i % K) as i64;
            for h in 0..H {
                t.hidden[i * H + h] = (rng.normal() + if h == i % K { 2.0 } else { 0.0 }) as f32;
            }
            for k in 0..K {
                t.logits[i * K + k] = rng.normal() as f32;
            }
        }
    }
    t
}

fn token_npz(t: &Tokens, deflate: bool, with_mask: bool) -> Vec<u8> {
    let mut entries = vec![
        ("hidden", npy_f32(&[B, T, H], &t.hidden)),
        ("logits", npy_f32(&[B, T, K], &t.logits)),
        ("labels", npy("<i8", false, &[B, T], &i64_bytes(&t.labels))),
    ];
    if with_mask {
        entries.push((
            "attention_mask",
            npy("<i8", false, &[B, T], &i64_bytes(&t.mask)),
        ));
    }
    npz(&entries, deflate)
}

/// The kept tokens as an in-memory (N, D) model.
fn unpadded(name: &str, t: &Tokens) -> (ModelInput, Vec<u32>) {
    let keep: Vec<usize> = (0..B * T).filter(|&i| t.mask[i] == 1).collect();
    let rows = |v: &[f32], d: usize| -> Activations {
        let vals: Vec<f64> = keep
            .iter()
            .flat_map(|&i| v[i * d..(i + 1) * d].iter().map(|&x| x as f64))
            .collect();
        Activations::from_rows_f64(keep.len(), d, vals).unwrap()
    };
    let labels = keep.iter().map(|&i| t.labels[i] as u32).collect();
    (
        model(
            name,
            vec![
                ("hidden", rows(&t.hidden, H)),
                ("logits", rows(&t.logits, K)),
            ],
        ),
        labels,
    )
}

#[test]
fn tokens_with_an_attention_mask_equal_the_unpadded_tokens_as_rows() {
    let (a, b) = (tokens(1, [0, 2, 4]), tokens(2, [0, 2, 4]));
    let (ma, labels) = unpadded("a", &a);
    let (mb, _) = unpadded("b", &b);
    let opts = AnalysisOptions {
        layers: Some(vec!["hidden".into(), "logits".into()]),
        ..AnalysisOptions::default()
    };
    let input = AnalysisInput {
        models: vec![ma, mb],
        labels: Some((labels, "a.npz".into())),
    };
    let expected =
        serde_json::to_value(compare_models(&input, &opts, &mut |_| {}).unwrap()).unwrap();
    for deflate in [false, true] {
        let (fa, fb) = (token_npz(&a, deflate, true), token_npz(&b, deflate, true));
        let (sa, sb) = (
            SliceSource::new("a.npz", &fa),
            SliceSource::new("b.npz", &fb),
        );
        for chunk in [1, 4] {
            let mut budget = ReadBudget::default();
            let oa = open_streamed_model(&sa, "a", Some(true), &mut budget).unwrap();
            let ob = open_streamed_model(&sb, "b", Some(true), &mut budget).unwrap();
            assert_eq!(
                oa.model.layers[0].1.rows(),
                15 - 6,
                "2 + 4 padding tokens dropped"
            );
            let labels = oa.labels.clone().map(|l| (l, "a.npz".to_string()));
            let got = compare_models_streamed(
                &[oa.model, ob.model],
                labels,
                &opts,
                Some(chunk),
                &mut |_| {},
            );
            let got = serde_json::to_value(got.unwrap()).unwrap();
            assert_contains(
                &expected,
                &got,
                &format!("deflate={deflate} chunk={chunk}"),
                1e-9,
            );
        }
    }
}

#[test]
fn tokens_without_a_mask_are_the_flattened_rows_in_every_format() {
    let t = tokens(3, [0, 0, 0]);
    let flat = npz(&[("hidden", npy_f32(&[B * T, H], &t.hidden))], false);
    let st = safetensors(&[("hidden", "F32", &[B, T, H], f32_bytes(&t.hidden))]);
    let deflated = npz(&[("hidden", npy_f32(&[B, T, H], &t.hidden))], true);
    let read = |name: &str, bytes: &[u8], tokens: bool| -> Vec<f64> {
        let src = SliceSource::new(name, bytes);
        let f = open_streamed_model(&src, "m", Some(tokens), &mut ReadBudget::default()).unwrap();
        let layer = &f.model.layer("hidden").unwrap();
        assert_eq!((layer.rows(), layer.cols()), (B * T, H), "{name}");
        reps::activations::read_all_rows(layer.as_ref())
            .unwrap()
            .row(7)
    };
    let expected: Vec<f64> = t.hidden[7 * H..8 * H].iter().map(|&x| x as f64).collect();
    assert_eq!(read("flat.npz", &flat, false), expected);
    assert_eq!(read("t.safetensors", &st, true), expected);
    assert_eq!(read("t.npz", &deflated, true), expected);
    // Without --tokens, the same file is B samples of T·H features.
    let src = SliceSource::new("t.npz", &deflated);
    let f = open_streamed_model(&src, "m", Some(false), &mut ReadBudget::default()).unwrap();
    let layer = f.model.layer("hidden").unwrap();
    assert_eq!((layer.rows(), layer.cols()), (B, T * H));
}

#[test]
fn a_lying_header_or_a_truncated_member_is_an_error_naming_file_and_key() {
    // A header claiming 100,000 × 100,000 f32 (40 GB) over 64 bytes of data: refused from the
    // header, nothing allocated.
    let liar = npz(
        &[("hidden", npy("<f4", false, &[100_000, 100_000], &[0u8; 64]))],
        false,
    );
    let e = list_entries(&SliceSource::new("liar.npz", &liar))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("liar.npz: array 'hidden': truncated"), "{e}");
    assert!(e.contains("40000000000 bytes"), "{e}");
    // A deflated member cut in the middle: listing works (the header is intact), reading the
    // rows fails at or after the cut (a damaged stream may still inflate to bytes until its
    // end), naming the file and the key.
    let mut rng = Rng(9);
    let values: Vec<f32> = (0..4000 * 8).map(|_| rng.normal() as f32).collect();
    let whole = npz(&[("hidden", npy_f32(&[4000, 8], &values))], true);
    let entries = list_entries(&SliceSource::new("cut.npz", &whole)).unwrap();
    let start = find(&whole, b"hidden.npy").unwrap() + 10;
    // Keep the zip directory intact but zero the second half of the compressed data.
    let mut cut = whole.clone();
    let dir = find(&cut[start..], b"PK\x01\x02").unwrap() + start;
    for b in &mut cut[(start + dir) / 2..dir] {
        *b = 0;
    }
    let src = SliceSource::new("cut.npz", &cut);
    let mut reader = RowReader::new(&src, &entries[0], 8).unwrap();
    let mut out = Vec::new();
    let e = loop {
        match reader.next_rows(100, &mut out) {
            Ok(0) => panic!("read to the end of a damaged member"),
            Ok(_) => {}
            Err(e) => break e.to_string(),
        }
    };
    assert!(e.starts_with("cut.npz: array 'hidden': "), "{e}");
    assert!(e.contains("corrupt") || e.contains("truncated"), "{e}");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The streamed analysis checks its inputs as the in-memory one does (one check for both): a
/// label the logits cannot predict, and a layer whose width differs between models.
#[test]
fn streamed_inputs_are_checked_like_in_memory_ones() {
    let models = family(30);
    let mut labels: Vec<u32> = (0..30).map(|i| (i % 3) as u32).collect();
    labels[4] = 5;
    let e = compare_models_streamed(
        &boxed(&models),
        Some((labels, "y.npy".into())),
        &options("m1"),
        None,
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("y.npy: label 5 (sample 4) is outside the 3 classes"),
        "{e}"
    );
    let mut narrow = models.clone();
    narrow[2].layers[1].1 = Dense::random(&mut Rng(1), 30, 4).activations();
    let e = compare_models_streamed(&boxed(&narrow), None, &options("m1"), None, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("m2.npz: the shape of layer 'narrow' is (30, 4), but m0.npz has (30, 5)"),
        "{e}"
    );
}
