//! The local copy of the participant state that the hot path reads: shards of immutable hash
//! tables behind `ArcSwap`s. A read is one hash, one atomic load and one probe: no lock, no
//! allocation, no I/O. A write copies one shard (the `Arc`s of its entries, not the entries)
//! and swaps it in, so a reader sees the shard before or after a write, never a mix.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use super::entry::{Entry, Write};

/// Enough that a write copies a few hundred entries at 100,000 participants.
const SHARDS: usize = 256;

type Shard = HashTable<Arc<Entry>>;

pub(crate) struct Snapshot {
    shards: Box<[ArcSwap<Shard>]>,
    /// Seeded per process (foldhash): the keys come from verified tokens, but a predictable
    /// hash would still let an issuer of tokens aim at one bucket.
    hasher: DefaultHashBuilder,
    len: AtomicUsize,
    /// Counts installs from the shared backend, so that a resync keeps what was installed
    /// while it scanned.
    installs: AtomicU64,
    /// Writers take turns (writes are rare); readers never take it.
    writing: Mutex<()>,
}

/// Why a write was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A new participant, and the store holds `max_entries` live ones already.
    Full,
}

impl Snapshot {
    pub(crate) fn new() -> Self {
        Snapshot {
            shards: (0..SHARDS)
                .map(|_| ArcSwap::from_pointee(HashTable::new()))
                .collect(),
            hasher: DefaultHashBuilder::default(),
            len: AtomicUsize::new(0),
            installs: AtomicU64::new(0),
            writing: Mutex::new(()),
        }
    }

    fn hash(&self, room: &str, identity: &str) -> u64 {
        self.hasher.hash_one((room, identity))
    }

