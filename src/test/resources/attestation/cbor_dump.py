#!/usr/bin/python3
"""Independent check of our CBOR: decodes the file named by argv[1] with cbor2 and prints it as JSON.

A map is {"map": {key: value}} with an integer key written as its decimal text and a text key as 't:<text>';
bytes are {"hex": ...}; a tag is {"tag": n, "value": ...}. Byte strings that hold CBOR themselves (the CoMID in
tag 506, COSE's protected header and payload) also carry "cbor": their decoding. "canonical" says whether cbor2's
canonical (RFC 8949 deterministic) encoding of the decoded item gives back exactly the bytes of the file.
"""
import json
import sys
import uuid

import cbor2


def plain(item, nested):
    if isinstance(item, uuid.UUID):  # cbor2 reads tag 37 (UUID) as uuid.UUID
        return {"tag": 37, "value": {"hex": item.hex}}
    if isinstance(item, cbor2.CBORTag):
        return {"tag": item.tag, "value": plain(item.value, item.tag in (506, 18))}
    if isinstance(item, dict):
        return {"map": {(str(k) if isinstance(k, int) else "t:" + k): plain(v, False) for k, v in item.items()}}
    if isinstance(item, (list, tuple)):
        # COSE_Sign1 = [protected bstr .cbor, unprotected, payload bstr .cbor, signature]
        return [plain(v, nested and i in (0, 2)) for i, v in enumerate(item)]
    if isinstance(item, bytes):
        out = {"hex": item.hex()}
        if nested:
            inner = cbor2.loads(item)
            out["cbor"] = plain(inner, False)
            out["canonical"] = cbor2.dumps(inner, canonical=True) == item
        return out
    return item


def main():
    data = open(sys.argv[1], "rb").read()
    item = cbor2.loads(data)
    print(json.dumps({"item": plain(item, isinstance(item, cbor2.CBORTag) and item.tag == 506),
                      "canonical": cbor2.dumps(item, canonical=True) == data}))


if __name__ == "__main__":
    main()
