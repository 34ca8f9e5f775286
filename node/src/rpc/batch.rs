//! JSON-RPC batches served concurrently: jsonrpsee runs a batch's calls one after another, so a
//! call waiting (on the blocking pool: logs, fee history, traces) would hold up the rest. The
//! spec lets a server process a batch "as a set of concurrent tasks"; this middleware polls a
//! batch's calls together, keeping the responses in request order. Calls answered inline
//! (`eth_sendRawTransaction`, receipts) still take turns on the connection's task, one core: a
//! client that wants every core opens a connection per core, as `daisee load` does per lane.
//! (Splitting a batch into a task per runtime worker was measured: receipts polled 100 per batch
//! came no faster, the wake-ups of the other worker eating what it took over.)
//! Calls that run the EVM are the exception: a batch's share one [`BatchLane`], taking their turn
//! one after another within one time budget (see `evm_calls`).

use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::core::server::BatchResponseBuilder;
use jsonrpsee::server::MethodResponse;
use jsonrpsee::types::Request;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the calls of one batch share: a turn for running the EVM and the EVM time spent.
#[derive(Debug, Clone, Default)]
pub(crate) struct BatchLane {
    turn: Arc<tokio::sync::Mutex<()>>,
    spent: Arc<Mutex<Duration>>,
}

impl BatchLane {
    /// Waits for this batch's turn to run the EVM.
    pub(crate) async fn turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.turn.clone().lock_owned().await
    }

    /// EVM time the batch has used.
    pub(crate) fn spent(&self) -> Duration {
        *self.spent.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds EVM time used.
    pub(crate) fn charge(&self, d: Duration) {
        *self.spent.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += d;
    }
}

/// The middleware layer (see the module doc).
#[derive(Clone)]
pub(crate) struct ConcurrentBatches<S> {
    inner: S,
    max_response: usize,
}

impl<S> ConcurrentBatches<S> {
    pub(crate) fn new(inner: S, max_response: usize) -> Self {
        Self { inner, max_response }
    }
}

impl<S> RpcServiceT for ConcurrentBatches<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    type MethodResponse = MethodResponse;
    type BatchResponse = MethodResponse;
    type NotificationResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.inner.call(request)
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        let limit = self.max_response;
        let lane = BatchLane::default();
        async move {
            let answers = futures::future::join_all(batch.into_iter().map(|entry| {
                let inner = inner.clone();
                let lane = lane.clone();
                async move {
                    match entry {
                        Ok(BatchEntry::Call(mut request)) => {
                            request.extensions_mut().insert(lane);
                            Some(inner.call(request).await)
                        }
                        Ok(BatchEntry::Notification(n)) => {
                            inner.notification(n).await;
                            None
                        }
                        Err(e) => {
                            let (error, id) = e.into_parts();
                            Some(MethodResponse::error(id, error))
                        }
                    }
                }
            }))
            .await;
            let notified_only = answers.iter().all(Option::is_none) && !answers.is_empty();
            let mut builder = BatchResponseBuilder::new_with_limit(limit);
            for answer in answers.into_iter().flatten() {
                if let Err(too_big) = builder.append(answer) {
                    return too_big;
                }
            }
            if notified_only {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(builder.finish())
            }
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.inner.notification(n)
    }
}
