//! The local copy of the participant state that the hot path reads: shards of immutable hash
//! tables behind `ArcSwap`s. A read is one hash, one atomic load and one probe: no lock, no
//! allocation, no I/O. A write copies one shard (the `Arc`s of its entries, not the entries)
//! and swaps it in, so a reader sees the shard before or after a write, never a mix.
//!
//! Writers take turns under one lock, which also holds the count of entries per room: the
//! bounds (in all, per room) are checked there, and expired entries leave the tables and the
//! counts there.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;
use compact_str::CompactString;
use hashbrown::{DefaultHashBuilder, HashTable};

use super::entry::{Entry, Write};
use super::options::StateOptions;
use crate::limits::LimitExceeded;

/// Enough that a write copies a few hundred entries at 100,000 participants.
const SHARDS: usize = 256;

/// How often a writer sweeps every shard for expired entries, at most (ms).
const SWEEP_EVERY_MS: i64 = 1_000;

/// One shard: its entries, and when the first of them expires (so that a sweep skips the
/// shards with nothing to drop).
#[derive(Clone, Default)]
pub(crate) struct Shard {
    table: HashTable<Arc<Entry>>,
    earliest_expiry_ms: i64,
}

impl Shard {
    fn new(table: HashTable<Arc<Entry>>, retention_ms: i64) -> Self {
        let earliest_expiry_ms = table
            .iter()
            .map(|entry| entry.expires_ms(retention_ms))
            .min()
            .unwrap_or(i64::MAX);
        Shard {
            table,
            earliest_expiry_ms,
        }
    }
}

pub(crate) struct Snapshot {
    shards: Box<[ArcSwap<Shard>]>,
    /// Seeded per process (foldhash): the keys come from verified tokens, but a predictable
    /// hash would still let an issuer of tokens aim at one bucket.
    hasher: DefaultHashBuilder,
    len: AtomicUsize,
    /// Counts installs from the shared backend, so that a resync keeps what was installed
    /// while it scanned.
    installs: AtomicU64,
    /// How long an entry lives after its last write or its cutoff.
    retention_ms: i64,
    /// Writers take turns (writes are rare); readers never take it.
    writing: Mutex<Writer>,
}

/// What the writers keep beside the tables.
#[derive(Default)]
struct Writer {
    /// Entries per room.
    rooms: HashMap<CompactString, usize>,
    /// When the next sweep of every shard is due.
    next_sweep_ms: i64,
}

impl Writer {
    fn added(&mut self, len: &AtomicUsize, room: &str) {
        len.fetch_add(1, Ordering::Relaxed);
        *self.rooms.entry(room.into()).or_default() += 1;
    }

    fn removed(&mut self, len: &AtomicUsize, room: &str) {
        len.fetch_sub(1, Ordering::Relaxed);
        if let Some(count) = self.rooms.get_mut(room) {
            *count -= 1;
            if *count == 0 {
                self.rooms.remove(room);
            }
        }
    }
}

/// Why a write was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A new participant, and the store holds `max_entries` live ones already.
    Full,
    /// A new participant, and its room holds `max_entries_per_room` live ones already.
    RoomFull,
    /// The participant's attributes would outgrow the limit.
    TooLarge(LimitExceeded),
}

impl Snapshot {
    pub(crate) fn new(retention_ms: i64) -> Self {
        Snapshot {
            shards: (0..SHARDS)
                .map(|_| ArcSwap::from_pointee(Shard::new(HashTable::new(), retention_ms)))
                .collect(),
            hasher: DefaultHashBuilder::default(),
            len: AtomicUsize::new(0),
            installs: AtomicU64::new(0),
            retention_ms,
            writing: Mutex::new(Writer {
                rooms: HashMap::new(),
                next_sweep_ms: i64::MIN,
            }),
        }
    }

    fn hash(&self, room: &str, identity: &str) -> u64 {
        self.hasher.hash_one((room, identity))
    }

    /// The shard of `hash`: its middle bits, since the table inside uses the top ones (the
    /// control bytes) and the bottom ones (the bucket).
    fn shard_index(hash: u64) -> usize {
        (hash >> 32) as usize % SHARDS
    }

