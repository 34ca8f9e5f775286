//! Catching up: the blocks a board serves to a peer that asks (canonical, by number, bounded),
//! and what it does with a peer's answers — a status on another chain gets the peer banned, a
//! heavier head starts a sync, blocks are imported in order and a peer sending invalid ones is
//! banned (blocks that are only "in the future" for this board's clock are fetched again later);
//! a peer on another fork schedule (EIP-2124 fork ids) is disconnected for a minute, not banned.

use super::protocol::{SyncRequest, SyncResponse, MAX_BLOCKS_PER_REQUEST, MAX_RESPONSE_BYTES};
use super::{import, Net, SYNC_REWIND};
use crate::chain::ImportError;
use crate::consensus::ConsensusError;
use crate::primitives::{Block, U256};
use libp2p::PeerId;

/// How long a board on another fork schedule stays disconnected before it is asked again.
const FORK_HOLD: std::time::Duration = std::time::Duration::from_secs(60);

impl Net {
    /// A peer's block could not be stored: the database's problem, not the peer's.
    pub(super) fn store_failed(&self, e: &crate::state::StoreError) {
        if crate::node::is_write_failure(e) {
            self.node.note_write_failure("a peer's block could not be stored", e);
        } else {
            tracing::error!(target: "daisee::net", "store: {e}");
        }
    }

    pub(super) fn blocks(&self, from: u64, count: u64) -> Vec<String> {
        let store = self.node.store();
        let (mut out, mut size) = (Vec::new(), 0);
        for n in from..from.saturating_add(count.min(MAX_BLOCKS_PER_REQUEST)) {
            let Ok(Some(hash)) = store.canonical_hash(n) else { break };
            let Ok(Some(block)) = store.block(&hash) else { break };
            let bytes = hex::encode(block.encoded());
            size += bytes.len();
            if size > MAX_RESPONSE_BYTES && !out.is_empty() {
                break;
            }
            out.push(bytes);
        }
        out
    }

    pub(super) fn request_sync(&mut self, peer: PeerId) {
        let from = self.node.head().number.saturating_sub(SYNC_REWIND).max(1);
        self.syncing.insert(peer);
        self.swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, SyncRequest::Blocks { from, count: MAX_BLOCKS_PER_REQUEST });
    }

    /// `asked`: when the request this answers left, for a status.
    pub(super) async fn on_response(
        &mut self,
        peer: PeerId,
        response: SyncResponse,
        asked: Option<std::time::Instant>,
    ) {
        match response {
            SyncResponse::Peers(records) => self.on_peers(peer, &records),
            SyncResponse::Status {
                genesis,
                network_id,
                head,
                hash,
                total_difficulty,
                signer,
                time,
                fork_id,
                ..
            } => {
                let ours = self.node.store().genesis_hash().unwrap_or_default();
                if genesis != ours || network_id != self.node.chain_id() {
                    tracing::warn!(
                        target: "daisee::net",
                        %peer,
                        "peer is on another chain (genesis {genesis}, network {network_id}); disconnecting"
                    );
                    self.ban(peer, "another chain");
                    return;
                }
                self.on_peer_time(peer, time, asked);
                let signer = self.proven_signer(&peer, signer.as_ref());
                // Another fork schedule: neither can follow the other's blocks past the fork.
                // Nobody's bad faith (the node says what to do): disconnect, and look again in a
                // minute, in case an operator upgraded either board.
                if let Some(id) = fork_id {
                    if self.node.check_peer_fork(&peer.to_string(), id, signer.is_some()).is_err() {
                        self.gate.ban(peer, None, std::time::Instant::now() + FORK_HOLD);
                        let _ = self.swarm.disconnect_peer_id(peer);
                        return;
                    }
                }
                self.on_verified(peer, head, signer);
                let theirs: U256 = total_difficulty.parse().unwrap_or_default();
                let our_head = self.node.head();
                let our_td = self
                    .node
                    .store()
                    .total_difficulty(&our_head.hash())
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                // Their head preferred to ours (heavier, or as heavy and shorter or of lower
                // hash: the fork choice's order), fetch their blocks.
                let our_choice = (our_td, our_head.number, our_head.hash());
                if crate::chain::preferred((theirs, head, hash), our_choice)
                    && !self.syncing.contains(&peer)
                {
                    tracing::debug!(target: "daisee::net", %peer, head, "peer is ahead, syncing");
                    self.request_sync(peer);
                }
            }
            SyncResponse::Blocks(blocks) => {
                self.syncing.remove(&peer);
                let mut imported = 0;
                for hex_block in blocks.iter().take(MAX_BLOCKS_PER_REQUEST as usize) {
                    let Ok(bytes) = hex::decode(hex_block) else {
                        return self.ban(peer, "malformed sync answer");
                    };
                    let block = match Block::decode(&bytes) {
                        Ok(b) => b,
                        Err(e) => return self.ban(peer, &format!("malformed block: {e}")),
                    };
                    match import(self.node.clone(), block).await {
                        Ok(_) => imported += 1,
                        Err(ImportError::AlreadyKnown(_)) => {}
                        Err(ImportError::UnknownParent(_)) | Err(ImportError::NotOnHead(_)) => {
                            break
                        }
                        Err(ImportError::Store(e)) => {
                            self.store_failed(&e);
                            return;
                        }
                        // Our clock is behind theirs: nobody's fault but ours, try again later.
                        Err(ImportError::Consensus(ConsensusError::FutureBlock { .. })) => {
                            self.node.warn_about_clock();
                            break;
                        }
                        // The community upgraded and this board did not: its fault, not theirs.
                        Err(ImportError::Consensus(e @ ConsensusError::UnscheduledFork { .. })) => {
                            self.node.stop_for_upgrade(e.to_string());
                            self.node.warn_about_upgrade();
                            break;
                        }
                        Err(e) => return self.ban(peer, &format!("invalid block in sync: {e}")),
                    }
                }
                if imported > 0 {
                    tracing::info!(target: "daisee::net", %peer, imported, head = self.node.head().number, "synced blocks");
                    // Ask again: the peer may have more.
                    self.ask_status(peer);
                }
            }
        }
    }
}
