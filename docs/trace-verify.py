#!/usr/bin/python3
"""Check a civicam access trail from its API, sharing no code with civicam.

Written from docs/trace-format.md alone, with the standard library only:

    python3 trace-verify.py URL [CHECKPOINT_FILE]      (auditor token in $CIVICAM_TOKEN)

It fetches the signed checkpoint and every leaf up to its size, hashes the leaves (RFC 6962),
builds the tree root and compares it with the checkpoint's root hash, and with a checkpoint kept
from before when one is given. The Ed25519 signature is not checked: Python's standard library
has no Ed25519 (check it with `civicam trace verify --remote` or any signed-note library).
Exit 0: intact; 3: damaged; 1: could not be read.
"""
import base64
import hashlib
import json
import os
import sys
import urllib.request


def get(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=60) as res:
        return res.read()


def parse_checkpoint(note):
    """The origin, size and root hash of a signed note's text (its first three lines)."""
    text = note.decode("utf-8").lstrip("\n").split("\n\n", 1)[0]
    lines = text.split("\n")
    if len(lines) < 3:
        raise ValueError("checkpoint: want origin, size and root lines")
    return lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """The RFC 6962 tree of the leaves appended so far: the roots of its perfect subtrees."""

    def __init__(self):
        self.size = 0
        self.peaks = []  # (height, hash), largest first

    def append(self, h):
        height = 0
        while self.peaks and self.peaks[-1][0] == height:
            _, left = self.peaks.pop()
            h = node_hash(left, h)
            height += 1
        self.peaks.append((height, h))
        self.size += 1

    def root(self):
        if not self.peaks:
            return hashlib.sha256(b"").digest()
        root = self.peaks[-1][1]
        for _, h in reversed(self.peaks[:-1]):
            root = node_hash(h, root)
        return root


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    token = os.environ.get("CIVICAM_TOKEN", "")
    claims = []  # (what, size, root)
    try:
        origin, size, root = parse_checkpoint(get(base + "/api/v1/trace/checkpoint"))
        claims.append(("the server's checkpoint", size, root))
        if len(sys.argv) == 3:
            with open(sys.argv[2], "rb") as f:
                kept_origin, kept_size, kept_root = parse_checkpoint(f.read())
            if kept_origin != origin:
                print("DAMAGED: the kept checkpoint's origin %r is not the server's %r" % (kept_origin, origin))
                return 3
            claims.append(("the kept checkpoint", kept_size, kept_root))
        target = max(c[1] for c in claims)
        tree = Tree()
        for what, csize, croot in claims:
            if csize == 0 and croot != tree.root():
                print("DAMAGED: the empty tree's root differs from %s" % what)
                return 3
        while tree.size < target:
            page = json.loads(get("%s/api/v1/trace/leaves?start=%d&limit=1000" % (base, tree.size), token))
            if not page["leaves"]:
                break
            for leaf in page["leaves"]:
                if tree.size == target:
                    break
                if leaf["index"] != tree.size:
                    print("DAMAGED: entry %d is missing or out of order (served %d)" % (tree.size, leaf["index"]))
                    print("first bad entry: %d" % tree.size)
                    return 3
                tree.append(leaf_hash(base64.b64decode(leaf["data"], validate=True)))
                for what, csize, croot in claims:
                    if csize == tree.size and croot != tree.root():
                        print("DAMAGED: the root of the first %d leaves differs from %s" % (csize, what))
                        return 3
    except (OSError, ValueError, KeyError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    if tree.size < target:
        print("DAMAGED: the server serves %d entries but a checkpoint covers %d" % (tree.size, target))
        return 3
    print("intact: %d entries, root %s matches %s (%s); signature not checked" %
          (tree.size, tree.root().hex(), ", ".join(c[0] for c in claims), origin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
