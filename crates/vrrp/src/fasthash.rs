//! A small, fast hasher for the engine's internal maps (the FxHash multiply-rotate).
//!
//! Their keys come from the configuration (interface names, VRIDs, tracker names): a
//! received packet chooses which key is looked up, never which keys exist, so SipHash's
//! resistance to crafted collisions buys nothing there, and it cost a few hundred
//! instructions per received advert (three lookups). The VRRP child uses it for its
//! sending sockets by interface for the same reason.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The hasher (see the module documentation).
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash_of<T: Hash>(t: &T) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(t)
    }

    #[test]
    fn distinct_keys_hash_apart() {
        let names: Vec<String> = (0..1000).map(|i| format!("eth{i}")).collect();
        let mut hs: Vec<u64> = names.iter().map(|n| hash_of(&n.as_str())).collect();
        hs.sort_unstable();
        hs.dedup();
        assert_eq!(hs.len(), names.len());
        // The top 7 bits (hashbrown's control bytes) vary too.
        let mut tops: Vec<u64> = hs.iter().map(|h| h >> 57).collect();
        tops.sort_unstable();
        tops.dedup();
        assert!(tops.len() > 64, "{} distinct top bytes", tops.len());
        assert_ne!(hash_of(&(1u8, 0u8)), hash_of(&(2u8, 0u8)));
    }

    #[test]
    fn a_map_works_as_a_map() {
        let mut m: FastMap<String, usize> = FastMap::default();
        for i in 0..10_000 {
            m.insert(format!("if{i}"), i);
        }
        assert!((0..10_000).all(|i| m.get(format!("if{i}").as_str()) == Some(&i)));
        assert_eq!(m.get("nope"), None);
    }
}
