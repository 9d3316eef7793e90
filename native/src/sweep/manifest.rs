//! The manifest of a sweep directory: the settings that made it, with their hash, and every
//! output file with the SHA-256 and size of its content.
//!
//! It is kept in files that only one process writes, so that shards sharing a directory never
//! write the same file:
//! - `manifest.json`, the settings and the final outputs (with a digest of the models they were
//!   made from), written by the processes that hold the directory's lock (a one-process run,
//!   `--stage original`, `--merge`);
//! - `records/<model>.json`, the records of one model's two files, written by the process that
//!   holds that model's lock, right after the files.
//!
//! Each is written atomically after the files it records, so it never names a file that was not
//! completely written. A resume reuses a file only when its content still has the recorded hash:
//! a checkpoint changed after it was written (flipped bits, another seed's checkpoint copied over
//! it) is named and its model made again instead of being used.

use super::config::SweepConfig;
use crate::output_file::write_atomic;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's file name in the sweep directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The directory of the per-model records.
pub const RECORDS_DIR: &str = "records";

/// One recorded file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Lowercase hexadecimal SHA-256 of the content.
    pub sha256: String,
    pub bytes: u64,
}

impl FileRecord {
    /// The record of `content`.
    pub fn of(content: &[u8]) -> Self {
        FileRecord {
            sha256: sha256_hex(content),
            bytes: content.len() as u64,
        }
    }
}

/// What a sweep directory holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// SHA-256 of the settings as `config.json` stores them.
    pub settings_sha256: String,
    /// The settings (so that a refusal can name the flag that differs).
    pub settings: SweepConfig,
    /// Every output file by its path relative to the directory (`/`-separated). Read, it holds
    /// the records of every model too.
    pub files: BTreeMap<String, FileRecord>,
    /// The [`Manifest::models_digest`] of the models the final outputs were made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs_from: Option<String>,
}

/// Why a recorded file cannot be reused.
#[derive(Debug, PartialEq, Eq)]
pub enum Unusable {
    /// The manifest has no record of it (written by a run that was killed before recording it).
    Unrecorded,
    /// Recorded, but no longer there.
    Missing,
    /// Its content differs from what was recorded.
    Changed,
}

impl Unusable {
    /// Why, in words.
    pub fn reason(&self) -> &'static str {
        match self {
            Unusable::Unrecorded => "not in the manifest (its run stopped before recording it)",
            Unusable::Missing => "missing",
            Unusable::Changed => {
                "does not match the manifest: its content changed after it was written"
            }
        }
    }
}

/// The settings' canonical bytes: `config.json` as it is written.
pub fn settings_json(cfg: &SweepConfig) -> Result<Vec<u8>> {
    Ok(serde_json::to_string_pretty(cfg)?.into_bytes())
}

