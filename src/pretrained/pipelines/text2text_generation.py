"""Sequence-to-sequence generation: ``"text2text-generation"``, ``"summarization"``, ``"translation"``.

Behaves as transformers 4.57's pipelines of the same names: defaults ``max_new_tokens=256, num_beams=4`` unless
the model's generation config says otherwise; T5's ``task_specific_params`` (prefix ``"summarize: "``, lengths,
beams) for the task; ``translation_xx_to_yy`` tasks; ``src_lang``/``tgt_lang`` for multilingual (mBART) models.

>>> from pretrained import pipeline
>>> translate = pipeline("translation_en_to_de", model="path/to/t5-small")  # doctest: +SKIP
>>> translate("How old are you?")  # doctest: +SKIP
[{'translation_text': 'Wie alt sind Sie?'}]
>>> summarize = pipeline("summarization", model="path/to/bart-cnn")  # doctest: +SKIP
>>> summarize(long_article, min_length=5, max_length=40)  # doctest: +SKIP
[{'summary_text': '...'}]
"""

from __future__ import annotations

import enum
import logging
from typing import Any

import torch

from ..generation import GenerationConfig
from .base import PerItem
from .generate import GenerationPipeline

log = logging.getLogger(__name__)


class ReturnType(enum.Enum):
    TENSORS = 0
    TEXT = 1


# tokenizer class -> where the language codes go around the source ids (the reference's
# ``set_src_lang_special_tokens``); the target language code is forced as the first generated token.
LANGUAGE_CODE_LAYOUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "MBartTokenizer": ((), ("eos", "src_lang")),
    "MBart50Tokenizer": (("src_lang",), ("eos",)),
}