    /// The shard of `hash`: its middle bits, since the table inside uses the top ones (the
    /// control bytes) and the bottom ones (the bucket).
    fn shard(&self, hash: u64) -> &ArcSwap<Shard> {
        &self.shards[(hash >> 32) as usize % SHARDS]
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// The entry of `room` and `identity`, if any. The hot path: with an empty store it is one
    /// atomic load.
    #[inline]
    pub(crate) fn get(&self, room: &str, identity: &str) -> Option<Arc<Entry>> {
        if self.len.load(Ordering::Relaxed) == 0 || room.is_empty() || identity.is_empty() {
            return None;
        }
        let hash = self.hash(room, identity);
        let shard = self.shard(hash).load();
        shard
            .find(hash, |entry| {
                entry.room == room && entry.identity == identity
            })
            .cloned()
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `write` for `room` and `identity` at `now_ms`, dropping the shard's entries that
    /// outlived `retention_ms` on the way. A new entry is refused past `max_entries` live ones.
    pub(crate) fn write(
        &self,
        room: &str,
        identity: &str,
        write: &Write,
        now_ms: i64,
        retention_ms: i64,
        max_entries: usize,
    ) -> Result<(), Refused> {
        let _writing = self.lock();
        let hash = self.hash(room, identity);
        let shard = self.shard(hash);
        let mut table = Shard::clone(&shard.load());
        self.drop_expired(&mut table, now_ms, retention_ms);
        match table.find_entry(hash, |entry| {
            entry.room == room && entry.identity == identity
        }) {
            Ok(mut found) => {
                let mut entry = Entry::clone(found.get());
                entry.record(write);
                *found.get_mut() = Arc::new(entry);
            }
            Err(_) => {
                if self.len() >= max_entries {
                    // Keep what this shard dropped, then look for room in the others.
                    shard.store(Arc::new(table));
                    if !self.make_room(now_ms, retention_ms, max_entries) {
                        return Err(Refused::Full);
                    }
                    table = Shard::clone(&shard.load());
                }
                let mut entry = Entry::new(room, identity);
                entry.record(write);
                table.insert_unique(hash, Arc::new(entry), |e| self.hash(&e.room, &e.identity));
                self.len.fetch_add(1, Ordering::Relaxed);
            }
        }
        shard.store(Arc::new(table));
        Ok(())
    }

    /// Installs `entry` (or, for `None`, drops the participant's), unless the snapshot holds a
    /// newer version of it: the shared backend's way to put an entry it rebuilt from the
    /// store, whichever of two fetches of it arrives last. Never refused for room: the writer
    /// checked, and a revocation must not be lost.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn put(&self, room: &str, identity: &str, entry: Option<Entry>) {
        let _writing = self.lock();
        let installed = self.installs.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = entry.map(|mut entry| {
            entry.installed = installed;
            entry
        });
        let hash = self.hash(room, identity);
        let shard = self.shard(hash);
        let mut table = Shard::clone(&shard.load());
        let eq = |e: &Arc<Entry>| e.room == room && e.identity == identity;
        match (table.find_entry(hash, eq), entry) {
            (Ok(found), Some(entry)) if found.get().version > entry.version => return,
            (Ok(mut found), Some(entry)) => *found.get_mut() = Arc::new(entry),
            (Ok(found), None) => {
                found.remove();
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
            (Err(_), Some(entry)) => {
                table.insert_unique(hash, Arc::new(entry), |e| self.hash(&e.room, &e.identity));
                self.len.fetch_add(1, Ordering::Relaxed);
            }
            (Err(_), None) => {}
        }
        shard.store(Arc::new(table));
    }

    /// How many installs [`put`](Self::put) has made: a resync reads it before it scans.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn installs(&self) -> u64 {
        self.installs.load(Ordering::Relaxed)
    }

    /// Replaces every entry with `entries`, what the shared backend holds: a
    /// resynchronisation. An entry installed after `started` (see [`installs`](Self::installs))
    /// is newer than the scan and stays, the newer version winning where both have one; any
    /// other entry not in `entries` is gone from the backend and goes (a backend that lost its
    /// data loses the revocations with it: nothing here pretends otherwise).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn resync(&self, entries: impl IntoIterator<Item = Entry>, started: u64) {
        let _writing = self.lock();
        let mut tables: Vec<Shard> = (0..SHARDS).map(|_| HashTable::new()).collect();
        let mut len = 0;
        let mut install = |entry: Arc<Entry>, tables: &mut Vec<Shard>| {
            let hash = self.hash(&entry.room, &entry.identity);
            let table = &mut tables[(hash >> 32) as usize % SHARDS];
            let eq = |e: &Arc<Entry>| e.room == entry.room && e.identity == entry.identity;
            match table.find_entry(hash, eq) {
                Ok(found) if found.get().version >= entry.version => {}
                Ok(mut found) => *found.get_mut() = entry,
                Err(_) => {
                    table.insert_unique(hash, entry, |e| self.hash(&e.room, &e.identity));
                    len += 1;
                }
            }
        };
        for entry in entries {
            install(Arc::new(entry), &mut tables);
        }
        for shard in self.shards.iter() {
            for entry in shard.load().iter().filter(|e| e.installed > started) {
                install(entry.clone(), &mut tables);
            }
        }
        for (shard, table) in self.shards.iter().zip(tables) {
            shard.store(Arc::new(table));
        }
        self.len.store(len, Ordering::Relaxed);
    }

