//! The page's state apart from its views: which worker jobs were sent, what the page shows, and
//! the reducer that decides, for each worker reply, whether it is current or stale. Pure Rust,
//! unit-tested natively (`cargo test -p web`).

use crate::protocol::{Analysis, Preview, Response, Side};
use reps::analysis::{Report, SeedSummary};
use reps::search::SearchResult;
use std::rc::Rc;
use yew::prelude::*;

/// How many recent jobs the page remembers (the source of each, the jobs of side B): the shown
/// analysis is never more than a few jobs older than the latest, since the worker answers in
/// order and the page shows every answer that is newer than what it shows.
pub const JOB_WINDOW: u32 = 8;

/// What the page shows besides the analysis itself.
#[derive(Clone, Default)]
pub struct ViewerState {
    /// The last job sent to the worker.
    pub(crate) latest: u32,
    /// The URL each recent job reads from (`None`: files from the disk), for the link.
    pub(crate) sources: Vec<(u32, Option<String>)>,
    /// The URL the shown analysis was read from.
    pub(crate) shown_url: Option<String>,
    /// The last report export sent to the worker (its statistics with the sliders' weights), and
    /// its answer, which the page saves as report.json.
    pub(crate) export_latest: u32,
    pub(crate) exported: Option<(u32, Rc<Report>)>,
    /// Side B of a comparison: the jobs that open it, the latest, and the analysis shown.
    pub(crate) b_jobs: Vec<u32>,
    pub(crate) latest_b: u32,
    pub(crate) shown_b: Option<(u32, Rc<Analysis>)>,
    /// The analysis shown, with its job number.
    pub(crate) shown: Option<(u32, Rc<Analysis>)>,
    /// What the latest job's files hold, while they are analysed: shown instead of `shown`.
    pub(crate) preview: Option<(u32, Rc<Preview>)>,
    /// A multi-seed summary opened after it, with its job number: shown instead.
    pub(crate) seeds: Option<(u32, Rc<SeedSummary>)>,
    /// A compression search's result, when that is what the page shows.
    pub(crate) search: Option<(u32, Rc<SearchResult>)>,
    /// Progress of the latest job: step, done, total.
    pub(crate) progress: Option<(String, usize, usize)>,
    pub(crate) status: Option<String>,
    pub(crate) error: Option<String>,
    /// The last statistics job sent to the worker and what it was asked for, its answer (what
    /// it was asked for, the report with its statistics, the worker's seconds) and its progress
    /// (resampling the samples: done, total).
    pub(crate) inference_latest: (u32, InferenceKey),
    pub(crate) inferred: Option<(InferenceKey, Rc<Report>, f64)>,
    pub(crate) inference_progress: Option<(usize, usize)>,
}

/// What a report's statistics were computed for: the analysis job, the layers, and the number of
/// sample resamples. Statistics are shown only for the current one.
pub type InferenceKey = (Option<u32>, Vec<String>, u32);

/// What a job reads.
pub enum Source {
    /// A snapshot at this URL.
    Url(String),
    /// Files from the disk.
    Files,
    /// What the shown analysis was read from (a change of reference).
    Shown,
}

/// What changes the state.
pub enum Action {
    /// A request went to the worker as `job`; `status` says what it does, `source` what it reads.
    Sent {
        job: u32,
        status: String,
        source: Source,
        side: Side,
    },
    /// The reader closed side B.
    CloseB,
    /// A report export went to the worker as `job`.
    SentExport { job: u32 },
    /// A statistics request for `key` went to the worker as `job`.
    SentInference { job: u32, key: InferenceKey },
    /// The worker answered.
    Worker(Response),
}

