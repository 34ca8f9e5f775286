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
///
///      What one meter can do is bounded, so a stolen or hacked board cannot hurt the others:
///      a reading is at most the meter's capacity (W, set by the owner; 36 kVA by default) times
///      the time it covers, its interval is on the community's grid and already over, a meter
///      uses either the 2016 calls or `reportReading` (not both), and the 2016 calls are bounded
///      per interval of chain time like a reading.
///
///      Storage: the variables of the first version keep their slots (new ones come after them,
///      the market's in an ERC-7201 namespace), so a chain upgrade can replace the code in
///      place and keep every balance, escrow and meter.
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
    /// A reading's interval is not over yet (it ends after the block's time).
    error IntervalNotOver(uint64 intervalEnd, uint256 blockTime);
    /// A reading's interval end is not on the community's grid (a multiple of the interval).
    error MisalignedInterval(uint64 intervalEnd, uint64 intervalSeconds);
    /// More energy than the meter's capacity allows over the time the reading covers.
    error AboveCapacity(address meter, uint256 energy, uint256 limit);
    /// The meter reports with the other interface (2016 calls or readings, not both).
    error WrongInterface(address meter);
    /// The seller's ask is `NOT_FOR_SALE`.
    error NotForSale(address seller);
    /// Only the account ownership was offered to may accept it.
    error NotPendingOwner(address caller);
    /// An interval length (1 s to 1 day) or grace period (1 s to 7 days) out of range.
    error InvalidTiming(uint64 intervalSeconds, uint64 graceSeconds);
    /// A capacity out of range (1 W to 2^32 - 1 W).
    error InvalidCapacity(uint256 watts);

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
    /// The owner offered the administration to `newOwner`, who must accept it.
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    /// `meter`'s capacity changed (W).
    event CapacityChanged(address indexed meter, uint256 watts);
    /// The community's interval length and grace period changed (s).
    event TimingChanged(uint64 intervalSeconds, uint64 graceSeconds);

    // ---------------------------------------------------------------- state

    /// The community account that manages meters and the rate.
    address public owner;
    /// Price of energy in wei per Wh (default 15 szabo per Wh = 0.015 ether per kWh).
    uint256 public rate;

    /// Default rate: 15 szabo per Wh, the 2016 contract's 15 finney per kWh.
    uint256 public constant DEFAULT_RATE = 15e12;
    /// Default interval: 15 minutes, the EU's settlement period.
    uint64 public constant DEFAULT_INTERVAL = 900;
    /// Default capacity of a meter: 36 kVA, the largest French household connection.
    uint256 public constant DEFAULT_CAPACITY_W = 36_000;
    /// The longest time one reading covers (a board away for longer reports the rest as lost).
    uint256 public constant MAX_SPAN = 31 days;

    /// Which interface a meter reports with.
    uint8 private constant UNUSED = 0;
    uint8 private constant LEGACY = 1;
    uint8 private constant READINGS = 2;

    /// Per meter: its interface, capacity and what the 2016 calls recorded in the current
    /// interval of chain time (one slot).
    struct MeterInfo {
        uint8 mode;
        uint32 capacityW;
        uint64 window;
        uint64 windowProduced;
        uint64 windowConsumed;
    }

    mapping(address => int256) private net;
    mapping(address => uint256) private produced;
    mapping(address => uint256) private consumed;
    mapping(address => uint64) private lastInterval;
    /// Position + 1 of each meter in `meterList` (0 = not a meter).
    mapping(address => uint256) private meterSlot;
    address[] private meterList;
    // ---- added with the bounds (after the first version's slots, which an upgrade keeps)
    mapping(address => MeterInfo) private meterInfo;
    /// The account ownership was offered to (zero: none).
    address public pendingOwner;
    uint64 private interval_;
    uint64 private grace_;

    // ---------------------------------------------------------------- construction

    /// @param owner_ the community account (zero: the deployer).
    /// @param rate_ the price of energy in wei per Wh (zero: `DEFAULT_RATE`).
    /// @param meters_ accounts authorized to report from the start.
    /// @param intervalSeconds_ the community's interval (zero: `DEFAULT_INTERVAL`).
    /// @param graceSeconds_ how long an interval's market takes readings after its end (zero:
    ///        one interval).
    constructor(
        address owner_,
        uint256 rate_,
        address[] memory meters_,
        uint64 intervalSeconds_,
        uint64 graceSeconds_
    ) {
        address initialOwner = owner_ == address(0) ? msg.sender : owner_;
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
        uint256 initialRate = rate_ == 0 ? DEFAULT_RATE : rate_;
        if (initialRate > MAX_PRICE) revert InvalidPrice(initialRate);
        rate = initialRate;
        uint64 interval = intervalSeconds_ == 0 ? DEFAULT_INTERVAL : intervalSeconds_;
        _setTiming(interval, graceSeconds_ == 0 ? interval : graceSeconds_);
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

    /// Withdraws `meter`'s authorization: its balances stay as they are, its readings not yet
    /// settled leave the market, and its interface and capacity are forgotten.
    function removeMeter(address meter) external onlyOwner {
        uint256 slot = meterSlot[meter];
        if (slot == 0) revert NotMeter(meter);
        address last = meterList[meterList.length - 1];
        meterList[slot - 1] = last;
        meterSlot[last] = slot;
        meterList.pop();
        delete meterSlot[meter];
        delete meterInfo[meter];
        emit MeterRemoved(meter);
    }

    /// Sets `meter`'s capacity: the most it can produce or consume, in W.
    function setCapacity(address meter, uint256 watts) external onlyOwner {
        if (meterSlot[meter] == 0) revert NotMeter(meter);
        if (watts == 0 || watts > type(uint32).max) revert InvalidCapacity(watts);
        meterInfo[meter].capacityW = uint32(watts);
        emit CapacityChanged(meter, watts);
    }

    /// Sets the community's interval length and the grace period after an interval's end
    /// during which its market takes readings.
    function setTiming(uint64 intervalSeconds_, uint64 graceSeconds_) external onlyOwner {
        _setTiming(intervalSeconds_, graceSeconds_);
    }

    /// Sets the price of energy in wei per Wh (more than zero, at most `MAX_PRICE`).
    function setRate(uint256 newRate) external onlyOwner {
        if (newRate == 0 || newRate > MAX_PRICE) revert InvalidPrice(newRate);
        emit RateChanged(rate, newRate);
        rate = newRate;
    }

    /// Offers the community's administration to `newOwner`, who takes it with
    /// `acceptOwnership` (a mistyped address takes nothing; offering it again replaces it).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    /// Takes the administration offered to the caller.
    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    // ---------------------------------------------------------------- reporting

    /// Records `kwh` Wh produced by the calling meter (2016 interface; the unit is Wh despite
    /// the published parameter name). What the 2016 calls record in one interval of chain time
    /// is bounded by the meter's capacity. Returns the meter's surplus afterwards.
    function setProduction(uint256 kwh) external onlyMeter returns (uint256) {
        _legacyWindow(msg.sender, kwh, 0);
        _record(msg.sender, kwh, 0);
        emit Prod(msg.sender, kwh);
        return _surplus(msg.sender);
    }

    /// Records `energy` Wh consumed by the calling meter (2016 interface). Metered energy is never
    /// refused: what exceeds the surplus becomes a deficit. Returns the surplus afterwards.
    function consumeEnergy(uint256 energy) external onlyMeter returns (uint256) {
        _legacyWindow(msg.sender, 0, energy);
        _record(msg.sender, 0, energy);
        emit Cons(msg.sender, energy);
        return _surplus(msg.sender);
    }

    /// Records one interval's production and consumption of the calling meter. Each meter reports
    /// each interval once: `intervalEnd` (unix seconds) is on the community's grid, not after
    /// the block's time, and after the last one it reported; each figure is at most the meter's
    /// capacity over the time since its last reading (one interval for the first, 31 days at
    /// most).
    function reportReading(uint64 intervalEnd, uint256 producedWh, uint256 consumedWh)
        external
        onlyMeter
    {
        uint64 interval = intervalSeconds();
        if (intervalEnd % interval != 0) revert MisalignedInterval(intervalEnd, interval);
        if (intervalEnd > block.timestamp) revert IntervalNotOver(intervalEnd, block.timestamp);
        uint64 last = lastInterval[msg.sender];
        if (intervalEnd <= last) revert StaleReading(msg.sender, last, intervalEnd);
        if (producedWh > type(uint48).max) revert EnergyOutOfRange(producedWh);
        if (consumedWh > type(uint48).max) revert EnergyOutOfRange(consumedWh);
        _useInterface(msg.sender, READINGS);
        uint256 span = last == 0 ? interval : intervalEnd - last;
        uint256 limit = _capacityWh(msg.sender, span < MAX_SPAN ? span : MAX_SPAN);
        if (producedWh > limit) revert AboveCapacity(msg.sender, producedWh, limit);
        if (consumedWh > limit) revert AboveCapacity(msg.sender, consumedWh, limit);
        lastInterval[msg.sender] = intervalEnd;
        _record(msg.sender, producedWh, consumedWh);
        emit Reading(msg.sender, intervalEnd, producedWh, consumedWh);
        _recordInterval(msg.sender, intervalEnd, producedWh, consumedWh);
    }

    // ---------------------------------------------------------------- trading

    /// Buys `energy` Wh of `seller`'s surplus at the seller's ask (the rate when it set none),
    /// paying `energy * askOf(seller)` wei to the seller and refunding any excess to the caller.
    /// A seller whose ask is `NOT_FOR_SALE` sells nothing. The energy first covers the buyer's
    /// deficit.
    function buyEnergy(address seller, uint256 energy) external payable returns (bool) {
        // Checks.
        if (meterSlot[seller] == 0) revert NotMeter(seller);
        if (energy == 0) revert ZeroEnergy();
        uint256 ask = askOf(seller);
        if (ask == NOT_FOR_SALE) revert NotForSale(seller);
        uint256 available = _surplus(seller);
        if (energy > available) revert InsufficientEnergy(seller, available, energy);
        uint256 price = energy * ask;
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

    /// `meter`'s capacity in W (the default for a meter the owner set none for).
    function capacityOf(address meter) public view returns (uint256) {
        uint32 watts = meterInfo[meter].capacityW;
        return watts == 0 ? DEFAULT_CAPACITY_W : watts;
    }

    /// How `meter` reports: 0 not yet, 1 the 2016 calls, 2 `reportReading`.
    function interfaceOf(address meter) external view returns (uint8) {
        return meterInfo[meter].mode;
    }

    /// The community's interval length (s): readings' ends are multiples of it.
    function intervalSeconds() public view returns (uint64) {
        uint64 interval = interval_;
        return interval == 0 ? DEFAULT_INTERVAL : interval;
    }

    /// How long after its end an interval's market takes readings (s).
    function graceSeconds() public view returns (uint64) {
        uint64 grace = grace_;
        return grace == 0 ? intervalSeconds() : grace;
    }

    // ---------------------------------------------------------------- internals

    function _addMeter(address meter) private {
        if (meter == address(0)) revert ZeroAddress();
        if (meterSlot[meter] != 0) revert AlreadyMeter(meter);
        meterList.push(meter);
        meterSlot[meter] = meterList.length;
        emit MeterAdded(meter);
    }

    function _setTiming(uint64 interval, uint64 grace) private {
        if (interval == 0 || interval > 1 days || grace == 0 || grace > 7 days) {
            revert InvalidTiming(interval, grace);
        }
        interval_ = interval;
        grace_ = grace;
        emit TimingChanged(interval, grace);
    }

    /// Ties `meter` to one interface: the first it uses.
    function _useInterface(address meter, uint8 mode) private {
        MeterInfo storage info = meterInfo[meter];
        if (info.mode == mode) return;
        if (info.mode != UNUSED) revert WrongInterface(meter);
        info.mode = mode;
    }

    /// What the 2016 calls record in one interval of chain time stays within the capacity.
    function _legacyWindow(address meter, uint256 producedWh, uint256 consumedWh) private {
        _useInterface(meter, LEGACY);
        MeterInfo storage info = meterInfo[meter];
        uint64 interval = intervalSeconds();
        uint64 window = uint64(block.timestamp / interval);
        if (info.window != window) {
            info.window = window;
            info.windowProduced = 0;
            info.windowConsumed = 0;
        }
        uint256 limit = _capacityWh(meter, interval);
        uint256 producedLeft = limit > info.windowProduced ? limit - info.windowProduced : 0;
        uint256 consumedLeft = limit > info.windowConsumed ? limit - info.windowConsumed : 0;
        if (producedWh > producedLeft) revert AboveCapacity(meter, producedWh, producedLeft);
        if (consumedWh > consumedLeft) revert AboveCapacity(meter, consumedWh, consumedLeft);
        // Both fit: the limit is below 2^48 (2^32 W over at most a day).
        info.windowProduced += uint64(producedWh);
        info.windowConsumed += uint64(consumedWh);
    }

    /// Wh `meter` can produce or consume in `seconds`.
    function _capacityWh(address meter, uint256 seconds_) private view returns (uint256) {
        return capacityOf(meter) * seconds_ / 3600;
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

    function _marketIsMeter(address account) internal view override returns (bool) {
        return meterSlot[account] != 0;
    }

    function _marketGrace() internal view override returns (uint256) {
        return graceSeconds();
    }

    function _marketIntervalCap(address account) internal view override returns (uint256) {
        return _capacityWh(account, intervalSeconds());
    }

    function _pay(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert PaymentFailed(to, amount);
    }
}
