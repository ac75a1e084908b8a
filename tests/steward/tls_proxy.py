"""A TLS-terminating TCP proxy in front of a Temporal server, for the connection tests: it checks the
client's certificate when asked to (mTLS) and reads the gRPC request headers (HTTP/2 HEADERS frames,
HPACK) that pass through, so a test sees exactly what reached the server. Certificates are made here."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hpack import Decoder

SERVER_NAME = "temporal.steward.test"
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HEADERS, _CONTINUATION = 1, 9
_END_HEADERS, _PADDED, _PRIORITY = 0x4, 0x8, 0x20


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _issue(name: str, key, issuer_name: str, issuer_key, *, ca: bool = False, san: str | None = None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(directory: Path) -> Pki:
    """A CA, a server certificate for SERVER_NAME and a client certificate, as PEM files."""
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _issue("Steward test CA", ca_key, "Steward test CA", ca_key, ca=True)
    server = _issue(SERVER_NAME, server_key, "Steward test CA", ca_key, san=SERVER_NAME)
    client = _issue("steward-worker", client_key, "Steward test CA", ca_key, san="steward-worker")

    def write(name: str, data: bytes) -> Path:
        path = directory / name
        path.write_bytes(data)
        return path

    def key_pem(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    pem = serialization.Encoding.PEM
    return Pki(write("ca.pem", ca.public_bytes(pem)), write("server.pem", server.public_bytes(pem)),
               write("server.key", key_pem(server_key)), write("client.pem", client.public_bytes(pem)),
               write("client.key", key_pem(client_key)))


@dataclass
class TlsProxy:
    upstream: str
    pki: Pki
    require_client_cert: bool
    headers: list[dict[str, str]] = field(default_factory=list)  # one dict per gRPC request
    client_subjects: list[str] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def __aenter__(self) -> TlsProxy:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        context.set_alpn_protocols(["h2"])
        if self.require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.pki.ca)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        if peer:
            self.client_subjects.append(dict(item[0] for item in peer["subject"])["commonName"])
        host, port = self.upstream.rsplit(":", 1)
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return
        with contextlib.suppress(asyncio.CancelledError):  # the test's loop ends with connections open
            await asyncio.gather(self._pump(reader, up_writer, watch=True), self._pump(up_reader, writer),
                                 return_exceptions=True)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    watch: bool = False) -> None:
        frames = _Frames(self.headers) if watch else None
        try:
            while data := await reader.read(65536):
                if frames:
                    frames.feed(data)
                writer.write(data)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()


class _Frames:
    """The client's HTTP/2 stream, decoded just enough to read each request's headers."""

    def __init__(self, sink: list[dict[str, str]]) -> None:
        self.sink, self.buffer, self.block, self.decoder = sink, b"", b"", Decoder()
        self.preface = True

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if self.preface:
            if len(self.buffer) < len(_PREFACE):
                return
            self.buffer, self.preface = self.buffer[len(_PREFACE):], False
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                return
            kind, flags, payload = self.buffer[3], self.buffer[4], self.buffer[9:9 + length]
            self.buffer = self.buffer[9 + length:]
            if kind == _HEADERS:
                if flags & _PADDED:
                    payload = payload[1:len(payload) - payload[0]]
                if flags & _PRIORITY:
                    payload = payload[5:]
                self.block = payload
            elif kind == _CONTINUATION:
                self.block += payload
            else:
                continue
            if flags & _END_HEADERS:
                self.sink.append({str(k): str(v) for k, v in self.decoder.decode(self.block)})
                self.block = b""
