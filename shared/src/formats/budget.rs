//! The memory budget of reading input files: every importer claims what it is about to allocate
//! (sizes taken from a header or a zip directory) before allocating it, so that a hostile or
//! corrupt file is an error naming it instead of an allocation failure or an exhausted machine.

use crate::error::{RepsError, Result};

/// The default budget when the caller knows nothing better: 8 GiB on native targets (the command
/// line sets it from the machine's memory), 2 GiB in the browser (a wasm32 page has 4 GiB at most).
#[cfg(not(target_arch = "wasm32"))]
pub const DEFAULT_READ_BUDGET: u64 = 8 << 30;
/// See the native definition.
#[cfg(target_arch = "wasm32")]
pub const DEFAULT_READ_BUDGET: u64 = 2 << 30;

/// The budget front ends on a real machine start from: half of its memory (`MemTotal` of
/// `/proc/meminfo`), or [`DEFAULT_READ_BUDGET`] where that cannot be read.
#[cfg(not(target_arch = "wasm32"))]
pub fn machine_read_budget() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024 / 2)
        })
        .unwrap_or(DEFAULT_READ_BUDGET)
}

/// Bytes that reading may still allocate.
///
/// Claims are never given back: a buffer that is freed after decoding (an inflated `.npz` member)
/// still counts, so the sum of claims bounds the peak memory of reading from above. The bytes of
/// the input files themselves are claimed by whoever reads them (the command line claims each
/// file's size before reading it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadBudget {
    limit: u64,
    used: u64,
}

impl Default for ReadBudget {
    fn default() -> Self {
        ReadBudget::new(DEFAULT_READ_BUDGET)
    }
}

impl ReadBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        ReadBudget { limit, used: 0 }
    }

    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes claimed so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Bytes that may still be claimed.
    pub fn remaining(&self) -> u64 {
        self.limit - self.used
    }

    /// Claims `bytes` for `what` (an array, a member, the file itself) of `file`; an error when
    /// they do not fit in what remains.
    pub fn claim(&mut self, file: &str, what: &str, bytes: u64) -> Result<()> {
        if bytes > self.remaining() {
            return Err(RepsError::OverBudget {
                file: file.to_string(),
                what: what.to_string(),
                need: bytes,
                limit: self.limit,
                used: self.used,
            });
        }
        self.used += bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_add_up_to_the_limit_and_no_further() {
        let mut b = ReadBudget::new(100);
        b.claim("f", "a", 60).unwrap();
        b.claim("f", "b", 40).unwrap();
        assert_eq!(b.remaining(), 0);
        let e = b.claim("f", "array 'c'", 1).unwrap_err().to_string();
        assert_eq!(
            e,
            "f: array 'c' needs 1 B, which does not fit in the memory budget of 100 B (100 B already used by the inputs read so far)"
        );
        assert_eq!(b.used(), 100, "a refused claim takes nothing");
    }
}
