"""The Unigram lattice the trainer works on (mirrors the reference's ``models/unigram/lattice.rs``).

A lattice holds one node per vocabulary match in a text (and an unknown node at a position no single
character piece covers). Node order, tie-breaking and float operations follow the reference, so the
Viterbi path, the n-best paths and the marginals come out the same.

>>> index = {"a": 1, "b": 2, "ab": 3}
>>> lat = Lattice(matches_of("ab", index, 16), pid_of=[-1, 1, 2, 3], scores=[0.0, -1.0, -1.0, -1.5], unk_score=-11.0)
>>> lat.viterbi(), lat.nbest(2)
([3], [[3], [1, 2]])
"""

from __future__ import annotations

import math

from .models.unigram import K_UNK_PENALTY

__all__ = ["K_UNK_PENALTY", "Lattice", "matches_of"]

BOS, EOS = -1, -2  # piece ids of the two end nodes (node 0 and node 1)
K_MINUS_LOG_EPSILON = 50.0
K_MAX_AGENDA_SIZE = 100_000
K_MIN_AGENDA_SIZE = 512


def matches_of(text: str, index: dict[str, int], max_len: int) -> list[list[tuple[int, int]]]:
    """For each start, ``(end, seed id)`` of the pieces of ``index`` found there, shortest first.

    ``index`` maps pieces to ids >= 0 and their prefixes to -1: the search stops at a non-prefix.
    """
    n = len(text)
    out = []
    for i in range(n):
        row = []
        for k in range(i + 1, min(n, i + max_len) + 1):
            sid = index.get(text[i:k])
            if sid is None:
                break
            if sid >= 0:
                row.append((k, sid))
        out.append(row)
    return out


def _log_sum_exp(x: float, y: float) -> float:
    vmin, vmax = (y, x) if x > y else (x, y)
    if vmax > vmin + K_MINUS_LOG_EPSILON:
        return vmax
    return vmax + math.log(math.exp(vmin - vmax) + 1.0)


class Lattice:
    """Nodes ``(start, end, piece id, score)`` of one text (node 0 begins it, node 1 ends it);
    ``begin[pos]`` / ``ends[pos]`` list the nodes starting / ending at ``pos`` in the reference's order."""

    __slots__ = ("n", "nodes", "begin", "ends", "bt")

    def __init__(
        self, matches: list[list[tuple[int, int]]], pid_of: list[int], scores: list[float], unk_score: float
    ) -> None:
        n = self.n = len(matches)
        nodes = self.nodes = [(0, 0, BOS, 0.0), (n, n, EOS, 0.0)]
        begin: list[list[int]] = [[] for _ in range(n + 1)]
        ends: list[list[int]] = [[] for _ in range(n + 1)]
        begin[n].append(1)
        ends[0].append(0)
        for i, row in enumerate(matches):
            here, single = begin[i], False
            for e, sid in row:
                p = pid_of[sid]
                if p >= 0:
                    here.append(len(nodes))
                    ends[e].append(len(nodes))
                    nodes.append((i, e, p, scores[p]))
                    single = single or e == i + 1
            if not single:  # the unknown piece (id 0) covers the char
                here.append(len(nodes))
                ends[i + 1].append(len(nodes))
                nodes.append((i, i + 1, 0, unk_score))
        self.begin, self.ends = begin, ends
        self.bt: list[float] = []

    def marginal(self, freq: float, expected: list[float]) -> float:
        """Forward-backward: add ``freq`` x each node's posterior to ``expected[piece]``; ``freq`` x log Z."""
        n, nodes = self.n, self.nodes
        alpha = [0.0] * (n + 1)  # log-sum over the paths reaching pos
        for pos in range(1, n + 1):
            left = self.ends[pos]
            start, _, _, s = nodes[left[0]]
            acc = s + alpha[start]
            for node in left[1:]:
                start, _, _, s = nodes[node]
                acc = _log_sum_exp(acc, s + alpha[start])
            alpha[pos] = acc
        beta = [0.0] * (n + 1)  # log-sum over the paths leaving pos
        for pos in range(n - 1, -1, -1):
            right = self.begin[pos]
            _, end, _, s = nodes[right[0]]
            acc = s + beta[end]
            for node in right[1:]:
                _, end, _, s = nodes[node]
                acc = _log_sum_exp(acc, s + beta[end])
            beta[pos] = acc
        z = alpha[n]
        exp = math.exp
        for start, end, pid, s in nodes[2:]:
            expected[pid] += freq * exp(alpha[start] + s + beta[end] - z)
        return freq * z

    def viterbi(self) -> list[int]:
        """Piece ids of the best path (ties: the node that ends the earliest-starting left piece)."""
        nodes = self.nodes
        bt, prev = [0.0] * len(nodes), [-1] * len(nodes)
        for pos in range(self.n + 1):
            left = self.ends[pos]
            left_bt = [bt[node] for node in left]
            for node in self.begin[pos]:
                s = nodes[node][3]
                cands = [b + s for b in left_bt]
                best = max(cands)
                bt[node], prev[node] = best, left[cands.index(best)]
        self.bt = bt
        path, node = [], prev[1]
        while prev[node] != -1:
            path.append(nodes[node][2])
            node = prev[node]
        path.reverse()
        return path

    def nbest(self, k: int) -> list[list[int]]:
        """The ``k`` best paths by A* search from the end (the reference's agenda and its heap order)."""
        if k <= 1:
            return [self.viterbi()] if k == 1 else []
        self.viterbi()
        bt, nodes, ends = self.bt, self.nodes, self.ends
        agenda = _MaxHeap()
        agenda.push((0.0, 1, None, 0.0))  # (fx, node, next hypothesis, gx), from the end node
        out: list[list[int]] = []
        while agenda.data:
            top = agenda.pop()
            _, node, _, gx = top
            if node == 0:
                path, nxt = [], top[2]
                while nxt[2] is not None:
                    path.append(nodes[nxt[1]][2])
                    nxt = nxt[2]
                out.append(path)
                if len(out) == k:
                    return out
                continue
            for left in ends[nodes[node][0]]:
                agenda.push((bt[left] + gx, left, top, nodes[left][3] + gx))
            if len(agenda.data) > K_MAX_AGENDA_SIZE:
                kept = _MaxHeap()
                for _ in range(min(K_MIN_AGENDA_SIZE, k * 10)):
                    kept.push(agenda.pop())
                agenda = kept
        return out


class _MaxHeap:
    """Rust's ``BinaryHeap`` with the reference's order (by ``fx``; equal never compares equal), so ties
    pop in the same order as there."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: list[tuple] = []

    def push(self, item: tuple) -> None:
        self.data.append(item)
        self._sift_up(0, len(self.data) - 1)

    def pop(self) -> tuple:
        data = self.data
        item = data.pop()
        if data:
            item, data[0] = data[0], item
            self._sift_down_to_bottom(0)
        return item

    def _sift_up(self, start: int, pos: int) -> None:
        data = self.data
        elem = data[pos]
        while pos > start:
            parent = (pos - 1) // 2
            if elem[0] < data[parent][0]:
                break
            data[pos] = data[parent]
            pos = parent
        data[pos] = elem

    def _sift_down_to_bottom(self, pos: int) -> None:
        data = self.data
        end, start, elem = len(data), pos, data[pos]
        child = 2 * pos + 1
        while child <= max(end - 2, 0):
            if data[child][0] < data[child + 1][0]:
                child += 1
            data[pos] = data[child]
            pos, child = child, 2 * child + 1
        if child == end - 1:
            data[pos] = data[child]
            pos = child
        data[pos] = elem
        self._sift_up(start, pos)
