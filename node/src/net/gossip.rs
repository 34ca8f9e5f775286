//! Gossip judged before it travels on: gossipsub runs with `validate_messages`, so nothing is
//! forwarded until the node has checked it and reported back — Accept (forwarded), Ignore
//! (dropped quietly: already known, not yet checkable, over budget) or Reject (dropped: invalid).
//! An invalid or malformed message gets the peer that sent it banned: messages are anonymous
//! (as on Ethereum's consensus layer), and an honest board forwards only what it accepted, so
//! whoever hands this board an invalid message made it or forwarded it unchecked.
//!
//! A peer that does not take what is sent to it (a queue of [`super::protocol::GOSSIP_QUEUE`]
//! messages failed within a minute, and no gossip from it meanwhile — a stalled link, or a
//! connection whose gossip handler gossipsub gave up on after too many substream failures, which
//! it never re-enables) is disconnected: the dialling side reconnects with a fresh connection
//! and handler, and the queue's memory is freed. A busy peer's late messages are only counted.

use super::discipline::Traffic;
use super::{import, Net};
use crate::chain::ImportError;
use crate::primitives::{Block, SignedTransaction};
use crate::txpool::PoolError;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::PeerId;

impl Net {
    pub(super) async fn on_gossip(
        &mut self,
        source: PeerId,
        id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        let block = message.topic == self.blocks_topic.hash();
        let kind = if block { Traffic::Block } else { Traffic::Tx };
        let verdict = if !self.admit(source, kind) {
            MessageAcceptance::Ignore
        } else {
            let judged = if block {
                self.gossiped_block(source, &message.data).await
            } else if message.topic == self.txs_topic.hash() {
                self.gossiped_tx(&message.data).await
            } else {
                Judged::Ignore
            };
            match judged {
                Judged::Accept => MessageAcceptance::Accept,
                Judged::Ignore => MessageAcceptance::Ignore,
                Judged::Reject(why) => {
                    self.ban(source, &why);
                    MessageAcceptance::Reject
                }
            }
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&id, &source, verdict);
    }

    /// Counts gossip a peer failed to take (gossipsub's `SlowPeer`: its queue full, or messages
    /// that waited there too long) and drops the connection once that is a queue's worth within
    /// a minute (`discipline`).
    pub(super) fn on_slow_peer(&mut self, peer: PeerId, failed: gossipsub::FailedMessages) {
        let count = failed.priority + failed.non_priority;
        metrics::counter!("daisee_net_gossip_failed_total").increment(count as u64);
        tracing::debug!(target: "daisee::net", %peer, count, "gossip the peer did not take in time");
        if self.discipline.slow(peer, count, std::time::Instant::now()) {
            metrics::counter!("daisee_net_slow_peers_dropped_total").increment(1);
            tracing::warn!(
                target: "daisee::net",
                %peer,
                "slow peer: {} gossip messages it could not take within a minute and none from it, disconnecting (it may reconnect)",
                super::discipline::SLOW_LIMIT
            );
            // Forgotten now, not at `ConnectionClosed`: a `SlowPeer` report that comes before
            // the connection is gone starts a new window instead of dropping it a second time.
            self.discipline.forget(&peer);
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    async fn gossiped_block(&mut self, source: PeerId, data: &[u8]) -> Judged {
        let block = match Block::decode(data) {
            Ok(block) => block,
            Err(e) => return Judged::Reject(format!("malformed block: {e}")),
        };
        match import(self.node.clone(), block).await {
            Ok(_) => Judged::Accept,
            Err(ImportError::AlreadyKnown(_)) | Err(ImportError::NotOnHead(_)) => Judged::Ignore,
            Err(ImportError::UnknownParent(_)) => {
                self.request_sync(source);
                Judged::Ignore
            }
            Err(ImportError::Consensus(crate::consensus::ConsensusError::FutureBlock {
                ..
            })) => Judged::Ignore,
            Err(ImportError::Consensus(
                e @ crate::consensus::ConsensusError::UnscheduledFork { .. },
            )) => {
                self.node.stop_for_upgrade(e.to_string());
                self.node.warn_about_upgrade();
                Judged::Ignore
            }
            Err(ImportError::Store(e)) => {
                self.store_failed(&e);
                Judged::Ignore
            }
            Err(e) => Judged::Reject(format!("invalid block: {e}")),
        }
    }

    async fn gossiped_tx(&mut self, data: &[u8]) -> Judged {
        let tx = match SignedTransaction::decode(data) {
            Ok(tx) => tx,
            Err(e) => return Judged::Reject(format!("malformed transaction: {e}")),
        };
        let node = self.node.clone();
        match tokio::task::spawn_blocking(move || node.submit_remote(tx)).await {
            Ok(Ok(_)) => Judged::Accept,
            // Signed by nobody, or for another chain: no honest node sends that.
            Ok(Err(e @ (PoolError::InvalidSender(_) | PoolError::WrongChainId { .. }))) => {
                Judged::Reject(format!("invalid transaction: {e}"))
            }
            // Known, stale, underpriced, or a full pool here: not proof of bad faith.
            Ok(Err(_)) | Err(_) => Judged::Ignore,
        }
    }
}

/// What the node made of one gossiped message.
enum Judged {
    Accept,
    Ignore,
    Reject(String),
}