class Text2TextGenerationPipeline(GenerationPipeline):
    """Generate text from text with a seq2seq model: results ``[{"generated_text": ...}]``.

    Arguments (at construction or per call): ``return_tensors`` (token ids instead of text), ``return_text``,
    ``clean_up_tokenization_spaces`` (default False), ``truncation``, ``stop_sequence`` (its first token becomes
    the EOS), and every ``generate`` argument (``max_new_tokens``, ``num_beams``, ``num_return_sequences``, ...).

    >>> generator = pipeline("text2text-generation", model="path/to/t5")  # doctest: +SKIP
    >>> generator("question: What is 42 ? context: 42 is the answer to life")  # doctest: +SKIP
    [{'generated_text': 'the answer to life'}]
    """

    _default_generation_config = GenerationConfig(max_new_tokens=256, num_beams=4)
    return_name = "generated"

    def _sanitize_parameters(
        self,
        return_tensors: bool | None = None,
        return_text: bool | None = None,
        return_type: ReturnType | None = None,
        clean_up_tokenization_spaces: bool | None = None,
        truncation: Any = None,
        stop_sequence: str | None = None,
        **generate_kwargs: Any,
    ) -> tuple[dict, dict, dict]:
        pre: dict[str, Any] = {}
        if truncation is not None:
            pre["truncation"] = truncation
        post: dict[str, Any] = {}
        if return_tensors is not None and return_type is None:
            return_type = ReturnType.TENSORS if return_tensors else ReturnType.TEXT
        if return_type is not None:
            post["return_type"] = return_type
        if clean_up_tokenization_spaces is not None:
            post["clean_up_tokenization_spaces"] = clean_up_tokenization_spaces
        if stop_sequence is not None:
            ids = self.tokenizer.encode(stop_sequence, add_special_tokens=False)
            if not ids:
                raise ValueError(f"stop_sequence={stop_sequence!r} encodes to no tokens")
            if len(ids) > 1:
                log.warning(
                    "Stopping on a multiple token sequence is not supported; the first token of the stop "
                    "sequence is used as the EOS token"
                )
            generate_kwargs["eos_token_id"] = ids[0]
        return pre, generate_kwargs, post

    def check_inputs(self, input_length: int, min_length: int, max_length: int) -> bool:
        """Warn about lengths that look wrong for the task (nothing for plain text2text)."""
        return True

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Generate for one text (-> a list of results) or a list of texts (-> one result per text)."""
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        result = super().__call__(inputs, *args, **kwargs)
        if (
            isinstance(inputs, list)
            and all(isinstance(x, str) for x in inputs)
            and all(len(r) == 1 for r in result)
        ):
            return [r[0] for r in result]
        return result

    def _parse_and_tokenize(self, text: Any, truncation: Any) -> dict[str, torch.Tensor]:
        if not isinstance(text, str):
            raise TypeError(
                f"{self.task or 'text2text-generation'} takes a text (str) or a list of texts; got "
                f"{type(text).__name__}"
            )
        prefix = self.prefix if self.prefix is not None else ""
        enc = self.tokenizer(prefix + text, padding=False, truncation=truncation, return_tensors="pt")
        return {k: v for k, v in enc.items() if k != "token_type_ids"}  # not a generate() input

    def preprocess(self, inputs: Any, truncation: Any = False, **kwargs: Any) -> dict[str, Any]:
        return self._parse_and_tokenize(inputs, truncation=truncation)

    def _forward(self, model_inputs: dict[str, Any], **generate_kwargs: Any) -> dict[str, Any]:
        in_b, input_length = model_inputs["input_ids"].shape  # (B, T)
        cfg = self.generation_config
        self.check_inputs(
            input_length,
            generate_kwargs.get("min_length", cfg.min_length),
            generate_kwargs.get("max_length", cfg.max_length),
        )
        for key, value in list(model_inputs.items()):
            if isinstance(
                value, PerItem
            ):  # per-input generate arguments (forced_bos_token_id): one per batch
                if any(v != value[0] for v in value):
                    raise ValueError(f"inputs of one batch need the same {key}; got {list(value)}")
                model_inputs[key] = value[0]
        output_ids = self.generate(model_inputs, generate_kwargs)
        if not isinstance(output_ids, torch.Tensor):
            output_ids = output_ids.sequences
        out_b = output_ids.shape[0]
        return {"output_ids": output_ids.reshape(in_b, out_b // in_b, *output_ids.shape[1:])}  # (B, n, L)

    def postprocess(
        self,
        model_outputs: dict[str, Any],
        return_type: ReturnType = ReturnType.TEXT,
        clean_up_tokenization_spaces: bool = False,
    ) -> list[dict[str, Any]]:
        records = []
        for output_ids in model_outputs["output_ids"][0]:
            if return_type == ReturnType.TENSORS:
                records.append({f"{self.return_name}_token_ids": output_ids})
            else:
                text = self.tokenizer.decode(
                    output_ids,
                    skip_special_tokens=True,
                    clean_up_tokenization_spaces=clean_up_tokenization_spaces,
                )
                records.append({f"{self.return_name}_text": text})
        return records


class SummarizationPipeline(Text2TextGenerationPipeline):
    """Summarize documents: results ``[{"summary_text": ...}]``; warns when ``max_length`` exceeds the input.

    >>> summarizer = pipeline("summarization", model="path/to/bart-cnn")  # doctest: +SKIP
    >>> summarizer("An apple a day, keeps the doctor away", min_length=5, max_length=20)  # doctest: +SKIP
    """

    return_name = "summary"

    def check_inputs(self, input_length: int, min_length: int, max_length: int) -> bool:
        if max_length < min_length:
            log.warning(f"Your min_length={min_length} must be inferior than your max_length={max_length}.")
        if input_length < max_length:
            log.warning(
                f"Your max_length is set to {max_length}, but your input_length is only {input_length}. Since this "
                "is a summarization task, where outputs shorter than the input are typically wanted, you might "
                f"consider decreasing max_length manually, e.g. summarizer('...', max_length={input_length // 2})"
            )
        return True


class TranslationPipeline(Text2TextGenerationPipeline):
    """Translate texts: results ``[{"translation_text": ...}]``.

    ``translation_xx_to_yy`` tasks pick T5's prefix from ``task_specific_params``; multilingual models (mBART,
    mBART-50) need ``src_lang``/``tgt_lang`` language codes such as ``"en_XX"``/``"fr_XX"``.

    >>> translator = pipeline("translation", model="path/to/mbart-50-many-to-many")  # doctest: +SKIP
    >>> translator("Hello", src_lang="en_XX", tgt_lang="fr_XX")  # doctest: +SKIP
    [{'translation_text': 'Bonjour'}]
    """

    return_name = "translation"

    def check_inputs(self, input_length: int, min_length: int, max_length: int) -> bool:
        if input_length > 0.9 * max_length:
            log.warning(
                f"Your input_length: {input_length} is bigger than 0.9 * max_length: {max_length}. You might "
                "consider increasing your max_length manually, e.g. translator('...', max_length=400)"
            )
        return True

    def _sanitize_parameters(
        self, src_lang: str | None = None, tgt_lang: str | None = None, **kwargs: Any
    ) -> tuple[dict, dict, dict]:
        pre, fwd, post = super()._sanitize_parameters(**kwargs)
        if src_lang is not None:
            pre["src_lang"] = src_lang
        if tgt_lang is not None:
            pre["tgt_lang"] = tgt_lang
        if src_lang is None and tgt_lang is None:
            items = (kwargs.get("task") or self.task or "").split("_")
            if len(items) == 4:  # translation, XX, to, YY
                pre["src_lang"], pre["tgt_lang"] = items[1], items[3]
        return pre, fwd, post

    def preprocess(
        self, inputs: Any, truncation: Any = False, src_lang: str | None = None, tgt_lang: str | None = None
    ) -> dict[str, Any]:
        layout = LANGUAGE_CODE_LAYOUTS.get(getattr(self.tokenizer, "tokenizer_class_name", ""))
        if layout is None:
            return self._parse_and_tokenize(inputs, truncation=truncation)
        return self._language_code_inputs(inputs, layout, truncation, src_lang, tgt_lang)

    def _language_code_inputs(
        self, text: Any, layout: tuple, truncation: Any, src_lang: str | None, tgt_lang: str | None
    ) -> dict[str, Any]:
        """The source ids framed by the source language code, and the target code as the forced first token."""
        if src_lang is None or tgt_lang is None:
            raise ValueError("Translation requires a `src_lang` and a `tgt_lang` for this model")
        if not isinstance(text, str):
            raise TypeError(f"translation takes a text (str) or a list of texts; got {type(text).__name__}")
        src_id, tgt_id = self._language_id(src_lang, "src_lang"), self._language_id(tgt_lang, "tgt_lang")
        special = {"eos": self.tokenizer.eos_token_id, "src_lang": src_id}
        before, after = ([special[k] for k in part] for part in layout)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        limit = self.tokenizer.model_max_length - len(before) - len(after)
        if truncation not in (None, False, "do_not_truncate") and len(ids) > limit:
            ids = ids[:limit]
        ids = torch.tensor([before + ids + after])  # (1, T)
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "forced_bos_token_id": tgt_id}

    def _language_id(self, code: str, name: str) -> int:
        token_id = self.tokenizer.convert_tokens_to_ids(code)
        if token_id is None or token_id == self.tokenizer.unk_token_id:
            codes = [t for t in self.tokenizer.additional_special_tokens if len(t) == 5 and t[2] == "_"]
            raise ValueError(
                f"{name}={code!r} is not a language code of this tokenizer; use one of: {', '.join(codes)}"
            )
        return token_id
