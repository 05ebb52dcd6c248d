"""``PreTrainedTokenizer``: the transformers-style tokenizer API over our ``Tokenizer`` engine.

Behaves like transformers' ``PreTrainedTokenizerFast``: ``tokenizer(text, ...)`` with padding,
truncation, overflow and offsets; ``decode``; special-token attributes; ``save_pretrained``.

>>> from pretrained import AutoTokenizer  # doctest: +SKIP
>>> tok = AutoTokenizer.from_pretrained("bert-base-uncased")  # doctest: +SKIP
>>> tok("Hello world!", return_tensors="pt")["input_ids"]  # doctest: +SKIP
tensor([[ 101, 7592, 2088,  999,  102]])
"""

from __future__ import annotations

import copy
import json
import logging
import os
from typing import Any

from .batch_encoding import BatchEncoding, to_py
from .legacy import CONVENTIONS, bos_eos_template
from .padding import PaddingMixin
from .special_tokens import SpecialTokensMixin, added_token, added_token_state, engine_classes
from .tokenizer_classes import (
    BUILDS_WITH_SPECIAL_TOKENS,
    ROBERTA_LAYOUT,
    TEMPLATE_TOKEN_TYPE_IDS,
    ZERO_TOKEN_TYPE_IDS,
    bert_normalizer,
    code_llama_tokens,
    pegasus_specials,
    roberta_post_processor,
    splinter_question,
    t5_extra_ids,
    xglm_madeup_words,
)

log = logging.getLogger(__name__)

VERY_LARGE_INTEGER = int(1e30)  # model_max_length when the checkpoint sets none (as transformers)

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
ADDED_TOKENS_FILE = "added_tokens.json"
CHAT_TEMPLATE_FILE = "chat_template.jinja"
CHAT_TEMPLATE_DIR = "additional_chat_templates"

_ENCODE_KEYS = (
    "input_ids",
    "token_type_ids",
    "attention_mask",
    "special_tokens_mask",
    "offset_mapping",
    "length",
)


# each returned column, from the batch's encodings
_COLUMNS = {
    "input_ids": lambda encs: [e.ids for e in encs],
    "token_type_ids": lambda encs: [e.type_ids for e in encs],
    "attention_mask": lambda encs: [e.attention_mask for e in encs],
    "special_tokens_mask": lambda encs: [e.special_tokens_mask for e in encs],
    "offset_mapping": lambda encs: [[tuple(o) for o in e.offsets] for e in encs],
    "length": lambda encs: [len(e.ids) for e in encs],
}


def _is_text_input(t: Any) -> bool:
    if isinstance(t, str):
        return True
    if isinstance(t, (list, tuple)):
        if len(t) == 0 or isinstance(t[0], str):
            return True
        if isinstance(t[0], (list, tuple)):
            return len(t[0]) == 0 or isinstance(t[0][0], str)
    return False


