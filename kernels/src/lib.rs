//! CPU kernels several topics share. Each is plain, honest work: nothing the compiler can fold.
//!
//! A crate of its own so the size-optimized wasm builds can still compile these few loops for
//! speed (`[profile.wasm.package.kernels]` in the workspace's Cargo.toml).

use std::hint::black_box;

/// Sum of i*i for lo <= i < hi, exact. Needs hi <= 2^32 (every square fits in a u64; all the
/// topics' limits are far below).
pub fn sum_squares(lo: u64, hi: u64) -> u128 {
    sum_squares_every((lo, hi.saturating_sub(lo), 1))
}

/// Some numbers, evenly spaced: `count` of them from `first` on, `step` apart.
pub type Share = (u64, u64, u64);

/// The numbers below `limit` dealt out like cards into `parts` shares: share k has k, k + parts,
/// k + 2 * parts, ... Every share then holds as many big numbers as small ones.
pub fn deal(limit: u64, parts: u64) -> Vec<Share> {
    (0..parts.min(limit)).map(|k| (k, (limit - k).div_ceil(parts), parts)).collect()
}

/// A share cut, in order, into shares of at most `size` numbers.
pub fn slices((first, count, step): Share, size: u64) -> impl Iterator<Item = Share> {
    let size = size.max(1);
    (0..count).step_by(size as usize).map(move |done| (first + done * step, size.min(count - done), step))
}

/// Sum of i*i over a share's numbers, exact, in blocks of `BLOCK` numbers. The last number must
/// be below 2^32.
pub fn sum_squares_every((first, count, step): Share) -> u128 {
    debug_assert!(count == 0 || first + (count - 1) * step < 1 << 32, "sum_squares: a number is above 2^32");
    slices((first, count, step), BLOCK).map(sum_squares_block).sum()
}

/// Why blocks: browsers start a wasm function on a quick baseline compiler and swap in optimized
/// code only at its next call (V8 has no on-stack replacement for wasm). One long call in a fresh
/// isolated worker would run its whole loop unoptimized, about 2x slower; short calls get the
/// optimized loop after the first few blocks.
const BLOCK: u64 = 1 << 16;

/// `key` is zero, but the optimizer cannot know it (`black_box`), so it cannot replace the loop
/// with a closed formula: the time measured is the time of the real loop.
///
/// The squares are added in u64 sums, each of as many squares as surely fit (every square here
/// is at most the last one), then the sums in u128: one u64 add per number where a u128 add would
/// be four wasm instructions (wasm has no carry flag). So big numbers cost more than small ones:
/// fewer of their squares fit in one u64 sum.
#[inline(never)]
fn sum_squares_block((first, count, step): Share) -> u128 {
    let key = black_box(0);
    let last = first + (count - 1) * step;
    let per_sum = u64::MAX / (last * last).max(1);
    let mut total = 0u128;
    let (mut i, mut left) = (first, count);
    while left > 0 {
        let n = left.min(per_sum);
        let mut sum = 0u64;
        for _ in 0..n {
            let x = i ^ key;
            sum += x * x;
            i += step;
        }
        total += u128::from(sum);
        left -= n;
    }
    total
}

/// The same sum by formula, to check the loop: sum of i^2 for i < n is (n-1)n(2n-1)/6.
pub fn sum_squares_formula(lo: u64, hi: u64) -> u128 {
    sum_squares_every_formula((lo, hi.saturating_sub(lo), 1))
}

/// `sum_squares_every` by formula: the sum of (a + jd)^2 for j < n is
/// n a^2 + 2ad (n-1)n/2 + d^2 (n-1)n(2n-1)/6.
pub fn sum_squares_every_formula((first, count, step): Share) -> u128 {
    let (a, n, d) = (u128::from(first), u128::from(count), u128::from(step));
    if n == 0 {
        return 0;
    }
    n * a * a + a * d * (n - 1) * n + d * d * ((n - 1) * n * (2 * n - 1) / 6)
}

/// Splits lo..hi into `parts` ranges of nearly equal size (empty ones dropped).
pub fn split(lo: u64, hi: u64, parts: u64) -> Vec<(u64, u64)> {
    let parts = parts.max(1);
    let len = hi.saturating_sub(lo);
    (0..parts).map(|k| (lo + len * k / parts, lo + len * (k + 1) / parts)).filter(|(a, b)| a < b).collect()
}

/// Primes in lo..hi by trial division (odd divisors up to the square root).
pub fn primes_in(lo: u64, hi: u64) -> Vec<u64> {
    (lo..hi).filter(|&n| is_prime(n)).collect()
}

