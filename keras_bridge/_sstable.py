"""The SSTable (LevelDB table) that holds a TensorFlow checkpoint's index, read and written in Python.

A bundle's `.index` file is a table of `key -> BundleEntryProto` records (`"" -> BundleHeaderProto` first) that
know nothing of the bytes around them. TensorFlow has no Python writer for it, so the copy path of
`convert_checkpoint` reads and writes it here, in its simplest form: no compression, one data block, every
record a restart point, the block trailers checksummed with the masked CRC-32C that LevelDB uses
(`google-crc32c`), and checked on reading.
`MergeV2Checkpoints` then reads such a table with TensorFlow's own reader.

Malformed input raises `ValueError` (or `IndexError` / `struct.error` for a cut-off block); callers turn it into
a `CheckpointFormatError` that names the file.
"""

import struct
from typing import List, Tuple

import google_crc32c

_TABLE_MAGIC = 0xdb4775248b80fb57  # The last 8 bytes of every LevelDB/TensorFlow table.
_FOOTER_BYTES = 48


def masked_crc32c(data) -> int:
  """The CRC-32C of `data`, masked as LevelDB and TensorFlow's bundles store it."""
  return mask(google_crc32c.value(bytes(data)))


def mask(crc: int) -> int:
  """LevelDB's mask of a CRC-32C (a CRC of data that holds CRCs is then not trivially zero)."""
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
  out = bytearray()
  while n >= 0x80:
    out.append(n & 0x7F | 0x80)
    n >>= 7
  out.append(n)
  return bytes(out)


def _read_varint(buf: bytes, pos: int) -> Tuple[int, int]:
  n = shift = 0
  while True:
    byte = buf[pos]
    n |= (byte & 0x7F) << shift
    pos, shift = pos + 1, shift + 7
    if byte < 0x80:
      return n, pos


def _block_entries(table: bytes, handle: bytes) -> List[Tuple[bytes, bytes]]:
  """The `(key, value)` records of the block at `handle` (offset and size varints)."""
  offset, pos = _read_varint(handle, 0)
  size, _ = _read_varint(handle, pos)
  if offset + size + 5 > len(table):
    raise ValueError(f"block at {offset} ({size} bytes) lies beyond the end of the table ({len(table)} bytes)")
  if table[offset + size] != 0:  # The trailer's compression type; TensorFlow writes bundles uncompressed.
    raise ValueError(f"compressed block (type {table[offset + size]})")
  (stored,) = struct.unpack_from("<I", table, offset + size + 1)
  if stored != masked_crc32c(table[offset:offset + size + 1]):
    raise ValueError(f"block at {offset} ({size} bytes) fails its CRC-32C check")
  block = table[offset:offset + size]
  (restarts,) = struct.unpack_from("<I", block, size - 4)
  end, pos, key, out = size - 4 - 4 * restarts, 0, b"", []
  while pos < end:
    shared, pos = _read_varint(block, pos)
    unshared, pos = _read_varint(block, pos)
    length, pos = _read_varint(block, pos)
    key = key[:shared] + block[pos:pos + unshared]
    out.append((key, block[pos + unshared:pos + unshared + length]))
    pos += unshared + length
  return out


def read_table(path: str) -> List[Tuple[bytes, bytes]]:
  """Every `(key, value)` of an SSTable, in key order."""
  with open(path, "rb") as f:
    table = f.read()
  if len(table) < _FOOTER_BYTES or struct.unpack("<Q", table[-8:])[0] != _TABLE_MAGIC:
    raise ValueError("no table footer")
  footer = table[-_FOOTER_BYTES:]
  _, pos = _read_varint(footer, _read_varint(footer, 0)[1])  # Skips the metaindex handle.
  return [e for _, handle in _block_entries(table, footer[pos:]) for e in _block_entries(table, handle)]


def _table_block(entries) -> bytes:
  # Every record is a restart point (no key prefix sharing): larger, but the simplest valid block.
  records, restarts, size = [], [], 0
  for key, value in entries:
    records.append(_varint(0) + _varint(len(key)) + _varint(len(value)) + key + value)
    restarts.append(size)
    size += len(records[-1])
  restarts = restarts or [0]
  return b"".join(records) + struct.pack(f"<{len(restarts) + 1}I", *restarts, len(restarts))


def write_table(path: str, entries: List[Tuple[bytes, bytes]]) -> None:
  """Writes sorted `(key, value)` records as an SSTable: one data block, an empty metaindex, the index."""
  out = bytearray()

  def add(block):
    handle = _varint(len(out)) + _varint(len(block))
    out.extend(block + b"\0" + struct.pack("<I", masked_crc32c(block + b"\0")))  # Type 0: uncompressed.
    return handle

  data = add(_table_block(entries))
  metaindex = add(_table_block([]))
  index = add(_table_block([(entries[-1][0], data)]))
  out.extend((metaindex + index).ljust(_FOOTER_BYTES - 8, b"\0") + struct.pack("<Q", _TABLE_MAGIC))
  with open(path, "wb") as f:
    f.write(out)
