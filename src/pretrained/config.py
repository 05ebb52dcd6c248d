"""Model configuration: Hugging Face ``config.json`` field names, unknown keys kept and written back.

>>> from pretrained.config import PretrainedConfig
>>> cfg = PretrainedConfig(hidden_size=32, my_field=1)
>>> cfg.hidden_size, cfg.my_field, cfg.num_labels
(32, 1, 2)
"""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger(__name__)

CONFIG_NAME = "config.json"

# Fields every config has, with the reference library's defaults.
COMMON_DEFAULTS: dict[str, Any] = {
    "return_dict": True,
    "output_hidden_states": False,
    "output_attentions": False,
    "torch_dtype": None,
    "is_encoder_decoder": False,
    "is_decoder": False,
    "add_cross_attention": False,
    "tie_word_embeddings": True,
    "architectures": None,
    "problem_type": None,
    "pad_token_id": None,
    "bos_token_id": None,
    "eos_token_id": None,
    "sep_token_id": None,
    "decoder_start_token_id": None,
    "task_specific_params": None,
    "tokenizer_class": None,
    "prefix": None,
    "chunk_size_feed_forward": 0,
}
_PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")
# keys that describe the saved file, not the model; never written back as fields
_FILE_KEYS = ("transformers_version", "_name_or_path", "_commit_hash", "_attn_implementation_autoset")


