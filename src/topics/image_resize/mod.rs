//! image-resize: a pool of isolated workers decodes PNG and JPEG files (pictures made in the page
//! and files the learner picks), fits them within a box and encodes thumbnails; a file that cannot
//! be decoded reports its error while the others finish.

use serde_json::json;

use crate::imaging::memory::{memory_needed, JOB_MEMORY};
use crate::imaging::NOT_AN_IMAGE;
use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "image-resize",
        title: "Thumbnails on a process pool",
        chapter: Chapter::Processes,
        summary: "Workers decode images (generated ones, and PNG or JPEG files you pick), shrink them to fit within 800 x 600 and encode thumbnails; a broken file fails alone.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("max_w", "Box width", 800, 16, 4000).help("Thumbnails fit within this width..."),
            Param::int("max_h", "Box height", 600, 16, 4000).help("...and this height; proportions are kept."),
            Param::int("workers", "Workers", 2, 1, 8).per_core(1),
            Param::choice("size", "Generated images", "normal", &[
                ("none", "none (only your files)"),
                ("tiny", "tiny (quarter size)"),
                ("small", "small (half size)"),
                ("normal", "normal"),
                ("large", "large (double size)"),
            ])
            .help("Normal: 1600 x 1200, 1200 x 1600, 3000 x 750, 2000 x 1000, 1400 x 1400, 1800 x 1100 and 500 x 500 pixels."),
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
        code: crate::topic_code!("image_resize/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| something_to_resize(&p.read()),
        run: |run, params| Box::pin(run_image_resize(run, params.read())),
        needs: |p| Needs::workers(p.read::<ImageResizeParams>().workers),
        reads: reads::<ImageResizeParams>,
    }
}

/// Without generated pictures, the broken file or picked files, there would be nothing to do.
/// A picked file whose thumbnail would need more memory than a job may use is refused here, from
/// its header, before any work starts (rather than trapping the engine mid-run).
fn something_to_resize(p: &ImageResizeParams) -> Result<(), FieldError> {
    if p.size == "none" && !p.broken && p.files.is_empty() {
        return Err(FieldError::new("files", "Pick some images, or choose generated ones: there is nothing to resize"));
    }
    let bound = (p.max_w, p.max_h);
    for file in p.files.decode() {
        // A file that is not an image at all fails alone in its worker, as Pool.map's caught error
        // would; an image whose header cannot be read is refused here: what the budget cannot
        // count never reaches a decoder.
        let needs = match memory_needed(&file.bytes, bound) {
            Ok(needs) => needs,
            Err(why) if why == NOT_AN_IMAGE => continue,
            Err(why) => return Err(FieldError::new("files", format!("{}: {why}", crate::params::cut(&file.name)))),
        };
        if needs.peak > JOB_MEMORY {
            return Err(FieldError::new("files", needs.refusal(&crate::params::cut(&file.name))));
        }
    }
    Ok(())
}

// CODE START
use serde::Deserialize;

use crate::clock::now_ms;
use crate::engines::tasks::Pacer;
use crate::engines::workers::{Job, Pool};
use crate::imaging::{decode, fit, paint, png, resize, Header, Pattern};
use crate::report::SpanKind;
use crate::params::Files;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageResizeParams {
    max_w: u32,
    max_h: u32,
    workers: usize,
    size: String,
    broken: bool,
    files: Files,
    preview: u32,
}

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

