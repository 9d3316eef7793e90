//! The page's entry point: mounts the app (see `lib.rs`).

fn main() {
    yew::Renderer::<web::app::App>::new().render();
}
