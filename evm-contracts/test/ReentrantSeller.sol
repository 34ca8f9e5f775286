// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// The part of Daisee a seller contract talks to.
interface IDaisee {
    function setProduction(uint256 kwh) external returns (uint256);
    function buyEnergy(address seller, uint256 energy) external payable returns (bool);
}

/// @title ReentrantSeller — a hostile meter, used only by tests
/// @notice Registered as a meter, it produces energy and, when a buyer's payment reaches it,
///         re-enters `buyEnergy` to sell the same energy a second time. With `refuse` set it
///         rejects every payment instead.
contract ReentrantSeller {
    IDaisee public immutable daisee;
    bool public refuse;
    uint256 public resellEnergy;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryError;

    constructor(IDaisee daisee_) {
        daisee = daisee_;
    }

    function produce(uint256 wh) external {
        daisee.setProduction(wh);
    }

    function setRefuse(bool refuse_) external {
        refuse = refuse_;
    }

    function setResellEnergy(uint256 wh) external {
        resellEnergy = wh;
    }

    receive() external payable {
        if (refuse) revert("payments refused");
        if (reentered) return;
        reentered = true;
        // Try to sell the energy just sold once more, paying with the buyer's ether.
        (bool ok, bytes memory err) = address(daisee).call{value: msg.value}(
            abi.encodeCall(IDaisee.buyEnergy, (address(this), resellEnergy))
        );
        reentrySucceeded = ok;
        reentryError = err;
    }
}
