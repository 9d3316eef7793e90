//! The one error type of crate `reps`.
//!
//! Every variant that comes from a file names that file (and the array key where there is one),
//! so that the command line and the browser can show the message as it is.

use thiserror::Error;

/// Everything that can go wrong while reading inputs or running an analysis.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RepsError {
    /// The file as a whole cannot be read: wrong format, truncated, corrupt container.
    #[error("{file}: {reason}")]
    File { file: String, reason: String },

    /// One array inside a file is unusable: bad dtype, bad shape, non-finite values, too large.
    #[error("{file}: array '{key}': {reason}")]
    Array {
        file: String,
        key: String,
        reason: String,
    },

    /// A snapshot written by a newer (or unknown) version of the format.
    #[error("{file}: snapshot format version {found} is not supported (this build reads versions 1 to {supported})")]
    SnapshotVersion {
        file: String,
        found: u16,
        supported: u16,
    },

    /// Two inputs that must agree (sample count, a layer's width, labels) do not.
    #[error("{file}: {what} is {found}, but {other_file} has {expected}")]
    Mismatch {
        file: String,
        what: String,
        found: String,
        other_file: String,
        expected: String,
    },

    /// An analysis option with an unusable value. `option` is the option's name in the library
    /// (`weights`, `top_m`, `layers`); front ends show it in their own terms (a command-line
    /// flag, a control on the page).
    #[error("{option}: {reason}")]
    Option {
        option: &'static str,
        reason: String,
    },

    /// Reading would need more memory than the budget allows (`formats::ReadBudget`). Front ends
    /// say how to raise the budget in their own terms.
    #[error("{file}: {what} needs {}, which does not fit in the memory budget of {} ({} already used by the inputs read so far)", human_bytes(*need), human_bytes(*limit), human_bytes(*used))]
    OverBudget {
        file: String,
        what: String,
        need: u64,
        limit: u64,
        used: u64,
    },

    /// A combination of inputs that cannot be analysed.
    #[error("{0}")]
    Invalid(String),
}

impl RepsError {
    pub(crate) fn file(file: &str, reason: impl Into<String>) -> Self {
        RepsError::File {
            file: file.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn array(file: &str, key: &str, reason: impl Into<String>) -> Self {
        RepsError::Array {
            file: file.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// Result alias used throughout crate `reps`.
pub type Result<T, E = RepsError> = std::result::Result<T, E>;

/// `bytes` in the largest binary unit that keeps a number ≥ 1 (`512 B`, `1.5 GiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
