"""Extractive question answering (``"question-answering"``): the span of the context that answers the question.

Contexts longer than ``max_seq_len`` are split into windows overlapping by ``doc_stride`` tokens; spans from all
windows compete, and equal answers found in several windows add up their scores.

>>> from pretrained import pipeline
>>> qa = pipeline("question-answering", model="path/to/squad-model")  # doctest: +SKIP
>>> qa(question="Where do I live?", context="My name is Wolfgang and I live in Berlin")  # doctest: +SKIP
{'score': 0.97, 'start': 33, 'end': 39, 'answer': 'Berlin'}
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from .base import Pipeline, is_stream


class MissingInputError(KeyError, ValueError):
    """A question/context input without its ``question`` or ``context``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass
class SquadExample:
    """A question and its context (the reference's name for one QA input)."""

    question_text: str
    context_text: str


def check_example(item: Any) -> SquadExample:
    """A ``{"question", "context"}`` dict (or an example) checked and turned into a :class:`SquadExample`."""
    if isinstance(item, SquadExample):
        return item
    if hasattr(item, "question_text") and hasattr(item, "context_text"):  # e.g. transformers' SquadExample
        item = {"question": item.question_text, "context": item.context_text}
    if not isinstance(item, dict):
        raise ValueError(f"{item!r} argument needs to be of type (SquadExample, dict)")
    extra = sorted(set(item) - {"question", "context"})
    if extra:
        raise TypeError(
            f"question-answering dicts take the keys 'question' and 'context' only; got also {extra}"
        )
    for key in ("question", "context"):
        if key not in item:
            raise MissingInputError(
                f"question-answering needs a dict with keys 'question' and 'context', got keys {sorted(item)}; "
                "or call qa(question=..., context=...)"
            )
        if item[key] is None:
            raise ValueError(f"`{key}` cannot be None")
        if not isinstance(item[key], str):
            raise ValueError(f"`{key}` must be a str, got {type(item[key]).__name__}")
        if not item[key]:
            raise ValueError(f"`{key}` cannot be empty")
    return SquadExample(item["question"], item["context"])


class ExampleList(list):
    """The examples of one ``{"question": [...], "context": [...]}`` dict: a list of results, even for one."""


def collect_examples(args: tuple, kwargs: dict) -> Any:
    """The inputs as the reference's argument handler reads them: positional, ``question=``/``context=``, ..."""
    question, context = kwargs.pop("question", None), kwargs.pop("context", None)
    legacy = kwargs.pop("X", None), kwargs.pop("data", None)
    if len(args) == 1:
        inputs = args[0]
    elif len(args) == 2 and all(isinstance(a, str) for a in args):
        inputs = [{"question": args[0], "context": args[1]}]
    elif args:
        inputs = list(args)
    elif any(x is not None for x in legacy):
        inputs = next(x for x in legacy if x is not None)
    elif question is not None and context is not None:
        inputs = _question_context(question, context)
    elif question is not None or context is not None:
        missing = "context" if context is None else "question"
        raise MissingInputError(f"question-answering needs a {missing}: call qa(question=..., context=...)")
    else:
        raise ValueError(
            "question-answering needs inputs: qa(question=..., context=...) or a {question, context} dict"
        )
    if is_stream(inputs):
        return inputs
    if isinstance(inputs, dict) or hasattr(inputs, "context_text"):
        inputs = [inputs]
    elif isinstance(inputs, (list, tuple)):
        inputs = list(inputs)
    else:
        raise ValueError(f"question-answering can't read inputs of type {type(inputs).__name__}")
    if len(inputs) == 1 and isinstance(inputs[0], dict) and isinstance(inputs[0].get("question"), list):
        return ExampleList(check_example(item) for item in _zip_dict(inputs[0]))
    return [check_example(item) for item in inputs]


