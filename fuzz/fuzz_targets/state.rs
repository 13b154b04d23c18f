//! A sequence of operations on an in-memory `ParticipantState` with small bounds and small
//! `Limits`, against the target's own model of the state (written here from the module docs of
//! `src/state/`, not from its code): updates, revocations and removals of a few participants,
//! a clock the input moves (backwards too, and to the ends of time), and verifications of
//! tokens minted at input-chosen `nbf`s.
//!
//! Input: 4 setup bytes, then operations until the input runs out.
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | bounds: `max_entries` = b % 6, `max_entries_per_room` = (b / 6) % 5 |
//! | 1 | limits: 2 bits each, name, metadata, attributes (0 none, 2, 6, 16 bytes), identity (0 none, 1, 2, 256) |
//! | 2 | bits 0-1: room name limit (0 none, 1, 2, 256); bits 2-4: retention (0, 1 ms, 1 s, 5 s, 60 s, 1 h, 366 days, `Duration::MAX`); bits 5-7: leeway (0, 1 ms, 1 s, 60 s, 600 s, `Duration::MAX`, 2 s, 90 s) |
//! | 3 | writes per operation before the checks: unused (reserved, 0) |
//!
//! Operations (first byte % 10): 0-2 update, 3 revoke, 4 remove, 5 move the clock, 6 mint
//! and verify a token, 7 update then verify, 8 verify the last token minted again, 9 an update,
//! a revocation or a removal (next byte % 3), then the last token again. The verifier with the
//! state has a cache (64 tokens), so a token verified again is a hit, which must see the state
//! as it is now. Rooms and identities come from one byte each (`a`/`b`, `é`
//! (two bytes), `""`, a 258-byte one); names, metadata and attribute values are short strings
//! of a small alphabet or raw input bytes (lossy UTF-8), `""` included; attribute keys
//! `k`, `l`, `é`, `""` or an 18-byte one; permissions every flag and a list of protobuf source
//! numbers, unknown ones (5, 99, -1, `i32::MAX`, `i32::MIN`) included; cutoffs `None`, 0,
//! `u64::MAX`, `i64::MAX`, `i64::MAX + 1`, near now, or any `u64`.
//!
//! Properties, after every operation:
//! - nothing panics; an in-memory write is ready at its first poll;
//! - `len() <= max_entries`, `room_len(r) <= max_entries_per_room`, and both lie between the
//!   model's entries certainly held and those possibly held (an expired entry is dropped at a
//!   write, and when is the state's choice: the model marks it "maybe" until `get` or a
//!   forced sweep tells);
//! - every write's result is the model's: `Ok` (with the cutoff a revocation returns) or the
//!   exact `StateErrorKind` (`InvalidParticipant`, `TooLarge`, `Full`, `RoomFull`, in the
//!   documented order of checks); a refused write changes nothing: `get` of that participant
//!   is the same before and after, and `len` drops only by entries expired at that time;
//! - `get` of every participant is the model's record (each field's latest value, the latest
//!   write time, the cutoff), and never exceeds the limits (name, metadata, attributes with the
//!   deleted keys' bytes);
//! - a token minted at `nbf` is refused as revoked (by `Verifier::verify_at` with the state,
//!   when the token is valid at that time, and by `ParticipantState::apply`) exactly when the
//!   participant's latest cutoff written, in an entry not expired, is after `nbf`; otherwise
//!   its claims are the model's per-field answer (each field's latest write applies when its
//!   time, the latest time written to that field, is at or after `nbf`; a permission written
//!   with an earlier time than the field's keeps what both allow), they never grant a flag or
//!   a source the list of writes in the order made would not (`tests/state_properties.rs`'s
//!   model), and when the updates' times never went backwards they are exactly the list's.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use tower_livekit_auth::limits::Limits;
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantRecord, ParticipantState, ParticipantUpdate, StateErrorKind,
    StateOptions,
};
use tower_livekit_auth::{
    AccessToken, Claims, KeyRing, TrackSource, Verifier, VerifyErrorKind, VideoGrant,
};

const KEY: &str = "APIstatefuzz";
const SECRET: &str = "stateFuzzSecret0123456789abcdefghijklmnop";
const T0_MS: i64 = 1_700_000_000_000;
const TTL_S: i64 = 86_400;
const TWO_POW_53: i64 = 1 << 53;
/// The state's caps on its settings (module docs of `StateOptions`).
const MAX_LEEWAY_MS: i64 = 600_000;
const MAX_RETENTION_MS: i64 = 366 * 24 * 3600 * 1000;

/// The known sources: what `TrackSource` is, its protobuf number and its name.
const KNOWN: [(TrackSource, i32, &str); 5] = [
    (TrackSource::Unknown, 0, "unknown"),
    (TrackSource::Camera, 1, "camera"),
    (TrackSource::Microphone, 2, "microphone"),
    (TrackSource::ScreenShare, 3, "screen_share"),
    (TrackSource::ScreenShareAudio, 4, "screen_share_audio"),
];
const SOURCE_NUMBERS: [i32; 10] = [0, 1, 2, 3, 4, 5, 99, -1, i32::MAX, i32::MIN];