/// Not inlined, for the same reason `sum_squares` works in blocks: short calls get optimized code.
#[inline(never)]
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut d = 3;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

/// How many primes lie in lo..hi, by a sieve of Eratosthenes: a second, independent way to count
/// them, used to check the trial-division results (memory: one byte per number below hi).
pub fn sieve_count(lo: u64, hi: u64) -> usize {
    if hi <= 2 || lo >= hi {
        return 0;
    }
    let n = hi as usize;
    let mut composite = vec![false; n];
    let mut i = 2;
    while i * i < n {
        if !composite[i] {
            (i * i..n).step_by(i).for_each(|j| composite[j] = true);
        }
        i += 1;
    }
    (lo.max(2) as usize..n).filter(|&k| !composite[k]).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_matches_formula() {
        assert_eq!(sum_squares(0, 5), 1 + 4 + 9 + 16);
        for (lo, hi) in [(0, 1000), (17, 4242), (1_000_000, 1_200_000), (5, 5), (9, 3)] {
            assert_eq!(sum_squares(lo, hi), sum_squares_formula(lo, hi), "{lo}..{hi}");
        }
        // The original Python example: sum(i*i for i in range(100_000_000)).
        assert_eq!(sum_squares_formula(0, 100_000_000), 333_333_328_333_333_350_000_000);
    }

    #[test]
    fn every_step_matches_formula_and_plain_sum() {
        for (first, count, step) in [(0, 10, 3), (3, 1000, 4), (5, 0, 7), (1, 200_000, 7), (1 << 31, 70_000, 30_000)] {
            let plain: u128 = (0..count).map(|j| u128::from(first + j * step).pow(2)).sum();
            assert_eq!(sum_squares_every((first, count, step)), plain, "{first} +{step} x{count}");
            assert_eq!(sum_squares_every_formula((first, count, step)), plain, "{first} +{step} x{count}");
        }
    }

    #[test]
    fn dealt_shares_cover_every_number_once_and_slice_in_order() {
        for (limit, parts) in [(10, 3), (12, 4), (7, 2), (2, 5), (0, 3)] {
            let mut numbers: Vec<u64> = deal(limit, parts)
                .into_iter()
                .flat_map(|share| slices(share, 2))
                .flat_map(|(first, count, step)| (0..count).map(move |j| first + j * step))
                .collect();
            numbers.sort_unstable();
            assert_eq!(numbers, (0..limit).collect::<Vec<_>>(), "{limit} in {parts}");
        }
        assert_eq!(deal(12, 4), [(0, 3, 4), (1, 3, 4), (2, 3, 4), (3, 3, 4)]);
    }

    #[test]
    fn the_largest_squares_stay_exact() {
        // Squares near 2^64 (one per u64 sum) and near 2^62 (four per sum), across blocks.
        let (top, half) = (1u64 << 32, 1u64 << 31);
        for (lo, hi) in
            [(top - 5, top), (top - 3 * BLOCK - 7, top), (top - BLOCK, top - BLOCK + 1), (half - BLOCK - 3, half + 5)]
        {
            assert_eq!(sum_squares(lo, hi), sum_squares_formula(lo, hi), "{lo}..{hi}");
        }
    }

    #[test]
    fn split_covers_the_range_once() {
        let parts = split(10, 107, 4);
        assert_eq!(parts.first().unwrap().0, 10);
        assert_eq!(parts.last().unwrap().1, 107);
        assert!(parts.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!(split(0, 2, 5).len(), 2);
    }

    #[test]
    fn primes() {
        assert_eq!(primes_in(0, 30), vec![2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        let count: usize =
            [(1000, 2000), (2000, 3000), (3000, 4000), (4000, 5000)].iter().map(|&(a, b)| primes_in(a, b).len()).sum();
        assert_eq!(count, 501);
        for (lo, hi) in [(0, 2), (0, 3), (2, 3), (1000, 5000), (0, 100_000), (99_000, 123_457)] {
            assert_eq!(primes_in(lo, hi).len(), sieve_count(lo, hi), "{lo}..{hi}");
        }
        assert_eq!(sieve_count(0, 10_000_000), 664_579);
    }

    #[test]
    #[ignore = "slow in debug builds: cargo test --release -- --ignored"]
    fn trial_division_finds_664579_primes_below_ten_million() {
        let count: usize = split(0, 10_000_000, 8).into_iter().map(|(lo, hi)| primes_in(lo, hi).len()).sum();
        assert_eq!(count, 664_579);
    }
}
