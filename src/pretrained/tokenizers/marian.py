"""``MarianTokenizer``: the Helsinki-NLP opus-mt tokenizer (two SentencePiece models, one ``vocab.json``).

A Marian checkpoint ships ``source.spm`` and ``target.spm`` (SentencePiece unigram models), ``vocab.json``
(pieces of both -> model ids) and no ``tokenizer.json``; transformers only has a slow, sentencepiece-based
class for it. We rebuild it on our engine: each ``.spm`` becomes a :class:`~.models.Unigram` with the
SentencePiece normalization (:mod:`.sentencepiece_unigram`), its pieces are looked up in ``vocab.json`` (``<unk>``
when missing), a language code such as ``>>fr<<`` at the start of a text is kept whole, and ``</s>`` is appended.
Sources use ``source.spm``; ``text_target=`` (and decoding) use ``target.spm``.

>>> tok = MarianTokenizer.from_pretrained("Helsinki-NLP/opus-mt-en-de")  # doctest: +SKIP
>>> batch = tok(["I am a small frog."], text_target=["Ich bin ein kleiner Frosch."], return_tensors="pt")  # doctest: +SKIP
>>> tok.batch_decode(batch["labels"], skip_special_tokens=True)  # doctest: +SKIP
['Ich bin ein kleiner Frosch.']
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .batch_encoding import to_py
from .encoding import Encoding
from .legacy import SPIECE_UNDERLINE, template_processing
from .normalized import NormalizedString
from .pretokenized import into_encoding
from .sentencepiece_unigram import SentencePieceUnigram, VocabModel
from .tokenization import SPECIAL_TOKENS_MAP_FILE, TOKENIZER_CONFIG_FILE, PreTrainedTokenizer
from .tokenizer import Tokenizer, _check_utf8

log = logging.getLogger(__name__)

VOCAB_FILES_NAMES = {
    "source_spm": "source.spm",
    "target_spm": "target.spm",
    "vocab": "vocab.json",
    "target_vocab_file": "target_vocab.json",
}
ADDED_TOKENS_FILE = "added_tokens.json"


class MarianBackend(Tokenizer):
    """The engine of :class:`MarianTokenizer`: added tokens split first, then per piece of text a language
    code (``>>fr<<``) at its start, then SentencePiece; ``</s>`` appended by the post-processor."""

    def __init__(self, source: SentencePieceUnigram, target: SentencePieceUnigram, models: list[VocabModel]):
        super().__init__(models[0])
        self.spms, self.models = (source, target), models
        self.current = source
        self.special_ids: set[int] = set()  # marked in special_tokens_mask wherever they occur, as Marian

    def set_mode(self, target: bool) -> None:
        """Encode with the target ``.spm`` (and the target vocabulary when the vocabularies are separate)."""
        self.current = self.spms[target]
        self._model = self.models[target]

    def _encode_text(self, text: str, type_id: int, word_idx: int | None) -> Encoding:
        if not text.isascii():
            _check_utf8(text)
        pts = self._added.extract_and_normalize(None, text)
        pts.split(lambda _, ns: self._split_language_code(ns))
        pts.normalize(self.current.normalizer.normalize)
        enc = into_encoding(pts, self._model._tokenize, type_id, word_idx)
        if self.special_ids:
            enc.special_tokens_mask = [int(i in self.special_ids) for i in enc.ids]
        return enc

    def post_process(self, encoding: Encoding, pair: Encoding | None = None, add_special_tokens: bool = True):
        """As a Python tokenizer: a sequence that truncation would remove entirely stays whole (logged)."""
        params = self._truncation
        if not params:
            return super().post_process(encoding, pair, add_special_tokens)
        extra = self.num_special_tokens_to_add(pair is not None) if add_special_tokens else 0
        remove = len(encoding) + (len(pair) if pair is not None else 0) + extra - params["max_length"]
        strategy = params["strategy"]
        if strategy == "only_second":
            victim = pair
        elif pair is None or strategy == "only_first":
            victim = encoding
        else:
            victim = None  # longest_first over a pair removes from both, one token at a time
        if remove <= 0 or victim is None or len(victim) > remove:
            return super().post_process(encoding, pair, add_special_tokens)
        log.error(
            "We need to remove %d tokens to truncate the input but the sequence has only %d; left untruncated "
            "(as transformers' MarianTokenizer). Raise max_length or choose another truncation strategy.",
            remove,
            len(victim),
        )
        self._truncation = None
        try:
            return super().post_process(encoding, pair, add_special_tokens)
        finally:
            self._truncation = params

    def _split_language_code(self, ns: NormalizedString) -> list[Any]:
        """``>>xx<<...`` -> the code as one token, then the rest (transformers' ``remove_language_code``)."""
        text = ns.normalized
        end = text.find("<<")
        if not text.startswith(">>") or end == -1:
            return [ns]
        code = text[: end + 2]
        tid = self.token_to_id(code)
        tid = self._model.unk_id if tid is None else tid
        return [(ns.slice(0, end + 2), [(tid, code, (0, len(code)))]), ns.slice(end + 2, len(text))]


def _load_vocab(path: str | os.PathLike, name: str) -> dict[str, int]:
    try:
        with open(path, encoding="utf-8") as f:
            vocab = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path}: {name} is not valid JSON ({e}); the file is corrupt or truncated"
        ) from None
    if not isinstance(vocab, dict) or not all(isinstance(i, int) and i >= 0 for i in vocab.values()):
        raise ValueError(f"{path}: {name} must be a JSON object mapping pieces to non-negative integer ids")
    return vocab


