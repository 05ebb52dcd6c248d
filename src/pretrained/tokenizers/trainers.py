"""Trainers: learn a model's vocabulary from text (mirrors ``tokenizers.trainers``).

BpeTrainer follows the reference step for step (pair counts, a lazily updated max-heap, ties broken by
the smaller pair of ids), so on the same words it learns the same vocab and merges. WordLevelTrainer
sorts by count then word. WordPieceTrainer is the BPE trainer with a ``##`` prefix. UnigramTrainer
(SentencePiece's EM) lives in ``trainers_unigram``. ``show_progress`` draws a progress line on stderr
when it is a terminal.

>>> t = WordLevelTrainer(special_tokens=["[UNK]"])
>>> t.feed(["a b a"], lambda s: s.split())
>>> t.vocab()
{'[UNK]': 0, 'a': 1, 'b': 2}
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ._progress import Progress
from .added_vocab import AddedToken


def _specials(tokens: list[str | AddedToken] | None) -> list[AddedToken]:
    """The trainer's special tokens: strings become special tokens, given tokens are marked special."""
    out = []
    for t in tokens or []:
        if isinstance(t, AddedToken):
            t = AddedToken(t.content, t.single_word, t.lstrip, t.rstrip, t._normalized, special=True)
        elif isinstance(t, str):
            t = AddedToken(t, special=True)
        else:
            raise TypeError(f"special_tokens holds {t!r}; use str or AddedToken values")
        out.append(t)
    return out


def check_model(trainer: Any, model: Any, kind: str) -> None:
    """Raise unless ``model`` is of the type the trainer learns (as the reference does)."""
    if getattr(model, "type_name", type(model).__name__) != kind:
        raise ValueError(
            f"{type(trainer).__name__} can only train a {kind} model, got {type(model).__name__}; "
            f"use Tokenizer(models.{kind}()) or the trainer of that model"
        )


class Trainer:
    """Base class: ``feed`` counts pre-tokenized words, ``train(model)`` fills the model."""

    def __init__(self, vocab_size: int, min_frequency: int, show_progress: bool, special_tokens: Any) -> None:
        if vocab_size < 0 or min_frequency < 0:
            raise ValueError("vocab_size and min_frequency must be non-negative")
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self.show_progress = show_progress
        self.special_tokens = special_tokens
        self.words: Counter[str] = Counter()

    @property
    def special_tokens(self) -> list[AddedToken]:
        """The special tokens put first in the vocabulary (strings become special ``AddedToken``)."""
        return self._special_tokens

    @special_tokens.setter
    def special_tokens(self, tokens: list[str | AddedToken] | None) -> None:
        self._special_tokens = _specials(tokens)

    def feed(self, sequences: Iterable[str], process: Callable[[str], list[str]]) -> None:
        with Progress("Pre-processing sequences", None, self.show_progress) as bar:
            for seq in sequences:
                self.words.update(process(seq))
                bar.update()

    def train(self, model: Any) -> list[AddedToken]:
        raise NotImplementedError


class WordLevelTrainer(Trainer):
    """Keep the most frequent words (ties in string order)."""

    def __init__(
        self,
        vocab_size: int = 30000,
        min_frequency: int = 0,
        show_progress: bool = True,
        special_tokens: list[str | AddedToken] | None = None,
    ) -> None:
        super().__init__(vocab_size, min_frequency, show_progress, special_tokens)

    def vocab(self) -> dict[str, int]:
        ordered = sorted(self.words.items(), key=lambda kv: (-kv[1], kv[0]))
        words = [t.content for t in self.special_tokens] + [w for w, n in ordered if n >= self.min_frequency]
        out: dict[str, int] = {}
        for i, w in enumerate(words[: self.vocab_size]):
            out[w] = (
                i  # a special token also seen in the text keeps its last place (an id left unused), as the reference
            )
        return out

    def train(self, model: Any) -> list[AddedToken]:
        check_model(self, model, "WordLevel")
        model.vocab = self.vocab()
        model.vocab_r = {i: t for t, i in model.vocab.items()}
        return list(self.special_tokens)


