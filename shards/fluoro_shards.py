#!/usr/bin/env python3
"""A stdlib-only reader of Fluoro shard datasets, written from FORMAT.md (the format's check).

    python3 fluoro_shards.py DATASET_DIR        # summary, every checksum, sequence 0 decoded

LZ4 frames are decoded with the `lz4` Python package when installed, else with the `lz4` CLI.
"""
import json
import os
import struct
import subprocess
import sys

M = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def _round(acc, v):
    return (_rotl((acc + v * P2) & M, 31) * P1) & M


def xxh64(data, seed=0):
    """XXH64 (seed 0), as in the xxHash spec."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = _round(v[k], struct.unpack_from("<Q", data, i + 8 * k)[0])
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M
        for k in range(4):
            h = (((h ^ _round(0, v[k])) * P1) + P4) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h = (_rotl(h ^ _round(0, struct.unpack_from("<Q", data, i)[0]), 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h = (_rotl(h ^ ((struct.unpack_from("<I", data, i)[0] * P1) & M), 23) * P2 + P3) & M
        i += 4
    while i < n:
        h = (_rotl(h ^ ((data[i] * P5) & M), 11) * P1) & M
        i += 1
    h ^= h >> 33; h = (h * P2) & M
    h ^= h >> 29; h = (h * P3) & M
    return h ^ (h >> 32)


def lz4_decode(frame):
    try:
        import lz4.frame
        return lz4.frame.decompress(frame)
    except ImportError:
        return subprocess.run(["lz4", "-d", "-c"], input=frame, capture_output=True, check=True).stdout


KINDS = {0: "pixels", 1: "annotations", 2: "layer vesselness", 3: "layer vessel_mask", 4: "layer catheter_mask"}


class Shard:
    def __init__(self, path, committed=None):
        with open(path, "rb") as f:
            self.data = f.read()
        end = len(self.data) if committed is None else committed
        if len(self.data) < end or end < 80:
            raise ValueError(f"{path}: truncated ({len(self.data)} bytes, expected {end})")
        d = self.data
        assert d[0:8] == b"FLUOSHRD" and struct.unpack_from("<Q", d, 24)[0] == xxh64(d[0:24]), "bad header"
        foot = d[end - 48:end]
        assert foot[32:40] == b"FLUOFOOT" and struct.unpack_from("<Q", foot, 40)[0] == xxh64(foot[0:40]), "bad footer"
        offset, length, index_hash, self.generation, version = struct.unpack_from("<QQQII", foot, 0)
        assert version == 1 and offset + length == end - 48, "footer points elsewhere"
        index = d[offset:offset + length]
        assert xxh64(index) == index_hash, "index checksum mismatch"
        assert index[0:4] == b"FLIX"
        count, = struct.unpack_from("<I", index, 4)
        p, self.sequences = 8, []
        for _ in range(count):
            n, = struct.unpack_from("<I", index, p); p += 4
            info = json.loads(index[p:p + n]); p += n
            streams = {}
            nstreams, = struct.unpack_from("<I", index, p); p += 4
            for _ in range(nstreams):
                kind, filt, _, entries = struct.unpack_from("<BBHI", index, p); p += 8
                table = [struct.unpack_from("<QII", index, p + 16 * k) for k in range(entries)]
                p += 16 * entries
                streams[KINDS[kind]] = (filt, table)
            self.sequences.append((info, streams))

    def stream(self, seq, name, a, b):
        """Decoded entries a..<b of a stream, filter undone."""
        filt, table = self.sequences[seq][1][name]
        out = bytearray()
        for offset, length, raw in table[a:b]:
            frame = lz4_decode(self.data[offset:offset + length])
            assert len(frame) == raw
            if filt == 1:  # shuffle16: low-byte plane then high-byte plane
                n = raw // 2
                frame = bytes(x for pair in zip(frame[:n], frame[n:]) for x in pair)
            out += frame
        return bytes(out)


def main(directory):
    manifest = json.load(open(os.path.join(directory, "manifest.json")))
    for entry in manifest["shards"]:
        path = os.path.join(directory, entry["file"])
        shard = Shard(path, entry["byteSize"])
        assert f"{xxh64(shard.data[:entry['byteSize']]):016x}" == entry["xxh64"], "file hash mismatch"
        print(f"{entry['file']}: {len(shard.sequences)} sequences, generation {shard.generation}, checksums ok")
        for s, (info, streams) in enumerate(shard.sequences):
            pixels = shard.stream(s, "pixels", 0, info["frameCount"])
            first = pixels[:8].hex()
            notes = json.loads(shard.stream(s, "annotations", 0, 1)) if "annotations" in streams else []
            print(f"  {info['id']}: {info['frameCount']}x{info['height']}x{info['width']} {info['pixelFormat']}, "
                  f"streams {sorted(streams)}, {len(pixels)} pixel bytes (first {first}), {len(notes)} annotations")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "sample"))
