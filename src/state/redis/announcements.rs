//! (feature `redis`) Which announcements a replica has applied: what lets the periodic check
//! skip the full rescan of Redis when the replica missed nothing.
//!
//! Every write numbers its announcement from one counter of the deployment (`<prefix>:g`,
//! incremented in the write's own transaction, so a number is never reused and never skipped).
//! A replica counts what it applied: every number up to [`Applied::contiguous`], by a rescan or
//! by announcements, and the ones above it that arrived out of order. At each check it reads the
//! counter. A number at or below the counter of the *previous* check that is still not applied
//! had a whole interval to arrive: its announcement was lost, and the replica rescans. A
//! counter below what was applied means Redis lost it (flushed, or expired after a retention
//! without writes): rescan too. Otherwise the replica is current, and the check cost one `GET`.
//!
//! So a replica that missed an announcement notices within two check intervals; one that lost
//! its connection rescans when it reconnects, as before.

use std::collections::BTreeSet;

/// The announcements a replica has applied since its last rescan.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Every number up to this one is in the snapshot.
    contiguous: u64,
    /// Numbers above `contiguous` applied out of order (a write whose announcement is still in
    /// flight, or lost, lies between).
    above: BTreeSet<u64>,
    /// The counter at the previous check (or at the last rescan): by the next check, every
    /// announcement up to it has had an interval to arrive.
    checked: u64,
}

/// What a periodic check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Nothing missed: the snapshot is current as of the counter read.
    Current,
    /// An announcement was lost or Redis lost its counter: rescan.
    Rescan,
}

impl Applied {
    /// A rescan that read the counter at `counter` before it began installed everything up to
    /// it. (Announcements are applied on the same task as the rescan, never during it, so each
    /// one applied before had a number at or below `counter`.)
    pub(crate) fn rescanned(&mut self, counter: u64) {
        self.contiguous = counter;
        self.above.clear();
        self.checked = counter;
    }

    /// Whether the snapshot already holds the write numbered `number` (a rescan read it, or
    /// its announcement was applied): no need to fetch it again.
    pub(crate) fn covers(&self, number: u64) -> bool {
        number <= self.contiguous || self.above.contains(&number)
    }

    /// The announcement numbered `number` was applied.
    pub(crate) fn applied(&mut self, number: u64) {
        if number <= self.contiguous {
            return;
        }
        self.above.insert(number);
        while self.above.remove(&(self.contiguous + 1)) {
            self.contiguous += 1;
        }
    }

    /// A periodic check that read the counter at `counter` (`0` when Redis has none).
    pub(crate) fn check(&mut self, counter: u64) -> Check {
        let lost = self.contiguous < self.checked;
        let went_back = counter < self.contiguous;
        self.checked = counter;
        if lost || went_back {
            Check::Rescan
        } else {
            Check::Current
        }
    }
}

/// The number and participant of an announcement (`"<number> <id>"`, as the write's script
/// publishes it); `None` for a payload of another format.
pub(crate) fn parse(payload: &str) -> Option<(u64, &str)> {
    let (number, id) = payload.split_once(' ')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((number.parse().ok()?, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(number: u64, id: &str) -> String {
        format!("{number} {id}")
    }

    fn after_rescan(counter: u64) -> Applied {
        let mut applied = Applied::default();
        applied.rescanned(counter);
        applied
    }

    #[test]
    fn every_announcement_applied_means_current() {
        let mut applied = after_rescan(10);
        for number in [12, 11, 13] {
            applied.applied(number);
        }
        assert_eq!(applied.check(13), Check::Current);
        assert_eq!(applied.check(13), Check::Current);
    }

    #[test]
    fn an_announcement_in_flight_at_one_check_is_not_yet_lost() {
        let mut applied = after_rescan(10);
        applied.applied(12);
        assert!(applied.covers(12) && !applied.covers(11));
        // 11 is in flight: the counter says 12, but 11 had no interval to arrive yet.
        assert_eq!(applied.check(12), Check::Current);
        applied.applied(11);
        assert_eq!(applied.check(12), Check::Current);
    }

    #[test]
    fn an_announcement_still_missing_at_the_next_check_was_lost() {
        let mut applied = after_rescan(10);
        applied.applied(12);
        assert_eq!(applied.check(12), Check::Current);
        assert_eq!(applied.check(12), Check::Rescan, "11 never arrived");
        // The rescan installs everything up to the counter it read first.
        applied.rescanned(12);
        assert_eq!(applied.check(12), Check::Current);
        assert_eq!(applied.check(12), Check::Current);
    }

    #[test]
    fn the_last_announcement_lost_is_noticed_too() {
        let mut applied = after_rescan(10);
        assert_eq!(applied.check(11), Check::Current, "11 may be in flight");
        assert_eq!(applied.check(11), Check::Rescan, "it was not");
    }

    #[test]
    fn a_counter_redis_lost_means_a_rescan() {
        let mut applied = after_rescan(10);
        assert_eq!(applied.check(0), Check::Rescan, "flushed or expired");
        let mut applied = after_rescan(10);
        assert_eq!(applied.check(3), Check::Rescan, "recreated and written to");
    }

    #[test]
    fn a_counter_recreated_higher_is_rescanned_within_two_checks() {
        // A writer recreates a lost counter from its clock, far above the old one: the old
        // replicas see numbers they cannot join to theirs.
        let mut applied = after_rescan(10);
        applied.applied(5_000_001);
        assert_eq!(applied.check(5_000_001), Check::Current);
        assert_eq!(applied.check(5_000_001), Check::Rescan);
    }

    #[test]
    fn announcements_already_covered_by_the_rescan_change_nothing() {
        let mut applied = after_rescan(10);
        assert!(applied.covers(9) && applied.covers(10) && !applied.covers(11));
        applied.applied(9);
        applied.applied(10);
        assert_eq!(applied.check(10), Check::Current);
        assert_eq!(applied.check(10), Check::Current);
    }

    #[test]
    fn payloads_round_trip_and_foreign_ones_are_refused() {
        let id = "7:my room:alice bob";
        assert_eq!(parse(&payload(42, id)), Some((42, id)));
        for foreign in [
            "6:myroom:alice",
            "",
            " x",
            "-1 x",
            "+1 x",
            "1x y",
            "99999999999999999999 x",
        ] {
            assert_eq!(parse(foreign), None, "{foreign:?}");
        }
    }
}
