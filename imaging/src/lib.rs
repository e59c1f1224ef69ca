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

/// A PNG's or JPEG's header, read once: the memory budget ([`memory`]) counts from it, and the
/// same header then decodes the file. The format is told by the file's first bytes (its "magic
/// number"), not by its name.
pub enum Header<'a> {
    Png(png::Header),
    Jpeg(Box<jpeg::Header<'a>>),
}

impl<'a> Header<'a> {
    /// Reads the header of `bytes`: an error when it is not a PNG or JPEG, or its header cannot
    /// be read, is damaged, or gives a size past [`MAX_PIXELS`].
    pub fn read(bytes: &'a [u8]) -> Result<Header<'a>, String> {
        match bytes {
            [0x89, b'P', b'N', b'G', ..] => png::Header::read(bytes).map(Header::Png),
            [0xFF, 0xD8, 0xFF, ..] => jpeg::Header::read(bytes).map(|h| Header::Jpeg(Box::new(h))),
            _ => Err(NOT_AN_IMAGE.into()),
        }
    }

    pub fn size(&self) -> (u32, u32) {
        match self {
            Header::Png(h) => h.size,
            Header::Jpeg(h) => h.size,
        }
    }
}

pub const NOT_AN_IMAGE: &str = "not a PNG or JPEG file";

/// Decodes a PNG or JPEG to (width, height, RGBA), refusing first, from its header, a file whose
/// decoding would hold more memory than a job may (the run's check also counts the resizing;
/// this guards jobs that come without that check).
pub fn decode(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    let header = Header::read(bytes)?;
    let needs = memory::needs(&header, bytes.len(), (1, 1));
    if needs.decode > memory::JOB_MEMORY {
        return Err(needs.refusal("the image"));
    }
    match header {
        Header::Png(h) => png::decode(bytes, &h),
        Header::Jpeg(h) => h.decode(),
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
#[cfg(any(test, feature = "test-files"))]
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
    pub fn png_header(size: (u32, u32), depth: u8, color: u8) -> Vec<u8> {
        png_of(&[ihdr(size, depth, color), chunk(b"IEND", &[])])
    }

    /// A PNG file of these chunks (each made by [`chunk`]).
    pub fn png_of(chunks: &[Vec<u8>]) -> Vec<u8> {
        [SIGNATURE.as_slice(), &chunks.concat()].concat()
    }

    /// An IHDR chunk: size, bit depth, colour type, not interlaced.
    pub fn ihdr((w, h): (u32, u32), depth: u8, color: u8) -> Vec<u8> {
        let mut body = [w.to_be_bytes(), h.to_be_bytes()].concat();
        body.extend([depth, color, 0, 0, 0]);
        chunk(b"IHDR", &body)
    }

    /// One chunk: length, kind, body and the checksum of kind and body.
    pub fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let checked = [kind.as_slice(), body].concat();
        [(body.len() as u32).to_be_bytes().as_slice(), &checked, &crc32(&checked).to_be_bytes()].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_formats_are_refused_by_their_first_bytes() {
        assert_eq!(decode(b"hello, this is text").unwrap_err(), NOT_AN_IMAGE);
        assert_eq!(decode(b"GIF89a").unwrap_err(), NOT_AN_IMAGE);
        assert_eq!(decode(b"").unwrap_err(), NOT_AN_IMAGE);
    }
}
