//! image-resize: a pool of isolated workers decodes PNG and JPEG files (pictures made in the page
//! and files the learner picks), fits them within a box and encodes thumbnails; a file that cannot
//! be decoded reports its error while the others finish.

use serde_json::json;

use crate::params::{FieldError, Param, Params};
use crate::topic::{Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "image-resize",
        title: "Thumbnails on a process pool",
        chapter: Chapter::Processes,
        summary: "Workers decode images (generated ones, and PNG or JPEG files you pick), shrink them to fit within 800 x 600 and encode thumbnails; a broken file fails alone.",
        explanation: crate::prose!("Making thumbnails is a classic job for a process pool: every image is independent, decoding and resizing are heavy computing, and the result is small. Each worker receives one file, decodes it (PNG or JPEG), shrinks it to fit within the box (default 800 x 600) keeping its proportions, and encodes the thumbnail as a PNG. An image already smaller than the box is kept at its size, as Pillow's thumbnail() does.\n\n\
The batch starts with a few pictures generated in the page (landscape, portrait, a wide panorama, a small square) and one deliberately broken file whose bytes stop being a PNG after the header. Then come your own files, if you pick some: photos from a phone or camera are JPEGs, and they are often far bigger than the generated pictures, so the pool has real work. Your files never leave this page; they only travel to its workers. A file that is neither PNG nor JPEG, or is damaged, fails inside its worker and the error comes back with its name, while the pool goes on with the rest, as with Pool.map when the function catches its own errors and returns them.\n\n\
Files are bytes, and bytes must be copied to reach a worker: here each call (the file's bytes, its name and the box) is encoded into one binary message and copied across, which is what Python's pickling of the call amounts to. The note next to the pool's time shows how many bytes crossed and how long the copying took; compare it with the time the workers spent decoding, resizing and encoding (the last column of the table). PNG decoding and encoding, and the resizing, are our own Rust (a small PNG codec on the fdeflate compression crate, and an area-averaging resampler: every thumbnail pixel is the average of the source pixels it covers); JPEG decoding is the zune-jpeg crate. A phone stores a photo as its sensor saw it, with an EXIF note saying how to turn it; the worker turns it upright before shrinking it (Pillow: ImageOps.exif_transpose). A JPEG's decoding usually dominates: every pixel of the full photo is decoded before it is shrunk. Pillow can skip most of that by asking the JPEG decoder for a half, quarter or eighth of the size (Image.draft, which thumbnail() uses); ours always decodes everything."),
        params: vec![
            Param::int("max_w", "Box width", 800, 16, 4000).help("Thumbnails fit within this width..."),
            Param::int("max_h", "Box height", 600, 16, 4000).help("...and this height; proportions are kept."),
            Param::int("workers", "Workers", 2, 1, 8),
            Param::choice("size", "Generated images", "normal", &[
                ("none", "none (only your files)"),
                ("tiny", "tiny (quarter size)"),
                ("small", "small (half size)"),
                ("normal", "normal"),
                ("large", "large (double size)"),
            ])
            .help("Normal: 1600 x 1200, 1200 x 1600, 3000 x 750, 2000 x 1000, 1400 x 1400 and 500 x 500 pixels."),
            Param::flag("broken", "Include a broken file", true),
            Param::files("files", "Your images", "image/png,image/jpeg,.png,.jpg,.jpeg")
                .help("PNG or JPEG files from your computer (up to 8 files, 20 MB in all), after the generated ones. They stay in this page."),
            Param::int("preview", "Preview width (px)", 160, 40, 400)
                .help("The thumbnails shown here are shrunk once more to this width; their real size is in the table."),
        ],
        presets: vec![
            Preset { id: "tiny-box", label: "Small box (200 x 200)", values: json!({"max_w": 200, "max_h": 200}) },
            Preset { id: "large", label: "Large images, 4 workers", values: json!({"size": "large", "workers": 4}) },
        ],
        modes: vec![
            Mode::new("sequential", "One after another (main)", Model::Sequential),
            Mode::new("pool", "Pool of isolated workers", Model::Workers),
        ],
        code: crate::topic_code!("image_resize.rs"),
        python: crate::prose!(PYTHON),
        check: something_to_resize,
        run: |run, params| Box::pin(run_image_resize(run, params)),
        needs: |p| Needs::workers(p.count("workers")),
    }
}

/// Without generated pictures, the broken file or picked files, there would be nothing to do.
/// A picked file whose thumbnail would need more memory than a job may use is refused here, from
/// its header, before any work starts (rather than trapping the engine mid-run).
fn something_to_resize(p: &Params) -> Result<(), FieldError> {
    if p.text("size") == "none" && !p.flag("broken") && p.file_count("files") == 0 {
        return Err(FieldError::new("files", "Pick some images, or choose generated ones: there is nothing to resize"));
    }
    let bound = (p.int("max_w") as u32, p.int("max_h") as u32);
    for file in p.files("files") {
        // A file whose header cannot be read fails alone in its worker, as any broken file does.
        let Ok(needs) = memory_needed(&file.bytes, bound) else { continue };
        if needs.peak > JOB_MEMORY {
            return Err(FieldError::new("files", needs.refusal(&crate::params::cut(&file.name))));
        }
    }
    Ok(())
}

const PYTHON: &str = r#"import io, sys
from concurrent.futures import ProcessPoolExecutor
from PIL import Image, ImageDraw, ImageOps   # pip install Pillow

MAX_W, MAX_H = 800, 600   # the box thumbnails fit in
WORKERS = 2
BROKEN = True             # include a broken file

def thumbnail(name, data, box=(MAX_W, MAX_H)):
    try:
        image = Image.open(io.BytesIO(data))     # PNG, JPEG, or "cannot identify image file"
        image = ImageOps.exif_transpose(image)   # phone photos: turn upright first
        image.thumbnail(box)                     # fit within the box, keep proportions
        out = io.BytesIO()
        image.convert("RGBA").save(out, "PNG")
        return name, image.size, out.getvalue(), None
    except Exception as error:                   # a broken file fails alone
        return name, None, None, str(error)