fn long_name() -> String {
    "é".repeat(129)
}

/// The input, read a byte at a time; `None` once it runs out (the sequence ends there).
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    fn room(&mut self) -> Option<String> {
        Some(match self.byte()? % 8 {
            0..=2 => "a".into(),
            3..=4 => "b".into(),
            5 => "é".into(),
            6 => String::new(),
            _ => long_name(),
        })
    }

    fn identity(&mut self) -> Option<String> {
        Some(match self.byte()? % 8 {
            0..=2 => "p".into(),
            3..=4 => "q".into(),
            5 => "é".into(),
            6 => String::new(),
            _ => long_name(),
        })
    }

    /// A short string: of `x`, `y`, `z`, `é`, or raw input bytes (lossy UTF-8); often `""`.
    fn text(&mut self) -> Option<String> {
        let b = self.byte()?;
        let n = usize::from(b & 0x1f);
        if b & 0x80 != 0 {
            Some(String::from_utf8_lossy(self.bytes(n % 20)?).into_owned())
        } else {
            let alphabet = ['x', 'y', 'z', 'é'];
            Some(
                (0..n % 5)
                    .map(|i| alphabet[(usize::from(b >> 5) + i) % 4])
                    .collect(),
            )
        }
    }

    fn key(&mut self) -> Option<String> {
        Some(match self.byte()? % 6 {
            0 | 1 => "k".into(),
            2 => "l".into(),
            3 => "é".into(),
            4 => String::new(),
            _ => "k".repeat(18),
        })
    }
}

/// The clock as the state and the verifier read it: whole milliseconds.
fn at_ms(ms: i64) -> SystemTime {
    let magnitude = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

fn at_seconds(s: i64) -> SystemTime {
    let magnitude = Duration::from_secs(s.unsigned_abs());
    if s >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// Polls a write once: an in-memory write never waits.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an in-memory write is pending"),
    }
}

// ---------------------------------------------------------------------------------------------
// The model.

/// A permission as `UpdateParticipant` sends it: the flags and the source names.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Perm {
    /// subscribe, publish, data, hidden, recorder, update metadata, agent, metrics.
    flags: [bool; 8],
    /// Empty: every source.
    sources: BTreeSet<String>,
}

const PUBLISH: usize = 1;

impl Perm {
    fn allows(&self) -> [bool; 5] {
        KNOWN.map(|(_, _, name)| {
            self.flags[PUBLISH] && (self.sources.is_empty() || self.sources.contains(name))
        })
    }

    /// What both allow (module docs of `src/state/entry.rs`): each flag where both set it,
    /// the sources both allow; two lists with no name in common allow no source.
    fn meet(&self, other: &Perm) -> Perm {
        let mut flags = [false; 8];
        for (i, flag) in flags.iter_mut().enumerate() {
            *flag = self.flags[i] && other.flags[i];
        }
        let sources: BTreeSet<String> = match (self.sources.is_empty(), other.sources.is_empty()) {
            (true, _) => other.sources.clone(),
            (_, true) => self.sources.clone(),
            _ => self.sources.intersection(&other.sources).cloned().collect(),
        };
        if !self.sources.is_empty() && !other.sources.is_empty() && sources.is_empty() {
            flags[PUBLISH] = false;
        }
        Perm { flags, sources }
    }
}

#[derive(Clone, Debug, Default)]
struct Update {
    name: Option<String>,
    metadata: Option<String>,
    attributes: BTreeMap<String, String>,
    permission: Option<Perm>,
}

/// What a token's claims say, as the model and the crate give them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    name: String,
    metadata: String,
    attributes: BTreeMap<String, String>,
    flags: [bool; 8],
    sources: BTreeSet<String>,
    allows: [bool; 5],
}

impl Seen {
    fn of(claims: &Claims) -> Seen {
        let video = claims.video();
        Seen {
            name: claims.name().to_owned(),
            metadata: claims.metadata().to_owned(),
            attributes: claims
                .attributes()
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            flags: [
                claims.can_subscribe(),
                claims.can_publish(),
                claims.can_publish_data(),
                claims.is_hidden(),
                video.is_some_and(VideoGrant::is_recorder),
                claims.can_update_own_metadata(),
                video.is_some_and(VideoGrant::is_agent),
                claims.can_subscribe_metrics(),
            ],
            sources: video
                .map(|v| v.publish_source_names().map(str::to_owned).collect())
                .unwrap_or_default(),
            allows: KNOWN.map(|(source, _, _)| claims.can_publish_source(source)),
        }
    }

    fn set_permission(&mut self, perm: &Perm) {
        self.flags = perm.flags;
        self.sources.clone_from(&perm.sources);
        self.allows = perm.allows();
    }

