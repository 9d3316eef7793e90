//! The `.reps` snapshot: the committed golden files of versions 1 to 4, round trips, the
//! reports of version-1 files unchanged since version 2, the checksums of versions 3 and 4, the
//! index of version 4, and bad input.

mod common;
use reps::analysis::{analyze, AnalysisInput, AnalysisOptions};
use reps::formats::snapshot::{self, Reduction, Snapshot, SnapshotLayer, SnapshotModel};
use reps::histogram::{shared_range, weight_histogram, HISTOGRAM_BINS};
use reps::RepsError;
use serde_json::Value;

const GOLDEN_V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/v1.reps");
const GOLDEN_V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/v2.reps");
/// The version-2 golden snapshot written by version 3: the same body after a CRC-32.
const GOLDEN_V3: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/v3.reps");
/// The same snapshot written by version 4: header, index, values (`REPS_BLESS=1` rewrites it).
const GOLDEN_V4: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/v4.reps");
/// `native analyze tests/golden/v1.reps --format json`, recorded before version 2 existed.
const V1_REPORT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/golden/v1-report.json"
);
/// `native analyze www/sample.reps --format json` on the version-1 sample, recorded before the
/// sample became version 2.
const SAMPLE_REPORT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/golden/sample-report.json"
);
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/sample.reps");

fn layer(name: &str, shape: Vec<u32>, values: Vec<f32>) -> SnapshotLayer {
    SnapshotLayer {
        name: name.into(),
        original_shape: shape.clone(),
        reduction: Reduction::AsIs,
        sample_shape: shape,
        values,
    }
}

fn fc(shift: f32) -> Vec<f32> {
    (0..12)
        .map(|i| ((i % 3) as f32 - 1.0) * (1.0 + shift))
        .collect()
}

fn conv(shift: f32) -> Vec<f32> {
    (0..16).map(|i| (i as f32 * 0.25 + shift).sin()).collect()
}

/// What the committed version-1 file holds (written by version 1 of this crate, N = 4, two
/// models), as version 2 reads it: kinds become methods with parameter names, the logits (a copy
/// of `fc` in version 1) name the layer `fc`, reductions are not recorded.
fn golden_v1_as_v2() -> Snapshot {
    let w_orig = [-1.0f32, -0.5, 0.0, 0.25, 1.0];
    let w_q = [-1.0f32, -0.5, 0.0, 0.0, 1.0];
    let (lo, hi) = shared_range([&w_orig[..], &w_q[..]]);
    let model = |name: &str, method: &str, parameter: Option<f64>, acc, w: &[f32], shift: f32| {
        let v1_layer = |name: &str, shape: Vec<u32>, values| SnapshotLayer {
            reduction: Reduction::Unrecorded,
            ..layer(name, shape, values)
        };
        SnapshotModel {
            name: name.into(),
            method: method.into(),
            parameter,
            parameter_name: parameter.map(|_| "bits".to_string()),
            accuracy: Some(acc),
            weight_similarity: Some(if shift == 0.0 { 1.0 } else { 0.97 }),
            histogram: Some(weight_histogram(w, lo, hi, HISTOGRAM_BINS).unwrap()),
            layers: vec![
                v1_layer("layer4.1.conv2", vec![2, 1, 2], conv(shift)),
                v1_layer("fc", vec![3], fc(shift)),
            ],
            logits: Some("fc".into()),
        }
    };
    Snapshot {
        producer: "reps golden test".into(),
        producer_version: "1".into(),
        dataset: "synthetic".into(),
        architecture: "resnet18".into(),
        width: Some(8),
        seed: Some(42),
        preset: "test".into(),
        sample_indices: vec![3, 14, 15, 92],
        labels: Some(vec![0, 1, 2, 1]),
        class_names: vec!["a".into(), "b".into(), "c".into()],
        models: vec![
            model("original", "original", None, 0.9, &w_orig, 0.0),
            model("quant-4", "quant", Some(4.0), 0.7, &w_q, 0.5),
        ],
    }
}