/// Lowercase hexadecimal SHA-256.
pub fn sha256_hex(content: &[u8]) -> String {
    Sha256::digest(content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    /// An empty manifest for `cfg`.
    pub fn new(cfg: &SweepConfig) -> Result<Self> {
        Ok(Manifest {
            settings_sha256: sha256_hex(&settings_json(cfg)?),
            settings: cfg.clone(),
            files: BTreeMap::new(),
            outputs_from: None,
        })
    }

    /// Reads `dir/manifest.json`; `None` when there is none. A manifest that cannot be parsed,
    /// or whose settings do not have its recorded hash, is an error naming it.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let m: Manifest = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is corrupt (it is only ever replaced whole, so something else changed it); delete the directory and rerun",
                path.display()
            )
        })?;
        if sha256_hex(&settings_json(&m.settings)?) != m.settings_sha256 {
            anyhow::bail!(
                "{}: its settings do not have their recorded hash (the manifest was edited); delete the directory and rerun",
                path.display()
            );
        }
        let mut m = m;
        m.read_records(dir)?;
        Ok(Some(m))
    }

    /// Adds the per-model records of `dir` (they override what `manifest.json` says of the same
    /// files: a model made again by a shard).
    fn read_records(&mut self, dir: &Path) -> Result<()> {
        let records = dir.join(RECORDS_DIR);
        let entries = match std::fs::read_dir(&records) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot list {}", records.display())),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let model = name.strip_suffix(".json")?;
                (!model.starts_with('.')).then(|| model.to_string())
            })
            .collect();
        names.sort();
        for name in names {
            self.read_model_record(dir, &name)?;
        }
        Ok(())
    }

    /// Adds `records/<name>.json` of `dir`, when there is one: what the process that made
    /// model `name` recorded of its files.
    pub fn read_model_record(&mut self, dir: &Path, name: &str) -> Result<()> {
        let path = dir.join(RECORDS_DIR).join(format!("{name}.json"));
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let files: BTreeMap<String, FileRecord> = serde_json::from_slice(&text).with_context(|| {
            format!(
                "{} is corrupt (it is only ever replaced whole, so something else changed it); delete it and its model is made again",
                path.display()
            )
        })?;
        self.files.extend(files);
        Ok(())
    }

    /// Writes it atomically to `dir/manifest.json`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_atomic(
            &dir.join(MANIFEST_FILE),
            (serde_json::to_string_pretty(self)? + "\n").as_bytes(),
        )
    }

    /// Records the files of model `name` (path relative to `dir`, content) and writes them to
    /// `records/<name>.json`. Only the process making that model (holding its lock) calls it.
    pub fn record_model(&mut self, dir: &Path, name: &str, files: &[(&str, &[u8])]) -> Result<()> {
        let own: BTreeMap<String, FileRecord> = files
            .iter()
            .map(|(f, content)| (f.to_string(), FileRecord::of(content)))
            .collect();
        let path = dir.join(RECORDS_DIR).join(format!("{name}.json"));
        write_atomic(
            &path,
            (serde_json::to_string_pretty(&own)? + "\n").as_bytes(),
        )?;
        self.files.extend(own);
        Ok(())
    }

    /// Forgets every model and output, in memory and on disk (every per-model record is removed;
    /// `manifest.json` is rewritten only when it still names files, as one written by an
    /// earlier version may): the original is made again, and everything derives from it.
    pub fn forget_all_files(&mut self, dir: &Path) -> Result<()> {
        let names_models = std::fs::read(dir.join(MANIFEST_FILE))
            .ok()
            .and_then(|t| serde_json::from_slice::<Manifest>(&t).ok())
            .is_some_and(|own| own.files.keys().any(|f| is_model_file(f)));
        let records = dir.join(RECORDS_DIR);
        if let Ok(entries) = std::fs::read_dir(&records) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "json") {
                    std::fs::remove_file(e.path())
                        .with_context(|| format!("cannot remove {}", e.path().display()))?;
                }
            }
        }
        self.files.clear();
        self.outputs_from = None;
        if names_models {
            self.write(dir)?;
        }
        Ok(())
    }

    /// A digest of every model file's record (paths under `models/` and `checkpoints/` with
    /// their hashes): the final outputs are current while it is what they were made from.
    pub fn models_digest(&self) -> String {
        let text: String = self
            .files
            .iter()
            .filter(|(f, _)| is_model_file(f))
            .map(|(f, r)| format!("{f} {}\n", r.sha256))
            .collect();
        sha256_hex(text.as_bytes())
    }

    /// Records `relative`'s content.
    pub fn record(&mut self, relative: &str, content: &[u8]) {
        self.files
            .insert(relative.to_string(), FileRecord::of(content));
    }

    /// The content of `dir/relative` when it is recorded and still has its recorded hash.
    pub fn verified(&self, dir: &Path, relative: &str) -> Result<Vec<u8>, Unusable> {
        let record = self.files.get(relative).ok_or(Unusable::Unrecorded)?;
        let content = std::fs::read(path_of(dir, relative)).map_err(|_| Unusable::Missing)?;
        if FileRecord::of(&content) != *record {
            return Err(Unusable::Changed);
        }
        Ok(content)
    }
}

/// Whether `relative` is a model's file (its one-model snapshot or its checkpoint).
fn is_model_file(relative: &str) -> bool {
    relative.starts_with("models/") || relative.starts_with("checkpoints/")
}

/// `dir/relative` for a `/`-separated relative path.
pub fn path_of(dir: &Path, relative: &str) -> PathBuf {
    relative
        .split('/')
        .fold(dir.to_path_buf(), |p, c| p.join(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::config::Preset;

    #[test]
    fn sha256_of_known_inputs() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn files_verify_until_changed() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SweepConfig::preset(Preset::Quick);
        let mut m = Manifest::new(&cfg).unwrap();
        std::fs::create_dir(dir.path().join("models")).unwrap();
        std::fs::write(dir.path().join("models/a.reps"), b"hello").unwrap();
        m.record("models/a.reps", b"hello");
        m.write(dir.path()).unwrap();
        let m = Manifest::read(dir.path()).unwrap().unwrap();
        assert_eq!(m.verified(dir.path(), "models/a.reps").unwrap(), b"hello");
        assert_eq!(
            m.verified(dir.path(), "models/b.reps"),
            Err(Unusable::Unrecorded)
        );
        std::fs::write(dir.path().join("models/a.reps"), b"hellp").unwrap();
        assert_eq!(
            m.verified(dir.path(), "models/a.reps"),
            Err(Unusable::Changed)
        );
        std::fs::remove_file(dir.path().join("models/a.reps")).unwrap();
        assert_eq!(
            m.verified(dir.path(), "models/a.reps"),
            Err(Unusable::Missing)
        );
        // Settings edited in the manifest are noticed.
        let text = std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap();
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            text.replace("\"seed\": 42", "\"seed\": 43"),
        )
        .unwrap();
        let e = Manifest::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("do not have their recorded hash"), "{e}");
    }
}
