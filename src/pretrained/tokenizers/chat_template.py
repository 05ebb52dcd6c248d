"""Chat templates: render a conversation with the tokenizer's Jinja template, as transformers does.

Templates run in jinja2's ``ImmutableSandboxedEnvironment`` with ``trim_blocks`` and ``lstrip_blocks``,
the ``loopcontrols`` extension, a ``{% generation %}`` block (for assistant-token masks), a ``tojson``
filter that keeps non-ASCII text, and the globals ``raise_exception`` and ``strftime_now``.

>>> messages = [{"role": "user", "content": "Hi!"}]
>>> tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)  # doctest: +SKIP
'<|im_start|>user\\nHi!<|im_end|>\\n<|im_start|>assistant\\n'
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import re
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

from .tool_schema import get_json_schema

log = logging.getLogger(__name__)

_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "


def _tojson(
    x: Any, ensure_ascii: bool = False, indent: int | None = None, separators=None, sort_keys=False
) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format: str) -> str:
    return datetime.now().strftime(format)


@lru_cache
def compile_template(chat_template: str) -> Any:
    """Compile a chat template in the sandbox (cached per template text)."""
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class AssistantTracker(jinja2.ext.Extension):
        """``{% generation %}...{% endgeneration %}`` records the character span of assistant text."""

        tags = {"generation"}

        def __init__(self, environment: Any) -> None:
            super().__init__(environment)
            environment.extend(activate_tracker=self.activate_tracker)
            self._rendered_blocks: list[str] | None = None
            self._generation_indices: list[tuple[int, int]] | None = None

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(
                lineno
            )

        @jinja2.pass_eval_context
        def _generation_support(self, context: Any, caller: Any) -> str:
            rv = caller()
            if self.is_active():
                start = len("".join(self._rendered_blocks))
                self._generation_indices.append((start, start + len(rv)))
            return rv

        def is_active(self) -> bool:
            return bool(self._rendered_blocks or self._generation_indices)

        @contextmanager
        def activate_tracker(self, rendered_blocks: list[str], generation_indices: list[tuple[int, int]]):
            try:
                if self.is_active():
                    raise ValueError("AssistantTracker should not be reused before closed")
                self._rendered_blocks = rendered_blocks
                self._generation_indices = generation_indices
                yield
            finally:
                self._rendered_blocks = None
                self._generation_indices = None

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env.from_string(chat_template)


def get_chat_template(tok: Any, chat_template: str | None = None, tools: list | None = None) -> str:
    """Pick the template: ``chat_template`` (a name or the text itself), ``tool_use`` with tools, or the default."""
    if isinstance(tok.chat_template, dict):
        templates = tok.chat_template
        if chat_template is not None and chat_template in templates:
            return templates[chat_template]
        if chat_template is None:
            if tools is not None and "tool_use" in templates:
                return templates["tool_use"]
            if "default" in templates:
                return templates["default"]
            raise ValueError(
                "This model has multiple chat templates with no default specified! Please either pass a chat "
                "template or the name of the template you wish to use to the `chat_template` argument. Available "
                f"template names are {sorted(templates)}."
            )
    elif chat_template is None:
        if tok.chat_template is None:
            raise ValueError(
                "Cannot use chat template functions because tokenizer.chat_template is not set and no template "
                "argument was passed! Set tokenizer.chat_template to a Jinja template string, or pass "
                "chat_template=... (see https://huggingface.co/docs/transformers/main/en/chat_templating)."
            )
        return tok.chat_template
    return chat_template


def _tool_schemas(tools: list | None) -> list[dict] | None:
    if tools is None:
        return None
    schemas = []
    for tool in tools:
        if isinstance(tool, dict):
            schemas.append(tool)
        elif inspect.isfunction(
            tool
        ):  # as the reference: not methods, builtins, partials or callable objects
            schemas.append(get_json_schema(tool))
        else:
            raise ValueError(
                "Tools should either be a JSON schema, or a callable function with type hints "
                "and a docstring suitable for auto-conversion to a schema."
            )
    return schemas


def _mark_final_message(chat: list) -> tuple[list, str]:
    """Append the continue tag to the text of the last message; returns (copy of chat, original text)."""
    chat = copy.deepcopy(chat)
    final = chat[-1]["content"]
    if isinstance(final, (list, tuple)):
        for block in reversed(final):
            if "text" in block:
                final = block["text"]
                block["text"] = block["text"] + _CONTINUE_TAG
                return chat, final
        raise ValueError(
            "continue_final_message is set but we could not find any text to continue in the final message!"
        )
    chat[-1]["content"] = final + _CONTINUE_TAG
    return chat, final


def _cut_at_final_message(rendered: str, final: str) -> str:
    if final.strip() not in rendered or _CONTINUE_TAG.strip() not in rendered:
        raise ValueError(
            "continue_final_message is set but the final message does not appear in the chat after applying the "
            "chat template! This can happen if the chat template deletes portions of the final message. Please "
            "verify the chat template and final message in your chat to ensure they are compatible."
        )
    loc = rendered.rindex(_CONTINUE_TAG.strip())
    if rendered[loc : loc + len(_CONTINUE_TAG)] == _CONTINUE_TAG:
        return rendered[:loc]
    return rendered[:loc].rstrip()


def render_chat(
    conversations: list[list[dict]],
    chat_template: str,
    tools: list | None = None,
    documents: list[dict] | None = None,
    add_generation_prompt: bool = False,
    continue_final_message: bool = False,
    return_assistant_tokens_mask: bool = False,
    **template_kwargs: Any,
) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Render each conversation; returns the texts and, per text, the assistant ``(start, end)`` char spans."""
    if return_assistant_tokens_mask and not re.search(r"\{\%-?\s*generation\s*-?\%\}", chat_template):
        log.warning(
            "return_assistant_tokens_mask==True but chat template does not contain `{% generation %}` keyword."
        )
    template = compile_template(chat_template)
    schemas = _tool_schemas(tools)
    for document in documents or []:
        if not isinstance(document, dict):
            raise TypeError("Documents should be a list of dicts with 'title' and 'text' keys!")
    rendered, all_indices = [], []
    for chat in conversations:
        chat = getattr(chat, "messages", chat)
        if continue_final_message:
            chat, final = _mark_final_message(chat)
        context = dict(
            messages=chat, tools=schemas, documents=documents, add_generation_prompt=add_generation_prompt
        )
        context.update(template_kwargs)
        if return_assistant_tokens_mask:
            blocks: list[str] = []
            indices: list[tuple[int, int]] = []
            with template.environment.activate_tracker(blocks, indices):
                for block in template.generate(**context):
                    blocks.append(block)
                text = "".join(blocks)
            all_indices.append(indices)
        else:
            text = template.render(**context)
        if continue_final_message:
            text = _cut_at_final_message(text, final)
        rendered.append(text)
    return rendered, all_indices


