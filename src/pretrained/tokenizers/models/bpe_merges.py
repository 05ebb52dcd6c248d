"""BPE merging: apply ranked merges to a word's symbols (a scan for short words, a heap for long ones).

>>> apply_merges(merge_ranks([(0, 1, 2)]), [0, 1, 0, 1], None)
([2, 2], None)
"""

from __future__ import annotations

import heapq
from itertools import repeat

# symbols shorter than this use a simple scan; longer ones a heap (same result, O(n log n))
HEAP_FROM = 400


_ID_BITS = 32
_ID_MASK = (1 << _ID_BITS) - 1
NONE = 1 << 62  # above every packed rank: no merge


def merge_ranks(merges: list[tuple[int, int, int]]) -> dict[tuple[int, int], int]:
    """(left id, right id, merged id) triples, in rank order -> {(left, right): rank << 32 | merged id}.

    Packing the merged id with the rank lets ``min`` over a word's pairs find the next merge and its
    result at once. A pair listed twice keeps its last rank, as the reference's map does.
    """
    return {(a, b): r << _ID_BITS | new_id for r, (a, b, new_id) in enumerate(merges)}


def apply_merges(
    ranks: dict[tuple[int, int], int], ids: list[int], lens: list[int] | None
) -> tuple[list[int], list[int] | None]:
    """Merge ``ids`` in place, lowest rank first (leftmost on ties); ``lens`` (symbol lengths, None when
    not needed) follow."""
    if len(ids) >= HEAP_FROM:
        return _merge_heap(ranks, ids, lens)
    get = ranks.get
    rank = list(map(get, zip(ids, ids[1:]), repeat(NONE)))
    while rank:
        best = min(rank)
        if best == NONE:
            break
        i = rank.index(best)
        ids[i] = best & _ID_MASK
        del ids[i + 1]
        if lens is not None:
            lens[i] += lens[i + 1]
            del lens[i + 1]
        del rank[i]
        if i > 0:
            rank[i - 1] = get((ids[i - 1], ids[i]), NONE)
        if i < len(rank):
            rank[i] = get((ids[i], ids[i + 1]), NONE)
    return ids, lens


def _merge_heap(
    ranks: dict[tuple[int, int], int], ids: list[int], lens: list[int] | None
) -> tuple[list[int], list[int] | None]:
    """Same result as ``apply_merges`` with a priority queue over a linked list of symbols."""
    get = ranks.get
    n = len(ids)
    prev = list(range(-1, n - 1))
    nxt = list(range(1, n + 1))
    nxt[-1] = -1
    alive = [True] * n
    heap = []
    for i in range(n - 1):
        r = get((ids[i], ids[i + 1]))
        if r is not None:
            heap.append((r, i))
    heapq.heapify(heap)
    while heap:
        r, pos = heapq.heappop(heap)
        if not alive[pos] or nxt[pos] == -1:
            continue
        right = nxt[pos]
        if get((ids[pos], ids[right])) != r:
            continue
        ids[pos] = r & _ID_MASK
        if lens is not None:
            lens[pos] += lens[right]
        alive[right] = False
        nxt[pos] = nxt[right]
        if nxt[pos] != -1:
            prev[nxt[pos]] = pos
        if prev[pos] != -1:
            r = get((ids[prev[pos]], ids[pos]))
            if r is not None:
                heapq.heappush(heap, (r, prev[pos]))
        if nxt[pos] != -1:
            r = get((ids[pos], ids[nxt[pos]]))
            if r is not None:
                heapq.heappush(heap, (r, pos))
    keep = [i for i in range(n) if alive[i]]
    return [ids[i] for i in keep], None if lens is None else [lens[i] for i in keep]
