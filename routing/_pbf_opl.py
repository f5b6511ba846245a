"""The OPL text the PBF feature reader parses, written by libosmium in a child process.

``python -m routing._pbf_opl FILE NODE_KEYS RELATION_KEYS`` writes to standard output every
node with one of ``NODE_KEYS`` (comma-separated), every way with its nodes' locations and
every relation with one of ``RELATION_KEYS``, as OPL without metadata. The child decodes
the file while the parent (:mod:`routing._pbf_features`) parses what it has written, so the
two share the machine's cores. On a file libosmium cannot read it prints the reason on
standard error and exits with status 2; when it succeeds its last line on standard error
is its own peak memory (:data:`PEAK_LINE`), which the parent cannot get from the kernel: a
child's ``ru_maxrss`` starts from the high-water mark of the process it was spawned from.
"""

from __future__ import annotations

import sys

__all__ = ["PEAK_LINE", "main", "own_peak_kb", "write_opl"]

OPL_FORMAT = "opl,add_metadata=false,locations_on_ways=true"
#: Starts the child's last line on standard error: its peak resident memory in kB.
PEAK_LINE = "warmheart-reader-peak-kb"


def own_peak_kb() -> int | None:
    """This process's own peak resident memory (``VmHWM``, kB; ``None`` off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def write_opl(path: str, out: str, *, node_keys: list[str], relation_keys: list[str]) -> None:
    """Write the selected elements of the OSM file ``path`` as OPL to ``out`` (``-``: stdout)."""
    import osmium
    from osmium.filter import KeyFilter

    nodes = KeyFilter(*node_keys)
    nodes.enable_for(osmium.osm.NODE)
    relations = KeyFilter(*relation_keys)
    relations.enable_for(osmium.osm.RELATION)
    locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
    locations.ignore_errors()  # a way's missing nodes are left out of its geometry
    with osmium.SimpleWriter(osmium.io.File(out, OPL_FORMAT)) as writer:
        osmium.apply(osmium.io.Reader(path), locations, nodes, relations, writer)


def main(argv: list[str]) -> int:
    """Run :func:`write_opl` on ``FILE NODE_KEYS RELATION_KEYS``; 2 when it fails."""
    path, node_keys, relation_keys = argv
    try:
        write_opl(path, "-", node_keys=node_keys.split(","), relation_keys=relation_keys.split(","))
    except BrokenPipeError:  # the reader stopped early: nothing to report
        return 1
    except Exception as exc:  # libosmium raises RuntimeError subclasses for bad input
        print(exc, file=sys.stderr)
        return 2
    peak = own_peak_kb()
    if peak is not None:
        print(PEAK_LINE, peak, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