def _assistant_masks(out: Any, indices: list, batched: bool, return_tensors: str | None) -> list:
    input_ids = out["input_ids"] if batched or return_tensors else [out["input_ids"]]
    masks = []
    for i in range(len(input_ids)):
        mask = [0] * len(input_ids[i])
        for start_char, end_char in indices[i]:
            start = out.char_to_token(i, start_char)
            end = out.char_to_token(i, end_char - 1)
            if start is None:
                break
            for t in range(start, end + 1 if end else len(input_ids[i])):
                mask[t] = 1
        masks.append(mask)
    return masks if batched or return_tensors else masks[0]


def apply_chat_template(
    tok: Any,
    conversation: list,
    tools: list | None = None,
    documents: list[dict] | None = None,
    chat_template: str | None = None,
    add_generation_prompt: bool = False,
    continue_final_message: bool = False,
    tokenize: bool = True,
    padding: bool | str = False,
    truncation: bool = False,
    max_length: int | None = None,
    return_tensors: str | None = None,
    return_dict: bool = False,
    return_assistant_tokens_mask: bool = False,
    tokenizer_kwargs: dict | None = None,
    **kwargs: Any,
) -> Any:
    """``PreTrainedTokenizer.apply_chat_template``: render, then (by default) tokenize without special tokens."""
    if return_dict and not tokenize:
        raise ValueError(
            "`return_dict=True` is incompatible with `tokenize=False`, because there is no dict of tokenizer "
            "outputs to return."
        )
    if return_assistant_tokens_mask and not return_dict:
        raise ValueError("`return_assistant_tokens_mask=True` is incompatible with `return_dict=False`")
    if not isinstance(conversation, (list, tuple)) or not conversation:
        raise ValueError("conversation must be a non-empty list of {'role': ..., 'content': ...} messages")
    template = get_chat_template(tok, chat_template, tools)
    batched = isinstance(conversation[0], (list, tuple)) or hasattr(conversation[0], "messages")
    conversations = conversation if batched else [conversation]
    if continue_final_message:
        if add_generation_prompt:
            raise ValueError(
                "continue_final_message and add_generation_prompt are not compatible. Use continue_final_message when "
                "you want the model to continue the final message, and add_generation_prompt when you want to add a "
                "header that will prompt it to start a new assistant message instead."
            )
        if return_assistant_tokens_mask:
            raise ValueError("continue_final_message is not compatible with return_assistant_tokens_mask.")
    template_kwargs = {**tok.special_tokens_map, **kwargs}
    rendered, indices = render_chat(
        conversations,
        template,
        tools=tools,
        documents=documents,
        add_generation_prompt=add_generation_prompt,
        continue_final_message=continue_final_message,
        return_assistant_tokens_mask=return_assistant_tokens_mask,
        **template_kwargs,
    )
    text = rendered if batched else rendered[0]
    if not tokenize:
        return text
    out = tok(
        text,
        padding=padding,
        truncation=truncation,
        max_length=max_length,
        add_special_tokens=False,
        return_tensors=return_tensors,
        **(tokenizer_kwargs or {}),
    )
    if not return_dict:
        return out["input_ids"]
    if return_assistant_tokens_mask:
        out["assistant_masks"] = _assistant_masks(out, indices, batched, return_tensors)
        if return_tensors:
            out.convert_to_tensors(tensor_type=return_tensors)
    return out
