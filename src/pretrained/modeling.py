"""``PreTrainedModel``: the base of every architecture — lean ``from_pretrained`` and ``save_pretrained``.

Loading builds the module tree on the meta device (no random init), then assigns the checkpoint's
memory-mapped tensors in place; only what the checkpoint lacks (a new head) is materialized and initialized.

>>> from pretrained import AutoModel  # doctest: +SKIP
>>> model = AutoModel.from_pretrained("path/to/all-MiniLM-L6-v2")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from .config import LOADER_ARGUMENTS, PretrainedConfig
from .hub import resolve_dir
from .nn.linear import Linear, decode_layout, transposed_storage
from .weights import checkpoint_files, load_checkpoint, release_mapped_pages, save_checkpoint

log = logging.getLogger(__name__)

_LEGACY_SUFFIXES = {"LayerNorm.gamma": "LayerNorm.weight", "LayerNorm.beta": "LayerNorm.bias"}
_DTYPE_NAMES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
}


_LAYER_LISTS = ("layer", "layers", "h", "block")  # the ModuleLists holding each family's transformer layers


def _transformer_layers(model: nn.Module) -> list[nn.Module]:
    return [
        layer
        for name, module in model.named_modules()
        if isinstance(module, nn.ModuleList) and name.rsplit(".", 1)[-1] in _LAYER_LISTS
        for layer in module
    ]


def _without_cache(model: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The forward arguments with ``use_cache=False`` (given by keyword or by position), where forward has it."""
    import inspect

    names = list(inspect.signature(type(model).forward).parameters)[1:]  # without self
    if "use_cache" not in names:
        return args, kwargs
    i = names.index("use_cache")
    if i < len(args):
        return (*args[:i], False, *args[i + 1 :]), kwargs
    return args, {**kwargs, "use_cache": False}


# forward arguments of the reference that some of our models lack: accepted as None (their default), else an error
_UNSUPPORTED_INPUTS = frozenset(
    {
        "head_mask",
        "decoder_head_mask",
        "cross_attn_head_mask",
        "encoder_hidden_states",
        "encoder_attention_mask",
    }
)


@functools.cache
def _forward_parameters(cls: type) -> frozenset[str]:
    import inspect

    return frozenset(inspect.signature(cls.forward).parameters)


