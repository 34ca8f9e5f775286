// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Market — automatic settlement of each interval: surplus meets deficit at one price
/// @notice After an interval, anyone may call `settle(intervalEnd)`: the producers' surplus of
///         that interval is matched with the consumers' deficit in merit order (asks ascending,
///         bids descending) and cleared at one uniform price (pay-as-clear), paid from the buyers'
///         prepaid escrow to the sellers' withdrawable balance. What is not matched stays with the
///         grid (import / export).
/// @dev The rules, step by step:
///      1. Offers. Each meter that reported the interval (the first `settleCapacity()` of them:
///         as many as one block's gas limit settles: 661 at 30 M gas, 2,216 at 100 M)
///         with produced > consumed offers `produced - consumed`, at most its current surplus;
///         with consumed > produced it asks for `consumed - produced`, at most its current deficit
///         and at most what its escrow pays at its bid (`escrow / bid`). Nobody's surplus or
///         deficit can go negative, and nobody pays what its escrow does not hold.
///      2. Prices. A household's ask (minimum wei per Wh it sells at) and bid (maximum it pays)
///         are its own (`setAsk`, `setBid`), or the community `rate` when unset (zero).
///      3. Volume. Walking the asks up and the bids down, energy is matched while ask <= bid; the
///         last pair matched is the marginal pair. No pair (ask > every bid): nothing clears.
///      4. Price. The midpoint of the marginal pair, rounded down: every matched seller's ask is
///         at or below it and every matched buyer's bid at or above it.
///      5. Ties. Sellers asking less than the marginal ask sell everything offered; those asking
///         exactly the marginal ask share the rest pro rata to their offers (rounded down, the
///         leftover Wh one each in reporting order). Buyers likewise around the marginal bid.
///         With every price equal (the fixed-rate case) this is the pro-rata answer.
///      6. Payment. Each matched Wh costs the clearing price: buyers' escrow pays exactly what
///         sellers' balances receive. Energy moves from sellers' surplus to buyers' deficit.
///      7. Time. Interval ends sit on the community's grid (`intervalSeconds`) and are never in
///         the future. The market of `intervalEnd` takes readings until `intervalEnd +
///         graceSeconds` (chain time); from then on anyone may settle it, once. A reading that
///         arrives later still counts in the balances, but in no market, and says so
///         (`OutsideMarket`). A reading can therefore never close an interval early.
///      8. Prices are fixed with the reading: the seller's ask, or the buyer's bid, in force
///         when the reading was recorded (readings recorded before the contract was upgraded
///         to this version use the prices in force at settlement).
///      9. Only registered meters take part: a meter removed before settlement is left out.
abstract contract Market {
    // ---------------------------------------------------------------- errors

    /// This interval was settled already.
    error AlreadySettled(uint64 intervalEnd);
    /// The interval still takes readings: it can be settled from `settlesFrom` (unix s) on.
    error IntervalOpen(uint64 intervalEnd, uint256 settlesFrom);
    /// No reading was reported for this interval.
    error NoReadings(uint64 intervalEnd);
    /// A withdrawal asked for more than the escrow holds.
    error InsufficientEscrow(uint256 available, uint256 requested);
    /// A limit price outside what the market accepts (asks and bids at most `MAX_PRICE`; an ask
    /// may also be `NOT_FOR_SALE`).
    error InvalidPrice(uint256 weiPerWh);

    // ---------------------------------------------------------------- events

    /// `account` put `amount` wei in escrow.
    event Deposit(address indexed account, uint256 amount);
    /// `account` took `amount` wei out of escrow.
    event Withdrawal(address indexed account, uint256 amount);
    /// A reading counted in the balances but in no market: `reason` 1, it came after the
    /// interval's grace period; 2, the interval was settled already.
    event OutsideMarket(address indexed meter, uint64 intervalEnd, uint8 reason);
    /// `account` set its ask (minimum wei per Wh it sells at; 0: the rate).
    event AskChanged(address indexed account, uint256 ask);
    /// `account` set its bid (maximum wei per Wh it pays; 0: the rate).
    event BidChanged(address indexed account, uint256 bid);
    /// Settlement of `intervalEnd` moved `energyWh` from `seller` to `buyer` for `paid` wei.
    event Matched(
        uint64 indexed intervalEnd, address indexed seller, address indexed buyer, uint256 energyWh, uint256 paid
    );
    /// `intervalEnd` cleared `volumeWh` at `price` wei per Wh between `sellers` and `buyers`;
    /// `skipped` meters beyond `settleCapacity()` took no part.
    event Cleared(
        uint64 indexed intervalEnd, uint256 price, uint256 volumeWh, uint256 sellers, uint256 buyers, uint256 skipped
    );

    // ---------------------------------------------------------------- state

    /// The most meters one `settle` takes part, whatever the block gas limit (it bounds the
    /// memory one settlement uses).
    uint256 public constant MAX_SETTLE_METERS = 3000;
    /// Gas `settle` needs besides its meters (the transaction, the interval's bookkeeping, the
    /// `Cleared` event), with a margin.
    uint256 public constant SETTLE_GAS_BASE = 250_000;
    /// The most gas one meter adds to `settle`: its reading, balances, escrow and prices read,
    /// its share of the sort, its payment and `Matched` events, and a seller's first proceeds
    /// (a new escrow slot, 22 k alone), before refunds. Measured with every meter trading at
    /// its own price: 39.6 k at 100 meters, 41.9 k at 2,000, 43.x k at 3,000 (gas.rs,
    /// evm-contracts/README.md); the memory and the sort grow a little faster than the meters.
    uint256 public constant SETTLE_GAS_PER_METER = 45_000;
    /// The highest limit price (wei per Wh) an ask, a bid or the rate may have (7.9e28 wei,
    /// far above any real price): products of prices and energy never overflow.
    uint256 public constant MAX_PRICE = type(uint96).max;
    /// The ask of a household that sells nothing (not in the market, not to `buyEnergy`).
    uint256 public constant NOT_FOR_SALE = type(uint256).max;
    /// Why a reading is outside the market (`OutsideMarket`).
    uint8 internal constant LATE = 1;
    uint8 internal constant SETTLED = 2;

    /// One meter's reading of one interval, packed in one slot.
    struct IntervalReading {
        address meter;
        uint48 produced;
        uint48 consumed;
    }

    /// One side's order in a settlement (memory only).
    struct Order {
        address account;
        uint256 energy;
        uint256 price;
        uint256 fill;
    }

    /// The outcome of one clearing (memory only).
    struct Clearing {
        uint256 volume;
        uint256 marginalAsk;
        uint256 marginalBid;
        uint256 price;
        uint256 sellers;
        uint256 buyers;
    }

    /// The end of the newest interval any meter reported.
    uint64 public latestIntervalEnd;
    mapping(uint64 => IntervalReading[]) private intervalReadings;
    mapping(uint64 => bool) private settledIntervals;
    mapping(address => uint256) private escrow;
    mapping(address => uint256) private asks;
    mapping(address => uint256) private bids;

    /// State added with time-bound settlement, in its own namespace (ERC-7201) so the layout
    /// above stays that of the first version and an upgrade in place keeps every slot.
    /// @custom:storage-location erc7201:daisee.storage.Market
    struct MarketStorage {
        /// The limit price each meter's reading of each interval carries.
        mapping(uint64 => mapping(address => uint256)) readingPrice;
    }

    /// keccak256(abi.encode(uint256(keccak256("daisee.storage.Market")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant MARKET_STORAGE = 0xe2026a8871fa3f3d444297bb03f01f27343388b7ea1c261875ca42a604f55500;

    function _marketStorage() private pure returns (MarketStorage storage $) {
        assembly ("memory-safe") {
            $.slot := MARKET_STORAGE
        }
    }

    // ---------------------------------------------------------------- hooks (Daisee)

    /// The community rate, wei per Wh.
    function _marketRate() internal view virtual returns (uint256);
    /// `account`'s signed net energy balance, Wh.
    function _marketNet(address account) internal view virtual returns (int256);
    /// Moves `energy` Wh of net balance from `seller` to `buyer`.
    function _marketMove(address seller, address buyer, uint256 energy) internal virtual;
    /// Sends `amount` wei to `to`.
    function _marketPay(address to, uint256 amount) internal virtual;
    /// Whether `account` is a registered meter now.
    function _marketIsMeter(address account) internal view virtual returns (bool);
    /// Seconds after an interval's end during which its market takes readings.
    function _marketGrace() internal view virtual returns (uint256);
    /// The most Wh one meter can offer or ask for in one interval.
    function _marketIntervalCap(address account) internal view virtual returns (uint256);

    // ---------------------------------------------------------------- escrow and prices

    /// Adds the value sent to the caller's escrow, from which settlements pay.
    function deposit() external payable {
        escrow[msg.sender] += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    /// Takes `amount` wei out of the caller's escrow (deposits and sales proceeds alike).
    function withdraw(uint256 amount) external {
        uint256 available = escrow[msg.sender];
        if (amount > available) revert InsufficientEscrow(available, amount);
        escrow[msg.sender] = available - amount;
        emit Withdrawal(msg.sender, amount);
        _marketPay(msg.sender, amount);
    }

    /// Sets the lowest price (wei per Wh) the caller sells at; 0 follows the community rate.
    function setAsk(uint256 weiPerWh) external {
        if (weiPerWh > MAX_PRICE && weiPerWh != NOT_FOR_SALE) revert InvalidPrice(weiPerWh);
        asks[msg.sender] = weiPerWh;
        emit AskChanged(msg.sender, weiPerWh);
    }

    /// Sets the highest price (wei per Wh) the caller pays; 0 follows the community rate.
    function setBid(uint256 weiPerWh) external {
        if (weiPerWh > MAX_PRICE) revert InvalidPrice(weiPerWh);
        bids[msg.sender] = weiPerWh;
        emit BidChanged(msg.sender, weiPerWh);
    }

    /// `account`'s escrow in wei: deposits plus proceeds, less payments and withdrawals.
    function escrowOf(address account) external view returns (uint256) {
        return escrow[account];
    }

    /// The ask in force for `account`.
    function askOf(address account) public view returns (uint256) {
        uint256 ask = asks[account];
        return ask == 0 ? _marketRate() : ask;
    }

    /// The bid in force for `account`.
    function bidOf(address account) public view returns (uint256) {
        uint256 bid = bids[account];
        return bid == 0 ? _marketRate() : bid;
    }

    /// Whether `intervalEnd` was settled.
    function isSettled(uint64 intervalEnd) external view returns (bool) {
        return settledIntervals[intervalEnd];
    }

    /// How many meters one `settle` takes part at this block's gas limit (the first to report
    /// the interval): what `SETTLE_GAS_PER_METER` says fits, at most `MAX_SETTLE_METERS`.
    function settleCapacity() public view returns (uint256) {
        uint256 limit = block.gaslimit;
        if (limit <= SETTLE_GAS_BASE) return 0;
        uint256 n = (limit - SETTLE_GAS_BASE) / SETTLE_GAS_PER_METER;
        return n < MAX_SETTLE_METERS ? n : MAX_SETTLE_METERS;
    }

    /// How many meters reported `intervalEnd` before it was settled.
    function intervalMeterCount(uint64 intervalEnd) external view returns (uint256) {
        return intervalReadings[intervalEnd].length;
    }

    // ---------------------------------------------------------------- settlement

    /// From when (unix s) `intervalEnd` can be settled: the end of its grace period.
    function settlesFrom(uint64 intervalEnd) public view returns (uint256) {
        return uint256(intervalEnd) + _marketGrace();
    }

    /// Settles interval `intervalEnd` (see the contract's rules). Anyone may call it, once,
    /// after its grace period.
    function settle(uint64 intervalEnd) external {
        if (settledIntervals[intervalEnd]) revert AlreadySettled(intervalEnd);
        uint256 from = settlesFrom(intervalEnd);
        if (block.timestamp < from) revert IntervalOpen(intervalEnd, from);
        IntervalReading[] storage reported = intervalReadings[intervalEnd];
        if (reported.length == 0) revert NoReadings(intervalEnd);
        settledIntervals[intervalEnd] = true;
        uint256 n = _min(reported.length, settleCapacity());
        (Order[] memory sells, Order[] memory buys) = _orders(intervalEnd, reported, n);
        _clear(intervalEnd, sells, buys, reported.length - n);
    }

    /// Steps 3 to 6 on the orders of one interval.
    function _clear(uint64 intervalEnd, Order[] memory sells, Order[] memory buys, uint256 skipped) private {
        _sort(sells, true);
        _sort(buys, false);
        Clearing memory c;
        (c.volume, c.marginalAsk, c.marginalBid) = _volume(sells, buys);
        c.price = c.volume == 0 ? 0 : (c.marginalAsk + c.marginalBid) / 2;
        c.sellers = _allocate(sells, c.volume, c.marginalAsk, true);
        c.buyers = _allocate(buys, c.volume, c.marginalBid, false);
        _pay(intervalEnd, sells, buys, c.price);
        emit Cleared(intervalEnd, c.price, c.volume, c.sellers, c.buyers, skipped);
    }

    /// Records a reading for the market (called by `reportReading`), with the limit price in
    /// force now; a reading after the grace period or settlement goes to no market and says so.
    function _recordInterval(address meter, uint64 intervalEnd, uint256 producedWh, uint256 consumedWh)
        internal
    {
        if (intervalEnd > latestIntervalEnd) latestIntervalEnd = intervalEnd;
        if (settledIntervals[intervalEnd]) {
            emit OutsideMarket(meter, intervalEnd, SETTLED);
            return;
        }
        if (block.timestamp >= settlesFrom(intervalEnd)) {
            emit OutsideMarket(meter, intervalEnd, LATE);
            return;
        }
        // Both fit: reportReading refuses more than 2^48 - 1 Wh (281 TWh) in one interval.
        intervalReadings[intervalEnd].push(IntervalReading(meter, uint48(producedWh), uint48(consumedWh)));
        if (producedWh != consumedWh) {
            _marketStorage().readingPrice[intervalEnd][meter] =
                producedWh > consumedWh ? askOf(meter) : bidOf(meter);
        }
    }

    /// Step 1: the sell and buy orders of the first `n` meters that reported (registered meters
    /// only, at the prices their readings carry, each at most one interval's capacity).
    function _orders(uint64 intervalEnd, IntervalReading[] storage reported, uint256 n)
        private
        view
        returns (Order[] memory sells, Order[] memory buys)
    {
        mapping(address => uint256) storage prices = _marketStorage().readingPrice[intervalEnd];
        sells = new Order[](n);
        buys = new Order[](n);
        uint256 ns;
        uint256 nb;
        for (uint256 i = 0; i < n; i++) {
            IntervalReading memory r = reported[i];
            address who = r.meter;
            if (!_marketIsMeter(who)) continue;
            int256 net = _marketNet(who);
            uint256 recorded = prices[who];
            uint256 cap = _marketIntervalCap(who);
            if (r.produced > r.consumed && net > 0) {
                uint256 energy = _min(_min(r.produced - r.consumed, uint256(net)), cap);
                uint256 ask = recorded != 0 ? recorded : askOf(who);
                if (ask != NOT_FOR_SALE) sells[ns++] = Order(who, energy, ask, 0);
            } else if (r.consumed > r.produced && net < 0 && net > type(int256).min) {
                uint256 energy = _min(_min(r.consumed - r.produced, uint256(-net)), cap);
                uint256 bid = recorded != 0 ? recorded : bidOf(who);
                if (bid > 0) energy = _min(energy, escrow[who] / bid);
                if (energy > 0) buys[nb++] = Order(who, energy, bid, 0);
            }
        }
        assembly ("memory-safe") {
            mstore(sells, ns)
            mstore(buys, nb)
        }
    }

    /// Sorts orders by price, ascending (asks) or descending (bids); ties keep the reporting
    /// order. A heap sort of packed keys (price, then position): O(n log n) whatever the prices,
    /// so a community that sets a thousand different asks cannot make settlement quadratic.
    function _sort(Order[] memory orders, bool ascending) private pure {
        uint256 n = orders.length;
        if (n < 2) return;
        uint256[] memory keys = new uint256[](n);
        Order[] memory copy = new Order[](n);
        for (uint256 k = 0; k < n; k++) {
            // Every recorded, asked or bid price is at most MAX_PRICE (96 bits): the key fits
            // in 128 bits and the position (below 2^32) breaks ties.
            uint256 p = _min(orders[k].price, MAX_PRICE);
            keys[k] = ((ascending ? p : MAX_PRICE - p) << 32) | k;
            copy[k] = orders[k];
        }
        _heapSort(keys);
        for (uint256 k = 0; k < n; k++) {
            orders[k] = copy[keys[k] & 0xffffffff];
        }
    }

    /// In-place heap sort, ascending.
    function _heapSort(uint256[] memory a) private pure {
        uint256 n = a.length;
        for (uint256 i = n / 2; i > 0; i--) {
            _siftDown(a, i - 1, n);
        }
        for (uint256 end = n - 1; end > 0; end--) {
            (a[0], a[end]) = (a[end], a[0]);
            _siftDown(a, 0, end);
        }
    }

    /// Moves `a[root]` down the heap `a[0..n)` to where its children are not larger. In
    /// assembly: the indices stay below `n <= a.length` by construction, and this loop is most
    /// of the sort's cost.
    function _siftDown(uint256[] memory a, uint256 root, uint256 n) private pure {
        assembly ("memory-safe") {
            let base := add(a, 0x20)
            let v := mload(add(base, shl(5, root)))
            for {} 1 {} {
                let child := add(shl(1, root), 1)
                if iszero(lt(child, n)) { break }
                let c := mload(add(base, shl(5, child)))
                let right := add(child, 1)
                if lt(right, n) {
                    let r := mload(add(base, shl(5, right)))
                    if gt(r, c) {
                        child := right
                        c := r
                    }
                }
                if iszero(gt(c, v)) { break }
                mstore(add(base, shl(5, root)), c)
                root := child
            }
            mstore(add(base, shl(5, root)), v)
        }
    }

    /// Step 3: the volume matched while ask <= bid, and the marginal pair.
    function _volume(Order[] memory sells, Order[] memory buys)
        private
        pure
        returns (uint256 volume, uint256 marginalAsk, uint256 marginalBid)
    {
        uint256 i;
        uint256 j;
        uint256 sellLeft = sells.length > 0 ? sells[0].energy : 0;
        uint256 buyLeft = buys.length > 0 ? buys[0].energy : 0;
        while (i < sells.length && j < buys.length && sells[i].price <= buys[j].price) {
            uint256 q = _min(sellLeft, buyLeft);
            volume += q;
            marginalAsk = sells[i].price;
            marginalBid = buys[j].price;
            sellLeft -= q;
            buyLeft -= q;
            if (sellLeft == 0 && ++i < sells.length) sellLeft = sells[i].energy;
            if (buyLeft == 0 && ++j < buys.length) buyLeft = buys[j].energy;
        }
    }

    /// Step 5: fills `volume` from one side — everything better than the marginal price, pro
    /// rata at it. Returns how many orders were filled at all.
    function _allocate(Order[] memory orders, uint256 volume, uint256 marginal, bool ascending)
        private
        pure
        returns (uint256 filled)
    {
        if (volume == 0) return 0;
        uint256 inside;
        uint256 tied;
        for (uint256 k = 0; k < orders.length; k++) {
            uint256 p = orders[k].price;
            if (ascending ? p < marginal : p > marginal) inside += orders[k].energy;
            else if (p == marginal) tied += orders[k].energy;
        }
        uint256 rest = volume - inside;
        uint256 given;
        for (uint256 k = 0; k < orders.length; k++) {
            uint256 p = orders[k].price;
            if (ascending ? p < marginal : p > marginal) {
                orders[k].fill = orders[k].energy;
            } else if (p == marginal) {
                orders[k].fill = orders[k].energy * rest / tied;
                given += orders[k].fill;
            }
        }
        uint256 left = rest - given;
        for (uint256 k = 0; k < orders.length && left > 0; k++) {
            if (orders[k].price == marginal && orders[k].fill < orders[k].energy) {
                orders[k].fill++;
                left--;
            }
        }
        for (uint256 k = 0; k < orders.length; k++) {
            if (orders[k].fill > 0) filled++;
        }
    }

    /// Step 6: pairs the fills in merit order, moves energy and escrow, emits each match.
    function _pay(uint64 intervalEnd, Order[] memory sells, Order[] memory buys, uint256 price) private {
        uint256 i;
        uint256 j;
        while (i < sells.length && j < buys.length) {
            if (sells[i].fill == 0) {
                i++;
                continue;
            }
            if (buys[j].fill == 0) {
                j++;
                continue;
            }
            uint256 q = _min(sells[i].fill, buys[j].fill);
            sells[i].fill -= q;
            buys[j].fill -= q;
            uint256 paid = q * price;
            _marketMove(sells[i].account, buys[j].account, q);
            escrow[buys[j].account] -= paid;
            escrow[sells[i].account] += paid;
            emit Matched(intervalEnd, sells[i].account, buys[j].account, q, paid);
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
