//! A small PNG codec on fdeflate: decodes any standard PNG (grey, RGB, palette, with alpha or not,
//! 1 to 16 bits, interlaced or not) to 8-bit RGBA, and encodes 8-bit RGBA.

use super::allowed_size;

pub const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
const SECOND_IHDR: &str = "a second IHDR header chunk (a PNG has one, first)";

/// A PNG's header (its IHDR chunk), read once: the memory budget counts from it and the decoder
/// decodes by it. IHDR must be the first chunk (as the PNG standard says), and the decoder refuses a
/// second one, so the budget can never count one size while the decoder allocates for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub size: (u32, u32),
    pub depth: u8,
    pub color: u8,
    pub interlaced: bool,
    channels: usize,
}

impl Header {
    /// Reads the signature and the first chunk, which must be a whole, undamaged IHDR with values
    /// the standard allows and a size within [`MAX_PIXELS`](super::MAX_PIXELS).
    pub fn read(bytes: &[u8]) -> Result<Header, String> {
        if bytes.len() < 8 || &bytes[..8] != SIGNATURE {
            return Err("not a PNG file (its first bytes are wrong)".into());
        }
        let chunk = bytes.get(8..33).ok_or("the file ends inside its IHDR header chunk")?;
        if &chunk[4..8] != b"IHDR" || chunk[..4] != 13u32.to_be_bytes() {
            return Err("the first chunk is not a 13-byte IHDR header, as PNG requires".into());
        }
        if crc32(&chunk[4..21]).to_be_bytes() != chunk[21..25] {
            return Err("the IHDR chunk is damaged (checksum mismatch)".into());
        }
        let word = |i: usize| u32::from_be_bytes([chunk[i], chunk[i + 1], chunk[i + 2], chunk[i + 3]]);
        let (w, h, depth, color) = (word(8), word(12), chunk[16], chunk[17]);
        let channels = match (color, depth) {
            (0, 1 | 2 | 4 | 8 | 16) => 1,
            (3, 1 | 2 | 4 | 8) => 1,
            (4, 8 | 16) => 2,
            (2, 8 | 16) => 3,
            (6, 8 | 16) => 4,
            _ => return Err(format!("colour type {color} with {depth}-bit samples is not a valid PNG")),
        };
        if chunk[18] != 0 || chunk[19] != 0 || chunk[20] > 1 {
            return Err("unknown compression, filter or interlace method in the IHDR header".into());
        }
        allowed_size(w, h)?;
        // The chunks' lengths and kinds (not their data): a second IHDR is refused here, before
        // the budget counts the first, and again by the decoder.
        let mut at = 33;
        while let Some(chunk) = bytes.get(at..at + 8) {
            match &chunk[4..8] {
                b"IHDR" => return Err(SECOND_IHDR.into()),
                b"IEND" => break,
                _ => {
                    at = at
                        .saturating_add(12)
                        .saturating_add(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as usize)
                }
            }
        }
        Ok(Header { size: (w, h), depth, color, interlaced: chunk[20] == 1, channels })
    }

    fn bits(&self) -> usize {
        self.channels * self.depth as usize
    }