def _without_unsupported(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` less the reference's optional inputs this model's forward does not take, which must be None."""
    accepted = _forward_parameters(cls)
    out = {}
    for key, value in kwargs.items():
        if key in _UNSUPPORTED_INPUTS and key not in accepted:
            if value is not None:
                what = "masking attention heads" if "head_mask" in key else "cross-attention"
                raise NotImplementedError(f"{cls.__name__} does not support {key} ({what}); leave it None")
            continue
        out[key] = value
    return out


def _init_parameters(cls: type) -> frozenset[str]:
    """The keyword arguments a model class's constructor takes besides the config (``add_pooling_layer``)."""
    import inspect

    params = inspect.signature(cls.__init__).parameters
    return frozenset(name for name in params if name not in ("self", "config"))


def _device_from_map(device_map: Any, device: Any) -> Any:
    """``device_map`` as a single device: a name, a torch.device or an index; "auto" (and None) keeps ``device``."""
    if device_map is None or device_map == "auto":
        return device
    if isinstance(device_map, dict):
        devices = set(device_map.values())
        if len(devices) != 1:
            raise ValueError(
                f"device_map={device_map!r}: models are placed on one device here; pass device= (or one device)"
            )
        device_map = devices.pop()
    if isinstance(device_map, int):
        device_map = torch.device("cuda", device_map)
    if device is not None and torch.device(device) != torch.device(device_map):
        raise ValueError(f"device={device!r} and device_map={device_map!r} disagree; pass one of them")
    return device_map


@dataclass
class LoadingInfo:
    """What ``from_pretrained`` did with the checkpoint's keys, as the reference reports it: ``missing_keys``
    (initialized anew), ``unexpected_keys`` (unused), ``mismatched_keys`` (names whose shapes differ, re-initialized
    with ``ignore_mismatched_sizes``); ``mismatched_shapes`` holds their (checkpoint, model) shapes."""

    missing_keys: list[str] = field(default_factory=list)
    unexpected_keys: list[str] = field(default_factory=list)
    mismatched_keys: list[str] = field(default_factory=list)
    mismatched_shapes: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    def __getitem__(self, key: str) -> list:
        return getattr(self, key)


def resolve_dtype(
    torch_dtype: Any, config: PretrainedConfig, state_dict: dict[str, torch.Tensor]
) -> torch.dtype:
    """``None`` -> float32; ``"auto"`` -> config.torch_dtype, else the checkpoint's floating dtype."""
    if torch_dtype is None:
        return torch.float32
    if torch_dtype == "auto":
        named = getattr(config, "torch_dtype", None)
        if named is not None:
            return resolve_dtype(named, config, state_dict)
        floats = (t.dtype for t in state_dict.values() if t.is_floating_point())
        return next(floats, torch.float32)
    if isinstance(torch_dtype, str):
        name = torch_dtype.removeprefix("torch.")
        if name not in _DTYPE_NAMES:
            raise ValueError(
                f"torch_dtype={torch_dtype!r}: use 'auto', {', '.join(_DTYPE_NAMES)} or a torch.dtype"
            )
        return _DTYPE_NAMES[name]
    if isinstance(torch_dtype, torch.dtype) and torch_dtype.is_floating_point:
        return torch_dtype
    raise ValueError(f"torch_dtype={torch_dtype!r}: use 'auto', {', '.join(_DTYPE_NAMES)} or a torch.dtype")


def find_gguf(folder: Path, gguf_file: str | os.PathLike) -> Path:
    """The path of ``gguf_file`` inside ``folder`` (or ``gguf_file`` itself when absolute)."""
    path = Path(folder) / gguf_file
    if not path.is_file():
        found = sorted(p.name for p in Path(folder).glob("*.gguf"))
        raise FileNotFoundError(
            f"gguf_file {str(gguf_file)!r} not found in {folder}; GGUF files there: {found}"
        )
    return path


def gguf_checkpoint_config(
    path: Path, config_class: type[PretrainedConfig] | None = None, **overrides: Any
) -> PretrainedConfig:
    """The config of a GGUF checkpoint, from its metadata; ``config_class`` None picks it by model_type."""
    from .gguf import gguf_config, read_gguf

    with read_gguf(path) as f:
        data = gguf_config(f)
    if config_class is None:
        from .models.auto import config_class_for

        config_class = config_class_for(data.get("model_type"), str(path))
    elif config_class.model_type and data.get("model_type") != config_class.model_type:
        log.warning(
            "%s: GGUF model_type %r loaded into %s", path, data.get("model_type"), config_class.__name__
        )
    return config_class.from_dict(data, **overrides)


def gguf_state_dict(path: Path, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """A GGUF checkpoint's weights in Hugging Face names and layout, each dequantized once to ``dtype``.

    The tensors are then assigned to the model as they are (no copy), so peak memory stays near the model's size.
    """
    from .gguf import iter_gguf_state_dict

    return dict(iter_gguf_state_dict(path, dtype=dtype))


_INIT_FUNCTIONS = (
    "normal_",
    "uniform_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "orthogonal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
)


@contextmanager
def skip_init() -> Iterator[None]:
    """Make ``torch.nn.init`` functions no-ops: modules built on the meta device need no random values,
    and running the initializers on meta tensors costs seconds (it imports torch's decomposition machinery)."""
    saved = {name: getattr(nn.init, name) for name in _INIT_FUNCTIONS}
    for name in _INIT_FUNCTIONS:
        setattr(nn.init, name, _identity_init)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(nn.init, name, fn)


def _identity_init(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    return tensor


def _pad_last(t: torch.Tensor, n: int) -> torch.Tensor:
    """``t`` cut or zero-padded to ``n`` along its last dimension."""
    if t.shape[-1] >= n:
        return t[..., :n].clone()
    pad = torch.zeros(*t.shape[:-1], n - t.shape[-1], dtype=t.dtype, device=t.device)
    return torch.cat([t, pad], dim=-1)


def _set_tensor(module: nn.Module, name: str, value: torch.Tensor) -> None:
    if name in module._parameters:
        module._parameters[name] = nn.Parameter(value, requires_grad=module._parameters[name].requires_grad)
    else:
        module._buffers[name] = value


def _resize_rows(module: nn.Module, n: int, mean_resizing: bool, init: Any) -> None:
    """An embedding's (or a Linear's output) rows cut or grown to ``n`` in place; its bias grows too."""
    old = module.weight
    rows = old.shape[0]
    if n <= rows:
        weight = old[:n].clone()
    elif mean_resizing:
        mean = old.float().mean(0, keepdim=True).to(old.dtype)  # (1, dim)
        weight = torch.cat([old, mean.expand(n - rows, -1)], dim=0)
    else:  # the new rows drawn as the model initializes a module of this kind
        kw = dict(dtype=old.dtype, device=old.device)
        if isinstance(module, nn.Embedding):
            fresh: nn.Module = nn.Embedding(n - rows, old.shape[1], **kw)
        else:
            fresh = nn.Linear(old.shape[1], n - rows, bias=getattr(module, "bias", None) is not None, **kw)
        if hasattr(module, "init_std"):
            fresh.init_std = module.init_std
        init(fresh)
        weight = torch.cat([old, fresh.weight], dim=0)
    module.weight = nn.Parameter(weight.contiguous(), requires_grad=old.requires_grad)
    bias = getattr(module, "bias", None)
    if isinstance(bias, torch.Tensor) and bias.shape[-1] == rows:
        extra = bias.float().mean().to(bias.dtype) if mean_resizing and n > rows else 0.0
        grown = _pad_last(bias, n)
        if n > rows:
            grown[rows:] = extra
        _set_tensor(module, "bias", grown)
    for attr in ("num_embeddings", "out_features"):
        if hasattr(module, attr):
            setattr(module, attr, n)


class PreTrainedModel(nn.Module):
    """Base of every model: holds ``config``, loads and saves Hugging Face checkpoints.

    Subclasses set ``config_class``, ``base_model_prefix`` (the attribute holding the bare model, e.g. ``"bert"``),
    ``_tied_weights_keys`` (parameters shared with the input embeddings), ``_renames`` (old checkpoint key
    fragment -> ours, as data) and implement ``_init_weights(module)``.
    """

    config_class: ClassVar[type[PretrainedConfig]] = PretrainedConfig
    base_model_prefix: ClassVar[str] = ""
    _tied_weights_keys: ClassVar[tuple[str, ...]] = ()
    _renames: ClassVar[dict[str, str]] = {}
    _ignore_unexpected: ClassVar[tuple[str, ...]] = ()  # key suffixes the reference also ignores
    _ignore_missing: ClassVar[tuple[str, ...]] = ()  # absent key suffixes the reference does not report
    _missing_aliases: ClassVar[dict[str, str]] = {}  # a missing key -> its other name the reference lists too

    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.config = config

    def __call__(self, *args: Any, return_dict: bool | None = None, **kwargs: Any) -> Any:
        """Run ``forward``; ``return_dict=False`` returns the output's set fields as a plain tuple. While training
        with gradient checkpointing no KV cache is kept (``use_cache=False``, as the reference)."""
        if self.training and self.__dict__.get("_checkpointed"):
            args, kwargs = _without_cache(self, args, kwargs)
        if not _UNSUPPORTED_INPUTS.isdisjoint(kwargs):
            kwargs = _without_unsupported(type(self), kwargs)
        out = super().__call__(*args, **kwargs)
        return out.to_tuple() if return_dict is False and hasattr(out, "to_tuple") else out

    # -- gradient checkpointing -----------------------------------------------------------------------
    @property
    def is_gradient_checkpointing(self) -> bool:
        return bool(self.__dict__.get("_checkpointed"))

    def gradient_checkpointing_enable(
        self, gradient_checkpointing_kwargs: dict[str, Any] | None = None
    ) -> None:
        """While training, recompute each transformer layer's activations in the backward pass instead of keeping
        them (``torch.utils.checkpoint``, non-reentrant unless ``gradient_checkpointing_kwargs`` says otherwise):
        less memory, the same gradients. No KV cache is kept meanwhile."""
        from torch.utils.checkpoint import checkpoint

        options = {"use_reentrant": False, **(gradient_checkpointing_kwargs or {})}
        for layer in _transformer_layers(self):
            if "_unchecked_forward" in layer.__dict__:
                continue
            plain = layer.forward

            def forward(*args: Any, _plain: Any = plain, _layer: nn.Module = layer, **kwargs: Any) -> Any:
                if _layer.training and torch.is_grad_enabled():
                    return checkpoint(_plain, *args, **options, **kwargs)
                return _plain(*args, **kwargs)

            layer._unchecked_forward = plain
            layer.forward = forward
        for module in self.modules():
            if isinstance(module, PreTrainedModel):
                module.__dict__["_checkpointed"] = True

    def gradient_checkpointing_disable(self) -> None:
        for layer in _transformer_layers(self):
            if "_unchecked_forward" in layer.__dict__:
                del layer.forward
                del layer._unchecked_forward
        for module in self.modules():
            if isinstance(module, PreTrainedModel):
                module.__dict__["_checkpointed"] = False

    # -- initialization -------------------------------------------------------------------------------
    def _init_weights(self, module: nn.Module) -> None:
        """Initialize one module's own parameters the way the reference does (normal(0, initializer_range))."""
        std = getattr(self.config, "initializer_range", 0.02)
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(0.0, std)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(0.0, std)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            if module.weight is not None:
                module.weight.data.fill_(1.0)
            if module.bias is not None:
                module.bias.data.zero_()

    def post_init(self) -> None:
        """Call at the end of ``__init__``: initializes weights (skipped on the meta device) and ties."""
        if next(self.parameters()).device.type != "meta":
            with torch.no_grad():
                self.apply(self._init_weights)
        self.tie_weights()

    def get_input_embeddings(self) -> nn.Module | None:
        base = getattr(self, self.base_model_prefix, self) if self.base_model_prefix else self
        return base.get_input_embeddings() if base is not self else None

    def get_output_embeddings(self) -> nn.Module | None:
        return None

    def tie_weights(self) -> None:
        """Share the output embedding's weight with the input embedding's when the config says so."""
        out, inp = self.get_output_embeddings(), self.get_input_embeddings()
        if out is not None and inp is not None and getattr(self.config, "tie_word_embeddings", True):
            out.weight = inp.weight

    def resize_token_embeddings(
        self,
        new_num_tokens: int | None = None,
        pad_to_multiple_of: int | None = None,
        mean_resizing: bool = True,
    ) -> nn.Module:
        """Grow or shrink the vocabulary to ``new_num_tokens`` (rounded up to ``pad_to_multiple_of``), as the
        reference: kept rows keep their values; new rows of the input (and an untied output) embedding are the old
        rows' mean (``mean_resizing``; the reference samples around it with a ~1e-9 covariance), else drawn like
        a fresh model's; the vocabulary-sized biases of LM heads grow with zeros; ``config.vocab_size`` follows.
        Returns the input embedding module (the same module, resized in place, so shared uses stay shared)."""
        embeddings = self.get_input_embeddings()
        if embeddings is None:
            raise ValueError(f"{type(self).__name__} has no input embeddings to resize")
        old_n = embeddings.weight.shape[0]
        n = old_n if new_num_tokens is None else int(new_num_tokens)
        if pad_to_multiple_of is not None:
            if not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1:
                raise ValueError(f"pad_to_multiple_of={pad_to_multiple_of!r}: pass a positive integer")
            n = -(-n // pad_to_multiple_of) * pad_to_multiple_of
        if n < 1:
            raise ValueError(f"new_num_tokens={new_num_tokens!r}: the vocabulary needs at least one token")
        if n == old_n:
            return embeddings
        pad = getattr(embeddings, "padding_idx", None)
        if pad is not None and pad >= n:
            raise ValueError(
                f"new_num_tokens={n} would drop the padding token (id {pad}); keep more than {pad} tokens"
            )
        out = self.get_output_embeddings()
        tied = out is not None and out.weight is embeddings.weight
        if out is not None and not tied and getattr(self.config, "tie_word_embeddings", True):
            raise NotImplementedError(
                f"{type(self).__name__}: the output embeddings are tied to other embeddings than the input ones "
                "(Marian with share_encoder_decoder_embeddings=False); resizing them is not supported"
            )
        with torch.no_grad():
            _resize_rows(embeddings, n, mean_resizing, self._init_weights)
            if out is not None and not tied:
                _resize_rows(out, n, mean_resizing, self._init_weights)
            for module, name in self._vocab_vectors(
                out if tied else None
            ):  # grown with zeros, as the reference
                t = getattr(module, name)
                if t.shape[-1] == old_n:
                    _set_tensor(module, name, _pad_last(t, n))
        self.config.vocab_size = n
        if getattr(self.config, "decoder_vocab_size", None) == old_n:
            self.config.decoder_vocab_size = n
        self.tie_weights()
        return embeddings

    def _vocab_vectors(self, tied_output: nn.Module | None) -> list[tuple[nn.Module, str]]:
        """The vocabulary-sized vectors of LM heads: a tied output layer's bias, the separate ``bias`` of heads
        that apply their ``decoder`` weight with it (BERT's, RoBERTa's), and BART's ``final_logits_bias``."""
        found = []
        for module in self.modules():
            if module is tied_output and getattr(module, "bias", None) is not None:
                found.append((module, "bias"))
            elif isinstance(getattr(module, "decoder", None), nn.Linear) and isinstance(
                getattr(module, "bias", None), nn.Parameter
            ):
                found.append((module, "bias"))
            if isinstance(getattr(module, "final_logits_bias", None), torch.Tensor):
                found.append((module, "final_logits_bias"))
        return found

    def _tied_keys(self) -> set[str]:
        tied = getattr(self.config, "tie_word_embeddings", True) and self.get_output_embeddings() is not None
        return set(self._tied_weights_keys) if tied else set()

    def _architecture_name(self) -> str:
        """The class name written to config.json's ``architectures``."""
        return type(self).__name__

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(p.dtype for p in self.parameters() if p.is_floating_point())

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """Parameters counted once each (tied ones too); ``exclude_embeddings`` leaves out nn.Embedding tables."""
        skip = set()
        if exclude_embeddings:
            skip = {id(m.weight) for m in self.modules() if isinstance(m, nn.Embedding)}
        params = {
            id(p): p
            for p in self.parameters()
            if (p.requires_grad or not only_trainable) and id(p) not in skip
        }
        return sum(p.numel() for p in params.values())

    @classmethod
    def can_generate(cls) -> bool:
        """Whether the class has ``generate`` (its LM heads)."""
        return hasattr(cls, "generate")

    def set_input_embeddings(self, value: nn.Module) -> None:
        """Use ``value`` wherever the current input embeddings sit (shared aliases included); re-tie the output."""
        old = self.get_input_embeddings()
        if old is None:
            raise ValueError(f"{type(self).__name__} has no input embeddings to replace")
        for module in self.modules():
            for name, child in list(module._modules.items()):
                if child is old:
                    module._modules[name] = value
        self.tie_weights()

    # -- loading --------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        config: PretrainedConfig | None = None,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        torch_dtype: Any = None,
        dtype: Any = None,
        device: str | torch.device | None = None,
        ignore_mismatched_sizes: bool = False,
        output_loading_info: bool = False,
        state_dict: dict[str, torch.Tensor] | None = None,
        gguf_file: str | None = None,
        subfolder: str = "",
        use_safetensors: bool | None = None,
        device_map: str | torch.device | None = None,
        variant: str | None = None,
        **config_overrides: Any,
    ) -> Any:
        """Load a checkpoint folder (or cached repo id): config.json + safetensors / pytorch_model.bin (sharded too).

        With ``gguf_file`` (a llama.cpp file in that folder), config and weights both come from the GGUF file,
        dequantized to ``torch_dtype`` (float32 by default).

        >>> from pretrained.models.bert import BertModel
        >>> model = BertModel.from_pretrained("path/to/checkpoint")  # doctest: +SKIP

        ``dtype`` is the newer name of ``torch_dtype`` (as in transformers >= 4.56); pass one of them.
        ``subfolder``: the checkpoint sits in that folder of the repo. ``use_safetensors``: True requires
        safetensors weights, False prefers ``pytorch_model.bin``. ``device_map`` (a single device, or "auto" for
        the default) is ``device``. The reference's loader hints that change nothing here (``low_cpu_mem_usage``,
        ``attn_implementation``, ``trust_remote_code``...) are accepted and ignored.
        """
        for hint in LOADER_ARGUMENTS:
            config_overrides.pop(hint, None)
        attn_implementation = config_overrides.pop("attn_implementation", None)
        init_kwargs = {
            k: config_overrides.pop(k) for k in list(config_overrides) if k in _init_parameters(cls)
        }
        device = _device_from_map(device_map, device)
        if dtype is not None:
            if torch_dtype is not None and torch_dtype != dtype:
                raise ValueError(
                    f"dtype={dtype!r} and torch_dtype={torch_dtype!r} disagree; pass only dtype (the newer name)"
                )
            torch_dtype = dtype
        folder = resolve_dir(name_or_path, revision=revision, cache_dir=cache_dir)
        if subfolder:
            folder = folder / subfolder
            if not folder.is_dir():
                raise FileNotFoundError(f"subfolder={subfolder!r}: no folder {folder}")
        gguf_path = find_gguf(folder, gguf_file) if gguf_file is not None else None
        if config is None and gguf_path is not None:
            config = gguf_checkpoint_config(gguf_path, cls.config_class, **config_overrides)
        elif config is None:
            config = cls.config_class.from_pretrained(folder, **config_overrides)
        elif config_overrides:
            raise ValueError(
                f"pass either config= or config fields, not both (got {sorted(config_overrides)})"
            )
        if attn_implementation is not None:
            config.attn_implementation = attn_implementation
        consume = (
            state_dict is None
        )  # a dict we read ourselves is emptied as it loads (a caller's is left alone)
        if state_dict is None and gguf_path is not None:
            state_dict = gguf_state_dict(gguf_path, resolve_dtype(torch_dtype, config, {}))
        elif state_dict is None:
            state_dict = load_checkpoint(checkpoint_files(folder, use_safetensors, variant=variant))
        model, info = cls._from_state_dict(
            config, state_dict, torch_dtype, ignore_mismatched_sizes, consume, init_kwargs
        )
        model.name_or_path = str(name_or_path)
        if hasattr(model, "_load_generation_config"):  # generating models: generation_config.json, if any
            model._load_generation_config(folder)
        if device is not None:
            model.to(device)
        return (model, info) if output_loading_info else model

    @classmethod
    def _from_state_dict(
        cls,
        config: PretrainedConfig,
        state_dict: dict[str, torch.Tensor],
        torch_dtype: Any,
        ignore_mismatched: bool,
        consume: bool = False,
        init_kwargs: dict[str, Any] | None = None,
    ) -> tuple[PreTrainedModel, LoadingInfo]:
        """Build the model on the meta device and assign ``state_dict``'s tensors. With ``consume``, the dict is
        emptied as it goes, so a tensor copied on the way (cast, transposed) frees its original at once: peak
        memory stays near one model, also for dequantized GGUF tensors."""
        dtype = resolve_dtype(torch_dtype, config, state_dict)
        with torch.device("meta"), skip_init():
            model = cls(config, **(init_kwargs or {}))  # e.g. BertModel's add_pooling_layer
        expected = model.state_dict()
        original, state_dict = state_dict, model._match_keys(cls._rename(state_dict), expected.keys())
        if consume:
            original.clear()
        del original
        info = LoadingInfo()
        tied = model._tied_keys()
        transposed = model._transposed_keys()
        to_load = {}
        for key in list(state_dict):
            tensor = state_dict.pop(key)  # ours (renamed copy): the original goes with its last reference
            if key not in expected:
                if not (cls._ignore_unexpected and key.endswith(cls._ignore_unexpected)):
                    info.unexpected_keys.append(key)
                continue
            if key in tied:
                continue
            want = expected[key].shape
            if tensor.shape != want:
                info.mismatched_keys.append(key)
                info.mismatched_shapes.append((tuple(tensor.shape), tuple(want)))
                continue
            if key in transposed and tensor.is_floating_point():
                to_load[key] = transposed_storage(tensor, dtype)  # the one copy (and cast) this tensor gets
                release_mapped_pages(tensor)
            else:
                to_load[key] = tensor.to(dtype) if tensor.is_floating_point() else tensor
        if info.mismatched_keys and not ignore_mismatched:
            shapes = "; ".join(
                f"{k}: checkpoint {a} vs model {b}"
                for k, (a, b) in zip(info.mismatched_keys, info.mismatched_shapes)
            )
            raise ValueError(
                f"checkpoint tensors do not fit {cls.__name__}: {shapes}. Check the config, or pass "
                "ignore_mismatched_sizes=True to re-initialize them"
            )
        model.load_state_dict(to_load, strict=False, assign=True)
        mismatched = set(info.mismatched_keys)  # reported as mismatched only (re-initialized all the same)
        absent = (k for k in expected if k not in to_load and k not in tied and k not in mismatched)
        missing = [k for k in absent if not (cls._ignore_missing and k.endswith(cls._ignore_missing))]
        info.missing_keys = sorted(
            missing + [cls._missing_aliases[k] for k in missing if k in cls._missing_aliases]
        )
        to_load.clear()  # the model holds the tensors now; fusing below frees what it replaces
        model.tie_weights()  # before materializing, so tied weights are never allocated twice
        model._materialize_missing(dtype)
        model.eval()
        if hasattr(
            model, "generate"
        ):  # generating models: projections that read the same input share a buffer
            model._fuse_for_inference()
        if info.missing_keys:
            log.warning(
                "%s: newly initialized (not in the checkpoint): %s",
                cls.__name__,
                ", ".join(info.missing_keys),
            )
        if info.unexpected_keys:
            log.info("%s: checkpoint keys not used: %s", cls.__name__, ", ".join(info.unexpected_keys))
        return model, info

    def _fuse_for_inference(self) -> None:
        """Families whose projections read the same input (q/k/v, gate/up) store them as one buffer here, with
        :func:`pretrained.nn.linear.fuse_weights`; the default fuses nothing."""

    def _transposed_keys(self) -> set[str]:
        """Checkpoint tensors a generating model loads into transposed storage, for the layout its decode steps'
        few-row products stream fastest (see :mod:`pretrained.nn.linear`). With the few-row C kernel
        (``decode_layout() == "rows"``) every weight should be row-major ``(out, in)``: only GPT-2's ``Conv1D``
        weights, stored ``(in, out)``, are transposed. Without it (MKL's gemv), each projection is stored
        ``(in, out)`` when ``out >= in`` and ``(out, in)`` otherwise: every wide or square ``Linear``, every
        narrowing ``Conv1D``, and the input embedding the LM head shares. Encoders keep the checkpoint's layout:
        their many-row matmuls run equally fast either way, and their weights stay memory-mapped from the file."""
        if not hasattr(self, "generate"):
            return set()
        rows_layout = decode_layout() == "rows"
        keys = set()
        for name, module in self.named_modules():
            weight = getattr(module, "weight", None)
            if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
                continue
            rows, cols = weight.shape
            in_out = getattr(module, "stores_in_out", False)  # the parameter itself is (in, out)
            if rows_layout:
                if in_out:
                    keys.add(f"{name}.weight")
            elif (isinstance(module, Linear) and rows >= cols) or (in_out and rows > cols):
                keys.add(f"{name}.weight")
        if self._tied_keys() and not rows_layout:
            embeddings = self.get_input_embeddings()
            keys |= {f"{name}.weight" for name, module in self.named_modules() if module is embeddings}
        return keys

    @classmethod
    def _rename(cls, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Apply ``_renames`` (old key fragment -> ours) and the old LayerNorm ``gamma``/``beta`` names."""
        out = {}
        for key, tensor in state_dict.items():
            for old, new in _LEGACY_SUFFIXES.items():
                if key.endswith(old):
                    key = key[: -len(old)] + new
            for old, new in cls._renames.items():
                key = key.replace(old, new)
            out[key] = tensor
        return out

    def _match_keys(self, state_dict: dict[str, torch.Tensor], expected: Any) -> dict[str, torch.Tensor]:
        """Add or strip ``base_model_prefix`` so bare-model and head-model checkpoints load into either."""
        prefix = self.base_model_prefix
        if not prefix:
            return state_dict
        expected = set(expected)
        want_prefix = any(k.startswith(prefix + ".") for k in expected)
        has_prefix = any(k.startswith(prefix + ".") for k in state_dict)
        if want_prefix and not has_prefix:
            return {(f"{prefix}.{k}" if f"{prefix}.{k}" in expected else k): v for k, v in state_dict.items()}
        if has_prefix and not want_prefix:
            return {k.removeprefix(prefix + "."): v for k, v in state_dict.items()}
        return state_dict

    def _materialize_missing(self, dtype: torch.dtype) -> None:
        """Give every tensor still on the meta device real memory, initialized as the reference would."""
        for module in self.modules():
            own = list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False))
            if not any(t.device.type == "meta" for _, t in own):
                continue
            loaded = {n: t for n, t in own if t.device.type != "meta"}
            for (
                name,
                t,
            ) in loaded.items():  # to_empty/_init_weights write .data in place: keep loaded (maybe tied)
                stand_in = torch.empty_like(
                    t, device="meta"
                )  # tensors out of their reach until restored below
                if name in module._parameters:
                    module._parameters[name] = nn.Parameter(stand_in, requires_grad=t.requires_grad)
                else:
                    module._buffers[name] = stand_in
            module.to_empty(device="cpu", recurse=False)
            for _, t in module.named_parameters(recurse=False):
                t.data.zero_()  # anything _init_weights does not cover is zero, never garbage
            for name, t in module.named_parameters(recurse=False):
                if t.is_floating_point() and t.dtype != dtype:
                    setattr(module, name, nn.Parameter(t.to(dtype), requires_grad=t.requires_grad))
            with torch.no_grad():
                self._init_weights(module)
            for name, t in loaded.items():
                if name in module._parameters:
                    module._parameters[name] = t
                else:
                    module._buffers[name] = t

    # -- saving ---------------------------------------------------------------------------------------
    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        *,
        max_shard_size: int | str = "5GB",
        safe_serialization: bool = True,
        variant: str | None = None,
    ) -> Path:
        """Write config.json and model.safetensors (sharded past ``max_shard_size``) into ``save_directory``;
        ``safe_serialization=False`` writes ``pytorch_model.bin`` (and its shards) instead; ``variant="fp16"``
        names them ``model.fp16.safetensors`` (and kin), as the reference.

        >>> model.save_pretrained("out/")  # doctest: +SKIP
        """
        folder = Path(save_directory)
        if folder.is_file():
            raise ValueError(f"save_directory {folder} is a file; pass a folder")
        folder.mkdir(parents=True, exist_ok=True)
        tied = self._tied_keys()
        state = {k: v for k, v in self.state_dict().items() if k not in tied}
        seen: dict[int, str] = {}
        for key in list(state):  # other shared storage (safetensors cannot hold aliases): keep the first copy
            ptr = state[key].data_ptr()
            if ptr in seen and state[key].numel() and state[seen[ptr]].shape == state[key].shape:
                del state[key]
            else:
                seen[ptr] = key
        self.config.architectures = [self._architecture_name()]
        self.config.torch_dtype = str(self.dtype).removeprefix("torch.")
        save_checkpoint(
            state,
            folder,
            max_shard_size=max_shard_size,
            safe_serialization=safe_serialization,
            variant=variant,
        )
        self.config.save_pretrained(folder)
        if getattr(self, "generation_config", None) is not None:
            self.generation_config.save_pretrained(folder)
        return folder
