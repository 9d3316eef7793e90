//! The hooks the end-to-end tests drive through environment variables, in one place. They are
//! read only in debug builds (what `cargo test` builds) and in builds with the `test-hooks`
//! feature; in a release build every hook is absent, whatever the environment says.
//!
//! - `REPS_TEST_SIGNAL_AT=<model>:<step>`: the process sends itself SIGTERM when the training of
//!   that model has done that many steps (`search:<n>`: when a search has measured n candidates).
//! - `REPS_TEST_STEP_DELAY_MS=<ms>`: every training step waits that long first, so that a test
//!   can preempt a training while it runs.
//! - `REPS_TEST_CRASH_AT_RENAME=N`: the process ends at once (as a kill would) right after its
//!   N-th atomic rename, with `N-` right before it.

use std::time::Duration;

/// The variable `name`, where hooks are compiled in.
fn var(name: &str) -> Option<String> {
    if cfg!(any(debug_assertions, feature = "test-hooks")) {
        std::env::var(name).ok()
    } else {
        None
    }
}

/// With `REPS_TEST_SIGNAL_AT=<model>:<step>` for this `model`: the step.
pub fn signal_at(model: &str) -> Option<usize> {
    signal_of(&var("REPS_TEST_SIGNAL_AT")?, model)
}

/// `REPS_TEST_STEP_DELAY_MS`, as a duration.
pub fn step_delay() -> Option<Duration> {
    let ms = var("REPS_TEST_STEP_DELAY_MS")?.parse().ok()?;
    Some(Duration::from_millis(ms))
}

/// `REPS_TEST_CRASH_AT_RENAME`: the rename (counted from 1) and whether before it (`N-`).
pub fn crash_at_rename() -> Option<(usize, bool)> {
    crash_of(&var("REPS_TEST_CRASH_AT_RENAME")?)
}

/// The step of `<model>:<step>` when the model is `model` (a model's name may hold colons).
fn signal_of(spec: &str, model: &str) -> Option<usize> {
    let (name, step) = spec.rsplit_once(':')?;
    (name == model).then(|| step.parse().ok())?
}

/// `N` or `N-`: the rename and whether before it.
fn crash_of(spec: &str) -> Option<(usize, bool)> {
    match spec.strip_suffix('-') {
        Some(n) => Some((n.parse().ok()?, true)),
        None => Some((spec.parse().ok()?, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_values_parse() {
        assert_eq!(signal_of("prune-0.5:12", "prune-0.5"), Some(12));
        assert_eq!(signal_of("a:b:3", "a:b"), Some(3));
        assert_eq!(signal_of("prune-0.5:12", "prune-0.7"), None);
        assert_eq!(signal_of("search:x", "search"), None);
        assert_eq!(crash_of("4"), Some((4, false)));
        assert_eq!(crash_of("4-"), Some((4, true)));
        assert_eq!(crash_of("-"), None);
    }
}