    fn set_attribute(&mut self, key: &str, value: &str) {
        if value.is_empty() {
            self.attributes.remove(key);
        } else {
            self.attributes.insert(key.to_owned(), value.to_owned());
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Presence {
    /// Certainly in the state's tables (live or expired).
    Held,
    /// Expired at a write, so maybe dropped then.
    Maybe,
}

/// A value and the time the field took.
#[derive(Clone, Debug)]
struct Slot<T> {
    at_ms: i64,
    value: T,
}

/// The per-field rule: the later time stays; the value is the new one, or for a permission
/// what both allow, when the write carries an earlier time.
fn stamp<T>(slot: &mut Option<Slot<T>>, at_ms: i64, value: T, earlier: impl FnOnce(&T, T) -> T) {
    match slot {
        Some(old) if at_ms < old.at_ms => old.value = earlier(&old.value, value),
        _ => *slot = Some(Slot { at_ms, value }),
    }
}

#[derive(Clone, Debug)]
struct Entry {
    presence: Presence,
    cutoff: Option<i64>,
    last_write_ms: i64,
    /// The updates since the entry began or was last removed, in the order made.
    updates: Vec<(i64, Update)>,
    name: Option<Slot<String>>,
    metadata: Option<Slot<String>>,
    permission: Option<Slot<Perm>>,
    attributes: BTreeMap<String, Slot<String>>,
}

impl Entry {
    fn new() -> Entry {
        Entry {
            presence: Presence::Held,
            cutoff: None,
            last_write_ms: i64::MIN,
            updates: Vec::new(),
            name: None,
            metadata: None,
            permission: None,
            attributes: BTreeMap::new(),
        }
    }

    /// A retention after the later of its last write and its cutoff (times saturate at the
    /// ends of `i64` milliseconds).
    fn expired(&self, now_ms: i64, retention_ms: i64) -> bool {
        let cutoff_ms = self.cutoff.map_or(i64::MIN, |c| c.saturating_mul(1000));
        now_ms
            >= self
                .last_write_ms
                .max(cutoff_ms)
                .saturating_add(retention_ms)
    }

    fn attributes_size(&self) -> usize {
        self.attributes
            .iter()
            .map(|(k, s)| k.len() + s.value.len())
            .sum()
    }

    /// Records an update; `false` (and the entry unchanged) past the attributes limit.
    fn update(&mut self, at_ms: i64, update: &Update, max_attributes: usize) -> bool {
        let before = self.clone();
        if let Some(name) = &update.name {
            stamp(&mut self.name, at_ms, name.clone(), |_, new| new);
        }
        if let Some(metadata) = &update.metadata {
            stamp(&mut self.metadata, at_ms, metadata.clone(), |_, new| new);
        }
        if let Some(perm) = &update.permission {
            stamp(&mut self.permission, at_ms, perm.clone(), |old, new| {
                old.meet(&new)
            });
        }
        for (key, value) in &update.attributes {
            let mut slot = self.attributes.remove(key);
            stamp(&mut slot, at_ms, value.clone(), |_, new| new);
            self.attributes.insert(key.clone(), slot.expect("stamped"));
        }
        if max_attributes != 0 && self.attributes_size() > max_attributes {
            *self = before;
            return false;
        }
        self.updates.push((at_ms, update.clone()));
        self.last_write_ms = self.last_write_ms.max(at_ms);
        true
    }

    fn revoke(&mut self, at_ms: i64, cutoff: i64, remove: bool) {
        if remove {
            self.updates.clear();
            self.name = None;
            self.metadata = None;
            self.permission = None;
            self.attributes.clear();
        }
        self.cutoff = self.cutoff.max(Some(cutoff));
        self.last_write_ms = self.last_write_ms.max(at_ms);
    }

    fn revoked(&self, nbf: i64) -> bool {
        self.cutoff.is_some_and(|c| nbf < c)
    }

    /// The per-field answer for a token issued at `nbf` (not revoked).
    fn fields_answer(&self, nbf: i64, own: &Seen) -> Seen {
        let issued_ms = nbf.saturating_mul(1000);
        let mut seen = own.clone();
        if let Some(s) = self.name.as_ref().filter(|s| s.at_ms >= issued_ms) {
            seen.name.clone_from(&s.value);
        }
        if let Some(s) = self.metadata.as_ref().filter(|s| s.at_ms >= issued_ms) {
            seen.metadata.clone_from(&s.value);
        }
        for (key, s) in &self.attributes {
            if s.at_ms >= issued_ms {
                seen.set_attribute(key, &s.value);
            }
        }
        if let Some(s) = self.permission.as_ref().filter(|s| s.at_ms >= issued_ms) {
            seen.set_permission(&s.value);
        }
        seen
    }

    /// The list's answer (`tests/state_properties.rs`): every update made since the entry
    /// began or was removed, at or after `nbf`'s second, in the order made.
    fn list_answer(&self, nbf: i64, own: &Seen) -> Seen {
        let issued_ms = nbf.saturating_mul(1000);
        let mut seen = own.clone();
        for (at_ms, update) in &self.updates {
            if *at_ms < issued_ms {
                continue;
            }
            if let Some(name) = &update.name {
                seen.name.clone_from(name);
            }
            if let Some(metadata) = &update.metadata {
                seen.metadata.clone_from(metadata);
            }
            for (key, value) in &update.attributes {
                seen.set_attribute(key, value);
            }
            if let Some(perm) = &update.permission {
                seen.set_permission(perm);
            }
        }
        seen
    }

    /// Whether the updates' times never went backwards.
    fn in_order(&self) -> bool {
        self.updates.windows(2).all(|w| w[0].0 <= w[1].0)
    }
}

type Participant = (String, String);

struct Model {
    max_entries: usize,
    per_room: usize,
    limits: [usize; 5],
    retention_ms: i64,
    leeway_ms: i64,
    entries: BTreeMap<Participant, Entry>,
}

const NAME: usize = 0;
const METADATA: usize = 1;
const ATTRIBUTES: usize = 2;
const IDENTITY: usize = 3;
const ROOM: usize = 4;

#[derive(Debug, PartialEq, Eq)]
enum Expected {
    Ok,
    Err(StateErrorKind),
}

enum WriteOp {
    Update(Update),
    Revoke { cutoff: i64, remove: bool },
}

impl Model {
    fn over(&self, limit: usize, size: usize) -> bool {
        self.limits[limit] != 0 && size > self.limits[limit]
    }

    /// The checks made before the state is touched: the participant, and an update's own sizes.
    fn precheck(&self, room: &str, identity: &str, update: Option<&Update>) -> Option<Expected> {
        if room.is_empty() || identity.is_empty() {
            return Some(Expected::Err(StateErrorKind::InvalidParticipant));
        }
        if self.over(ROOM, room.len()) || self.over(IDENTITY, identity.len()) {
            return Some(Expected::Err(StateErrorKind::TooLarge));
        }
        if let Some(update) = update {
            let attributes: usize = update
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum();
            let too_large = update
                .name
                .as_ref()
                .is_some_and(|n| self.over(NAME, n.len()))
                || update
                    .metadata
                    .as_ref()
                    .is_some_and(|m| self.over(METADATA, m.len()))
                || self.over(ATTRIBUTES, attributes);
            if too_large {
                return Some(Expected::Err(StateErrorKind::TooLarge));
            }
            let empty = update.name.is_none()
                && update.metadata.is_none()
                && update.attributes.is_empty()
                && update.permission.is_none();
            if empty {
                return Some(Expected::Ok);
            }
        }
        None
    }

    /// A write that reaches the state's tables, at `now_ms`.
    fn write(&mut self, room: &str, identity: &str, op: &WriteOp, now_ms: i64) -> Expected {
        let retention_ms = self.retention_ms;
        let key = (room.to_owned(), identity.to_owned());
        let target_live = self
            .entries
            .get(&key)
            .is_some_and(|e| !e.expired(now_ms, retention_ms));
        if target_live {
            // The state may sweep now: what expired is maybe gone.
            for entry in self.entries.values_mut() {
                if entry.expired(now_ms, retention_ms) {
                    entry.presence = Presence::Maybe;
                }
            }
        } else {
            // A new participant: every expired entry is dropped first, then the bounds.
            self.entries.retain(|_, e| !e.expired(now_ms, retention_ms));
            if self.entries.len() >= self.max_entries {
                return Expected::Err(StateErrorKind::Full);
            }
            let in_room = self.entries.keys().filter(|(r, _)| r == room).count();
            if in_room >= self.per_room {
                return Expected::Err(StateErrorKind::RoomFull);
            }
        }
        let mut entry = self.entries.get(&key).cloned().unwrap_or_else(Entry::new);
        match op {
            WriteOp::Update(update) => {
                if !entry.update(now_ms, update, self.limits[ATTRIBUTES]) {
                    return Expected::Err(StateErrorKind::TooLarge);
                }
            }
            WriteOp::Revoke { cutoff, remove } => entry.revoke(now_ms, *cutoff, *remove),
        }
        self.entries.insert(key, entry);
        Expected::Ok
    }

    /// The model's entry for a participant, if it is live at `now_ms` (a "maybe" one is
    /// resolved before any operation reads it).
    fn entry(&self, room: &str, identity: &str, now_ms: i64) -> Option<&Entry> {
        self.entries
            .get(&(room.to_owned(), identity.to_owned()))
            .filter(|e| !e.expired(now_ms, self.retention_ms))
    }
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Run {
    model: Model,
    state: ParticipantState,
    verifier: Verifier,
    plain: Verifier,
    clock: Arc<AtomicI64>,
    rooms: Vec<String>,
    identities: Vec<String>,
    /// The last token minted, for `verify_again`.
    last: Option<Minted>,
}

struct Minted {
    token: String,
    own_claims: Claims,
    nbf: i64,
    room: String,
    identity: String,
}

fn options_from(input: &mut Input<'_>, clock: &Arc<AtomicI64>) -> Option<(Model, StateOptions)> {
    let bounds = input.byte()?;
    let limit_bits = input.byte()?;
    let more = input.byte()?;
    let _reserved = input.byte()?;
    let sizes = [0usize, 2, 6, 16];
    let names = [0usize, 1, 2, 256];
    let limits = [
        sizes[usize::from(limit_bits & 3)],
        sizes[usize::from((limit_bits >> 2) & 3)],
        sizes[usize::from((limit_bits >> 4) & 3)],
        names[usize::from((limit_bits >> 6) & 3)],
        names[usize::from(more & 3)],
    ];
    let retentions = [
        Duration::ZERO,
        Duration::from_millis(1),
        Duration::from_secs(1),
        Duration::from_secs(5),
        Duration::from_secs(60),
        Duration::from_secs(3600),
        Duration::from_secs(366 * 24 * 3600),
        Duration::MAX,
    ];
    let leeways = [
        Duration::ZERO,
        Duration::from_millis(1),
        Duration::from_secs(1),
        Duration::from_secs(60),
        Duration::from_secs(600),
        Duration::MAX,
        Duration::from_secs(2),
        Duration::from_secs(90),
    ];
    let retention = retentions[usize::from((more >> 2) & 7)];
    let leeway = leeways[usize::from(more >> 5)];
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let model = Model {
        max_entries: usize::from(bounds % 6),
        per_room: usize::from((bounds / 6) % 5),
        limits,
        retention_ms: ms(retention).min(MAX_RETENTION_MS),
        leeway_ms: ms(leeway).min(MAX_LEEWAY_MS),
        entries: BTreeMap::new(),
    };
    let read = clock.clone();
    let options = StateOptions::new()
        .with_max_entries(model.max_entries)
        .with_max_entries_per_room(model.per_room)
        .with_limits(
            Limits::new()
                .with_max_participant_name_length(limits[NAME])
                .with_max_metadata_size(limits[METADATA])
                .with_max_attributes_size(limits[ATTRIBUTES])
                .with_max_participant_identity_length(limits[IDENTITY])
                .with_max_room_name_length(limits[ROOM]),
        )
        .with_retention(retention)
        .with_leeway(leeway)
        .with_clock(move || at_ms(read.load(Ordering::SeqCst)));
    Some((model, options))
}

fn permission_from(input: &mut Input<'_>) -> Option<(Perm, ParticipantPermission)> {
    let flags_byte = input.byte()?;
    let sources_byte = input.byte()?;
    let mut flags = [false; 8];
    for (i, flag) in flags.iter_mut().enumerate() {
        *flag = flags_byte & (1 << i) != 0;
    }
    let mut numbers = Vec::new();
    for _ in 0..sources_byte % 4 {
        numbers.push(SOURCE_NUMBERS[usize::from(input.byte()? % 10)]);
    }
    let sources = numbers
        .iter()
        .map(
            |&n| match KNOWN.iter().find(|(_, number, _)| *number == n) {
                Some((_, _, name)) => (*name).to_owned(),
                None => n.to_string(),
            },
        )
        .collect();
    let permission = ParticipantPermission::new()
        .with_can_subscribe(flags[0])
        .with_can_publish(flags[1])
        .with_can_publish_data(flags[2])
        .with_hidden(flags[3])
        .with_recorder(flags[4])
        .with_can_update_metadata(flags[5])
        .with_agent(flags[6])
        .with_can_subscribe_metrics(flags[7])
        .with_can_publish_source_numbers(numbers);
    Some((Perm { flags, sources }, permission))
}

fn update_from(input: &mut Input<'_>) -> Option<(Update, ParticipantUpdate)> {
    let shape = input.byte()?;
    let mut model = Update::default();
    let mut update = ParticipantUpdate::new();
    if shape & 1 != 0 {
        let name = input.text()?;
        model.name = Some(name.clone()).filter(|n| !n.is_empty());
        update = update.with_name(name);
    }
    if shape & 2 != 0 {
        let metadata = input.text()?;
        model.metadata = Some(metadata.clone()).filter(|m| !m.is_empty());
        update = update.with_metadata(metadata);
    }
    if shape & 4 != 0 {
        let (perm, permission) = permission_from(input)?;
        model.permission = Some(perm);
        update = update.with_permission(permission);
    }
    for _ in 0..(shape >> 3) % 4 {
        let (key, value) = (input.key()?, input.text()?);
        model.attributes.insert(key.clone(), value.clone());
        update = update.with_attribute(key, value);
    }
    Some((model, update))
}

impl Run {
    fn now_ms(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    fn step(&mut self, input: &mut Input<'_>) -> Option<()> {
        match input.byte()? % 10 {
            0..=2 => self.update(input),
            3 => self.revoke(input, false),
            4 => self.revoke(input, true),
            5 => self.move_clock(input),
            6 => self.verify(input),
            7 => self.update(input).and_then(|()| self.verify(input)),
            8 => self.verify_again().or(Some(())),
            _ => {
                let op = input.byte()?;
                let written = match op % 3 {
                    0 => self.update(input),
                    1 => self.revoke(input, false),
                    _ => self.revoke(input, true),
                };
                self.verify_again();
                written
            }
        }?;
        self.resolve();
        self.check();
        Some(())
    }

    fn update(&mut self, input: &mut Input<'_>) -> Option<()> {
        let (room, identity) = (input.room()?, input.identity()?);
        let (model_update, update) = update_from(input)?;
        let now_ms = self.now_ms();
        let expected = match self.model.precheck(&room, &identity, Some(&model_update)) {
            Some(expected) => expected,
            None => self
                .model
                .write(&room, &identity, &WriteOp::Update(model_update), now_ms),
        };
        let before = self.observe(&room, &identity);
        let result = ready(self.state.update(&room, &identity, update));
        self.judge_write(
            &room,
            &identity,
            result.map_err(|e| e.kind()),
            &expected,
            before,
        );
        Some(())
    }

    fn revoke(&mut self, input: &mut Input<'_>, remove: bool) -> Option<()> {
        let (room, identity) = (input.room()?, input.identity()?);
        let now_ms = self.now_ms();
        let cutoff = match input.byte()? % 8 {
            0 => None,
            1 => Some(0),
            2 => Some(u64::MAX),
            3 => Some(
                self.now_s()
                    .saturating_add(i64::from(input.byte()? as i8))
                    .max(0) as u64,
            ),
            4 => Some(i64::MAX as u64),
            5 => Some(i64::MAX as u64 + 1),
            6 => Some(input.u64()?),
            _ => Some(self.now_s().saturating_add(1).max(0) as u64),
        };
        // Default: now + the leeway, in whole seconds, never before 1970.
        let returned = cutoff
            .unwrap_or_else(|| (now_ms.saturating_add(self.model.leeway_ms).max(0) / 1000) as u64);
        let stored = i64::try_from(returned).unwrap_or(i64::MAX);
        let expected = match self.model.precheck(&room, &identity, None) {
            Some(expected) => expected,
            None => self.model.write(
                &room,
                &identity,
                &WriteOp::Revoke {
                    cutoff: stored,
                    remove,
                },
                now_ms,
            ),
        };
        let before = self.observe(&room, &identity);
        let result = if remove {
            ready(self.state.remove(&room, &identity, cutoff))
        } else {
            ready(self.state.revoke(&room, &identity, cutoff))
        };
        if let Ok(got) = &result {
            assert_eq!(*got, returned, "the cutoff a revocation returns");
        }
        self.judge_write(
            &room,
            &identity,
            result.map(drop).map_err(|e| e.kind()),
            &expected,
            before,
        );
        Some(())
    }

    /// `get` of the participant and `len`, before a write.
    fn observe(&self, room: &str, identity: &str) -> (Option<ParticipantRecord>, usize) {
        (self.state.get(room, identity), self.state.len())
    }

    fn judge_write(
        &self,
        room: &str,
        identity: &str,
        result: Result<(), StateErrorKind>,
        expected: &Expected,
        (record_before, len_before): (Option<ParticipantRecord>, usize),
    ) {
        let got = match result {
            Ok(()) => Expected::Ok,
            Err(kind) => Expected::Err(kind),
        };
        assert_eq!(&got, expected, "write to {room:?}/{identity:?}");
        if let Err(kind) = result {
            assert_ne!(kind, StateErrorKind::OutcomeUnknown, "in memory");
            assert_eq!(
                self.state.get(room, identity),
                record_before,
                "a refused write ({kind:?}) changed the participant"
            );
            // Only a sweep of entries expired now may drop entries.
            let len = self.state.len();
            assert!(len <= len_before, "a refused write added an entry");
        }
    }

    fn move_clock(&mut self, input: &mut Input<'_>) -> Option<()> {
        let now = self.now_ms();
        let b = i64::from(input.byte()?);
        let next = match input.byte()? % 8 {
            0 => now.saturating_add(b * 7),
            1 => now.saturating_sub(b * 7),
            2 => now.saturating_add(b * 1000),
            3 => now.saturating_sub(b * 1000),
            4 => now
                .saturating_add(self.model.retention_ms)
                .saturating_add(b % 3 - 1),
            5 => [
                0,
                -1,
                T0_MS,
                i64::MAX,
                -i64::MAX,
                TWO_POW_53 * 1000,
                (TWO_POW_53 - TTL_S) * 1000,
                -TWO_POW_53 * 1000,
            ][usize::try_from(b % 8).ok()?],
            6 => input.u64()? as i64,
            _ => T0_MS + b * 1000,
        };
        // `SystemTime` holds these; the state's milliseconds saturate at -i64::MAX.
        self.clock.store(next.max(-i64::MAX), Ordering::SeqCst);
        Some(())
    }

    fn verify(&mut self, input: &mut Input<'_>) -> Option<()> {
        let (room, identity) = (input.room()?, input.identity()?);
        let now_ms = self.now_ms();
        let now_s = self.now_s();
        let b = input.byte()?;
        let entry = self.model.entry(&room, &identity, now_ms);
        let last_update_s = entry
            .and_then(|e| e.updates.last())
            .map_or(now_s, |(at, _)| at.div_euclid(1000));
        let cutoff = entry.and_then(|e| e.cutoff).unwrap_or(now_s);
        let nbf = match input.byte()? % 8 {
            0 => now_s.saturating_add(i64::from(b as i8)),
            1 => now_s,
            2 => last_update_s.saturating_add(i64::from(b % 3) - 1),
            3 => cutoff.saturating_add(i64::from(b % 3) - 1),
            4 => 0,
            5 => -i64::from(b),
            6 => input.u64()? as i64,
            _ => now_s - TTL_S + i64::from(b),
        }
        .clamp(-TWO_POW_53, TWO_POW_53 - TTL_S);
        let flags = input.byte()?;
        let name = input.text()?;
        let metadata = input.text()?;
        let mut attributes = BTreeMap::new();
        for _ in 0..flags % 3 {
            attributes.insert(input.key()?, input.text()?);
        }
        let joins = !room.is_empty() && !identity.is_empty();
        let mut grant = if joins {
            VideoGrant::join(room.clone())
        } else {
            VideoGrant::new().with_room(room.clone())
        };
        grant = grant
            .with_can_publish(flags & 0x04 != 0)
            .with_can_subscribe(flags & 0x08 != 0)
            .with_hidden(flags & 0x10 != 0)
            .with_agent(flags & 0x20 != 0);
        if flags & 0x40 != 0 {
            grant = grant.with_can_publish_data(true);
        }
        if flags & 0x80 != 0 {
            grant = grant.with_can_publish_sources([TrackSource::Camera, TrackSource::Microphone]);
        }
        let token = AccessToken::new(KEY, SECRET)
            .with_identity(identity.clone())
            .with_name(name)
            .with_metadata(metadata)
            .with_attributes(attributes)
            .with_video_grant(grant)
            .with_ttl(Duration::from_secs(TTL_S as u64))
            .to_jwt_at(at_seconds(nbf))
            .expect("mints");
        // The token's own claims, verified at its own `nbf`, without the state.
        let own_claims = self
            .plain
            .verify_at(&token, at_seconds(nbf))
            .expect("a token verifies at its own nbf");
        assert_eq!(own_claims.not_before(), Some(nbf));
        self.judge_token(&token, &own_claims, nbf, &room, &identity);
        self.last = Some(Minted {
            token,
            own_claims,
            nbf,
            room,
            identity,
        });
        Some(())
    }

    /// Verifies the last token minted again, now: a hit of the verifier's cache.
    fn verify_again(&mut self) -> Option<()> {
        let last = self.last.as_ref()?;
        self.judge_token(
            &last.token,
            &last.own_claims,
            last.nbf,
            &last.room,
            &last.identity,
        );
        Some(())
    }

    /// Asks the state about a token minted at `nbf` whose own claims are `own_claims`, through
    /// `ParticipantState::apply` and through the verifier with the state, and compares both
    /// answers with the model's.
    fn judge_token(&self, token: &str, own_claims: &Claims, nbf: i64, room: &str, identity: &str) {
        let now_ms = self.now_ms();
        let own = Seen::of(own_claims);
        let entry = self.model.entry(room, identity, now_ms);
        let revoked = entry.is_some_and(|e| e.revoked(nbf));
        let expected = entry.map_or_else(|| own.clone(), |e| e.fields_answer(nbf, &own));
        let judge = |what: &str, answer: Option<Seen>| {
            let Some(got) = answer else {
                assert!(
                    revoked,
                    "{what}: refused as revoked, the model says not (nbf {nbf})"
                );
                return;
            };
            assert!(
                !revoked,
                "{what}: not refused, the model says revoked (nbf {nbf})"
            );
            assert_eq!(got, expected, "{what}: the per-field answer (nbf {nbf})");
            let Some(entry) = entry else { return };
            let list = entry.list_answer(nbf, &own);
            for i in 0..8 {
                assert!(
                    !got.flags[i] || list.flags[i],
                    "{what}: flag {i} beyond the list of writes (nbf {nbf})"
                );
            }
            for i in 0..5 {
                assert!(
                    !got.allows[i] || list.allows[i],
                    "{what}: {:?} beyond the list of writes (nbf {nbf})",
                    KNOWN[i].0
                );
            }
            if entry.in_order() {
                assert_eq!(got, list, "{what}: the list's answer with ordered clocks");
            }
        };

        // `ParticipantState::apply`, at the state's own time.
        match self.state.apply(own_claims) {
            Ok(claims) => judge("apply", Some(Seen::of(&claims))),
            Err(refusal) => {
                assert_eq!(refusal, tower_livekit_auth::state::Refusal::Revoked);
                judge("apply", None);
            }
        }
        // The verifier with the state, when the token is valid now.
        match self.verifier.verify_at(token, at_ms(now_ms)) {
            Ok(claims) => judge("verify", Some(Seen::of(&claims))),
            Err(err) if err.kind() == VerifyErrorKind::Revoked => judge("verify", None),
            Err(err) => assert!(
                matches!(
                    err.kind(),
                    VerifyErrorKind::Expired
                        | VerifyErrorKind::NotYetValid
                        | VerifyErrorKind::IssuedInFuture
                ),
                "verify: {err:?} for a token minted at {nbf}, now {now_ms} ms"
            ),
        }
    }

    /// Resolves the "maybe" entries that are live now: `get` says whether the state kept them.
    fn resolve(&mut self) {
        let now_ms = self.now_ms();
        let retention_ms = self.model.retention_ms;
        let state = &self.state;
        self.model.entries.retain(|(room, identity), entry| {
            if entry.presence == Presence::Held || entry.expired(now_ms, retention_ms) {
                return true;
            }
            entry.presence = Presence::Held;
            state.get(room, identity).is_some()
        });
    }

    fn check(&self) {
        let now_ms = self.now_ms();
        let model = &self.model;
        let len = self.state.len();
        assert!(
            len <= model.max_entries,
            "len {len} over {}",
            model.max_entries
        );
        assert_eq!(self.state.is_empty(), len == 0);
        let count = |room: Option<&str>, maybe: bool| {
            model
                .entries
                .iter()
                .filter(|((r, _), _)| room.is_none_or(|room| r == room))
                .filter(|(_, e)| maybe || e.presence == Presence::Held)
                .count()
        };
        assert!(
            count(None, false) <= len && len <= count(None, true),
            "len {len}, model {} held + maybe {}",
            count(None, false),
            count(None, true)
        );
        for room in &self.rooms {
            let room_len = self.state.room_len(room);
            assert!(
                room_len <= model.per_room,
                "room_len {room_len} of {room:?}"
            );
            assert!(
                count(Some(room), false) <= room_len && room_len <= count(Some(room), true),
                "room_len {room_len} of {room:?}"
            );
            for identity in &self.identities {
                self.check_record(room, identity, model.entry(room, identity, now_ms));
            }
        }
    }

    fn check_record(&self, room: &str, identity: &str, entry: Option<&Entry>) {
        let record = self.state.get(room, identity);
        let (Some(record), Some(entry)) = (&record, entry) else {
            assert_eq!(
                record.is_some(),
                entry.is_some(),
                "get {room:?}/{identity:?}: {record:?}, the model has {entry:?}"
            );
            return;
        };
        let changes = record.changes();
        let limits = &self.model.limits;
        // Never past the limits.
        let attributes_size: usize = changes.attributes().map(|(k, v)| k.len() + v.len()).sum();
        for (limit, size) in [
            (NAME, changes.name().map_or(0, str::len)),
            (METADATA, changes.metadata().map_or(0, str::len)),
            (ATTRIBUTES, attributes_size),
        ] {
            assert!(
                limits[limit] == 0 || size <= limits[limit],
                "get {room:?}/{identity:?}: {size} bytes over limit {limit}"
            );
        }
        // The model's record.
        let what = format!("get {room:?}/{identity:?}");
        assert_eq!(
            changes.name(),
            entry.name.as_ref().map(|s| s.value.as_str()),
            "{what}: name"
        );
        assert_eq!(
            changes.metadata(),
            entry.metadata.as_ref().map(|s| s.value.as_str()),
            "{what}: metadata"
        );
        let attributes: BTreeMap<&str, &str> = changes.attributes().collect();
        let expected: BTreeMap<&str, &str> = entry
            .attributes
            .iter()
            .map(|(k, s)| (k.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(attributes, expected, "{what}: attributes");
        match (changes.permission(), &entry.permission) {
            (None, None) => {}
            (Some(p), Some(slot)) => {
                let flags = [
                    p.can_subscribe,
                    p.can_publish,
                    p.can_publish_data,
                    p.hidden,
                    p.recorder,
                    p.can_update_metadata,
                    p.agent,
                    p.can_subscribe_metrics,
                ];
                assert_eq!(flags, slot.value.flags, "{what}: permission flags");
                let sources: BTreeSet<String> =
                    p.can_publish_sources().map(str::to_owned).collect();
                assert_eq!(sources, slot.value.sources, "{what}: permission sources");
                let allows = KNOWN.map(|(source, _, _)| p.can_publish_source(source));
                assert_eq!(allows, slot.value.allows(), "{what}: permission's sources");
            }
            (got, want) => panic!("{what}: permission {got:?}, the model has {want:?}"),
        }
        let updated = entry.updates.iter().map(|(at, _)| *at).max();
        assert_eq!(
            record.updated_at(),
            updated.map(at_ms),
            "{what}: updated_at"
        );
        let cutoff = entry
            .cutoff
            .map(|c| u64::try_from(c).expect("cutoffs are u64"));
        assert_eq!(record.revoked_before(), cutoff, "{what}: revoked_before");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let clock = Arc::new(AtomicI64::new(T0_MS));
    let Some((model, options)) = options_from(&mut input, &clock) else {
        return;
    };
    let state = ParticipantState::in_memory(options);
    let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
    let mut run = Run {
        model,
        verifier: Verifier::new(keys.clone())
            .with_cache(64, 1 << 20)
            .with_participant_state(state.clone()),
        plain: Verifier::new(keys),
        state,
        clock,
        rooms: vec![
            "a".into(),
            "b".into(),
            "é".into(),
            String::new(),
            long_name(),
        ],
        identities: vec![
            "p".into(),
            "q".into(),
            "é".into(),
            String::new(),
            long_name(),
        ],
        last: None,
    };
    run.check();
    while run.step(&mut input).is_some() {}
});
