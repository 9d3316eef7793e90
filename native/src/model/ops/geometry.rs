//! The geometry of a convolution: what the CPU loops and the CUDA kernels of the GEMM path both
//! index by. A leaf module: it imports nothing of the ops.

/// Geometry of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl ConvGeometry {
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel) / self.stride + 1
    }
    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel) / self.stride + 1
    }
    pub fn rows(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }
    pub fn cols(&self) -> usize {
        self.batch * self.out_height() * self.out_width()
    }
}
