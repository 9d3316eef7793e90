//! The `.reps` snapshot, format version 1: round trip, the committed golden file, and bad input.

mod common;
use reps::formats::snapshot::{self, ModelKind, Snapshot, SnapshotLayer, SnapshotModel};
use reps::histogram::{shared_range, weight_histogram, HISTOGRAM_BINS};
use reps::{analysis::AnalysisInput, RepsError};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v1.reps");

/// A small but complete snapshot whose every value is written out here (N = 4, two models).
fn golden_snapshot() -> Snapshot {
    let w_orig = [-1.0f32, -0.5, 0.0, 0.25, 1.0];
    let w_q = [-1.0f32, -0.5, 0.0, 0.0, 1.0];
    let (lo, hi) = shared_range([&w_orig[..], &w_q[..]]);
    let model = |name: &str, kind, parameter, accuracy, w: &[f32], shift: f32| SnapshotModel {
        name: name.into(),
        kind,
        parameter,
        accuracy: Some(accuracy),
        weight_similarity: Some(if shift == 0.0 { 1.0 } else { 0.97 }),
        histogram: Some(weight_histogram(w, lo, hi, HISTOGRAM_BINS).unwrap()),
        layers: vec![
            SnapshotLayer {
                name: "layer4.1.conv2".into(),
                sample_shape: vec![2, 1, 2],
                values: (0..16).map(|i| (i as f32 * 0.25 + shift).sin()).collect(),
            },
            SnapshotLayer {
                name: "fc".into(),
                sample_shape: vec![3],
                values: (0..12)
                    .map(|i| ((i % 3) as f32 - 1.0) * (1.0 + shift))
                    .collect(),
            },
        ],
        logits: Some(SnapshotLayer {
            name: "fc".into(),
            sample_shape: vec![3],
            values: (0..12)
                .map(|i| ((i % 3) as f32 - 1.0) * (1.0 + shift))
                .collect(),
        }),
    };
    Snapshot {
        producer: "reps golden test".into(),
        producer_version: "1".into(),
        dataset: "synthetic".into(),
        architecture: "resnet18".into(),
        width: 8,
        seed: 42,
        preset: "test".into(),
        sample_indices: vec![3, 14, 15, 92],
        labels: vec![0, 1, 2, 1],
        class_names: vec!["a".into(), "b".into(), "c".into()],
        models: vec![
            model("original", ModelKind::Original, None, 0.9, &w_orig, 0.0),
            model("quant-4", ModelKind::Quant, Some(4.0), 0.7, &w_q, 0.5),
        ],
    }
}

#[test]
fn golden_file_decodes_to_the_expected_snapshot() {
    let expected = golden_snapshot();
    if std::env::var_os("REPS_BLESS").is_some() {
        std::fs::write(GOLDEN, snapshot::encode(&expected).unwrap()).unwrap();
    }
    let bytes = std::fs::read(GOLDEN).expect("golden file committed under shared/tests/golden/");
    assert_eq!(&bytes[..8], b"REPSSNAP");
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 1);
    let decoded = snapshot::decode("v1.reps", &bytes).unwrap();
    assert_eq!(decoded, expected);
    // Writing is deterministic and byte-identical to the committed file.
    assert_eq!(snapshot::encode(&expected).unwrap(), bytes);
    // Histogram: 5 weights in [-1, 1], 50 bins of width 0.04; 0.25 falls in bin 31, 1.0 in the last.
    let h = decoded.models[0].histogram.as_ref().unwrap();
    assert_eq!(h.counts.iter().sum::<u64>(), 5);
    assert_eq!(
        (
            h.counts[0],
            h.counts[12],
            h.counts[25],
            h.counts[31],
            h.counts[49]
        ),
        (1, 1, 1, 1, 1)
    );
    let input = AnalysisInput::from_snapshot("v1.reps", &decoded).unwrap();
    assert_eq!(input.models[1].layers[0].1.sample_shape(), &[2, 1, 2]);
    assert_eq!(input.labels.as_ref().unwrap().0, vec![0, 1, 2, 1]);
}

#[test]
fn bad_snapshots_are_clear_errors() {
    let good = snapshot::encode(&golden_snapshot()).unwrap();
    let e = snapshot::decode("s.reps", b"REPSSNAX\x01\x00").unwrap_err();
    assert!(
        e.to_string()
            .contains("s.reps: not a .reps snapshot (wrong magic bytes)"),
        "{e}"
    );
    let mut v2 = good.clone();
    v2[8] = 2;
    assert_eq!(
        snapshot::decode("s.reps", &v2).unwrap_err(),
        RepsError::SnapshotVersion {
            file: "s.reps".into(),
            found: 2,
            supported: 1
        }
    );
    assert!(snapshot::decode("s.reps", &v2)
        .unwrap_err()
        .to_string()
        .contains("version 2 is not supported"));
    for cut in 0..good.len() {
        let e = snapshot::decode("s.reps", &good[..cut])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.reps: "), "cut {cut}: {e}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(snapshot::decode("s.reps", &trailing)
        .unwrap_err()
        .to_string()
        .contains("unexpected bytes"));
    // A NaN inside a layer names model and layer.
    let mut s = golden_snapshot();
    s.models[1].layers[1].values[5] = f32::NAN;
    let e = snapshot::decode("s.reps", &snapshot::encode(&s).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("model 'quant-4', layer 'fc': non-finite value at flat index 5"),
        "{e}"
    );
    // Sizes that do not fit N.
    let mut s = golden_snapshot();
    s.models[0].layers[0].values.pop();
    let e = snapshot::decode("s.reps", &snapshot::encode(&s).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("15 values do not fill 4 samples of shape [2, 1, 2]"),
        "{e}"
    );
}
