//! Image codecs and resampling for the image-resize topic: decoding PNG and JPEG files to 8-bit
//! RGBA, fitting them within a box, encoding thumbnails as PNG, and the memory a job will need.
//! Machinery, not a lesson: the topic file keeps what the page shows.
//!
//! Why some of it is hand-written, measured on the plain wasm build (after wasm-opt, gzip -9):
//! - PNG: our codec on `fdeflate` plus the resampler adds about 37 KB, against about 98 KB for
//!   the `png` crate and about 180 KB for the `image` crate (PNG and JPEG).
//! - PNG decoding with `zune-png` 0.5 (its `zune-core` is already here for JPEG), our encoder
//!   kept: the module grew from 1,289,386 to 1,322,759 bytes, 532,706 to 549,842 gzip (+17 KB),
//!   and it decoded 1-bit grey rows wrongly where the `png` crate and ours agree. Ours stays.
//! - JPEG: `zune-jpeg` (+43 KB on each build) rather than a hand-written decoder (baseline,
//!   progressive, restart markers, CMYK are too much to own); `jpeg-decoder` is smaller (+29 KB)
//!   but in maintenance mode.
//!
//! The `png` and `jpeg-encoder` crates are dev-dependencies only: independent encoders and a
//! decoder the tests check ours against.

pub mod jpeg;
pub mod memory;
pub mod picture;
pub mod png;
pub mod resample;

pub use picture::{paint, Pattern};
pub use resample::{fit, resize};

/// The largest image a worker agrees to decode (pixels), so a hostile file cannot exhaust memory.
pub const MAX_PIXELS: u64 = 50_000_000;

/// Decodes a PNG or JPEG to (width, height, RGBA), telling the format by the file's first bytes
/// (its "magic number"), not by its name.
pub fn decode(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => png::decode(bytes),
        [0xFF, 0xD8, 0xFF, ..] => jpeg::decode(bytes),
        _ => Err("not a PNG or JPEG file".into()),
    }
}

/// Refuses an image from its header's size, before any memory is set aside for its pixels.
fn allowed_size(w: u32, h: u32) -> Result<(), String> {
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!("{w} x {h} pixels is empty or more than {MAX_PIXELS}"));
    }
    Ok(())
}

/// Test files made by independent encoders, and headers made by hand.
#[cfg(test)]
pub mod test_files {
    use super::png::{crc32, SIGNATURE};

    pub type JpegEncoder<'a> = jpeg_encoder::Encoder<&'a mut Vec<u8>>;

    /// Pixels as a JPEG made by an independent encoder (RGBA, or one grey byte a pixel).
    pub fn jpeg(pixels: &[u8], (w, h): (u32, u32), setup: impl FnOnce(&mut JpegEncoder)) -> Vec<u8> {
        use jpeg_encoder::ColorType;
        let color = if pixels.len() == (w * h) as usize { ColorType::Luma } else { ColorType::Rgba };
        let mut file = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut file, 95);
        setup(&mut encoder);
        encoder.encode(pixels, w as u16, h as u16, color).unwrap();
        file
    }

    /// A PNG with a header and no pixels: enough for the memory count.
    pub fn png_header((w, h): (u32, u32), depth: u8, color: u8) -> Vec<u8> {
        let mut body = [w.to_be_bytes(), h.to_be_bytes()].concat();
        body.extend([depth, color, 0, 0, 0]);
        let mut chunk = b"IHDR".to_vec();
        chunk.extend(&body);
        let crc = crc32(&chunk);
        let end = [0, 0, 0, 0, b'I', b'E', b'N', b'D'];
        let end_crc = crc32(b"IEND").to_be_bytes();
        [SIGNATURE.as_slice(), &13u32.to_be_bytes(), &chunk, &crc.to_be_bytes(), &end, &end_crc].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_formats_are_refused_by_their_first_bytes() {
        assert_eq!(decode(b"hello, this is text").unwrap_err(), "not a PNG or JPEG file");
        assert_eq!(decode(b"GIF89a").unwrap_err(), "not a PNG or JPEG file");
        assert_eq!(decode(b"").unwrap_err(), "not a PNG or JPEG file");
    }
}
