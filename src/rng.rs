//! Seeded, portable randomness.
//!
//! Every random object is drawn from a `ChaCha8Rng` (portable, same stream on every platform)
//! seeded from `(base seed, stream tag, index)` by a SplitMix64 mix, so a case's instance
//! depends only on those three values: never on the thread that draws it or on the order in
//! which rayon schedules the jobs.

use rand::SeedableRng;
pub use rand_chacha::ChaCha8Rng as Rng;

/// SplitMix64 finalizer: a bijective 64-bit mix.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a tag (theorem id, relaxation name), stable across builds.
pub fn tag_hash(tag: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tag.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The RNG of job `index` of stream `tag` under base seed `seed`.
pub fn case_rng(seed: u64, tag: &str, index: u64) -> Rng {
    let s = splitmix64(splitmix64(seed ^ tag_hash(tag)).wrapping_add(splitmix64(index)));
    Rng::seed_from_u64(s)
}

/// Words drawn per call of the RNG by the bulk draws below: one ChaCha8 call fills a block of
/// this many `u64` on the stack (512 bytes), so the bulk draws allocate nothing.
const BULK: usize = 64;

/// `out[i] = rng.random_range(low..high)` for every `i` in order, **bit for bit** (the same
/// values and the same RNG state afterwards), with the words drawn in blocks
/// (`Rng::fill` on `[u64]`, i.e. `fill_bytes`, which consumes the ChaCha8 stream exactly as
/// consecutive `next_u64` calls do) instead of one call per value.
///
/// The map is rand 0.9's `UniformFloat::<f64>::sample_single`: the top 52 bits of the word as
/// the fraction of a float in `[1, 2)`, minus 1, times `high - low`, plus `low` (two roundings:
/// no fused multiply-add). `tests::bulk_draws_are_the_per_value_draws` pins the equality, so a
/// rand upgrade that changes that map fails a test instead of silently changing every instance.
///
/// # Panics
/// If `low..high` is empty or not finite (as `random_range` does; a programming error here).
pub fn fill_uniform<R: rand::Rng + ?Sized>(rng: &mut R, low: f64, high: f64, out: &mut [f64]) {
    let scale = high - low;
    assert!(low < high && scale.is_finite(), "fill_uniform: empty or infinite range {low}..{high}");
    let mut words = [0u64; BULK];
    for chunk in out.chunks_mut(BULK) {
        let w = &mut words[..chunk.len()];
        rng.fill(w);
        for (x, &u) in chunk.iter_mut().zip(w.iter()) {
            let value1_2 = f64::from_bits((u >> 12) | 0x3FF0_0000_0000_0000);
            *x = (value1_2 - 1.0) * scale + low;
        }
    }
}

/// `out[i] = rng.random::<f64>()` (`StandardUniform`: `(u >> 11) · 2^-53 ∈ [0, 1)`) for every
/// `i` in order, bit for bit, drawn in blocks like [`fill_uniform`].
pub fn fill_standard<R: rand::Rng + ?Sized>(rng: &mut R, out: &mut [f64]) {
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    let mut words = [0u64; BULK];
    for chunk in out.chunks_mut(BULK) {
        let w = &mut words[..chunk.len()];
        rng.fill(w);
        for (x, &u) in chunk.iter_mut().zip(w.iter()) {
            *x = SCALE * (u >> 11) as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    /// The bulk draws equal the per-value draws bit for bit, at every length (across the block
    /// size and the ChaCha8 buffer boundary, from an odd word offset too) and leave the stream
    /// at the same place. Negative control: a map that differs in the last bit is told apart.
    #[test]
    fn bulk_draws_are_the_per_value_draws() {
        for seed in 0..40u64 {
            for &len in &[0usize, 1, 2, 3, 31, 63, 64, 65, 127, 129, 1296] {
                for skip_half_word in [false, true] {
                    let mut a = case_rng(seed, "bulk", len as u64);
                    if skip_half_word {
                        let _: u32 = a.random();
                    }
                    let mut b = a.clone();
                    let mut got = vec![0.0; len];
                    fill_uniform(&mut a, -1.0, 1.0, &mut got);
                    let want: Vec<f64> = (0..len).map(|_| b.random_range(-1.0..1.0)).collect();
                    assert!(got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()), "uniform {seed} {len}");
                    fill_standard(&mut a, &mut got);
                    let want: Vec<f64> = (0..len).map(|_| b.random::<f64>()).collect();
                    assert!(got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()), "standard {seed} {len}");
                    assert_eq!(a.random::<u64>(), b.random::<u64>(), "stream position {seed} {len}");
                }
            }
        }
        // Other ranges take the same map.
        let (mut a, mut b) = (case_rng(3, "bulk", 0), case_rng(3, "bulk", 0));
        let mut got = vec![0.0; 100];
        fill_uniform(&mut a, 0.01, 0.99, &mut got);
        assert!(got.iter().all(|x| x.to_bits() == b.random_range(0.01f64..0.99).to_bits()));
        // Negative control: the other common map (53 bits, `StandardUniform` scaled to the
        // range), which differs in the last bit for about half of the words, is told apart.
        let mut c = case_rng(3, "bulk", 1);
        let mut got = vec![0.0; 1000];
        fill_uniform(&mut c, -1.0, 1.0, &mut got);
        let mut d = case_rng(3, "bulk", 1);
        let differs = got.iter().any(|x| (d.random::<f64>() * 2.0 - 1.0).to_bits() != x.to_bits());
        assert!(differs, "the comparison must tell a different map apart");
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = case_rng(1, "x", 5).random();
        let b: u64 = case_rng(1, "x", 5).random();
        let c: u64 = case_rng(1, "x", 6).random();
        let d: u64 = case_rng(1, "y", 5).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
