//! The crate with a participant state of [`ENTRIES`] other participants, in memory and through
//! Redis: what the hot path costs when the store is full of someone else's entries (issue 11:
//! within 5 % of no store; issue 12: Redis the same as memory).
//!
//! The entries are in the token set's own rooms, so that the lookup probes populated tables:
//! nine in ten are updates (a name and metadata), one in ten a removal (a revocation). None is
//! for a participant of the set, so every token verifies with its own claims.
//!
//! The Redis backend runs against a `redis-server` started on a free 127.0.0.1 port (no
//! persistence; [`crate::processes::RedisServer`]) and stopped by PID; without `redis-server`
//! it panics and says how to install it. The state's background task (pub/sub and the periodic
//! resync) runs on a runtime of its own, as in a server, with the default resync interval; see
//! [`States::redis_resync`].

use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::task::JoinSet;
use tower_livekit_auth::state::{ParticipantState, ParticipantUpdate, RedisOptions, StateOptions};
use tower_livekit_auth::Verifier;

use crate::processes::{Persistence, RedisServer};
use crate::tokens::ROOMS;

/// How many other participants the stores hold.
pub const ENTRIES: usize = 100_000;

/// The verifiers with a full store, and what keeps the Redis one alive.
pub struct States {
    /// The crate's verifier with an in-memory state of [`ENTRIES`] entries.
    pub memory: Verifier,
    /// The same with the Redis backend (the same entries, written through Redis).
    pub redis: Verifier,
    /// The Redis-backed state itself (for its length and the resync measurement).
    pub redis_state: ParticipantState,
    /// The runtime of the Redis state's background task: it lives as long as the state.
    pub runtime: Runtime,
    server: RedisServer,
}

/// A runtime for the stores: one worker, as a small server has.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// An in-memory state with `entries` other participants' entries.
pub fn memory_state(runtime: &Runtime, entries: usize) -> ParticipantState {
    let state = ParticipantState::in_memory(
        StateOptions::new()
            .with_max_entries(entries.max(1))
            .with_max_entries_per_room(entries.max(1)),
    );
    runtime.block_on(fill(&state, entries));
    assert_eq!(
        state.len(),
        entries,
        "the in-memory store holds every entry"
    );
    state
}

/// A Redis-backed state on `server` with `entries` other participants' entries, written
/// through Redis, with `options` (the defaults in the benches).
pub fn redis_state(
    runtime: &Runtime,
    url: &str,
    entries: usize,
    options: RedisOptions,
) -> ParticipantState {
    let state = runtime
        .block_on(ParticipantState::redis(
            url,
            StateOptions::new()
                .with_max_entries(entries.max(1))
                .with_max_entries_per_room(entries.max(1)),
            options.with_prefix("bench"),
        ))
        .expect("the Redis state connects to the bench's redis-server");
    runtime.block_on(fill(&state, entries));
    assert_eq!(state.len(), entries, "the Redis store holds every entry");
    state
}

impl States {
    /// Both stores around clones of `verifier`, filled with [`ENTRIES`] entries each. Starts
    /// `redis-server`; takes a few seconds.
    pub fn new(verifier: &Verifier) -> Self {
        Self::with_entries(verifier, ENTRIES)
    }

    /// [`new`](Self::new) with `entries` entries (the agreement test uses fewer).
    pub fn with_entries(verifier: &Verifier, entries: usize) -> Self {
        let runtime = runtime();
        let memory = memory_state(&runtime, entries);
        let server = start_redis();
        let redis = redis_state(&runtime, &server.url(), entries, RedisOptions::new());
        States {
            memory: verifier.clone().with_participant_state(memory),
            redis: verifier.clone().with_participant_state(redis.clone()),
            redis_state: redis,
            runtime,
            server,
        }
    }

    /// The URL of the bench's `redis-server`.
    pub fn redis_url(&self) -> String {
        self.server.url()
    }

    /// How long one full resync of the Redis state takes here (the background task makes one
    /// every 5 s by default): a fresh state reading every entry from Redis.
    pub fn redis_resync(&self) -> Duration {
        let start = Instant::now();
        let state = self
            .runtime
            .block_on(ParticipantState::redis(
                &self.server.url(),
                StateOptions::new()
                    .with_max_entries(self.redis_state.len().max(1))
                    .with_max_entries_per_room(self.redis_state.len().max(1)),
                RedisOptions::new().with_prefix("bench"),
            ))
            .expect("a second state connects");
        let elapsed = start.elapsed();
        assert_eq!(state.len(), self.redis_state.len());
        elapsed
    }

    /// The share of one core this process spends while the benchmark itself does nothing for
    /// `window`: the stores' background work (the Redis state's pub/sub and its periodic
    /// checks) with [`ENTRIES`] entries and no writes. From the threads' own CPU time
    /// (`/proc/self/task/*/schedstat`, Linux). See [`States::settle`] for the moment to ask.
    pub fn idle_cpu(&self, window: Duration) -> f64 {
        let before = process_cpu();
        let start = Instant::now();
        std::thread::sleep(window);
        let busy = process_cpu().saturating_sub(before);
        busy.as_secs_f64() / start.elapsed().as_secs_f64()
    }
}

impl States {
    /// Waits (up to `deadline`) until the Redis state has applied the fill's backlog: every
    /// write announced itself, and the state fetches each announcement that no rescan has
    /// covered, as any replica does after a burst of writes. Returns how long that took and
    /// whether it finished (less than 5 % of a core over a second).
    pub fn settle(&self, deadline: Duration) -> (Duration, bool) {
        let start = Instant::now();
        while start.elapsed() < deadline {
            if self.idle_cpu(Duration::from_secs(1)) < 0.05 {
                return (start.elapsed(), true);
            }
        }
        (start.elapsed(), false)
    }
}

/// The CPU time of every thread of this process so far (threads that ended are not counted;
/// the stores' threads live as long as the process).
fn process_cpu() -> Duration {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux's /proc/self/task");
    let nanos: u64 = tasks
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            stat.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum();
    Duration::from_nanos(nanos)
}

/// The `i`-th other participant: a room of the set and an identity no token of the set has.
pub fn other(i: usize) -> (&'static str, String) {
    (ROOMS[i % ROOMS.len()], format!("other-{i:06}"))
}

/// Writes `entries` entries into `state`, 64 writes in flight at a time.
async fn fill(state: &ParticipantState, entries: usize) {
    let mut writes = JoinSet::new();
    for i in 0..entries {
        if writes.len() >= 64 {
            writes.join_next().await.expect("a write").expect("joins");
        }
        let state = state.clone();
        writes.spawn(async move {
            let (room, identity) = other(i);
            let written = if i % 10 == 9 {
                state.remove(room, &identity, None).await.map(|_| ())
            } else {
                let update = ParticipantUpdate::new()
                    .with_name(format!("Other {i}"))
                    .with_metadata(r#"{"seat":"back"}"#);
                state.update(room, &identity, update).await
            };
            written.expect("the store has room for every entry");
        });
    }
    while let Some(done) = writes.join_next().await {
        done.expect("joins");
    }
}

/// A `redis-server` for the state benches; panics with how to install it if it is missing.
pub fn start_redis() -> RedisServer {
    RedisServer::start(Persistence::None)
        .unwrap_or_else(|err| panic!("the state/redis_100k bench needs redis-server: {err}"))
}
