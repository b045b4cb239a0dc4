//! `fedflow data gen`: a deterministic synthetic vertical split, or with
//! `--homo N` a horizontal one ([`generate_homo`]).
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

/// Row `i`'s `n` features (N(0, 1)) and its label over the weights `w`.
fn row(seed: u64, i: u64, w: &[f64], x: &mut [f64]) -> u8 {
    let mut st = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ i;
    splitmix(&mut st);
    for v in x.iter_mut() {
        *v = normal(&mut st);
    }
    let z: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum();
    u8::from(uniform(&mut st) < 1.0 / (1.0 + (-z).exp()))
}

/// Fixed random weights over `n` features, scaled so that the label is
/// learnable (AUC ≈ 0.9).
fn weights(seed: u64, n: usize) -> Vec<f64> {
    let mut ws = seed ^ 0x5EED;
    let scale = 3.0 / (n.max(1) as f64).sqrt();
    (0..n).map(|_| normal(&mut ws) * scale).collect()
}

/// Writes `rows` rows into `files` (path, header line) in parallel chunks;
/// `emit(i, bufs)` appends row `i` to the buffers of the files it goes to.
fn write_rows(
    rows: u64,
    files: &[(std::path::PathBuf, String)],
    emit: &(dyn Fn(u64, &mut [Vec<u8>]) + Sync),
) -> Result<()> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(1) as u64;
    let chunk = rows.div_ceil(threads * 8).max(1);
    let mut outs = files
        .iter()
        .map(|(p, head)| {
            let mut f = std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            );
            writeln!(f, "{head}")?;
            Ok(f)
        })
        .collect::<Result<Vec<_>>>()?;
    let starts: Vec<u64> = (0..rows).step_by(chunk as usize).collect();
    for batch in starts.chunks(threads as usize) {
        let parts: Vec<Vec<Vec<u8>>> = std::thread::scope(|s| {
            let hs: Vec<_> = batch
                .iter()
                .map(|&start| {
                    s.spawn(move || {
                        let end = (start + chunk).min(rows);
                        let mut bufs = vec![Vec::new(); files.len()];
                        for i in start..end {
                            emit(i, &mut bufs);
                        }
                        bufs
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("gen thread"))
                .collect()
        });
        for bufs in parts {
            for (f, b) in outs.iter_mut().zip(bufs) {
                f.write_all(&b)?;
            }
        }
    }
    for f in &mut outs {
        f.flush()?;
    }
    Ok(())
}

fn header(n: usize) -> String {
    (0..n).map(|j| format!(",x{j}")).collect()
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
    let w = weights(seed, g + h);
    let shared = (rows as f64 * overlap).round() as u64;
    let gp = out.join("guest.csv");
    let hp = out.join("host.csv");
    let files = [
        (gp.clone(), format!("id,y{}", header(g))),
        (hp.clone(), format!("id{}", header(h))),
    ];
    write_rows(rows, &files, &|i, bufs| {
        let mut x = vec![0.0; g + h];
        let y = row(seed, i, &w, &mut x);
        let _ = write!(bufs[0], "{i},{y}");
        for &v in &x[..g] {
            push_f(&mut bufs[0], v);
        }
        bufs[0].push(b'\n');
        let hid = if i < shared { i } else { rows + i };
        let _ = write!(bufs[1], "{hid}");
        for &v in &x[g..] {
            push_f(&mut bufs[1], v);
        }
        bufs[1].push(b'\n');
    })?;
    Ok((gp, hp))
}

/// Homo mode: `party_0.csv` … `party_{n-1}.csv` under `out`, each
/// `id,y,x0..x{F-1}` with the same features and label model, party `k`
/// holding the rows `[k·rows/n, (k+1)·rows/n)` (ids distinct across
/// parties); returns their paths.
pub fn generate_homo(
    rows: u64,
    features: usize,
    parties: usize,
    seed: u64,
    out: &Path,
) -> Result<Vec<std::path::PathBuf>> {
    if parties < 2 {
        bail!("--homo {parties}: expected at least 2 parties");
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let w = weights(seed, features);
    let files: Vec<(std::path::PathBuf, String)> = (0..parties)
        .map(|k| {
            (
                out.join(format!("party_{k}.csv")),
                format!("id,y{}", header(features)),
            )
        })
        .collect();
    let n = parties as u64;
    write_rows(rows, &files, &|i, bufs| {
        let k = ((i as u128 * n as u128) / rows.max(1) as u128) as usize;
        let mut x = vec![0.0; features];
        let y = row(seed, i, &w, &mut x);
        let b = &mut bufs[k.min(bufs.len() - 1)];
        let _ = write!(b, "{i},{y}");
        for &v in &x {
            push_f(b, v);
        }
        b.push(b'\n');
    })?;
    Ok(files.into_iter().map(|f| f.0).collect())
}
