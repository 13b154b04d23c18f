//! A write through Redis: read the participant's hash, apply the write with the in-memory
//! store's own code, and hand the changed fields to the write's script, which makes them only
//! if nobody wrote in between (else: read again).

use std::time::Duration;

use redis::{ErrorKind, RedisError, ServerErrorKind};

use super::super::entry::{Entry, Write};
use super::super::{Inner, StateError, StateErrorKind};
use super::keys::Keys;
use super::topology::Connection;
use super::{codec, script, unavailable, RedisBackend};
use crate::time::unix_ms;

/// How many times a write reads again when another writer came first.
const ATTEMPTS: usize = 16;

/// The pause before reading again after a connection failed (a failover under way).
const RETRY_PAUSE: Duration = Duration::from_millis(100);

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
        // Until the script is sent nothing is written: a failure to connect or read is tried
        // again (on Sentinel, on whichever node is the master by then) until the deadline.
        let deadline = tokio::time::Instant::now() + timeout;
        for _ in 0..ATTEMPTS {
            let (hash, mut connection) = loop {
                let read = async {
                    let mut connection = self.connection().await?;
                    let mut read = redis::cmd("HGETALL");
                    read.arg(&key);
                    let hash = read
                        .query_async::<Vec<(String, String)>>(&mut connection)
                        .await?;
                    Ok::<_, RedisError>((hash, connection))
                };
                let err = match tokio::time::timeout_at(deadline, Box::pin(read)).await {
                    Ok(Ok(read)) => break read,
                    Ok(Err(err)) => err,
                    Err(_) => {
                        return Err(StateError::with_detail(
                            StateErrorKind::Unavailable,
                            "Redis did not answer the read within the write timeout",
                        ))
                    }
                };
                self.forget_connection(&err).await;
                if tokio::time::Instant::now() + RETRY_PAUSE >= deadline
                    || matches!(err.kind(), ErrorKind::Server(ServerErrorKind::NoPerm))
                {
                    return Err(unavailable(err));
                }
                tokio::time::sleep(RETRY_PAUSE).await;
            };
            let now_ms = unix_ms(options.now());
            let read = codec::entry_of(room, identity, &hash);
            let read_version = read.as_ref().map_or(0, |e| e.version);
            // An entry past its retention is gone, as in memory: the write starts afresh.
            let (mut entry, new) = match read {
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
                Ok(Err(err)) => {
                    self.forget_connection(&err).await;
                    return Err(sent_and_failed(err));
                }
                Err(_) => {
                    return Err(StateError::with_detail(
                        StateErrorKind::OutcomeUnknown,
                        "Redis did not answer within the write timeout",
                    ))
                }
            };
            match reply.as_slice() {
                [1, version, _number] => {
                    self.replicated(&mut connection).await?;
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

impl RedisBackend {
    /// Waits until [`RedisOptions::with_replica_acks`](super::RedisOptions::with_replica_acks)
    /// replicas have the write `connection` made last. Fewer within the write timeout: the
    /// master has it, a failover now could lose it, so its outcome is unknown.
    async fn replicated(&self, connection: &mut Connection) -> Result<(), StateError> {
        if self.replica_acks == 0 {
            return Ok(());
        }
        let timeout = self.options.write_timeout;
        let asked = self
            .connector
            .wait(connection, self.keys.tag(), self.replica_acks, timeout);
        let unconfirmed = |detail: String| {
            StateError::with_detail(
                StateErrorKind::OutcomeUnknown,
                format!(
                    "the master has the write, but {detail}: a failover now could lose it; \
                     retry it (writes are idempotent)"
                ),
            )
        };
        match tokio::time::timeout(timeout + timeout / 2, asked).await {
            Ok(Ok(acks)) if acks >= self.replica_acks => Ok(()),
            Ok(Ok(acks)) => Err(unconfirmed(format!(
                "{acks} of the {} Redis replicas required confirmed it within {timeout:?}",
                self.replica_acks
            ))),
            Ok(Err(err)) => {
                self.forget_connection(&err).await;
                Err(unconfirmed(format!("WAIT failed ({err})")).caused_by(err))
            }
            Err(_) => Err(unconfirmed("WAIT was not answered".to_owned())),
        }
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