    fn shard(&self, hash: u64) -> &ArcSwap<Shard> {
        &self.shards[Self::shard_index(hash)]
    }

    /// The number of entries (those expired since the last sweep included).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// How many entries `room` has (those expired since the last sweep included).
    pub(crate) fn room_len(&self, room: &str) -> usize {
        self.lock().rooms.get(room).copied().unwrap_or(0)
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
            .table
            .find(hash, |entry| {
                entry.room == room && entry.identity == identity
            })
            .cloned()
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        self.writing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `write` for `room` and `identity` at `now_ms`, within `options`' bounds and
    /// limits. A new participant is refused past `max_entries` live ones, or past
    /// `max_entries_per_room` in its room; expired entries are dropped first.
    pub(crate) fn write(
        &self,
        room: &str,
        identity: &str,
        write: &Write,
        now_ms: i64,
        options: &StateOptions,
    ) -> Result<(), Refused> {
        let mut writer = self.lock();
        // Due, or the clock went back past the last sweep (then the schedule starts again).
        let last_sweep = writer.next_sweep_ms.saturating_sub(SWEEP_EVERY_MS);
        if now_ms >= writer.next_sweep_ms || now_ms < last_sweep {
            self.sweep_locked(&mut writer, now_ms);
        }
        let hash = self.hash(room, identity);
        let shard = self.shard(hash);
        let found = shard
            .load()
            .table
            .find(hash, |entry| {
                entry.room == room && entry.identity == identity
            })
            .filter(|entry| !entry.expired(now_ms, self.retention_ms))
            .cloned();
        let mut entry = match found {
            Some(entry) => Entry::clone(&entry),
            None => {
                // Drop what expired here and everywhere, so that the counts are of live entries.
                self.sweep_locked(&mut writer, now_ms);
                if self.len() >= options.max_entries {
                    return Err(Refused::Full);
                }
                if writer.rooms.get(room).copied().unwrap_or(0) >= options.max_entries_per_room {
                    return Err(Refused::RoomFull);
                }
                Entry::new(room, identity)
            }
        };
        entry
            .record(write, &options.limits)
            .map_err(Refused::TooLarge)?;
        // The shard's table as it is now (the sweep may have changed it), copied to write.
        let mut table = shard.load().table.clone();
        self.install(&mut writer, &mut table, hash, entry);
        shard.store(Arc::new(Shard::new(table, self.retention_ms)));
        Ok(())
    }

    /// Puts `entry` in `table`, replacing the participant's (expired or not).
    fn install(
        &self,
        writer: &mut Writer,
        table: &mut HashTable<Arc<Entry>>,
        hash: u64,
        entry: Entry,
    ) {
        let eq = |e: &Arc<Entry>| e.room == entry.room && e.identity == entry.identity;
        match table.find_entry(hash, eq) {
            Ok(mut found) => *found.get_mut() = Arc::new(entry),
            Err(_) => {
                writer.added(&self.len, &entry.room);
                table.insert_unique(hash, Arc::new(entry), |e| self.hash(&e.room, &e.identity));
            }
        }
    }

    /// Installs `entry` (or, for `None`, drops the participant's), unless the snapshot holds a
    /// newer version of it: the shared backend's way to put an entry it read from the store,
    /// whichever of two reads of it arrives last. Never refused for room: the shared backend
    /// enforces the bounds, and a revocation must not be lost.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn put(&self, room: &str, identity: &str, entry: Option<Entry>) {
        let mut writer = self.lock();
        let installed = self.installs.fetch_add(1, Ordering::Relaxed) + 1;
        let hash = self.hash(room, identity);
        let shard = self.shard(hash);
        let mut table = shard.load().table.clone();
        let eq = |e: &Arc<Entry>| e.room == room && e.identity == identity;
        match (table.find_entry(hash, eq), entry) {
            (Ok(found), Some(entry)) if found.get().version > entry.version => return,
            (Ok(mut found), Some(mut entry)) => {
                entry.installed = installed;
                *found.get_mut() = Arc::new(entry);
            }
            (Ok(found), None) => {
                found.remove();
                writer.removed(&self.len, room);
            }
            (Err(_), Some(mut entry)) => {
                entry.installed = installed;
                self.install(&mut writer, &mut table, hash, entry);
            }
            (Err(_), None) => return,
        }
        shard.store(Arc::new(Shard::new(table, self.retention_ms)));
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
        let mut writer = self.lock();
        let mut tables: Vec<HashTable<Arc<Entry>>> =
            (0..SHARDS).map(|_| HashTable::new()).collect();
        let install = |entry: Arc<Entry>, tables: &mut Vec<HashTable<Arc<Entry>>>| {
            let hash = self.hash(&entry.room, &entry.identity);
            let table = &mut tables[Self::shard_index(hash)];
            let eq = |e: &Arc<Entry>| e.room == entry.room && e.identity == entry.identity;
            match table.find_entry(hash, eq) {
                Ok(found) if found.get().version >= entry.version => {}
                Ok(mut found) => *found.get_mut() = entry,
                Err(_) => {
                    table.insert_unique(hash, entry, |e| self.hash(&e.room, &e.identity));
                }
            }
        };
        for entry in entries {
            install(Arc::new(entry), &mut tables);
        }
        for shard in self.shards.iter() {
            for entry in shard.load().table.iter().filter(|e| e.installed > started) {
                install(entry.clone(), &mut tables);
            }
        }
        writer.rooms.clear();
        let mut len = 0;
        for (shard, table) in self.shards.iter().zip(tables) {
            for entry in table.iter() {
                *writer.rooms.entry(entry.room.clone()).or_default() += 1;
                len += 1;
            }
            shard.store(Arc::new(Shard::new(table, self.retention_ms)));
        }
        self.len.store(len, Ordering::Relaxed);
    }