impl Reducible for ViewerState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Sent {
                job,
                status,
                side: Side::B,
                ..
            } => {
                s.b_jobs.retain(|j| j + JOB_WINDOW > job);
                s.b_jobs.push(job);
                s.latest_b = job;
                s.status = Some(status);
                s.progress = None;
            }
            Action::CloseB => s.shown_b = None,
            Action::Sent {
                job,
                status,
                source,
                side: Side::A,
            } => {
                let url = match source {
                    Source::Url(u) => Some(u),
                    Source::Files => None,
                    Source::Shown => s.shown_url.clone(),
                };
                s.sources.retain(|(j, _)| j + JOB_WINDOW > job);
                s.sources.push((job, url));
                s.latest = job;
                s.status = Some(status);
                s.progress = None;
            }
            Action::SentExport { job } => {
                s.export_latest = job;
                s.status =
                    Some("computing the statistics of report.json with your weights…".into());
            }
            Action::SentInference { job, key } => {
                s.inference_latest = (job, key);
                s.inference_progress = None;
            }
            Action::Worker(Response::Opened { job, preview }) => {
                if job != s.latest {
                    return self;
                }
                s.preview = Some((job, Rc::new(*preview)));
            }
            // Ready, and helpers' shares (which reach the analysis worker only).
            Action::Worker(Response::Ready | Response::Part { .. }) => return self,
            Action::Worker(Response::Progress {
                job,
                step,
                done,
                total,
            }) => {
                if job == s.inference_latest.0 {
                    s.inference_progress = Some((done, total));
                } else if job == s.latest || job == s.latest_b {
                    s.progress = Some((step, done, total));
                } else {
                    return self;
                }
            }
            Action::Worker(Response::Inference {
                job,
                report,
                seconds,
            }) => {
                if job == s.export_latest {
                    s.exported = Some((job, Rc::new(*report)));
                    s.status = None;
                    return Rc::new(s);
                }
                if job != s.inference_latest.0 {
                    return self;
                }
                s.inferred = Some((s.inference_latest.1.clone(), Rc::new(*report), seconds));
                s.inference_progress = None;
            }
            Action::Worker(Response::Seeds { job, .. }) if s.b_jobs.contains(&job) => {
                s.status = None;
                s.error = Some("B: a multi-seed summary cannot be compared; open a snapshot or activation files as B".into());
            }
            Action::Worker(Response::Search { job, .. }) if s.b_jobs.contains(&job) => {
                s.status = None;
                s.error = Some("B: a search's search.json cannot be compared; open a snapshot or activation files as B".into());
            }
            Action::Worker(Response::Search { job, result }) => {
                if s.newest_shown() > job {
                    return self;
                }
                s.search = Some((job, Rc::new(*result)));
                s.seeds = None;
                if job == s.latest {
                    s.settle();
                }
            }
            Action::Worker(Response::Done { job, analysis }) if s.b_jobs.contains(&job) => {
                if s.shown_b.as_ref().is_some_and(|(j, _)| *j > job) {
                    return self;
                }
                s.shown_b = Some((job, Rc::new(*analysis)));
                if job == s.latest_b {
                    s.settle();
                }
            }
            Action::Worker(Response::Seeds { job, summary }) => {
                if s.newest_shown() > job {
                    return self;
                }
                s.seeds = Some((job, Rc::new(*summary)));
                s.search = None;
                if job == s.latest {
                    s.settle();
                }
            }
            Action::Worker(Response::Done { job, analysis }) => {
                // A newer result than the one shown replaces it, even if a later job is queued.
                if s.newest_shown() > job {
                    return self;
                }
                s.shown = Some((job, Rc::new(*analysis)));
                s.shown_url = s
                    .sources
                    .iter()
                    .find(|(j, _)| *j == job)
                    .and_then(|(_, u)| u.clone());
                s.seeds = None;
                // A search answered by the same job (its search.json dropped with its snapshot)
                // stays above the analysis.
                if s.search.as_ref().is_some_and(|(j, _)| *j != job) {
                    s.search = None;
                }
                if job == s.latest {
                    s.settle();
                }
            }
            Action::Worker(Response::Failed { job, error })
            | Action::Worker(Response::Crashed { job, error }) => {
                if job != 0
                    && job != s.latest
                    && job != s.latest_b
                    && job != s.inference_latest.0
                    && job != s.export_latest
                {
                    return self;
                }
                s.inference_progress = None;
                s.status = None;
                s.progress = None;
                s.preview = None;
                s.error = Some(error);
            }
        }
        Rc::new(s)
    }
}