/// A version-2 snapshot with methods the paper does not have, a reduction of each kind, logits
/// that name a layer, and no labels (N = 4, three models; every value written out here).
fn golden_v2() -> Snapshot {
    let model =
        |name: &str, method: &str, parameter: Option<(&str, f64)>, shift: f32| SnapshotModel {
            name: name.into(),
            method: method.into(),
            parameter: parameter.map(|p| p.1),
            parameter_name: parameter.map(|p| p.0.to_string()),
            accuracy: None,
            weight_similarity: None,
            histogram: None,
            layers: vec![
                SnapshotLayer {
                    reduction: Reduction::Pooled,
                    original_shape: vec![2, 3, 3],
                    ..layer(
                        "layer3",
                        vec![2],
                        (0..8).map(|i| (i as f32 + shift).cos()).collect(),
                    )
                },
                SnapshotLayer {
                    reduction: Reduction::Flattened,
                    original_shape: vec![2, 1, 2],
                    ..layer("layer4.1.conv2", vec![4], conv(shift))
                },
                layer("head", vec![3], fc(shift)),
            ],
            logits: Some("head".into()),
        };
    Snapshot {
        producer: "reps golden test".into(),
        producer_version: "2".into(),
        dataset: String::new(),
        architecture: String::new(),
        width: None,
        seed: None,
        preset: String::new(),
        sample_indices: vec![0, 1, 2, 3],
        labels: None,
        class_names: Vec::new(),
        models: vec![
            model("teacher", "original", None, 0.0),
            model("student", "distill", Some(("temperature", 4.0)), 0.3),
            model("rank-8", "lowrank", Some(("rank", 8.0)), 0.6),
        ],
    }
}

#[test]
fn golden_v1_file_reads_as_version_2() {
    let bytes = std::fs::read(GOLDEN_V1).expect("golden file committed under tests/golden/");
    assert_eq!(&bytes[..8], b"REPSSNAP");
    assert_eq!(snapshot::version("v1.reps", &bytes).unwrap(), 1);
    let decoded = snapshot::decode("v1.reps", &bytes).unwrap();
    assert_eq!(decoded, golden_v1_as_v2());
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
    let input = AnalysisInput::from_snapshot("v1.reps", decoded).unwrap();
    assert_eq!(input.models[1].layers[0].1.sample_shape(), &[2, 1, 2]);
    assert_eq!(input.labels.as_ref().unwrap().0, vec![0, 1, 2, 1]);
    assert_eq!(input.models[1].logits().unwrap().cols(), 3);
}

#[test]
fn golden_v2_file_decodes_to_the_expected_snapshot() {
    let expected = golden_v2();
    if std::env::var_os("REPS_BLESS").is_some() {
        std::fs::write(GOLDEN_V4, snapshot::encode(&expected).unwrap()).unwrap();
    }
    let bytes = std::fs::read(GOLDEN_V2).expect("golden file committed under tests/golden/");
    assert_eq!(snapshot::version("v2.reps", &bytes).unwrap(), 2);
    assert!(!snapshot::has_checksum(2));
    assert_eq!(snapshot::decode("v2.reps", &bytes).unwrap(), expected);
    // The committed version-3 file is the version-2 file with the body's CRC-32 after the
    // version; writing is deterministic and byte-identical to the committed version-4 file.
    let v3 = std::fs::read(GOLDEN_V3).expect("golden file committed under tests/golden/");
    let v4 = std::fs::read(GOLDEN_V4).expect("golden file committed under tests/golden/");
    assert_eq!(snapshot::encode(&expected).unwrap(), v4);
    assert_eq!(snapshot::decode("v4.reps", &v4).unwrap(), expected);
    assert_eq!(snapshot::version("v3.reps", &v3).unwrap(), 3);
    assert_eq!(&v3[14..], &bytes[10..], "the same body");
    assert_eq!(
        u32::from_le_bytes(v3[10..14].try_into().unwrap()),
        crc32_ieee(&bytes[10..])
    );
    assert_eq!(snapshot::decode("v3.reps", &v3).unwrap(), expected);
    // The methods reach the report; the logits are the layer they name.
    let input = AnalysisInput::from_snapshot("v2.reps", expected).unwrap();
    let r = analyze(&input, &AnalysisOptions::default()).unwrap();
    let methods: Vec<(&str, Option<&str>, Option<f64>)> = r
        .models
        .iter()
        .map(|m| (m.method.as_str(), m.parameter_name.as_deref(), m.parameter))
        .collect();
    assert_eq!(
        methods,
        [
            ("original", None, None),
            ("distill", Some("temperature"), Some(4.0)),
            ("lowrank", Some("rank"), Some(8.0))
        ]
    );
    assert!(r.models.iter().all(|m| m.kind == m.method));
    assert_eq!(r.layers, ["layer3", "layer4.1.conv2", "head"]);
    assert_eq!(r.label_source, reps::analysis::LabelSource::Pseudo);
    assert_eq!(r.models[1].baselines.prediction_agreement, Some(1.0));
}

