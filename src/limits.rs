//! [`Limits`]: LiveKit's size limits on names, identities, metadata and attributes.
//!
//! The LiveKit server refuses an `UpdateParticipant` whose name, metadata or attributes are
//! larger than its `limit:` configuration allows (`pkg/config/config.go`, `LimitConfig`, and
//! its `Check*` methods; `pkg/service/roomservice.go` answers `invalid_argument`), and a room
//! name or an identity longer than its limit. The participant state enforces the same limits,
//! with the same defaults, so that what it holds for a participant is bounded by them.

use std::fmt;

/// LiveKit's default `limit.max_metadata_size`: 512 KiB.
pub const DEFAULT_MAX_METADATA_SIZE: usize = 512 * 1024;
/// LiveKit's default `limit.max_attributes_size` (every attribute's key and value together):
/// 64 KiB.
pub const DEFAULT_MAX_ATTRIBUTES_SIZE: usize = 64 * 1024;
/// LiveKit's default `limit.max_participant_name_length`, `max_participant_identity_length`
/// and `max_room_name_length`: 256 bytes.
pub const DEFAULT_MAX_NAME_LENGTH: usize = 256;

/// LiveKit's size limits (`limit:` in its config file), in bytes. A limit of 0 means "no
/// limit", as in LiveKit.
///
/// ```
/// use tower_livekit_auth::limits::{Limit, Limits};
///
/// let limits = Limits::new().with_max_metadata_size(16);
/// assert!(limits.check_metadata("short").is_ok());
/// let err = limits.check_metadata("seventeen bytes!!").expect_err("over the limit");
/// assert_eq!(err.limit(), Limit::MetadataSize);
/// assert_eq!(
///     err.to_string(),
///     "metadata: 17 bytes, over limit.max_metadata_size (16)"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    max_metadata_size: usize,
    max_attributes_size: usize,
    max_participant_name_length: usize,
    max_participant_identity_length: usize,
    max_room_name_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_metadata_size: DEFAULT_MAX_METADATA_SIZE,
            max_attributes_size: DEFAULT_MAX_ATTRIBUTES_SIZE,
            max_participant_name_length: DEFAULT_MAX_NAME_LENGTH,
            max_participant_identity_length: DEFAULT_MAX_NAME_LENGTH,
            max_room_name_length: DEFAULT_MAX_NAME_LENGTH,
        }
    }
}

/// Which of the [`Limits`] a value is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// `limit.max_metadata_size`.
    MetadataSize,
    /// `limit.max_attributes_size`: the attributes' keys and values together.
    AttributesSize,
    /// `limit.max_participant_name_length`.
    ParticipantNameLength,
    /// `limit.max_participant_identity_length`.
    ParticipantIdentityLength,
    /// `limit.max_room_name_length`.
    RoomNameLength,
}

impl Limit {
    /// The key of this limit in LiveKit's config file, under `limit:`.
    #[must_use]
    pub const fn config_key(self) -> &'static str {
        match self {
            Limit::MetadataSize => "max_metadata_size",
            Limit::AttributesSize => "max_attributes_size",
            Limit::ParticipantNameLength => "max_participant_name_length",
            Limit::ParticipantIdentityLength => "max_participant_identity_length",
            Limit::RoomNameLength => "max_room_name_length",
        }
    }

    /// What the limit is on, in words.
    const fn subject(self) -> &'static str {
        match self {
            Limit::MetadataSize => "metadata",
            Limit::AttributesSize => "attributes",
            Limit::ParticipantNameLength => "the participant name",
            Limit::ParticipantIdentityLength => "the identity",
            Limit::RoomNameLength => "the room name",
        }
    }
}

/// A value over one of the [`Limits`]: which one, the value's size and the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitExceeded {
    limit: Limit,
    size: usize,
    max: usize,
}

impl LimitExceeded {
    /// The limit the value is over.
    #[must_use]
    pub fn limit(&self) -> Limit {
        self.limit
    }

    /// The value's size in bytes.
    #[must_use]
    pub fn size(&self) -> usize {
        self.size
    }

    /// The limit, in bytes.
    #[must_use]
    pub fn max(&self) -> usize {
        self.max
    }
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} bytes, over limit.{} ({})",
            self.limit.subject(),
            self.size,
            self.limit.config_key(),
            self.max
        )
    }
}

impl std::error::Error for LimitExceeded {}

impl Limits {
    /// LiveKit's defaults: metadata 512 KiB, attributes 64 KiB, names, identities and room
    /// names 256 bytes.
    #[must_use]
    pub fn new() -> Self {
        Limits::default()
    }

    /// `limit.max_metadata_size` (0: no limit).
    #[must_use]
    pub fn with_max_metadata_size(mut self, bytes: usize) -> Self {
        self.max_metadata_size = bytes;
        self
    }