class PretrainedConfig:
    """A model's configuration, readable by attribute with the reference library's field names.

    Subclasses set ``model_type``, ``defaults`` (field -> default) and ``attribute_map`` (alias -> field,
    e.g. GPT-2's ``n_embd`` for ``hidden_size``). Unknown keys are kept as attributes and saved back.

    >>> cfg = PretrainedConfig(id2label={"0": "NEG", "1": "POS"})
    >>> cfg.id2label, cfg.label2id
    ({0: 'NEG', 1: 'POS'}, {'NEG': 0, 'POS': 1})
    """

    model_type: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    attribute_map: ClassVar[dict[str, str]] = {}

    def __init__(self, **kwargs: Any) -> None:
        for key in _FILE_KEYS:
            kwargs.pop(key, None)
        kwargs.pop("model_type", None)
        attn_implementation = kwargs.pop("attn_implementation", kwargs.pop("_attn_implementation", None))
        if "dtype" in kwargs:  # transformers >= 4.56 writes "dtype" for "torch_dtype"
            kwargs.setdefault("torch_dtype", kwargs.pop("dtype"))
        values = {**COMMON_DEFAULTS, **copy.deepcopy(self.defaults)}
        for key, value in kwargs.items():
            values[self.attribute_map.get(key, key)] = value
        num_labels = values.pop("num_labels", None)
        id2label = values.pop("id2label", None)
        label2id = values.pop("label2id", None)
        if label2id is not None and not isinstance(label2id, dict):
            raise ValueError(f"config label2id must be a dict of label -> id, got {type(label2id).__name__}")
        for key, value in values.items():
            object.__setattr__(self, key, value)
        self._attn_implementation = attn_implementation  # never saved (see attention_implementation)
        if id2label is not None:
            self.id2label = {int(k): v for k, v in id2label.items()}
            if label2id is not None:  # kept as the file has it, as the reference does (zero-shot reads it)
                object.__setattr__(self, "label2id", dict(label2id))
        else:
            self.num_labels = 2 if num_labels is None else int(num_labels)
        if self.problem_type is not None and self.problem_type not in _PROBLEM_TYPES:
            raise ValueError(f"config.problem_type={self.problem_type!r} is not one of {_PROBLEM_TYPES}")

    # -- aliases and labels ---------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:  # only called when normal lookup fails
        alias = type(self).attribute_map.get(name)
        if alias is not None:
            return getattr(self, alias)
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "attn_implementation":
            name = "_attn_implementation"
        name = type(self).attribute_map.get(name, name)
        if name == "id2label":
            value = {int(k): v for k, v in value.items()}
            object.__setattr__(self, "label2id", {v: k for k, v in value.items()})
        object.__setattr__(self, name, value)

    @property
    def num_labels(self) -> int:
        """Number of labels of a classification head (``len(id2label)``)."""
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        if getattr(self, "id2label", None) is None or len(self.id2label) != n:
            self.id2label = {i: f"LABEL_{i}" for i in range(n)}

    @property
    def attention_implementation(self) -> str | None:
        """The reference's ``attn_implementation`` when one was asked for ("eager", "sdpa"), else None. Results
        depend on it only where the reference's own do: GPT-2's ``scale_attn_weights`` and
        ``scale_attn_by_inverse_layer_idx`` act in its eager attention only (None here means the reference's
        default, SDPA, which ignores them)."""
        return self._attn_implementation

    @property
    def use_return_dict(self) -> bool:
        return bool(self.return_dict)

    @property
    def name_or_path(self) -> str:
        """Where the config was read from ("" for one built in code)."""
        return self.__dict__.get("_name_or_path", "")

    @name_or_path.setter
    def name_or_path(self, value: str | os.PathLike) -> None:
        object.__setattr__(self, "_name_or_path", str(value))

    def update(self, values: dict[str, Any]) -> None:
        """Set several fields at once (aliases such as GPT-2's ``n_embd`` resolved)."""
        for key, value in values.items():
            setattr(self, key, value)

    def get_text_config(self, decoder: bool = False) -> PretrainedConfig:
        """The config of the text model: this one (no model here wraps a text model in another)."""
        return self

    def to_diff_dict(self) -> dict[str, Any]:
        """As the reference: the family's own fields, and the common ones that differ from the common defaults
        or from this class's defaults (``model_type`` always kept)."""
        common = PretrainedConfig().to_dict()
        own = type(self)().to_dict()
        out = {
            k: v
            for k, v in self.to_dict().items()
            if k not in common or v != common[k] or (k in own and v != own[k])
        }
        if self.model_type:
            out["model_type"] = self.model_type
        return out

    def to_json_file(self, json_file_path: str | os.PathLike, use_diff: bool = True) -> None:
        """Write the config as JSON (only the non-default fields with ``use_diff``, as the reference)."""
        data = self.to_diff_dict() if use_diff else self.to_dict()
        write_text_atomic(Path(json_file_path), json.dumps(data, indent=2, sort_keys=True) + "\n")

    # -- dict / json ----------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], **overrides: Any) -> PretrainedConfig:
        """Build a config from a ``config.json`` dict; ``overrides`` are then set field by field."""
        config = cls(**data)
        for key, value in overrides.items():
            setattr(config, key, value)
        return config

    def to_dict(self) -> dict[str, Any]:
        """Every field, with ``id2label``/``label2id`` keyed as JSON writes them."""
        out = {k: copy.deepcopy(v) for k, v in vars(self).items() if not k.startswith("_")}
        out["id2label"] = {str(k): v for k, v in self.id2label.items()}
        out["label2id"] = dict(self.label2id)
        if self.model_type:
            out["model_type"] = self.model_type
        dtype = out.pop("torch_dtype", None)  # written as "dtype", as transformers >= 4.56 writes it
        if dtype is not None:
            out["dtype"] = dtype if isinstance(dtype, str) else str(dtype).removeprefix("torch.")
        return out

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> PretrainedConfig:
        return cls.from_dict(read_json(path))

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        revision: str | None = None,
        cache_dir: str | None = None,
        subfolder: str = "",
        **overrides: Any,
    ) -> PretrainedConfig:
        """Read ``config.json`` from a folder (``subfolder`` inside it) or a cached repo id.

        >>> PretrainedConfig.from_pretrained("no/such-model")  # doctest: +SKIP
        Traceback (most recent call last):
        FileNotFoundError: ...
        """
        from .hub import resolve_file

        overrides = _without_loader_arguments(overrides)
        if overrides.get("gguf_file") is not None:
            where = dict(revision=revision, cache_dir=cache_dir, subfolder=subfolder)
            return _gguf_config(name_or_path, where, cls if cls.model_type else None, **overrides)
        path = resolve_file(
            name_or_path, CONFIG_NAME, revision=revision, cache_dir=cache_dir, subfolder=subfolder
        )
        data = read_json(path)
        if cls.model_type and data.get("model_type") not in (None, cls.model_type):
            log.warning("%s: model_type %r loaded into %s", path, data.get("model_type"), cls.__name__)
        config = cls.from_dict(data, **overrides)
        config.name_or_path = name_or_path
        return config

    def save_pretrained(self, save_directory: str | os.PathLike) -> Path:
        """Write ``config.json`` (atomically) into ``save_directory``; returns its path."""
        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        data["transformers_version"] = (
            "4.57.6"  # the format version we write, so the reference reads it as its own
        )
        return write_text_atomic(directory / CONFIG_NAME, json.dumps(data, indent=2, sort_keys=True) + "\n")


