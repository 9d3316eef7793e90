//! CIFAR-10 from its binary distribution: `data_batch_1.bin` … `data_batch_5.bin` and
//! `test_batch.bin`, each a sequence of records of 1 label byte and 3072 pixel bytes (CHW).

use super::{Dataset, Images, IMAGE_BYTES};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Bytes per record.
pub const RECORD: usize = 1 + IMAGE_BYTES;
/// Training files, in order.
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The test file.
pub const TEST_FILE: &str = "test_batch.bin";
/// CIFAR-10's class names.
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

fn read_file(path: &Path) -> Result<Images> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read {} (a CIFAR-10 directory holds {} and {TEST_FILE}; get the \"binary version\" of CIFAR-10)",
            path.display(),
            TRAIN_FILES.join(", ")
        )
    })?;
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        bail!(
            "{}: size {} bytes is not a positive multiple of {RECORD} (1 label byte + 3072 pixel bytes per image): not a CIFAR-10 binary batch",
            path.display(),
            bytes.len()
        );
    }
    let n = bytes.len() / RECORD;
    let mut images = Images {
        pixels: Vec::with_capacity(n * IMAGE_BYTES),
        labels: Vec::with_capacity(n),
    };
    for (i, rec) in bytes.chunks_exact(RECORD).enumerate() {
        if rec[0] > 9 {
            bail!(
                "{}: record {i} has label {}, CIFAR-10 labels are 0–9",
                path.display(),
                rec[0]
            );
        }
        images.labels.push(rec[0]);
        images.pixels.extend_from_slice(&rec[1..]);
    }
    Ok(images)
}

/// Loads CIFAR-10 from `dir`.
pub fn load(dir: &Path) -> Result<Dataset> {
    if !dir.is_dir() {
        bail!(
            "{}: not a directory (--data-dir must hold the CIFAR-10 binary batches)",
            dir.display()
        );
    }
    let mut train = Images::default();
    for f in TRAIN_FILES {
        let part = read_file(&dir.join(f))?;
        train.pixels.extend(part.pixels);
        train.labels.extend(part.labels);
    }
    let test = read_file(&dir.join(TEST_FILE))?;
    Ok(Dataset {
        name: "cifar10".into(),
        train,
        test,
        class_names: CLASSES.iter().map(|s| s.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a batch file of `n` records: label `i % 10`, pixels `(i + k) % 256`.
    fn write_batch(dir: &Path, name: &str, n: usize, offset: usize) {
        let mut bytes = Vec::with_capacity(n * RECORD);
        for i in 0..n {
            bytes.push(((i + offset) % 10) as u8);
            bytes.extend((0..IMAGE_BYTES).map(|k| ((i + offset + k) % 256) as u8));
        }
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    #[test]
    fn loads_generated_batches_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for (b, f) in TRAIN_FILES.iter().enumerate() {
            write_batch(dir.path(), f, 3, b * 3);
        }
        write_batch(dir.path(), TEST_FILE, 4, 100);
        let d = load(dir.path()).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (15, 4));
        assert_eq!(
            d.train.labels,
            (0..15).map(|i| (i % 10) as u8).collect::<Vec<_>>()
        );
        // Image 7 is record 1 of data_batch_3 (offset 6 + 1): pixel k = (7 + k) % 256.
        assert_eq!(d.train.image(7)[0], 7);
        assert_eq!(d.train.image(7)[300], ((7 + 300) % 256) as u8);
        assert_eq!(d.test.labels, vec![0, 1, 2, 3]);
        assert_eq!(d.class_names[3], "cat");
    }

    #[test]
    fn missing_and_malformed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(
            e.contains("data_batch_1.bin") && e.contains("binary version"),
            "{e}"
        );
        for f in TRAIN_FILES {
            write_batch(dir.path(), f, 2, 0);
        }
        std::fs::write(dir.path().join(TEST_FILE), vec![0u8; RECORD + 5]).unwrap();
        let e = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(
            e.contains("test_batch.bin: size 3078 bytes is not a positive multiple of 3073"),
            "{e}"
        );
        let mut bad = vec![0u8; RECORD];
        bad[0] = 11;
        std::fs::write(dir.path().join(TEST_FILE), bad).unwrap();
        let e = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(e.contains("record 0 has label 11"), "{e}");
        let e = format!("{:#}", load(&dir.path().join("nope")).unwrap_err());
        assert!(e.contains("not a directory"), "{e}");
    }
}
