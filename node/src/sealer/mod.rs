//! Block production for the local Clique signer. With `period > 0` a block is due every period
//! after its parent; with `period = 0` (dev) as soon as transactions wait. Empty blocks are only
//! sealed when asked (`--seal-empty`), to spare SD cards.

mod build;

pub use build::BuildError;
pub(crate) use build::{build_block, Built};

use crate::node::Node;
use std::time::Duration;
use tokio::sync::watch;

/// Runs the sealing loop until `shutdown` turns true.
pub async fn run(node: Node, mut shutdown: watch::Receiver<bool>) {
    // After an attempt that sealed nothing (transactions not yet includable, or not our turn),
    // wait a little rather than spin.
    let mut idle = false;
    loop {
        let delay = node.seal_delay();
        let delay = if idle { delay.map(|d| d.max(Duration::from_millis(250))) } else { delay };
        let wake = node.pool_changed();
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = wake => {}
            _ = tokio::time::sleep(delay.unwrap_or(Duration::from_secs(3600))) => {}
        }
        if *shutdown.borrow() {
            break;
        }
        let sealing = node.clone();
        let outcome = tokio::task::spawn_blocking(move || sealing.seal_if_due()).await;
        idle = matches!(outcome, Ok(Ok(None)));
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(target: "daisee::sealer", "sealing failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => tracing::error!(target: "daisee::sealer", "sealing task panicked: {e}"),
        }
    }
    tracing::info!(target: "daisee::sealer", "sealer stopped");
}
