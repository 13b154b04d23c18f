//! [`ResponseFuture`]: the inner service's future, or a rejection ready at once.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use super::refresh::PendingRefresh;

pin_project! {
    /// The response future of [`Auth`](super::Auth) and [`Require`](super::Require).
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Inner {
            #[pin]
            future: F,
            // A refreshed token to hand back with a successful response.
            refresh: Option<PendingRefresh>,
        },
        Rejected {
            response: Option<Response<B>>,
        },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn inner(future: F, refresh: Option<PendingRefresh>) -> Self {
        ResponseFuture {
            state: State::Inner { future, refresh },
        }
    }

    pub(crate) fn rejected(response: Response<B>) -> Self {
        ResponseFuture {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future, refresh } => {
                let mut response = ready!(future.poll(cx))?;
                if let Some(refresh) = refresh.take() {
                    refresh.finish(&mut response);
                }
                Poll::Ready(Ok(response))
            }
            StateProj::Rejected { response } => {
                // Only a caller that polls a completed future (a contract violation) gets here.
                Poll::Ready(Ok(response
                    .take()
                    .expect("ResponseFuture polled after completion")))
            }
        }
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