class BpeTrainer(Trainer):
    """Learn BPE merges like the reference trainer."""

    def __init__(
        self,
        vocab_size: int = 30000,
        min_frequency: int = 0,
        show_progress: bool = True,
        special_tokens: list[str | AddedToken] | None = None,
        limit_alphabet: int | None = None,
        initial_alphabet: list[str] | None = None,
        continuing_subword_prefix: str | None = None,
        end_of_word_suffix: str | None = None,
        max_token_length: int | None = None,
    ) -> None:
        super().__init__(vocab_size, min_frequency, show_progress, special_tokens)
        self.limit_alphabet = limit_alphabet
        self.initial_alphabet = sorted({s[0] for s in initial_alphabet or [] if s})
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.max_token_length = max_token_length

    def _alphabet(self) -> list[str]:
        counts: dict[str, float] = {}
        for word, n in self.words.items():
            for c in word:
                counts[c] = counts.get(c, 0) + n
        for c in self.initial_alphabet:
            counts[c] = float("inf")
        kept = list(counts.items())
        if self.limit_alphabet is not None and len(kept) > self.limit_alphabet:
            kept.sort(key=lambda kv: kv[1])
            kept = kept[len(kept) - self.limit_alphabet :]
        return sorted(c for c, _ in kept)

    def learn(self) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """The vocab and the merges (in order) for the words fed so far."""
        id_to_word: list[str] = []
        word_to_id: dict[str, int] = {}

        def add(tok: str) -> int:
            if tok not in word_to_id:
                word_to_id[tok] = len(id_to_word)
                id_to_word.append(tok)
            return word_to_id[tok]

        for t in self.special_tokens:
            add(t.content)
        for c in self._alphabet():
            add(c)
        prefix, suffix = self.continuing_subword_prefix, self.end_of_word_suffix
        words: list[list[int]] = []
        lens: list[list[int]] = []
        counts: list[int] = []
        for word, n in self.words.items():  # new prefixed symbols numbered by first appearance
            symbols: list[int] = []
            for i, c in enumerate(word):
                if c not in word_to_id:
                    continue
                s = c
                if i and prefix:
                    s = prefix + s
                if i == len(word) - 1 and suffix:
                    s = s + suffix
                symbols.append(add(s))
            words.append(symbols)
            lens.append([1] * len(symbols))
            counts.append(n)
        merges = self._merge_loop(words, lens, counts, word_to_id, id_to_word)
        return word_to_id, [(id_to_word[a], id_to_word[b]) for a, b in merges]

    def _merge_loop(self, words, lens, counts, word_to_id, id_to_word) -> list[tuple[int, int]]:
        max_len = self.max_token_length or (1 << 62)
        pair_counts: dict[tuple[int, int], int] = {}
        where: dict[tuple[int, int], set[int]] = {}
        for wi, w in enumerate(words):
            for pair in zip(w, w[1:]):
                pair_counts[pair] = pair_counts.get(pair, 0) + counts[wi]
                where.setdefault(pair, set()).add(wi)
        # max-heap on count, ties: the smaller pair first
        heap = [(-pair_counts[p], p, pos) for p, pos in where.items() if pair_counts[p] > 0]
        heapq.heapify(heap)
        merges: list[tuple[int, int]] = []
        prefix = self.continuing_subword_prefix
        bar = Progress("Compute merges", max(self.vocab_size - len(word_to_id), 0), self.show_progress)
        while heap and len(word_to_id) < self.vocab_size:
            neg, pair, pos = heapq.heappop(heap)
            actual = pair_counts.get(pair, 0)
            if -neg != actual:
                heapq.heappush(heap, (-actual, pair, pos))
                continue
            if actual < 1 or self.min_frequency > actual:
                break
            a, b = id_to_word[pair[0]], id_to_word[pair[1]]
            if prefix and b.startswith(prefix):
                b = b[len(prefix) :]
            new_tok = a + b
            new_id = word_to_id.get(new_tok)
            if new_id is None:
                new_id = word_to_id[new_tok] = len(id_to_word)
                id_to_word.append(new_tok)
            merges.append(pair)
            bar.update()
            updates: dict[tuple[int, int], set[int]] = {}
            for wi in sorted(pos):
                for p, change in _merge_word(words[wi], lens[wi], pair, new_id, max_len):
                    pair_counts[p] = pair_counts.get(p, 0) + change * counts[wi]
                    if change > 0:
                        updates.setdefault(p, set()).add(wi)
            for p, ws in updates.items():
                if pair_counts[p] > 0:
                    heapq.heappush(heap, (-pair_counts[p], p, ws))
        bar.close()
        return merges

    def train(self, model: Any) -> list[AddedToken]:
        check_model(self, model, "BPE")
        vocab, merges = self.learn()
        model.__init__(
            vocab,
            merges,
            dropout=model.dropout,
            unk_token=model.unk_token,
            continuing_subword_prefix=self.continuing_subword_prefix,
            end_of_word_suffix=self.end_of_word_suffix,
            fuse_unk=model.fuse_unk,
            byte_fallback=model.byte_fallback,
            ignore_merges=model.ignore_merges,
        )
        return list(self.special_tokens)


