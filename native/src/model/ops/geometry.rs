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
    /// The output positions `o < out` whose input position `o·stride + offset − padding` lies in
    /// `[0, size)`: along one axis, for kernel offset `offset` (`i` or `j`).
    pub fn inside(&self, offset: usize, size: usize, out: usize) -> std::ops::Range<usize> {
        let (s, p) = (self.stride, self.padding);
        let first = p.saturating_sub(offset).div_ceil(s);
        let end = match (size + p).checked_sub(offset + 1) {
            Some(last) => (last / s + 1).min(out),
            None => 0,
        };
        first..end.max(first)
    }
}

#[cfg(test)]
mod tests {
    use super::ConvGeometry;

    /// `inside` against the definition, position by position, over strides, paddings, kernel
    /// offsets and sizes (including windows that never touch the image).
    #[test]
    fn inside_is_the_range_of_valid_positions() {
        for stride in 1..=3 {
            for padding in 0..=3 {
                for kernel in [1, 3, 5] {
                    for size in 1..=7 {
                        let g = ConvGeometry {
                            batch: 1,
                            channels: 1,
                            height: size,
                            width: size,
                            kernel,
                            stride,
                            padding,
                        };
                        if size + 2 * padding < kernel {
                            continue;
                        }
                        let out = g.out_width();
                        for offset in 0..kernel {
                            let valid: Vec<usize> = (0..out)
                                .filter(|&o| {
                                    let i = (o * stride + offset) as isize - padding as isize;
                                    i >= 0 && (i as usize) < size
                                })
                                .collect();
                            let got: Vec<usize> = g.inside(offset, size, out).collect();
                            assert_eq!(got, valid, "{g:?}, offset {offset}");
                        }
                    }
                }
            }
        }
    }
}