async fn run_image_resize(run: Run, p: ImageResizeParams) -> RunResult<()> {
    let (max_w, max_h) = (p.max_w, p.max_h);
    // Make the batch here (as a page would), one picture at a time so Stop is heard in between.
    let mut pacer = Pacer::new(&run);
    let mut batch = Vec::new();
    for (name, w, h, pattern) in shapes(&p.size) {
        let start = run.now();
        batch.push((name.to_string(), png::encode(&paint(pattern, w, h), (w, h))?));
        run.span("main", format!("make {name}"), SpanKind::Run, start, run.now());
        pacer.tick(&run).await?;
    }
    let broken = p.broken.then(|| {
        batch.push(("broken.png".to_string(), broken_file()));
        batch.len() - 1
    });
    let generated = batch.len();
    // Then the learner's own files (PNG, JPEG, or anything else), handled exactly like ours.
    batch.extend(p.files.decode().into_iter().map(|file| (file.name, file.bytes)));
    let preview = p.preview;
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

    // ...and on a pool, where every idle worker takes the next file, the costliest first (pixels,
    // read from each header): the cheap ones then even out the workers' ends.
    let pooled = run.measure("pool", async {
        let pool = Pool::start(&run, p.workers.min(calls.len())).await?;
        let out = pool.map_largest_first(&run, &THUMBNAIL, calls.clone(), cost, |k| batch[k].0.clone()).await?;
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
                let written = png::size(&thumb.png);
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


/// What a file costs, from its header alone (0 when unreadable): every pixel it has is decoded
/// and averaged, every pixel of its thumbnail encoded (each about as costly). A picture already
/// within the box costs much less than its neighbours in the batch.
fn cost(call: &Call) -> u64 {
    Header::read(&call.data).map_or(0, |header| {
        let area = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
        area(header.size()) + area(fit(header.size(), call.bound))
    })
}

/// What a worker does with one file: decode, fit within the box, encode; errors name the file.
fn thumbnail(call: Call) -> Result<Thumb, String> {
    let Call { name, data: bytes, bound, preview: preview_w } = call;

    let t0 = now_ms();
    let (width, height, rgba) = decode(&bytes).map_err(|e| format!("{name}: cannot decode: {e}"))?;
    let t1 = now_ms();
    let output = fit((width, height), bound);
    // A picture already within the box is kept as it is (as Pillow's thumbnail() keeps it).
    let thumb = if output == (width, height) { rgba } else { resize(&rgba, (width, height), output) };
    let t2 = now_ms();
    let png = png::encode(&thumb, output).map_err(|e| format!("{name}: cannot encode: {e}"))?;
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

/// A worker makes thumbnails; it warms up on a picture of our own, large enough (300,000 pixels)
/// that the browser optimizes the decoder, resampler and encoder before the first timed file:
/// a band of each generated pattern, as they may take other paths through the PNG codec (each
/// row's filter is chosen by its content). Code first run hot by a timed file would be compiled
/// beside the timed work, on a core the other worker needs, and run unoptimized meanwhile.
pub static THUMBNAIL: Job<Call, Thumb> = Job {
    name: "image-resize/thumbnail",
    run: thumbnail,
    warm_up: || {
        let patterns = [Pattern::Sunset, Pattern::Rings, Pattern::Hills, Pattern::Checker];
        let rgba: Vec<u8> = patterns.into_iter().flat_map(|pattern| paint(pattern, 640, 120)).collect();
        let data = png::encode(&rgba, (640, 480)).unwrap_or_default();
        Call { name: "warm-up.png".into(), data, bound: (320, 240), preview: 16 }
    },
};
// CODE END

// ----- helpers the page does not show: the generated batch -----

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
        ("harbor.png", 1800, 1100, Pattern::Sunset),
        ("icon.png", 500, 500, Pattern::Checker),
    ]
    .into_iter()
    .map(|(name, w, h, pattern)| (name, scaled(w), scaled(h), pattern))
    .collect()
}

/// A real PNG's header (signature and IHDR chunk), then bytes that are not image data at all.
fn broken_file() -> Vec<u8> {
    let real = png::encode(&paint(Pattern::Checker, 8, 8), (8, 8)).unwrap_or_default();
    let mut bytes = real[..33].to_vec();
    bytes.extend(b"\0\0\0\x40IDAT".iter().chain(b"this was never an image, just text pretending to be one.. "));
    bytes
}

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            expect_eq("thumbnails", after(out, "thumbnails ")?, 7)?;
            expect_eq("broken files", count_lines(out, "broken.png cannot identify image file"), 1)
        },
        no_constant: &[
            "size",    // the Python makes its own images (its sizes are in the program)
            "files",   // the learner's files are the program's arguments
            "preview", // how the page shows thumbnails
        ],
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::base64;
    use super::*;
    use crate::report::{Report, RunStatus};
    use crate::runner::testing::{rejected_native, run_native};
    use crate::imaging::test_files::{jpeg, png_header};

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
            ("harbor.png", [450, 275], [200, 122]),
            ("icon.png", [125, 125], [125, 125]), // already inside the box: kept
        ];
        assert_eq!(sizes.len(), 7);
        for ((name, input, output), (en, ei, eo)) in sizes.iter().zip(expected) {
            assert_eq!((name.as_str(), input.as_slice(), output.as_slice()), (en, &ei[..], &eo[..]));
        }
        let errors = report.values["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0]["name"], "broken.png");
        assert!(errors[0]["error"].as_str().unwrap().starts_with("broken.png: cannot decode"), "{errors:?}");
        // Previews are shown, each at most 60 px wide, with the right number of bytes.
        assert_eq!(report.images.len(), 7);
        assert!(report.images.iter().all(|i| i.width <= 60 && i.rgba.len() == (i.width * i.height * 4) as usize));
        assert!(report.values["bytes"].as_u64().unwrap() > 10_000);
    }

    #[test]
    fn the_pool_takes_the_costliest_pictures_first() {
        let report = run(json!({"size": "tiny", "max_w": 100, "max_h": 100, "workers": 2}));
        let mut jobs: Vec<_> = report
            .spans
            .iter()
            .filter(|s| s.mode == "pool" && s.kind == SpanKind::Run && s.lane.starts_with("worker"))
            .collect();
        jobs.sort_by(|a, b| a.start.total_cmp(&b.start));
        let order: Vec<String> = jobs.iter().map(|s| s.label.clone()).collect();
        // Two workers take their first pictures at once, and the last two at about the same time.
        let sorted = |names: &[String]| {
            let mut names = names.to_vec();
            names.sort();
            names
        };
        assert_eq!(order.len(), 8, "{order:?}");
        // tiny, in a 100 x 100 box: panorama 750 x 187 (thumbnail 100 x 25) and target 350 x 350
        // (100 x 100) cost the most, garden 500 x 250 (100 x 50) next; the icon and the broken
        // file the least.
        assert_eq!(sorted(&order[..2]), ["panorama.png", "target.png"], "{order:?}");
        assert_eq!(sorted(&order[6..]), ["broken.png", "icon.png"], "{order:?}");
    }

    #[test]
    fn a_file_that_would_outgrow_memory_is_a_field_error_before_any_work() {
        let huge = png_header((7071, 7071), 16, 6);
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
    }

    /// Crafted PNGs that once passed the budget (it read the first bytes, the decoder took the
    /// last IHDR anywhere): each is refused by its field, before any work.
    #[test]
    fn a_png_whose_header_cannot_be_counted_is_a_field_error() {
        use crate::imaging::test_files::{chunk, ihdr, png_of};
        let huge = ihdr((7071, 7071), 16, 6);
        let end = chunk(b"IEND", &[]);
        let mut cut_header = png_of(&[ihdr((9, 9), 8, 6)]);
        cut_header.truncate(20);
        let mut damaged_header = png_header((9, 9), 8, 6);
        damaged_header[20] ^= 1;
        let crafted = [
            ("later.png", png_of(&[chunk(b"tEXt", b"a\0b"), huge.clone(), end.clone()]), "the first chunk is not"),
            ("twice.png", png_of(&[ihdr((9, 9), 8, 6), huge.clone(), end.clone()]), "a second IHDR"),
            ("cut.png", cut_header, "the file ends inside its IHDR"),
            ("damaged.png", damaged_header, "the IHDR chunk is damaged"),
            ("odd.png", png_of(&[ihdr((9, 9), 8, 5), end.clone()]), "colour type 5"),
        ];
        for (name, bytes, why) in crafted {
            let files = json!([{"name": name, "data": base64::encode(&bytes)}]);
            let errors = rejected_native("image-resize", json!({ "files": files }));
            assert_eq!(errors.len(), 1, "{name}: {errors:?}");
            assert_eq!(errors[0].field, "files");
            assert!(errors[0].message.starts_with(&format!("{name}: {why}")), "{name}: {}", errors[0].message);
            // A job that comes without the check is refused by the decoder as well.
            assert!(decode(&bytes).unwrap_err().starts_with(why), "{name}");
        }
    }

    #[test]
    fn picked_files_join_the_batch_and_a_bad_one_fails_alone() {
        let photo = jpeg(&paint(Pattern::Hills, 64, 48), (64, 48), |_| {});
        let drawing = png::encode(&paint(Pattern::Checker, 30, 60), (30, 60)).unwrap();
        let file = |name: &str, bytes: &[u8]| json!({"name": name, "data": base64::encode(bytes)});
        let files = [file("photo.jpg", &photo), file("notes.txt", b"shopping list"), file("drawing.png", &drawing)];
        let report = run(json!({"size": "tiny", "broken": true, "files": files, "max_w": 40, "max_h": 40}));
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let thumbnails = report.values["thumbnails"].as_array().unwrap();
        let names: Vec<&str> = thumbnails.iter().map(|t| t["name"].as_str().unwrap()).collect();
        let generated = ["sunset.png", "tower.png", "panorama.png", "garden.png", "target.png", "harbor.png", "icon.png"];
        assert_eq!(names, [&generated[..], &["photo.jpg", "drawing.png"]].concat());
        assert_eq!((&thumbnails[7]["input"], &thumbnails[7]["output"]), (&json!([64, 48]), &json!([40, 30])));
        assert_eq!(thumbnails[8]["output"], json!([20, 40]));
        let errors: Vec<(&str, &str)> = report.values["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), e["error"].as_str().unwrap()))
            .collect();
        assert_eq!(errors[1], ("notes.txt", "notes.txt: cannot decode: not a PNG or JPEG file"));
        assert_eq!(errors[0].0, "broken.png");
        assert_eq!(report.modes.iter().filter_map(|m| m.result.as_deref()).next(), Some("9 thumbnails, 2 error(s)"));
        // The report lists the files, not their bytes.
        let listed = json!([{"name": "photo.jpg", "size": photo.len()}, {"name": "notes.txt", "size": 13}, {"name": "drawing.png", "size": drawing.len()}]);
        assert_eq!(report.params["files"], listed);
    }

    #[test]
    fn only_picked_files_is_fine_but_nothing_at_all_is_refused() {
        let drawing = png::encode(&paint(Pattern::Rings, 9, 9), (9, 9)).unwrap();
        let files = json!([{"name": "a.png", "data": base64::encode(&drawing)}]);
        let report = run(json!({"size": "none", "broken": false, "files": files}));
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["thumbnails"][0]["output"], json!([9, 9]));
        let errors = rejected_native("image-resize", json!({"size": "none", "broken": false}));
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["files"]);
    }
}
