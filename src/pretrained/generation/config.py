"""``GenerationConfig``: how ``generate`` decodes, read from and written to ``generation_config.json``.

Field names and defaults are the reference library's, so its files load unchanged and ours load there.

>>> cfg = GenerationConfig(max_new_tokens=8, do_sample=True, top_p=0.9)
>>> cfg.max_new_tokens, cfg.top_k, cfg.get_generation_mode().value
(8, 50, 'sample')
"""

from __future__ import annotations

import copy
import enum
import json
import logging
import os
from pathlib import Path
from typing import Any

from ..config import read_json, write_text_atomic

log = logging.getLogger(__name__)

GENERATION_CONFIG_NAME = "generation_config.json"
FORMAT_VERSION = "4.57.6"  # the reference version whose file format we read and write

# field -> default, in the reference's order
DEFAULTS: dict[str, Any] = {
    # length
    "max_length": 20,
    "max_new_tokens": None,
    "min_length": 0,
    "min_new_tokens": None,
    "early_stopping": False,
    "max_time": None,
    "stop_strings": None,
    # strategy
    "do_sample": False,
    "num_beams": 1,
    # cache
    "use_cache": True,
    "cache_implementation": None,
    "cache_config": None,
    "return_legacy_cache": None,
    "prefill_chunk_size": None,
    # logits manipulation
    "temperature": 1.0,
    "top_k": 50,
    "top_p": 1.0,
    "min_p": None,
    "typical_p": 1.0,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "length_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "bad_words_ids": None,
    "renormalize_logits": False,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "remove_invalid_values": False,
    "exponential_decay_length_penalty": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "sequence_bias": None,
    "token_healing": False,
    "guidance_scale": None,
    "watermarking_config": None,
    # outputs
    "num_return_sequences": 1,
    "output_attentions": False,
    "output_hidden_states": False,
    "output_scores": False,
    "output_logits": None,
    "return_dict_in_generate": False,
    # special tokens
    "pad_token_id": None,
    "bos_token_id": None,
    "eos_token_id": None,
    "encoder_no_repeat_ngram_size": 0,
    "decoder_start_token_id": None,
    # assisted generation (kept for file round-trips; not implemented here)
    "is_assistant": False,
    "num_assistant_tokens": 20,
    "num_assistant_tokens_schedule": "constant",
    "assistant_confidence_threshold": 0.4,
    "prompt_lookup_num_tokens": None,
    "max_matching_ngram_size": None,
    "assistant_early_exit": None,
    "assistant_lookbehind": 10,
    "target_lookbehind": 10,
    # performance
    "compile_config": None,
    "disable_compile": False,
    # deprecated in the reference (moved to its hub); kept so files round-trip
    "low_memory": None,
    "penalty_alpha": None,
    "dola_layers": None,
    "diversity_penalty": 0.0,
    "num_beam_groups": 1,
    "constraints": None,
    "force_words_ids": None,
}
# the reference's accepted values (generate runs with our own preallocated cache whichever is named)
CACHE_IMPLEMENTATIONS = (
    "static", "offloaded_static", "sliding_window", "hybrid", "hybrid_chunked", "offloaded_hybrid",
    "offloaded_hybrid_chunked", "dynamic", "dynamic_full", "offloaded", "quantized",
)  # fmt: skip
_LOGGED_ISSUES: set[tuple[str, ...]] = set()  # minor-issue sets already logged (once each, as the reference)
_METADATA = ("_from_model_config", "_commit_hash", "_original_object_hash", "transformers_version")
_OUTPUT_FLAGS = ("output_attentions", "output_hidden_states", "output_scores", "output_logits")
_GENERATE_ARGUMENTS = ("logits_processor", "stopping_criteria", "prefix_allowed_tokens_fn", "streamer")
# options that select a decoding method we do not implement, with what to use instead
_UNSUPPORTED = {
    "penalty_alpha": "contrastive search is not implemented",
    "dola_layers": "DoLa decoding is not implemented",
    "constraints": "constrained beam search is not implemented",
    "force_words_ids": "constrained beam search is not implemented",
    "prompt_lookup_num_tokens": "prompt-lookup (assisted) decoding is not implemented",
    "assistant_early_exit": "assisted decoding is not implemented",
    "watermarking_config": "watermarking is not implemented",
}