class PreTrainedTokenizer(SpecialTokensMixin, PaddingMixin):
    """A tokenizer with the transformers API, backed by :class:`pretrained.tokenizers.Tokenizer`.

    Build one with :meth:`from_pretrained` (or ``AutoTokenizer.from_pretrained``), or wrap an engine
    tokenizer: ``PreTrainedTokenizer(tokenizer_object=tok, pad_token="[PAD]")``.

    >>> tok = PreTrainedTokenizer(tokenizer_file="tokenizer.json", pad_token="[PAD]")  # doctest: +SKIP
    >>> tok(["a", "b c"], padding=True)["attention_mask"]  # doctest: +SKIP
    [[1, 1, 1, 0], [1, 1, 1, 1]]
    """

    model_input_names: list[str] = ["input_ids", "token_type_ids", "attention_mask"]
    padding_side: str = "right"
    truncation_side: str = "right"
    tokenizer_class_name: str = "PreTrainedTokenizer"  # transformers class (minus "Fast") this one mirrors
    class_defaults: dict[str, Any] = {}  # that class's __init__ defaults (special tokens, options)
    class_fixups: tuple[str, ...] = ()  # that class's adjustments of the backend (see the _fixup functions)
    class_pad_token_type_id: int = 0  # token type id of padding (3 for XLNet)
    vocab_files: dict[str, Any] = {}  # legacy vocabulary files found at load time, copied by save_pretrained

    def __init__(
        self, *, tokenizer_object: Any = None, tokenizer_file: str | os.PathLike | None = None, **kwargs
    ):
        tokenizer_json: dict | None = kwargs.pop("tokenizer_json", None)
        added_tokens_decoder = kwargs.pop("added_tokens_decoder", {})
        kwargs.pop("from_slow", None)
        for key, value in self.class_defaults.items():
            kwargs.setdefault(key, added_token(value))
        if "t5_extra_ids" in self.class_fixups:
            t5_extra_ids(kwargs)
        if "no_bos_token" in self.class_fixups and kwargs.pop("add_bos_token", False):
            raise ValueError(
                f"{type(self).__name__} does not support add_bos_token=True (as transformers' fast class); drop "
                "add_bos_token from the arguments / tokenizer_config.json and prepend the bos token id yourself"
            )
        if "splinter_question" in self.class_fixups:
            splinter_question(kwargs)
        if "code_llama_tokens" in self.class_fixups:
            code_llama_tokens(kwargs)
        if "xglm_madeup_words" in self.class_fixups:
            xglm_madeup_words(kwargs)
        if "pegasus_specials" in self.class_fixups:
            pegasus_specials(kwargs)
            added_tokens_decoder = {}  # PegasusTokenizerFast drops it
        self.add_prefix_space = kwargs.get("add_prefix_space", False)
        Tokenizer, _ = engine_classes()
        if tokenizer_object is not None:
            tokenizer_json = json.loads(tokenizer_object.to_str())
        elif tokenizer_file is not None:
            with open(tokenizer_file, encoding="utf-8") as f:
                tokenizer_json = json.load(f)
        if tokenizer_json is None:
            raise ValueError(
                "PreTrainedTokenizer needs a backend: pass tokenizer_object=, tokenizer_file= or tokenizer_json=, "
                "or load a folder with PreTrainedTokenizer.from_pretrained(path)"
            )
        self._fix_add_prefix_space(tokenizer_json)
        if "bert_normalizer" in self.class_fixups:
            bert_normalizer(tokenizer_json, kwargs)
        if "bert_normalizer_case" in self.class_fixups:
            bert_normalizer(tokenizer_json, kwargs, chinese_chars=False)
        if "roberta_post_processor" in self.class_fixups:
            roberta_post_processor(tokenizer_json, kwargs)
        self._tokenizer = Tokenizer.from_dict(tokenizer_json)
        truncation, padding = self._tokenizer.truncation, self._tokenizer.padding
        if truncation is not None:
            kwargs.setdefault("max_length", truncation["max_length"])
            kwargs.setdefault("truncation_side", truncation["direction"])
            kwargs.setdefault("stride", truncation["stride"])
            kwargs.setdefault("truncation_strategy", truncation["strategy"])
        if padding is not None:
            kwargs.setdefault("pad_token", padding["pad_token"])
            kwargs.setdefault("pad_token_type_id", padding["pad_type_id"])
            kwargs.setdefault("padding_side", padding["direction"])
            kwargs.setdefault("max_length", padding["length"])
            kwargs.setdefault("pad_to_multiple_of", padding["pad_to_multiple_of"])
        self._init_base(kwargs)
        self._tokenizer.encode_special_tokens = self.split_special_tokens
        self._add_init_tokens(added_tokens_decoder)
        self._add_bos_token = self.init_kwargs.get("add_bos_token", False)
        self._add_eos_token = self.init_kwargs.get("add_eos_token", False)
        if "bos_eos_template" in self.class_fixups:
            self.update_post_processor()

    @property
    def add_bos_token(self) -> bool:
        """Whether the post-processor prepends ``bos_token`` (Llama-style classes rebuild it when set)."""
        return self._add_bos_token

    @add_bos_token.setter
    def add_bos_token(self, value: bool) -> None:
        self._add_bos_token = value
        if "bos_eos_template" in self.class_fixups:
            self.update_post_processor()

    @property
    def add_eos_token(self) -> bool:
        """Whether the post-processor appends ``eos_token`` (Llama-style classes rebuild it when set)."""
        return self._add_eos_token

    @add_eos_token.setter
    def add_eos_token(self, value: bool) -> None:
        self._add_eos_token = value
        if "bos_eos_template" in self.class_fixups:
            self.update_post_processor()

    def update_post_processor(self) -> None:
        """Install the ``bos A [eos]`` template of Llama/Gemma-style classes for the current special tokens."""
        bos = (self.bos_token, self.bos_token_id) if self.bos_token is not None else None
        eos = (self.eos_token, self.eos_token_id) if self.eos_token is not None else None
        self._set_component(
            "post_processor", bos_eos_template(bos, eos, self._add_bos_token, self._add_eos_token)
        )

    def _set_component(self, name: str, data: dict | None) -> None:
        """Replace one pipeline component of the backend (``"post_processor"``...) by its tokenizer.json dict."""
        from . import decoders, normalizers, pre_tokenizers, processors

        build = {
            "normalizer": normalizers.from_dict,
            "pre_tokenizer": pre_tokenizers.from_dict,
            "post_processor": processors.from_dict,
            "decoder": decoders.from_dict,
        }
        setattr(self._tokenizer, name, build[name](data))

    def _fix_add_prefix_space(self, tokenizer_json: dict) -> None:
        # transformers re-creates a top-level pre-tokenizer that has `add_prefix_space` with the init value
        pre = tokenizer_json.get("pre_tokenizer")
        if (
            isinstance(pre, dict)
            and "add_prefix_space" in pre
            and pre["add_prefix_space"] != self.add_prefix_space
        ):
            pre["add_prefix_space"] = self.add_prefix_space

    def _init_base(self, kwargs: dict) -> None:
        """``PreTrainedTokenizerBase.__init__``: generic settings, then the special tokens."""
        for key in kwargs:
            if callable(getattr(type(self), key, None)):
                raise AttributeError(f"{key} conflicts with the method {key} in {type(self).__name__}")
        self.init_inputs = ()
        self.init_kwargs = copy.deepcopy(kwargs)
        self.name_or_path = kwargs.pop("name_or_path", "")
        self._processor_class = kwargs.pop("processor_class", None)
        max_len = kwargs.pop("model_max_length", kwargs.pop("max_len", None))
        self.model_max_length = max_len if max_len is not None else VERY_LARGE_INTEGER
        self.padding_side = kwargs.pop("padding_side", type(self).padding_side)
        self.truncation_side = kwargs.pop("truncation_side", type(self).truncation_side)
        for name in ("padding_side", "truncation_side"):
            if getattr(self, name) not in ("right", "left"):
                raise ValueError(f"{name} should be 'right' or 'left', got {getattr(self, name)!r}")
        self.model_input_names = list(kwargs.pop("model_input_names", type(self).model_input_names))
        self.clean_up_tokenization_spaces = kwargs.pop("clean_up_tokenization_spaces", False)
        self.split_special_tokens = kwargs.pop("split_special_tokens", False)
        self.deprecation_warnings: dict[str, bool] = {}
        self.chat_template = kwargs.pop("chat_template", None)
        if isinstance(self.chat_template, (list, tuple)):
            self.chat_template = {t["name"]: t["template"] for t in self.chat_template}
        self._pad_token_type_id = self.class_pad_token_type_id
        self.verbose = kwargs.pop("verbose", False)
        self._init_special_tokens(kwargs)
        extra = kwargs.pop("extra_special_tokens", None) or {}
        self.extra_special_tokens = extra
        self._set_model_specific_special_tokens(extra)

    def _add_init_tokens(self, added_tokens_decoder: dict) -> None:
        """Add the saved added tokens and any special token the backend does not know yet."""
        _, AddedToken = engine_classes()
        existing = self.added_tokens_decoder
        # every saved added token is added again, as transformers does (its "already there" check compares
        # tokens with the ids of added_tokens_decoder, never equal): one named as a special token (a string
        # in the config) turns special even when tokenizer.json has it as a plain added token
        to_add: list[Any] = [
            added_token(t) for _, t in sorted(added_tokens_decoder.items(), key=lambda x: int(x[0]))
        ]
        encoder = [t.content for t in existing.values()] + [str(t) for t in to_add]

        def state(t: Any) -> Any:
            return t if isinstance(t, str) else added_token_state(t)

        # as in transformers, a special token given as AddedToken is always (re-)added: its flags win
        for token in self.all_special_tokens_extended:
            if isinstance(token, str) and token in encoder:
                continue
            if state(token) in [state(t) for t in to_add]:
                continue
            to_add.append(token)
        if not to_add:
            return
        special = set(self.all_special_tokens)
        tokens = []
        for token in to_add:
            if isinstance(token, str):
                token = AddedToken(token, special=token in special)
            else:
                token.special = token.special or str(token) in special
            tokens.append(token)
        self._tokenizer.add_tokens(tokens)

    # ----------------------------------------------------------------------------------------------------------
    # vocabulary

    @property
    def is_fast(self) -> bool:
        return True

    @property
    def vocab_file(self) -> str | None:
        """The legacy vocabulary file found at load time (a SentencePiece model for Llama, T5 ...), or None."""
        path = self.vocab_files.get("vocab_file")
        return None if path is None else str(path)

    @property
    def can_save_slow_tokenizer(self) -> bool:
        """Whether save_pretrained can write the legacy files too (a SentencePiece class needs its model file)."""
        if str(self.vocab_files.get("vocab_file", "")).endswith(".model") or CONVENTIONS.get(
            self.tokenizer_class_name
        ) in ("llama", "t5"):
            return self.vocab_file is not None and os.path.isfile(self.vocab_file)
        return True

    @property
    def backend_tokenizer(self) -> Any:
        """The engine :class:`~pretrained.tokenizers.Tokenizer` doing the work."""
        return self._tokenizer

    @property
    def decoder(self) -> Any:
        return self._tokenizer.decoder

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary (without added tokens)."""
        return self._tokenizer.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        """Size of the full vocabulary, added tokens included."""
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def __bool__(self) -> bool:
        return True

    def get_vocab(self) -> dict[str, int]:
        """Token -> id for the whole vocabulary, added tokens included."""
        return self._tokenizer.get_vocab(with_added_tokens=True)

    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    @property
    def added_tokens_decoder(self) -> dict[int, Any]:
        """Id -> ``AddedToken`` for every added token."""
        return dict(sorted(self._tokenizer.get_added_tokens_decoder().items()))

    @property
    def added_tokens_encoder(self) -> dict[str, int]:
        return {t.content: i for i, t in self.added_tokens_decoder.items()}

    def get_added_vocab(self) -> dict[str, int]:
        """Added token -> id."""
        return self.added_tokens_encoder

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> int | list[int]:
        """Token(s) -> id(s); unknown tokens map to ``unk_token_id``."""
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        return [self._token_to_id(t) for t in tokens]

    def _token_to_id(self, token: str) -> int | None:
        index = self._tokenizer.token_to_id(token)
        return self.unk_token_id if index is None else index

    def convert_ids_to_tokens(
        self, ids: int | list[int], skip_special_tokens: bool = False
    ) -> str | list[str]:
        """Id(s) -> token string(s)."""
        if isinstance(ids, int):
            return self._tokenizer.id_to_token(ids)
        skip = set(self.all_special_ids) if skip_special_tokens else set()
        return [self._tokenizer.id_to_token(int(i)) for i in to_py(ids) if int(i) not in skip]

    def _add_tokens(self, new_tokens: list, special_tokens: bool = False) -> int:
        if special_tokens:
            return self._tokenizer.add_special_tokens(new_tokens)
        return self._tokenizer.add_tokens(new_tokens)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        """How many special tokens the post-processor adds to one sequence (or a pair)."""
        return self._tokenizer.num_special_tokens_to_add(pair)

    def _with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None) -> Any:
        """The ids run through the post-processor (special tokens added; no truncation or padding)."""
        from .encoding import Encoding

        def encoding(ids: list[int], type_id: int) -> Encoding:
            return Encoding([int(i) for i in ids], [type_id] * len(ids))

        pair = None if token_ids_1 is None else encoding(token_ids_1, 1)
        processor = self._tokenizer.post_processor
        if processor is None:
            from .processors import PostProcessor

            return PostProcessor.default_process(encoding(token_ids_0, 0), pair, True)
        return processor.process(encoding(token_ids_0, 0), pair, True)

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """Ids of one sequence (or a pair) with the special tokens added, as the transformers class of this
        tokenizer does it (``[CLS] A [SEP] B [SEP]`` for BERT; classes such as GPT-2's only concatenate).

        >>> tok.build_inputs_with_special_tokens([7, 8], [9])  # doctest: +SKIP
        [101, 7, 8, 102, 9, 102]
        """
        layout = ROBERTA_LAYOUT.get(self.tokenizer_class_name)
        if layout is not None:
            first, last = (getattr(self, name) for name in layout)
            ids = [first, *token_ids_0, last]
            return ids if token_ids_1 is None else [*ids, last, *token_ids_1, last]
        if self.tokenizer_class_name in BUILDS_WITH_SPECIAL_TOKENS:
            return self._with_special_tokens(token_ids_0, token_ids_1).ids
        return list(token_ids_0) if token_ids_1 is None else list(token_ids_0) + list(token_ids_1)

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """Token type ids for :meth:`build_inputs_with_special_tokens`' layout, as the transformers class of this
        tokenizer gives them: 0s over ``[CLS] A [SEP]`` and 1s over ``B [SEP]`` by default, all 0s for classes
        without token types (RoBERTa, T5...), the template's types for XLNet-like classes.

        >>> tok.create_token_type_ids_from_sequences([7, 8], [9])  # doctest: +SKIP
        [0, 0, 0, 0, 1, 1]
        """
        name = self.tokenizer_class_name
        if name in ZERO_TOKEN_TYPE_IDS:
            single, pair = ZERO_TOKEN_TYPE_IDS[name]
            if token_ids_1 is None:
                return [0] * (single + len(token_ids_0))
            return [0] * (pair + len(token_ids_0) + len(token_ids_1))
        if name in TEMPLATE_TOKEN_TYPE_IDS:
            return self._with_special_tokens(token_ids_0, token_ids_1).type_ids
        cls_len = int(self.cls_token_id is not None)
        sep_len = int(self.sep_token_id is not None)
        first = [0] * (cls_len + len(token_ids_0) + sep_len)
        return first if token_ids_1 is None else first + [1] * (len(token_ids_1) + sep_len)

    @property
    def max_len_single_sentence(self) -> int:
        return self.model_max_length - self.num_special_tokens_to_add(pair=False)

    @property
    def max_len_sentences_pair(self) -> int:
        return self.model_max_length - self.num_special_tokens_to_add(pair=True)

    def __repr__(self) -> str:
        added = "\n\t".join(f"{k}: {v!r}," for k, v in self.added_tokens_decoder.items())
        return (
            f"{type(self).__name__}(name_or_path='{self.name_or_path}', vocab_size={self.vocab_size}, "
            f"model_max_length={self.model_max_length}, is_fast=True, padding_side='{self.padding_side}', "
            f"truncation_side='{self.truncation_side}', special_tokens={self.special_tokens_map}, "
            f"clean_up_tokenization_spaces={self.clean_up_tokenization_spaces}, added_tokens_decoder={{\n\t"
            + added
            + "\n}\n)"
        )

    # ----------------------------------------------------------------------------------------------------------
    # encoding

    def __call__(
        self,
        text: str | list[str] | list[list[str]] | None = None,
        text_pair: str | list[str] | list[list[str]] | None = None,
        text_target: str | list[str] | list[list[str]] | None = None,
        text_pair_target: str | list[str] | list[list[str]] | None = None,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Tokenize one text, a pair, or a batch of either; see transformers for the arguments.

        >>> tok(["Hello", "Hi there"], padding=True, truncation=True, max_length=8)  # doctest: +SKIP
        """
        if text is None and text_target is None:
            raise ValueError("You need to specify either `text` or `text_target`.")
        encodings = target = None
        if text is not None:
            self._switch_to_input_mode()
            encodings = self._call_one(text, text_pair, **kwargs)
        if text_target is not None:
            self._switch_to_target_mode()
            try:
                target = self._call_one(text_target, text_pair_target, **kwargs)
            finally:
                self._switch_to_input_mode()
        if target is None:
            return encodings
        if encodings is None:
            return target
        encodings["labels"] = target["input_ids"]
        return encodings

    def _switch_to_input_mode(self) -> None:
        """Prepare the backend for source texts (translation tokenizers frame them with ``src_lang``)."""

    def _switch_to_target_mode(self) -> None:
        """Prepare the backend for ``text_target`` (translation tokenizers frame it with ``tgt_lang``)."""

    def _call_one(
        self, text: Any, text_pair: Any = None, is_split_into_words: bool = False, **kwargs
    ) -> BatchEncoding:
        for value in (text, text_pair):
            if value is not None and not _is_text_input(value):
                raise ValueError(
                    "text input must be of type `str` (single example), `list[str]` (batch or single pretokenized "
                    "example) or `list[list[str]]` (batch of pretokenized examples)."
                )
        if is_split_into_words:
            batched = isinstance(text, (list, tuple)) and bool(text) and isinstance(text[0], (list, tuple))
        else:
            batched = isinstance(text, (list, tuple))
        if not batched:
            return self.encode_plus(text, text_pair, is_split_into_words=is_split_into_words, **kwargs)
        if isinstance(text_pair, str):
            raise TypeError(
                "when tokenizing batches of text, `text_pair` must be a list or tuple with the same length as `text`."
            )
        if text_pair is not None and len(text) != len(text_pair):
            raise ValueError(
                f"batch length of `text`: {len(text)} does not match batch length of `text_pair`: {len(text_pair)}."
            )
        batch = list(zip(text, text_pair)) if text_pair is not None else text
        return self.batch_encode_plus(batch, is_split_into_words=is_split_into_words, **kwargs)

    def encode_plus(self, text: Any, text_pair: Any = None, **kwargs: Any) -> BatchEncoding:
        """Encode one sequence or pair (the batch axis is dropped unless tensors or overflow are returned)."""
        return_tensors = kwargs.get("return_tensors")
        batched = self.batch_encode_plus([(text, text_pair)] if text_pair else [text], **kwargs)
        if return_tensors is None and not kwargs.get("return_overflowing_tokens", False):
            batched = BatchEncoding(
                {k: (v[0] if len(v) > 0 and isinstance(v[0], list) else v) for k, v in batched.items()},
                batched.encodings,
            )
        return batched

    def batch_encode_plus(
        self,
        batch_text_or_text_pairs: list,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        split_special_tokens: bool | None = None,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Encode a batch of sequences or pairs into one :class:`BatchEncoding`."""
        if kwargs:
            raise TypeError(
                f"tokenizer call got unexpected keyword argument(s) {sorted(kwargs)}; see the transformers "
                "tokenizer __call__ arguments (padding, truncation, max_length, stride, return_tensors, ...)"
            )
        if not isinstance(batch_text_or_text_pairs, (list, tuple)):
            raise TypeError(
                f"batch_text_or_text_pairs has to be a list or a tuple (got {type(batch_text_or_text_pairs)})"
            )
        if not batch_text_or_text_pairs:  # (the reference fails with an IndexError)
            raise ValueError("the batch to encode is empty: pass at least one text (or one list of words)")
        if is_split_into_words and "pretokenized" in self.class_fixups and not self.add_prefix_space:
            raise ValueError(
                f"You need to instantiate {type(self).__name__} with add_prefix_space=True to use it with "
                "pretokenized inputs (is_split_into_words=True)."
            )
        if padding_side is not None and padding_side not in ("left", "right"):
            raise ValueError(f"padding_side should be 'right' or 'left', got {padding_side!r}")
        if not isinstance(stride, int) or stride < 0:
            raise ValueError(f"stride must be a non-negative int, got {stride!r}")
        pad, trunc, max_length = self._strategies(
            padding, truncation, max_length, pad_to_multiple_of, verbose
        )
        self._set_truncation_and_padding(pad, trunc, max_length, stride, pad_to_multiple_of, padding_side)
        split = self.split_special_tokens if split_special_tokens is None else split_special_tokens
        if self._tokenizer.encode_special_tokens != split:
            self._tokenizer.encode_special_tokens = split
        inputs = [
            tuple(x) if isinstance(x, list) and not is_split_into_words else x
            for x in batch_text_or_text_pairs
        ]
        encodings = self._tokenizer.encode_batch(
            inputs, add_special_tokens=add_special_tokens, is_pretokenized=is_split_into_words
        )
        wanted = {
            "input_ids": True,
            "token_type_ids": "token_type_ids" in self.model_input_names
            if return_token_type_ids is None
            else return_token_type_ids,
            "attention_mask": "attention_mask" in self.model_input_names
            if return_attention_mask is None
            else return_attention_mask,
            "special_tokens_mask": return_special_tokens_mask,
            "offset_mapping": return_offsets_mapping,
            "length": return_length,
        }
        flat, sample_map = encodings, None
        if return_overflowing_tokens:
            flat, sample_map = [], []
            for i, encoding in enumerate(encodings):
                for e in [encoding, *encoding.overflowing]:
                    flat.append(e)
                    sample_map.append(i)
        data = {k: _COLUMNS[k](flat) for k in _ENCODE_KEYS if wanted[k]}
        if sample_map is not None:
            data["overflow_to_sample_mapping"] = sample_map
        for ids in data["input_ids"]:
            self._warn_too_long(ids, max_length, verbose)
        return BatchEncoding(data, flat, tensor_type=return_tensors)

    def _warn_too_long(self, ids: list[int], max_length: int | None, verbose: bool) -> None:
        if max_length is None and len(ids) > self.model_max_length and verbose and self.model_max_length != 0:
            self._warn_once(
                "sequence-length-is-longer-than-the-specified-maximum",
                "Token indices sequence length is longer than the specified maximum sequence length for this "
                f"model ({len(ids)} > {self.model_max_length}). Running this sequence through the model will "
                "result in indexing errors",
                verbose,
            )

    def encode(
        self, text: Any, text_pair: Any = None, add_special_tokens: bool = True, **kwargs: Any
    ) -> list[int]:
        """Text -> ids (special tokens added by default).

        >>> tok.encode("Hello world")  # doctest: +SKIP
        [101, 7592, 2088, 102]
        """
        return self.encode_plus(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)["input_ids"]

    def tokenize(
        self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs
    ) -> list[str]:
        """Text -> token strings (no special tokens by default)."""
        return self.encode_plus(text, pair, add_special_tokens=add_special_tokens, **kwargs).tokens()

    # ----------------------------------------------------------------------------------------------------------
    # decoding

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Join token strings with the backend decoder (spaces when there is none)."""
        decoder = self._tokenizer.decoder
        return decoder.decode(tokens) if decoder is not None else " ".join(tokens)

    def decode(
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> str:
        """Ids (list, tensor or array) -> text.

        >>> tok.decode([101, 7592, 102], skip_special_tokens=True)  # doctest: +SKIP
        'hello'
        """
        token_ids = to_py(token_ids)
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        bad = next((i for i, t in enumerate(token_ids) if not isinstance(t, int) or t < 0), None)
        if bad is not None:
            raise ValueError(
                f"decode() takes a flat list of non-negative token ids; got {token_ids[bad]!r} at position {bad}"
                + (
                    " (replace -100 label padding with tokenizer.pad_token_id first)"
                    if token_ids[bad] == -100
                    else ""
                )
                + (" (use batch_decode for a batch)" if isinstance(token_ids[bad], list) else "")
            )
        text = self._tokenizer.decode(token_ids, skip_special_tokens=skip_special_tokens)
        if "clip_decode" in self.class_fixups:
            # CLIPTokenizerFast wraps the backend's decode: word ends ("</w>") become spaces, then strip
            suffix = getattr(self._tokenizer.model, "end_of_word_suffix", None)
            text = text.replace(suffix, " ").strip() if suffix else text
        clean = (
            self.clean_up_tokenization_spaces
            if clean_up_tokenization_spaces is None
            else clean_up_tokenization_spaces
        )
        return self.clean_up_tokenization(text) if clean else text

    def batch_decode(
        self,
        sequences: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Decode each sequence of a batch."""
        return [
            self.decode(s, skip_special_tokens, clean_up_tokenization_spaces, **kwargs) for s in sequences
        ]

    @staticmethod
    def clean_up_tokenization(out_string: str) -> str:
        """Remove spaces before punctuation and in English contractions (``" ." -> "."``)."""
        for a, b in (
            (" .", "."),
            (" ?", "?"),
            (" !", "!"),
            (" ,", ","),
            (" ' ", "'"),
            (" n't", "n't"),
            (" 'm", "'m"),
            (" 's", "'s"),
            (" 've", "'ve"),
            (" 're", "'re"),
        ):
            out_string = out_string.replace(a, b)
        return out_string

    def get_special_tokens_mask(
        self,
        token_ids_0: list[int],
        token_ids_1: list[int] | None = None,
        already_has_special_tokens: bool = False,
    ) -> list[int]:
        """1 for special-token ids in an already encoded sequence, else 0."""
        if not already_has_special_tokens or token_ids_1 is not None:
            raise ValueError(
                "get_special_tokens_mask only supports already_has_special_tokens=True with one sequence; "
                "pass return_special_tokens_mask=True when encoding instead"
            )
        special = set(self.all_special_ids)
        return [1 if t in special else 0 for t in token_ids_0]

    # ----------------------------------------------------------------------------------------------------------
    # loading, saving, chat templates (implemented in auto.py and chat_template.py)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *init_inputs, **kwargs):
        """Load a tokenizer folder (tokenizer.json + tokenizer_config.json) as this generic class.

        >>> tok = PreTrainedTokenizer.from_pretrained("path/to/model")  # doctest: +SKIP
        """
        from .auto import load_tokenizer

        return load_tokenizer(
            pretrained_model_name_or_path, tokenizer_class=cls.tokenizer_class_name, **kwargs
        )

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> tuple[str, ...]:
        """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json (+ chat_template.jinja).

        >>> tok.save_pretrained("out/")  # doctest: +SKIP
        """
        from .saving import save_tokenizer

        return save_tokenizer(self, save_directory, **kwargs)

    def train_new_from_iterator(
        self,
        text_iterator: Any,
        vocab_size: int,
        length: int | None = None,
        new_special_tokens: list | None = None,
        special_tokens_map: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> PreTrainedTokenizer:
        """A tokenizer with the same pipeline and special tokens, its vocabulary trained on new text.

        >>> new = tok.train_new_from_iterator([["some text", "more text"]], vocab_size=300)  # doctest: +SKIP
        """
        from .retrain import train_new_from_iterator

        return train_new_from_iterator(
            self, text_iterator, vocab_size, length, new_special_tokens, special_tokens_map, **kwargs
        )

    def apply_chat_template(self, conversation: list, tools: list | None = None, **kwargs: Any) -> Any:
        """Render a conversation with the tokenizer's Jinja chat template (and tokenize it by default).

        >>> tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False)  # doctest: +SKIP
        """
        from .chat_template import apply_chat_template

        return apply_chat_template(self, conversation, tools=tools, **kwargs)

    def encode_message_with_chat_template(
        self, message: dict[str, Any], conversation_history: list[dict[str, Any]] | None = None, **kwargs: Any
    ) -> list[int]:
        """The ids one message adds to ``conversation_history`` under the chat template (for streaming a chat
        message by message), found as the reference finds them: the rendered conversation's ids after the first
        place where they differ from the history's.

        >>> tok.encode_message_with_chat_template({"role": "user", "content": "Hi"})  # doctest: +SKIP
        """
        if "add_generation_prompt" in kwargs:
            raise ValueError(
                "encode_message_with_chat_template does not take add_generation_prompt; add the generation prompt "
                "separately"
            )
        if not conversation_history:
            return self.apply_chat_template([message], add_generation_prompt=False, tokenize=True, **kwargs)
        kwargs.update(add_generation_prompt=False, tokenize=True)
        tokens = self.apply_chat_template([*conversation_history, message], **kwargs)
        prefix = self.apply_chat_template(conversation_history, **kwargs)
        n = min(len(prefix), len(tokens))
        split = next((i for i in range(n) if prefix[i] != tokens[i]), n)
        return tokens[split:]

    def get_chat_template(self, chat_template: str | None = None, tools: list | None = None) -> str:
        """The template text: ``chat_template`` itself, a named template, or the tokenizer's default."""
        from .chat_template import get_chat_template

        return get_chat_template(self, chat_template, tools)


PreTrainedTokenizerFast = PreTrainedTokenizer