def _merge_word(w: list[int], lens: list[int], pair: tuple[int, int], new_id: int, max_len: int) -> list:
    """Merge every occurrence of ``pair`` in a word (left to right); the pair-count changes."""
    c1, c2 = pair
    changes: list[tuple[tuple[int, int], int]] = []
    i = 0
    while i < len(w):
        if w[i] == c1 and i + 1 < len(w) and w[i + 1] == c2:
            new_len = lens[i] + lens[i + 1]
            if i > 0:
                changes.append(((w[i - 1], c1), -1))
                if lens[i - 1] + new_len < max_len:
                    changes.append(((w[i - 1], new_id), 1))
            w[i : i + 2] = [new_id]
            lens[i : i + 2] = [new_len]
            if i < len(w) - 1:
                changes.append(((c2, w[i + 1]), -1))
                if lens[i + 1] + new_len < max_len:
                    changes.append(((new_id, w[i + 1]), 1))
        i += 1
    return changes


class WordPieceTrainer(BpeTrainer):
    """BPE training with a continuing-subword prefix; the result is a WordPiece vocab."""

    def __init__(
        self,
        vocab_size: int = 30000,
        min_frequency: int = 0,
        show_progress: bool = True,
        special_tokens: list[str | AddedToken] | None = None,
        limit_alphabet: int | None = None,
        initial_alphabet: list[str] | None = None,
        continuing_subword_prefix: str = "##",
        end_of_word_suffix: str | None = None,
    ) -> None:
        super().__init__(vocab_size, min_frequency, show_progress, special_tokens, limit_alphabet,
                         initial_alphabet, continuing_subword_prefix, end_of_word_suffix)  # fmt: skip

    def train(self, model: Any) -> list[AddedToken]:
        check_model(self, model, "WordPiece")
        vocab, _ = self.learn()
        model.__init__(vocab, model.unk_token, model.max_input_chars_per_word, self.continuing_subword_prefix)
        return list(self.special_tokens)


def default_trainer(model: Any) -> Trainer:
    """The trainer the reference uses when none is given."""
    name = type(model).__name__
    table: dict[str, Callable[[], Trainer]] = {
        "BPE": lambda: BpeTrainer(
            continuing_subword_prefix=model.continuing_subword_prefix,
            end_of_word_suffix=model.end_of_word_suffix,
        ),  # fmt: skip
        "WordPiece": lambda: WordPieceTrainer(continuing_subword_prefix=model.continuing_subword_prefix),
        "WordLevel": WordLevelTrainer,
        "Unigram": UnigramTrainer,
    }
    if name not in table:
        raise NotImplementedError(f"no trainer for {name} models; supported: {', '.join(table)}")
    return table[name]()


from .trainers_unigram import UnigramTrainer  # noqa: E402  (it subclasses Trainer)

__all__ = [
    "BpeTrainer",
    "Trainer",
    "UnigramTrainer",
    "WordLevelTrainer",
    "WordPieceTrainer",
    "default_trainer",
]
