//! A connection of the application's own to the Redis a [`RedisTopology`] names: the same
//! mode, credentials, TLS and failover handling as the participant state, for keys the
//! application keeps beside it (a server's room list, say), without a second Redis setup.

use std::fmt;
use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use super::topology::{Connection, Timeouts};
use super::{install_crypto_provider, tokio_runtime, unavailable, RedisTopology};
use crate::state::StateError;

/// A connection to the node that holds the data of a [`RedisTopology`] now: the server, the
/// master the sentinels name, or a Cluster connection that follows `MOVED` and failovers.
///
/// It implements redis-rs's [`ConnectionLike`](redis::aio::ConnectionLike), so redis-rs's
/// commands, pipelines and scripts run on it: with feature `redis`, redis-rs (1.x) is a
/// public dependency of this crate. Clones share one multiplexed connection. It does not
/// reconnect by itself: after an error, drop it and call [`RedisTopology::connect`] again (on
/// Sentinel that asks the sentinels for the master anew, which after a failover is another
/// node). Keys on a Cluster should carry one hash tag, as the participant state's do, when a
/// transaction or a script spans them.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use tower_livekit_auth::state::RedisTopology;
///
/// let topology = RedisTopology::sentinel("mymaster", ["10.0.0.1:26379", "10.0.0.2:26379"])?;
/// let mut connection = topology.connect(Duration::from_secs(2)).await?;
/// let rooms: Vec<String> = redis::cmd("HKEYS")
///     .arg("{myapp}:rooms")
///     .query_async(&mut connection)
///     .await?;
/// # drop(rooms);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisConnection(Connection);

impl RedisTopology {
    /// Connects to the node that holds the data now (see [`RedisConnection`]), waiting up to
    /// `timeout` to connect (twice that on Sentinel, whose sentinels are asked one by one) and
    /// for each answer afterwards.
    ///
    /// # Errors
    ///
    /// [`StateErrorKind::Unavailable`](crate::state::StateErrorKind::Unavailable) when no node
    /// answers in time or the connection is refused (its cause is redis-rs's error);
    /// [`StateErrorKind::InvalidConfig`](crate::state::StateErrorKind::InvalidConfig) when the
    /// topology cannot make a client (a TLS certificate that does not parse, say), or when
    /// called outside a tokio runtime.
    pub async fn connect(&self, timeout: Duration) -> Result<RedisConnection, StateError> {
        install_crypto_provider();
        tokio_runtime()?;
        let connector = self.connector(Timeouts {
            connect: timeout,
            response: timeout,
        })?;
        connector
            .connect()
            .await
            .map(RedisConnection)
            .map_err(unavailable)
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.0.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.0.req_packed_commands(cmd, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 {
            Connection::Node(_) => "node",
            Connection::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisConnection")
            .field("kind", &kind)
            .finish()
    }
}
