//! A write through Redis: read the participant's hash, apply the write with the in-memory
//! store's own code, and hand the changed fields to the write's script, which makes them only
//! if nobody wrote in between (else: read again).

use redis::{ErrorKind, RedisError};

use super::super::entry::{Entry, Write};
use super::super::{Inner, StateError, StateErrorKind};
use super::keys::Keys;
use super::{codec, script, unavailable, RedisBackend};
use crate::time::unix_ms;

/// How many times a write reads again when another writer came first.
const ATTEMPTS: usize = 16;

/// The longest time to live given to a key (100 years, in ms): "forever", within what
/// `PEXPIRE` takes.
const MAX_TTL_MS: i64 = 3_153_600_000_000;

impl RedisBackend {
    /// Writes `write` for the participant to Redis (and, once Redis has it, to `inner`'s
    /// snapshot).
    ///
    /// Until the script is sent nothing is written, so a failure then is
    /// [`StateErrorKind::Unavailable`]. Once it is sent, an answer refusing it (Redis 7 runs
    /// it whole or not at all) is `Unavailable` too; no answer, or a connection lost before
    /// it, is [`StateErrorKind::OutcomeUnknown`]: Redis may have run it, or may run it yet.
    pub(crate) async fn write(
        &self,
        inner: &Inner,
        room: &str,
        identity: &str,
        write: &Write,
    ) -> Result<(), StateError> {
        let id = Keys::id(room, identity);
        let key = self.keys.participant(&id);
        let options = &inner.options;
        let timeout = self.options.write_timeout;
        for _ in 0..ATTEMPTS {
            let mut connection = self.writes.clone();
            let mut read = redis::cmd("HGETALL");
            read.arg(&key);
            let read = read.query_async::<Vec<(String, String)>>(&mut connection);
            let hash = match tokio::time::timeout(timeout, read).await {
                Ok(Ok(hash)) => hash,
                Ok(Err(err)) => return Err(unavailable(err)),
                Err(_) => {
                    return Err(StateError::with_detail(
                        StateErrorKind::Unavailable,
                        "Redis did not answer the read within the write timeout",
                    ))
                }
            };
            let now_ms = unix_ms(options.now());
            let read_version = codec::entry_of(room, identity, &hash).map_or(0, |e| e.version);
            // An entry past its retention is gone, as in memory: the write starts afresh.
            let (mut entry, new) = match codec::entry_of(room, identity, &hash) {
                Some(entry) if !entry.expired(now_ms, options.retention_ms()) => (entry, false),
                _ => (Entry::new(room, identity), true),
            };
            entry.record(write, &options.limits)?;
            let (clear, set) = codec::changes(write, &entry);
            let expires_ms = entry.expires_ms(options.retention_ms());
            let ttl_ms = expires_ms.saturating_sub(now_ms).clamp(1, MAX_TTL_MS);
            let mut script = redis::cmd("EVAL");
            script
                .arg(script::write())
                .arg(4)
                .arg(&key)
                .arg(self.keys.counter())
                .arg(self.keys.all())
                .arg(self.keys.room(room))
                .arg(read_version)
                .arg(now_ms)
                .arg(expires_ms)
                .arg(ttl_ms)
                .arg(options.max_entries)
                .arg(options.max_entries_per_room)
                .arg(&id)
                .arg(identity)
                .arg(self.keys.channel())
                // A lost counter restarts from the writer's clock in microseconds.
                .arg(now_ms.clamp(0, 1 << 42) * 1000)
                .arg(options.retention_ms().max(1))
                .arg(if clear || new { "1" } else { "0" })
                .arg(if new { "1" } else { "0" });
            for (field, value) in &set {
                script.arg(field).arg(value);
            }
            let reply = match tokio::time::timeout(
                timeout,
                script.query_async::<Vec<i64>>(&mut connection),
            )
            .await
            {
                Ok(Ok(reply)) => reply,
                Ok(Err(err)) => return Err(sent_and_failed(err)),
                Err(_) => {
                    return Err(StateError::with_detail(
                        StateErrorKind::OutcomeUnknown,
                        "Redis did not answer within the write timeout",
                    ))
                }
            };
            match reply.as_slice() {
                [1, version, _number] => {
                    entry.version = u64::try_from(*version).unwrap_or(0);
                    inner.snapshot.put(room, identity, Some(entry));
                    return Ok(());
                }
                [0, ..] => continue,
                [-1] => return Err(StateError::new(StateErrorKind::Full)),
                [-2] => return Err(StateError::new(StateErrorKind::RoomFull)),
                _ => {
                    return Err(StateError::with_detail(
                        StateErrorKind::OutcomeUnknown,
                        "Redis answered the write with something unexpected",
                    ))
                }
            }
        }
        Err(StateError::with_detail(
            StateErrorKind::Unavailable,
            format!("{ATTEMPTS} other writes to this participant came first; nothing was written"),
        ))
    }
}

/// The error of a script that was sent: refused by Redis (nothing written), or not answered
/// (the outcome is unknown).
fn sent_and_failed(err: RedisError) -> StateError {
    let refused = matches!(
        err.kind(),
        ErrorKind::Server(_)
            | ErrorKind::Extension
            | ErrorKind::Client
            | ErrorKind::InvalidClientConfig
            | ErrorKind::AuthenticationFailed
    ) || err.is_connection_refusal();
    if refused {
        return unavailable(err);
    }
    StateError::with_detail(
        StateErrorKind::OutcomeUnknown,
        format!("the connection to Redis failed after the write was sent: {err}"),
    )
    .caused_by(err)
}