class MarianTokenizer(PreTrainedTokenizer):
    """The opus-mt tokenizer: ``source.spm`` for sources, ``target.spm`` for targets, ids from ``vocab.json``.

    Same ids, masks, labels and decoded text as transformers' (slow) ``MarianTokenizer``.

    >>> tok = MarianTokenizer.from_pretrained("Helsinki-NLP/opus-mt-en-ROMANCE")  # doctest: +SKIP
    >>> tok(">>fr<< Hello world", text_target="Bonjour le monde")  # doctest: +SKIP
    {'input_ids': [...], 'attention_mask': [...], 'labels': [...]}
    """

    model_input_names = ["input_ids", "attention_mask"]
    tokenizer_class_name = "MarianTokenizer"
    vocab_files_names = VOCAB_FILES_NAMES

    def __init__(
        self,
        source_spm: str | os.PathLike,
        target_spm: str | os.PathLike,
        vocab: str | os.PathLike,
        target_vocab_file: str | os.PathLike | None = None,
        source_lang: str | None = None,
        target_lang: str | None = None,
        unk_token: Any = "<unk>",
        eos_token: Any = "</s>",
        pad_token: Any = "<pad>",
        model_max_length: int = 512,
        sp_model_kwargs: dict[str, Any] | None = None,
        separate_vocabs: bool = False,
        **kwargs: Any,
    ) -> None:
        sp_model_kwargs = {} if sp_model_kwargs is None else sp_model_kwargs
        if sp_model_kwargs.get("enable_sampling"):
            raise NotImplementedError(
                "sp_model_kwargs enable_sampling (subword regularization) is not supported"
            )
        if eos_token is None:
            raise ValueError("MarianTokenizer needs an eos_token: it ends every sequence")
        self.spm_files = [str(source_spm), str(target_spm)]
        self.encoder = _load_vocab(vocab, "vocab.json")
        self.target_encoder = self.encoder
        if separate_vocabs:
            if target_vocab_file is None:
                raise ValueError("separate_vocabs=True needs target_vocab_file (the target_vocab.json)")
            self.target_encoder = _load_vocab(target_vocab_file, "target_vocab.json")
        for name, token, table in (("unk", unk_token, self.encoder), ("pad", pad_token, self.encoder),
                                   ("unk", unk_token, self.target_encoder)):  # fmt: skip
            if str(token) not in table:
                raise ValueError(
                    f"the {name}_token {str(token)!r} is not in {vocab}; pass {name}_token= one it holds"
                )
        self._decoder = {i: t for t, i in self.target_encoder.items()}
        self.supported_language_codes = (
            [] if separate_vocabs else [k for k in self.encoder if k.startswith(">>") and k.endswith("<<")]
        )
        source, target = SentencePieceUnigram(source_spm), SentencePieceUnigram(target_spm)
        unk = str(unk_token)
        models = [VocabModel(source.model, self.encoder, self.encoder[unk])]
        models.append(VocabModel(target.model, self.target_encoder, self.target_encoder[unk]))
        self._tokenizer = MarianBackend(source, target, models)
        self.source_lang, self.target_lang, self.separate_vocabs = source_lang, target_lang, separate_vocabs
        self.sp_model_kwargs = sp_model_kwargs
        self._in_target_context_manager = False
        self._decode_use_source_tokenizer = False
        self.add_prefix_space = False
        added_tokens_decoder = kwargs.pop("added_tokens_decoder", {})
        kwargs.update(
            source_lang=source_lang, target_lang=target_lang, unk_token=unk_token, eos_token=eos_token,
            pad_token=pad_token, model_max_length=model_max_length, sp_model_kwargs=sp_model_kwargs,
            target_vocab_file=target_vocab_file, separate_vocabs=separate_vocabs,
        )  # fmt: skip
        self._init_base(kwargs)
        self._add_init_tokens(added_tokens_decoder)
        self._add_bos_token = self._add_eos_token = False
        eos = (self.eos_token, self.eos_token_id)
        self._set_component("post_processor", template_processing("$A:0 </s>:0", "$A:0 $B:0 </s>:0", [eos]))

    # ----------------------------------------------------------------------------------------------------------
    # source / target

    def _switch_to_input_mode(self) -> None:
        self._tokenizer.set_mode(target=False)

    def _switch_to_target_mode(self) -> None:
        self._tokenizer.set_mode(target=True)

    @contextlib.contextmanager
    def as_target_tokenizer(self) -> Iterator[None]:
        """Encode targets inside the block (deprecated in transformers: pass ``text_target=`` instead).

        >>> with tok.as_target_tokenizer():  # doctest: +SKIP
        ...     labels = tok(["Bonjour"])["input_ids"]
        """
        log.warning(
            "`as_target_tokenizer` is deprecated; pass the targets as `text_target=` when calling the tokenizer"
        )
        self._switch_to_target_mode()
        self._in_target_context_manager = True
        try:
            yield
        finally:
            self._in_target_context_manager = False
            self._switch_to_input_mode()

    def __call__(
        self,
        text: Any = None,
        text_pair: Any = None,
        text_target: Any = None,
        text_pair_target: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Encode sources with ``source.spm`` and ``text_target=`` with ``target.spm`` (returned as ``labels``).

        >>> tok(["Hello"], text_target=["Bonjour"], padding=True)  # doctest: +SKIP
        """
        if text is None and text_target is None:
            raise ValueError("You need to specify either `text` or `text_target`.")
        encodings = target = None
        try:
            if text is not None:
                if not self._in_target_context_manager:
                    self._switch_to_input_mode()
                encodings = self._call_one(text, text_pair, **kwargs)
            if text_target is not None:
                self._switch_to_target_mode()
                target = self._call_one(text_target, text_pair_target, **kwargs)
        finally:
            self._switch_to_input_mode()  # as transformers: back to input mode after every call
        if target is None:
            return encodings
        if encodings is None:
            return target
        encodings["labels"] = target["input_ids"]
        return encodings

    def batch_encode_plus(self, batch_text_or_text_pairs: list, **kwargs: Any) -> Any:
        """Encode a batch; ``special_tokens_mask`` marks every special token but ``<unk>``, as Marian does."""
        self._tokenizer.special_ids = set(self.all_special_ids) - {self.unk_token_id}
        return_tensors = kwargs.pop("return_tensors", None)
        out = super().batch_encode_plus(batch_text_or_text_pairs, **kwargs)
        if "length" in out:  # counted before padding, as a Python tokenizer does
            out["length"] = [sum(e.attention_mask) for e in out.encodings]
        return out.convert_to_tensors(return_tensors)

    # ----------------------------------------------------------------------------------------------------------
    # vocabulary

    @property
    def is_fast(self) -> bool:
        """False, as transformers' MarianTokenizer (a Python tokenizer there; ours runs on our engine)."""
        return False

    @property
    def decoder(self) -> dict[int, str]:
        """Id -> piece of the target vocabulary (what decoding reads)."""
        return self._decoder

    def _add_tokens(self, new_tokens: list, special_tokens: bool = False) -> int:
        size = len(self)
        super()._add_tokens(new_tokens, special_tokens)
        return len(self) - size  # tokens already in vocab.json are added but not counted, as transformers

    def get_src_vocab(self) -> dict[str, int]:
        return dict(self.encoder, **self.added_tokens_encoder)

    def get_tgt_vocab(self) -> dict[str, int]:
        return dict(self.target_encoder, **self.added_tokens_encoder)

    def convert_ids_to_tokens(self, ids: Any, skip_special_tokens: bool = False) -> str | list[str]:
        """Id(s) -> piece(s): added tokens first, then the target vocabulary; unknown ids -> ``unk_token``."""
        added = self.added_tokens_decoder
        if isinstance(ids, int):
            return added[ids].content if ids in added else self._decoder.get(ids, self.unk_token)
        skip = set(self.all_special_ids) if skip_special_tokens else set()
        return [
            added[i].content if i in added else self._decoder.get(i, self.unk_token)
            for i in map(int, to_py(ids))
            if i not in skip
        ]

    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None):
        """``ids + [eos]`` (a pair is concatenated first)."""
        return token_ids_0 + (token_ids_1 or []) + [self.eos_token_id]

    def get_special_tokens_mask(
        self,
        token_ids_0: list[int],
        token_ids_1: list[int] | None = None,
        already_has_special_tokens: bool = False,
    ) -> list[int]:
        """1 for special tokens except ``<unk>``; without ``already_has_special_tokens`` the ``</s>`` to come too."""
        special = set(self.all_special_ids) - {self.unk_token_id}
        mask = [int(t in special) for t in token_ids_0 + (token_ids_1 or [])]
        return mask if already_has_special_tokens else mask + [1]

    # ----------------------------------------------------------------------------------------------------------
    # decoding

    def decode(
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        spaces_between_special_tokens: bool = True,
        use_source_tokenizer: bool = False,
        **kwargs: Any,
    ) -> str:
        """Ids -> text with the target ``.spm`` (``use_source_tokenizer=True``: the source one).

        >>> tok.decode(batch["labels"][0], skip_special_tokens=True)  # doctest: +SKIP
        'Bonjour le monde'
        """
        ids = to_py(token_ids)
        ids = [ids] if isinstance(ids, int) else ids
        bad = next((t for t in ids if not isinstance(t, int) or t < 0), None)
        if bad is not None:
            hint = " (replace -100 label padding with tokenizer.pad_token_id first)" if bad == -100 else ""
            raise ValueError(f"decode() takes a flat list of non-negative token ids; got {bad!r}{hint}")
        self._decode_use_source_tokenizer = use_source_tokenizer
        tokens = self.convert_ids_to_tokens(ids, skip_special_tokens)
        text = self._join(tokens, skip_special_tokens, " " if spaces_between_special_tokens else "")
        clean = (
            self.clean_up_tokenization_spaces
            if clean_up_tokenization_spaces is None
            else clean_up_tokenization_spaces
        )
        return self.clean_up_tokenization(text) if clean else text

    def _join(self, tokens: list[str], skip_special_tokens: bool, sep: str) -> str:
        """transformers' slow ``_decode``: runs of pieces go through the spm; added tokens stand alone."""
        specials = set(self.all_special_tokens)
        alone = (set(self.added_tokens_encoder) - specials) | {
            t for t in self.additional_special_tokens if self.convert_tokens_to_ids(t) >= self.vocab_size
        }
        texts, run = [], []
        for token in tokens:
            if skip_special_tokens and token in specials:
                continue
            if token in alone:
                if run and (text := self.convert_tokens_to_string(run)):
                    texts.append(text)
                texts.append(token)
                run = []
            else:
                run.append(token)
        if run:
            texts.append(self.convert_tokens_to_string(run))
        return sep.join(texts)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Pieces -> text with the target spm; special tokens are kept verbatim, each followed by a space."""
        spm = self._tokenizer.spms[0 if self._decode_use_source_tokenizer else 1]
        specials = set(self.all_special_tokens)
        out, run = "", []
        for token in tokens:
            if token in specials:
                out += spm.decode_pieces(run) + token + " "
                run = []
            else:
                run.append(token)
        out += spm.decode_pieces(run)
        return out.replace(SPIECE_UNDERLINE, " ").strip()

    # ----------------------------------------------------------------------------------------------------------
    # loading and saving

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *init_inputs: Any,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        subfolder: str = "",
        **kwargs: Any,
    ) -> MarianTokenizer:
        """Load ``source.spm``, ``target.spm``, ``vocab.json`` and ``tokenizer_config.json`` from a folder or repo.

        >>> tok = MarianTokenizer.from_pretrained("path/to/opus-mt-en-de")  # doctest: +SKIP
        """
        from ..hub import resolve_dir
        from .auto import ADDED_TOKENS_FILE, _find, _read_json, _special_tokens

        for key in (
            "use_fast",
            "trust_remote_code",
            "token",
            "local_files_only",
            "force_download",
            "_from_auto",
        ):
            kwargs.pop(key, None)
        name = pretrained_model_name_or_path
        folder = resolve_dir(name, revision=revision, cache_dir=cache_dir) / subfolder
        where = {"revision": revision, "cache_dir": cache_dir, "subfolder": subfolder}
        paths = {key: _find(name, filename, **where) for key, filename in VOCAB_FILES_NAMES.items()}
        missing = [VOCAB_FILES_NAMES[k] for k in ("source_spm", "target_spm", "vocab") if paths[k] is None]
        if missing:
            raise FileNotFoundError(
                f"Can't load a MarianTokenizer from {str(name)!r}: {', '.join(missing)} not found in {folder}. "
                "A Marian (opus-mt) checkpoint ships source.spm, target.spm and vocab.json."
            )
        files = {
            "tokenizer_config_file": _find(name, TOKENIZER_CONFIG_FILE, **where),
            "special_tokens_map_file": _find(name, SPECIAL_TOKENS_MAP_FILE, **where),
            "added_tokens_file": _find(name, ADDED_TOKENS_FILE, **where),
        }
        init_kwargs = _read_json(files["tokenizer_config_file"]) or {}
        if not isinstance(init_kwargs, dict):
            raise ValueError(f"{files['tokenizer_config_file']}: expected a JSON object")
        for key in ("tokenizer_class", "init_inputs", "auto_map", "tokenizer_file"):
            init_kwargs.pop(key, None)
        init_kwargs.update(kwargs)
        _special_tokens(init_kwargs, kwargs, files, None)
        for key, path in paths.items():
            if init_kwargs.get(key) is None:
                init_kwargs[key] = None if path is None else str(path)
        init_kwargs["name_or_path"] = str(name)
        return cls(**init_kwargs)

    def save_pretrained(
        self, save_directory: str | os.PathLike, filename_prefix: str | None = None, **kwargs: Any
    ) -> tuple[str, ...]:
        """Write the files transformers' MarianTokenizer writes (config, special tokens map, vocab, both spm).

        >>> tok.save_pretrained("out/")  # doctest: +SKIP
        """
        from .saving import _save_chat_templates, _saved_token, _write_json
        from .special_tokens import added_token_state

        folder = Path(save_directory)
        if folder.is_file():
            raise NotADirectoryError(f"save_pretrained: {folder} is a file; pass a directory")
        folder.mkdir(parents=True, exist_ok=True)
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        config = dict(self.init_kwargs)
        for key in {*self.init_kwargs, "model_max_length", "clean_up_tokenization_spaces"}:
            if hasattr(self, key):
                config[key] = getattr(self, key)
        config.update(self.special_tokens_map)
        if "extra_special_tokens" not in config:
            config["extra_special_tokens"] = self.extra_special_tokens
            config.update(self.extra_special_tokens)
        written = _save_chat_templates(self, folder, config)
        for key in (*VOCAB_FILES_NAMES, "tokenizer_config_file", "name_or_path", "special_tokens_map_file",
                    "tokenizer_file", "device_map"):  # fmt: skip
            config.pop(key, None)
        config = _saved_token(config, type_field=True)
        config["added_tokens_decoder"] = {
            str(i): added_token_state(t) for i, t in self.added_tokens_decoder.items()
        }
        config["tokenizer_class"] = "MarianTokenizer"
        if self._processor_class is not None:
            config["processor_class"] = self._processor_class
        config_path, map_path = (
            folder / f"{prefix}{TOKENIZER_CONFIG_FILE}",
            folder / f"{prefix}{SPECIAL_TOKENS_MAP_FILE}",
        )
        _write_json(config_path, config)
        _write_json(map_path, _saved_token(self.special_tokens_map_extended, type_field=False))
        return (
            str(config_path),
            str(map_path),
            *written,
            *self.save_vocabulary(str(folder), filename_prefix),
        )

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """Write ``vocab.json`` (and ``target_vocab.json``), copy both ``.spm`` files, ``added_tokens.json``."""
        from .saving import _write_json

        folder, prefix = Path(save_directory), f"{filename_prefix}-" if filename_prefix else ""
        tables = {
            "vocab": self.encoder,
            **({"target_vocab_file": self.target_encoder} if self.separate_vocabs else {}),
        }
        written = []
        for key, table in tables.items():
            path = folder / f"{prefix}{VOCAB_FILES_NAMES[key]}"
            with open(path, "w", encoding="utf-8") as f:
                json.dump(table, f, indent=2)  # as transformers' save_json
            written.append(str(path))
        for key, source in zip(("source_spm", "target_spm"), self.spm_files):
            path = folder / f"{prefix}{VOCAB_FILES_NAMES[key]}"
            if not Path(source).is_file():
                raise FileNotFoundError(
                    f"save_pretrained: {source} (the {key} this tokenizer was loaded from) is gone"
                )
            if Path(source).resolve() != path.resolve():
                shutil.copyfile(source, path)
            written.append(str(path))
        added = {t: i for t, i in self.added_tokens_encoder.items() if i >= self.vocab_size}
        if added:
            path = folder / f"{prefix}{ADDED_TOKENS_FILE}"
            _write_json(path, added)
            written.append(str(path))
        return tuple(written)
