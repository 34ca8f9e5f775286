//! The Daisee contract executed in revm: every function, revert, event and payment.
#![allow(unreachable_pub)]

mod admin;
mod attacks;
mod community;
mod gas;
mod harness;
mod market;
mod reporting;
mod settlement;
mod settlement_props;
mod trading;