def _zip_dict(item: dict) -> list[dict]:
    """``{"question": [...], "context": [...]}`` -> one dict per pair. As the reference, the lists are zipped
    (a str context is zipped character by character)."""
    extra = sorted(set(item) - {"question", "context"})
    if extra or "context" not in item:
        raise TypeError(
            f"question-answering dicts take the keys 'question' and 'context'; got {sorted(item)}"
        )
    return [{"question": q, "context": c} for q, c in zip(item["question"], item["context"])]


def _question_context(question: Any, context: Any) -> list[dict]:
    if isinstance(question, list) and isinstance(context, str):
        return [{"question": q, "context": context} for q in question]
    if isinstance(question, list) and isinstance(context, list):
        if len(question) != len(context):
            raise ValueError("Questions and contexts don't have the same lengths")
        return [{"question": q, "context": c} for q, c in zip(question, context)]
    if isinstance(question, str) and isinstance(context, str):
        return [{"question": question, "context": context}]
    raise ValueError("question= and context= must be strings or lists of strings")


class QuestionAnsweringPipeline(Pipeline):
    """Answer questions from a context with a question-answering (span start/end) model.

    Returns ``{"score", "start", "end", "answer"}`` (a list of ``top_k`` of them when ``top_k > 1``; a list per
    input for several inputs). ``handle_impossible_answer=True`` lets ``""`` (no answer) compete.

    >>> qa = pipeline("question-answering", model="path/to/squad-model")  # doctest: +SKIP
    >>> qa({"question": "Who?", "context": "Sarah works at Hugging Face."}, top_k=2)  # doctest: +SKIP
    """

    pad_side = "right"  # batches: positions as in the text alone (see Pipeline.pad_side)

    chunked = True
    token_outputs = ("start", "end")

    def _sanitize_parameters(
        self,
        padding: Any = None,
        topk: int | None = None,
        top_k: int | None = None,
        doc_stride: int | None = None,
        max_answer_len: int | None = None,
        max_seq_len: int | None = None,
        max_question_len: int | None = None,
        handle_impossible_answer: bool | None = None,
        align_to_words: bool | None = None,
    ) -> tuple[dict, dict, dict]:
        pre = {k: v for k, v in [("padding", padding), ("doc_stride", doc_stride), ("max_seq_len", max_seq_len),
                                 ("max_question_len", max_question_len)] if v is not None}  # fmt: skip
        post: dict[str, Any] = {}
        if topk is not None and top_k is None:
            warnings.warn("topk parameter is deprecated, use top_k instead", UserWarning, stacklevel=3)
            top_k = topk
        if top_k is not None:
            if top_k < 1:
                raise ValueError(f"top_k parameter should be >= 1 (got {top_k})")
            post["top_k"] = top_k
        if max_answer_len is not None:
            if max_answer_len < 1:
                raise ValueError(f"max_answer_len parameter should be >= 1 (got {max_answer_len})")
            post["max_answer_len"] = max_answer_len
        if handle_impossible_answer is not None:
            post["handle_impossible_answer"] = handle_impossible_answer
        if align_to_words is not None:
            post["align_to_words"] = align_to_words
        return pre, {}, post

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``qa(question=..., context=...)``, ``qa({"question", "context"})``, a list of dicts, or a generator."""
        examples = collect_examples(args, kwargs)
        if isinstance(examples, list) and len(examples) == 1 and not isinstance(examples, ExampleList):
            return super().__call__(examples[0], **kwargs)
        return super().__call__(examples, **kwargs)

    def preprocess(
        self,
        example: Any,
        padding: Any = "do_not_pad",
        doc_stride: int | None = None,
        max_question_len: int = 64,
        max_seq_len: int | None = None,
    ) -> Any:
        example = check_example(example)
        if max_seq_len is None:
            max_seq_len = min(self.tokenizer.model_max_length, 384)
        if doc_stride is None:
            doc_stride = min(max_seq_len // 2, 128)
        if doc_stride > max_seq_len:
            raise ValueError(f"`doc_stride` ({doc_stride}) is larger than `max_seq_len` ({max_seq_len})")
        question_first = self.tokenizer.padding_side == "right"
        enc = self._encode(example, question_first, padding, max_seq_len, doc_stride)
        names = [*self.tokenizer.model_input_names, "token_type_ids"]
        n = len(enc["input_ids"])
        for i in range(n):
            ids = enc["input_ids"][i]
            # p_mask: 1 where the answer can't be (the question, special tokens), 0 for the context and [CLS]
            p_mask = [int(s != 1) if question_first else 0 for s in enc.sequence_ids(i)]
            for j, token in enumerate(ids):
                if token == self.tokenizer.cls_token_id:
                    p_mask[j] = 0
            model_input = {
                k: torch.tensor([enc[k][i]]) for k in dict.fromkeys(names) if k in enc
            }  # (1, T) each
            model_input["p_mask"] = torch.tensor([p_mask])  # (1, T)
            yield {"example": example, "is_last": i == n - 1, "encoding": enc[i], **model_input}

    def _encode(
        self, example: SquadExample, question_first: bool, padding: Any, max_seq_len: int, stride: int
    ):
        texts = (example.question_text, example.context_text)
        try:
            return self.tokenizer(
                text=texts[0] if question_first else texts[1],
                text_pair=texts[1] if question_first else texts[0],
                padding=padding,
                truncation="only_second" if question_first else "only_first",
                max_length=max_seq_len,
                stride=stride,
                return_token_type_ids=True,
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
                return_special_tokens_mask=True,
            )
        except ValueError as e:
            if "stride" not in str(e):
                raise
            raise ValueError(
                f"question-answering: windows of max_seq_len={max_seq_len} tokens leave too little room for the "
                f"context next to this question to overlap by doc_stride={stride}; lower doc_stride or raise "
                f"max_seq_len ({e})"
            ) from None

    def _forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        model_inputs = {k: inputs[k] for k in self.tokenizer.model_input_names if k in inputs}
        if "use_cache" in inspect.signature(self.model.forward).parameters:
            model_inputs["use_cache"] = False
        out = self.model(**model_inputs)
        return {"start": out.start_logits, "end": out.end_logits, **inputs}  # (B, T) each

    def postprocess(
        self,
        model_outputs: list[dict],
        top_k: int = 1,
        handle_impossible_answer: bool = False,
        max_answer_len: int = 15,
        align_to_words: bool = True,
    ) -> Any:
        min_null_score = 1000000.0
        answers: list[dict] = []
        for output in model_outputs:
            attention = output.get("attention_mask")
            starts, ends, scores, min_null_score = select_starts_ends(
                output["start"], output["end"], output["p_mask"], attention, min_null_score,
                top_k * 2 + 10 if align_to_words else top_k, handle_impossible_answer, max_answer_len,
            )  # fmt: skip
            self._collect_answers(answers, output, starts, ends, scores, align_to_words)
        if handle_impossible_answer:
            answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda a: a["score"], reverse=True)[:top_k]
        return answers[0] if len(answers) == 1 else answers

    def _collect_answers(
        self, answers: list[dict], output: dict, starts: list, ends: list, scores: list, align_to_words: bool
    ) -> None:
        """Add one window's spans as character answers; an answer seen before (any case) adds to its score."""
        question_first = self.tokenizer.padding_side == "right"
        context = output["example"].context_text
        offset = 0
        if self.tokenizer.padding_side == "left":
            offset = int((output["input_ids"] == self.tokenizer.pad_token_id).sum())
        for s, e, score in zip(starts, ends, scores):
            start, end = get_indices(
                output["encoding"], s - offset, e - offset, int(question_first), align_to_words
            )
            text = context[start:end]
            same = next((a for a in answers if a["answer"].lower() == text.lower()), None)
            if same is not None:
                same["score"] += score
            else:
                answers.append({"score": score, "start": start, "end": end, "answer": text})


