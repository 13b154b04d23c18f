//! Request bodies read whole, with a limit: the token endpoint and the webhook layer read them,
//! and [`FullBody`] is what they hand on or answer with. Also the text body of a refusal, for the
//! body types the crate can fill.

use std::any::Any;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// A body that is one buffer already in memory: the verified body a
/// [`WebhookLayer`](crate::webhook::WebhookLayer) hands its handler, and the JSON a
/// [`TokenEndpoint`](crate::endpoint::TokenEndpoint) answers with. Any server or framework
/// that takes an [`http_body::Body`] with `Bytes` data takes it (axum's routes, hyper,
/// tonic).
///
/// ```
/// use http_body_util::BodyExt;
/// use tower_livekit_auth::body::FullBody;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let body = FullBody::from("hello");
/// assert_eq!(body.as_bytes(), b"hello");
/// let collected = body.collect().await.unwrap().to_bytes();
/// assert_eq!(&collected[..], b"hello");
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FullBody {
    /// `None` once the buffer has been polled out.
    data: Option<Bytes>,
}

impl FullBody {
    /// A body of `bytes`.
    pub fn new(bytes: Bytes) -> Self {
        FullBody {
            data: (!bytes.is_empty()).then_some(bytes),
        }
    }

    /// The bytes not yet polled out (all of them, until the body is read as a stream).
    pub fn as_bytes(&self) -> &[u8] {
        self.data.as_deref().unwrap_or_default()
    }

    /// The bytes, as one buffer.
    pub fn into_bytes(self) -> Bytes {
        self.data.unwrap_or_default()
    }
}

impl From<Bytes> for FullBody {
    fn from(bytes: Bytes) -> Self {
        FullBody::new(bytes)
    }
}

impl From<String> for FullBody {
    fn from(text: String) -> Self {
        FullBody::new(Bytes::from(text))
    }
}

impl From<&'static str> for FullBody {
    fn from(text: &'static str) -> Self {
        FullBody::new(Bytes::from_static(text.as_bytes()))
    }
}

impl From<Vec<u8>> for FullBody {
    fn from(bytes: Vec<u8>) -> Self {
        FullBody::new(Bytes::from(bytes))
    }
}

impl Body for FullBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.as_bytes().len() as u64)
    }
}

/// `text` as a response body of type `B`, for the body types the crate knows how to fill:
/// `String`, `Vec<u8>`, `Bytes`, [`FullBody`], `http_body_util::Full<Bytes>` and (feature
/// `axum`) axum's `Body`. `None` for any other type: a middleware generic over its response
/// body can only ask `B: Default` of it, which gives an empty body, so the type is looked up
/// instead.
pub(crate) fn text<B: 'static>(text: String) -> Option<B> {
    let mut body: Option<B> = None;
    let slot: &mut dyn Any = &mut body;
    /// Fills `slot` if it is an `Option` of one of these types, from `text`.
    macro_rules! fill {
        ($($body:ty => $make:expr),* $(,)?) => {
            $(if let Some(slot) = slot.downcast_mut::<Option<$body>>() {
                *slot = Some($make(text));
                return body;
            })*
        };
    }
    fill! {
        String => |text: String| text,
        Vec<u8> => String::into_bytes,
        Bytes => Bytes::from,
        FullBody => FullBody::from,
        http_body_util::Full<Bytes> => |text: String| http_body_util::Full::new(Bytes::from(text)),
    }
    #[cfg(feature = "axum")]
    fill! { axum_core::body::Body => axum_core::body::Body::from }
    body
}

/// Why a body could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Longer than the limit (declared so in `Content-Length`, or found so while reading).
    TooLarge,
    /// The body stream failed.
    Unreadable,
}

/// Refuses a request whose `Content-Length` declares more than `limit` bytes, before a byte of
/// it is read. A missing or unreadable `Content-Length` is left to [`read_limited`], which
/// counts what arrives.
pub(crate) fn check_declared_length(headers: &HeaderMap, limit: usize) -> Result<(), BodyError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => Err(BodyError::TooLarge),
        _ => Ok(()),
    }
}

/// The whole of `body`, if it has at most `limit` bytes.
pub(crate) async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn a_declared_length_over_the_limit_is_refused_and_others_are_left_to_the_read() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_LENGTH, HeaderValue::from_str(value).expect("value"));
            check_declared_length(&headers, 100)
        };
        assert_eq!(with("101"), Err(BodyError::TooLarge));
        assert_eq!(with("18446744073709551615"), Err(BodyError::TooLarge));
        assert_eq!(with("100"), Ok(()));
        assert_eq!(with("nonsense"), Ok(()), "the read still counts the bytes");
        assert_eq!(check_declared_length(&HeaderMap::new(), 100), Ok(()));
    }

    #[tokio::test]
    async fn a_text_body_fills_the_body_types_the_crate_knows_and_no_other() {
        let hello = || String::from("hello");
        assert_eq!(text::<String>(hello()).as_deref(), Some("hello"));
        assert_eq!(text::<Vec<u8>>(hello()), Some(b"hello".to_vec()));
        assert_eq!(text::<Bytes>(hello()), Some(Bytes::from_static(b"hello")));
        assert_eq!(text::<FullBody>(hello()), Some(FullBody::from("hello")));
        let full = text::<http_body_util::Full<Bytes>>(hello()).expect("Full");
        assert_eq!(
            &full.collect().await.expect("infallible").to_bytes()[..],
            b"hello"
        );
        #[cfg(feature = "axum")]
        {
            let body = text::<axum_core::body::Body>(hello()).expect("axum's Body");
            let bytes = body.collect().await.expect("in memory").to_bytes();
            assert_eq!(&bytes[..], b"hello");
        }
        assert!(text::<http_body_util::Empty<Bytes>>(hello()).is_none());
        assert!(text::<()>(hello()).is_none());
    }

    #[tokio::test]
    async fn full_bodies_report_their_size_and_end() {
        let body = FullBody::from("abc");
        assert_eq!(body.size_hint().exact(), Some(3));
        assert!(!body.is_end_stream());
        assert!(FullBody::default().is_end_stream());
        let bytes = read_limited(body, 3).await.expect("fits");
        assert_eq!(&bytes[..], b"abc");
        assert_eq!(
            read_limited(FullBody::from("abcd"), 3).await,
            Err(BodyError::TooLarge)
        );
    }
}
