//! Importers: every supported encoding decodes to the same numbers, and bad files give errors that
//! name the file and the array, never a panic.

mod common;
use common::files::*;
use proptest::prelude::*;
use reps::activations::read_all_rows;
use reps::formats::stream::{list_entries, open_streamed_model, SliceSource};
use reps::formats::{
    parse_npy, parse_npz, parse_safetensors, read_labels, read_model_file, snapshot, ArrayData,
    ReadBudget,
};

const F: &str = "model.npz";

fn budget() -> reps::formats::ReadBudget {
    reps::formats::ReadBudget::default()
}

fn err_of<T: std::fmt::Debug>(r: reps::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn npy_dtypes_orders_and_byte_orders() {
    // 2 × 3 matrix [[0,1,2],[3,4,5]].
    let c: Vec<f64> = (0..6).map(f64::from).collect();
    let a = parse_npy(
        F,
        "x",
        &npy("<f8", false, &[2, 3], &f64_bytes(&c)),
        &mut budget(),
    )
    .unwrap();
    assert_eq!(a.data, ArrayData::F64(c.clone()));
    // Fortran order stores columns first: 0,3,1,4,2,5.
    let f: Vec<f64> = [0, 3, 1, 4, 2, 5].iter().map(|&x| x as f64).collect();
    let a = parse_npy(
        F,
        "x",
        &npy("<f8", true, &[2, 3], &f64_bytes(&f)),
        &mut budget(),
    )
    .unwrap();
    assert_eq!(
        (a.shape.clone(), a.data),
        (vec![2, 3], ArrayData::F64(c.clone()))
    );
    // Big-endian f8.
    let be: Vec<u8> = c.iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(
        parse_npy(F, "x", &npy(">f8", false, &[2, 3], &be), &mut budget())
            .unwrap()
            .data,
        ArrayData::F64(c.clone())
    );
    // f2: 1.5 is 0x3E00 in IEEE half.
    let h = parse_npy(
        F,
        "x",
        &npy("<f2", false, &[1, 2], &[0x00, 0x3E, 0x00, 0xBC]),
        &mut budget(),
    )
    .unwrap();
    assert_eq!(h.data, ArrayData::F32(vec![1.5, -1.0]));
    // Integers of several widths.
    let i = parse_npy(
        F,
        "y",
        &npy(
            "<i4",
            false,
            &[3],
            &[1, 0, 0, 0, 2, 0, 0, 0, 255, 255, 255, 255],
        ),
        &mut budget(),
    )
    .unwrap();
    assert_eq!(i.data, ArrayData::Int(vec![1, 2, -1]));
    let u = parse_npy(F, "y", &npy("|u1", false, &[2], &[7, 9]), &mut budget()).unwrap();
    assert_eq!(u.data, ArrayData::Int(vec![7, 9]));
}

#[test]
fn npz_and_safetensors_give_the_same_model() {
    let x: Vec<f32> = (0..24).map(|i| i as f32 * 0.5).collect();
    let logits: Vec<f32> = (0..8).map(|i| (i % 3) as f32).collect();
    let labels = [0i64, 1, 0, 1];
    for deflate in [false, true] {
        let bytes = npz(
            &[
                ("layer3", npy_f32(&[4, 2, 3], &x)),
                ("logits", npy_f32(&[4, 2], &logits)),
                ("labels", npy("<i8", false, &[4], &i64_bytes(&labels))),
                ("accuracy", npy("<f8", false, &[], &f64_bytes(&[0.75]))),
                ("step", npy("<i8", false, &[], &i64_bytes(&[3]))),
                ("other", npy_f32(&[3, 2], &[0.0; 6])),
            ],
            deflate,
        );
        let m = read_model_file(F, "m", &bytes, &mut budget()).unwrap();
        assert_eq!(m.layers.len(), 2, "layer3 and logits");
        assert_eq!(m.layers[0].0, "layer3");
        assert_eq!(m.layers[0].1.sample_shape(), &[2, 3]);
        assert_eq!(m.layers[0].1.get(1, 0), 3.0);
        assert_eq!(m.labels, Some(vec![0, 1, 0, 1]));
        assert_eq!(m.accuracy, Some(0.75));
        assert_eq!(m.logits.as_deref(), Some("logits"));
        assert_eq!(m.layers[1].1.row_argmax(), vec![1, 0, 1, 1]); // rows (0,1) (2,0) (1,2) (0,1)
        let skipped: Vec<&str> = m.skipped.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(skipped, vec!["step", "other"]);
    }
    // The same layer as safetensors, in bf16: values k/2 for small k are exact in bf16.
    let bf16: Vec<u8> = x
        .iter()
        .flat_map(|v| ((v.to_bits() >> 16) as u16).to_le_bytes())
        .collect();
    let st = safetensors(&[
        ("layer3", "BF16", &[4, 2, 3], bf16),
        ("labels", "I64", &[4], i64_bytes(&labels)),
    ]);
    let m = read_model_file("m.safetensors", "m", &st, &mut budget()).unwrap();
    assert_eq!(m.layers[0].1.values().to_f32(), x);
    assert_eq!(m.labels, Some(vec![0, 1, 0, 1]));
    let f16: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
        .collect();
    let a = parse_safetensors(
        "h.safetensors",
        &safetensors(&[("a", "F16", &[1, 2], f16)]),
        &mut budget(),
    )
    .unwrap();
    assert_eq!(a[0].1.data, ArrayData::F32(vec![1.5, -2.0]));
}

#[test]
fn labels_file_formats() {
    let y = npy("<i8", false, &[3], &i64_bytes(&[2, 0, 1]));
    assert_eq!(
        read_labels("y.npy", &y, &mut budget()).unwrap(),
        vec![2, 0, 1]
    );
    let z = npz(
        &[("labels", y.clone()), ("x", npy_f32(&[1, 1], &[0.0]))],
        true,
    );
    assert_eq!(
        read_labels("y.npz", &z, &mut budget()).unwrap(),
        vec![2, 0, 1]
    );
    let neg = npy("<i8", false, &[2], &i64_bytes(&[1, -1]));
    assert!(err_of(read_labels("y.npy", &neg, &mut budget())).contains("label 1 is -1"));
}

#[test]
fn bad_files_name_the_file_and_the_problem() {
    let good = npz(&[("feat", npy_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0]))], true);
    // Empty and random.
    assert!(err_of(read_model_file(F, "m", &[], &mut budget()))
        .contains("model.npz: the file is empty"));
    let e = err_of(read_model_file(
        F,
        "m",
        b"hello world, not numpy",
        &mut budget(),
    ));
    assert!(
        e.starts_with("model.npz:")
            && e.contains("not a .reps snapshot, .npz, .npy or .safetensors"),
        "{e}"
    );
    // Truncated npz at every length: an error, never a panic.
    for cut in 0..good.len() {
        assert!(
            read_model_file(F, "m", &good[..cut], &mut budget()).is_err(),
            "cut at {cut}"
        );
    }
    // NaN and Inf name file, key and sample.
    let nan = npz(
        &[("feat", npy_f32(&[2, 2], &[1.0, 2.0, f32::NAN, 4.0]))],
        false,
    );
    let e = err_of(read_model_file(F, "m", &nan, &mut budget()));
    assert!(
        e.contains("model.npz: array 'feat'") && e.contains("sample 1, feature 0"),
        "{e}"
    );
    let inf = npz(
        &[("feat", npy_f32(&[2, 1], &[1.0, f32::NEG_INFINITY]))],
        true,
    );
    assert!(err_of(read_model_file(F, "m", &inf, &mut budget())).contains("non-finite"));
    // A header claiming gigabytes, with a few bytes of data.
    let huge = npy("<f4", false, &[1 << 20, 1 << 20], &[0; 16]);
    let e = err_of(parse_npy("big.npy", "activations", &huge, &mut budget()));
    assert!(
        e.contains("big.npy: array 'activations'") && e.contains("more than"),
        "{e}"
    );
    let claim = npy("<f4", false, &[1000, 1000], &[0; 64]);
    assert!(err_of(parse_npy("t.npy", "a", &claim, &mut budget())).contains("truncated"));
    // Strings (numpy's `U`: UTF-32LE code points, NUL-padded) are text; `V` is unsupported.
    let utf32: Vec<u8> = "ab\0xyz"
        .chars()
        .flat_map(|c| (c as u32).to_le_bytes())
        .collect();
    assert_eq!(
        parse_npy(F, "s", &npy("<U3", false, &[2], &utf32), &mut budget())
            .unwrap()
            .data,
        reps::formats::ArrayData::Text(vec!["ab".into(), "xyz".into()])
    );
    assert!(err_of(parse_npy(
        F,
        "v",
        &npy("|V4", false, &[2], &[0; 8]),
        &mut budget()
    ))
    .contains("not supported"));
    assert!(err_of(parse_npy(
        F,
        "c",
        &npy("<c16", false, &[1], &[0; 16]),
        &mut budget()
    ))
    .contains("not supported"));
    // Accuracy out of range, labels of the wrong shape.
    let acc = npz(
        &[
            ("feat", npy_f32(&[1, 1], &[0.0])),
            ("accuracy", npy("<f8", false, &[], &f64_bytes(&[92.7]))),
        ],
        false,
    );
    assert!(err_of(read_model_file(F, "m", &acc, &mut budget()))
        .contains("array 'accuracy': accuracy 92.7 is not a fraction"));
    let lab = npz(
        &[
            ("feat", npy_f32(&[2, 1], &[0.0, 1.0])),
            ("labels", npy("<i8", false, &[1, 2], &i64_bytes(&[0, 1]))),
        ],
        false,
    );
    assert!(err_of(read_model_file(F, "m", &lab, &mut budget()))
        .contains("labels must have shape (N,)"));
    // Nothing usable.
    let none = npz(&[("step", npy("<i8", false, &[], &i64_bytes(&[3])))], false);
    assert!(
        err_of(read_model_file(F, "m", &none, &mut budget())).contains("holds no activation array")
    );
    // A snapshot among per-model files.
    assert!(
        err_of(read_model_file(F, "m", b"REPSSNAP\x01\x00", &mut budget()))
            .contains("is a .reps snapshot")
    );
    // safetensors whose header claims more data than there is.
    let mut st = safetensors(&[("a", "F32", &[2, 2], f32_bytes(&[1.0; 4]))]);
    st.truncate(st.len() - 3);
    assert!(
        err_of(parse_safetensors("w.safetensors", &st, &mut budget()))
            .starts_with("w.safetensors: not a valid .safetensors")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Arbitrary bytes never panic any importer.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_npy(F, "x", &bytes, &mut budget());
        let _ = parse_npz(F, &bytes, &mut budget());
        let _ = parse_safetensors(F, &bytes, &mut budget());
        let _ = snapshot::decode(F, &bytes);
        let _ = read_model_file(F, "m", &bytes, &mut budget());
        let _ = read_labels(F, &bytes, &mut budget());
        stream_everything(&bytes);
    }

    /// Valid files with arbitrary bytes overwritten never panic either (this reaches the parsers'
    /// inner code, which random bytes rarely do).
    #[test]
    fn corrupted_valid_files_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>(), which in 0usize..4, n in 1usize..5) {
        let x: Vec<f32> = (0..n * 3).map(|i| i as f32).collect();
        let mut bytes = match which {
            0 => npy_f32(&[n, 3], &x),
            1 => npz(&[("feat", npy_f32(&[n, 3], &x)), ("labels", npy("<i8", false, &[n], &i64_bytes(&vec![1; n])))], true),
            2 => safetensors(&[("feat", "F32", &[n, 3], f32_bytes(&x))]),
            _ => {
                let mut b = snapshot::MAGIC.to_vec();
                b.extend_from_slice(&1u16.to_le_bytes());
                b.extend((0..40u8).map(|i| i.wrapping_mul(37)));
                b
            }
        };
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let _ = read_model_file(F, "m", &bytes, &mut budget());
        let _ = snapshot::decode(F, &bytes);
        stream_everything(&bytes);
    }

    /// A valid file of any format, shape and values reads to the same numbers whole and in row
    /// chunks (the streamed reader the browser and `--stream` use).
    #[test]
    fn streamed_and_whole_reads_agree(which in 0usize..4, n in 1usize..6, d in 1usize..5, seed in any::<u32>()) {
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 2001) as f32 / 7.0 - 140.0)
            .collect();
        let bytes = match which {
            0 => npy_f32(&[n, d], &x),
            1 => npz(&[("feat", npy_f32(&[n, d], &x))], false),
            2 => npz(&[("feat", npy_f32(&[n, d], &x))], true),
            _ => safetensors(&[("feat", "F32", &[n, d], f32_bytes(&x))]),
        };
        let whole = read_model_file(F, "m", &bytes, &mut budget()).unwrap();
        let source = SliceSource::new(F, &bytes);
        let streamed = open_streamed_model(&source, "m", Some(false), &mut budget()).unwrap();
        prop_assert_eq!(whole.layers.len(), streamed.model.layers.len());
        for ((k1, a), (k2, b)) in whole.layers.iter().zip(&streamed.model.layers) {
            prop_assert_eq!(k1, k2);
            let b = read_all_rows(b.as_ref()).unwrap();
            prop_assert_eq!((a.rows(), a.cols()), (n, d));
            for i in 0..n {
                prop_assert_eq!(a.row(i), b.row(i));
                // And both are the values written (independently of either reader).
                let want: Vec<f64> = x[i * d..(i + 1) * d].iter().map(|&v| v as f64).collect();
                prop_assert_eq!(a.row(i), want);
            }
        }
    }
}

