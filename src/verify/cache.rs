//! The optional verified-token cache, for clients that present the same token again and again.
//!
//! Only tokens that verified are cached, keyed by their full text: a hash of the token's last
//! 64 bytes (the signature, effectively random, and the end of the payload) finds the entry, a
//! byte-for-byte comparison of the whole token confirms it, so a collision is a miss, never a
//! forgery. A hit
//! skips the signature and the JSON but not the clock: `exp`, `nbf`, `iat` and `aud` are checked
//! again every time. Rotating the keys empties the cache, and a generation number keeps a
//! verification that raced with the rotation from caching a token of a removed key.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::claims::Claims;

const SHARDS: usize = 16;
/// What an entry costs besides its token text: the claims, the map slot, the queue slot.
const ENTRY_OVERHEAD: usize = 256;

pub(crate) struct TokenCache {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    generation: AtomicU64,
    max_entries: usize,
    max_bytes: usize,
}

/// The entries' keys are already keyed SipHash outputs: hashing them again would only cost time.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by a `u64` key; this keeps the trait's contract anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Default)]
struct Shard {
    entries: HashMap<u64, Entry, BuildHasherDefault<PreHashed>>,
    /// Insertion order, for eviction (oldest first).
    order: VecDeque<u64>,
    bytes: usize,
}

struct Entry {
    token: Box<[u8]>,
    claims: Claims,
    generation: u64,
    size: usize,
}

impl TokenCache {
    /// A cache of at most `max_entries` tokens taking at most about `max_bytes`.
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        TokenCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
            generation: AtomicU64::new(0),
            max_entries: max_entries.div_ceil(SHARDS),
            max_bytes: max_bytes.div_ceil(SHARDS),
        }
    }

    /// Hashing only the tail keeps a hit cheap (a 470-byte token would cost ~200 ns of SipHash);
    /// the tail holds the signature, which differs between any two tokens.
    fn hash(&self, token: &[u8]) -> u64 {
        self.hasher
            .hash_one(&token[token.len().saturating_sub(64)..])
    }

    fn shard(&self, hash: u64) -> &Mutex<Shard> {
        &self.shards[(hash as usize) % SHARDS]
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The claims of `token` if it verified before with the current keys.
    pub(crate) fn get(&self, token: &[u8]) -> Option<Claims> {
        let hash = self.hash(token);
        let generation = self.generation();
        let shard = self
            .shard(hash)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = shard.entries.get(&hash)?;
        (entry.generation == generation && *entry.token == *token).then(|| entry.claims.clone())
    }

    /// Remembers that `token` verified into `claims` with the keys of `generation`.
    pub(crate) fn insert(&self, token: &[u8], claims: &Claims, generation: u64) {
        let size = token.len() * 2 + ENTRY_OVERHEAD;
        if size > self.max_bytes || self.max_entries == 0 {
            return;
        }
        let hash = self.hash(token);
        let mut shard = self
            .shard(hash)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock: `invalidate` bumps the generation before it takes the locks,
        // so an entry of an older key ring is never added after it emptied the shard.
        if generation != self.generation() {
            return;
        }
        let entry = Entry {
            token: token.into(),
            claims: claims.clone(),
            generation,
            size,
        };
        if let Some(old) = shard.entries.insert(hash, entry) {
            shard.bytes -= old.size;
        } else {
            shard.order.push_back(hash);
        }
        shard.bytes += size;
        while shard.entries.len() > self.max_entries || shard.bytes > self.max_bytes {
            let Some(oldest) = shard.order.pop_front() else {
                break;
            };
            if let Some(old) = shard.entries.remove(&oldest) {
                shard.bytes -= old.size;
            }
        }
    }

    /// Forgets every entry (the keys changed).
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            *shard = Shard::default();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entries
                    .len()
            })
            .sum()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).bytes)
            .sum()
    }
}
