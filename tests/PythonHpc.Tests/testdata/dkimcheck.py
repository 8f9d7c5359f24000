"""Verifies the DKIM signature of each .eml with dkimpy (Debian's python3-dkim), an implementation
outside .NET, given the public key directly instead of through DNS.

    python3 dkimcheck.py TXT-RECORD-FILE MESSAGE.eml...

Prints one line per message: "pass" or "fail <reason>".
"""
import sys

import dkim

record = open(sys.argv[1], "rb").read().strip()


def dns(name, timeout=5):
    return record


for path in sys.argv[2:]:
    message = open(path, "rb").read()
    try:
        ok = dkim.verify(message, dnsfunc=dns, minkey=1024)
        print("pass" if ok else "fail signature does not verify")
    except Exception as e:
        print(f"fail {e!r}")
