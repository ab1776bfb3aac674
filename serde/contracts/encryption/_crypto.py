"""The data-encryption primitives confluent-kafka uses, with the ``cryptography`` package.

A DEK is not a bare AES key: it is the serialized Tink key proto (``AesGcmKey`` or
``AesSivKey``, version 0), which is what gets wrapped by the KMS and what a DEK's
``keyMaterial`` holds in base64. Tink's RAW output prefix is used, so ciphertexts are

* AES-GCM (``AES256_GCM``, ``AES128_GCM``): IV(12) ‖ ciphertext ‖ tag(16)
* AES-SIV (``AES256_SIV``, deterministic): SIV(16) ‖ ciphertext

with empty associated data (for AES-SIV Tink passes it as one empty component, so the
``cryptography`` call gets ``[b""]``; an empty list would give another SIV).
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Callable

from ..._errors import RuleError

__all__ = ["ALGORITHMS", "Cipher", "cipher_for", "prefix_version", "split_version"]

_GCM_TYPE_URL = "type.googleapis.com/google.crypto.tink.AesGcmKey"
_SIV_TYPE_URL = "type.googleapis.com/google.crypto.tink.AesSivKey"
_IV = 12


@dataclass(frozen=True)
class _Algorithm:
    name: str
    key_size: int
    key_field: int  # the proto field number of key_value: 3 in AesGcmKey, 2 in AesSivKey
    deterministic: bool
    type_url: str


ALGORITHMS: dict[str, _Algorithm] = {
    "AES128_GCM": _Algorithm("AES128_GCM", 16, 3, False, _GCM_TYPE_URL),
    "AES256_GCM": _Algorithm("AES256_GCM", 32, 3, False, _GCM_TYPE_URL),
    "AES256_SIV": _Algorithm("AES256_SIV", 64, 2, True, _SIV_TYPE_URL),
}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    from .._fields import _varint  # the Protobuf walk's reader: IndexError when truncated

    try:
        return _varint(data, pos)
    except IndexError:
        raise ValueError("truncated varint") from None


def serialize_key(algorithm: _Algorithm, key: bytes) -> bytes:
    """The Tink key proto ``{version = 0, key_value = key}`` (version 0 is not written)."""
    return _varint(algorithm.key_field << 3 | 2) + _varint(len(key)) + key


def parse_key(algorithm: _Algorithm, dek: bytes) -> bytes:
    """The AES key inside a serialized Tink key proto; RuleError if it is not one of ``algorithm``."""
    key: bytes | None = None
    pos = 0
    try:
        while pos < len(dek):
            tag, pos = _read_varint(dek, pos)
            field, wire = tag >> 3, tag & 7
            if wire == 0:
                value, pos = _read_varint(dek, pos)
                if field == 1 and value != 0:
                    raise ValueError(f"key version {value}")
            elif wire == 2:
                length, pos = _read_varint(dek, pos)
                if pos + length > len(dek):
                    raise ValueError("truncated field")
                if field == algorithm.key_field:
                    key = dek[pos : pos + length]
                pos += length
            else:
                raise ValueError(f"wire type {wire}")
    except ValueError as exc:
        raise RuleError(f"the DEK is not a serialized {algorithm.name} Tink key ({exc})") from None
    if key is None or len(key) != algorithm.key_size:
        raise RuleError(f"the DEK is not a serialized {algorithm.name} Tink key (wrong key size)")
    return key


class Cipher:
    """Encrypts and decrypts with DEKs of one algorithm (the DEK = serialized Tink key)."""

    def __init__(self, algorithm: str) -> None:
        spec = ALGORITHMS.get(algorithm)
        if spec is None:
            raise RuleError(f"invalid dek algorithm {algorithm!r} (one of {', '.join(ALGORITHMS)})")
        self.spec = spec
        self.name = spec.name
        self.deterministic = spec.deterministic
        self._primitives: dict[bytes, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {}

    def generate(self) -> bytes:
        """A new DEK: a fresh random key, serialized as Tink does."""
        return serialize_key(self.spec, os.urandom(self.spec.key_size))

    def _pair(self, dek: bytes) -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
        found = self._primitives.get(dek)
        if found is None:
            found = self._make(parse_key(self.spec, dek))
            if len(self._primitives) > 256:  # DEKs rotate; keep a bounded set
                self._primitives.clear()
            self._primitives[dek] = found
        return found

    def _make(self, key: bytes) -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
        """(encrypt, decrypt) functions bound to one AES key: the per-field path is one call."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

        failed = f"{self.name} decryption failed: the ciphertext is damaged or was not made with this DEK"
        if self.deterministic:
            siv = AESSIV(key)
            ad = [b""]  # Tink's empty associated data: one empty component

            def encrypt(plaintext: bytes) -> bytes:
                return siv.encrypt(plaintext, ad)

            def decrypt(ciphertext: bytes) -> bytes:
                try:
                    return siv.decrypt(ciphertext, ad)
                except InvalidTag:
                    raise RuleError(failed) from None

            return encrypt, decrypt
        gcm, urandom = AESGCM(key), os.urandom

        def encrypt_gcm(plaintext: bytes) -> bytes:
            iv = urandom(_IV)
            return iv + gcm.encrypt(iv, plaintext, b"")

        def decrypt_gcm(ciphertext: bytes) -> bytes:
            try:
                if len(ciphertext) < _IV + 16:
                    raise InvalidTag()
                return gcm.decrypt(ciphertext[:_IV], ciphertext[_IV:], b"")
            except InvalidTag:
                raise RuleError(failed) from None

        return encrypt_gcm, decrypt_gcm

    def encryptor(self, dek: bytes) -> Callable[[bytes], bytes]:
        return self._pair(dek)[0]

    def decryptor(self, dek: bytes) -> Callable[[bytes], bytes]:
        return self._pair(dek)[1]

    def encrypt(self, dek: bytes, plaintext: bytes) -> bytes:
        return self._pair(dek)[0](plaintext)

    def decrypt(self, dek: bytes, ciphertext: bytes) -> bytes:
        return self._pair(dek)[1](ciphertext)


_CIPHERS: dict[str, Cipher] = {}


def cipher_for(algorithm: str) -> Cipher:
    found = _CIPHERS.get(algorithm)
    if found is None:
        found = _CIPHERS.setdefault(algorithm, Cipher(algorithm))
    return found


def prefix_version(version: int, ciphertext: bytes) -> bytes:
    """The rotation prefix: 0x00, then the DEK version as a big-endian uint32."""
    return b"\x00" + struct.pack(">I", version) + ciphertext


def split_version(data: bytes) -> tuple[int, bytes]:
    """(DEK version, ciphertext) of a rotation-prefixed value; RuleError if too short.
    Like confluent-kafka, byte 0 is not checked (Java requires 0x00)."""
    if len(data) < 5:
        raise RuleError("no DEK version found in the ciphertext (shorter than its 5-byte prefix)")
    return struct.unpack(">I", data[1:5])[0], data[5:]
