//! What the gate writes about its checks: with `--access-log`, one line per check on stdout;
//! always, a warning on stderr (at most one every 10 s) when proxies send checks the gate
//! cannot read, since that is a configuration to fix. The original URI is written through the
//! library's `RedactedUri`, so an `?access_token=` never reaches a log; identities and rooms
//! are written escaped (`{:?}`), so no line can be forged through them.
//!
//! An access-log line: `gate VIA METHOD URI [host="HOST"] route=N|default -> STATUS OUTCOME`,
//! VIA being `auth`, `ext_authz` or `grpc`, N the index of the deciding route in the policy,
//! OUTCOME `allow identity="..." room="..."`, `allow (no token)`, a rejection kind with its
//! reason (`invalid_token (the token has been revoked)`) or `no_route`.
//!
//! Writing never fails a check: a closed stdout or stderr loses the line, nothing else.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_livekit_auth::middleware::{AuthRejection, RedactedUri};

use super::check::{Decided, Verdict};
use super::original::{BadOriginal, Original};

/// How often a misconfigured proxy is reported, at most.
const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// The gate's log.
#[derive(Debug, Default)]
pub(crate) struct Log {
    access: bool,
    /// Unix milliseconds of the last warning.
    last_warning: AtomicU64,
}

impl Log {
    pub(crate) fn new(access: bool) -> Log {
        Log {
            access,
            last_warning: AtomicU64::new(0),
        }
    }

    /// A check decided: one access-log line, when on.
    pub(crate) fn decided(
        &self,
        via: &str,
        original: &Original,
        host: Option<&str>,
        verdict: &Verdict,
        decided: Decided,
    ) {
        if !self.access {
            return;
        }
        let rule = match decided {
            Decided::Route(index) => format!("route={index}"),
            Decided::Default => String::from("route=default"),
        };
        let host = host
            .map(|host| format!(" host={host:?}"))
            .unwrap_or_default();
        let outcome = match verdict {
            Verdict::Allow(Some(claims)) => format!(
                "200 allow identity={:?} room={:?}",
                claims.identity(),
                claims.room()
            ),
            Verdict::Allow(None) => String::from("200 allow (no token)"),
            Verdict::Refuse(response) => match response.extensions().get::<AuthRejection>() {
                Some(rejection) => format!(
                    "{} {} ({rejection})",
                    response.status().as_u16(),
                    rejection.kind().as_str()
                ),
                None => format!("{} no_route", response.status().as_u16()),
            },
        };
        let _ = writeln!(
            std::io::stdout(),
            "gate {via} {} {}{host} {rule} -> {outcome}",
            original.method,
            RedactedUri::new(&original.uri)
        );
    }

    /// A check that named no readable original request: an access-log line when on, and a
    /// warning at most every [`WARNING_INTERVAL`].
    pub(crate) fn bad_original(&self, via: &str, err: &BadOriginal) {
        if self.access {
            let _ = writeln!(std::io::stdout(), "gate {via} -> 400 bad_request ({err})");
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let last = self.last_warning.load(Ordering::Relaxed);
        let interval = u64::try_from(WARNING_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        if now.saturating_sub(last) >= interval
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let _ = writeln!(
                std::io::stderr(),
                "warning: gate {via}: a check was answered 400 (check the proxy's \
                 configuration; repeats are not shown for {} s): {err}",
                WARNING_INTERVAL.as_secs()
            );
        }
    }
}
