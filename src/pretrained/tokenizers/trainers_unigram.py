"""Unigram training (mirrors ``tokenizers.trainers.UnigramTrainer``, itself SentencePiece's EM trainer).

Seeds are every character plus the substrings that a suffix tree of the words makes internal nodes
(seen at least twice, followed by two different characters), scored by occurrences x length. Then EM:
an E step by forward-backward over each word's lattice, a Bayesian M step (digamma), and pruning of the
pieces whose removal costs the least likelihood, until ``vocab_size * 1.1`` pieces are left. Floats are
computed in the reference's order; the reference itself sums E-step counts in a hash- and thread-dependent
order, so two of its own runs may differ in the last bits (and rarely in a near-tied piece).

>>> from pretrained.tokenizers import Tokenizer, models
>>> tok = Tokenizer(models.Unigram())
>>> tok.train_from_iterator(["ab ab abc"], UnigramTrainer(vocab_size=5, show_progress=False))
>>> sorted(tok.get_vocab())
[' ', 'a', 'ab ab', 'b', 'c']
"""

from __future__ import annotations

import math
from typing import Any

from ._progress import Progress
from .added_vocab import AddedToken
from .trainers import Trainer, check_model
from .unigram_lattice import K_UNK_PENALTY, Lattice, matches_of

UNK_PLACEHOLDER = "<UNK>"  # the piece 0 used while training, dropped at the end (as the reference)
SEED_SIZE = 1_000_000
MIN_EXPECTED = 0.5  # the M step drops pieces expected fewer times than this
MIN_SCORE_PENALTY_DELTA = 0.0001


def digamma(x: float) -> float:
    """The digamma function (the reference's series)."""
    result = 0.0
    while x < 7.0:
        result -= 1.0 / x if x else math.inf  # f64 division: 1/0 is inf (an empty corpus)
        x += 1.0
    x -= 1.0 / 2.0
    xx = 1.0 / x
    xx2 = xx * xx
    xx4 = xx2 * xx2
    return (result + _ln(x) + (1.0 / 24.0) * xx2 - 7.0 / 960.0 * xx4 + (31.0 / 8064.0) * xx4 * xx2
            - (127.0 / 30720.0) * xx4 * xx4)  # fmt: skip


def _ln(x: float) -> float:
    """``f64::ln``: -inf at 0 and NaN below, where ``math.log`` raises."""
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


def seed_pieces(words: list[tuple[str, int]], max_piece_length: int, seed_size: int = SEED_SIZE) -> list:
    """Characters (by count) then frequent substrings (by occurrences x length), as log probabilities."""
    char_counts: dict[str, int] = {}
    subs: dict[str, list] = {}  # substring -> [occurrences, the char after the first one, branches]
    for word, n in words:
        for c in word:
            if c != "\0":
                char_counts[c] = char_counts.get(c, 0) + n
        size = len(word)
        for i in range(size):
            for k in range(i + 2, min(size, i + max_piece_length) + 1):
                if word[k - 1] == "\0":
                    break
                after = word[k] if k < size else "\0"  # words are joined by \0, as in the reference
                entry = subs.get(word[i:k])
                if entry is None:
                    subs[word[i:k]] = [1, after, False]
                else:
                    entry[0] += 1
                    entry[2] = entry[2] or entry[1] != after
    seeds: list[list] = [[c, n] for n, c in sorted(((n, c) for c, n in char_counts.items()), reverse=True)]
    ranked = sorted(((e[0] * len(s), s) for s, e in subs.items() if e[2]), reverse=True)
    for score, s in ranked:
        seeds.append([s, score])
        if len(seeds) >= seed_size:
            break
    total = 0.0
    for _, score in seeds:
        total += score
    log_total = _ln(total)
    return [(s, _ln(score) - log_total) for s, score in seeds]


def _seed_index(seeds: list[tuple[str, float]]) -> dict[str, int]:
    """Piece -> seed id (the placeholder excluded), and -1 for prefixes of pieces (see ``matches_of``)."""
    index = {s: i for i, (s, _) in enumerate(seeds) if i}
    for s in list(index):
        for j in range(2, len(s)):
            index.setdefault(s[:j], -1)
    return index


