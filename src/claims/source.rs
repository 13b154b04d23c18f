//! Track sources, as named in `canPublishSources`.

use std::fmt;
use std::str::FromStr;

/// A kind of media track a participant may publish (`livekit.TrackSource`).
///
/// The wire names are the lower-case ones LiveKit writes in `canPublishSources`.
///
/// ```
/// use tower_livekit_auth::TrackSource;
///
/// assert_eq!("screen_share".parse::<TrackSource>().unwrap(), TrackSource::ScreenShare);
/// assert_eq!(TrackSource::Microphone.as_str(), "microphone");
/// // Names are matched exactly, as the LiveKit server does.
/// assert!("CAMERA".parse::<TrackSource>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TrackSource {
    /// `unknown` (0).
    Unknown,
    /// `camera` (1).
    Camera,
    /// `microphone` (2).
    Microphone,
    /// `screen_share` (3).
    ScreenShare,
    /// `screen_share_audio` (4).
    ScreenShareAudio,
}

impl TrackSource {
    /// Every source, in protobuf order (a slice: LiveKit adds sources from time to time).
    pub const ALL: &'static [TrackSource] = &[
        TrackSource::Unknown,
        TrackSource::Camera,
        TrackSource::Microphone,
        TrackSource::ScreenShare,
        TrackSource::ScreenShareAudio,
    ];

    /// The name LiveKit uses in `canPublishSources`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TrackSource::Unknown => "unknown",
            TrackSource::Camera => "camera",
            TrackSource::Microphone => "microphone",
            TrackSource::ScreenShare => "screen_share",
            TrackSource::ScreenShareAudio => "screen_share_audio",
        }
    }

    /// The protobuf number of the source.
    #[must_use]
    pub const fn number(self) -> u8 {
        self as u8
    }
}

/// Written as its `canPublishSources` name (`"camera"`).
impl serde::Serialize for TrackSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read from its `canPublishSources` name, exactly.
impl<'de> serde::Deserialize<'de> for TrackSource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom("unknown track source name"))
    }
}

impl fmt::Display for TrackSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string is not one of LiveKit's track source names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTrackSource(());

impl fmt::Display for UnknownTrackSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "unknown track source: expected one of camera, microphone, screen_share, \
             screen_share_audio, unknown (lower case)",
        )
    }
}

impl std::error::Error for UnknownTrackSource {}

impl FromStr for TrackSource {
    type Err = UnknownTrackSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrackSource::ALL
            .iter()
            .copied()
            .find(|source| source.as_str() == s)
            .ok_or(UnknownTrackSource(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_protobuf_numbers() {
        for (number, source) in TrackSource::ALL.iter().enumerate() {
            assert_eq!(source.number() as usize, number);
            assert_eq!(source.as_str().parse::<TrackSource>(), Ok(*source));
        }
    }

    #[test]
    fn names_are_case_sensitive() {
        assert!("Camera".parse::<TrackSource>().is_err());
        assert!("screen-share".parse::<TrackSource>().is_err());
    }
}