    /// `limit.max_attributes_size`, every key and value together (0: no limit).
    #[must_use]
    pub fn with_max_attributes_size(mut self, bytes: usize) -> Self {
        self.max_attributes_size = bytes;
        self
    }

    /// `limit.max_participant_name_length` (0: no limit).
    #[must_use]
    pub fn with_max_participant_name_length(mut self, bytes: usize) -> Self {
        self.max_participant_name_length = bytes;
        self
    }

    /// `limit.max_participant_identity_length` (0: no limit).
    #[must_use]
    pub fn with_max_participant_identity_length(mut self, bytes: usize) -> Self {
        self.max_participant_identity_length = bytes;
        self
    }

    /// `limit.max_room_name_length` (0: no limit).
    #[must_use]
    pub fn with_max_room_name_length(mut self, bytes: usize) -> Self {
        self.max_room_name_length = bytes;
        self
    }

    /// The limit on `limit`, in bytes (0: none).
    #[must_use]
    pub fn max(&self, limit: Limit) -> usize {
        match limit {
            Limit::MetadataSize => self.max_metadata_size,
            Limit::AttributesSize => self.max_attributes_size,
            Limit::ParticipantNameLength => self.max_participant_name_length,
            Limit::ParticipantIdentityLength => self.max_participant_identity_length,
            Limit::RoomNameLength => self.max_room_name_length,
        }
    }

    /// Whether `size` bytes are within `limit`.
    pub fn check(&self, limit: Limit, size: usize) -> Result<(), LimitExceeded> {
        let max = self.max(limit);
        if max == 0 || size <= max {
            return Ok(());
        }
        Err(LimitExceeded { limit, size, max })
    }

    /// `metadata` within `limit.max_metadata_size`.
    pub fn check_metadata(&self, metadata: &str) -> Result<(), LimitExceeded> {
        self.check(Limit::MetadataSize, metadata.len())
    }

    /// `name` within `limit.max_participant_name_length`.
    pub fn check_participant_name(&self, name: &str) -> Result<(), LimitExceeded> {
        self.check(Limit::ParticipantNameLength, name.len())
    }

    /// `identity` within `limit.max_participant_identity_length`.
    pub fn check_identity(&self, identity: &str) -> Result<(), LimitExceeded> {
        self.check(Limit::ParticipantIdentityLength, identity.len())
    }

    /// `room` within `limit.max_room_name_length`.
    pub fn check_room_name(&self, room: &str) -> Result<(), LimitExceeded> {
        self.check(Limit::RoomNameLength, room.len())
    }

    /// `attributes` within `limit.max_attributes_size`: every key and value counted, as
    /// LiveKit's `CheckAttributesSize` counts them.
    pub fn check_attributes<'a>(
        &self,
        attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), LimitExceeded> {
        let size = attributes.into_iter().fold(0usize, |sum, (key, value)| {
            sum.saturating_add(key.len()).saturating_add(value.len())
        });
        self.check(Limit::AttributesSize, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_livekits() {
        let limits = Limits::new();
        assert_eq!(limits.max(Limit::MetadataSize), 512 * 1024);
        assert_eq!(limits.max(Limit::AttributesSize), 64 * 1024);
        for limit in [
            Limit::ParticipantNameLength,
            Limit::ParticipantIdentityLength,
            Limit::RoomNameLength,
        ] {
            assert_eq!(limits.max(limit), 256);
        }
    }

    #[test]
    fn a_value_at_the_limit_passes_and_one_byte_more_does_not() {
        let limits = Limits::new().with_max_participant_name_length(3);
        assert!(limits.check_participant_name("abc").is_ok());
        let err = limits
            .check_participant_name("abcd")
            .expect_err("over the limit");
        assert_eq!(
            (err.limit(), err.size(), err.max()),
            (Limit::ParticipantNameLength, 4, 3)
        );
        // Bytes, not characters: "é" is two.
        assert!(limits.check_participant_name("aé").is_ok());
        assert!(limits.check_participant_name("aéb").is_err());
    }

    #[test]
    fn attributes_count_every_key_and_value() {
        let limits = Limits::new().with_max_attributes_size(6);
        assert!(limits.check_attributes([("ab", "c"), ("d", "ef")]).is_ok());
        let err = limits
            .check_attributes([("ab", "c"), ("d", "efg")])
            .expect_err("over the limit");
        assert_eq!(err.size(), 7);
        assert_eq!(
            err.to_string(),
            "attributes: 7 bytes, over limit.max_attributes_size (6)"
        );
    }

    #[test]
    fn zero_means_no_limit_as_in_livekit() {
        let limits = Limits::new().with_max_metadata_size(0);
        assert!(limits.check_metadata(&"x".repeat(10 << 20)).is_ok());
    }
}
