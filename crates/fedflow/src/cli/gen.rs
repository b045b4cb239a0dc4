//! `fedflow data gen`: a deterministic synthetic vertical split.
//!
//! Row `i` has id `i`, features drawn N(0, 1) from a generator seeded by
//! `(seed, i)` (so any number of threads gives the same file), and a label
//! `y ~ Bernoulli(sigmoid(w·x))` for a fixed random `w` over all guest and
//! host features (scaled so that the label is learnable: AUC ≈ 0.9). The guest
//! file holds `id,y,x0..x{G-1}`, the host file `id,x0..x{H-1}`; with
//! `overlap < 1` the host's last rows get ids that the guest lacks.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn uniform(state: &mut u64) -> f64 {
    ((splitmix(state) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

fn normal(state: &mut u64) -> f64 {
    let (u1, u2) = (uniform(state), uniform(state));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn push_f(buf: &mut Vec<u8>, x: f64) {
    // Six decimals, like FATE's example data.
    let _ = write!(buf, ",{x:.6}");
}

/// Writes `guest.csv` and `host.csv` under `out`; returns their paths.
pub fn generate(
    rows: u64,
    g: usize,
    h: usize,
    seed: u64,
    overlap: f64,
    out: &Path,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    if !(0.0..=1.0).contains(&overlap) {
        bail!("--overlap {overlap}: expected a fraction from 0 to 1");
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut ws = seed ^ 0x5EED;
    let scale = 3.0 / ((g + h).max(1) as f64).sqrt();
    let w: Vec<f64> = (0..g + h).map(|_| normal(&mut ws) * scale).collect();
    let shared = (rows as f64 * overlap).round() as u64;
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(1) as u64;
    let chunk = rows.div_ceil(threads * 8).max(1);
    let gp = out.join("guest.csv");
    let hp = out.join("host.csv");
    let mut gf = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&gp)?);
    let mut hf = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&hp)?);
    let head = |n: usize| (0..n).map(|j| format!(",x{j}")).collect::<String>();
    writeln!(gf, "id,y{}", head(g))?;
    writeln!(hf, "id{}", head(h))?;
    let starts: Vec<u64> = (0..rows).step_by(chunk as usize).collect();
    for batch in starts.chunks(threads as usize) {
        let parts: Vec<(Vec<u8>, Vec<u8>)> = std::thread::scope(|s| {
            let hs: Vec<_> = batch
                .iter()
                .map(|&start| {
                    let w = &w;
                    s.spawn(move || {
                        let end = (start + chunk).min(rows);
                        let mut gb = Vec::with_capacity(((end - start) as usize) * (g * 10 + 12));
                        let mut hb = Vec::with_capacity(((end - start) as usize) * (h * 10 + 12));
                        let mut x = vec![0.0; g + h];
                        for i in start..end {
                            let mut st = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ i;
                            splitmix(&mut st);
                            for v in x.iter_mut() {
                                *v = normal(&mut st);
                            }
                            let z: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum();
                            let y = u8::from(uniform(&mut st) < 1.0 / (1.0 + (-z).exp()));
                            let _ = write!(gb, "{i},{y}");
                            for &v in &x[..g] {
                                push_f(&mut gb, v);
                            }
                            gb.push(b'\n');
                            let hid = if i < shared { i } else { rows + i };
                            let _ = write!(hb, "{hid}");
                            for &v in &x[g..] {
                                push_f(&mut hb, v);
                            }
                            hb.push(b'\n');
                        }
                        (gb, hb)
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("gen thread"))
                .collect()
        });
        for (gb, hb) in parts {
            gf.write_all(&gb)?;
            hf.write_all(&hb)?;
        }
    }
    gf.flush()?;
    hf.flush()?;
    Ok((gp, hp))
}
