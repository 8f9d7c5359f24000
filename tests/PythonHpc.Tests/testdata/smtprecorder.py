"""A recording SMTP server on aiosmtpd (Debian's python3-aiosmtpd), for tests over a real socket.

    python3 smtprecorder.py PORT FOLDER [starttls|implicit CERT KEY] [--no-pipelining]

It offers PIPELINING (RFC 2920) in its EHLO reply, as Postfix and every large relay do (aiosmtpd
reads pipelined commands but does not say so); --no-pipelining leaves it out.

With the third argument it speaks TLS with the PEM certificate and key given: required after
STARTTLS (RFC 3207), or from the first byte (RFC 8314's implicit TLS). Every accepted message is
written to FOLDER as NNNNNN.eml (the bytes as received, CRLF), with one line per recipient appended
to FOLDER/deliveries.log: "NNNNNN<TAB>recipient<TAB>arrival<TAB>tls", the arrival in Unix seconds
(with microseconds) when the whole message was in, tls the session's TLS version or "none". Recipients answer by
their local part, so tests can script faults per address:
  ...-450@...     450 4.2.1 (try again later), every time
  ...-550@...     550 5.1.1 (no such user)
  ...-hangup@...  the connection is closed without a reply
  ...-450once@... 450 the first time, accepted after that (a greylisting server)
Anyone else is accepted (250). Every RCPT and its answer's code go to FOLDER/rcpt.log
("address<TAB>code"). It prints "ready" once listening.
"""
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller

arguments = [a for a in sys.argv[1:] if a != "--no-pipelining"]
pipelining = len(arguments) == len(sys.argv) - 1
port, folder = int(arguments[0]), arguments[1]
os.makedirs(folder, exist_ok=True)
counter = {"n": 0}
refused_once = set()


def answer(address, code):
    with open(os.path.join(folder, "rcpt.log"), "a") as log:
        log.write(f"{address}\t{code}\n")


class Recorder:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.endswith("-450") or (local.endswith("-450once") and address not in refused_once):
            refused_once.add(address)
            answer(address, 450)
            return "450 4.2.1 Mailbox busy, try later"
        if local.endswith("-550"):
            answer(address, 550)
            return "550 5.1.1 No such user"
        if local.endswith("-hangup"):
            answer(address, 0)
            server.transport.close()
            return "421 4.3.0 Closing"
        answer(address, 250)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        arrival = time.time()
        counter["n"] += 1
        name = f"{counter['n']:06d}"
        with open(os.path.join(folder, name + ".eml"), "wb") as f:
            f.write(envelope.original_content)
        tls = server.transport.get_extra_info("ssl_object")
        with open(os.path.join(folder, "deliveries.log"), "a") as log:
            for rcpt in envelope.rcpt_tos:
                log.write(f"{name}\t{rcpt}\t{arrival:.6f}\t{tls.version() if tls else 'none'}\n")
        return "250 2.0.0 Accepted"


tls = {}
if len(arguments) > 2:
    mode, cert, key = arguments[2:5]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    tls = {"ssl_context": context} if mode == "implicit" else {"tls_context": context, "require_starttls": True}
controller = Controller(Recorder(), hostname="127.0.0.1", port=port, decode_data=False, **tls)
controller.start()
print("ready", flush=True)
try:
    sys.stdin.read()  # serves until stdin closes or the process is killed
finally:
    controller.stop()
