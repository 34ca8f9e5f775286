//! Daisee node: a small proof-of-authority Ethereum node for energy communities.
