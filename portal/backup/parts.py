"""Encrypted backup parts, streamed in constant memory.

Fernet (portal.crypto, the keys of PORTAL_DATA_KEYS) encrypts whole messages, so a part is a
sequence of records, each a 4-byte big-endian length and one Fernet token (its bytes, not
their base64 text) of at most CHUNK plaintext bytes. Inside each token the plaintext starts
with the record's index and a last-record flag: records cannot be reordered, dropped or cut
off at the end without the reader noticing, and every record is authenticated by Fernet
itself. The writer hashes what it writes, for the manifest's sha256 of each part.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import struct
from pathlib import Path
from typing import BinaryIO

from portal.crypto import DecryptionError, decrypt, encrypt

CHUNK = 4 * 1024 * 1024
_LENGTH = struct.Struct(">I")
_HEADER = struct.Struct(">QB")  # record index, 1 on the last record
_MAX_TOKEN = 2 * CHUNK  # base64 of CHUNK plus Fernet's framing fits well inside


class PartError(ValueError):
    """A part is altered, cut short, or was not encrypted with any configured key."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


class PartWriter(io.RawIOBase):
    """A write-only file object: what is written to it lands encrypted in `path`."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(descriptor, "wb")
        self._buffer = bytearray()
        self._index = 0
        self._digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        token = encrypt(_HEADER.pack(self._index, 1 if last else 0) + plain)
        raw = base64.urlsafe_b64decode(token)  # the token's bytes, not its base64 text
        record = _LENGTH.pack(len(raw)) + raw
        self._file.write(record)
        self._digest.update(record)
        self.size += len(record)
        self._index += 1

    def close(self) -> None:
        if self.closed:
            return
        self._emit(bytes(self._buffer), last=True)  # always one last record, maybe empty
        self._buffer.clear()
        self._file.flush()
        self._file.close()
        super().close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


class PartReader(io.RawIOBase):
    """A read-only file object over an encrypted part; PartError on any alteration."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._plain = b""
        self._index = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_record(self) -> None:
        head = self._file.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            raise PartError("the part ends before its last record (cut short)")
        (length,) = _LENGTH.unpack(head)
        if length > _MAX_TOKEN:
            raise PartError("a record of the part has an impossible length (altered)")
        token = base64.urlsafe_b64encode(self._file.read(length))
        try:
            plain = decrypt(token)
        except DecryptionError as error:
            raise PartError(f"a record of the part does not decrypt: {error}") from error
        index, last = _HEADER.unpack_from(plain)
        if index != self._index:
            raise PartError("the part's records are out of order (altered)")
        self._index += 1
        self._plain = plain[_HEADER.size :]
        if last:
            self._done = True
            if self._file.read(1):
                raise PartError("the part has data after its last record (altered)")

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._plain and not self._done:
            self._next_record()
        count = min(len(buffer), len(self._plain))
        buffer[:count] = self._plain[:count]
        self._plain = self._plain[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def open_part(path: Path) -> io.BufferedReader:
    return io.BufferedReader(PartReader(path), buffer_size=1024 * 1024)


def write_bytes(path: Path, data: bytes) -> PartWriter:
    writer = PartWriter(path)
    writer.write(data)
    writer.close()
    return writer


def read_all(path: Path) -> bytes:
    """A small part whole (the audit checkpoint)."""
    with open_part(path) as reader:
        return reader.read()


def drain(path: Path) -> int:
    """Decrypt a part to nowhere (the check that every record opens); its plain size."""
    total = 0
    with open_part(path) as reader:
        while block := reader.read(1024 * 1024):
            total += len(block)
    return total