def select_starts_ends(
    start: torch.Tensor,
    end: torch.Tensor,
    p_mask: torch.Tensor,
    attention_mask: torch.Tensor | None,
    min_null_score: float = 1000000.0,
    top_k: int = 1,
    handle_impossible_answer: bool = False,
    max_answer_len: int = 15,
) -> tuple[list[int], list[int], list[float], float]:
    """The best ``top_k`` (start, end) token spans of one window: softmax over allowed tokens, score = p(s)*p(e)."""
    allowed = (1 - p_mask.long()).abs()  # (1, T)
    if attention_mask is not None:
        allowed = allowed & attention_mask.long()
    start = _masked_softmax(start.float(), allowed)  # (1, T)
    end = _masked_softmax(end.float(), allowed)  # (1, T)
    if handle_impossible_answer:
        min_null_score = min(min_null_score, (start[0, 0] * end[0, 0]).item())
    start[0, 0] = end[0, 0] = 0.0
    allowed = allowed[0].bool()  # (T,)
    allowed[0] = (
        True  # as the reference (its np.isin also matches the row indices, all 0); scores there are 0
    )
    starts, ends, scores = decode_spans(start, end, top_k, max_answer_len, allowed)
    return starts, ends, scores, min_null_score


def _masked_softmax(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    logits = torch.where(allowed == 0, torch.tensor(-10000.0), logits)  # (1, T)
    probs = torch.exp(logits - logits.max(dim=-1, keepdim=True).values)
    return probs / probs.sum()


def decode_spans(
    start: torch.Tensor, end: torch.Tensor, top_k: int, max_answer_len: int, allowed: torch.Tensor
) -> tuple[list[int], list[int], list[float]]:
    """Spans with start <= end < start + max_answer_len, best first, both ends on allowed tokens."""
    outer = start[0, :, None] * end[0, None, :]  # (T, T)
    candidates = torch.tril(torch.triu(outer), max_answer_len - 1)  # (T, T)
    width = candidates.shape[1]
    starts, ends, scores = [], [], []
    for idx in best_positions(candidates.flatten(), top_k):
        s, e = divmod(idx, width)
        if allowed[s] and allowed[e]:
            starts.append(s)
            ends.append(e)
            scores.append(candidates[s, e].item())
    return starts, ends, scores


def best_positions(flat: torch.Tensor, k: int) -> list[int]:
    """Positions of the ``k`` best of ``flat`` (float32), best first.

    When ``k`` reaches past the non-zero scores, the zeros (impossible spans) tie; with numpy installed they come
    in the order of the reference's selection (``argpartition``, then an unstable ``argsort``), so the same
    zero-score answers fill ``top_k``. Without numpy, ties come by position.
    """
    try:
        import numpy as np
    except ImportError:
        return _best_positions_by_position(flat, k)
    scores = flat.numpy()
    if k == 1:
        return [int(np.argmax(scores))]
    if scores.size <= k:
        return np.argsort(-scores).tolist()
    best = np.argpartition(-scores, k)[:k]
    return best[np.argsort(-scores[best])].tolist()


def _best_positions_by_position(flat: torch.Tensor, k: int) -> list[int]:
    k = min(k, flat.numel())
    # only the entries reaching the k-th best score are sorted (not all T*T)
    kth = torch.topk(flat, k, sorted=False).values.min()
    contenders = torch.nonzero(flat >= kth).flatten()  # ascending positions
    return contenders[torch.sort(-flat[contenders], stable=True).indices[:k]].tolist()


def get_indices(enc: Any, s: int, e: int, sequence_index: int, align_to_words: bool) -> tuple[int, int]:
    """Character span of tokens ``s..e``: widened to whole words with ``align_to_words`` when possible."""
    if align_to_words:
        start_word, end_word = enc.token_to_word(s), enc.token_to_word(e)
        if start_word is not None and end_word is not None:
            start_chars = enc.word_to_chars(start_word, sequence_index=sequence_index)
            end_chars = enc.word_to_chars(end_word, sequence_index=sequence_index)
            if start_chars is not None and end_chars is not None:
                return start_chars[0], end_chars[1]
    return enc.offsets[s][0], enc.offsets[e][1]