def generated(name, w, h):                       # the tutorial read files you had; these are made here
    image = Image.new("RGB", (w, h), (40, 90, 160))
    ImageDraw.Draw(image).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(250, 200, 60))
    out = io.BytesIO(); image.save(out, "PNG")
    return name, out.getvalue()

if __name__ == "__main__":
    sizes = {"sunset.png": (1920, 1080), "tower.png": (900, 1600), "panorama.png": (3000, 700),
             "garden.png": (1024, 768), "target.png": (600, 600), "icon.png": (64, 64)}
    files = dict(generated(name, w, h) for name, (w, h) in sizes.items())
    if BROKEN:
        files["broken.png"] = b"\x89PNG\r\n\x1a\n this is not really an image"
    for path in sys.argv[1:]:                    # then yours: python image_resize.py photo.jpg ...
        files[path] = open(path, "rb").read()
    with ProcessPoolExecutor(WORKERS) as pool:   # the bytes are pickled to each worker
        results = list(pool.map(thumbnail, files.keys(), files.values()))
    for name, size, png, error in results:
        print(name, error or f"{size[0]} x {size[1]}, {len(png)} bytes")
    print("thumbnails", sum(error is None for *_, error in results), "errors", sum(error is not None for *_, error in results))
"#;

// CODE START
use crate::clock::now_ms;
use crate::engines::tasks::Pacer;
use crate::engines::workers::{Job, Pool};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// One call: a file and what to make of it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Call {
    name: String,
    data: Vec<u8>,
    bound: (u32, u32),
    preview: u32,
}

/// What one call returns: the sizes, the thumbnail as PNG, a small preview, and where the time went.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Thumb {
    name: String,
    input: (u32, u32),
    output: (u32, u32),
    png: Vec<u8>,
    preview: (u32, u32),
    preview_rgba: Vec<u8>,
    decode_ms: f64,
    resize_ms: f64,
    encode_ms: f64,
}

/// The largest image a worker agrees to decode (pixels), so a hostile file cannot exhaust memory.
const MAX_PIXELS: u64 = 50_000_000;

async fn run_image_resize(run: Run, p: Params) -> RunResult<()> {
    let (max_w, max_h) = (p.int("max_w") as u32, p.int("max_h") as u32);
    // Make the batch here (as a page would), one picture at a time so Stop is heard in between.
    let mut pacer = Pacer::new(&run);
    let mut batch = Vec::new();
    for (name, w, h, pattern) in shapes(p.text("size")) {
        let start = run.now();
        batch.push((name.to_string(), encode_png(&paint(pattern, w, h), (w, h))?));
        run.span("main", format!("make {name}"), SpanKind::Run, start, run.now());
        pacer.tick(&run).await?;
    }
    let broken = p.flag("broken").then(|| {
        batch.push(("broken.png".to_string(), broken_file()));
        batch.len() - 1
    });
    let generated = batch.len();
    // Then the learner's own files (PNG, JPEG, or anything else), handled exactly like ours.
    batch.extend(p.files("files").into_iter().map(|file| (file.name, file.bytes)));
    let preview = p.int("preview") as u32;
    let calls: Vec<Call> = batch
        .iter()
        .map(|(name, data)| Call { name: name.clone(), data: data.clone(), bound: (max_w, max_h), preview })
        .collect();
    for (name, bytes) in &batch {
        run.log("main", format!("{name}: {} bytes", bytes.len()));
    }

    // The same function, called here one file after another...
    let sequential = run.measure("sequential", async {
        let mut pacer = Pacer::new(&run);
        let mut out = Vec::new();
        for (call, (name, _)) in calls.iter().zip(&batch) {
            out.push(run.timed("main", name, SpanKind::Run, || thumbnail(call.clone())));
            pacer.tick(&run).await?;
        }
        Ok(out)
    });
    let sequential = sequential.await?;

    // ...and on a pool, where every idle worker takes the next file.
    let pooled = run.measure("pool", async {
        let pool = Pool::start(&run, p.count("workers").min(calls.len())).await?;
        let out = pool.map(&run, &THUMBNAIL, calls.clone(), |k| batch[k].0.clone()).await?;
        Ok((out, pool.traffic()))
    });
    let pooled = pooled.await?;

    let results = match (&pooled, &sequential) {
        (Some((out, _)), _) => out,
        (None, Some(out)) => out,
        (None, None) => return Ok(()),
    };
    let mut rows = Vec::new();
    // Which files failed (their place in the batch, and the message that came back).
    let (mut shapes_ok, mut made, mut errors) = (true, 0, Vec::<(usize, String)>::new());
    for (k, ((name, bytes), result)) in batch.iter().zip(results).enumerate() {
        match result {
            Ok(thumb) => {
                made += 1;
                // Check the real output: the size written in the thumbnail's own PNG header.
                let written = png_size(&thumb.png);
                let expected = fit(thumb.input, (max_w, max_h));
                shapes_ok &= written == Some(expected) && thumb.output == expected;
                let preview = thumb.preview_rgba.clone();
                run.image(
                    format!("{name}: {} x {} -> {} x {}", thumb.input.0, thumb.input.1, thumb.output.0, thumb.output.1),
                    thumb.preview.0,
                    thumb.preview.1,
                    preview,
                );
                rows.push(vec![
                    name.clone(),
                    format!("{} x {}", thumb.input.0, thumb.input.1),
                    bytes.len().to_string(),
                    format!("{} x {}", thumb.output.0, thumb.output.1),
                    thumb.png.len().to_string(),
                    format!("{:.1} / {:.1} / {:.1}", thumb.decode_ms, thumb.resize_ms, thumb.encode_ms),
                ]);
            }
            Err(message) => {
                run.log("main", format!("{name} failed: {message}"));
                rows.push(vec![
                    name.clone(),
                    "?".into(),
                    bytes.len().to_string(),
                    "error".into(),
                    "-".into(),
                    message.clone(),
                ]);
                errors.push((k, message.clone()));
            }
        }
    }
    run.table(
        "Thumbnails",
        &["file", "input", "input bytes", "thumbnail", "thumbnail bytes", "decode / resize / encode ms"],
        rows,
    );
    // Every generated picture but the broken file must come out; a picked file may fail.
    let generated_made = (0..generated).all(|k| Some(k) == broken || errors.iter().all(|(e, _)| *e != k));
    run.verify(
        shapes_ok && generated_made,
        format!("{made} thumbnails fit within {max_w} x {max_h} with their proportions (checked in each PNG's header)"),
    );
    if broken.is_some() || !errors.is_empty() {
        let named = errors.iter().all(|(k, message)| message.starts_with(&format!("{}: ", batch[*k].0)));
        let broken_failed = broken.is_none_or(|b| errors.iter().any(|(k, _)| *k == b));
        let names: Vec<&str> = errors.iter().map(|(k, _)| batch[*k].0.as_str()).collect();
        run.verify(
            named && broken_failed && made + errors.len() == batch.len(),
            format!("every error came back with its file's name ({}); the others finished", names.join(", ")),
        );
    }
    if let (Some((pool_out, traffic)), Some(seq_out)) = (&pooled, &sequential) {
        // The same files give the same thumbnails wherever they are made (timings aside).
        let images = |out: &Vec<Result<Thumb, String>>| -> Vec<Option<(Vec<u8>, Vec<u8>)>> {
            out.iter().map(|r| r.as_ref().ok().map(|t| (t.png.clone(), t.preview_rgba.clone()))).collect()
        };
        run.verify(
            images(pool_out) == images(seq_out),
            "the pool's thumbnails are byte for byte the ones made one after another",
        );
        run.note(
            "pool",
            format!(
                "{} bytes crossed in {} binary messages, {:.1} ms in transit; {:.1} ms computing in the workers",
                traffic.bytes, traffic.messages, traffic.copy_ms, traffic.compute_ms
            ),
        );
        run.value("bytes", traffic.bytes);
        run.value("copy_ms", traffic.copy_ms);
        run.value("compute_ms", traffic.compute_ms);
    }
    for mode in ["sequential", "pool"] {
        run.result(mode, format!("{made} thumbnails, {} error(s)", errors.len()));
    }
    let sizes: Vec<_> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|t| json!({"name": t.name, "input": t.input, "output": t.output}))
        .collect();
    run.value("thumbnails", sizes);
    run.value("errors", errors.iter().map(|(k, m)| json!({"name": batch[*k].0, "error": m})).collect::<Vec<_>>());
    Ok(())
}