/// Every streamed entry point over `bytes` (listing the arrays, opening the file as one model
/// with each reading of its axes, reading every row of every layer): an error or a value, never
/// a panic.
fn stream_everything(bytes: &[u8]) {
    let source = SliceSource::new(F, bytes);
    let _ = list_entries(&source);
    for tokens in [None, Some(true), Some(false)] {
        if let Ok(file) = open_streamed_model(&source, "m", tokens, &mut budget()) {
            for (_, layer) in &file.model.layers {
                let _ = read_all_rows(layer.as_ref());
            }
        }
    }
}

/// The reserved keys that say how a model was made: strings and a number, or a clear error.
#[test]
fn method_keys_are_read_or_refused_by_name() {
    use reps::formats::{model_file_from_arrays, ArrayData, RawArray};
    let layer = RawArray::new(vec![2, 2], ArrayData::F32(vec![1.0, 2.0, 3.0, 5.0])).unwrap();
    let text = |s: &str| RawArray::new(vec![], ArrayData::Text(vec![s.into()])).unwrap();
    let number = |v: f64| RawArray::new(vec![], ArrayData::F64(vec![v])).unwrap();
    let read = |extra: Vec<(&str, RawArray)>| {
        let mut arrays = vec![("feat".to_string(), layer.clone())];
        arrays.extend(extra.into_iter().map(|(k, a)| (k.to_string(), a)));
        model_file_from_arrays("m.npz", "m", arrays)
    };
    let m = read(vec![
        ("method", text(" distill ")),
        ("parameter", number(4.0)),
        ("parameter_name", text("temperature")),
    ])
    .unwrap();
    assert_eq!(
        (
            m.method.as_deref(),
            m.parameter,
            m.parameter_name.as_deref()
        ),
        (Some("distill"), Some(4.0), Some("temperature"))
    );
    assert_eq!(m.layers.len(), 1, "reserved keys are not layers");
    // A parameter given as text (safetensors metadata) is parsed.
    assert_eq!(
        read(vec![("parameter", text("0.25"))]).unwrap().parameter,
        Some(0.25)
    );
    let err = |extra| read(extra).unwrap_err().to_string();
    assert!(err(vec![("parameter", text("four"))])
        .starts_with("m.npz: array 'parameter': 'four' is not a number"),);
    assert!(err(vec![("method", number(1.0))]).contains("array 'method': must be a single string"));
    assert!(err(vec![("method", text(""))]).contains("is not a usable name"));
    assert!(err(vec![("parameter", number(f64::NAN))]).contains("not a finite number"));
}

