"""Riders of one wave as solver clients: screening, catchments and how riders are split.

A *wave* is one direction at one workplace and one time: riders arriving by a deadline, or
riders leaving at a shift end. :func:`screen_riders` keeps each rider's stops from which a bus
can serve them at all and reports the others with a reason; :func:`build_catchments` groups a
district's riders who can share a stop; :func:`make_clients` splits each catchment into
solver clients that pack well into the buses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .matrix import UNREACHABLE
from .model import Rider, Unserved

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from .matrix import StopMatrix
    from .model import Direction
    from .settings import ShuttleSettings

__all__ = [
    "Catchment",
    "Client",
    "Options",
    "build_catchments",
    "chunk_sizes",
    "make_clients",
    "packing_piece",
    "screen_riders",
]

#: Smallest client piece when the seat counts share no useful divisor.
_MIN_PIECE = 5

#: Rider id -> ``[(stop matrix index, walk metres)]`` within the maximum walk.
Options = dict[str, list[tuple[int, float]]]


@dataclass(frozen=True)
class Catchment:
    """Riders of one district who can all walk to each of ``alternatives`` (matrix indices)."""

    district: str
    rider_ids: tuple[str, ...]
    alternatives: tuple[int, ...]


@dataclass
class Client:
    """Riders served together at one stop: one solver client."""

    location: int  # stop matrix index
    rider_ids: list[str]
    limit: int
    catchment: int
    group: int | None = None


def direct_ride(
    matrix: StopMatrix,
    stop: int,
    workplace: int,
    *,
    direction: Direction,
    settings: ShuttleSettings,
) -> int:
    """Seconds of the shortest possible ride between ``stop`` and the workplace.

    To work: board (one rider), dwell, drive; home: the drive from the workplace to the stop
    (riders board before the bus leaves; a ride ends when alighting starts).
    """
    if direction == "to_work":
        return settings.boarding_s + settings.dwell_s + int(matrix.duration[stop, workplace])
    return int(matrix.duration[workplace, stop])


def screen_riders(
    riders: list[Rider],
    options: Options,
    matrix: StopMatrix,
    workplace: int,
    *,
    direction: Direction,
    wave_time: int,
    limits: dict[str, int],
    settings: ShuttleSettings,
) -> tuple[Options, list[Unserved]]:
    """Keep each rider's stops from which a bus can serve them at all; report the rest.

    A stop is usable when the road connects it with the workplace (in the direction of the
    wave), a direct bus rides within the rider's limit, and (to work) that bus need not leave
    before ``earliest_departure`` to arrive by ``wave_time``, the bus deadline. Riders without
    any usable stop get the reason of the test that removed their last stop, in that order.
    """
    kept: Options = {}
    unserved: list[Unserved] = []
    to_work = direction == "to_work"
    for r in riders:
        opts = options.get(r.id, [])
        if not opts:
            unserved.append(
                Unserved(
                    r.id,
                    "too_far_to_walk",
                    f"no candidate stop within {settings.max_walk_m:.0f} m walk of the home",
                    direction=direction,
                )
            )
            continue
        lim = limits[r.id]
        reach = [
            (s, w)
            for s, w in opts
            if (matrix.duration[s, workplace] if to_work else matrix.duration[workplace, s])
            < UNREACHABLE
        ]
        if not reach:
            unserved.append(
                Unserved(
                    r.id,
                    "unreachable",
                    "no stop within walking distance is connected to the workplace by road",
                    direction=direction,
                )
            )
            continue
        direct = {
            s: direct_ride(matrix, s, workplace, direction=direction, settings=settings)
            for s, _ in reach
        }
        fits = [(s, w) for s, w in reach if direct[s] <= lim]
        if not fits:
            best = min(direct.values())
            unserved.append(
                Unserved(
                    r.id,
                    "ride_limit_shorter_than_direct_drive",
                    f"the fastest direct bus takes {best / 60:.1f} min, the rider's limit is "
                    f"{lim / 60:.1f} min",
                    direction=direction,
                )
            )
            continue
        if to_work:
            early = settings.earliest_departure_s
            timely = [(s, w) for s, w in fits if wave_time - direct[s] >= early]
            if not timely:
                best = min(direct[s] for s, _ in fits)
                unserved.append(
                    Unserved(
                        r.id,
                        "deadline_too_early",
                        f"a direct bus needs {best / 60:.1f} min; leaving at "
                        f"{settings.earliest_departure} it cannot arrive by the deadline",
                        direction=direction,
                    )
                )
                continue
            fits = timely
        kept[r.id] = sorted(fits, key=lambda sw: sw[1])
    return kept, unserved


def build_catchments(
    rider_ids: list[str],
    options: Options,
    district: dict[str, str],
    *,
    max_alternatives: int,
) -> list[Catchment]:
    """Split each district's riders into catchments that can share one stop.

    Greedy cover per district: take the stop most of the remaining riders can walk to; the
    riders who can form a catchment, whose alternatives are the stops *all* of them can walk
    to (best total walk first, at most ``max_alternatives``). Repeat until no rider is left.
    Deterministic (ties broken by total walk, then stop index).
    """
    by_district: dict[str, list[str]] = {}
    for rid in rider_ids:
        by_district.setdefault(district.get(rid, ""), []).append(rid)
    out: list[Catchment] = []
    for d in sorted(by_district):
        remaining = list(by_district[d])
        walk = {rid: dict(options[rid]) for rid in remaining}
        while remaining:
            count: dict[int, int] = {}
            total: dict[int, float] = {}
            for rid in remaining:
                for s, w in walk[rid].items():
                    count[s] = count.get(s, 0) + 1
                    total[s] = total.get(s, 0.0) + w
            best = min(count, key=lambda s: (-count[s], total[s], s))
            covered = [rid for rid in remaining if best in walk[rid]]
            common = set(walk[covered[0]])
            for rid in covered[1:]:
                common &= set(walk[rid])
            ranked = sorted(common, key=lambda s: (sum(walk[r][s] for r in covered), s))
            alts = [best] + [s for s in ranked if s != best]
            # Best total walk first; ``best`` is kept even if another common stop walks less.
            alts = sorted(
                alts[: max(1, max_alternatives)],
                key=lambda s: (sum(walk[r][s] for r in covered), s),
            )
            out.append(Catchment(d, tuple(covered), tuple(alts)))
            cset = set(covered)
            remaining = [rid for rid in remaining if rid not in cset]
    return out


def chunk_sizes(n: int, cap: int, *, piece: int, whole: int = 0) -> list[int]:
    """Split ``n`` riders into client sizes that pack well into buses.

    As many chunks of ``cap`` (the largest bus, or less when the ride limit allows fewer
    boardings) as fit, the rest in pieces of ``piece`` riders (the last one smaller). With
    ``piece`` a common divisor of the seat counts (10 for 30- and 50-seat buses) any mix of
    pieces fills a bus exactly, so splitting never forces a half-empty bus; ``piece >= cap``
    gives equal chunks of at most ``cap`` instead. Up to ``whole`` riders (and at most
    ``cap``) stay one chunk.
    """
    if n <= 0:
        return []
    cap = max(1, cap)
    if piece >= cap or n <= max(piece, min(whole, cap)):
        k = math.ceil(n / cap)
        return [n // k + (1 if j < n % k else 0) for j in range(k)]
    full, rest = divmod(n, cap)
    sizes = [cap] * full
    sizes += [piece] * (rest // piece)
    if rest % piece:
        sizes.append(rest % piece)
    return sizes


def packing_piece(seats: list[int]) -> int:
    """Client piece size for a fleet: the seats' greatest common divisor, at least 5."""
    g = 0
    for s in seats:
        g = math.gcd(g, s)
    return max(g, _MIN_PIECE)


