//! Daisee node: a small proof-of-authority Ethereum node for energy communities.
//!
//! Data flows one way:
//!
//! ```text
//! rpc / net / meter ──► txpool ──► sealer ──► execution ──► consensus (seal)
//!                                                              │
//!   peers' blocks ──────────────────────────────────► chain::import ──► state (one sled batch)
//!                                                              │
//!                                          NewHead event ◄─────┘ (rpc subscriptions, gossip)
//! ```

pub mod chain;
pub mod consensus;
pub mod execution;
pub mod genesis;
pub mod primitives;
pub mod state;
pub mod txpool;