/// Offsets of the central directory's uncompressed-size field of every member (the size the zip
/// reader trusts).
fn central_size_fields(zip: &[u8]) -> Vec<usize> {
    (0..zip.len().saturating_sub(4))
        .filter(|&i| zip[i..i + 4] == *b"PK\x01\x02")
        .map(|i| i + 24)
        .collect()
}

/// Hostile `.npz` files: every one an error that names the file and the member, decided before
/// the claimed memory is allocated (the budget's bookkeeping shows it), never a silent change.
#[test]
fn hostile_npz_files_are_refused_within_the_budget() {
    let x: Vec<f32> = (0..64).map(|i| i as f32).collect();
    // One flipped bit in a stored member's data: numpy's zipfile says "Bad CRC-32"; so do we.
    let stored = npz(&[("feat", npy_f32(&[8, 8], &x))], false);
    let mut flipped = stored.clone();
    let at = stored
        .windows(4)
        .position(|w| w == f32_bytes(&[63.0]))
        .unwrap();
    flipped[at] ^= 1;
    let e = err_of(read_model_file(F, "m", &flipped, &mut budget()));
    assert!(
        e.contains("model.npz: array 'feat': its CRC-32 does not match its data"),
        "{e}"
    );
    // The same in a deflated member (the flip lands in the compressed stream).
    let deflated = npz(&[("feat", npy_f32(&[8, 8], &x))], true);
    let mut flipped = deflated.clone();
    flipped[60] ^= 0x40;
    assert!(read_model_file(F, "m", &flipped, &mut budget()).is_err());
    // Two members of one name: numpy keeps the last silently; an error naming both.
    let twice = npz(
        &[
            ("feat", npy_f32(&[2, 1], &[1.0, 2.0])),
            ("feat", npy_f32(&[2, 1], &[3.0, 4.0])),
        ],
        false,
    );
    let e = err_of(read_model_file(F, "m", &twice, &mut budget()));
    assert!(
        e.contains("members 0 and 1 are both named 'feat.npy'"),
        "{e}"
    );
    // A bomb: 8 MiB of zeros deflate to a few KiB; a 1 MiB budget refuses it before inflating.
    let zeros = vec![0f32; 2 << 20];
    let bomb = npz(&[("feat", npy_f32(&[1024, 2048], &zeros))], true);
    assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
    let mut small = ReadBudget::new(1 << 20);
    let e = err_of(read_model_file(F, "m", &bomb, &mut small));
    assert!(
        e.contains("archive member 'feat.npy' needs 8.0 MiB, which does not fit in the memory budget of 1.0 MiB"),
        "{e}"
    );
    assert_eq!(
        small.used(),
        0,
        "nothing was claimed, so nothing was allocated"
    );
    // With room for it, the same file reads (inflated bytes + decoded f32 claimed).
    let mut roomy = ReadBudget::new(64 << 20);
    read_model_file(F, "m", &bomb, &mut roomy).unwrap();
    assert!(roomy.used() >= 2 * (8 << 20), "{}", roomy.used());
    // A member claiming more than its compressed bytes can inflate to (deflate's limit is
    // 1032:1): corrupt, refused before anything is claimed.
    let mut liar = bomb.clone();
    for f in central_size_fields(&liar) {
        liar[f..f + 4].copy_from_slice(&(3u32 << 30).to_le_bytes());
    }
    let e = err_of(read_model_file(F, "m", &liar, &mut budget()));
    assert!(
        e.contains("more than its") && e.contains("the archive is corrupt"),
        "{e}"
    );
    // A member that inflates to more than it declares stops one byte past the declaration.
    let mut short = npz(&[("feat", npy_f32(&[8, 8], &x))], true);
    for f in central_size_fields(&short) {
        let declared = u32::from_le_bytes(short[f..f + 4].try_into().unwrap());
        short[f..f + 4].copy_from_slice(&(declared - 16).to_le_bytes());
    }
    let e = err_of(read_model_file(F, "m", &short, &mut budget()));
    assert!(e.contains("array 'feat'"), "{e}");
}

/// Labels that the logits cannot predict are an error naming the labels' file and the first bad
/// label (before, every accuracy and agreement with them was silently 0).
#[test]
fn labels_outside_the_logits_classes_are_refused() {
    use reps::analysis::open_files;
    let model = |logits: &[f32]| npz(&[("logits", npy_f32(&[3, 2], logits))], false);
    let files = vec![
        (
            "ref.npz".to_string(),
            model(&[1.0, 0.0, 0.0, 1.0, 1.0, 0.0]),
        ),
        ("q.npz".to_string(), model(&[1.0, 0.5, 0.0, 1.0, 0.2, 0.0])),
    ];
    let e = open_files(&files, Some((vec![0, 1, 7], "y.npy".into())), &mut budget())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("y.npy: label 7 (sample 2) is outside the 2 classes of the logits of model 'ref' (ref.npz); labels must be 0 to 1"),
        "{e}"
    );
    assert!(open_files(&files, Some((vec![0, 1, 1], "y.npy".into())), &mut budget()).is_ok());
}