/// The size that fits within `bound` keeping the proportions; never larger than the original.
fn fit((w, h): (u32, u32), (max_w, max_h): (u32, u32)) -> (u32, u32) {
    let scale = (max_w as f64 / w as f64).min(max_h as f64 / h as f64);
    if scale >= 1.0 {
        return (w, h);
    }
    (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1))
}

/// What a worker does with one file: decode, fit within the box, encode; errors name the file.
fn thumbnail(call: Call) -> Result<Thumb, String> {
    let Call { name, data: bytes, bound, preview: preview_w } = call;

    let t0 = now_ms();
    let (width, height, rgba) = decode(&bytes).map_err(|e| format!("{name}: cannot decode: {e}"))?;
    let t1 = now_ms();
    let output = fit((width, height), bound);
    let thumb = resize(&rgba, (width, height), output);
    let t2 = now_ms();
    let png = encode_png(&thumb, output).map_err(|e| format!("{name}: cannot encode: {e}"))?;
    let t3 = now_ms();
    let preview = fit(output, (preview_w, preview_w));
    let small = resize(&thumb, output, preview);
    let answer = Thumb {
        name,
        input: (width, height),
        output,
        png,
        preview,
        preview_rgba: small,
        decode_ms: t1 - t0,
        resize_ms: t2 - t1,
        encode_ms: t3 - t2,
    };
    Ok(answer)
}

/// A worker makes thumbnails; it warms up on a small picture of our own.
pub static THUMBNAIL: Job<Call, Thumb> = Job {
    name: "image-resize/thumbnail",
    run: thumbnail,
    warm_up: || {
        let data = encode_png(&paint(Pattern::Rings, 96, 64), (96, 64)).unwrap_or_default();
        Call { name: "warm-up.png".into(), data, bound: (48, 32), preview: 16 }
    },
};

/// Tells the format by the file's first bytes (its "magic number"), not by its name.
fn decode(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => decode_png(bytes),
        [0xFF, 0xD8, 0xFF, ..] => decode_jpeg(bytes),
        _ => Err("not a PNG or JPEG file".into()),
    }
}

