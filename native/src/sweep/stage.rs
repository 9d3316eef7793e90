//! The stages of a sweep that one process can do alone: the original, a shard of the compressed
//! models, the merge; or all of it.

use anyhow::{bail, Context, Result};

/// Which part of a sweep one process does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Everything, in one process.
    All,
    /// Train and evaluate the original only.
    Original,
    /// The compressed models at positions `index`, `index + count`, … of the table order
    /// (0-based, the original not counted); the original must be made.
    Shard { index: usize, count: usize },
    /// Every model must be made: write the snapshot, the tables and the results.
    Merge,
}

impl Stage {
    /// The stage of `--shard SPEC`: `I/N`; `slurm` (I from `SLURM_ARRAY_TASK_ID` less
    /// `SLURM_ARRAY_TASK_MIN`, N from `SLURM_ARRAY_TASK_COUNT`); or `k8s/N` (I from
    /// `JOB_COMPLETION_INDEX`, as in a Kubernetes Indexed Job). `env` reads a variable.
    pub fn shard(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Stage> {
        let var = |name: &str| -> Result<usize> {
            let v = env(name).with_context(|| {
                format!("--shard {spec}: {name} is not set (is this running as a job of that scheduler?)")
            })?;
            v.trim().parse().ok().with_context(|| {
                format!("--shard {spec}: {name} is '{v}', not a non-negative integer")
            })
        };
        let number = |text: &str, what: &str| -> Result<usize> {
            text.trim().parse().ok().with_context(|| {
                format!("--shard {spec}: {what} '{text}' is not a non-negative integer (expected I/N, slurm or k8s/N)")
            })
        };
        let (index, count) = if spec == "slurm" {
            let min = match env("SLURM_ARRAY_TASK_MIN") {
                Some(_) => var("SLURM_ARRAY_TASK_MIN")?,
                None => 0,
            };
            let id = var("SLURM_ARRAY_TASK_ID")?;
            if id < min {
                bail!(
                    "--shard slurm: SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                );
            }
            (id - min, var("SLURM_ARRAY_TASK_COUNT")?)
        } else if let Some(n) = spec.strip_prefix("k8s/") {
            (var("JOB_COMPLETION_INDEX")?, number(n, "N")?)
        } else if let Some((i, n)) = spec.split_once('/') {
            (number(i, "I")?, number(n, "N")?)
        } else {
            bail!("--shard {spec}: expected I/N (e.g. 0/4), slurm or k8s/N");
        };
        if count == 0 {
            bail!("--shard {spec}: the number of shards must be at least 1");
        }
        if index >= count {
            bail!("--shard {spec}: shard {index} does not exist among {count} (shards are numbered from 0)");
        }
        Ok(Stage::Shard { index, count })
    }

    /// Whether this stage makes the model at `position` of the table order (0: the original).
    pub fn makes(&self, position: usize) -> bool {
        match *self {
            Stage::All => true,
            Stage::Original => position == 0,
            Stage::Shard { index, count } => position > 0 && (position - 1) % count == index,
            Stage::Merge => false,
        }
    }

    /// The stage in words, for the log.
    pub fn describe(&self) -> String {
        match self {
            Stage::All => "the whole sweep".into(),
            Stage::Original => "the original (--stage original)".into(),
            Stage::Shard { index, count } => format!("shard {index}/{count}"),
            Stage::Merge => "the merge".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shard_specs_and_their_models() {
        let none = env(&[]);
        assert_eq!(
            Stage::shard("1/3", &none).unwrap(),
            Stage::Shard { index: 1, count: 3 }
        );
        // A Slurm array numbered from 1 (--array=1-4) and a Kubernetes Indexed Job.
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Stage::shard("slurm", &slurm).unwrap(),
            Stage::Shard { index: 2, count: 4 }
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "4")]);
        assert_eq!(
            Stage::shard("k8s/5", &k8s).unwrap(),
            Stage::Shard { index: 4, count: 5 }
        );
        for (spec, why) in [
            ("3/3", "shard 3 does not exist among 3"),
            ("0/0", "at least 1"),
            ("a/2", "I 'a' is not"),
            ("2", "expected I/N"),
            ("slurm", "SLURM_ARRAY_TASK_ID is not set"),
            ("k8s/2", "JOB_COMPLETION_INDEX is not set"),
        ] {
            let e = Stage::shard(spec, &none).unwrap_err().to_string();
            assert!(e.contains(why), "{spec}: {e}");
        }
        // Shard 1 of 3 over 7 compressed models: table positions 2, 5 (positions 1..=7).
        let s = Stage::Shard { index: 1, count: 3 };
        let made: Vec<usize> = (0..8).filter(|&p| s.makes(p)).collect();
        assert_eq!(made, [2, 5]);
        // Every compressed model in exactly one shard.
        for p in 1..8 {
            let n = (0..3)
                .filter(|&i| Stage::Shard { index: i, count: 3 }.makes(p))
                .count();
            assert_eq!(n, 1);
        }
        assert!(Stage::Original.makes(0) && !Stage::Original.makes(1));
    }
}