class _Model:
    """The pieces being trained: piece 0 is the unknown placeholder; ``pid_of[seed]`` is -1 once pruned."""

    def __init__(self, pieces: list[tuple[str, float]], seed_ids: list[int], n_seeds: int) -> None:
        self.pieces, self.seed_ids = pieces, seed_ids
        self.scores = [s for _, s in pieces]
        self.pid_of = [-1] * n_seeds
        for pid, sid in enumerate(seed_ids):
            if pid:
                self.pid_of[sid] = pid
        self.min_score = min((s for s in self.scores[1:] if not math.isnan(s)), default=math.inf)
        self.unk_score = self.min_score - K_UNK_PENALTY

    def lattice(self, matches: list[list[tuple[int, int]]]) -> Lattice:
        return Lattice(matches, self.pid_of, self.scores, self.unk_score)


def _viterbi_counts(model: _Model, corpus: list) -> tuple[list[float], list[list[int]], float]:
    """Counts of the pieces on the words' best paths, the words each piece is on, the total word count."""
    freq, inverted, vsum = [0.0] * len(model.pieces), [[] for _ in model.pieces], 0.0
    for i, (matches, n) in enumerate(corpus):
        vsum += n
        for pid in model.lattice(matches).viterbi():
            freq[pid] += n
            inverted[pid].append(i)
    return freq, inverted, vsum