/// The reports of the version-1 golden file and of the sample (version 1 when recorded, version 2
/// now) equal, number for number, the reports computed before version 2 existed.
#[test]
fn reports_are_unchanged_number_for_number() {
    for (file, fixture) in [(GOLDEN_V1, V1_REPORT), (SAMPLE, SAMPLE_REPORT)] {
        let bytes = std::fs::read(file).unwrap();
        let s = snapshot::decode(file, &bytes).unwrap();
        let report = analyze(
            &AnalysisInput::from_snapshot(file, s).unwrap(),
            &AnalysisOptions::default(),
        )
        .unwrap();
        let got = serde_json::to_value(&report).unwrap();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        // Every number as recorded, bit for bit, except for the last digits that class
        // separation's relative epsilon (1e-12 of the activations' scale instead of an absolute
        // 1e-12) changes, and what follows from it (REPS, Table 2 and 3).
        common::json::assert_contains(&expected, &got, file, 1e-11);
    }
    let sample = std::fs::read(SAMPLE).unwrap();
    assert_eq!(snapshot::version("sample.reps", &sample).unwrap(), 4);
}

#[test]
fn bad_snapshots_are_clear_errors() {
    let good = snapshot::encode(&golden_v2()).unwrap();
    let e = snapshot::decode("s.reps", b"REPSSNAX\x01\x00").unwrap_err();
    assert!(
        e.to_string()
            .contains("s.reps: not a .reps snapshot (wrong magic bytes)"),
        "{e}"
    );
    let mut v5 = good.clone();
    v5[8] = 5;
    assert_eq!(
        snapshot::decode("s.reps", &v5).unwrap_err(),
        RepsError::SnapshotVersion {
            file: "s.reps".into(),
            found: 5,
            supported: 4
        }
    );
    assert!(snapshot::decode("s.reps", &v5)
        .unwrap_err()
        .to_string()
        .contains("version 5 is not supported (this build reads versions 1 to 4)"));
    // A version-4 file labelled version 1, 2 or 3 is corrupt, not silently misread.
    for older in [1, 2, 3] {
        let mut relabelled = good.clone();
        relabelled[8] = older;
        assert!(snapshot::decode("s.reps", &relabelled).is_err());
    }
    for cut in 0..good.len() {
        let e = snapshot::decode("s.reps", &good[..cut])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.reps: "), "cut {cut}: {e}");
    }
    // Trailing bytes: after the last layer in version 4, the checksum catches them in version 3,
    // the body's end in version 2.
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(snapshot::decode("s.reps", &trailing)
        .unwrap_err()
        .to_string()
        .contains("s.reps: corrupt snapshot: 1 unexpected bytes after the last layer"));
    let mut trailing = std::fs::read(GOLDEN_V3).unwrap();
    trailing.push(0);
    assert!(snapshot::decode("s.reps", &trailing)
        .unwrap_err()
        .to_string()
        .contains("CRC-32"));
    // A flipped value names its model and layer; a flipped index byte, the index.
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let e = snapshot::decode("s.reps", &bad).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "s.reps: the snapshot is corrupt: model 'rank-8', layer 'head': the values' CRC-32"
        ),
        "{e}"
    );
    let mut bad = good.clone();
    bad[20] ^= 1;
    let e = snapshot::decode("s.reps", &bad).unwrap_err().to_string();
    assert!(
        e.contains("the snapshot is corrupt: its index's CRC-32"),
        "{e}"
    );
    let mut trailing = std::fs::read(GOLDEN_V2).unwrap();
    trailing.push(0);
    assert!(snapshot::decode("s.reps", &trailing)
        .unwrap_err()
        .to_string()
        .contains("unexpected bytes"));
    // A NaN inside a layer names model and layer.
    let mut s = golden_v2();
    s.models[1].layers[2].values[5] = f32::NAN;
    let e = snapshot::decode("s.reps", &snapshot::encode(&s).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("model 'student', layer 'head': non-finite value at flat index 5"),
        "{e}"
    );
    // Logits that name a missing layer; two models of one name; a layer stored twice.
    let mut s = golden_v2();
    s.models[2].logits = Some("fc".into());
    let e = snapshot::decode("s.reps", &snapshot::encode(&s).unwrap()).unwrap_err();
    assert!(
        e.to_string()
            .contains("model 'rank-8': its logits name the layer 'fc', which it does not have"),
        "{e}"
    );
    let mut s = golden_v2();
    s.models[2].name = "student".into();
    let e = snapshot::decode("s.reps", &snapshot::encode(&s).unwrap()).unwrap_err();
    assert!(
        e.to_string().contains("two models are named 'student'"),
        "{e}"
    );
    let mut s = golden_v2();
    let copy = s.models[0].layers[0].clone();
    s.models[0].layers.push(copy);
    let e = snapshot::decode("s.reps", &snapshot::encode(&s).unwrap()).unwrap_err();
    assert!(
        e.to_string()
            .contains("model 'teacher', layer 'layer3': stored twice"),
        "{e}"
    );
    // Labels that do not fit N.
    let mut s = golden_v2();
    s.labels = Some(vec![0, 1]);
    let e = snapshot::decode("s.reps", &snapshot::encode(&s).unwrap()).unwrap_err();
    assert!(e.to_string().contains("2 labels for 4 samples"), "{e}");
    // Sizes that do not fit N.
    let mut s = golden_v2();
    s.models[0].layers[1].values.pop();
    let e = snapshot::decode("s.reps", &snapshot::encode(&s).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("15 values do not fill 4 samples of shape [4]"),
        "{e}"
    );
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), written out bit by bit here as an
/// independent check of the checksum the format stores.
fn crc32_ieee(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn crc32_of_the_standard_check_string() {
    assert_eq!(crc32_ieee(b"123456789"), 0xCBF4_3926);
}

/// Every single-bit flip anywhere in a version-4 file is an error (most name a checksum), never
/// a snapshot that decodes to other numbers.
#[test]
fn every_single_bit_flip_is_caught() {
    let good = snapshot::encode(&golden_v2()).unwrap();
    let mut named_checksum = 0;
    let mut in_length = 0;
    for byte in 0..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[byte] ^= 1 << bit;
            let e = snapshot::decode("s.reps", &bad)
                .expect_err(&format!("bit {bit} of byte {byte} flipped was accepted"))
                .to_string();
            assert!(e.starts_with("s.reps: "), "{e}");
            if (10..14).contains(&byte) {
                in_length += 1;
            } else {
                named_checksum += e.contains("CRC-32") as usize;
            }
        }
    }
    // Flips in the magic and the version are caught by those, flips of the index length by the
    // index's checksum or its end, and every other one by a checksum.
    assert_eq!(in_length, 32);
    assert_eq!(named_checksum, (good.len() - 14) * 8);
}

