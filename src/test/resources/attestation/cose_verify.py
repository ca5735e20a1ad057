#!/usr/bin/python3
"""Independent check of a COSE_Sign1 ES256 signature: cose_verify.py <cose file> <public key PEM> <work dir>.

Decodes with cbor2, rebuilds Sig_structure (RFC 9052 §4.4), turns the raw r||s signature into DER, and lets
`openssl dgst -sha256 -verify` judge. Prints JSON: the protected header, the payload's tag, openssl's verdict.
"""
import json
import os
import subprocess
import sys

import cbor2


def der_integer(value):
    body = value.to_bytes((value.bit_length() + 8) // 8, "big")  # a leading 0 keeps it positive
    return b"\x02" + bytes([len(body)]) + body


def main():
    cose_file, public_key, work = sys.argv[1:4]
    item = cbor2.loads(open(cose_file, "rb").read())
    assert isinstance(item, cbor2.CBORTag) and item.tag == 18, "not tag 18"
    protected, unprotected, payload, signature = item.value
    header = cbor2.loads(protected)
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    body = der_integer(r) + der_integer(s)
    tbs_path = os.path.join(work, "tbs.bin")
    sig_path = os.path.join(work, "sig.der")
    open(tbs_path, "wb").write(to_be_signed)
    open(sig_path, "wb").write(b"\x30" + bytes([len(body)]) + body)
    result = subprocess.run(["openssl", "dgst", "-sha256", "-verify", public_key, "-signature", sig_path, tbs_path],
                            capture_output=True, text=True)
    payload_item = cbor2.loads(payload)
    print(json.dumps({
        "alg": header.get(1),
        "content_type": header.get(3),
        "meta": cbor2.loads(header[8]) if 8 in header else None,
        "unprotected": len(unprotected),
        "signature_length": len(signature),
        "payload_tag": payload_item.tag if isinstance(payload_item, cbor2.CBORTag) else None,
        "openssl_exit": result.returncode,
        "openssl": (result.stdout + result.stderr).strip(),
    }, default=str))


if __name__ == "__main__":
    main()
