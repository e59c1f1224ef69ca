//! How much memory making one thumbnail holds, counted from a file's header before decoding.

use super::{fit, Header};

/// The most memory one thumbnail job may hold at once. The engine's whole wasm memory is 1 GiB
/// (threads share it) and it also holds the batch; a job past this would trap it mid-run.
pub const JOB_MEMORY: u64 = 512 << 20;

/// What making one file's thumbnail holds at its peak, counted from the file's header.
#[derive(Debug)]
pub struct MemoryNeeds {
    pub size: (u32, u32),
    /// "16-bit RGBA PNG", "progressive JPEG", ...: what makes decoding cost what it does.
    pub what: String,
    /// Bytes held while decoding: the decoder's buffers at the file's real sample depth, and the pixels.
    pub decode: u64,
    /// Bytes held at the peak of the whole job, box included.
    pub peak: u64,
}

impl MemoryNeeds {
    pub fn refusal(&self, name: &str) -> String {
        let mb = |b: u64| b.div_ceil(1_000_000);
        format!(
            "{name} ({} x {} pixels, {}) would need about {} MB of memory to make its thumbnail; one image may use at most {} MB. Pick a smaller image (fewer pixels, or 8-bit colour).",
            self.size.0, self.size.1, self.what, mb(self.peak), mb(JOB_MEMORY)
        )
    }
}

/// Counts every buffer a job holds for `bytes` fitted within `bound`: the file (in the batch, in
/// the job's message, in the call), the decoder's buffers, the RGBA pixels, and the
/// resizer's (two float rows, the weights, the thumbnail). Errors when the header cannot be
/// read: what the budget cannot count is refused, never let through.
pub fn memory_needed(bytes: &[u8], bound: (u32, u32)) -> Result<MemoryNeeds, String> {
    Ok(needs(&Header::read(bytes)?, bytes.len(), bound))
}

/// [`memory_needed`] from a header already read (the one the decoder will then use).
pub fn needs(header: &Header, file_len: usize, bound: (u32, u32)) -> MemoryNeeds {
    let file = file_len as u64;
    let size = header.size();
    let (what, decoder) = match header {
        // The PNG decoder also gathers the compressed data (at most the file) before inflating it.
        Header::Png(h) => {
            let (what, inflating) = h.decoder_memory();
            (what, inflating + file)
        }
        Header::Jpeg(h) => h.decoder_memory(),
    };
    let (w, h) = (u64::from(size.0), u64::from(size.1));
    let pixels = w * h * 4;
    let decode = decoder + pixels;
    let (dw, dh) = fit(size, bound);
    let (dw, dh) = (u64::from(dw), u64::from(dh));
    let resize = pixels + dw * 16 * 2 + dw * dh * 4 * 2 + (w + h + 2 * (dw + dh)) * 8 + (dw + dh) * 24;
    let input = file * 3;
    MemoryNeeds { size, what, decode, peak: input + decode.max(resize) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_files::{jpeg, png_header};
    use crate::{paint, Pattern};

    #[test]
    fn images_that_would_outgrow_memory_are_refused_from_their_header() {
        // Issue 15: 7071 x 7071 16-bit RGBA, under the pixel cap, outgrew the engine's 1 GiB.
        let huge = png_header((7071, 7071), 16, 6);
        let needs = memory_needed(&huge, (800, 600)).unwrap();
        // Inflated rows (8 bytes a pixel) and the 8-bit RGBA pixels.
        assert!(needs.decode > 7071 * 7071 * 12, "{needs:?}");
        assert!(needs.peak > JOB_MEMORY);
        // The same pixels at 8 bits of grey need far less, and pass.
        let grey = memory_needed(&png_header((7071, 7071), 8, 0), (800, 600)).unwrap();
        assert!(grey.peak < JOB_MEMORY && grey.decode < needs.decode / 2, "{grey:?}");
        // A bigger box means bigger resizing buffers.
        let boxed = memory_needed(&png_header((4000, 4000), 8, 6), (4000, 4000)).unwrap();
        assert!(boxed.peak > memory_needed(&png_header((4000, 4000), 8, 6), (800, 600)).unwrap().peak);
        // ...and a job that comes without the check is refused before decoding.
        let refused = crate::decode(&huge).unwrap_err();
        assert!(refused.starts_with("the image (7071 x 7071 pixels, 16-bit RGBA PNG) would need about "), "{refused}");
    }

    #[test]
    fn jpeg_memory_counts_progressive_coefficients() {
        let pixels = paint(Pattern::Hills, 64, 48);
        let plain = memory_needed(&jpeg(&pixels, (64, 48), |_| {}), (800, 600)).unwrap();
        let progressive = memory_needed(&jpeg(&pixels, (64, 48), |e| e.set_progressive(true)), (800, 600)).unwrap();
        assert_eq!((plain.what.as_str(), progressive.what.as_str()), ("JPEG", "progressive JPEG"));
        assert_eq!(progressive.decode - plain.decode, 64 * 48 * 2 * 3);
    }
}
