#!/usr/bin/env python3
"""Reference hashes for PrefixHasherTest's edge cases, computed with the same library vLLM uses.

vLLM's sha256_cbor is hashlib.sha256(cbor2.dumps(obj, canonical=True)). This script is an
independent implementation of that chain (cbor2 from Debian's python3-cbor2), so the expected
values in the Java test are not produced by the code under test. Run:
    apt-get install -y python3-cbor2 && python3 protocol/src/test/python/edge_vectors.py
and paste the output into PrefixHasherTest if a case is added.
"""
import hashlib

import cbor2


def sha256_cbor(obj):
    return hashlib.sha256(cbor2.dumps(obj, canonical=True)).digest()


def chain(seed, tokens, block_size, extra=(), salt=None):
    parent = sha256_cbor(seed)
    out = []
    for i in range(len(tokens) // block_size):
        keys = list(extra)
        if salt is not None and i == 0:
            keys.append(salt)
        blk = tuple(tokens[i * block_size:(i + 1) * block_size])
        parent = sha256_cbor((parent, blk, tuple(keys) if keys else None))
        out.append(parent.hex())
    return out


BIG = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**40 + 7, 2**63 - 1, 2**63, 2**64 - 1, 151643, 42]
PROMPT = list(range(1000, 1048))

CASES = {
    "bigTokens_seed42_bs16": chain("42", BIG, 16),
    "bigTokens_seed42_bs4": chain("42", BIG, 4),
    "salt_seed42_bs16": chain("42", PROMPT, 16, salt="tenant-a"),
    "loraAndSalt_seed42_bs16": chain("42", PROMPT, 16, extra=("Alice",), salt="tenant-a"),
    "textSeed_bs16": chain("not-a-number", PROMPT, 16),
    "longUnicodeSeed_bs16": chain("a seed longer than twenty-three bytes \u79cd\u5b50", PROMPT, 16),
    "partial_seed0_bs16": chain("0", PROMPT[:40], 16),
    "noneHash_seed42": [sha256_cbor("42").hex()],
}

for name, hashes in CASES.items():
    print(name)
    for h in hashes:
        print("  " + h)
