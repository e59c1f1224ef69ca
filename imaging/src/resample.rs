//! Fitting within a box, and area-averaging resampling.

/// The size that fits within `bound` keeping the proportions; never larger than the original.
pub fn fit((w, h): (u32, u32), (max_w, max_h): (u32, u32)) -> (u32, u32) {
    let scale = (max_w as f64 / w as f64).min(max_h as f64 / h as f64);
    if scale >= 1.0 {
        return (w, h);
    }
    (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1))
}

/// Area-averaging resize: each output pixel is the average of the source pixels it covers
/// (weighted by how much of each it covers), done across then down. Colours are weighted by
/// alpha so transparent pixels do not darken their neighbours.
///
/// Row by row: each source row is averaged across once, into a row kept only until the next
/// output row no longer needs it, rather than into a whole intermediate picture (four floats a
/// pixel, 15 MB for a 1600 x 1200 photo shrunk to 800 wide). Two workers resizing at once then
/// share the memory bus far less.
pub fn resize(src: &[u8], (sw, sh): (u32, u32), (dw, dh): (u32, u32)) -> Vec<u8> {
    let (sw, dw) = (sw as usize, dw as usize);
    let across = weights(sw, dw);
    let down = weights(sh as usize, dh as usize);
    // The last source row averaged across (premultiplied), and which row it is.
    let mut mid = vec![0f32; dw * 4];
    let mut mid_row = usize::MAX;
    let mut acc = vec![0f32; dw * 4];
    let mut out = vec![0u8; dw * dh as usize * 4];
    for (y, taps) in down.iter().enumerate() {
        acc.fill(0.0);
        for &(j, wt) in taps {
            if mid_row != j {
                across_row(&src[j * sw * 4..(j + 1) * sw * 4], &across, &mut mid);
                mid_row = j;
            }
            for (a, m) in acc.iter_mut().zip(&mid) {
                *a += m * wt;
            }
        }
        // Undo the alpha weighting.
        for (o, a) in out[y * dw * 4..(y + 1) * dw * 4].chunks_exact_mut(4).zip(acc.chunks_exact(4)) {
            let alpha = a[3];
            if alpha > 0.0 {
                for c in 0..3 {
                    o[c] = (a[c] / alpha).round().clamp(0.0, 255.0) as u8;
                }
            }
            o[3] = alpha.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// One source row averaged across into `dw` premultiplied pixels.
fn across_row(row: &[u8], across: &[Vec<(usize, f32)>], mid: &mut [f32]) {
    for (x, taps) in across.iter().enumerate() {
        let mut acc = [0f32; 4];
        for &(i, wt) in taps {
            let p = &row[i * 4..i * 4 + 4];
            let a = p[3] as f32 * wt;
            acc[0] += p[0] as f32 * a;
            acc[1] += p[1] as f32 * a;
            acc[2] += p[2] as f32 * a;
            acc[3] += a;
        }
        mid[x * 4..x * 4 + 4].copy_from_slice(&acc);
    }
}

/// For each of `dst` output pixels, the source pixels it covers and their weights (summing to 1).
fn weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let step = src as f64 / dst as f64;
    (0..dst)
        .map(|k| {
            let (a, b) = (k as f64 * step, ((k + 1) as f64 * step).min(src as f64));
            let mut taps = Vec::new();
            let mut i = a.floor() as usize;
            while (i as f64) < b && i < src {
                let cover = (b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0);
                if cover > 0.0 {
                    taps.push((i, (cover / (b - a)) as f32));
                }
                i += 1;
            }
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_proportions_and_never_enlarges() {
        assert_eq!(fit((1600, 1200), (800, 600)), (800, 600));
        assert_eq!(fit((1200, 1600), (800, 600)), (450, 600));
        assert_eq!(fit((3000, 750), (800, 600)), (800, 200));
        assert_eq!(fit((500, 500), (800, 600)), (500, 500));
        assert_eq!(fit((10_000, 3), (800, 600)), (800, 1));
    }

    #[test]
    fn resize_averages_areas() {
        // Two columns, black and white, shrunk to one pixel: mid grey.
        let src = [0, 0, 0, 255, 255, 255, 255, 255];
        assert_eq!(resize(&src, (2, 1), (1, 1)), vec![128, 128, 128, 255]);
    }
}
