//! The Lua that runs in Redis: the write, whole or nothing, and the probe that checks at start
//! that the Redis user may run every command the backend needs.
//!
//! Redis runs a script atomically but does not roll it back: a command refused halfway (by an
//! ACL, say) leaves the commands before it done. So the write first asks Redis, with
//! `redis.acl_check_cmd` (Redis 7), whether this user may run each command it is about to run
//! on each key and channel, and refuses before writing anything if not. The `#!lua` line makes
//! Redis check memory before the script starts (`deny-oom`), so an out-of-memory refusal also
//! comes before any write. A server older than Redis 7 refuses the script outright: the
//! probe tells at start.

use std::sync::LazyLock;

/// The commands the write runs, as `redis.acl_check_cmd` takes them: the command, its key or
/// channel, and placeholder arguments. Shared by the write and the probe, so that the probe
/// checks exactly what the write needs.
const CHECKS: &str = r"
-- The longest time to live set (100 years, in ms): forever, within what PEXPIRE takes.
local CAP = 3153600000000

local function first_denied(checks)
  for _, check in ipairs(checks) do
    if not redis.acl_check_cmd(unpack(check)) then
      return check[1] .. ' ' .. (check[2] or '')
    end
  end
  return false
end

local function missing(participant, counter, all, room, channel)
  local checks = {
    {'hget', participant, 'v'}, {'del', participant}, {'hset', participant, 'v', '1'},
    {'pexpire', participant, '1'}, {'pttl', participant},
    {'zremrangebyscore', all, '0', '0'}, {'zcard', all}, {'zadd', all, '0', 'm'},
    {'zrange', all, '0', '0', 'WITHSCORES'}, {'pexpire', all, '1'},
    {'zremrangebyscore', room, '0', '0'}, {'zcard', room}, {'zadd', room, '0', 'm'},
    {'zrange', room, '0', '0', 'WITHSCORES'}, {'pexpire', room, '1'},
    {'exists', counter}, {'set', counter, '1'}, {'incr', counter}, {'pexpire', counter, '1'},
    {'publish', channel, 'm'},
  }
  return first_denied(checks)
end
";

/// The write. KEYS: the participant's hash, the counter, the zset of every participant, the
/// room's zset. ARGV: the version read (CAS), now (ms), when the entry expires (ms), the
/// entry's time to live (ms), the bound on entries, the bound per room, the participant's id,
/// its identity, the channel, where a lost counter restarts, the retention (ms), `1` to clear
/// the hash first, `1` when the participant is new (its entry absent or expired: the bounds
/// apply), then the fields to set as pairs.
///
/// Returns `{1, version, number}` when written; `{0, version}` when the hash's version is not
/// the one read (another writer came first: read again); `{-1}` when the store is full, `{-2}`
/// when the room is; an error (nothing written) when the user lacks a command.
pub(crate) fn write() -> &'static str {
    static SCRIPT: LazyLock<String> = LazyLock::new(|| ["#!lua\n", CHECKS, WRITE].concat());
    &SCRIPT
}

const WRITE: &str = r"
local denied = missing(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[9])
if denied then
  return redis.error_reply('NOPERM the Redis user may not run ' .. denied ..
    ': grant it (see SECURITY.md, Redis); nothing was written')
end
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if version ~= tonumber(ARGV[1]) then return {0, version} end
local now = tonumber(ARGV[2])
if ARGV[13] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return {-1} end
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[6]) then return {-2} end
end
if ARGV[12] == '1' then redis.call('DEL', KEYS[1]) end
for i = 14, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'v', version + 1)
local ttl = math.max(tonumber(ARGV[4]), redis.call('PTTL', KEYS[1]))
redis.call('PEXPIRE', KEYS[1], ttl)
-- The zsets live as long as their longest-lived member.
for i, zset in ipairs({KEYS[3], KEYS[4]}) do
  redis.call('ZADD', zset, ARGV[3], i == 1 and ARGV[7] or ARGV[8])
  local last = redis.call('ZRANGE', zset, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', zset, math.min(CAP, math.max(1, tonumber(last[2]) - now)))
end
-- Number the announcement from the deployment's counter. A counter Redis lost starts again
-- from the writer's clock, above any number the old one reached, so that no number is reused.
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[10]) end
local number = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[11])
redis.call('PUBLISH', ARGV[9], string.format('%d %s', number, ARGV[7]))
return {1, version + 1, number}
";

/// The probe, run once at start: the first command (with its key or channel) the user may not
/// run, of those the write runs and those the replicas read with, or `ok`. Needs `EVAL`
/// itself (Redis answers `NOPERM ... 'eval'` otherwise). KEYS: as the write's. ARGV: the
/// channel, then `1` when writes wait for replicas (`WAIT`, which the probe checks too).
pub(crate) fn probe() -> &'static str {
    static SCRIPT: LazyLock<String> =
        LazyLock::new(|| ["#!lua flags=no-writes\n", CHECKS, PROBE].concat());
    &SCRIPT
}

const PROBE: &str = r"
-- What the replicas read and subscribe to, beside what the write runs.
local reads = {
  {'hgetall', KEYS[1]}, {'get', KEYS[2]}, {'zrangebyscore', KEYS[3], '0', '0'},
  {'subscribe', ARGV[1]},
}
-- After the write, on Sentinel and Cluster: WAIT for a replica.
if ARGV[2] == '1' then table.insert(reads, {'wait', '0', '0'}) end
return missing(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1]) or first_denied(reads) or 'ok'
";