    /// Drops every entry expired at `now_ms` from the tables and the counts.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn sweep(&self, now_ms: i64) {
        let mut writer = self.lock();
        self.sweep_locked(&mut writer, now_ms);
    }

    fn sweep_locked(&self, writer: &mut Writer, now_ms: i64) {
        for shard in self.shards.iter() {
            let current = shard.load();
            if now_ms < current.earliest_expiry_ms {
                continue;
            }
            let mut table = current.table.clone();
            table.retain(|entry| {
                let keep = !entry.expired(now_ms, self.retention_ms);
                if !keep {
                    writer.removed(&self.len, &entry.room);
                }
                keep
            });
            shard.store(Arc::new(Shard::new(table, self.retention_ms)));
        }
        writer.next_sweep_ms = now_ms.saturating_add(SWEEP_EVERY_MS);
    }

    /// Every entry now.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> Vec<Arc<Entry>> {
        self.shards
            .iter()
            .flat_map(|shard| shard.load().table.iter().cloned().collect::<Vec<_>>())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ParticipantUpdate;

    const RETENTION: i64 = 1_000;

    fn revoke(at_ms: i64) -> Write {
        Write::Revoke { at_ms, cutoff: 0 }
    }

    fn options(max_entries: usize, per_room: usize) -> StateOptions {
        StateOptions::new()
            .with_max_entries(max_entries)
            .with_max_entries_per_room(per_room)
    }

    #[test]
    fn entries_are_found_by_room_and_identity_exactly() {
        let snapshot = Snapshot::new(RETENTION);
        assert!(snapshot.get("r", "a").is_none());
        snapshot
            .write("r", "a", &revoke(0), 0, &options(10, 10))
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
        let snapshot = Snapshot::new(RETENTION);
        let bounds = options(3, 3);
        for i in 0..3 {
            snapshot
                .write("r", &format!("p{i}"), &revoke(0), 0, &bounds)
                .expect("room");
        }
        assert_eq!(
            snapshot.write("r", "p9", &revoke(0), 0, &bounds),
            Err(Refused::Full)
        );
        assert!(snapshot.get("r", "p9").is_none());
        // A write to a participant already there always goes through.
        snapshot
            .write("r", "p0", &revoke(5), 5, &bounds)
            .expect("existing");
        // Once the others expire, there is room again, and they are gone from the counts.
        snapshot
            .write("r", "p9", &revoke(1_000), 1_000, &bounds)
            .expect("expired ones dropped");
        assert!(
            snapshot.get("r", "p0").is_some(),
            "written at 5: still there"
        );
        assert_eq!(snapshot.len(), 2);
        assert_eq!(snapshot.room_len("r"), 2);
    }

    #[test]
    fn one_room_cannot_fill_the_store_for_the_others() {
        let snapshot = Snapshot::new(RETENTION);
        let bounds = options(100, 5);
        for i in 0..5 {
            snapshot
                .write("mine", &format!("p{i}"), &revoke(0), 0, &bounds)
                .expect("room");
        }
        assert_eq!(
            snapshot.write("mine", "p5", &revoke(0), 0, &bounds),
            Err(Refused::RoomFull)
        );
        snapshot
            .write("yours", "p0", &revoke(0), 0, &bounds)
            .expect("another room is not affected");
        assert_eq!(
            (snapshot.room_len("mine"), snapshot.room_len("yours")),
            (5, 1)
        );
    }

    #[test]
    fn a_refused_write_changes_nothing() {
        let snapshot = Snapshot::new(RETENTION);
        let tight =
            options(10, 10).with_limits(crate::limits::Limits::new().with_max_attributes_size(4));
        let write = Write::Update {
            at_ms: 0,
            update: ParticipantUpdate::new().with_attribute("key", "value"),
        };
        assert!(matches!(
            snapshot.write("r", "a", &write, 0, &tight),
            Err(Refused::TooLarge(_))
        ));
        assert!(snapshot.get("r", "a").is_none());
        assert_eq!((snapshot.len(), snapshot.room_len("r")), (0, 0));
    }

    #[test]
    fn a_sweep_drops_expired_entries_from_the_tables_and_the_counts() {
        let snapshot = Snapshot::new(RETENTION);
        for i in 0..100 {
            snapshot
                .write("r", &format!("p{i}"), &revoke(i), i, &options(1000, 1000))
                .expect("room");
        }
        snapshot.sweep(1_049);
        assert_eq!(snapshot.len(), 50);
        assert_eq!(snapshot.room_len("r"), 50);
        assert_eq!(snapshot.entries().len(), 50);
        snapshot.sweep(2_000);
        assert_eq!((snapshot.len(), snapshot.room_len("r")), (0, 0));
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let snapshot = Snapshot::new(RETENTION);
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
        assert_eq!(snapshot.room_len("r"), 1);
    }

    #[test]
    fn a_resync_keeps_what_was_installed_while_it_scanned() {
        let snapshot = Snapshot::new(RETENTION);
        snapshot.put("r", "old", Some(Entry::new("r", "old")));
        let started = snapshot.installs();
        // Installed during the scan, and missing from what the scan found: kept.
        snapshot.put("r", "new", Some(Entry::new("r", "new")));
        snapshot.resync([Entry::new("q", "other")], started);
        assert!(snapshot.get("r", "new").is_some());
        assert!(snapshot.get("q", "other").is_some());
        assert!(
            snapshot.get("r", "old").is_none(),
            "gone from the backend, gone here"
        );
        assert_eq!(snapshot.len(), 2);
        assert_eq!((snapshot.room_len("r"), snapshot.room_len("q")), (1, 1));
    }

    #[test]
    fn put_and_resync_install_entries_as_given() {
        let snapshot = Snapshot::new(RETENTION);
        snapshot.put("r", "a", Some(Entry::new("r", "a")));
        assert_eq!(snapshot.len(), 1);
        snapshot.put("r", "a", None);
        assert_eq!((snapshot.len(), snapshot.room_len("r")), (0, 0));
        snapshot.resync((0..1000).map(|i| Entry::new("r", &format!("p{i}"))), 0);
        assert_eq!(snapshot.len(), 1000);
        assert_eq!(snapshot.entries().len(), 1000);
        assert!(snapshot.get("r", "p999").is_some());
        snapshot.resync([], snapshot.installs());
        assert!(snapshot.get("r", "p999").is_none() && snapshot.len() == 0);
    }
}
