"""Token classification (``"token-classification"``, alias ``"ner"``): a label per token, or grouped entities.

``aggregation_strategy``: ``none`` (one entry per token), ``simple`` (adjacent tokens with the same tag grouped),
``first``/``average``/``max`` (words keep one label: the first token's, the mean scores', the most confident
token's; then grouped). ``stride`` splits texts longer than the model into overlapping windows.

>>> from pretrained import pipeline
>>> ner = pipeline("ner", model="path/to/ner-model", aggregation_strategy="simple")  # doctest: +SKIP
>>> ner("My name is Wolfgang and I live in Berlin")  # doctest: +SKIP
[{'entity_group': 'PER', 'score': 0.99, 'word': 'Wolfgang', 'start': 11, 'end': 19}, ...]
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import torch

from .base import Pipeline, is_stream

log = logging.getLogger(__name__)

STRATEGIES = ("none", "simple", "first", "average", "max")
_WORD_STRATEGIES = ("first", "average", "max")
# model input keys that only postprocess reads
_METADATA = ("special_tokens_mask", "offset_mapping", "sentence", "is_last", "word_ids", "word_to_chars_map")


def strategy_name(value: Any) -> str:
    """``"none"``/``"simple"``/... from a name (any case) or an enum with such a value."""
    name = str(getattr(value, "value", value)).lower()
    if name not in STRATEGIES:
        raise ValueError(f"aggregation_strategy={value!r}: use one of {', '.join(STRATEGIES)}")
    return name


class TokenClassificationPipeline(Pipeline):
    """Label each token of a text (or entity spans, with ``aggregation_strategy``) with a token-classification model.

    Each entity: ``{"entity", "score", "index", "word", "start", "end"}`` per token, or
    ``{"entity_group", "score", "word", "start", "end"}`` when aggregated. Labels in ``ignore_labels``
    (default ``["O"]``) are dropped.

    >>> ner = pipeline("token-classification", model="path/to/ner-model")  # doctest: +SKIP
    >>> ner(["Sarah lives in London", "John works at Google"], aggregation_strategy="first")  # doctest: +SKIP
    """

    pad_side = "right"  # batches: positions as in the text alone (see Pipeline.pad_side)

    chunked = True
    token_outputs = ("logits",)

    def _sanitize_parameters(
        self,
        ignore_labels: list[str] | None = None,
        grouped_entities: bool | None = None,
        ignore_subwords: bool | None = None,
        aggregation_strategy: Any = None,
        offset_mapping: list | None = None,
        is_split_into_words: bool = False,
        stride: int | None = None,
        delimiter: str | None = None,
    ) -> tuple[dict, dict, dict]:
        pre: dict[str, Any] = {"is_split_into_words": is_split_into_words}
        if is_split_into_words:
            pre["delimiter"] = " " if delimiter is None else delimiter
        if offset_mapping is not None:
            pre["offset_mapping"] = offset_mapping
        post: dict[str, Any] = {}
        if grouped_entities is not None or ignore_subwords is not None:
            aggregation_strategy = ("first" if ignore_subwords else "simple") if grouped_entities else "none"
            warnings.warn(
                "`grouped_entities` and `ignore_subwords` are deprecated; use "
                f'`aggregation_strategy="{aggregation_strategy}"` instead.',
                FutureWarning,
                stacklevel=3,
            )
        if aggregation_strategy is not None:
            aggregation_strategy = strategy_name(aggregation_strategy)
            post["aggregation_strategy"] = aggregation_strategy
        if ignore_labels is not None:
            post["ignore_labels"] = ignore_labels
        if stride is not None:
            self._check_stride(stride, aggregation_strategy)
            pre["tokenizer_params"] = {"return_overflowing_tokens": True, "padding": True, "stride": stride}
        return pre, {}, post

    def _check_stride(self, stride: Any, aggregation_strategy: str | None) -> None:
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
            raise ValueError(f"stride must be a non-negative int, got {stride!r}")
        if stride >= self.tokenizer.model_max_length:
            raise ValueError(
                "`stride` must be less than `tokenizer.model_max_length` (or even lower if the tokenizer adds "
                "special tokens)"
            )
        if aggregation_strategy == "none":
            raise ValueError(
                '`stride` was provided to process all the text but `aggregation_strategy="none"`, please select '
                "another one instead."
            )

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """Entities of one text (a list), or of each text of a list (a list of lists)."""
        split = kwargs.get("is_split_into_words", False)
        if is_stream(inputs):
            if split:
                return self._split_stream(inputs, kwargs)
            return super().__call__(inputs, **kwargs)
        if isinstance(inputs, tuple):
            raise ValueError("token-classification takes a text or a list of texts; pass the tuple as a list")
        if not isinstance(inputs, (str, list)) or (isinstance(inputs, list) and not inputs):
            raise ValueError(
                "At least one input is required: a text, a list of texts, or a generator of texts."
            )
        if kwargs.get("offset_mapping"):
            kwargs["offset_mapping"] = self._check_offsets(inputs, kwargs["offset_mapping"])
        if split and not all(isinstance(x, list) for x in inputs):
            inputs = [inputs]
        return super().__call__(inputs, **kwargs)

    def _split_stream(self, inputs: Any, kwargs: dict) -> Any:
        """A stream with ``is_split_into_words=True``: as the reference, checking that its items are word lists
        consumes it, so nothing is left to run (a non-list item: an error)."""
        log.warning(
            "a generator with is_split_into_words=True is used up while its items are checked (as in transformers), "
            "so it gives no results; pass a list of word lists instead"
        )
        if not all(isinstance(x, list) for x in inputs):
            raise ValueError("When `is_split_into_words=True`, `sentence` must be a list of tokens.")
        return super().__call__(inputs, **kwargs)

    @staticmethod
    def _check_offsets(inputs: Any, offsets: list) -> list:
        """User-given offset mappings (for tokenizers without offsets): one list of (start, end) per text.

        As the reference, every text is read with the first text's offsets (``offset_mapping[0]``).
        """
        if isinstance(offsets, list) and isinstance(offsets[0], tuple):
            offsets = [offsets]
        if len(offsets) != (1 if isinstance(inputs, str) else len(inputs)):
            raise ValueError("offset_mapping should have the same batch size as the input")
        return offsets

    def preprocess(
        self,
        sentence: Any,
        offset_mapping: list | None = None,
        is_split_into_words: bool = False,
        delimiter: str = " ",
        tokenizer_params: dict | None = None,
    ) -> Any:
        params = dict(tokenizer_params or {})
        word_to_chars = None
        if is_split_into_words:
            if not isinstance(sentence, list):
                raise ValueError("When `is_split_into_words=True`, `sentence` must be a list of tokens.")
            words, sentence, word_to_chars = sentence, delimiter.join(sentence), []
            start = 0
            for word in words:
                word_to_chars.append((start, start + len(word)))
                start += len(word) + len(delimiter)
            to_tokenize, params["is_split_into_words"] = words, True
        elif isinstance(sentence, str):
            to_tokenize = sentence
        else:
            raise ValueError("When `is_split_into_words=False`, `sentence` must be an untokenized string.")
        max_length = self.tokenizer.model_max_length
        enc = self.tokenizer(
            to_tokenize,
            return_tensors="pt",
            truncation=bool(max_length and max_length > 0),
            return_special_tokens_mask=True,
            return_offsets_mapping=True,
            **params,
        )
        enc.pop("overflow_to_sample_mapping", None)
        n = len(enc["input_ids"])
        for i in range(n):
            model_input = {k: v[i].unsqueeze(0) for k, v in enc.items()}
            if offset_mapping is not None:
                n_tokens = model_input["input_ids"].shape[1]
                if len(offset_mapping[0]) < n_tokens:
                    raise ValueError(
                        f"offset_mapping has {len(offset_mapping[0])} (start, end) pairs but the text has {n_tokens} "
                        "tokens (special tokens included); give one pair per token"
                    )
                model_input["offset_mapping"] = offset_mapping
            model_input["sentence"] = sentence if i == 0 else None
            model_input["is_last"] = i == n - 1
            if word_to_chars is not None:
                model_input["word_ids"] = enc.word_ids(i)
                model_input["word_to_chars_map"] = word_to_chars
            yield model_input

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        meta = {k: model_inputs.pop(k) for k in _METADATA if k in model_inputs}
        logits = self.model(**model_inputs).logits  # (B, T, num_labels)
        return {"logits": logits, **meta, **model_inputs}

    def postprocess(
        self,
        all_outputs: list[dict],
        aggregation_strategy: str = "none",
        ignore_labels: list[str] | None = None,
    ) -> list[dict]:
        ignore_labels = ["O"] if ignore_labels is None else ignore_labels
        sentence = all_outputs[0]["sentence"]
        word_to_chars = all_outputs[0].get("word_to_chars_map")
        entities = []
        for out in all_outputs:
            scores = torch.softmax(out["logits"][0].float(), dim=-1)  # (T, num_labels)
            offsets = out.get("offset_mapping")
            offsets = offsets[0] if offsets is not None else None
            pre = self.gather_pre_entities(
                sentence, out["input_ids"][0], scores, offsets, out["special_tokens_mask"][0],
                aggregation_strategy, out.get("word_ids"), word_to_chars,
            )  # fmt: skip
            for entity in self.aggregate(pre, aggregation_strategy):
                if (
                    entity.get("entity") not in ignore_labels
                    and entity.get("entity_group") not in ignore_labels
                ):
                    entities.append(entity)
        return aggregate_overlapping_entities(entities) if len(all_outputs) > 1 else entities

    def gather_pre_entities(
        self,
        sentence: str,
        input_ids: torch.Tensor,
        scores: torch.Tensor,
        offsets: Any,
        special_tokens_mask: torch.Tensor,
        aggregation_strategy: str,
        word_ids: list | None = None,
        word_to_chars: list | None = None,
    ) -> list[dict]:
        """One dict per non-special token: word, scores, character span, index, whether it continues a word."""
        has_prefix = bool(getattr(self.tokenizer.backend_tokenizer.model, "continuing_subword_prefix", None))
        ids, special = input_ids.tolist(), special_tokens_mask.tolist()
        spans = offsets.tolist() if isinstance(offsets, torch.Tensor) else offsets
        best_scores, best = scores.max(dim=-1)  # (T,) each: every token's label, at once
        best_scores, best = best_scores.tolist(), best.tolist()
        pre = []
        for idx in range(len(ids)):
            if special[idx]:
                continue
            word = self.tokenizer.convert_ids_to_tokens(ids[idx])
            start = end = None
            is_subword = False
            if spans is not None:
                start, end = (int(x) for x in spans[idx])
                if word_ids is not None and word_to_chars is not None and word_ids[idx] is not None:
                    shift = word_to_chars[word_ids[idx]][0]
                    start, end = start + shift, end + shift
                word_ref = sentence[start:end]
                if has_prefix:
                    is_subword = len(word) != len(word_ref)
                else:
                    if aggregation_strategy in _WORD_STRATEGIES:
                        warnings.warn(
                            "Tokenizer does not support real words, using fallback heuristic",
                            UserWarning,
                            stacklevel=2,
                        )
                    is_subword = start > 0 and " " not in sentence[start - 1 : start + 1]
                if ids[idx] == self.tokenizer.unk_token_id:
                    word, is_subword = word_ref, False
            pre.append(
                {
                    "word": word,
                    "scores": scores[idx],
                    "best": best[idx],
                    "best_score": best_scores[idx],
                    "start": start,
                    "end": end,
                    "index": idx,
                    "is_subword": is_subword,
                }
            )
        return pre

    def aggregate(self, pre_entities: list[dict], aggregation_strategy: str) -> list[dict]:
        if aggregation_strategy in ("none", "simple"):
            entities = []
            id2label = self.model.config.id2label
            for pre in pre_entities:
                best, score = pre.get("best"), pre.get("best_score")
                if best is None:  # pre-entities built elsewhere (a subclass): scores only
                    best = int(pre["scores"].argmax())
                    score = pre["scores"][best].item()
                entities.append(
                    {
                        "entity": id2label[best],
                        "score": score,
                        "index": pre["index"],
                        "word": pre["word"],
                        "start": pre["start"],
                        "end": pre["end"],
                    }
                )
        else:
            entities = self.aggregate_words(pre_entities, aggregation_strategy)
        return entities if aggregation_strategy == "none" else self.group_entities(entities)

    def aggregate_word(self, entities: list[dict], aggregation_strategy: str) -> dict:
        """One entity for a word's tokens: the first token's label, the most confident one's, or the mean's."""
        word = self.tokenizer.convert_tokens_to_string([e["word"] for e in entities])
        if aggregation_strategy == "first":
            scores = entities[0]["scores"]
        elif aggregation_strategy == "max":
            scores = max(entities, key=lambda e: e["scores"].max().item())["scores"]
        else:  # average
            scores = torch.stack([e["scores"] for e in entities]).nanmean(dim=0)  # (num_labels,)
        best = int(scores.argmax())
        return {
            "entity": self.model.config.id2label[best],
            "score": scores[best].item(),
            "word": word,
            "start": entities[0]["start"],
            "end": entities[-1]["end"],
        }

    def aggregate_words(self, entities: list[dict], aggregation_strategy: str) -> list[dict]:
        """Tokens of one word (a token and its following subwords) become one entity."""
        groups: list[list[dict]] = []
        for entity in entities:
            if groups and entity["is_subword"]:
                groups[-1].append(entity)
            else:
                groups.append([entity])
        return [self.aggregate_word(g, aggregation_strategy) for g in groups]

    def group_sub_entities(self, entities: list[dict]) -> dict:
        scores = torch.tensor([e["score"] for e in entities], dtype=torch.float64)
        return {
            "entity_group": entities[0]["entity"].split("-", 1)[-1],
            "score": scores.nanmean().item(),
            "word": self.tokenizer.convert_tokens_to_string([e["word"] for e in entities]),
            "start": entities[0]["start"],
            "end": entities[-1]["end"],
        }

    def group_entities(self, entities: list[dict]) -> list[dict]:
        """Adjacent entities with the same tag (a ``B-`` starts a new one) become one group."""
        groups: list[list[dict]] = []
        for entity in entities:
            bi, tag = get_tag(entity["entity"])
            if groups and bi != "B" and tag == get_tag(groups[-1][-1]["entity"])[1]:
                groups[-1].append(entity)
            else:
                groups.append([entity])
        return [self.group_sub_entities(g) for g in groups]


def get_tag(entity_name: str) -> tuple[str, str]:
    """``("B"|"I", tag)`` of a label; labels without a ``B-``/``I-`` prefix count as ``I``."""
    if entity_name.startswith("B-"):
        return "B", entity_name[2:]
    if entity_name.startswith("I-"):
        return "I", entity_name[2:]
    return "I", entity_name


def aggregate_overlapping_entities(entities: list[dict]) -> list[dict]:
    """Entities from overlapping windows: of those that overlap, keep the longest (then the most confident)."""
    if not entities:
        return entities
    entities = sorted(entities, key=lambda e: e["start"])
    kept, previous = [], entities[0]
    for entity in entities:
        if previous["start"] <= entity["start"] < previous["end"]:
            length, previous_length = entity["end"] - entity["start"], previous["end"] - previous["start"]
            if length > previous_length or (
                length == previous_length and entity["score"] > previous["score"]
            ):
                previous = entity
        else:
            kept.append(previous)
            previous = entity
    kept.append(previous)
    return kept


NerPipeline = TokenClassificationPipeline
