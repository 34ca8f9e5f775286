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

pub mod accounts;
pub mod bench;
pub mod chain;
pub mod community;
pub mod consensus;
pub mod dashboard;
pub mod daybook;
pub mod disk_watch;
pub mod execution;
pub mod genesis;
pub mod meter;
pub mod metrics;
pub mod net;
pub mod node;
pub mod primitives;
pub mod rpc;
pub mod sealer;
pub mod service;
pub mod state;
pub mod txpool;

pub use service::{spawn, NodeHandle, ServiceConfig};
