"""Reads .eml files with Python's email package (a MIME parser outside .NET) and prints, as JSON,
what a mail client would see: the headers as parsed, and each leaf part's type, transfer encoding
and decoded text."""
import email
import email.policy
import json
import sys

result = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        raw = f.read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append({
            "type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "encoding": part.get("Content-Transfer-Encoding"),
            "text": part.get_content(),
        })
    result.append({
        "file": path,
        "defects": [str(d) for d in message.defects],
        "type": message.get_content_type(),
        "headers": [[k, str(v)] for k, v in message.items()],
        "parts": parts,
        "max_line": max(len(line) for line in raw.splitlines()),
        "eight_bit": any(b > 127 for b in raw),
    })
json.dump(result, sys.stdout, ensure_ascii=False)
