//! The embedded `synthetic` dataset: 10 classes of 32 × 32 RGB images generated deterministically
//! from a seed, so that the whole pipeline runs with nothing to download.
//!
//! Five shape classes (disc, square, triangle, ring, cross) and five texture classes (horizontal,
//! vertical and diagonal stripes, checkerboard, dots), each with random colours, position, scale,
//! frequency and phase, Gaussian pixel noise of random strength, and a random occluding patch. The
//! noise and occluders make it hard enough that a small ResNet does not reach 100 %, and
//! compression visibly hurts. Image `i` of a split depends only on (seed, split, i).

use super::{Dataset, Images, IMAGE_BYTES, SIDE};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Class names, in label order.
pub const CLASSES: [&str; 10] = [
    "disc",
    "square",
    "triangle",
    "ring",
    "cross",
    "h-stripes",
    "v-stripes",
    "diagonal",
    "checker",
    "dots",
];

/// Generates `train` training and `test` test images from `seed`, classes in rotation.
pub fn generate(seed: u64, train: usize, test: usize) -> Dataset {
    Dataset {
        name: "synthetic".into(),
        train: split(seed, 0, train),
        test: split(seed, 1, test),
        class_names: CLASSES.iter().map(|s| s.to_string()).collect(),
    }
}

fn split(seed: u64, which: u64, n: usize) -> Images {
    let mut images = Images {
        pixels: vec![0; n * IMAGE_BYTES],
        labels: Vec::with_capacity(n),
    };
    for i in 0..n {
        let label = (i % CLASSES.len()) as u8;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (which << 62) ^ ((i as u64) << 8) ^ 0x5EED);
        draw(
            label,
            &mut rng,
            &mut images.pixels[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES],
        );
        images.labels.push(label);
    }
    images
}

fn colour(rng: &mut ChaCha8Rng) -> [f32; 3] {
    [rng.random(), rng.random(), rng.random()]
}

/// Whether pixel (x, y) in [0, 1)² belongs to the class's foreground.
fn inside(label: u8, p: &Params, x: f32, y: f32) -> bool {
    let (dx, dy) = (x - p.cx, y - p.cy);
    let r = p.scale;
    // Rotate for the textures.
    let (u, v) = (dx * p.cos + dy * p.sin, -dx * p.sin + dy * p.cos);
    match label {
        0 => dx * dx + dy * dy < r * r,
        1 => dx.abs() < r * 0.85 && dy.abs() < r * 0.85,
        2 => dy < r * 0.8 && dy > -r && dx.abs() < (dy + r) * 0.6,
        3 => {
            let d = (dx * dx + dy * dy).sqrt();
            d < r && d > r * 0.55
        }
        4 => (dx.abs() < r * 0.3 && dy.abs() < r) || (dy.abs() < r * 0.3 && dx.abs() < r),
        5 => ((y * p.freq + p.phase).fract()) < 0.5,
        6 => ((x * p.freq + p.phase).fract()) < 0.5,
        7 => (((x + y) * p.freq * 0.7 + p.phase).fract()) < 0.5,
        8 => {
            let a = ((u * p.freq * 0.5 + p.phase).floor() as i32) & 1;
            let b = ((v * p.freq * 0.5 + p.phase).floor() as i32) & 1;
            a == b
        }
        _ => {
            let gu = (x * p.freq * 0.6 + p.phase).fract() - 0.5;
            let gv = (y * p.freq * 0.6 + p.phase).fract() - 0.5;
            gu * gu + gv * gv < 0.09
        }
    }
}

struct Params {
    cx: f32,
    cy: f32,
    scale: f32,
    freq: f32,
    phase: f32,
    cos: f32,
    sin: f32,
}

fn draw(label: u8, rng: &mut ChaCha8Rng, out: &mut [u8]) {
    let bg = colour(rng);
    let mut fg = colour(rng);
    // Keep some contrast, but not always much.
    let contrast: f32 = rng.random_range(0.15..0.6);
    for c in 0..3 {
        if (fg[c] - bg[c]).abs() < contrast {
            fg[c] = if bg[c] > 0.5 {
                bg[c] - contrast
            } else {
                bg[c] + contrast
            };
        }
    }
    let angle: f32 = rng.random_range(-0.5..0.5);
    let p = Params {
        cx: rng.random_range(0.3..0.7),
        cy: rng.random_range(0.3..0.7),
        scale: rng.random_range(0.18..0.38),
        freq: rng.random_range(3.0..7.0),
        phase: rng.random(),
        cos: angle.cos(),
        sin: angle.sin(),
    };
    let noise = Normal::new(0.0f32, rng.random_range(0.05..0.25)).expect("valid sigma");
    // An occluding patch of random colour.
    let patch = rng.random_bool(0.6).then(|| {
        let w = rng.random_range(4..12) as usize;
        let h = rng.random_range(4..12) as usize;
        let x0 = rng.random_range(0..SIDE - w);
        let y0 = rng.random_range(0..SIDE - h);
        (x0, y0, w, h, colour(rng))
    });
    for y in 0..SIDE {
        for x in 0..SIDE {
            let fx = (x as f32 + 0.5) / SIDE as f32;
            let fy = (y as f32 + 0.5) / SIDE as f32;
            let mut rgb = if inside(label, &p, fx, fy) { fg } else { bg };
            if let Some((x0, y0, w, h, pc)) = patch {
                if (x0..x0 + w).contains(&x) && (y0..y0 + h).contains(&y) {
                    rgb = pc;
                }
            }
            for c in 0..3 {
                let v = (rgb[c] + noise.sample(rng)).clamp(0.0, 1.0);
                out[c * SIDE * SIDE + y * SIDE + x] = (v * 255.0).round() as u8;
            }
        }
    }
}
