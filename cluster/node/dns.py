"""The real node's cluster DNS: answers for the names of Services and pods under cluster.local,
from the API server, on the node's own address (the kubelet's clusterDNS). Standard library
only; started by supervise.py.

  <service>.<namespace>.svc.cluster.local   the Service's ClusterIP (a headless Service: the
                                            addresses of its ready endpoints)
  <a-b-c-d>.<namespace>.pod.cluster.local   the pod address a.b.c.d
  anything else under cluster.local         NXDOMAIN
  any other name                            SERVFAIL: the node has no way out to resolve it
"""
from __future__ import annotations

import json
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.request

DOMAIN = "cluster.local"
TTL = 5
A, AAAA = 1, 28
NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3


class Names:
    """name -> addresses, refreshed from the API server every second."""

    def __init__(self, server: str, ca: str, cert: str, key: str):
        self.server = server
        self.context = ssl.create_default_context(cafile=ca)
        self.context.load_cert_chain(cert, key)
        self.table: dict[str, list[str]] = {}

    def _get(self, path: str) -> dict:
        with urllib.request.urlopen(self.server + path, context=self.context, timeout=10) as answer:
            return json.load(answer)

    def refresh(self) -> None:
        table: dict[str, list[str]] = {}
        headless = set()
        for service in self._get("/api/v1/services")["items"]:
            meta, spec = service["metadata"], service["spec"]
            name = f"{meta['name']}.{meta['namespace']}.svc.{DOMAIN}"
            ip = spec.get("clusterIP")
            table[name] = [ip] if ip and ip != "None" else []
            if ip == "None":
                headless.add(name)
        for slices in self._get("/apis/discovery.k8s.io/v1/endpointslices")["items"]:
            meta = slices["metadata"]
            name = f"{meta.get('labels', {}).get('kubernetes.io/service-name')}.{meta['namespace']}.svc.{DOMAIN}"
            if name in headless:
                table[name] += [address for endpoint in slices.get("endpoints") or []
                                if (endpoint.get("conditions") or {}).get("ready", True)
                                for address in endpoint.get("addresses", []) if ":" not in address]
        self.table = table

    def run(self) -> None:
        while True:
            try:
                self.refresh()
            except Exception as error:  # the API server restarting: keep the last table
                print(f"dns: cannot read Services: {error}", file=sys.stderr, flush=True)
            time.sleep(1)

    def lookup(self, name: str) -> tuple[int, list[str]]:
        name = name.rstrip(".").lower()
        if not (name == DOMAIN or name.endswith("." + DOMAIN)):
            return SERVFAIL, []
        parts = name[: -len(DOMAIN) - 1].split(".")
        if len(parts) == 3 and parts[2] == "pod":
            address = parts[0].replace("-", ".")
            try:
                socket.inet_aton(address)
                return NOERROR, [address]
            except OSError:
                return NXDOMAIN, []
        if name in self.table:
            return NOERROR, self.table[name]
        return NXDOMAIN, []


def parse_question(packet: bytes) -> tuple[int, str, int, int, int]:
    """(id, name, type, flags, end of the question) of a query."""
    ident, flags = struct.unpack("!HH", packet[:4])
    labels, at = [], 12
    while packet[at]:
        length = packet[at]
        labels.append(packet[at + 1: at + 1 + length].decode("ascii", "replace"))
        at += 1 + length
    qtype, _ = struct.unpack("!HH", packet[at + 1: at + 5])
    return ident, ".".join(labels), qtype, flags, at + 5


def answer(packet: bytes, names: Names) -> bytes | None:
    try:
        ident, name, qtype, flags, end = parse_question(packet)
    except (IndexError, struct.error):
        return None
    rcode, addresses = names.lookup(name)
    records = [a for a in addresses if qtype == A] if rcode == NOERROR else []
    # QR, AA, RD as asked, RA (resolvers distrust an answer without it), and the rcode.
    header = struct.pack("!HHHHHH", ident, 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode, 1, len(records), 0, 0)
    body = packet[12:end]
    for address in records:  # the name by pointer to the question (offset 12)
        body += struct.pack("!HHHIH", 0xC00C, A, 1, TTL, 4) + socket.inet_aton(address)
    return header + body


def serve_udp(sock: socket.socket, names: Names) -> None:
    while True:
        packet, client = sock.recvfrom(4096)
        reply = answer(packet, names)
        if reply:
            sock.sendto(reply, client)


def serve_tcp(sock: socket.socket, names: Names) -> None:
    def one(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                while header := conn.recv(2):
                    (length,) = struct.unpack("!H", header)
                    reply = answer(conn.recv(length), names)
                    if not reply:
                        return
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, struct.error):
                pass
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=one, args=(conn,), daemon=True).start()


def sockets(address: str) -> tuple[socket.socket, socket.socket]:
    """The UDP and TCP sockets on address:53 (made by the caller in the node's namespace)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((address, 53))
    return udp, socket.create_server((address, 53))


def start(udp: socket.socket, tcp: socket.socket, names: Names) -> None:
    for target, args in ((names.run, ()), (serve_udp, (udp, names)), (serve_tcp, (tcp, names))):
        threading.Thread(target=target, args=args, daemon=True).start()
