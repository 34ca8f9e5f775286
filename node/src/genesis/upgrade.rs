//! Upgrading a running chain's config (`daisee init --upgrade`): which changes a board may take
//! at its head — forks and Clique transitions still ahead of it — and which would rewrite the
//! past (as go-ethereum's `CheckCompatible`), so are refused.

use super::{ChainConfig, CliqueTransition, ContractUpgrade};

/// Why a new config cannot replace the stored one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    /// A field that identifies the chain changed.
    #[error("{0} cannot change on a running chain")]
    Fixed(&'static str),
    /// A fork or transition at or before the head changed.
    #[error(
        "{what} changes from {old} to {new}, but this board's head is already at {head}: \
         only forks and transitions still ahead of the head can be set"
    )]
    TooLate {
        /// The fork or transition.
        what: String,
        /// Its stored value.
        old: String,
        /// The value asked for.
        new: String,
        /// The head's number (block forks) or time (time forks).
        head: u64,
    },
    /// The fork order is impossible.
    #[error("{0}")]
    Order(&'static str),
}

/// The changes an accepted upgrade makes, one line each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpgradePlan {
    /// What changes, e.g. "pragueTime: unset → 1767225600".
    pub changes: Vec<String>,
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "unset".into(), |v| v.to_string())
}

fn block_forks(c: &ChainConfig) -> [(&'static str, Option<u64>); 12] {
    [
        ("homesteadBlock", c.homestead_block),
        ("daoForkBlock", c.dao_fork_block),
        ("eip150Block", c.eip150_block),
        ("eip155Block", c.eip155_block),
        ("eip158Block", c.eip158_block),
        ("byzantiumBlock", c.byzantium_block),
        ("constantinopleBlock", c.constantinople_block),
        ("petersburgBlock", c.petersburg_block),
        ("istanbulBlock", c.istanbul_block),
        ("berlinBlock", c.berlin_block),
        ("londonBlock", c.london_block),
        ("mergeNetsplitBlock", c.merge_netsplit_block),
    ]
}

fn time_forks(c: &ChainConfig) -> [(&'static str, Option<u64>); 4] {
    [
        ("shanghaiTime", c.shanghai_time),
        ("cancunTime", c.cancun_time),
        ("pragueTime", c.prague_time),
        ("osakaTime", c.osaka_time),
    ]
}

/// Transitions at or before `head`.
fn past(transitions: &[CliqueTransition], head: u64) -> Vec<CliqueTransition> {
    transitions.iter().filter(|t| t.block <= head).copied().collect()
}

fn check_order(c: &ChainConfig) -> Result<(), UpgradeError> {
    let before = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (_, None) => true,
        (Some(a), Some(b)) => a <= b,
        (None, Some(_)) => false,
    };
    if c.osaka_time.is_some() {
        return Err(UpgradeError::Order("Daisee does not run Osaka: leave osakaTime unset"));
    }
    if !before(c.cancun_time, c.prague_time) || !before(c.shanghai_time, c.cancun_time) {
        return Err(UpgradeError::Order("Prague needs Cancun, Cancun needs Shanghai, in order"));
    }
    if c.shanghai_time.is_some() && c.london_block.is_none() {
        return Err(UpgradeError::Order("Shanghai needs London"));
    }
    Ok(())
}

impl UpgradePlan {
    /// Checks replacing `old` by `new` on a board whose head is block `number` at `time`.
    pub fn check(
        old: &ChainConfig,
        new: &ChainConfig,
        number: u64,
        time: u64,
    ) -> Result<Self, UpgradeError> {
        if old.chain_id != new.chain_id {
            return Err(UpgradeError::Fixed("chainId"));
        }
        let (Some(old_clique), Some(new_clique)) = (&old.clique, &new.clique) else {
            return Err(UpgradeError::Fixed("the clique section"));
        };
        if old_clique.epoch != new_clique.epoch {
            return Err(UpgradeError::Fixed("clique.epoch"));
        }
        if old_clique.period != new_clique.period {
            return Err(UpgradeError::Fixed("clique.period (add a transition instead)"));
        }
        check_order(new)?;
        let mut changes = Vec::new();
        let heads = [(block_forks(old).to_vec(), block_forks(new).to_vec(), number)];
        let times = [(time_forks(old).to_vec(), time_forks(new).to_vec(), time)];
        for (olds, news, head) in heads.into_iter().chain(times) {
            for ((name, was), (_, now)) in olds.into_iter().zip(news) {
                if was == now {
                    continue;
                }
                let earliest = [was, now].into_iter().flatten().min().unwrap_or(u64::MAX);
                if earliest <= head {
                    return Err(UpgradeError::TooLate {
                        what: name.into(),
                        old: show(was),
                        new: show(now),
                        head,
                    });
                }
                changes.push(format!("{name}: {} → {}", show(was), show(now)));
            }
        }
        let (was, now) = (&old_clique.transitions, &new_clique.transitions);
        if past(was, number) != past(now, number) {
            return Err(UpgradeError::TooLate {
                what: "a clique transition".into(),
                old: format!("{:?}", past(was, number)),
                new: format!("{:?}", past(now, number)),
                head: number,
            });
        }
        for t in now.iter().filter(|t| !was.contains(t)) {
            changes.push(format!("clique transition at block {}: {t:?}", t.block));
        }
        for t in was.iter().filter(|t| !now.contains(t)) {
            changes.push(format!("clique transition at block {} removed", t.block));
        }
        let (was, now) = (&old.contract_upgrades, &new.contract_upgrades);
        let upgrade_past = |list: &[ContractUpgrade]| -> Vec<ContractUpgrade> {
            list.iter().filter(|u| u.block <= number).cloned().collect()
        };
        if upgrade_past(was) != upgrade_past(now) {
            return Err(UpgradeError::TooLate {
                what: "a contract upgrade".into(),
                old: format!("{} at or before the head", upgrade_past(was).len()),
                new: format!("{} at or before the head", upgrade_past(now).len()),
                head: number,
            });
        }
        for u in now.iter().filter(|u| !was.contains(u)) {
            let hash = crate::primitives::keccak256(&u.code);
            changes.push(format!(
                "contract upgrade at block {}: {} gets new code ({} bytes, keccak {hash})",
                u.block,
                u.address,
                u.code.len()
            ));
        }
        for u in was.iter().filter(|u| !now.contains(u)) {
            changes.push(format!("contract upgrade at block {} removed", u.block));
        }
        Ok(Self { changes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::CliqueConfig;

    fn london() -> ChainConfig {
        ChainConfig {
            chain_id: 69,
            london_block: Some(0),
            clique: Some(CliqueConfig::new(5, 30_000)),
            ..Default::default()
        }
    }

    fn with_prague(t: u64) -> ChainConfig {
        ChainConfig {
            shanghai_time: Some(t),
            cancun_time: Some(t),
            prague_time: Some(t),
            ..london()
        }
    }

    #[test]
    fn forks_ahead_of_the_head_may_be_scheduled_and_moved() {
        let plan = UpgradePlan::check(&london(), &with_prague(2_000), 50, 1_000).unwrap();
        assert_eq!(plan.changes.len(), 3, "{plan:?}");
        assert!(plan.changes[2].starts_with("pragueTime: unset → 2000"), "{plan:?}");
        UpgradePlan::check(&with_prague(2_000), &with_prague(3_000), 50, 1_000).unwrap();
        UpgradePlan::check(&with_prague(2_000), &london(), 50, 1_000).unwrap();
        assert!(UpgradePlan::check(&london(), &london(), 50, 1_000).unwrap().changes.is_empty());
    }

    #[test]
    fn the_past_cannot_be_rewritten() {
        let late = UpgradePlan::check(&london(), &with_prague(900), 50, 1_000).unwrap_err();
        assert!(matches!(late, UpgradeError::TooLate { head: 1_000, .. }), "{late}");
        let undo = UpgradePlan::check(&with_prague(900), &london(), 50, 1_000).unwrap_err();
        assert!(matches!(undo, UpgradeError::TooLate { .. }), "{undo}");
        let berlin = ChainConfig { berlin_block: Some(10), ..london() };
        assert!(UpgradePlan::check(&london(), &berlin, 50, 1_000).is_err());
        let other = ChainConfig { chain_id: 70, ..london() };
        assert_eq!(
            UpgradePlan::check(&london(), &other, 0, 0),
            Err(UpgradeError::Fixed("chainId"))
        );
    }

    #[test]
    fn transitions_only_ahead_and_forks_in_order() {
        let mut next = london();
        let transition =
            CliqueTransition { block: 60, period: Some(2), empty_blocks: None, gas_limit: None };
        next.clique.as_mut().unwrap().transitions.push(transition);
        assert_eq!(UpgradePlan::check(&london(), &next, 50, 1_000).unwrap().changes.len(), 1);
        assert!(UpgradePlan::check(&london(), &next, 60, 1_000).is_err());
        let prague_alone = ChainConfig { prague_time: Some(2_000), ..london() };
        assert!(matches!(
            UpgradePlan::check(&london(), &prague_alone, 50, 1_000),
            Err(UpgradeError::Order(_))
        ));
        let osaka = ChainConfig { osaka_time: Some(5_000), ..with_prague(2_000) };
        assert!(UpgradePlan::check(&london(), &osaka, 50, 1_000).is_err());
    }
}
