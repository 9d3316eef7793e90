//! Turning dropped or fetched files into an analysis input, with errors that name the file.

use reps::analysis::AnalysisInput;
use reps::formats::{detect_kind, read_model_file, snapshot, FileKind};
use reps::RepsError;

/// What the page shows above the tables.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub description: String,
    pub input: AnalysisInputHandle,
    /// Weight histograms by model (snapshots only).
    pub histograms: Vec<(String, reps::histogram::WeightHistogram)>,
}

/// `AnalysisInput` is not `PartialEq`; the page compares loads by a counter.
#[derive(Clone, Debug)]
pub struct AnalysisInputHandle(pub std::rc::Rc<AnalysisInput>, pub u32);

impl PartialEq for AnalysisInputHandle {
    fn eq(&self, other: &Self) -> bool {
        self.1 == other.1
    }
}

/// One `.reps` snapshot, or one activation file per model (the model name is the file stem).
pub fn load(files: &[(String, Vec<u8>)], generation: u32) -> Result<Loaded, RepsError> {
    let Some((first_name, first)) = files.first() else {
        return Err(RepsError::Invalid("no file given".into()));
    };
    if detect_kind(first_name, first)? == FileKind::Snapshot {
        if files.len() > 1 {
            return Err(RepsError::File {
                file: first_name.clone(),
                reason: "is a .reps snapshot: open it on its own".into(),
            });
        }
        let s = snapshot::decode(first_name, first)?;
        let input = AnalysisInput::from_snapshot(first_name, &s)?;
        let description = format!(
            "{first_name}: {} (width {}) on {}, seed {}, {} models, N = {}",
            s.architecture,
            s.width,
            s.dataset,
            s.seed,
            s.models.len(),
            s.sample_indices.len()
        );
        let histograms = s
            .models
            .iter()
            .filter_map(|m| m.histogram.clone().map(|h| (m.name.clone(), h)))
            .collect();
        return Ok(Loaded {
            description,
            input: AnalysisInputHandle(std::rc::Rc::new(input), generation),
            histograms,
        });
    }
    let models = files
        .iter()
        .map(|(name, bytes)| {
            let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
            read_model_file(name, stem, bytes)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let n = models.len();
    let input = AnalysisInput::from_model_files(models, None)?;
    Ok(Loaded {
        description: format!("{n} activation file{}", if n == 1 { "" } else { "s" }),
        input: AnalysisInputHandle(std::rc::Rc::new(input), generation),
        histograms: Vec::new(),
    })
}
