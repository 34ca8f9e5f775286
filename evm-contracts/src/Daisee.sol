// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Market} from "./Market.sol";

/// @title Daisee — energy balances of a community of households
/// @notice Households' meters report what they produce and consume (in Wh); anyone may buy a
///         meter's surplus energy at the community's rate (in wei per Wh), paying the seller.
/// @dev Keeps the interface of the 2016 DAISEE contract (selectors `setProduction(uint256)` =
///      0x567cc2b6, `consumeEnergy(uint256)` = 0x298d65a1, `buyEnergy(address,uint256)` = 0x36fd7e1b,
///      `getEnergyBalance()` = 0x99e1d301, `getEnergyConsumption()` = 0x13a59e38, `getRate()` =
///      0x679aefce, `rate()` = 0x2c4e722e, `owner()` = 0x8da5cb5b; events `Prod`, `Cons`, `Buy` with
///      no indexed argument) and fixes what was broken in it: the constructor sets the owner and
///      the rate, every state change emits its event, buying pays the seller, consumption beyond
///      the balance becomes a deficit instead of being refused, and only authorized meters report.
///
///      Every account has a signed net energy balance `net`: production and purchases add to it,
///      consumption and sales take from it. A positive net balance is a surplus
///      (`getEnergyBalance`, `energyBalanceOf`), a negative one a deficit (`deficitOf`).
///
///      Each interval's readings also feed the community market (`Market`): `settle` matches the
///      interval's surplus with its deficits at one clearing price, paid from prepaid escrow.
contract Daisee is Market {
    // ---------------------------------------------------------------- errors

    /// The caller is not the owner (the community).
    error NotOwner(address caller);
    /// The account is not an authorized meter.
    error NotMeter(address account);
    /// The account is already an authorized meter.
    error AlreadyMeter(address account);
    /// The zero address was given where an account is required.
    error ZeroAddress();
    /// An amount of energy of zero was given where a positive amount is required.
    error ZeroEnergy();
    /// The seller's surplus is smaller than the energy asked for.
    error InsufficientEnergy(address seller, uint256 available, uint256 requested);
    /// The ether sent does not cover `energy * rate`.
    error InsufficientPayment(uint256 required, uint256 sent);
    /// A reading's interval does not come after the meter's last reported interval.
    error StaleReading(address meter, uint64 lastIntervalEnd, uint64 intervalEnd);
    /// Sending ether to `to` failed.
    error PaymentFailed(address to, uint256 amount);
    /// An amount of energy too large to be accounted (above 2^255 - 1 Wh).
    error EnergyOutOfRange(uint256 energy);

    // ---------------------------------------------------------------- events (2016 signatures)

    /// Production was recorded for `producer` (not indexed, as published in 2016).
    event Prod(address producer, uint256 energy);
    /// Consumption was recorded for `consumer` (not indexed, as published in 2016).
    event Cons(address consumer, uint256 energy);
    /// `buyer` bought `energy` Wh from the seller (not indexed, as published in 2016).
    event Buy(address buyer, address seller, uint256 energy);

    // ---------------------------------------------------------------- events (new)

    /// A meter reported one interval's production and consumption.
    event Reading(address indexed meter, uint64 intervalEnd, uint256 producedWh, uint256 consumedWh);
    /// An account was authorized to report as a meter.
    event MeterAdded(address indexed meter);
    /// An account's authorization to report was withdrawn.
    event MeterRemoved(address indexed meter);
    /// The price of energy changed (wei per Wh).
    event RateChanged(uint256 previousRate, uint256 newRate);
    /// The community's administration moved to another account.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    // ---------------------------------------------------------------- state

    /// The community account that manages meters and the rate.
    address public owner;
    /// Price of energy in wei per Wh (default 15 szabo per Wh = 0.015 ether per kWh).
    uint256 public rate;

    /// Default rate: 15 szabo per Wh, the 2016 contract's 15 finney per kWh.
    uint256 public constant DEFAULT_RATE = 15e12;

    mapping(address => int256) private net;
    mapping(address => uint256) private produced;
    mapping(address => uint256) private consumed;
    mapping(address => uint64) private lastInterval;
    /// Position + 1 of each meter in `meterList` (0 = not a meter).
    mapping(address => uint256) private meterSlot;
    address[] private meterList;

    // ---------------------------------------------------------------- construction

    /// @param owner_ the community account (zero: the deployer).
    /// @param rate_ the price of energy in wei per Wh (zero: `DEFAULT_RATE`).
    /// @param meters_ accounts authorized to report from the start.
    constructor(address owner_, uint256 rate_, address[] memory meters_) {
        address initialOwner = owner_ == address(0) ? msg.sender : owner_;
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
        uint256 initialRate = rate_ == 0 ? DEFAULT_RATE : rate_;
        rate = initialRate;
        emit RateChanged(0, initialRate);
        for (uint256 i = 0; i < meters_.length; i++) {
            _addMeter(meters_[i]);
        }
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier onlyMeter() {
        if (meterSlot[msg.sender] == 0) revert NotMeter(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- administration

    /// Authorizes `meter` to report production and consumption.
    function addMeter(address meter) external onlyOwner {
        _addMeter(meter);
    }

    /// Withdraws `meter`'s authorization; its balances stay as they are.
    function removeMeter(address meter) external onlyOwner {
        uint256 slot = meterSlot[meter];
        if (slot == 0) revert NotMeter(meter);
        address last = meterList[meterList.length - 1];
        meterList[slot - 1] = last;
        meterSlot[last] = slot;
        meterList.pop();
        delete meterSlot[meter];
        emit MeterRemoved(meter);
    }

    /// Sets the price of energy in wei per Wh.
    function setRate(uint256 newRate) external onlyOwner {
        emit RateChanged(rate, newRate);
        rate = newRate;
    }

    /// Hands the community's administration to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    // ---------------------------------------------------------------- reporting

    /// Records `kwh` Wh produced by the calling meter (2016 interface; the unit is Wh despite
    /// the published parameter name). Returns the meter's surplus afterwards.
    function setProduction(uint256 kwh) external onlyMeter returns (uint256) {
        _record(msg.sender, kwh, 0);
        emit Prod(msg.sender, kwh);
        return _surplus(msg.sender);
    }

    /// Records `energy` Wh consumed by the calling meter (2016 interface). Metered energy is never
    /// refused: what exceeds the surplus becomes a deficit. Returns the surplus afterwards.
    function consumeEnergy(uint256 energy) external onlyMeter returns (uint256) {
        _record(msg.sender, 0, energy);
        emit Cons(msg.sender, energy);
        return _surplus(msg.sender);
    }

    /// Records one interval's production and consumption of the calling meter. Each meter reports
    /// each interval once: `intervalEnd` (unix seconds) must exceed the last one it reported, and
    /// each figure must stay below 2^48 Wh (281 TWh).
    function reportReading(uint64 intervalEnd, uint256 producedWh, uint256 consumedWh)
        external
        onlyMeter
    {
        uint64 last = lastInterval[msg.sender];
        if (intervalEnd <= last) revert StaleReading(msg.sender, last, intervalEnd);
        if (producedWh > type(uint48).max) revert EnergyOutOfRange(producedWh);
        if (consumedWh > type(uint48).max) revert EnergyOutOfRange(consumedWh);
        lastInterval[msg.sender] = intervalEnd;
        _record(msg.sender, producedWh, consumedWh);
        _recordInterval(msg.sender, intervalEnd, producedWh, consumedWh);
        emit Reading(msg.sender, intervalEnd, producedWh, consumedWh);
    }

    // ---------------------------------------------------------------- trading

    /// Buys `energy` Wh of `seller`'s surplus, paying `energy * rate` wei to the seller and
    /// refunding any excess to the caller. The energy first covers the buyer's deficit.
    function buyEnergy(address seller, uint256 energy) external payable returns (bool) {
        // Checks.
        if (meterSlot[seller] == 0) revert NotMeter(seller);
        if (energy == 0) revert ZeroEnergy();
        uint256 available = _surplus(seller);
        if (energy > available) revert InsufficientEnergy(seller, available, energy);
        uint256 price = energy * rate;
        if (msg.value < price) revert InsufficientPayment(price, msg.value);
        // Effects: the energy moves before any ether does, so a re-entering seller finds it gone.
        net[seller] -= _signed(energy);
        net[msg.sender] += _signed(energy);
        emit Buy(msg.sender, seller, energy);
        // Interactions.
        _pay(seller, price);
        _pay(msg.sender, msg.value - price);
        return true;
    }

    // ---------------------------------------------------------------- views (2016, per caller)

    /// The caller's surplus in Wh (zero when in deficit).
    function getEnergyBalance() external view returns (uint256) {
        return _surplus(msg.sender);
    }

    /// The caller's recorded consumption in Wh.
    function getEnergyConsumption() external view returns (uint256) {
        return consumed[msg.sender];
    }

    /// The price of energy in wei per Wh.
    function getRate() external view returns (uint256) {
        return rate;
    }

    // ---------------------------------------------------------------- views (any account)

    /// `account`'s surplus in Wh (zero when in deficit).
    function energyBalanceOf(address account) external view returns (uint256) {
        return _surplus(account);
    }

    /// `account`'s deficit in Wh (zero when in surplus).
    function deficitOf(address account) external view returns (uint256) {
        int256 n = net[account];
        return n < 0 ? uint256(-n) : 0;
    }

    /// `account`'s signed net balance in Wh: surplus if positive, deficit if negative.
    function netBalanceOf(address account) external view returns (int256) {
        return net[account];
    }

    /// Total Wh produced by `account`.
    function productionOf(address account) external view returns (uint256) {
        return produced[account];
    }

    /// Total Wh consumed by `account`.
    function consumptionOf(address account) external view returns (uint256) {
        return consumed[account];
    }

    /// Whether `account` is an authorized meter.
    function isMeter(address account) external view returns (bool) {
        return meterSlot[account] != 0;
    }

    /// The end (unix seconds) of the last interval `meter` reported with `reportReading`.
    function lastIntervalOf(address meter) external view returns (uint64) {
        return lastInterval[meter];
    }

    /// All authorized meters.
    function getMeters() external view returns (address[] memory) {
        return meterList;
    }

    // ---------------------------------------------------------------- internals

    function _addMeter(address meter) private {
        if (meter == address(0)) revert ZeroAddress();
        if (meterSlot[meter] != 0) revert AlreadyMeter(meter);
        meterList.push(meter);
        meterSlot[meter] = meterList.length;
        emit MeterAdded(meter);
    }

    function _record(address meter, uint256 producedWh, uint256 consumedWh) private {
        produced[meter] += producedWh;
        consumed[meter] += consumedWh;
        net[meter] = net[meter] + _signed(producedWh) - _signed(consumedWh);
    }

    function _signed(uint256 energy) private pure returns (int256) {
        if (energy > uint256(type(int256).max)) revert EnergyOutOfRange(energy);
        return int256(energy);
    }

    function _surplus(address account) private view returns (uint256) {
        int256 n = net[account];
        return n > 0 ? uint256(n) : 0;
    }

    // ---------------------------------------------------------------- market hooks

    function _marketRate() internal view override returns (uint256) {
        return rate;
    }

    function _marketNet(address account) internal view override returns (int256) {
        return net[account];
    }

    function _marketMove(address seller, address buyer, uint256 energy) internal override {
        net[seller] -= _signed(energy);
        net[buyer] += _signed(energy);
    }

    function _marketPay(address to, uint256 amount) internal override {
        _pay(to, amount);
    }

    function _pay(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert PaymentFailed(to, amount);
    }
}
