//! A revm inspector that stops a call at a wall-clock deadline (go-ethereum's
//! `--rpc.evmtimeout`): it looks at the clock every 4,096 instructions and, once past the
//! deadline, halts every frame it steps into, so the whole call unwinds at once.

use revm::interpreter::{InstructionResult, Interpreter, InterpreterTypes};
use revm::Inspector;
use std::time::Instant;

/// Instructions between two looks at the clock.
const CHECK_EVERY: u32 = 4096;

/// See the module doc.
#[derive(Debug)]
pub(super) struct Deadline {
    at: Option<Instant>,
    steps: u32,
    expired: bool,
}

impl Deadline {
    pub(super) fn new(at: Option<Instant>) -> Self {
        Self { at, steps: 0, expired: false }
    }

    /// Whether the deadline passed while the call ran.
    pub(super) fn expired(&self) -> bool {
        self.expired
    }
}

impl<CTX, INTR: InterpreterTypes> Inspector<CTX, INTR> for Deadline {
    fn step(&mut self, interp: &mut Interpreter<INTR>, _: &mut CTX) {
        let Some(at) = self.at else { return };
        if !self.expired {
            self.steps += 1;
            if self.steps < CHECK_EVERY {
                return;
            }
            self.steps = 0;
            if Instant::now() < at {
                return;
            }
            self.expired = true;
        }
        interp.halt(InstructionResult::OutOfGas);
    }
}
