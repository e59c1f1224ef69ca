//! Property tests of the image decoders (image-resize's PNG and JPEG): arbitrary bytes, and small
//! valid files with bytes flipped, overwritten, cut or inserted (PNG chunks get their checksums
//! made right again, so the damage reaches past the checksum test). What must hold: nothing
//! panics; decoding never holds more memory than the budget counted from the same header (this
//! test's allocator measures it), and a file the budget refuses is refused; every case ends
//! within a few seconds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use imaging::memory::{memory_needed, JOB_MEMORY};
use imaging::{decode, paint, png, Pattern};
use proptest::prelude::*;

thread_local! {
    // Bytes this thread holds, and the most it held since the last reset (const: no allocation).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn held(change: isize) {
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + change);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

/// The system allocator, counting what each thread holds.
struct Counting;

// SAFETY: every call goes straight to `System`, with the caller's own arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        held(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        held(layout.size() as isize);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        held(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        held(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What a case may hold beyond the budget's count: the decoders' small tables and the error text.
const SLACK: u64 = 1 << 20;
const CASE_TIME: Duration = Duration::from_secs(5);

/// Decodes `bytes` and checks what must hold, measuring the memory held while decoding.
fn decodes_within_budget(bytes: &[u8]) -> Result<(), TestCaseError> {
    let budget = memory_needed(bytes, (1, 1));
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let started = Instant::now();
    let decoded = decode(bytes);
    let took = started.elapsed();
    let held = (PEAK.with(Cell::get) - base).max(0) as u64;
    prop_assert!(took < CASE_TIME, "decoding took {took:?}");
    match &budget {
        Ok(needs) => {
            prop_assert!(held <= needs.decode + SLACK, "held {held} bytes, the budget counted {}", needs.decode);
            if needs.decode > JOB_MEMORY {
                prop_assert!(decoded.is_err(), "a file over the budget was decoded");
            }
        }
        // What the budget cannot read, the decoder refuses without allocating for pixels.
        Err(why) => {
            prop_assert!(decoded.is_err(), "the budget could not read the header ({why}) but the decoder did");
            prop_assert!(held <= bytes.len() as u64 + SLACK, "held {held} bytes for a file the budget refused");
        }
    }
    if let Ok((w, h, rgba)) = decoded {
        prop_assert_eq!(rgba.len() as u64, u64::from(w) * u64::from(h) * 4);
    }
    Ok(())
}

/// Small valid files of every kind the decoders take: PNGs (ours, and the png crate's in several
/// colour types, one interlaced) and JPEGs (baseline, progressive, grey, restart markers).
fn valid_files() -> &'static [Vec<u8>] {
    static FILES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FILES.get_or_init(made_files)
}

fn made_files() -> Vec<Vec<u8>> {
    let picture = paint(Pattern::Sunset, 19, 13);
    let mut files = vec![png::encode(&picture, (19, 13)).unwrap()];
    for (color, depth) in [
        (::png::ColorType::Grayscale, ::png::BitDepth::Two),
        (::png::ColorType::Rgb, ::png::BitDepth::Sixteen),
        (::png::ColorType::Indexed, ::png::BitDepth::Four),
        (::png::ColorType::GrayscaleAlpha, ::png::BitDepth::Eight),
    ] {
        let mut file = Vec::new();
        let mut encoder = ::png::Encoder::new(&mut file, 11, 7);
        encoder.set_color(color);
        encoder.set_depth(depth);
        if color == ::png::ColorType::Indexed {
            encoder.set_palette((0..48u8).collect::<Vec<_>>());
            encoder.set_trns(vec![0u8, 255]);
        }
        let bits = color.samples() * depth as usize;
        let data: Vec<u8> = (0..(11 * bits).div_ceil(8) * 7).map(|i| (i * 31 % 251) as u8).collect();
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        files.push(file);
    }
    let jpeg = |setup: &dyn Fn(&mut jpeg_encoder::Encoder<&mut Vec<u8>>), grey: bool| {
        let mut file = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut file, 90);
        setup(&mut encoder);
        let (pixels, color) = if grey {
            (picture.iter().step_by(4).copied().collect(), jpeg_encoder::ColorType::Luma)
        } else {
            (picture.clone(), jpeg_encoder::ColorType::Rgba)
        };
        encoder.encode(&pixels, 19, 13, color).unwrap();
        file
    };
    files.push(jpeg(&|_| {}, false));
    files.push(jpeg(&|e| e.set_progressive(true), false));
    files.push(jpeg(&|e| e.set_restart_interval(1), false));
    files.push(jpeg(&|_| {}, true));
    files
}

/// Makes every PNG chunk's checksum right again after a mutation (walking the chunks as stored).
fn fix_checksums(file: &mut [u8]) {
    if !file.starts_with(png::SIGNATURE) {
        return;
    }
    let mut at = 8usize;
    while let Some(head) = file.get(at..at + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let Some(end) = at.checked_add(8 + len).filter(|&end| end + 4 <= file.len()) else { break };
        let crc = png::crc32(&file[at + 4..end]).to_be_bytes();
        file[end..end + 4].copy_from_slice(&crc);
        at = end + 4;
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    /// Overwrites 4 bytes with a big-endian number: sizes, lengths and counts live in such words.
    Word(usize, u32),
    Cut(usize),
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let word = prop_oneof![Just(0u32), Just(1), Just(0xFFFF), Just(0x1_0000), Just(7071), Just(u32::MAX), any::<u32>()];
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, bits)| Mutation::Flip(at, bits)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        (any::<usize>(), word).prop_map(|(at, w)| Mutation::Word(at, w)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, b)| Mutation::Insert(at, b)),
    ]
}

fn mutate(file: &mut Vec<u8>, m: &Mutation) {
    let len = file.len().max(1);
    if file.is_empty() && !matches!(m, Mutation::Insert(..)) {
        return;
    }
    match m {
        Mutation::Flip(at, bits) => file[at % len] ^= bits,
        Mutation::Set(at, b) => file[at % len] = *b,
        Mutation::Word(at, w) => {
            let at = at % len.saturating_sub(4).max(1);
            let end = (at + 4).min(file.len());
            file[at..end].copy_from_slice(&w.to_be_bytes()[..end - at]);
        }
        Mutation::Cut(at) => file.truncate(at % len),
        Mutation::Insert(at, bytes) => {
            let at = at % len;
            file.splice(at..at, bytes.iter().copied());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_or_outgrow_the_budget(
        magic in prop_oneof![Just(b"\x89PNG\r\n\x1a\n".to_vec()), Just(vec![0xFF, 0xD8, 0xFF]), Just(vec![])],
        tail in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        decodes_within_budget(&[magic, tail].concat())?;
    }

    #[test]
    fn mutated_valid_files_never_panic_or_outgrow_the_budget(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..5),
        fix in any::<bool>(),
    ) {
        let files = valid_files();
        let mut file = files[which % files.len()].clone();
        for m in &mutations {
            mutate(&mut file, m);
        }
        if fix {
            fix_checksums(&mut file);
        }
        decodes_within_budget(&file)?;
    }
}

#[test]
fn the_valid_files_decode() {
    for file in valid_files() {
        let (w, h, _) = decode(file).unwrap();
        assert!((w, h) == (19, 13) || (w, h) == (11, 7));
    }
}