/// Area-averaging resize: each output pixel is the average of the source pixels it covers
/// (weighted by how much of each it covers), done across then down. Colours are weighted by
/// alpha so transparent pixels do not darken their neighbours.
fn resize(src: &[u8], (sw, sh): (u32, u32), (dw, dh): (u32, u32)) -> Vec<u8> {
    let (sw, sh, dw, dh) = (sw as usize, sh as usize, dw as usize, dh as usize);
    let across = weights(sw, dw);
    let down = weights(sh, dh);
    // Across: sh rows of dw premultiplied pixels.
    let mut mid = vec![0f32; dw * sh * 4];
    for y in 0..sh {
        let row = &src[y * sw * 4..(y + 1) * sw * 4];
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
            mid[(y * dw + x) * 4..(y * dw + x) * 4 + 4].copy_from_slice(&acc);
        }
    }
    // Down: combine rows, then undo the alpha weighting.
    let mut out = vec![0u8; dw * dh * 4];
    for (y, taps) in down.iter().enumerate() {
        for x in 0..dw {
            let mut acc = [0f32; 4];
            for &(j, wt) in taps {
                let m = &mid[(j * dw + x) * 4..(j * dw + x) * 4 + 4];
                for c in 0..4 {
                    acc[c] += m[c] * wt;
                }
            }
            let o = &mut out[(y * dw + x) * 4..(y * dw + x) * 4 + 4];
            let alpha = acc[3];
            if alpha > 0.0 {
                for c in 0..3 {
                    o[c] = (acc[c] / alpha).round().clamp(0.0, 255.0) as u8;
                }
            }
            o[3] = alpha.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
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
// CODE END

// ----- helpers the page does not show: the generated batch, the decoders, reading a PNG header -----

/// The generated pictures: name, size and pattern; `size` scales them all.
fn shapes(size: &str) -> Vec<(&'static str, u32, u32, Pattern)> {
    let scale = match size {
        "none" => return Vec::new(),
        "tiny" => 0.25,
        "small" => 0.5,
        "large" => 2.0,
        _ => 1.0,
    };
    let scaled = |n: u32| ((n as f64 * scale) as u32).max(1);
    [
        ("sunset.png", 1600, 1200, Pattern::Sunset),
        ("tower.png", 1200, 1600, Pattern::Rings),
        ("panorama.png", 3000, 750, Pattern::Hills),
        ("garden.png", 2000, 1000, Pattern::Hills),
        ("target.png", 1400, 1400, Pattern::Rings),
        ("icon.png", 500, 500, Pattern::Checker),
    ]
    .into_iter()
    .map(|(name, w, h, pattern)| (name, scaled(w), scaled(h), pattern))
    .collect()
}

/// A real PNG's header (signature and IHDR chunk), then bytes that are not image data at all.
fn broken_file() -> Vec<u8> {
    let real = encode_png(&paint(Pattern::Checker, 8, 8), (8, 8)).unwrap_or_default();
    let mut bytes = real[..33].to_vec();
    bytes.extend(b"\0\0\0\x40IDAT".iter().chain(b"this was never an image, just text pretending to be one.. "));
    bytes
}

#[derive(Clone, Copy)]
enum Pattern {
    Sunset,
    Rings,
    Hills,
    Checker,
}

/// Paints a recognizable RGBA picture of w x h pixels.
fn paint(pattern: Pattern, w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
            let rgb: [f32; 3] = match pattern {
                Pattern::Sunset => {
                    let sun = ((u - 0.5).powi(2) + ((v - 0.62) * 0.75).powi(2)).sqrt() < 0.12;
                    if v > 0.7 {
                        [20.0, 40.0 + 60.0 * (v - 0.7), 90.0 + 100.0 * v]
                    } else if sun {
                        [255.0, 220.0, 90.0]
                    } else {
                        [250.0 - 90.0 * (1.0 - v), 120.0 + 60.0 * v, 160.0 - 80.0 * v]
                    }
                }
                Pattern::Rings => {
                    let r = ((u - 0.5).powi(2) + (v - 0.5).powi(2)).sqrt();
                    let band = ((r * 24.0) as i32) % 3;
                    [[40.0, 120.0, 200.0], [240.0, 240.0, 240.0], [230.0, 80.0, 60.0]][band as usize]
                }
                Pattern::Hills => {
                    let ridge = 0.55 + 0.12 * wave(u * 3.0) + 0.06 * wave(u * 7.5 + 0.3);
                    if v > ridge {
                        [40.0 + 60.0 * v, 110.0 + 40.0 * wave(u * 1.1), 50.0]
                    } else {
                        [120.0 + 100.0 * v, 170.0 + 60.0 * v, 235.0]
                    }
                }
                Pattern::Checker => {
                    let dark = ((x * 8 / w) + (y * 8 / h)).is_multiple_of(2);
                    let dot = ((u - 0.5).powi(2) + (v - 0.5).powi(2)).sqrt() < 0.3;
                    match (dot, dark) {
                        (true, _) => [250.0, 190.0, 30.0],
                        (false, true) => [60.0, 60.0, 70.0],
                        (false, false) => [210.0, 210.0, 220.0],
                    }
                }
            };
            out.extend(rgb.map(|c| c.clamp(0.0, 255.0) as u8));
            out.push(255);
        }
    }
    out
}

