//! Why the network could not start.

use libp2p::Multiaddr;

/// Why networking could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The TCP/noise/yamux transport could not be built.
    #[error("p2p transport: {0}")]
    Transport(String),
    /// A behaviour (gossipsub, mDNS, …) could not be built.
    #[error("p2p behaviour: {0}")]
    Behaviour(String),
    /// The gossip topics could not be subscribed to.
    #[error("gossip subscription: {0}")]
    Subscribe(String),
    /// The listening address could not be bound.
    #[error("listening on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] crate::state::StoreError),
}
