//! The voting scenarios listed in EIP-225 ("Test cases"), as a table: signers named by letter,
//! blocks sealed by them with or without a vote, and the signer set (or error) expected.

use super::Snapshot;
use crate::consensus::seal::{seal_header, EXTRA_SEAL, EXTRA_VANITY, NONCE_AUTH, NONCE_DROP};
use crate::consensus::ConsensusError;
use crate::primitives::{keccak256, Address, Header, PrivateKey};

struct Block {
    signer: char,
    vote: Option<(char, bool)>,
    checkpoint: bool,
}

const fn b(signer: char) -> Block {
    Block { signer, vote: None, checkpoint: false }
}
const fn v(signer: char, voted: char, auth: bool) -> Block {
    Block { signer, vote: Some((voted, auth)), checkpoint: false }
}
const fn cp(signer: char) -> Block {
    Block { signer, vote: None, checkpoint: true }
}

enum Expect {
    Signers(&'static str),
    Unauthorized,
    RecentlySigned,
}

struct Case {
    name: &'static str,
    epoch: u64,
    signers: &'static str,
    blocks: Vec<Block>,
    expect: Expect,
}

fn key(name: char) -> PrivateKey {
    PrivateKey::from_bytes(&keccak256([name as u8])).expect("valid key")
}

fn addresses(names: &str) -> Vec<Address> {
    let mut out: Vec<Address> = names.chars().map(|c| key(c).address()).collect();
    out.sort();
    out
}

fn run(case: &Case) -> Result<Snapshot, ConsensusError> {
    let mut extra = vec![0u8; EXTRA_VANITY];
    for a in addresses(case.signers) {
        extra.extend_from_slice(a.as_slice());
    }
    extra.extend_from_slice(&[0u8; EXTRA_SEAL]);
    let genesis = Header { extra_data: extra.into(), ..Default::default() };
    let mut snap = Snapshot::from_checkpoint(&genesis, case.epoch)?;
    for block in &case.blocks {
        let mut extra = vec![0u8; EXTRA_VANITY];
        if block.checkpoint {
            for a in &snap.signers {
                extra.extend_from_slice(a.as_slice());
            }
        }
        extra.extend_from_slice(&[0u8; EXTRA_SEAL]);
        let (beneficiary, nonce) = match block.vote {
            Some((who, true)) => (key(who).address(), NONCE_AUTH),
            Some((who, false)) => (key(who).address(), NONCE_DROP),
            None => (Address::ZERO, NONCE_DROP),
        };
        let mut header = Header {
            number: snap.number + 1,
            beneficiary,
            nonce,
            extra_data: extra.into(),
            ..Default::default()
        };
        seal_header(&mut header, &key(block.signer))?;
        snap = snap.apply(&header)?;
    }
    Ok(snap)
}

#[test]
fn eip225_voting_scenarios() {
    let cases = vec![
        Case {
            name: "single signer, no votes cast",
            epoch: 30000,
            signers: "A",
            blocks: vec![b('A')],
            expect: Expect::Signers("A"),
        },
        Case {
            name: "single signer, voting to add two others",
            epoch: 30000,
            signers: "A",
            blocks: vec![v('A', 'B', true), b('B'), v('A', 'C', true)],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "two signers, voting to add three others",
            epoch: 30000,
            signers: "AB",
            blocks: vec![
                v('A', 'C', true),
                v('B', 'C', true),
                v('A', 'D', true),
                v('B', 'D', true),
                b('C'),
                v('A', 'E', true),
                v('B', 'E', true),
            ],
            expect: Expect::Signers("ABCD"),
        },
        Case {
            name: "single signer, dropping itself",
            epoch: 30000,
            signers: "A",
            blocks: vec![v('A', 'A', false)],
            expect: Expect::Signers(""),
        },
        Case {
            name: "two signers, mutual consent needed to drop (not fulfilled)",
            epoch: 30000,
            signers: "AB",
            blocks: vec![v('A', 'B', false)],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "two signers, mutual consent needed to drop (fulfilled)",
            epoch: 30000,
            signers: "AB",
            blocks: vec![v('A', 'B', false), v('B', 'B', false)],
            expect: Expect::Signers("A"),
        },
        Case {
            name: "three signers, two drop the third",
            epoch: 30000,
            signers: "ABC",
            blocks: vec![v('A', 'C', false), v('B', 'C', false)],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "four signers, two are not enough to drop",
            epoch: 30000,
            signers: "ABCD",
            blocks: vec![v('A', 'C', false), v('B', 'C', false)],
            expect: Expect::Signers("ABCD"),
        },
        Case {
            name: "four signers, three are enough to drop",
            epoch: 30000,
            signers: "ABCD",
            blocks: vec![v('A', 'D', false), v('B', 'D', false), v('C', 'D', false)],
            expect: Expect::Signers("ABC"),
        },
        Case {
            name: "authorizations are counted once per signer per target",
            epoch: 30000,
            signers: "AB",
            blocks: vec![v('A', 'C', true), b('B'), v('A', 'C', true), b('B'), v('A', 'C', true)],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "authorizing multiple accounts concurrently",
            epoch: 30000,
            signers: "AB",
            blocks: vec![
                v('A', 'C', true),
                b('B'),
                v('A', 'D', true),
                b('B'),
                b('A'),
                v('B', 'D', true),
                b('A'),
                v('B', 'C', true),
            ],
            expect: Expect::Signers("ABCD"),
        },
        Case {
            name: "deauthorizations are counted once per signer per target",
            epoch: 30000,
            signers: "AB",
            blocks: vec![
                v('A', 'B', false),
                b('B'),
                v('A', 'B', false),
                b('B'),
                v('A', 'B', false),
            ],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "deauthorizing multiple accounts concurrently",
            epoch: 30000,
            signers: "ABCD",
            blocks: vec![
                v('A', 'C', false),
                b('B'),
                b('C'),
                v('A', 'D', false),
                b('B'),
                b('C'),
                b('A'),
                v('B', 'D', false),
                v('C', 'D', false),
                b('A'),
                v('B', 'C', false),
            ],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "votes from deauthorized signers are discarded (deauth votes)",
            epoch: 30000,
            signers: "ABC",
            blocks: vec![
                v('C', 'B', false),
                v('A', 'C', false),
                v('B', 'C', false),
                v('A', 'B', false),
            ],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "votes from deauthorized signers are discarded (auth votes)",
            epoch: 30000,
            signers: "ABC",
            blocks: vec![
                v('C', 'D', true),
                v('A', 'C', false),
                v('B', 'C', false),
                v('A', 'D', true),
            ],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "cascading changes are not allowed",
            epoch: 30000,
            signers: "ABCD",
            blocks: vec![
                v('A', 'C', false),
                b('B'),
                b('C'),
                v('A', 'D', false),
                v('B', 'C', false),
                b('C'),
                b('A'),
                v('B', 'D', false),
                v('C', 'D', false),
            ],
            expect: Expect::Signers("ABC"),
        },
        Case {
            name: "changes reaching consensus out of bounds execute on touch",
            epoch: 30000,
            signers: "ABCD",
            blocks: vec![
                v('A', 'C', false),
                b('B'),
                b('C'),
                v('A', 'D', false),
                v('B', 'C', false),
                b('C'),
                b('A'),
                v('B', 'D', false),
                v('C', 'D', false),
                b('A'),
                v('C', 'C', true),
            ],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "changes reaching consensus out of bounds may go out of consensus on first touch",
            epoch: 30000,
            signers: "ABCD",
            blocks: vec![
                v('A', 'C', false),
                b('B'),
                b('C'),
                v('A', 'D', false),
                v('B', 'C', false),
                b('C'),
                b('A'),
                v('B', 'D', false),
                v('C', 'D', false),
                b('A'),
                v('B', 'C', true),
            ],
            expect: Expect::Signers("ABC"),
        },
        Case {
            name: "pending votes do not survive authorization status changes",
            epoch: 30000,
            signers: "ABCDE",
            blocks: vec![
                v('A', 'F', true),
                v('B', 'F', true),
                v('C', 'F', true),
                v('D', 'F', false),
                v('E', 'F', false),
                v('B', 'F', false),
                v('C', 'F', false),
                v('D', 'F', true),
                v('E', 'F', true),
                v('B', 'A', false),
                v('C', 'A', false),
                v('D', 'A', false),
                v('B', 'F', true),
            ],
            expect: Expect::Signers("BCDEF"),
        },
        Case {
            name: "epoch transitions reset all votes",
            epoch: 3,
            signers: "AB",
            blocks: vec![v('A', 'C', true), b('B'), cp('A'), v('B', 'C', true)],
            expect: Expect::Signers("AB"),
        },
        Case {
            name: "an unauthorized signer cannot sign",
            epoch: 30000,
            signers: "A",
            blocks: vec![b('B')],
            expect: Expect::Unauthorized,
        },
        Case {
            name: "a signer that signed recently cannot sign again",
            epoch: 30000,
            signers: "AB",
            blocks: vec![b('A'), b('A')],
            expect: Expect::RecentlySigned,
        },
        Case {
            name: "recent signatures survive checkpoints imported in a batch",
            epoch: 3,
            signers: "ABC",
            blocks: vec![b('A'), b('B'), cp('A'), b('A')],
            expect: Expect::RecentlySigned,
        },
    ];
    for case in &cases {
        let outcome = run(case);
        match (&case.expect, outcome) {
            (Expect::Signers(names), Ok(snap)) => {
                let got: Vec<Address> = snap.signers.iter().copied().collect();
                assert_eq!(got, addresses(names), "{}", case.name);
            }
            (Expect::Unauthorized, Err(ConsensusError::UnauthorizedSigner(_))) => {}
            (Expect::RecentlySigned, Err(ConsensusError::RecentlySigned(_))) => {}
            (_, other) => panic!("{}: unexpected outcome {other:?}", case.name),
        }
    }
}
