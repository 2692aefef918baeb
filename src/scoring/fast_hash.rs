//! A fast, non-cryptographic hasher (the Fx hash used inside rustc) for the engine's internal
//! maps keyed by ids and item codes. Keys come from one county's own data and the maps live for
//! one computation, so hash flooding could only slow that county's own request.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Maps keyed by ids and codes during one computation.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A hash set with the same hasher.
pub(crate) type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The golden ratio's fraction in 64 bits: the finishing multiplier.
const FOLD: u64 = 0x9e_37_79_b9_7f_4a_7c_15;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        // Item codes are short: assemble the tail byte by byte rather than through a memmove.
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let word = rest
                .iter()
                .rev()
                .fold(0u64, |word, &byte| (word << 8) | u64::from(byte));
            self.add(word);
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        // A multiply carries a word's differences only upwards, but hashbrown picks buckets by
        // the low bits: ids that differ only in their last bytes (sequential ones) would all
        // share a bucket. Folding the 128-bit product's high half into its low half spreads them.
        let product = u128::from(self.hash) * u128::from(FOLD);
        (product as u64) ^ ((product >> 64) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    /// Sequential ids (the benchmarks', and any counter's) spread over a table's buckets.
    #[test]
    fn ids_differing_in_their_last_bytes_spread_over_the_low_bits() {
        let build = BuildHasherDefault::<FxHasher>::default();
        let buckets: std::collections::BTreeSet<u64> = (0..2048u128)
            .map(|n| build.hash_one(uuid::Uuid::from_u128(n)) & 2047)
            .collect();
        assert!(buckets.len() > 1024, "{} of 2048 buckets used", buckets.len());
    }
}