// ----- a small PNG codec (decoding any standard PNG to RGBA, encoding RGBA), on fdeflate -----

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Decodes a PNG (grey, RGB, palette, with alpha or not, 1 to 16 bits, interlaced or not) to RGBA.
fn decode_png(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    if bytes.len() < 8 || &bytes[..8] != SIGNATURE {
        return Err("not a PNG file (its first bytes are wrong)".into());
    }
    let (mut header, mut palette, mut trns, mut data) = (None, Vec::new(), Vec::new(), Vec::new());
    let mut at = 8;
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
            b"IHDR" if body.len() == 13 => header = Some(body.to_vec()),
            b"PLTE" => palette = body.to_vec(),
            b"tRNS" => trns = body.to_vec(),
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let h = header.ok_or("no IHDR header chunk")?;
    let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let (w, ht, depth, color, interlaced) = (word(0), word(4), h[8], h[9], h[12] == 1);
    let channels = match (color, depth) {
        (0, 1 | 2 | 4 | 8 | 16) => 1,
        (3, 1 | 2 | 4 | 8) => 1,
        (4, 8 | 16) => 2,
        (2, 8 | 16) => 3,
        (6, 8 | 16) => 4,
        _ => return Err(format!("colour type {color} with {depth}-bit samples is not a valid PNG")),
    };
    allowed_size(w, ht)?;
    decoding_fits(bytes)?;
    let passes: &[(u32, u32, u32, u32)] = if interlaced {
        &[(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    } else {
        &[(0, 0, 1, 1)]
    };
    let bits = channels * depth as usize;
    let size =
        |pw: u32, ph: u32| if pw == 0 || ph == 0 { 0 } else { ph as usize * (1 + (pw as usize * bits).div_ceil(8)) };
    let sub_images: Vec<(u32, u32, u32, u32, u32, u32)> = passes
        .iter()
        .map(|&(x0, y0, dx, dy)| (x0, y0, dx, dy, (w + dx - 1 - x0) / dx, (ht + dy - 1 - y0) / dy))
        .collect();
    let raw = inflate(&data, sub_images.iter().map(|p| size(p.4, p.5)).sum())?;
    let mut rgba = vec![0u8; w as usize * ht as usize * 4];
    let mut offset = 0;
    for (x0, y0, dx, dy, pw, ph) in sub_images {
        if pw == 0 || ph == 0 {
            continue;
        }
        let stride = (pw as usize * bits).div_ceil(8);
        let rows = unfilter(&raw[offset..offset + size(pw, ph)], stride, bits.div_ceil(8))?;
        offset += size(pw, ph);
        for y in 0..ph as usize {
            let row = &rows[y * stride..(y + 1) * stride];
            let ty = (y0 + y as u32 * dy) as usize;
            if depth == 8 && (color == 6 || color == 2 && trns.is_empty()) {
                // The common case, 8-bit RGB(A): copy the samples straight across.
                for (x, p) in row.chunks_exact(channels).enumerate() {
                    let at = (ty * w as usize + (x0 + x as u32 * dx) as usize) * 4;
                    rgba[at..at + 3].copy_from_slice(&p[..3]);
                    rgba[at + 3] = if channels == 4 { p[3] } else { 255 };
                }
                continue;
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
        }
    }
    Ok((w, ht, rgba))
}

/// Refuses an image from its header's size, before any memory is set aside for its pixels.
fn allowed_size(w: u32, h: u32) -> Result<(), String> {
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!("{w} x {h} pixels is empty or more than {MAX_PIXELS}"));
    }
    Ok(())
}

/// The most memory one thumbnail job may hold at once. The engine's whole wasm memory is 1 GiB
/// (threads share it) and it also holds the batch; a job past this would trap it mid-run.
const JOB_MEMORY: u64 = 512 << 20;

/// What making one file's thumbnail holds at its peak, counted from the file's header.
#[derive(Debug)]
struct MemoryNeeds {
    size: (u32, u32),
    /// "16-bit RGBA PNG", "progressive JPEG", ...: what makes decoding cost what it does.
    what: String,
    /// Bytes held while decoding: the decoder's buffers at the file's real sample depth, and the pixels.
    decode: u64,
    /// Bytes held at the peak of the whole job, box included.
    peak: u64,
}

impl MemoryNeeds {
    fn refusal(&self, name: &str) -> String {
        let mb = |b: u64| b.div_ceil(1_000_000);
        format!(
            "{name} ({} x {} pixels, {}) would need about {} MB of memory to make its thumbnail; one image may use at most {} MB. Pick a smaller image (fewer pixels, or 8-bit colour).",
            self.size.0, self.size.1, self.what, mb(self.peak), mb(JOB_MEMORY)
        )
    }
}

/// Counts every buffer a job holds for `bytes` fitted within `bound`: the file (in the batch, in
/// the job's message, in the call), the decoder's buffers, the RGBA pixels, and the
/// resizer's (a float row buffer, the weights, the thumbnail). Errors when the header cannot be read.
fn memory_needed(bytes: &[u8], bound: (u32, u32)) -> Result<MemoryNeeds, String> {
    let file = bytes.len() as u64;
    let (size, what, decoder) = match bytes {
        [0x89, b'P', b'N', b'G', ..] => png_decoder_memory(bytes)?,
        [0xFF, 0xD8, 0xFF, ..] => jpeg_decoder_memory(bytes)?,
        _ => return Err("not a PNG or JPEG file".into()),
    };
    allowed_size(size.0, size.1)?;
    let (w, h) = (u64::from(size.0), u64::from(size.1));
    let pixels = w * h * 4;
    let decode = decoder + pixels;
    let (dw, dh) = fit(size, bound);
    let (dw, dh) = (u64::from(dw), u64::from(dh));
    let resize = pixels + dw * h * 16 + dw * dh * 4 * 2 + (w + h + 2 * (dw + dh)) * 8 + (dw + dh) * 24;
    let input = file * 3;
    Ok(MemoryNeeds { size, what, decode, peak: input + decode.max(resize) })
}

/// Refuses, before decoding, a file whose decoder alone would hold more than a job may (the run's
/// check also counts the resizing; this guards jobs that come without that check).
fn decoding_fits(bytes: &[u8]) -> Result<(), String> {
    match memory_needed(bytes, (1, 1)) {
        Ok(needs) if needs.decode > JOB_MEMORY => Err(needs.refusal("the image")),
        _ => Ok(()),
    }
}

/// A PNG's decoding buffers beyond the RGBA pixels: the compressed data, the inflated rows at
/// the file's bit depth, and the unfiltered rows of the largest pass.
fn png_decoder_memory(bytes: &[u8]) -> Result<((u32, u32), String, u64), String> {
    let h = bytes.get(8..33).filter(|h| &h[4..8] == b"IHDR").ok_or("no IHDR header chunk")?;
    let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let (w, ht, depth, color, interlaced) = (word(8), word(12), h[16], h[17], h[20] == 1);
    let (channels, kind) = match color {
        0 => (1, "grey"),
        2 => (3, "RGB"),
        3 => (1, "palette"),
        4 => (2, "grey and alpha"),
        6 => (4, "RGBA"),
        _ => return Err(format!("colour type {color} is not a valid PNG")),
    };
    let bits = channels * u64::from(depth);
    let passes: &[(u32, u32, u32, u32)] = if interlaced {
        &[(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    } else {
        &[(0, 0, 1, 1)]
    };
    let (mut raw, mut largest) = (0u64, 0u64);
    for &(x0, y0, dx, dy) in passes {
        let (pw, ph) = (u64::from(w.saturating_add(dx - 1 - x0) / dx), u64::from(ht.saturating_add(dy - 1 - y0) / dy));
        if pw == 0 || ph == 0 {
            continue;
        }
        let stride = (pw * bits).div_ceil(8);
        raw += ph * (1 + stride);
        largest = largest.max((ph + 1) * stride);
    }
    let what = format!("{depth}-bit {kind} PNG{}", if interlaced { ", interlaced" } else { "" });
    Ok(((w, ht), what, bytes.len() as u64 + raw + largest))
}

/// A JPEG's decoding buffers beyond the RGBA pixels: a progressive file keeps every component's
/// coefficients (16 bits a sample) until its last scan, and a photo to turn upright is copied once.
fn jpeg_decoder_memory(bytes: &[u8]) -> Result<((u32, u32), String, u64), String> {
    use zune_jpeg::zune_core::{bytestream::ZCursor, options::DecoderOptions};
    let options = DecoderOptions::default().set_max_width(usize::from(u16::MAX)).set_max_height(usize::from(u16::MAX));
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| format!("a damaged JPEG header ({e})"))?;
    let info = decoder.info().ok_or("a JPEG without a size")?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let pixels = u64::from(w) * u64::from(h);
    let progressive = info.sof.is_progressive();
    let coefficients = if progressive { pixels * 2 * u64::from(info.components) } else { 0 };
    let turned = decoder.exif().and_then(|tiff| exif_orientation(tiff)).is_some_and(|o| (2..=8).contains(&o));
    let what = match (progressive, turned) {
        (true, true) => "progressive JPEG, turned upright",
        (true, false) => "progressive JPEG",
        (false, true) => "JPEG, turned upright",
        (false, false) => "JPEG",
    };
    Ok(((w, h), what.to_string(), coefficients + if turned { pixels * 4 } else { 0 }))
}

/// Decodes a JPEG (baseline or progressive; grey, colour or CMYK) to RGBA with zune-jpeg.
fn decode_jpeg(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    use zune_jpeg::zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    // zune-jpeg's own cap is 16384 pixels a side; MAX_PIXELS is ours, so a long panorama passes.
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGBA)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| format!("a damaged JPEG header ({e})"))?;
    let (w, h) = decoder.dimensions().ok_or("a JPEG without a size")?;
    let (w, h) = (w as u32, h as u32);
    allowed_size(w, h)?;
    decoding_fits(bytes)?;
    let rgba = decoder.decode().map_err(|e| format!("damaged JPEG data ({e})"))?;
    let orientation = decoder.exif().and_then(|tiff| exif_orientation(tiff)).unwrap_or(1);
    Ok(upright(orientation, w, h, rgba))
}

