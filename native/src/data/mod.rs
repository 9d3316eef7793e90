//! Image datasets: CIFAR-10 from its binary distribution, and the embedded `synthetic` dataset.
//! Both are held as 8-bit CHW images (3 × 32 × 32) with one label each.

mod augment;
pub mod cifar;
pub mod synthetic;

pub use augment::Augment;

use anyhow::Result;
use candle_core::{Device, Tensor};

/// Side length of every image.
pub const SIDE: usize = 32;
/// Bytes per image (3 channels × 32 × 32).
pub const IMAGE_BYTES: usize = 3 * SIDE * SIDE;
/// The paper's per-channel normalisation (CIFAR-10 statistics), used for both datasets.
pub const MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
/// See [`MEAN`].
pub const STD: [f32; 3] = [0.2470, 0.2435, 0.2616];

/// A set of labelled images.
#[derive(Clone, Debug, Default)]
pub struct Images {
    /// `len × 3 × 32 × 32` bytes, channel-major per image.
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Images {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i`'s bytes.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }

    /// The first `n` images (all when `n` is larger).
    pub fn truncate(&mut self, n: usize) {
        let n = n.min(self.len());
        self.labels.truncate(n);
        self.pixels.truncate(n * IMAGE_BYTES);
    }

    /// A batch as a normalised `B × 3 × 32 × 32` f32 tensor and a `B` u32 label tensor, with
    /// optional augmentation.
    pub fn batch(
        &self,
        indices: &[usize],
        augment: Option<&mut Augment>,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        let mut data = Vec::with_capacity(indices.len() * IMAGE_BYTES);
        let mut augment = augment;
        let mut buf = vec![0u8; IMAGE_BYTES];
        for &i in indices {
            let img = match augment.as_deref_mut() {
                Some(a) => {
                    a.apply(self.image(i), &mut buf);
                    &buf[..]
                }
                None => self.image(i),
            };
            for (c, plane) in img.chunks_exact(SIDE * SIDE).enumerate() {
                let (m, s) = (MEAN[c], STD[c]);
                data.extend(plane.iter().map(|&p| (p as f32 / 255.0 - m) / s));
            }
        }
        let x = Tensor::from_vec(data, (indices.len(), 3, SIDE, SIDE), device)?;
        let y: Vec<u32> = indices.iter().map(|&i| self.labels[i] as u32).collect();
        let y = Tensor::from_vec(y, indices.len(), device)?;
        Ok((x, y))
    }

    /// Indices of each class, in order.
    pub fn by_class(&self, classes: usize) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); classes];
        for (i, &y) in self.labels.iter().enumerate() {
            if (y as usize) < classes {
                out[y as usize].push(i);
            }
        }
        out
    }
}

/// A dataset: train and test splits and class names.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    pub train: Images,
    pub test: Images,
    pub class_names: Vec<String>,
}

/// The first `n` test indices that take `n / classes` images of every class (class-balanced), in
/// index order within each class; fewer when a class has too few images.
pub fn balanced_test_indices(test: &Images, n: usize, classes: usize) -> Vec<usize> {
    let per_class = n / classes.max(1);
    let mut out: Vec<usize> = test
        .by_class(classes)
        .into_iter()
        .flat_map(|idx| idx.into_iter().take(per_class))
        .collect();
    out.sort_unstable();
    out
}
