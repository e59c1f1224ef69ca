//! JPEG decoding with zune-jpeg, and turning photos upright by their EXIF orientation.

use super::allowed_size;

type Decoder<'a> = zune_jpeg::JpegDecoder<zune_jpeg::zune_core::bytestream::ZCursor<&'a [u8]>>;

/// A JPEG's headers (up to its first scan), read once by the decoder that then decodes it: the
/// memory budget counts from its frame header (SOF; zune-jpeg refuses a second one), so the
/// budget and the decoder cannot disagree on the size.
pub struct Header<'a> {
    pub size: (u32, u32),
    progressive: bool,
    components: u8,
    orientation: u16,
    decoder: Decoder<'a>,
}

impl<'a> Header<'a> {
    /// Reads the headers of `bytes`; the size must be within [`MAX_PIXELS`](super::MAX_PIXELS).
    pub fn read(bytes: &'a [u8]) -> Result<Header<'a>, String> {
        use zune_jpeg::zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
        // zune-jpeg's own cap is 16384 pixels a side; MAX_PIXELS is ours, so a long panorama passes.
        let options = DecoderOptions::default()
            .jpeg_set_out_colorspace(ColorSpace::RGBA)
            .set_max_width(usize::from(u16::MAX))
            .set_max_height(usize::from(u16::MAX));
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
        decoder.decode_headers().map_err(|e| format!("a damaged JPEG header ({e})"))?;
        let info = decoder.info().ok_or("a JPEG without a size")?;
        let size = (u32::from(info.width), u32::from(info.height));
        allowed_size(size.0, size.1)?;
        let orientation = decoder.exif().and_then(|tiff| exif_orientation(tiff)).unwrap_or(1);
        // Files whose first scan lacks a component are decoded like progressive ones (every
        // coefficient kept until the last scan).
        let progressive = info.sof.is_progressive() || !first_scan_has_every_component(bytes, info.components);
        Ok(Header { size, progressive, components: info.components, orientation, decoder })
    }

    /// What decoding holds besides the file and the RGBA pixels: "progressive JPEG", ..., and the
    /// bytes: a progressive file keeps every coefficient (16 bits a sample) until its last scan,
    /// any file keeps a band of rows per component (at most 64 rows of the width padded to a
    /// whole block of 16, 16 bits a sample; the fuzz test measures zune-jpeg within it), and a
    /// photo to turn upright is copied once.
    pub fn decoder_memory(&self) -> (String, u64) {
        let pixels = u64::from(self.size.0) * u64::from(self.size.1);
        let components = u64::from(self.components);
        let coefficients = if self.progressive { pixels * 2 * components } else { 0 };
        let bands = u64::from(self.size.0).next_multiple_of(16) * 64 * 2 * components;
        let turned = (2..=8).contains(&self.orientation);
        let what = match (self.progressive, turned) {
            (true, true) => "progressive JPEG, turned upright",
            (true, false) => "progressive JPEG",
            (false, true) => "JPEG, turned upright",
            (false, false) => "JPEG",
        };
        (what.to_string(), coefficients + bands + if turned { pixels * 4 } else { 0 })
    }

    /// Decodes (baseline or progressive; grey, colour or CMYK) to RGBA, turned upright.
    pub fn decode(mut self) -> Result<(u32, u32, Vec<u8>), String> {
        let rgba = self.decoder.decode().map_err(|e| format!("damaged JPEG data ({e})"))?;
        let (w, h) = self.size;
        if rgba.len() as u64 != u64::from(w) * u64::from(h) * 4 {
            return Err("damaged JPEG data (its pixels do not fill its frame)".into());
        }
        Ok(upright(self.orientation, w, h, rgba))
    }
}

/// Whether the first scan (SOS) of `bytes` names all `components`, walking the segments before it.
/// Anything unexpected answers no, which only makes the budget count more.
fn first_scan_has_every_component(bytes: &[u8], components: u8) -> bool {
    let mut at = 2;
    while let Some(&[0xFF, marker]) = bytes.get(at..at + 2) {
        match marker {
            0xFF => at += 1, // a fill byte
            0xDA => return bytes.get(at + 4) == Some(&components),
            _ => {
                let Some(&[hi, lo]) = bytes.get(at + 2..at + 4) else { return false };
                at += 2 + usize::from(u16::from_be_bytes([hi, lo]));
            }
        }
    }
    false
}

/// The EXIF "Orientation" tag (0x0112, 1 to 8) of a JPEG's TIFF block, if it has one. Cameras
/// store a photo as the sensor saw it and say here how to turn it for viewing.
pub fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let number = |at: usize, len: usize| {
        let bytes = tiff.get(at..at + len)?;
        let fold = |acc: u32, b: &u8| (acc << 8) | u32::from(*b);
        Some(if big_endian { bytes.iter().fold(0, fold) } else { bytes.iter().rev().fold(0, fold) })
    };
    let ifd = number(4, 4)? as usize;
    let entries = number(ifd, 2)? as usize;
    let entry = (0..entries).map(|k| ifd + 2 + 12 * k).find(|&at| number(at, 2) == Some(0x0112))?;
    number(entry + 8, 2).map(|v| v as u16)
}

