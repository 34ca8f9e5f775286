//! Block building for the local Clique signer: the pool's best transactions executed on the head
//! into a sealed block ready to commit. When a block is due, and the loop that seals it, are the
//! node's (`node::sealing`).

mod build;

pub(crate) use build::build_block;
pub use build::BuildError;