def make_clients(
    catchments: list[Catchment],
    limits: dict[str, int],
    max_seats: int,
    *,
    direct: NDArray[np.int64],
    slack_s: int,
    settings: ShuttleSettings,
    piece: int | None = None,
    whole: int = 0,
) -> tuple[list[Client], list[list[int]]]:
    """Riders of each catchment as solver clients, and the mutually exclusive groups.

    A client is at most ``max_seats`` riders, and small enough that boarding (or alighting)
    all of them still fits the ride limit on a direct trip from the slowest alternative stop
    (``direct``: drive seconds between each stop and the workplace) and, to work, the
    ``slack_s`` between the earliest departure and the deadline, so a rider
    :func:`screen_riders` kept is never left out just for being in a big group. Riders beyond
    whole busloads are split into pieces of ``piece`` riders (see :func:`chunk_sizes`;
    ``None``: equal chunks of at most ``max_seats``); up to ``whole`` riders of one limit stay
    one client.
    """
    clients: list[Client] = []
    groups: list[list[int]] = []
    b = max(settings.boarding_s, 1)
    for ci, c in enumerate(catchments):
        by_limit: dict[int, list[str]] = {}
        for rid in c.rider_ids:
            by_limit.setdefault(limits[rid], []).append(rid)
        slowest = max(int(direct[s]) for s in c.alternatives) + settings.dwell_s
        by_time = (slack_s - slowest) // b
        chunks: list[tuple[int, list[str]]] = []
        for lim in sorted(by_limit):
            ids = by_limit[lim]
            cap = max(1, min(max_seats, (lim - slowest) // b, by_time))
            start = 0
            for size in chunk_sizes(len(ids), cap, piece=piece or cap, whole=whole):
                chunks.append((lim, ids[start : start + size]))
                start += size
        if len(chunks) == 1 and len(c.alternatives) > 1:
            lim, ids = chunks[0]
            members = []
            for s in c.alternatives:
                members.append(len(clients))
                clients.append(Client(s, ids, lim, ci, group=len(groups)))
            groups.append(members)
        else:
            for lim, ids in chunks:
                clients.append(Client(c.alternatives[0], ids, lim, ci))
    return clients, groups