    /// Every entry now.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> Vec<Arc<Entry>> {
        self.shards
            .iter()
            .flat_map(|shard| shard.load().iter().cloned().collect::<Vec<_>>())
            .collect()
    }

    fn drop_expired(&self, table: &mut Shard, now_ms: i64, retention_ms: i64) {
        let before = table.len();
        table.retain(|entry| !entry.expired(now_ms, retention_ms));
        self.len.fetch_sub(before - table.len(), Ordering::Relaxed);
    }

    /// When full, drops every expired entry of every shard; whether there is room now.
    fn make_room(&self, now_ms: i64, retention_ms: i64, max_entries: usize) -> bool {
        for shard in self.shards.iter() {
            let current = shard.load();
            if current
                .iter()
                .any(|entry| entry.expired(now_ms, retention_ms))
            {
                let mut table = Shard::clone(&current);
                self.drop_expired(&mut table, now_ms, retention_ms);
                shard.store(Arc::new(table));
            }
        }
        self.len() < max_entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revoke(at_ms: i64) -> Write {
        Write::Revoke { at_ms, cutoff: 1 }
    }

    #[test]
    fn entries_are_found_by_room_and_identity_exactly() {
        let snapshot = Snapshot::new();
        assert!(snapshot.get("r", "a").is_none());
        snapshot
            .write("r", "a", &revoke(0), 0, 1_000, 10)
            .expect("room");
        assert!(snapshot.get("r", "a").is_some());
        for (room, identity) in [
            ("r", "b"),
            ("R", "a"),
            ("", "a"),
            ("r", ""),
            ("ra", ""),
            ("", "ra"),
        ] {
            assert!(snapshot.get(room, identity).is_none(), "{room}/{identity}");
        }
        assert_eq!(snapshot.len(), 1);
    }

    #[test]
    fn a_full_store_refuses_new_participants_but_not_existing_ones() {
        let snapshot = Snapshot::new();
        for i in 0..3 {
            snapshot
                .write("r", &format!("p{i}"), &revoke(0), 0, 1_000, 3)
                .expect("room");
        }
        assert_eq!(
            snapshot.write("r", "p9", &revoke(0), 0, 1_000, 3),
            Err(Refused::Full)
        );
        assert!(snapshot.get("r", "p9").is_none());
        // A write to a participant already there always goes through.
        snapshot
            .write("r", "p0", &revoke(5), 5, 1_000, 3)
            .expect("existing");
        // Once the others expire, there is room again.
        snapshot
            .write("r", "p9", &revoke(1_000), 1_000, 1_000, 3)
            .expect("expired ones dropped");
        assert!(
            snapshot.get("r", "p0").is_some(),
            "written at 5: still there"
        );
        // Expired entries go lazily (with their shard's next write, or when room is needed).
        assert!(snapshot.len() <= 3);
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let snapshot = Snapshot::new();
        let versioned = |version: u64, cutoff: i64| {
            let mut entry = Entry::replayed("r", "a", &[Write::Revoke { at_ms: 0, cutoff }]);
            entry.version = version;
            entry
        };
        snapshot.put("r", "a", Some(versioned(2, 20)));
        snapshot.put("r", "a", Some(versioned(1, 10)));
        assert_eq!(snapshot.get("r", "a").map(|e| e.version), Some(2));
        snapshot.put("r", "a", Some(versioned(3, 30)));
        assert_eq!(snapshot.get("r", "a").map(|e| e.version), Some(3));
    }

    #[test]
    fn a_resync_keeps_what_was_installed_while_it_scanned() {
        let snapshot = Snapshot::new();
        snapshot.put("r", "old", Some(Entry::new("r", "old")));
        let started = snapshot.installs();
        // Installed during the scan, and missing from what the scan found: kept.
        snapshot.put("r", "new", Some(Entry::new("r", "new")));
        snapshot.resync([Entry::new("r", "other")], started);
        assert!(snapshot.get("r", "new").is_some());
        assert!(snapshot.get("r", "other").is_some());
        assert!(
            snapshot.get("r", "old").is_none(),
            "gone from the backend, gone here"
        );
        assert_eq!(snapshot.len(), 2);
    }

    #[test]
    fn put_and_replace_all_install_entries_as_given() {
        let snapshot = Snapshot::new();
        snapshot.put("r", "a", Some(Entry::new("r", "a")));
        assert_eq!(snapshot.len(), 1);
        snapshot.put("r", "a", None);
        assert_eq!(snapshot.len(), 0);
        snapshot.resync((0..1000).map(|i| Entry::new("r", &format!("p{i}"))), 0);
        assert_eq!(snapshot.len(), 1000);
        assert_eq!(snapshot.entries().len(), 1000);
        assert!(snapshot.get("r", "p999").is_some());
        snapshot.resync([], snapshot.installs());
        assert!(snapshot.get("r", "p999").is_none() && snapshot.len() == 0);
    }
}
