//! Recognizable pictures painted in code: the generated batch and the tests' inputs.

#[derive(Clone, Copy)]
pub enum Pattern {
    Sunset,
    Rings,
    Hills,
    Checker,
}

/// Paints a recognizable RGBA picture of w x h pixels.
pub fn paint(pattern: Pattern, w: u32, h: u32) -> Vec<u8> {
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

/// A smooth-looking wave between -1 and 1 with period 1 (cheaper than sin, which needs libm in wasm).
fn wave(t: f32) -> f32 {
    let f = t - t.floor();
    let tri = 4.0 * (f - 0.5).abs() - 1.0;
    tri * (1.5 - 0.5 * tri * tri)
}