/// The version-4 layout, read here by hand: the header, an index whose CRC-32 is stored before
/// it, then every layer's values as little-endian f32 in model and layer order; the index alone
/// holds the metadata, with each layer's count and CRC-32.
#[test]
fn version_4_is_an_index_then_the_values() {
    let s = golden_v2();
    let bytes = snapshot::encode(&s).unwrap();
    assert_eq!(&bytes[..8], b"REPSSNAP");
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 4);
    let len = u32::from_le_bytes(bytes[10..14].try_into().unwrap()) as usize;
    let index = &bytes[18..18 + len];
    assert_eq!(
        u32::from_le_bytes(bytes[14..18].try_into().unwrap()),
        crc32_ieee(index)
    );
    let values: Vec<u8> = s
        .models
        .iter()
        .flat_map(|m| &m.layers)
        .flat_map(|l| l.values.iter().flat_map(|x| x.to_le_bytes()))
        .collect();
    assert_eq!(&bytes[18 + len..], &values[..]);
    // The index from the first 18 + L bytes only: the metadata, and where each layer is.
    assert_eq!(
        snapshot::index_end("s.reps", &bytes[..18]).unwrap(),
        Some((18 + len) as u64)
    );
    let read = snapshot::decode_index("s.reps", &bytes[..18 + len]).unwrap();
    assert_eq!(read.models.len(), 3);
    for (m, want) in read.models.iter().zip(&s.models) {
        assert_eq!(
            (&m.name, &m.method, m.parameter),
            (&want.name, &want.method, want.parameter)
        );
        for (l, w) in m.layers.iter().zip(&want.layers) {
            let raw: Vec<u8> = w.values.iter().flat_map(|x| x.to_le_bytes()).collect();
            assert_eq!(l.values.count, w.values.len() as u64);
            assert_eq!(l.values.crc32, crc32_ieee(&raw));
            assert_eq!((&l.name, &l.sample_shape), (&w.name, &w.sample_shape));
        }
    }
    assert!(snapshot::decode_index("s.reps", &bytes[..18 + len - 1]).is_err());
    // Versions 1 to 3 have no index.
    for golden in [GOLDEN_V1, GOLDEN_V2, GOLDEN_V3] {
        let head = std::fs::read(golden).unwrap();
        assert_eq!(snapshot::index_end(golden, &head[..18]).unwrap(), None);
    }
}
