//! The reps viewer: drop snapshots or activation files, and every diagnostic is computed in the
//! browser by crate `reps` (no data leaves the machine). Entry point: mounts the app.

mod app;
mod load;
mod views;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