impl ViewerState {
    /// The latest job of a side is answered: no status, progress or error stays.
    fn settle(&mut self) {
        self.status = None;
        self.progress = None;
        self.error = None;
    }

    /// The job number of what the page shows (0: nothing yet).
    pub(crate) fn newest_shown(&self) -> u32 {
        let analysis = self.shown.as_ref().map_or(0, |(j, _)| *j);
        let seeds = self.seeds.as_ref().map_or(0, |(j, _)| *j);
        let search = self.search.as_ref().map_or(0, |(j, _)| *j);
        analysis.max(seeds).max(search)
    }

    /// The preview of files still being analysed, when it is newer than what is shown.
    pub(crate) fn current_preview(&self) -> Option<&Preview> {
        self.preview
            .as_ref()
            .filter(|(job, _)| *job > self.newest_shown())
            .map(|(_, p)| p.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reps::analysis::open_files;

    fn preview() -> Box<Preview> {
        let bytes = include_bytes!("../../www/sample.reps").to_vec();
        let loaded = open_files(
            &[("sample.reps".into(), bytes)],
            None,
            &mut Default::default(),
        );
        Box::new(crate::load::preview(&loaded.unwrap(), None))
    }

    /// The sample's analysis, as the worker sends it.
    fn analysis() -> Box<Analysis> {
        let bytes = include_bytes!("../../www/sample.reps").to_vec();
        let loaded = open_files(
            &[("sample.reps".into(), bytes)],
            None,
            &mut Default::default(),
        );
        Box::new(crate::load::analyse(&loaded.unwrap(), None, &mut |_| {}).unwrap())
    }

    fn done(job: u32, analysis: &Analysis) -> Action {
        Action::Worker(Response::Done {
            job,
            analysis: Box::new(analysis.clone()),
        })
    }

    fn sent(state: Rc<ViewerState>, job: u32) -> Rc<ViewerState> {
        state.reduce(Action::Sent {
            job,
            status: "reading".into(),
            source: Source::Files,
            side: Side::A,
        })
    }

    fn opened(job: u32) -> Action {
        Action::Worker(Response::Opened {
            job,
            preview: preview(),
        })
    }

    #[test]
    fn a_preview_shows_until_its_analysis_or_its_failure_arrives() {
        let s = sent(Rc::new(ViewerState::default()), 1);
        let s = s.reduce(opened(1));
        assert_eq!(s.current_preview().map(|p| p.models.len()), Some(25));
        // The analysis of the same job replaces it.
        let done = s.clone().reduce(Action::Worker(Response::Done {
            job: 1,
            analysis: analysis(),
        }));
        assert!(done.current_preview().is_none());
        assert!(done.shown.is_some());
        // A newer job's preview shows over the analysis; its failure brings the analysis back.
        let s = sent(done, 2).reduce(opened(2));
        assert!(s.current_preview().is_some());
        let failed = s.reduce(Action::Worker(Response::Failed {
            job: 2,
            error: "corrupt".into(),
        }));
        assert!(failed.current_preview().is_none());
        assert_eq!(failed.shown.as_ref().map(|(j, _)| *j), Some(1));
    }

    #[test]
    fn a_stale_preview_is_ignored() {
        // Job 2 was sent after job 1: job 1's preview arriving late is not shown.
        let s = sent(sent(Rc::new(ViewerState::default()), 1), 2);
        let s = s.reduce(opened(1));
        assert!(s.current_preview().is_none());
        assert!(s.reduce(opened(2)).current_preview().is_some());
    }

    /// The worker answers in order, but the page may send a new job before an old one's answer
    /// arrives: an answer older than what is shown never replaces it, a newer one always does
    /// (even while a later job is queued), and replies of forgotten jobs change nothing.
    #[test]
    fn stale_replies_change_nothing() {
        let a = analysis();
        let s = sent(sent(sent(Rc::new(ViewerState::default()), 1), 2), 3);
        // Job 2 answers first: shown, but job 3 is still pending, so the status stays.
        let s = s.reduce(done(2, &a));
        assert_eq!(s.shown.as_ref().map(|(j, _)| *j), Some(2));
        assert!(s.status.is_some());
        // Job 1's late answer, progress and failure: ignored, the very same state.
        for stale in [
            done(1, &a),
            Action::Worker(Response::Progress {
                job: 1,
                step: "reading".into(),
                done: 1,
                total: 2,
            }),
            Action::Worker(Response::Failed {
                job: 1,
                error: "late".into(),
            }),
        ] {
            let after = s.clone().reduce(stale);
            assert!(Rc::ptr_eq(&after, &s));
        }
        // Job 3 settles the page; a failure of job 3 after that would still show.
        let s = s.reduce(done(3, &a));
        assert_eq!(s.shown.as_ref().map(|(j, _)| *j), Some(3));
        assert!(s.status.is_none() && s.error.is_none());
    }

    #[test]
    fn a_search_replaces_the_analysis_until_a_newer_job_answers_unless_dropped_with_it() {
        let text = r#"{"settings": {"from": "s", "sweep_settings_sha256": "00", "method": "prune",
            "budget": 0.5, "min_reps": null, "confidence": null, "ladder": [0.5], "calibration": 16,
            "strategies": [], "refresh": 0, "resamples": 10}, "budget_name": "sparsity",
            "space": {"layers": [{"name": "w", "parameters": 4, "amounts": [0.0, 0.5]}], "direction": "increases"},
            "original_accuracy": 0.9, "sensitivity": {"untouched": null, "rows": []},
            "allocations": [], "models": [], "claims": [],
            "timing": {"candidates": 0, "compress_s": 0, "forward_s": 0, "analysis_s": 0}, "seconds": 0}"#;
        let result = reps::search::SearchResult::from_json("search.json", text.as_bytes()).unwrap();
        let search = |job| {
            Action::Worker(Response::Search {
                job,
                result: Box::new(result.clone()),
            })
        };
        let s = sent(sent(Rc::new(ViewerState::default()), 1), 2);
        let s = s.reduce(search(2));
        assert_eq!(s.search.as_ref().map(|(j, _)| *j), Some(2));
        assert!(s.status.is_none());
        // An older job's analysis arriving late does not replace it; a newer one does.
        let a = analysis();
        let late = s.clone().reduce(done(1, &a));
        assert!(Rc::ptr_eq(&late, &s));
        let s = sent(s, 3).reduce(done(3, &a));
        assert!(s.search.is_none());
        assert_eq!(s.shown.as_ref().map(|(j, _)| *j), Some(3));
        // A search.json dropped with its snapshot: job 4 answers the search, then the analysis,
        // and both stay; the next job's analysis clears the search.
        let s = sent(s, 4).reduce(search(4)).reduce(done(4, &a));
        assert_eq!(s.search.as_ref().map(|(j, _)| *j), Some(4));
        assert_eq!(s.shown.as_ref().map(|(j, _)| *j), Some(4));
        let s = sent(s, 5).reduce(done(5, &a));
        assert!(s.search.is_none());
    }