    /// Each pass of the image (one, or Adam7's seven): (x0, y0, dx, dy, width, height).
    fn passes(&self) -> Vec<(u32, u32, u32, u32, u32, u32)> {
        let adam7: &[(u32, u32, u32, u32)] =
            &[(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
        let passes = if self.interlaced { adam7 } else { &[(0, 0, 1, 1)] };
        let (w, h) = self.size;
        passes
            .iter()
            .map(|&(x0, y0, dx, dy)| (x0, y0, dx, dy, (w + dx - 1 - x0) / dx, (h + dy - 1 - y0) / dy))
            .collect()
    }

    /// Bytes of filtered rows (a filter byte, then the packed samples) of a `pw` x `ph` pass.
    fn pass_bytes(&self, pw: u32, ph: u32) -> usize {
        if pw == 0 || ph == 0 {
            return 0;
        }
        ph as usize * (1 + (pw as usize * self.bits()).div_ceil(8))
    }

    /// What decoding holds besides the file and the RGBA pixels: "16-bit RGBA PNG", ..., and
    /// the bytes of the inflated rows of every pass plus two unfiltered rows of the widest pass.
    pub fn decoder_memory(&self) -> (String, u64) {
        let kind = match self.color {
            0 => "grey",
            2 => "RGB",
            3 => "palette",
            4 => "grey and alpha",
            _ => "RGBA",
        };
        let (mut raw, mut widest) = (0u64, 0u64);
        for (.., pw, ph) in self.passes() {
            if pw > 0 && ph > 0 {
                raw += self.pass_bytes(pw, ph) as u64;
                widest = widest.max(2 * (u64::from(pw) * self.bits() as u64).div_ceil(8));
            }
        }
        let what = format!("{}-bit {kind} PNG{}", self.depth, if self.interlaced { ", interlaced" } else { "" });
        (what, raw + widest)
    }
}

/// Decodes a PNG by its `header` (read by [`Header::read`] from the same bytes, and already
/// counted against the memory budget) to 8-bit RGBA.
pub fn decode(bytes: &[u8], header: &Header) -> Result<(u32, u32, Vec<u8>), String> {
    let (mut palette, mut trns, mut data) = (Vec::new(), Vec::new(), Vec::new());
    let mut at = 33; // past the signature and IHDR
    loop {
        let chunk = bytes.get(at..at + 8).ok_or("the file ends before its last chunk")?;
        let len = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as usize;
        let kind = &chunk[4..8];
        let body = bytes.get(at + 8..at + 8 + len).ok_or("a chunk runs past the end of the file")?;
        let crc = bytes.get(at + 8 + len..at + 12 + len).ok_or("a chunk has no checksum")?;
        if crc32(&bytes[at + 4..at + 8 + len]).to_be_bytes() != crc {
            return Err(format!("the {} chunk is damaged (checksum mismatch)", String::from_utf8_lossy(kind)));
        }
        match kind {
            b"IHDR" => return Err(SECOND_IHDR.into()),
            b"PLTE" => palette = body.to_vec(),
            b"tRNS" => trns = body.to_vec(),
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let Header { size: (w, ht), depth, color, channels, .. } = *header;
    let bits = header.bits();
    let sub_images = header.passes();
    let raw = inflate(&data, sub_images.iter().map(|p| header.pass_bytes(p.4, p.5)).sum())?;
    let mut rgba = vec![0u8; w as usize * ht as usize * 4];
    let mut offset = 0;
    for (x0, y0, dx, dy, pw, ph) in sub_images {
        if pw == 0 || ph == 0 {
            continue;
        }
        let stride = (pw as usize * bits).div_ceil(8);
        let bytes = header.pass_bytes(pw, ph);
        unfilter(&raw[offset..offset + bytes], stride, bits.div_ceil(8), |y, row| {
            let ty = (y0 + y as u32 * dy) as usize;
            if depth == 8 && (color == 6 || color == 2 && trns.is_empty()) {
                // The common case, 8-bit RGB(A): copy the samples straight across.
                for (x, p) in row.chunks_exact(channels).enumerate() {
                    let at = (ty * w as usize + (x0 + x as u32 * dx) as usize) * 4;
                    rgba[at..at + 3].copy_from_slice(&p[..3]);
                    rgba[at + 3] = if channels == 4 { p[3] } else { 255 };
                }
                return Ok(());
            }
            for x in 0..pw as usize {
                let sample = |c: usize| -> u16 {
                    let bit = (x * channels + c) * depth as usize;
                    match depth {
                        16 => u16::from_be_bytes([row[bit / 8], row[bit / 8 + 1]]),
                        8 => row[bit / 8] as u16,
                        _ => (row[bit / 8] >> (8 - depth as usize - bit % 8)) as u16 & ((1 << depth) - 1),
                    }
                };
                let to8 = |v: u16| match depth {
                    16 => (v >> 8) as u8,
                    8 => v as u8,
                    _ => (v as u32 * 255 / ((1 << depth) - 1)) as u8,
                };
                let key = |i: usize| trns.get(i * 2..i * 2 + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
                let px: [u8; 4] = match color {
                    0 => {
                        let v = sample(0);
                        [to8(v), to8(v), to8(v), if key(0) == Some(v) { 0 } else { 255 }]
                    }
                    3 => {
                        let i = sample(0) as usize;
                        let rgb = palette.get(i * 3..i * 3 + 3).ok_or("a pixel points past the palette")?;
                        [rgb[0], rgb[1], rgb[2], trns.get(i).copied().unwrap_or(255)]
                    }
                    4 => [to8(sample(0)), to8(sample(0)), to8(sample(0)), to8(sample(1))],
                    2 => {
                        let (r, g, b) = (sample(0), sample(1), sample(2));
                        let clear = key(0) == Some(r) && key(1) == Some(g) && key(2) == Some(b);
                        [to8(r), to8(g), to8(b), if clear { 0 } else { 255 }]
                    }
                    _ => [to8(sample(0)), to8(sample(1)), to8(sample(2)), to8(sample(3))],
                };
                let at = (ty * w as usize + (x0 + x as u32 * dx) as usize) * 4;
                rgba[at..at + 4].copy_from_slice(&px);
            }
            Ok(())
        })?;
        offset += bytes;
    }
    Ok((w, ht, rgba))
}

/// Inflates a zlib stream that must give exactly `expected` bytes.
fn inflate(data: &[u8], expected: usize) -> Result<Vec<u8>, String> {
    let mut decompressor = fdeflate::Decompressor::new();
    let mut out = vec![0u8; expected];
    let (mut read, mut written) = (0, 0);
    while !decompressor.is_done() && written < expected {
        let (used, made) = decompressor
            .read(&data[read..], &mut out, written, true)
            .map_err(|e| format!("the compressed image data is corrupt ({e:?})"))?;
        (read, written) = (read + used, written + made);
        if used == 0 && made == 0 {
            break;
        }
    }
    if written < expected {
        return Err(format!("the image data ends early ({written} of {expected} bytes)"));
    }
    Ok(out)
}

/// Undoes PNG's per-row filters: every row starts with a filter byte, then `stride` bytes. Each
/// row, once unfiltered, is handed to `row` with its index; only it and the row above are kept
/// (a filter reads the row above), not a second copy of the whole picture.
fn unfilter(
    raw: &[u8],
    stride: usize,
    bpp: usize,
    mut row: impl FnMut(usize, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let (mut prev, mut cur) = (vec![0u8; stride], vec![0u8; stride]); // zeros: the "row above" the first
    for (y, line) in raw.chunks_exact(stride + 1).enumerate() {
        let (filter, line) = (line[0], &line[1..]);
        match filter {
            0 => cur.copy_from_slice(line),
            1 => {
                cur[..bpp].copy_from_slice(&line[..bpp]);
                for i in bpp..stride {
                    cur[i] = line[i].wrapping_add(cur[i - bpp]);
                }
            }
            2 => cur.iter_mut().zip(line.iter().zip(&prev)).for_each(|(c, (l, p))| *c = l.wrapping_add(*p)),
            3 => {
                for i in 0..stride {
                    let a = if i >= bpp { cur[i - bpp] as u16 } else { 0 };
                    cur[i] = line[i].wrapping_add(((a + prev[i] as u16) / 2) as u8);
                }
            }
            4 => {
                for i in 0..stride {
                    let (a, c) = if i >= bpp { (cur[i - bpp], prev[i - bpp]) } else { (0, 0) };
                    cur[i] = line[i].wrapping_add(paeth(a, prev[i], c));
                }
            }
            f => return Err(format!("unknown row filter {f}")),
        }
        row(y, &cur)?;
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(())
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Encodes RGBA as a PNG: each row gets the filter that makes it smallest, then fdeflate compresses.
pub fn encode(rgba: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let stride = w as usize * 4;
    if rgba.len() != stride * h as usize {
        return Err("the pixel buffer does not match the size".into());
    }
    let mut filtered = Vec::with_capacity((stride + 1) * h as usize);
    let zero = vec![0u8; stride];
    let mut trials = vec![vec![0u8; stride]; 5];
    for y in 0..h as usize {
        let row = &rgba[y * stride..(y + 1) * stride];
        let prev = if y > 0 { &rgba[(y - 1) * stride..y * stride] } else { &zero[..] };
        for i in 0..stride {
            let (a, b) = (if i >= 4 { row[i - 4] } else { 0 }, prev[i]);
            let c = if i >= 4 { prev[i - 4] } else { 0 };
            let x = row[i];
            trials[0][i] = x;
            trials[1][i] = x.wrapping_sub(a);
            trials[2][i] = x.wrapping_sub(b);
            trials[3][i] = x.wrapping_sub(((a as u16 + b as u16) / 2) as u8);
            trials[4][i] = x.wrapping_sub(paeth(a, b, c));
        }
        // The usual heuristic: the filter whose bytes are closest to zero compresses best.
        let score = |t: &Vec<u8>| t.iter().map(|&v| (v as i8).unsigned_abs() as u32).sum::<u32>();
        let best = (0..5).min_by_key(|&f| score(&trials[f])).unwrap_or(0);
        filtered.push(best as u8);
        filtered.extend_from_slice(&trials[best]);
    }
    Ok(file((w, h), false, &filtered))
}

/// A whole 8-bit RGBA PNG file around `filtered` (the rows, each with its filter byte, of every
/// pass): signature, IHDR, one IDAT compressed by fdeflate, IEND.
fn file((w, h): (u32, u32), interlaced: bool, filtered: &[u8]) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    let mut header = Vec::new();
    header.extend(w.to_be_bytes());
    header.extend(h.to_be_bytes());
    header.extend([8, 6, 0, 0, u8::from(interlaced)]);
    for (kind, body) in [(b"IHDR", header), (b"IDAT", fdeflate::compress_to_vec(filtered)), (b"IEND", Vec::new())] {
        out.extend((body.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(&body);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    out
}

/// The CRC-32 every PNG chunk ends with.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
        }
    }
    !crc
}

/// Width and height from a PNG's header, without decoding the image.
pub fn size(bytes: &[u8]) -> Option<(u32, u32)> {
    Header::read(bytes).ok().map(|h| h.size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;
    use crate::{paint, Pattern};

    #[test]
    fn round_trips() {
        let picture = paint(Pattern::Rings, 37, 23);
        let png = encode(&picture, (37, 23)).unwrap();
        assert_eq!(size(&png), Some((37, 23)));
        assert_eq!(decode(&png).unwrap(), (37, 23, picture));
    }

    /// Our decoder reads what the png crate writes, in every colour type and depth.
    #[test]
    fn decodes_png_crate_output_of_every_kind() {
        use ::png::{BitDepth, ColorType};
        let (w, h) = (13u32, 7u32);
        let cases: [(ColorType, BitDepth, usize); 9] = [
            (ColorType::Grayscale, BitDepth::One, 1),
            (ColorType::Grayscale, BitDepth::Four, 1),
            (ColorType::Grayscale, BitDepth::Eight, 1),
            (ColorType::Grayscale, BitDepth::Sixteen, 2),
            (ColorType::GrayscaleAlpha, BitDepth::Eight, 2),
            (ColorType::Rgb, BitDepth::Eight, 3),
            (ColorType::Rgb, BitDepth::Sixteen, 6),
            (ColorType::Rgba, BitDepth::Sixteen, 8),
            (ColorType::Indexed, BitDepth::Two, 1),
        ];
        for (color, depth, _) in cases {
            let bits = color.samples() * depth as usize;
            let stride = (w as usize * bits).div_ceil(8);
            let data: Vec<u8> = (0..stride * h as usize).map(|i| (i * 37 % 251) as u8).collect();
            let mut file = Vec::new();
            let mut encoder = ::png::Encoder::new(&mut file, w, h);
            encoder.set_color(color);
            encoder.set_depth(depth);
            if color == ColorType::Indexed {
                encoder.set_palette((0..12u8).map(|i| i * 20).collect::<Vec<_>>());
                encoder.set_trns(vec![0u8, 128, 255, 7]);
            }
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&data).unwrap();
            writer.finish().unwrap();
            // The png crate's own reading, expanded to 8-bit RGBA, is the reference.
            let mut decoder = ::png::Decoder::new(std::io::Cursor::new(&file));
            decoder.set_transformations(::png::Transformations::normalize_to_color8() | ::png::Transformations::ALPHA);
            let mut reader = decoder.read_info().unwrap();
            let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
            let frame = reader.next_frame(&mut buffer).unwrap();
            let reference: Vec<u8> = match frame.color_type {
                ColorType::GrayscaleAlpha => buffer.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect(),
                _ => buffer,
            };
            let (dw, dh, ours) = decode(&file).unwrap_or_else(|e| panic!("{color:?} {depth:?}: {e}"));
            assert_eq!((dw, dh), (w, h));
            assert_eq!(ours, reference, "{color:?} {depth:?}");
        }
    }

    /// The png crate reads what our encoder writes.
    #[test]
    fn png_crate_reads_our_output() {
        let picture = paint(Pattern::Sunset, 41, 29);
        let file = encode(&picture, (41, 29)).unwrap();
        let mut reader = ::png::Decoder::new(std::io::Cursor::new(&file)).read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buffer).unwrap();
        assert_eq!(buffer, picture);
    }

    /// An interlaced (Adam7) file, built by hand: seven passes, each a small filtered image.
    #[test]
    fn decodes_interlaced_files() {
        let (w, h) = (11usize, 9usize);
        let picture = paint(Pattern::Checker, w as u32, h as u32);
        let mut raw = Vec::new();
        for (x0, y0, dx, dy) in
            [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        {
            let xs: Vec<usize> = (x0..w).step_by(dx).collect();
            for y in (y0..h).step_by(dy) {
                if xs.is_empty() {
                    break;
                }
                raw.push(0);
                for &x in &xs {
                    raw.extend_from_slice(&picture[(y * w + x) * 4..(y * w + x) * 4 + 4]);
                }
            }
        }
        let interlaced = file((w as u32, h as u32), true, &raw);
        assert_eq!(decode(&interlaced).unwrap(), (w as u32, h as u32, picture));
    }

    #[test]
    fn damaged_files_give_reasons() {
        let file = encode(&paint(Pattern::Hills, 20, 10), (20, 10)).unwrap();
        assert!(decode(b"GIF89a...").unwrap_err().contains("not a PNG"));
        assert!(decode(&file[..file.len() - 30]).is_err());
        let mut flipped = file.clone();
        flipped[45] ^= 0xFF;
        assert!(decode(&flipped).unwrap_err().contains("checksum"));
    }
}
