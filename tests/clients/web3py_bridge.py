"""The 2016 DAISEE bridge flow with web3.py: eth_sendTransaction from an account unlocked on the
node, raw calldata 0x567cc2b6 + amount (setProduction) then 0x298d65a1 + amount (consumeEnergy),
receipts and balances. Usage: python web3py_bridge.py <host:port> <daisee-address> <account>"""
import sys

import web3
from web3 import Web3

endpoint, contract, account = sys.argv[1], sys.argv[2], sys.argv[3]
w3 = Web3(Web3.HTTPProvider(f"http://{endpoint}"))
assert w3.is_connected()
assert w3.eth.chain_id == 31337
account = Web3.to_checksum_address(account)
contract = Web3.to_checksum_address(contract)
assert account in w3.eth.accounts, w3.eth.accounts


def amount(n):
    return n.to_bytes(32, "big").hex()


def send(selector, n):
    # As DzScripts did: from, to and raw data only; the node fills gas, fees and nonce.
    tx = w3.eth.send_transaction({"from": account, "to": contract, "data": "0x" + selector + amount(n)})
    receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=30, poll_latency=0.1)
    assert receipt.status == 1, receipt
    return receipt


def balance():
    raw = w3.eth.call({"from": account, "to": contract, "data": "0x99e1d301"})
    return int.from_bytes(raw, "big")


start = balance()
send("567cc2b6", 1234)
send("298d65a1", 234)
assert balance() == start + 1000, balance()
# Reading the consumption too (getEnergyConsumption, 0x13a59e38).
consumed = int.from_bytes(w3.eth.call({"from": account, "to": contract, "data": "0x13a59e38"}), "big")
assert consumed >= 234, consumed
print(f"web3.py {web3.__version__}: bridge flow passed; balance {balance()}")