class UnigramTrainer(Trainer):
    """Learn a Unigram vocabulary with scores, like the reference trainer.

    >>> t = UnigramTrainer(vocab_size=100, special_tokens=["<pad>"], unk_token="<unk>", show_progress=False)
    >>> t.vocab_size, t.special_tokens[0].content
    (100, '<pad>')
    """

    def __init__(
        self,
        *,
        vocab_size: int = 8000,
        show_progress: bool = True,
        special_tokens: list[str | AddedToken] | None = None,
        initial_alphabet: list[str] | None = None,
        shrinking_factor: float = 0.75,
        unk_token: str | None = None,
        max_piece_length: int = 16,
        n_sub_iterations: int = 2,
    ) -> None:
        super().__init__(vocab_size, 0, show_progress, special_tokens)
        if not 0.0 < shrinking_factor < 1.0:
            raise ValueError(f"UnigramTrainer: shrinking_factor must be in (0, 1), got {shrinking_factor!r}")
        if max_piece_length < 1 or n_sub_iterations < 0:
            raise ValueError("UnigramTrainer: max_piece_length must be >= 1 and n_sub_iterations >= 0")
        self.initial_alphabet = sorted({s[0] for s in initial_alphabet or [] if s})
        self.shrinking_factor = shrinking_factor
        self.unk_token = unk_token
        self.max_piece_length = max_piece_length
        self.n_sub_iterations = n_sub_iterations
        self.seed_size = SEED_SIZE

    def train(self, model: Any) -> list[AddedToken]:
        check_model(self, model, "Unigram")
        words = sorted(self.words.items())
        required = sorted({c for w, _ in words for c in w} | set(self.initial_alphabet))
        if len(required) > self.vocab_size:
            raise ValueError(
                f"UnigramTrainer: the vocabulary is not large enough to contain all chars: vocab_size "
                f"{self.vocab_size} < {len(required)} distinct characters; raise vocab_size"
            )
        trained = self._em(words)
        vocab, unk_id = self._finalize(trained, required)
        model.__init__(vocab, unk_id, byte_fallback=False)
        return list(self.special_tokens)

    def _em(self, words: list[tuple[str, int]]) -> _Model:
        """EM rounds with pruning until at most ``vocab_size * 1.1`` pieces remain."""
        with Progress("Suffix array seeds", len(words), self.show_progress) as bar:
            seeds = [(UNK_PLACEHOLDER, math.nan)] + seed_pieces(
                [(w, n) for w, n in words if w], self.max_piece_length, self.seed_size
            )
            bar.update(len(words))
        index = _seed_index(seeds)
        corpus = [(matches_of(w, index, self.max_piece_length), n) for w, n in words]
        desired = self.vocab_size * 11 // 10
        loops = int((math.log(max(desired, 1)) - math.log(len(seeds))) / math.log(self.shrinking_factor)) + 1
        model = _Model(seeds, list(range(len(seeds))), len(seeds))
        with Progress("EM training", max(loops, 1) * self.n_sub_iterations, self.show_progress) as bar:
            while True:
                for _ in range(self.n_sub_iterations):
                    expected = self._e_step(model, corpus)
                    model = self._m_step(model, expected, len(seeds))
                    bar.update()
                if len(model.pieces) <= desired:
                    return model
                model = self._prune(model, corpus, index, len(seeds))

    @staticmethod
    def _e_step(model: _Model, corpus: list) -> list[float]:
        expected = [0.0] * len(model.pieces)
        for matches, n in corpus:
            if math.isnan(model.lattice(matches).marginal(float(n), expected)):
                raise ValueError("UnigramTrainer: the likelihood of a word is NaN (is a word very long?)")
        return expected

    @staticmethod
    def _m_step(model: _Model, expected: list[float], n_seeds: int) -> _Model:
        """Keep pieces expected at least ``MIN_EXPECTED`` times; scores by the digamma (sparse prior) rule."""
        kept: list[tuple[str, float]] = [(model.pieces[0][0], math.nan)]
        seed_ids = [model.seed_ids[0]]
        total = 0.0
        for pid in range(1, len(model.pieces)):
            if expected[pid] < MIN_EXPECTED:
                continue
            kept.append((model.pieces[pid][0], expected[pid]))
            seed_ids.append(model.seed_ids[pid])
            total += expected[pid]
        log_total = digamma(total)
        pieces = [kept[0]] + [(s, digamma(c) - log_total) for s, c in kept[1:]]
        return _Model(pieces, seed_ids, n_seeds)

    def _prune(self, model: _Model, corpus: list, index: dict[str, int], n_seeds: int) -> _Model:
        """Drop the pieces whose loss of likelihood (if re-segmented by their second best) is smallest."""
        size = len(model.pieces)
        always_keep, alternatives = self._alternatives(model, index)
        freq, inverted, vsum = _viterbi_counts(model, corpus)
        total = 0.0
        for f in freq:
            total += f
        log_total = _ln(total)
        keep, candidates = [0], []
        for pid in range(1, size):
            if freq[pid] == 0.0 and not always_keep[pid]:
                continue
            if not alternatives[pid]:
                keep.append(pid)
                continue
            f = 0.0  # how often the words holding the piece occur
            for i in inverted[pid]:
                f += corpus[i][1]
            if f == 0.0:
                continue
            f /= vsum
            log_alt_total = _ln(total + freq[pid] * (size - 1))  # (size - 1) as the reference
            logprob_alt = 0.0
            for alt in alternatives[pid]:
                logprob_alt += _ln(freq[alt] + freq[pid]) - log_alt_total
            candidates.append((pid, f * ((_ln(freq[pid]) - log_total) - logprob_alt)))
        pruned_size = max(self.vocab_size * 11 // 10, int(size * self.shrinking_factor))
        for pid, _ in sorted(candidates, key=lambda c: c[1], reverse=True):
            if len(keep) == pruned_size:
                break
            keep.append(pid)
        return _Model([model.pieces[p] for p in keep], [model.seed_ids[p] for p in keep], n_seeds)

    def _alternatives(self, model: _Model, index: dict[str, int]) -> tuple[list[bool], list[list[int]]]:
        """Per piece: whether it must stay, and the second-best segmentation of its own text."""
        size = len(model.pieces)
        always_keep, alternatives = [True] * size, [[] for _ in range(size)]
        always_keep[0] = False
        for pid in range(1, size):
            nbests = model.lattice(matches_of(model.pieces[pid][0], index, self.max_piece_length)).nbest(2)
            if len(nbests) >= 2 and len(nbests[0]) >= 2:  # the piece is not its own best segmentation
                always_keep[pid] = False
            elif len(nbests) >= 2 and len(nbests[0]) == 1:
                alternatives[pid] = nbests[1]
        return always_keep, alternatives

    def _finalize(self, model: _Model, required: list[str]) -> tuple[list[tuple[str, float]], int | None]:
        """Required chars (missing ones just under the lowest score), the best pieces, specials first."""
        existing = dict(model.pieces)
        pieces, inserted, penalty = [], {UNK_PLACEHOLDER}, 0.0
        for c in required:
            if c in existing:
                pieces.append((c, existing[c]))
            else:
                pieces.append((c, model.min_score + penalty))
                penalty += MIN_SCORE_PENALTY_DELTA
            inserted.add(c)
        specials = [t.content for t in self.special_tokens]
        unk_id = None
        if self.unk_token is not None:
            unk_id = specials.index(self.unk_token) if self.unk_token in specials else 0
            if self.unk_token not in specials:
                specials.insert(0, self.unk_token)
        budget = self.vocab_size - len(specials)
        for token, score in model.pieces:
            if token in inserted:
                continue
            inserted.add(token)
            pieces.append((token, 0.0 if math.isnan(score) else score))
            if len(pieces) == budget:
                break
        pieces.sort(key=lambda p: p[1], reverse=True)
        return [(s, 0.0) for s in specials] + pieces, unk_id