/// Turns RGBA pixels upright for EXIF orientation `o`, as Pillow's ImageOps.exif_transpose does:
/// 2-4 mirror or turn half round, 5-8 also swap width and height (a phone held upright gives 6).
pub fn upright(o: u16, w: u32, h: u32, rgba: Vec<u8>) -> (u32, u32, Vec<u8>) {
    if !(2..=8).contains(&o) {
        return (w, h, rgba);
    }
    let (new_w, new_h) = if o >= 5 { (h, w) } else { (w, h) };
    let mut out = vec![0u8; rgba.len()];
    for y in 0..new_h {
        for x in 0..new_w {
            // Where the upright pixel (x, y) is in the stored picture.
            let (sx, sy) = match o {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x),
            };
            let (from, to) = (((sy * w + sx) * 4) as usize, ((y * new_w + x) * 4) as usize);
            out[to..to + 4].copy_from_slice(&rgba[from..from + 4]);
        }
    }
    (new_w, new_h, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;
    use crate::test_files::jpeg;
    use crate::{paint, Pattern};

    /// An APP1 segment with a little-endian TIFF block holding only the Orientation tag.
    fn exif_orientation_segment(orientation: u8) -> Vec<u8> {
        let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x01\0".to_vec();
        exif.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0]);
        exif
    }

    #[test]
    fn photos_are_turned_upright_by_their_exif_orientation() {
        // Stored 32 x 16: left half red, right half blue.
        let (w, h) = (32u32, 16u32);
        let stored: Vec<u8> =
            (0..w * h).flat_map(|i| if i % w < w / 2 { [220, 20, 20, 255] } else { [20, 20, 220, 255] }).collect();
        let red_at = |rgba: &[u8], width: u32, x: u32, y: u32| rgba[((y * width + x) * 4) as usize] > 128;
        for (orientation, size, red_corner) in
            [(1, (32, 16), (0, 0)), (3, (32, 16), (31, 0)), (6, (16, 32), (0, 0)), (8, (16, 32), (0, 31))]
        {
            let file = jpeg(&stored, (w, h), |e| e.add_app_segment(1, exif_orientation_segment(orientation)).unwrap());
            let (dw, dh, rgba) = decode(&file).unwrap();
            assert_eq!((dw, dh), size, "orientation {orientation}");
            assert!(red_at(&rgba, dw, red_corner.0, red_corner.1), "orientation {orientation}: red at {red_corner:?}");
        }
        // Turning the other six ways and back is the identity.
        let pixels: Vec<u8> = (0..6 * 4 * 4).map(|i| i as u8).collect();
        for (there, back) in [(2, 2), (3, 3), (4, 4), (5, 5), (6, 8), (7, 7)] {
            let (tw, th, turned) = upright(there, 6, 4, pixels.clone());
            assert_eq!(upright(back, tw, th, turned), (6, 4, pixels.clone()), "orientation {there}");
        }
    }

    /// JPEG is lossy: the decoded pixels must be close to the painted ones, on average.
    fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as f64).sum::<f64>() / a.len() as f64
    }

    #[test]
    fn decodes_baseline_progressive_and_grey_jpegs() {
        let (w, h) = (61u32, 43u32); // not multiples of 8 or 16: partial blocks at the edges
        let picture = paint(Pattern::Sunset, w, h);
        let grey: Vec<u8> = picture.chunks_exact(4).flat_map(|p| [p[1], p[1], p[1], 255]).collect();
        let cases = [
            ("baseline 4:2:0", jpeg(&picture, (w, h), |_| {}), &picture),
            ("progressive", jpeg(&picture, (w, h), |e| e.set_progressive(true)), &picture),
            ("restart markers", jpeg(&picture, (w, h), |e| e.set_restart_interval(2)), &picture),
            ("grey", jpeg(&grey.iter().step_by(4).copied().collect::<Vec<_>>(), (w, h), |_| {}), &grey),
        ];
        for (kind, file, expected) in cases {
            let (dw, dh, rgba) = decode(&file).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!((dw, dh, rgba.len()), (w, h, (w * h * 4) as usize), "{kind}");
            assert!(rgba.chunks_exact(4).all(|p| p[3] == 255), "{kind}: opaque");
            let difference = mean_difference(&rgba, expected);
            assert!(difference < 4.0, "{kind}: mean difference {difference}");
        }
    }

    #[test]
    fn jpegs_too_large_or_damaged_are_refused() {
        let mut file = jpeg(&paint(Pattern::Rings, 16, 16), (16, 16), |_| {});
        // The frame header (SOF0, FF C0) holds the height and the width: claim 60000 x 60000.
        let sof = file.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
        file[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
        assert_eq!(decode(&file).unwrap_err(), "60000 x 60000 pixels is empty or more than 50000000");
        assert!(decode(&file[..sof]).unwrap_err().contains("JPEG"), "cut before its frame header");
    }
}
