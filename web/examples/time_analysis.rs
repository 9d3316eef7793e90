//! Times, natively, the work the viewer's worker does for one dropped file: decoding it
//! (`reps::analysis::open_files`), analysing every shared layer (`web::load::analyse`) and the
//! statistics of the default report (`web::load::infer`: intervals, p-values, claims), so that
//! `bench/viewer.mjs` can report the WebAssembly-to-native ratio of the same code.
//!
//! Usage: `cargo run --release -p web --example time_analysis -- FILE [REPEATS]`
//! Prints one JSON line with the best seconds of each phase. `RAYON_NUM_THREADS=1` gives the
//! single-threaded figure (the browser's worker has one thread).

use std::time::Instant;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: time_analysis FILE [REPEATS]")?;
    let repeats: usize = args
        .get(2)
        .map_or(Ok(3), |r| r.parse())
        .map_err(|e| format!("REPEATS: {e}"))?;
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let name = path.rsplit('/').next().unwrap_or(path).to_string();
    let files = vec![(name, bytes)];
    let (mut decode, mut analyse, mut infer) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let mut reps_equal = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let loaded = reps::analysis::open_files(&files, None, &mut Default::default())
            .map_err(|e| e.to_string())?;
        decode = decode.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let a = web::load::analyse(&loaded, None, &mut |_| {}).map_err(|e| e.to_string())?;
        analyse = analyse.min(t.elapsed().as_secs_f64());
        let r = a
            .comparisons
            .report(&a.default_layers, None)
            .map_err(|e| e.to_string())?;
        reps_equal = r.correlations.get("reps_equal").and_then(|c| c.plcc);
        let t = Instant::now();
        web::load::infer(Some(&loaded), r, 0, &mut |_, _| {}).map_err(|e| e.to_string())?;
        infer = infer.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{{\"decode\": {decode}, \"analyse\": {analyse}, \"infer\": {infer}, \"threads\": {}, \"plcc_reps_equal\": {}}}",
        rayon_threads(),
        reps_equal.map_or("null".into(), |p| p.to_string())
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
