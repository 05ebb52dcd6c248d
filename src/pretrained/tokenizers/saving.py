"""``save_pretrained``: the files transformers writes, so the reference (and we) reload identically.

>>> tok.save_pretrained("out/")  # doctest: +SKIP
('out/tokenizer_config.json', 'out/special_tokens_map.json', 'out/tokenizer.json')
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from .legacy import CONVENTIONS, VOCAB_FILES
from .special_tokens import added_token_state
from .tokenization import (
    ADDED_TOKENS_FILE,
    CHAT_TEMPLATE_DIR,
    CHAT_TEMPLATE_FILE,
    SPECIAL_TOKENS_MAP_FILE,
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
    PreTrainedTokenizer,
)


def _saved_token(obj: Any, type_field: bool) -> Any:
    """transformers' ``convert_added_tokens(save=True)``."""
    if hasattr(obj, "content") and not isinstance(obj, str):
        state = added_token_state(obj)
        if type_field:
            state["__type"] = "AddedToken"
        else:
            state.pop("special")
        return state
    if isinstance(obj, (list, tuple)):
        return [_saved_token(o, type_field) for o in obj]
    if isinstance(obj, dict):
        return {k: _saved_token(v, type_field) for k, v in obj.items()}
    return obj


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _save_chat_templates(tok: PreTrainedTokenizer, folder: Path, config: dict) -> list[str]:
    written = []
    templates = tok.chat_template
    if isinstance(templates, str):
        templates = {"default": templates}
    for name, template in (templates or {}).items():
        if name == "default":
            path = folder / CHAT_TEMPLATE_FILE
        else:
            (folder / CHAT_TEMPLATE_DIR).mkdir(exist_ok=True)
            path = folder / CHAT_TEMPLATE_DIR / f"{name}.jinja"
        path.write_text(template, encoding="utf-8")
        written.append(str(path))
    config.pop("chat_template", None)
    return written


def save_tokenizer(
    tok: PreTrainedTokenizer, save_directory: str | os.PathLike, **kwargs: Any
) -> tuple[str, ...]:
    """Write tokenizer_config.json, special_tokens_map.json, chat templates and tokenizer.json.

    >>> save_tokenizer(tok, "out/")  # doctest: +SKIP
    """
    folder = Path(save_directory)
    if folder.is_file():
        raise NotADirectoryError(f"save_pretrained: {folder} is a file; pass a directory")
    folder.mkdir(parents=True, exist_ok=True)
    prefix = f"{kwargs['filename_prefix']}-" if kwargs.get("filename_prefix") else ""
    config = dict(tok.init_kwargs)
    for key in set(tok.init_kwargs) | {"model_max_length", "clean_up_tokenization_spaces"}:
        try:
            config[key] = getattr(tok, key)
        except AttributeError:
            pass
    config.update(tok.special_tokens_map)
    if "extra_special_tokens" not in config:
        config["extra_special_tokens"] = tok.extra_special_tokens
        config.update(tok.extra_special_tokens)
    written = _save_chat_templates(tok, folder, config)
    for key in (
        "vocab_file",
        "merges_file",
        "tokenizer_file",
        "name_or_path",
        "special_tokens_map_file",
        "device_map",
    ):
        config.pop(key, None)
    config = _saved_token(config, type_field=True)
    config["added_tokens_decoder"] = {
        str(i): added_token_state(t) for i, t in tok.added_tokens_decoder.items()
    }
    base = tok.tokenizer_class_name
    convention = CONVENTIONS.get(base)
    copied = []
    for key, source in getattr(tok, "vocab_files", {}).items():
        target = folder / f"{prefix}{VOCAB_FILES[convention][key]}"
        if Path(source).resolve() != target.resolve():
            shutil.copyfile(source, target)
        copied.append(str(target))
    slow_ok = convention is not None and (convention not in ("llama", "t5") or copied)
    added_vocab = {t: i for t, i in tok.added_tokens_encoder.items() if i >= tok.vocab_size}
    if slow_ok and added_vocab:  # the slow format's added tokens, as transformers writes them
        added_path = folder / f"{prefix}{ADDED_TOKENS_FILE}"
        added_path.write_text(json.dumps(added_vocab, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        copied.append(str(added_path))
    config["tokenizer_class"] = base if slow_ok else f"{base}Fast"
    if tok._processor_class is not None:
        config["processor_class"] = tok._processor_class
    config_path = folder / f"{prefix}{TOKENIZER_CONFIG_FILE}"
    _write_json(config_path, config)
    map_path = folder / f"{prefix}{SPECIAL_TOKENS_MAP_FILE}"
    _write_json(map_path, _saved_token(tok.special_tokens_map_extended, type_field=False))
    tokenizer_path = folder / f"{prefix}{TOKENIZER_FILE}"
    with open(tokenizer_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(json.loads(tok.backend_tokenizer.to_str()), indent=2, ensure_ascii=False))
    return (str(config_path), str(map_path), *written, *copied, str(tokenizer_path))
