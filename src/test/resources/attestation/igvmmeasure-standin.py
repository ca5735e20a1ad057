#!/usr/bin/python3
# An igvmmeasure stand-in for the attestation tests: this machine has no SEV-SNP tooling and no real IGVM file.
# Called as igvmmeasure is, "<igvm file> measure -b", it prints one line, the 48-byte "launch measurement" in hex:
# here the SHA-384 of the file's bytes, so a test knows the digest independently and a changed file changes it.
# Every run appends one line to "<igvm file>.runs", so a test can count how often the tool ran.
import hashlib
import sys

if len(sys.argv) != 4 or sys.argv[2:] != ["measure", "-b"]:
    sys.exit("usage: igvmmeasure-standin <igvm file> measure -b")
path = sys.argv[1]
with open(path + ".runs", "a") as runs:
    runs.write("run\n")
with open(path, "rb") as f:
    print(hashlib.sha384(f.read()).hexdigest().upper())