    #[test]
    fn a_summary_on_side_b_is_an_error_and_old_jobs_leave_the_window() {
        let s = Rc::new(ViewerState::default()).reduce(Action::Sent {
            job: 1,
            status: "reading B".into(),
            source: Source::Files,
            side: Side::B,
        });
        let summary = reps::analysis::SeedSummary {
            seeds: vec![1],
            reference: "original".into(),
            models: Vec::new(),
            correlations: Default::default(),
            inference: None,
            comparisons: Default::default(),
            correlations_stable: None,
            sensitivity: Vec::new(),
            claims: Vec::new(),
            claims_per_seed: Vec::new(),
        };
        let s = s.reduce(Action::Worker(Response::Seeds {
            job: 1,
            summary: Box::new(summary),
        }));
        assert!(s
            .error
            .as_deref()
            .unwrap()
            .starts_with("B: a multi-seed summary"));
        assert!(s.seeds.is_none());
        // Of jobs 2 ..= 12, only the last JOB_WINDOW keep their sources.
        let mut s = s;
        for job in 2..=12 {
            s = sent(s, job);
        }
        let kept: Vec<u32> = s.sources.iter().map(|(j, _)| *j).collect();
        assert_eq!(kept, (13 - JOB_WINDOW..=12).collect::<Vec<_>>());
    }
}
