//! The sweep on a real one-node Slurm cluster, started and stopped by
//! `scripts/slurm/local-cluster.sh`: `scripts/slurm/sweep.sh --shards 3`, with one array task
//! requeued (`scontrol requeue`) while it trains, merges to the snapshot of one process, byte
//! for byte. If the daemons cannot start, the test fails with their reason; if Slurm is not
//! installed, it skips outside `scripts/test.sh` ([`reps_e2e::needs`]).

mod common;

use common::{text, TINY};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cluster, stopped when dropped (also when the test fails).
struct Cluster {
    dir: tempfile::TempDir,
    conf: String,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new(repo().join("scripts/slurm/local-cluster.sh"))
            .arg("start")
            .env("REPS_SLURM_DIR", dir.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "the one-node Slurm cluster did not start:\n{}",
            text(&o)
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        let conf = stdout
            .lines()
            .find_map(|l| l.strip_prefix("export SLURM_CONF="))
            .unwrap_or_else(|| panic!("no SLURM_CONF line:\n{}", text(&o)))
            .to_string();
        Cluster { dir, conf }
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// The ids of the jobs (and array tasks) still in the queue, with their states.
    fn queue(&self, job: &str) -> String {
        let o = self
            .command("squeue")
            .args(["-h", "-j", job, "-o", "%i %T"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/slurm/local-cluster.sh"))
            .arg("stop")
            .env("REPS_SLURM_DIR", self.dir.path())
            .output();
    }
}

/// Polls `ready` every 100 ms for at most `limit`; panics with `what` and `context()` after.
fn wait_for(what: &str, limit: Duration, ready: impl Fn() -> bool, context: impl Fn() -> String) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_sharded_slurm_sweep_with_a_requeued_task_merges_to_the_one_process_snapshot() {
    let installed = ["slurmctld", "slurmd", "sbatch", "munged"].iter().all(|p| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !reps_e2e::needs("Slurm (slurmctld, slurmd, sbatch) and munge", installed) {
        return;
    }
    let cluster = Cluster::start();
    let work = tempfile::tempdir().unwrap();
    let (one, sharded) = (work.path().join("one"), work.path().join("sharded"));
    let native = env!("CARGO_BIN_EXE_native");

    let started = Instant::now();
    let o = common::sweep_in(work.path(), &[&TINY[..], &["--out", "one"]].concat(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let one_process = started.elapsed();

    // Every training step waits 500 ms, so that the requeue below lands mid-training.
    let started = Instant::now();
    let o = cluster
        .command(repo().join("scripts/slurm/sweep.sh").to_str().unwrap())
        .args(["--shards", "3", "--"])
        .args(TINY)
        .args(["--out", sharded.to_str().unwrap()])
        .env("NATIVE", native)
        .env("REPS_TEST_STEP_DELAY_MS", "500")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let printed = String::from_utf8_lossy(&o.stdout).into_owned();
    let id = |what: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(what)?.split_whitespace().next())
            .unwrap_or_else(|| panic!("no {what} id in:\n{printed}"))
            .to_string()
    };
    let (array, merge) = (id("shards "), id("merge "));
    let log = || common::log_of(&sharded);
    let slurm_logs = || {
        std::fs::read_dir(sharded.join("slurm"))
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        format!(
                            "== {}\n{}",
                            e.file_name().to_string_lossy(),
                            std::fs::read_to_string(e.path()).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
            + &format!("\n== sweep.log and the shards' logs\n{}", log())
    };

    // Shard 0 of 3 makes prune-0.9 (cheap), then trains coreset-0.5 (4 steps of 500 ms):
    // requeue its task once that training has begun.
    wait_for(
        "shard 0 to begin training coreset-0.5",
        Duration::from_secs(240),
        || log().contains("prune-0.9: accuracy"),
        slurm_logs,
    );
    std::thread::sleep(Duration::from_millis(700));
    let task = format!("{array}_0");
    let o = cluster
        .command("scontrol")
        .args(["requeue", &task])
        .output()
        .unwrap();
    assert!(o.status.success(), "scontrol requeue {task}: {}", text(&o));
    // Slurm holds a requeued job back for 121 s (its begin time); once the task has stopped and
    // waits again, let it start at once.
    wait_for(
        "the requeued task to be pending",
        Duration::from_secs(60),
        || cluster.queue(&task).contains("PENDING"),
        || format!("queue: {}\n{}", cluster.queue(""), slurm_logs()),
    );
    let o = cluster
        .command("scontrol")
        .args(["update", &format!("JobId={task}"), "StartTime=now"])
        .output()
        .unwrap();
    assert!(o.status.success(), "scontrol update {task}: {}", text(&o));
    wait_for(
        "the merge job to finish",
        Duration::from_secs(300),
        || cluster.queue(&merge).trim().is_empty() && sharded.join("sweep.reps").exists(),
        || format!("queue: {}\n{}", cluster.queue(""), slurm_logs()),
    );
    let on_slurm = started.elapsed();

    let log = log();
    let stopped = log
        .lines()
        .find_map(|l| l.strip_prefix("coreset-0.5: stopped by a signal at "))
        .unwrap_or_else(|| panic!("the requeue did not stop coreset-0.5's training:\n{log}"));
    let at = stopped.split(';').next().unwrap();
    assert!(
        log.contains(&format!("coreset-0.5: resumed at {at}\n")),
        "stopped at {at}, but not resumed there:\n{log}"
    );
    assert_eq!(
        std::fs::read(sharded.join("sweep.reps")).unwrap(),
        std::fs::read(one.join("sweep.reps")).unwrap(),
        "the merged snapshot differs from the one-process run's\n{}",
        slurm_logs()
    );
    eprintln!(
        "one process: {:.1} s; on Slurm, 3 shards with 500 ms per training step and a requeue: {:.1} s",
        one_process.as_secs_f64(),
        on_slurm.as_secs_f64()
    );
}
