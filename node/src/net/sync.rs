//! Catching up: the blocks a board serves to a peer that asks (canonical, by number, bounded),
//! and what it does with a peer's answers — a status on another chain gets the peer banned, a
//! preferred head this board lacks starts a sync, blocks are imported in order and a peer
//! sending invalid ones is banned (blocks that are only "in the future" for this board's clock
//! are fetched again later); a peer on another fork schedule (EIP-2124 fork ids) is disconnected
//! for a minute, not banned.
//!
//! Gossip brings new blocks; sync only fills what it did not bring, one range at a time (what
//! to ask next: `sync_state`). In a town of 50 boards sealing every 2 s some peer is nearly
//! always a block ahead when its status arrives; an earlier version then fetched the last 17
//! blocks, from every such peer at once — most of a board's traffic.

use super::protocol::{SyncRequest, SyncResponse, MAX_BLOCKS_PER_REQUEST, MAX_RESPONSE_BYTES};
use super::sync_state::{Asked, Outcome};
use super::{import, Net};
use crate::chain::ImportError;
use crate::consensus::ConsensusError;
use crate::primitives::{Block, U256};
use libp2p::PeerId;
use std::time::{Duration, Instant};

/// How long a board on another fork schedule stays disconnected before it is asked again.
const FORK_HOLD: Duration = Duration::from_secs(60);

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

    /// Asks `peer` for the blocks after this board's head (less the current rewind), unless a
    /// request is in flight already.
    pub(super) fn request_sync(&mut self, peer: PeerId) {
        if let Some(asked) = self.sync.start(peer, self.node.head().number) {
            self.send_sync(asked);
        }
    }

    fn send_sync(&mut self, asked: Asked) {
        let request = SyncRequest::Blocks { from: asked.from, count: MAX_BLOCKS_PER_REQUEST };
        self.swarm.behaviour_mut().sync.send_request(&asked.peer, request);
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
                let lacking = || !matches!(self.node.store().header(&hash), Ok(Some(_)));
                if crate::chain::preferred((theirs, head, hash), our_choice)
                    && lacking()
                    && self.sync.fetch_now(
                        hash,
                        head.saturating_sub(our_head.number),
                        Instant::now(),
                    )
                {
                    tracing::debug!(target: "daisee::net", %peer, head, "peer is ahead, syncing");
                    self.request_sync(peer);
                }
            }
            SyncResponse::Blocks(blocks) => {
                let Some(asked) = self.sync.take(&peer) else { return };
                let mut outcome = if blocks.is_empty() { Outcome::Empty } else { Outcome::Stopped };
                let mut imported = 0;
                for (i, hex_block) in
                    blocks.iter().take(MAX_BLOCKS_PER_REQUEST as usize).enumerate()
                {
                    let Ok(bytes) = hex::decode(hex_block) else {
                        return self.ban(peer, "malformed sync answer");
                    };
                    let block = match Block::decode(&bytes) {
                        Ok(b) => b,
                        Err(e) => return self.ban(peer, &format!("malformed block: {e}")),
                    };
                    let number = block.header.number;
                    match import(self.node.clone(), block).await {
                        Ok(_) => {
                            imported += 1;
                            outcome = Outcome::Through { last: number };
                        }
                        Err(ImportError::AlreadyKnown(_)) => {
                            outcome = Outcome::Through { last: number }
                        }
                        Err(ImportError::UnknownParent(_)) | Err(ImportError::NotOnHead(_)) => {
                            outcome = if i == 0 { Outcome::NotConnected } else { Outcome::Stopped };
                            break;
                        }
                        Err(ImportError::Store(e)) => {
                            self.store_failed(&e);
                            return;
                        }
                        // Our clock is behind theirs: nobody's fault but ours, try again later.
                        Err(ImportError::Consensus(ConsensusError::FutureBlock { .. })) => {
                            self.node.warn_about_clock();
                            outcome = Outcome::Stopped;
                            break;
                        }
                        // The community upgraded and this board did not: its fault, not theirs.
                        Err(ImportError::Consensus(e @ ConsensusError::UnscheduledFork { .. })) => {
                            self.node.stop_for_upgrade(e.to_string());
                            self.node.warn_about_upgrade();
                            outcome = Outcome::Stopped;
                            break;
                        }
                        Err(e) => return self.ban(peer, &format!("invalid block in sync: {e}")),
                    }
                }
                if imported > 0 {
                    tracing::info!(target: "daisee::net", %peer, imported, head = self.node.head().number, "synced blocks");
                }
                if let Some(next) = self.sync.next(asked, outcome, self.node.head().number) {
                    tracing::debug!(target: "daisee::net", %peer, from = next.from, ?outcome, "asking for more blocks");
                    self.send_sync(next);
                }
            }
        }
    }
}
