"""Looking inside a ZIP container (DOCX, XLSX, PPTX, ODT, ODS) without being flooded.

A ZIP file's central directory lists its members; a hostile file can declare
hundreds of thousands of them (listing every name then takes seconds and hundreds
of MiB) or members that inflate a thousandfold. So the end-of-central-directory
record is read first, and the file is refused before anything is listed when it
declares more members or a larger directory than an office document has; the
directory is then walked record by record (stopping at the limit, whatever the
count claimed) and members with absurd compression ratios are refused.
Nothing is ever decompressed here but the few bytes of an ODF ``mimetype``.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory (22 bytes + comment)
_EOCD_SIG = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")  # ZIP64 end-of-central-directory locator (20 bytes)
_LOCATOR_SIG = b"PK\x06\x07"
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # ZIP64 end of central directory (56 bytes)
_EOCD64_SIG = b"PK\x06\x06"
_ENTRY = struct.Struct("<4s6H3L5H2L")  # one central-directory record (46 bytes + names)
_ENTRY_SIG = b"PK\x01\x02"
_MAX_COMMENT = 0xFFFF
# A central-directory record is 46 bytes plus its name, extra field and comment;
# an office document's average is far below this many bytes per member.
DIRECTORY_BYTES_PER_ENTRY = 1024
# Members smaller than this when inflated are never a danger, whatever their ratio.
RATIO_FLOOR = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_directory: int
    max_ratio: int
    max_total: int

    @classmethod
    def from_settings(cls) -> ZipLimits:
        entries = int(settings.SOGLA_ZIP_MAX_ENTRIES)
        return cls(
            max_entries=entries,
            max_directory=entries * DIRECTORY_BYTES_PER_ENTRY,
            max_ratio=int(settings.SOGLA_ZIP_MAX_RATIO),
            max_total=int(settings.SOGLA_ZIP_MAX_UNCOMPRESSED_MB) * 1024 * 1024,
        )


class ZipRefused(Exception):
    """The container is malformed or over a limit; ``reason`` says which (for logs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _directory_bounds(stream: IO[bytes], size: int) -> tuple[int, int, int]:
    """(declared entries, directory size, directory offset) from the end records."""
    tail_len = min(size, _EOCD.size + _MAX_COMMENT)
    stream.seek(size - tail_len)
    tail = stream.read(tail_len)
    position = tail.rfind(_EOCD_SIG)
    # The record is followed by exactly its comment; a signature inside a comment
    # does not satisfy that, so keep looking further back.
    while position >= 0:
        if len(tail) - position >= _EOCD.size:
            fields = _EOCD.unpack_from(tail, position)
            if position + _EOCD.size + fields[7] == len(tail):
                break
        position = tail.rfind(_EOCD_SIG, 0, position)
    if position < 0:
        raise ZipRefused("no end-of-central-directory record")
    _sig, disk, cd_disk, _here, entries, cd_size, cd_offset, _comment = fields
    if disk or cd_disk:
        raise ZipRefused("multi-disk archive")
    eocd_at = size - tail_len + position
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        entries, cd_size, cd_offset = _zip64_bounds(stream, eocd_at)
        eocd_at -= _LOCATOR.size + _EOCD64.size
    if cd_offset + cd_size > eocd_at:
        raise ZipRefused("central directory outside the file")
    return entries, cd_size, cd_offset


def _zip64_bounds(stream: IO[bytes], eocd_at: int) -> tuple[int, int, int]:
    if eocd_at < _LOCATOR.size + _EOCD64.size:
        raise ZipRefused("truncated ZIP64 records")
    stream.seek(eocd_at - _LOCATOR.size)
    sig, _disk, eocd64_at, _disks = _LOCATOR.unpack(stream.read(_LOCATOR.size))
    if sig != _LOCATOR_SIG or eocd64_at != eocd_at - _LOCATOR.size - _EOCD64.size:
        raise ZipRefused("bad ZIP64 locator")
    stream.seek(eocd64_at)
    record = _EOCD64.unpack(stream.read(_EOCD64.size))
    if record[0] != _EOCD64_SIG:
        raise ZipRefused("bad ZIP64 end record")
    return record[7], record[8], record[9]


def _count_records(directory: bytes, limit: int) -> int:
    """Walk the directory's records (not trusting the declared count)."""
    count = position = 0
    while position < len(directory):
        if len(directory) - position < _ENTRY.size:
            raise ZipRefused("truncated central directory")
        record = _ENTRY.unpack_from(directory, position)
        if record[0] != _ENTRY_SIG:
            raise ZipRefused("bad central-directory record")
        name_len, extra_len, comment_len = record[10], record[11], record[12]
        position += _ENTRY.size + name_len + extra_len + comment_len
        count += 1
        if count > limit:
            raise ZipRefused(f"more than {limit} members")
    return count


def open_container(
    stream: IO[bytes], limits: ZipLimits | None = None
) -> zipfile.ZipFile:
    """The archive, listed only after every limit was checked; ZipRefused otherwise.

    The caller closes it. Limits: members (declared and counted), directory size,
    each member's compression ratio and the declared total when inflated.
    """
    limits = limits or ZipLimits.from_settings()
    size = stream.seek(0, 2)
    entries, cd_size, cd_offset = _directory_bounds(stream, size)
    if entries > limits.max_entries:
        raise ZipRefused(f"{entries} members declared")
    if cd_size > limits.max_directory:
        raise ZipRefused(f"central directory of {cd_size} bytes")
    stream.seek(cd_offset)
    directory = stream.read(cd_size)
    if len(directory) != cd_size:
        raise ZipRefused("truncated central directory")
    counted = _count_records(directory, limits.max_entries)
    if counted != entries:
        raise ZipRefused(f"{counted} members listed, {entries} declared")
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as error:
        raise ZipRefused(f"unreadable: {error}") from None
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if info.file_size > RATIO_FLOOR and (
            info.file_size > limits.max_ratio * info.compress_size
        ):
            archive.close()
            raise ZipRefused(
                f"member inflates {info.file_size} from {info.compress_size}"
            )
    if total > limits.max_total:
        archive.close()
        raise ZipRefused(f"{total} bytes when inflated")
    return archive


def read_small(archive: zipfile.ZipFile, name: str, limit: int = 256) -> bytes:
    """At most ``limit`` inflated bytes of one member."""
    with archive.open(name) as member:
        return member.read(limit)