class GenerationMode(enum.StrEnum):
    """The decoding methods ``generate`` runs (the reference's names; members compare equal to their strings)."""

    GREEDY_SEARCH = "greedy_search"
    SAMPLE = "sample"
    BEAM_SEARCH = "beam_search"
    BEAM_SAMPLE = "beam_sample"


class GenerationConfig:
    """Decoding parameters for ``generate``: every field of the reference's ``GenerationConfig``, same defaults.

    Unknown keys are kept as attributes (and saved back), as the reference does.

    >>> cfg = GenerationConfig.from_dict({"num_beams": 4, "early_stopping": True})
    >>> cfg.num_beams, cfg.get_generation_mode() == "beam_search"
    (4, True)
    >>> GenerationConfig(top_p=0.5).to_diff_dict()["top_p"]
    0.5
    """

    def __init__(self, **kwargs: Any) -> None:
        for key, default in DEFAULTS.items():
            setattr(self, key, kwargs.pop(key, copy.deepcopy(default)))
        self._from_model_config = kwargs.pop("_from_model_config", False)
        self._commit_hash = kwargs.pop("_commit_hash", None)
        self.transformers_version = kwargs.pop("transformers_version", FORMAT_VERSION)
        if not self._from_model_config:  # a model config's other fields are not generation fields
            for key, value in kwargs.items():
                setattr(self, key, value)
        self.validate()

    # -- validation -----------------------------------------------------------------------------------
    def validate(self, strict: bool = False) -> None:
        """Raise ``ValueError`` on values no decoding can use (the reference's hard errors, plus ours). Settings that
        have no effect (``temperature`` without sampling, ``length_penalty`` without beams...) are logged, or
        raise with ``strict=True`` (what ``save_pretrained`` asks, as the reference: such files are refused)."""
        self._validate_values()
        issues = self.minor_issues()
        if issues and strict:
            listing = "\n".join(f"- `{k}`: {v}" for k, v in issues.items())
            raise ValueError(
                f"GenerationConfig is invalid: \n{listing}\nFix these issues to save the configuration."
            )
        if issues:
            key = tuple(sorted(issues))
            if key not in _LOGGED_ISSUES:
                _LOGGED_ISSUES.add(key)
                log.warning("The following generation flags are not valid and may be ignored: %s", list(key))

    def minor_issues(self) -> dict[str, str]:
        """{field: why it has no effect}: the reference's "minor issues" (warnings, or errors when saving)."""
        issues: dict[str, str] = {}
        if self.pad_token_id is not None and isinstance(self.pad_token_id, int) and self.pad_token_id < 0:
            issues["pad_token_id"] = f"`pad_token_id` should be positive but got {self.pad_token_id}"
        if self.do_sample is False:
            unused = {
                "temperature": self.temperature is not None and self.temperature != 1.0,
                "top_p": self.top_p is not None and self.top_p != 1.0,
                "min_p": self.min_p is not None,
                "typical_p": self.typical_p is not None and self.typical_p != 1.0,
                "top_k": self.top_k is not None and self.top_k != 50,
                "epsilon_cutoff": self.epsilon_cutoff is not None and self.epsilon_cutoff != 0.0,
                "eta_cutoff": self.eta_cutoff is not None and self.eta_cutoff != 0.0,
            }
            for name in (k for k, bad in unused.items() if bad):
                issues[name] = (
                    f"`do_sample` is set to `False`. However, `{name}` is set to `{getattr(self, name)}` -- this flag "
                    f"is only used in sample-based generation modes. You should set `do_sample=True` or unset `{name}`."
                )
        if self.num_beams == 1:
            unused = {
                "early_stopping": self.early_stopping is not False,
                "length_penalty": self.length_penalty is not None and self.length_penalty != 1.0,
            }
            for name in (k for k, bad in unused.items() if bad):
                issues[name] = (
                    f"`num_beams` is set to 1. However, `{name}` is set to `{getattr(self, name)}` -- this flag is "
                    f"only used in beam-based generation modes. You should set `num_beams>1` or unset `{name}`."
                )
        if self.use_cache is False:
            for name in ("cache_implementation", "cache_config", "return_legacy_cache"):
                if getattr(self, name) is not None:
                    issues[name] = f"`use_cache` is False, so `{name}` has no effect"
        if self.return_dict_in_generate is not True:
            for name in _OUTPUT_FLAGS:
                if getattr(self, name) is True:
                    issues[name] = f"`return_dict_in_generate` is not True, so `{name}` is ignored"
        return issues

    def _validate_values(self) -> None:
        if self.early_stopping not in (True, False, "never"):
            raise ValueError(f"early_stopping must be True, False or 'never', got {self.early_stopping!r}")
        if self.max_new_tokens is not None and self.max_new_tokens <= 0:
            raise ValueError(f"`max_new_tokens` must be greater than 0, but is {self.max_new_tokens}.")
        if not isinstance(self.num_beams, int) or self.num_beams < 1:
            raise ValueError(f"num_beams must be a positive integer, got {self.num_beams!r}")
        if self.num_return_sequences != 1:
            if self.num_beams == 1 and not self.do_sample:
                raise ValueError(
                    "Greedy methods without beam search do not support `num_return_sequences` different than 1 "
                    f"(got {self.num_return_sequences}); set do_sample=True or num_beams>1."
                )
            if self.num_beams > 1 and self.num_return_sequences > self.num_beams:
                raise ValueError(
                    f"`num_return_sequences` ({self.num_return_sequences}) has to be smaller or equal to "
                    f"`num_beams` ({self.num_beams})."
                )
        if self.cache_implementation is not None and self.cache_implementation not in CACHE_IMPLEMENTATIONS:
            raise ValueError(
                f"cache_implementation={self.cache_implementation!r}: choose one of {CACHE_IMPLEMENTATIONS} (all "
                "run with our preallocated cache), or leave it unset"
            )
        for arg in _GENERATE_ARGUMENTS:
            if hasattr(self, arg):
                raise ValueError(f"`{arg}` is an argument of generate(), not a GenerationConfig field")

    def validate_sampling(self) -> None:
        """Checks on the sampling parameters, run by ``generate`` when ``do_sample=True``: the reference's, for the
        warpers it builds (a temperature of 1.0, top_p >= 1, top_k 0 build none and are not checked)."""
        t = self.temperature
        if t is not None and t != 1.0:
            from .warpers import check_temperature

            check_temperature(t)
        p = self.top_p
        if p is not None and p < 1.0 and not 0 <= float(p):
            raise ValueError(f"top_p={p!r}: it must be in [0, 1]")
        k = self.top_k
        if k is not None and k != 0 and (isinstance(k, bool) or not isinstance(k, int) or k < 0):
            raise ValueError(f"top_k={k!r}: it must be a non-negative integer (0 disables it)")
        if self.min_p is not None and not (0 <= self.min_p <= 1):
            raise ValueError(f"min_p={self.min_p!r}: it must be in [0, 1]")
        if self.typical_p is not None and self.typical_p < 1.0 and not (0 < self.typical_p):
            raise ValueError(f"typical_p={self.typical_p!r}: it must be in (0, 1]")

    def check_supported(self) -> None:
        """Raise ``NotImplementedError`` for options that select a decoding method we do not have."""
        defaults = DEFAULTS
        for key, why in _UNSUPPORTED.items():
            if getattr(self, key, None) not in (None, defaults[key]):
                raise NotImplementedError(f"{key}={getattr(self, key)!r}: {why}")
        if self.num_beam_groups > 1:  # diversity_penalty alone is ignored, as the reference ignores it
            raise NotImplementedError("group (diverse) beam search is not implemented")
        if self.token_healing:
            raise NotImplementedError("token_healing=True: token healing is not implemented")
        if self.low_memory and self.num_beams > 1:
            raise ValueError(
                "low_memory=True: sequential beam search is not supported (nor is it by the reference)"
            )
        if self.max_time is not None and not isinstance(self.max_time, int | float):
            raise ValueError(f"max_time={self.max_time!r}: it must be a number of seconds")

    def get_generation_mode(self, assistant_model: Any = None) -> GenerationMode:
        """``GenerationMode.GREEDY_SEARCH``, ``SAMPLE``, ``BEAM_SEARCH`` or ``BEAM_SAMPLE`` (strings too:
        ``== "beam_search"`` holds), as the reference names them."""
        if assistant_model is not None:
            raise NotImplementedError("assisted generation (assistant_model) is not implemented")
        if self.num_beams == 1:
            return GenerationMode.SAMPLE if self.do_sample is True else GenerationMode.GREEDY_SEARCH
        return GenerationMode.BEAM_SAMPLE if self.do_sample is True else GenerationMode.BEAM_SEARCH

    # -- dict / json ----------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], **kwargs: Any) -> Any:
        """Build from a ``generation_config.json`` dict; ``kwargs`` override fields. With
        ``return_unused_kwargs=True`` returns ``(config, kwargs that are not fields)``."""
        return_unused = kwargs.pop("return_unused_kwargs", False)
        for key in ("_from_auto", "_from_pipeline"):
            kwargs.pop(key, None)
        config = cls(**{**data, **kwargs})
        unused = config.update(**kwargs)
        return (config, unused) if return_unused else config

    def to_dict(self) -> dict[str, Any]:
        """Every field (metadata included), as the reference serializes it."""
        out = {
            k: copy.deepcopy(v) for k, v in vars(self).items() if k not in ("_commit_hash", "compile_config")
        }
        out.pop("_original_object_hash", None)
        out["transformers_version"] = FORMAT_VERSION
        return out

    def to_diff_dict(self) -> dict[str, Any]:
        """Only the fields that differ from ``GenerationConfig()`` (plus the format version)."""
        default = GenerationConfig().to_dict()
        return {
            k: v
            for k, v in self.to_dict().items()
            if k not in default or k == "transformers_version" or v != default[k]
        }

    def to_json_string(self, use_diff: bool = True, ignore_metadata: bool = False) -> str:
        data = self.to_diff_dict() if use_diff else self.to_dict()
        if ignore_metadata:
            for key in _METADATA:
                data.pop(key, None)
        return json.dumps(_str_keys(data), indent=2, sort_keys=True) + "\n"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GenerationConfig):
            return False
        mine = self.to_json_string(use_diff=False, ignore_metadata=True)
        return mine == other.to_json_string(use_diff=False, ignore_metadata=True)

    def __hash__(self) -> int:
        return hash(self.to_json_string(ignore_metadata=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string(ignore_metadata=True)}"

    def update(self, **kwargs: Any) -> dict[str, Any]:
        """Set the given fields that exist; returns the unused ones (model inputs, or typos)."""
        used = [k for k in kwargs if hasattr(self, k) and not k.startswith("_")]
        for key in used:
            setattr(self, key, kwargs[key])
        self.validate()
        return {k: v for k, v in kwargs.items() if k not in used}

    # -- files ----------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        config_file_name: str | None = None,
        *,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> GenerationConfig:
        """Read ``generation_config.json`` from a folder or a cached repo id; ``kwargs`` override fields.

        >>> GenerationConfig.from_pretrained("path/to/gpt2").eos_token_id  # doctest: +SKIP
        50256
        """
        from ..hub import resolve_file

        name = config_file_name or GENERATION_CONFIG_NAME
        if Path(name_or_path, name).is_file():
            path = Path(name_or_path, name)
        else:
            path = resolve_file(name_or_path, name, revision=revision, cache_dir=cache_dir)
        data = read_json(path)
        try:
            loaded = cls.from_dict(data, **kwargs)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        config = loaded[0] if isinstance(loaded, tuple) else loaded
        config._original_object_hash = hash(config)
        return loaded

    def save_pretrained(self, save_directory: str | os.PathLike, config_file_name: str | None = None) -> Path:
        """Write the non-default fields to ``generation_config.json`` in ``save_directory``; returns its path.
        Settings that would have no effect are refused (``validate(strict=True)``), as the reference refuses them."""
        self.validate(strict=True)
        folder = Path(save_directory)
        if folder.is_file():
            raise ValueError(f"save_directory {folder} is a file; pass a folder")
        folder.mkdir(parents=True, exist_ok=True)
        return write_text_atomic(folder / (config_file_name or GENERATION_CONFIG_NAME), self.to_json_string())

    @classmethod
    def from_model_config(cls, model_config: Any) -> GenerationConfig:
        """The generation fields of a model config (``eos_token_id``, ``decoder_start_token_id``, legacy
        ``num_beams``...), as the reference derives a model's default generation config.

        >>> from pretrained.config import PretrainedConfig
        >>> GenerationConfig.from_model_config(PretrainedConfig(eos_token_id=2, num_beams=3)).num_beams
        3
        """
        data = {k: v for k, v in model_config.to_dict().items() if v is not None}
        data.pop("_from_model_config", None)
        config = cls.from_dict(data, _from_model_config=True)
        if not config.return_dict_in_generate and any(getattr(config, f) for f in _OUTPUT_FLAGS):
            config.return_dict_in_generate = True
        config._original_object_hash = hash(config)
        return config


def _str_keys(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _str_keys(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_str_keys(v) for v in obj]
    return obj
