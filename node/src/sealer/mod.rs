//! Block production for the local Clique signer. With `period > 0` a block is due every period
//! after its parent; with `period = 0` (dev) as soon as transactions wait. Empty blocks are only
//! sealed when asked (`--seal-empty`), to spare SD cards.

mod build;

pub(crate) use build::build_block;
pub use build::BuildError;

use crate::node::Node;
use std::time::Duration;
use tokio::sync::watch;

/// Runs the sealing loop until `shutdown` turns true.
pub async fn run(node: Node, mut shutdown: watch::Receiver<bool>) {
    loop {
        let delay = node.seal_delay();
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
        match tokio::task::spawn_blocking(move || sealing.seal_if_due()).await {
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
