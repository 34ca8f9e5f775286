//! A deployed Daisee with an owner, two registered meters and an outsider, all funded.

use crate::harness::{account, ether, Chain};
use alloy_primitives::{Address, U256};
use daisee_contracts::{daisee_deploy_code, Daisee};

/// The interval the community is deployed with (s): readings end on multiples of it.
pub const INTERVAL: u64 = 900;

/// The community account that deploys and administers the contract.
pub const OWNER: Address = Address::repeat_byte(0xC0);

/// A fresh chain with Daisee deployed by [`OWNER`] at the default rate, with meters
/// [`alice`] and [`bob`] registered; [`carol`] is funded but not a meter.
pub struct Community {
    pub chain: Chain,
    pub daisee: Address,
}

pub fn alice() -> Address {
    account(0xA1)
}
pub fn bob() -> Address {
    account(0xB0)
}
pub fn carol() -> Address {
    account(0xCA)
}

impl Community {
    pub fn new() -> Self {
        let mut chain = Chain::new();
        for who in [OWNER, alice(), bob(), carol()] {
            chain.fund(who, ether(100));
        }
        let code = daisee_deploy_code(Address::ZERO, U256::ZERO, vec![alice(), bob()], INTERVAL, 0);
        let daisee = chain.deploy(OWNER, code);
        Self { chain, daisee }
    }

    /// Sends `call` from `from` to the contract with no value.
    pub fn send<C: alloy_sol_types::SolCall>(
        &mut self,
        from: Address,
        call: C,
    ) -> crate::harness::Outcome {
        self.chain.send(from, self.daisee, U256::ZERO, call)
    }

    /// Calls view `call` as `from`.
    pub fn view<C: alloy_sol_types::SolCall>(&mut self, from: Address, call: C) -> C::Return {
        self.chain.view(from, self.daisee, call)
    }

    /// The signed net balance of `who` in Wh.
    pub fn net(&mut self, who: Address) -> i128 {
        let n = self.view(OWNER, Daisee::netBalanceOfCall { account: who });
        i128::try_from(n).expect("small test balances")
    }

    /// `who` reports the interval ending at `end` (the clock moves there first if it is behind).
    pub fn report(
        &mut self,
        who: Address,
        end: u64,
        produced: u64,
        consumed: u64,
    ) -> crate::harness::Outcome {
        self.chain.warp(end);
        let call = Daisee::reportReadingCall {
            intervalEnd: end,
            producedWh: U256::from(produced),
            consumedWh: U256::from(consumed),
        };
        self.send(who, call)
    }

    /// Records `wh` of production for meter `who`.
    pub fn produce(&mut self, who: Address, wh: u64) {
        self.send(who, Daisee::setProductionCall { kwh: U256::from(wh) }).ok();
    }
}