/// The EXIF "Orientation" tag (0x0112, 1 to 8) of a JPEG's TIFF block, if it has one. Cameras
/// store a photo as the sensor saw it and say here how to turn it for viewing.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
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
fn upright(o: u16, w: u32, h: u32, rgba: Vec<u8>) -> (u32, u32, Vec<u8>) {
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

/// Undoes PNG's per-row filters: every row starts with a filter byte, then `stride` bytes.
fn unfilter(raw: &[u8], stride: usize, bpp: usize) -> Result<Vec<u8>, String> {
    let rows = raw.len() / (stride + 1);
    let mut out = vec![0u8; (rows + 1) * stride]; // row 0 stays zero: the "row above" the first
    for y in 0..rows {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let (above, below) = out.split_at_mut((y + 1) * stride);
        let (prev, cur) = (&above[y * stride..], &mut below[..stride]);
        let line = &line[1..];
        match raw[y * (stride + 1)] {
            0 => cur.copy_from_slice(line),
            1 => {
                cur[..bpp].copy_from_slice(&line[..bpp]);
                for i in bpp..stride {
                    cur[i] = line[i].wrapping_add(cur[i - bpp]);
                }
            }
            2 => cur.iter_mut().zip(line.iter().zip(prev)).for_each(|(c, (l, p))| *c = l.wrapping_add(*p)),
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
    }
    out.drain(..stride);
    Ok(out)
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
fn encode_png(rgba: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
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
    let mut out = SIGNATURE.to_vec();
    let mut header = Vec::new();
    header.extend(w.to_be_bytes());
    header.extend(h.to_be_bytes());
    header.extend([8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, standard filters, not interlaced
    for (kind, body) in [(b"IHDR", header), (b"IDAT", fdeflate::compress_to_vec(&filtered)), (b"IEND", Vec::new())] {
        out.extend((body.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(&body);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    Ok(out)
}

/// The CRC-32 every PNG chunk ends with.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
        }
    }
    !crc
}

/// A smooth-looking wave between -1 and 1 with period 1 (cheaper than sin, which needs libm in wasm).
fn wave(t: f32) -> f32 {
    let f = t - t.floor();
    let tri = 4.0 * (f - 0.5).abs() - 1.0;
    tri * (1.5 - 0.5 * tri * tri)
}

/// Width and height from a PNG's IHDR chunk (bytes 16..24), without decoding the image.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    Some((word(16), word(20)))
}

#[cfg(test)]
mod tests {
    use crate::base64;
    use super::*;
    use crate::report::{Report, RunStatus};
    use crate::runner::testing::{rejected_native, run_native};
    use jpeg_encoder::ColorType;

    fn run(params: serde_json::Value) -> Report {
        run_native("image-resize", params, false)
    }

    #[test]
    fn thumbnails_fit_for_every_shape_and_the_broken_file_fails_alone() {
        let report = run(json!({"size": "tiny", "max_w": 200, "max_h": 150, "preview": 60}));
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.checks.len(), 3);
        let sizes: Vec<(String, Vec<u64>, Vec<u64>)> = report.values["thumbnails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let pair = |k: &str| t[k].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
                (t["name"].as_str().unwrap().to_string(), pair("input"), pair("output"))
            })
            .collect();
        let expected = [
            ("sunset.png", [400, 300], [200, 150]),  // landscape 4:3: both sides touch the box
            ("tower.png", [300, 400], [113, 150]),   // portrait: the height decides
            ("panorama.png", [750, 187], [200, 50]), // wide: the width decides
            ("garden.png", [500, 250], [200, 100]),
            ("target.png", [350, 350], [150, 150]),
            ("icon.png", [125, 125], [125, 125]), // already inside the box: kept
        ];
        assert_eq!(sizes.len(), 6);
        for ((name, input, output), (en, ei, eo)) in sizes.iter().zip(expected) {
            assert_eq!((name.as_str(), input.as_slice(), output.as_slice()), (en, &ei[..], &eo[..]));
        }
        let errors = report.values["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0]["name"], "broken.png");
        assert!(errors[0]["error"].as_str().unwrap().starts_with("broken.png: cannot decode"), "{errors:?}");
        // Previews are shown, each at most 60 px wide, with the right number of bytes.
        assert_eq!(report.images.len(), 6);
        assert!(report.images.iter().all(|i| i.width <= 60 && i.rgba.len() == (i.width * i.height * 4) as usize));
        assert!(report.values["bytes"].as_u64().unwrap() > 10_000);
    }

    #[test]
    fn fit_keeps_proportions_and_never_enlarges() {
        assert_eq!(fit((1600, 1200), (800, 600)), (800, 600));
        assert_eq!(fit((1200, 1600), (800, 600)), (450, 600));
        assert_eq!(fit((3000, 750), (800, 600)), (800, 200));
        assert_eq!(fit((500, 500), (800, 600)), (500, 500));
        assert_eq!(fit((10_000, 3), (800, 600)), (800, 1));
    }

    #[test]
    fn resize_averages_areas_and_png_round_trips() {
        // Two columns, black and white, shrunk to one pixel: mid grey.
        let src = [0, 0, 0, 255, 255, 255, 255, 255];
        assert_eq!(resize(&src, (2, 1), (1, 1)), vec![128, 128, 128, 255]);
        let picture = paint(Pattern::Rings, 37, 23);
        let png = encode_png(&picture, (37, 23)).unwrap();
        assert_eq!(png_size(&png), Some((37, 23)));
        assert_eq!(decode_png(&png).unwrap(), (37, 23, picture));
    }

    /// Our decoder reads what the png crate writes, in every colour type and depth.
    #[test]
    fn decodes_png_crate_output_of_every_kind() {
        use png::{BitDepth, ColorType};
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
            let mut encoder = png::Encoder::new(&mut file, w, h);
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
            let mut decoder = png::Decoder::new(std::io::Cursor::new(&file));
            decoder.set_transformations(png::Transformations::normalize_to_color8() | png::Transformations::ALPHA);
            let mut reader = decoder.read_info().unwrap();
            let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
            let frame = reader.next_frame(&mut buffer).unwrap();
            let reference: Vec<u8> = match frame.color_type {
                ColorType::GrayscaleAlpha => buffer.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect(),
                _ => buffer,
            };
            let (dw, dh, ours) = decode_png(&file).unwrap_or_else(|e| panic!("{color:?} {depth:?}: {e}"));
            assert_eq!((dw, dh), (w, h));
            assert_eq!(ours, reference, "{color:?} {depth:?}");
        }
    }

    /// The png crate reads what our encoder writes.
    #[test]
    fn png_crate_reads_our_output() {
        let picture = paint(Pattern::Sunset, 41, 29);
        let file = encode_png(&picture, (41, 29)).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(&file)).read_info().unwrap();
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
        let mut file = encode_png(&picture, (w as u32, h as u32)).unwrap();
        // Rebuild the file with the interlace flag set and the pass-by-pass data.
        file.truncate(8);
        let mut header = Vec::new();
        header.extend((w as u32).to_be_bytes());
        header.extend((h as u32).to_be_bytes());
        header.extend([8, 6, 0, 0, 1]);
        for (kind, body) in [(b"IHDR", header), (b"IDAT", fdeflate::compress_to_vec(&raw)), (b"IEND", Vec::new())] {
            file.extend((body.len() as u32).to_be_bytes());
            let start = file.len();
            file.extend(kind);
            file.extend(&body);
            let crc = crc32(&file[start..]);
            file.extend(crc.to_be_bytes());
        }
        assert_eq!(decode_png(&file).unwrap(), (w as u32, h as u32, picture));
    }

    #[test]
    fn damaged_files_give_reasons() {
        let file = encode_png(&paint(Pattern::Hills, 20, 10), (20, 10)).unwrap();
        assert!(decode_png(b"GIF89a...").unwrap_err().contains("not a PNG"));
        assert!(decode_png(&file[..file.len() - 30]).is_err());
        let mut flipped = file.clone();
        flipped[45] ^= 0xFF;
        assert!(decode_png(&flipped).unwrap_err().contains("checksum"));
    }

    type Encoder<'a> = jpeg_encoder::Encoder<&'a mut Vec<u8>>;

    /// Pixels as a JPEG made by an independent encoder (RGBA, or one grey byte a pixel).
    fn jpeg(pixels: &[u8], (w, h): (u32, u32), setup: impl FnOnce(&mut Encoder)) -> Vec<u8> {
        let color = if pixels.len() == (w * h) as usize { ColorType::Luma } else { ColorType::Rgba };
        let mut file = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut file, 95);
        setup(&mut encoder);
        encoder.encode(pixels, w as u16, h as u16, color).unwrap();
        file
    }

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
    fn jpegs_too_large_damaged_or_other_formats_are_refused() {
        let mut file = jpeg(&paint(Pattern::Rings, 16, 16), (16, 16), |_| {});
        // The frame header (SOF0, FF C0) holds the height and the width: claim 60000 x 60000.
        let sof = file.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
        file[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
        assert_eq!(decode(&file).unwrap_err(), "60000 x 60000 pixels is empty or more than 50000000");
        assert!(decode(&file[..sof]).unwrap_err().contains("JPEG"), "cut before its frame header");
        assert_eq!(decode(b"hello, this is text").unwrap_err(), "not a PNG or JPEG file");
        assert_eq!(decode(b"GIF89a").unwrap_err(), "not a PNG or JPEG file");
        assert_eq!(decode(b"").unwrap_err(), "not a PNG or JPEG file");
    }

    /// A PNG with a header and no pixels: enough for the memory count.
    fn png_header((w, h): (u32, u32), depth: u8, color: u8) -> Vec<u8> {
        let mut body = [w.to_be_bytes(), h.to_be_bytes()].concat();
        body.extend([depth, color, 0, 0, 0]);
        let mut chunk = b"IHDR".to_vec();
        chunk.extend(&body);
        let crc = crc32(&chunk);
        let end = [0, 0, 0, 0, b'I', b'E', b'N', b'D'];
        let end_crc = crc32(b"IEND").to_be_bytes();
        [SIGNATURE.as_slice(), &13u32.to_be_bytes(), &chunk, &crc.to_be_bytes(), &end, &end_crc].concat()
    }

    #[test]
    fn images_that_would_outgrow_memory_are_refused_from_their_header() {
        // Issue 15: 7071 x 7071 16-bit RGBA, under the pixel cap, outgrew the engine's 1 GiB.
        let huge = png_header((7071, 7071), 16, 6);
        let needs = memory_needed(&huge, (800, 600)).unwrap();
        // Inflated rows (8 bytes a pixel), the unfiltered copy, and the 8-bit RGBA pixels.
        assert!(needs.decode > 7071 * 7071 * 20, "{needs:?}");
        assert!(needs.peak > JOB_MEMORY);
        // The same pixels at 8 bits of grey need far less, and pass.
        let grey = memory_needed(&png_header((7071, 7071), 8, 0), (800, 600)).unwrap();
        assert!(grey.peak < JOB_MEMORY && grey.decode < needs.decode / 2, "{grey:?}");
        // A bigger box means bigger resizing buffers.
        let boxed = memory_needed(&png_header((4000, 4000), 8, 6), (4000, 4000)).unwrap();
        assert!(boxed.peak > memory_needed(&png_header((4000, 4000), 8, 6), (800, 600)).unwrap().peak);

        // The run is refused with a field error before any work starts...
        let file = |name: &str, bytes: &[u8]| json!({"name": name, "data": base64::encode(bytes)});
        let files = json!([file("tiny.png", &png_header((9, 9), 8, 6)), file("deep.png", &huge)]);
        let errors = rejected_native("image-resize", json!({ "files": files }));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "files");
        assert!(
            errors[0].message.starts_with("deep.png (7071 x 7071 pixels, 16-bit RGBA PNG) would need about "),
            "{}",
            errors[0].message
        );
        assert!(errors[0].message.contains("at most 537 MB"), "{}", errors[0].message);
        // ...and a job that comes without the check is refused before decoding.
        let refused = decode(&huge).unwrap_err();
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

    #[test]
    fn picked_files_join_the_batch_and_a_bad_one_fails_alone() {
        let photo = jpeg(&paint(Pattern::Hills, 64, 48), (64, 48), |_| {});
        let drawing = encode_png(&paint(Pattern::Checker, 30, 60), (30, 60)).unwrap();
        let file = |name: &str, bytes: &[u8]| json!({"name": name, "data": base64::encode(bytes)});
        let files = [file("photo.jpg", &photo), file("notes.txt", b"shopping list"), file("drawing.png", &drawing)];
        let report = run(json!({"size": "tiny", "broken": true, "files": files, "max_w": 40, "max_h": 40}));
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let thumbnails = report.values["thumbnails"].as_array().unwrap();
        let names: Vec<&str> = thumbnails.iter().map(|t| t["name"].as_str().unwrap()).collect();
        let generated = ["sunset.png", "tower.png", "panorama.png", "garden.png", "target.png", "icon.png"];
        assert_eq!(names, [&generated[..], &["photo.jpg", "drawing.png"]].concat());
        assert_eq!((&thumbnails[6]["input"], &thumbnails[6]["output"]), (&json!([64, 48]), &json!([40, 30])));
        assert_eq!(thumbnails[7]["output"], json!([20, 40]));
        let errors: Vec<(&str, &str)> = report.values["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), e["error"].as_str().unwrap()))
            .collect();
        assert_eq!(errors[1], ("notes.txt", "notes.txt: cannot decode: not a PNG or JPEG file"));
        assert_eq!(errors[0].0, "broken.png");
        assert_eq!(report.modes.iter().filter_map(|m| m.result.as_deref()).next(), Some("8 thumbnails, 2 error(s)"));
        // The report lists the files, not their bytes.
        let listed = json!([{"name": "photo.jpg", "size": photo.len()}, {"name": "notes.txt", "size": 13}, {"name": "drawing.png", "size": drawing.len()}]);
        assert_eq!(report.params["files"], listed);
    }

    #[test]
    fn only_picked_files_is_fine_but_nothing_at_all_is_refused() {
        let drawing = encode_png(&paint(Pattern::Rings, 9, 9), (9, 9)).unwrap();
        let files = json!([{"name": "a.png", "data": base64::encode(&drawing)}]);
        let report = run(json!({"size": "none", "broken": false, "files": files}));
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["thumbnails"][0]["output"], json!([9, 9]));
        let errors = rejected_native("image-resize", json!({"size": "none", "broken": false}));
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["files"]);
    }
}