# from_pretrained arguments about where files come from, or for the reference's hub client and loader: never
# config fields (the reference does not store them either)
LOADER_ARGUMENTS = frozenset({
    "low_cpu_mem_usage", "trust_remote_code", "local_files_only", "token", "use_auth_token", "force_download",
    "resume_download", "proxies", "offload_folder", "offload_state_dict", "_fast_init", "_commit_hash",
    "code_revision", "mirror", "from_tf", "from_flax", "user_agent", "_from_pipeline", "_from_auto", "variant",
})  # fmt: skip


def _without_loader_arguments(overrides: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in overrides.items() if k not in LOADER_ARGUMENTS}


def _gguf_config(
    name_or_path: str | os.PathLike,
    where: dict[str, Any],
    config_class: Any,
    gguf_file: str,
    **overrides: Any,
) -> PretrainedConfig:
    """The config of a llama.cpp checkpoint, from its metadata (``from_pretrained(..., gguf_file=...)``)."""
    from .hub import resolve_dir
    from .modeling import find_gguf, gguf_checkpoint_config

    subfolder = where.pop("subfolder", "")
    folder = resolve_dir(name_or_path, **where)
    config = gguf_checkpoint_config(
        find_gguf(folder / subfolder if subfolder else folder, gguf_file), config_class, **overrides
    )
    config.name_or_path = str(name_or_path)
    return config


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a JSON object from ``path`` with an error that names the file and the position."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so a failure leaves nothing half-written."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class AutoConfig:
    """Picks the config class from ``config.json``'s ``model_type``.

    >>> from pretrained import AutoConfig
    >>> AutoConfig.for_model("bert", hidden_size=32).hidden_size
    32
    """

    @staticmethod
    def config_class(model_type: str | None, where: str = "config.json") -> type[PretrainedConfig]:
        from .models.auto import config_class_for

        return config_class_for(model_type, where)

    @classmethod
    def for_model(cls, model_type: str, **kwargs: Any) -> PretrainedConfig:
        return cls.config_class(model_type)(**kwargs)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        revision: str | None = None,
        cache_dir: str | None = None,
        subfolder: str = "",
        **overrides: Any,
    ) -> PretrainedConfig:
        from .hub import resolve_file

        overrides = _without_loader_arguments(overrides)
        if overrides.get("gguf_file") is not None:
            where = dict(revision=revision, cache_dir=cache_dir, subfolder=subfolder)
            return _gguf_config(name_or_path, where, None, **overrides)
        path = resolve_file(
            name_or_path, CONFIG_NAME, revision=revision, cache_dir=cache_dir, subfolder=subfolder
        )
        data = read_json(path)
        config = cls.config_class(data.get("model_type"), str(path)).from_dict(data, **overrides)
        config.name_or_path = name_or_path
        return config
