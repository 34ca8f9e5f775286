//! A community of `n` metered households for settlement tests: readings per interval, escrow,
//! limit prices, `settle`, and what it emitted.

use crate::harness::{account, ether, Chain, Outcome, BLOCK_GAS_LIMIT};
use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use daisee_contracts::{daisee_deploy_code, Daisee};

/// The community account.
pub const OWNER: Address = Address::repeat_byte(0xC0);
/// A meter that only moves the community's clock (reports zero) so intervals close.
pub const CLOCK: Address = Address::repeat_byte(0xCC);
/// The interval length the tests use (s).
pub const INTERVAL: u64 = 300;

/// Daisee with `n` funded household meters and the clock meter.
pub struct Market {
    pub chain: Chain,
    pub daisee: Address,
    pub households: Vec<Address>,
}

/// One `Matched` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub seller: Address,
    pub buyer: Address,
    pub energy: u128,
    pub paid: U256,
}

/// What one `settle` did.
#[derive(Debug)]
pub struct Settlement {
    pub price: U256,
    pub volume: u128,
    pub sellers: u64,
    pub buyers: u64,
    pub skipped: u64,
    pub matches: Vec<Match>,
    pub gas_used: u64,
    /// Gas spent before the refund.
    pub gas_spent: u64,
}

impl Market {
    /// `n` households (accounts 1..=n), each with 1,000 ether, at rate `rate` (0: default).
    pub fn new(n: usize, rate: u64) -> Self {
        let mut chain = Chain::new();
        let households: Vec<Address> = (1..=n).map(household).collect();
        for who in households.iter().chain([&OWNER, &CLOCK]) {
            chain.fund(*who, ether(1000));
        }
        // The constructor registers the first meters (its init code is bounded by EIP-3860), the
        // owner adds the others.
        const IN_CONSTRUCTOR: usize = 500;
        let mut meters: Vec<Address> = households.iter().take(IN_CONSTRUCTOR).copied().collect();
        meters.push(CLOCK);
        let code = daisee_deploy_code(Address::ZERO, U256::from(rate), meters, INTERVAL, 0);
        chain.set_gas_limit(BLOCK_GAS_LIMIT + 60_000 * n.min(IN_CONSTRUCTOR) as u64);
        let daisee = chain.deploy(OWNER, code);
        chain.set_gas_limit(BLOCK_GAS_LIMIT);
        for meter in households.iter().skip(IN_CONSTRUCTOR) {
            let add = Daisee::addMeterCall { meter: *meter };
            chain.send(OWNER, daisee, U256::ZERO, add).ok();
        }
        Self { chain, daisee, households }
    }

    /// Sends `call` from `from` with `value` wei.
    pub fn send<C: SolCall>(&mut self, from: Address, value: U256, call: C) -> Outcome {
        self.chain.send(from, self.daisee, value, call)
    }

    /// A view.
    pub fn view<C: SolCall>(&mut self, call: C) -> C::Return {
        self.chain.view(OWNER, self.daisee, call)
    }

    /// `who` reports interval `end` (the clock moves to the interval's end first, if behind).
    pub fn report(&mut self, who: Address, end: u64, produced: u64, consumed: u64) {
        self.chain.warp(end);
        let call = Daisee::reportReadingCall {
            intervalEnd: end,
            producedWh: U256::from(produced),
            consumedWh: U256::from(consumed),
        };
        self.send(who, U256::ZERO, call).ok();
    }

    /// The clock moves past `end`'s grace period (one interval), which closes its market; the
    /// clock meter reports the next interval, as the community's meters would.
    pub fn close(&mut self, end: u64) {
        self.report(CLOCK, end + INTERVAL, 0, 0);
        self.chain.warp(end + INTERVAL);
    }

    /// `who` puts `wei` in escrow.
    pub fn deposit(&mut self, who: Address, wei: U256) {
        self.send(who, wei, Daisee::depositCall {}).ok();
    }

    /// `who`'s escrow.
    pub fn escrow(&mut self, who: Address) -> U256 {
        self.view(Daisee::escrowOfCall { account: who })
    }

    /// `who`'s net balance (Wh).
    pub fn net(&mut self, who: Address) -> i128 {
        let n = self.view(Daisee::netBalanceOfCall { account: who });
        i128::try_from(n).expect("small balances")
    }

    /// Sets `who`'s ask and bid (0: the rate).
    pub fn prices(&mut self, who: Address, ask: u64, bid: u64) {
        self.send(who, U256::ZERO, Daisee::setAskCall { weiPerWh: U256::from(ask) }).ok();
        self.send(who, U256::ZERO, Daisee::setBidCall { weiPerWh: U256::from(bid) }).ok();
    }

    /// Settles `end`, which must succeed.
    #[track_caller]
    pub fn settle(&mut self, end: u64) -> Settlement {
        let out = self.send(OWNER, U256::ZERO, Daisee::settleCall { intervalEnd: end }).ok();
        let cleared = out.events::<Daisee::Cleared>();
        assert_eq!(cleared.len(), 1, "one Cleared event");
        let c = &cleared[0];
        assert_eq!(c.intervalEnd, end);
        let small = |v: U256| u64::try_from(v).expect("a count");
        Settlement {
            price: c.price,
            volume: u128::try_from(c.volumeWh).expect("volume"),
            sellers: small(c.sellers),
            buyers: small(c.buyers),
            skipped: small(c.skipped),
            matches: out
                .events::<Daisee::Matched>()
                .into_iter()
                .map(|m| {
                    assert_eq!(m.intervalEnd, end);
                    Match {
                        seller: m.seller,
                        buyer: m.buyer,
                        energy: u128::try_from(m.energyWh).expect("energy"),
                        paid: m.paid,
                    }
                })
                .collect(),
            gas_used: out.gas_used,
            gas_spent: out.gas_spent,
        }
    }
}

/// Household `i` (1-based).
pub fn household(i: usize) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0x40;
    bytes[18..].copy_from_slice(&u16::try_from(i).expect("few households").to_be_bytes());
    Address::from(bytes)
}

/// Deterministic test account for outsiders.
pub fn outsider() -> Address {
    account(0xEE)
}
