//! Integration tests: the `daisee` binary as a real process, spoken to over real sockets.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

mod attacks_load;
mod attacks_web;
mod backup;
mod bad_requests;
mod ban;
mod bench;
mod boards;
mod clients;
mod clock;
mod crash;
mod dashboard;
mod dev;
mod discovery;
mod full_disk;
mod gossip_attack;
mod history;
mod inspect;
mod lab;
mod lan_meters;
mod market_model;
mod mdns;
mod meters;
mod network;
mod operations;
mod owned_meters;
mod partition;
mod servers;
mod settlement;
mod support;
mod sync;
mod town;
mod town_bed;
mod town_meters;
mod upgrade;
