//! What one participant's entry costs (issue 18): heap in this process and memory in Redis, for
//! a revocation alone, a typical update, and an update at every one of LiveKit's size limits
//! (`limit:` defaults: name and identity and room 256 B, metadata 512 KiB, attributes 64 KiB),
//! which bounds what any entry can hold.
//!
//! ```sh
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin state_memory -- [--n 200]
//! ```
//!
//! Heap: the bytes this process has allocated and not freed (a counting global allocator),
//! before and after writing `n` entries of one kind to an in-memory state, divided by `n`.
//! Redis: `INFO memory`'s `used_memory` before and after writing the same entries through the
//! Redis backend to a `redis-server` of its own (127.0.0.1, stopped by PID), divided by `n`,
//! beside `MEMORY USAGE` of one participant's hash.

#![allow(clippy::print_stdout, clippy::print_stderr, unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use tower_livekit_auth::limits::Limits;
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantState, ParticipantUpdate, RedisOptions, StateOptions,
};
use tower_livekit_auth::TrackSource;
use tower_livekit_auth_bench::processes::{Persistence, RedisServer};

/// Counts the bytes allocated and not yet freed.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One kind of entry: its name, the room of participant `i`, its identity, and its write.
struct Kind {
    name: &'static str,
    write: fn(usize) -> (String, String, Option<ParticipantUpdate>),
}

fn padded(prefix: &str, i: usize, len: usize) -> String {
    let mut text = format!("{prefix}{i}-");
    while text.len() < len {
        text.push('x');
    }
    text
}

fn kinds() -> [Kind; 3] {
    [
        Kind {
            name: "a removal (cutoff only)",
            write: |i| ("room-1".into(), format!("participant-{i}"), None),
        },
        Kind {
            name: "a typical update (name, 200 B metadata, 3 attributes, permission)",
            write: |i| {
                let update = ParticipantUpdate::new()
                    .with_name(format!("Participant {i}"))
                    .with_metadata(padded("{\"seat\":", i, 200))
                    .with_attributes([("role", "speaker"), ("hand", "up"), ("lang", "fr")])
                    .with_permission(
                        ParticipantPermission::new()
                            .with_can_subscribe(true)
                            .with_can_publish(true)
                            .with_can_publish_sources([
                                TrackSource::Camera,
                                TrackSource::Microphone,
                            ]),
                    );
                ("room-1".into(), format!("participant-{i}"), Some(update))
            },
        },
        Kind {
            name: "every limit reached (names 256 B, metadata 512 KiB, attributes 64 KiB)",
            write: |i| {
                // 64 attributes of a 16-byte key and a 1,008-byte value: 64 KiB together.
                let attributes: Vec<(String, String)> = (0..64)
                    .map(|k| (format!("key-{k:012}"), "v".repeat(1008)))
                    .collect();
                let update = ParticipantUpdate::new()
                    .with_name(padded("name-", i, 256))
                    .with_metadata(padded("meta-", i, 512 * 1024))
                    .with_attributes(attributes)
                    .with_permission(ParticipantPermission::new().with_can_subscribe(true));
                (
                    padded("room-", i % 4, 256),
                    padded("identity-", i, 256),
                    Some(update),
                )
            },
        },
    ]
}

async fn write(
    state: &ParticipantState,
    (room, identity, update): (String, String, Option<ParticipantUpdate>),
) {
    match update {
        Some(update) => state
            .update(&room, &identity, update)
            .await
            .expect("within the limits"),
        None => {
            state.remove(&room, &identity, None).await.expect("room");
        }
    }
}

fn used_memory(server: &RedisServer) -> i64 {
    let info = server.command(&["INFO", "memory"]).expect("INFO");
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("used_memory")
}

fn options() -> StateOptions {
    StateOptions::new()
        .with_limits(Limits::new())
        .with_max_entries_per_room(1_000_000)
}

fn main() {
    let n: usize = std::env::args()
        .skip_while(|a| a != "--n")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    println!("| entry | in-memory heap per participant | Redis per participant (used_memory) | MEMORY USAGE of one hash |");
    println!("|---|---|---|---|");
    for kind in kinds() {
        // In memory.
        let state = ParticipantState::in_memory(options());
        runtime.block_on(write(&state, (kind.write)(usize::MAX)));
        let before = LIVE.load(Ordering::Relaxed);
        runtime.block_on(async {
            for i in 0..n {
                write(&state, (kind.write)(i)).await;
            }
        });
        let heap = (LIVE.load(Ordering::Relaxed) - before) as f64 / n as f64;
        drop(state);

        // Through Redis.
        let server = RedisServer::start(Persistence::None).expect("redis-server");
        let redis = runtime
            .block_on(ParticipantState::redis(
                &server.url(),
                options(),
                RedisOptions::new().with_prefix("mem"),
            ))
            .expect("reaches Redis");
        runtime.block_on(write(&redis, (kind.write)(usize::MAX)));
        let before = used_memory(&server);
        runtime.block_on(async {
            for i in 0..n {
                write(&redis, (kind.write)(i)).await;
            }
        });
        let per = (used_memory(&server) - before) as f64 / n as f64;
        let (room, identity, _) = (kind.write)(0);
        let key = format!("{{mem}}:p:{}:{room}:{identity}", room.len());
        let usage = server
            .command(&["MEMORY", "USAGE", &key, "SAMPLES", "0"])
            .expect("MEMORY USAGE");
        println!(
            "| {} | {:.0} B | {:.0} B | {} B |",
            kind.name,
            heap,
            per,
            usage.trim().trim_start_matches(':')
        );
        drop(redis);
    }
}
