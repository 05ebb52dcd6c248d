"""Text generation (``"text-generation"``): continue prompts, or chats rendered with the tokenizer's chat template.

Behaves as transformers 4.57's ``TextGenerationPipeline``: same defaults (``max_new_tokens=256``, sampling at
``temperature=0.7`` unless the model's generation config says otherwise), same arguments, same outputs. Batches
are padded on the left, whatever the tokenizer's padding side (a decoder-only model continues the last token).

>>> from pretrained import pipeline
>>> generator = pipeline("text-generation", model="path/to/gpt2")  # doctest: +SKIP
>>> generator("Hello, I'm a language model,", do_sample=False, max_new_tokens=5)  # doctest: +SKIP
[{'generated_text': "Hello, I'm a language model, and I'm a"}]
>>> chat = [{"role": "user", "content": "What is the capital of France?"}]
>>> generator(chat, do_sample=False)[0]["generated_text"][-1]  # doctest: +SKIP
{'role': 'assistant', 'content': 'The capital of France is Paris.'}
"""

from __future__ import annotations

import enum
import itertools
import logging
from typing import Any

from ..generation import GenerationConfig
from .base import is_stream
from .generate import GenerationPipeline

log = logging.getLogger(__name__)


class ReturnType(enum.Enum):
    TENSORS = 0
    NEW_TEXT = 1
    FULL_TEXT = 2


class Chat:
    """One conversation (a list of ``{"role", "content"}`` messages), so a chat is not mistaken for a batch."""

    def __init__(self, messages: Any) -> None:
        if not isinstance(messages, (list, tuple)) or not messages:
            raise ValueError("a chat must be a non-empty list of {'role': ..., 'content': ...} messages")
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or "role" not in message or "content" not in message:
                raise ValueError(
                    f"chat message {i} is {message!r}: when passing chat dicts as input, each dict must have a "
                    "'role' and 'content' key"
                )
        self.messages = list(messages)

    def __repr__(self) -> str:
        return f"Chat({self.messages!r})"


def _as_chat(item: Any) -> Any:
    return Chat(item) if isinstance(item, (list, tuple)) else item


class TextGenerationPipeline(GenerationPipeline):
    """Complete prompts (``str``), or continue chats (``list[dict]``; a list of them is a batch of chats).

    Arguments (at construction or per call): ``return_full_text`` (default True: prompt + new text; for chats
    the conversation with the new assistant message appended), ``return_tensors`` (token ids instead of text),
    ``return_text``, ``clean_up_tokenization_spaces``, ``skip_special_tokens``, ``prefix``,
    ``handle_long_generation="hole"``, ``stop_sequence``, ``continue_final_message``, ``add_special_tokens``,
    ``truncation``/``padding``/``max_length``/``tokenizer_encode_kwargs`` for the tokenizer, and every
    ``generate`` argument (``max_new_tokens``, ``do_sample``, ``num_beams``, ``num_return_sequences``, ...).

    >>> generator = pipeline("text-generation", model="path/to/llama")  # doctest: +SKIP
    >>> generator(["Once upon", "In a"], max_new_tokens=3, do_sample=False, return_full_text=False)  # doctest: +SKIP
    [[{'generated_text': ' a time,'}], [{'generated_text': ' world where'}]]
    """

    _default_generation_config = GenerationConfig(max_new_tokens=256, do_sample=True, temperature=0.7)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "prefix" not in self._preprocess_params and self.prefix is not None:
            pre, fwd, _ = self._sanitize_parameters(prefix=self.prefix, **self._forward_params)
            self._preprocess_params = {**self._preprocess_params, **pre}
            self._forward_params = {**self._forward_params, **fwd}

    def padding_side(self) -> str:
        return "left"

    def _sanitize_parameters(
        self,
        return_full_text: bool | None = None,
        return_tensors: bool | None = None,
        return_text: bool | None = None,
        return_type: ReturnType | None = None,
        clean_up_tokenization_spaces: bool | None = None,
        prefix: str | None = None,
        handle_long_generation: str | None = None,
        stop_sequence: str | None = None,
        truncation: Any = None,
        max_length: int | None = None,
        continue_final_message: bool | None = None,
        skip_special_tokens: bool | None = None,
        tokenizer_encode_kwargs: dict | None = None,
        **generate_kwargs: Any,
    ) -> tuple[dict, dict, dict]:
        pre: dict[str, Any] = {}
        add_special_tokens = False
        if "add_special_tokens" in generate_kwargs:
            add_special_tokens = pre["add_special_tokens"] = generate_kwargs.pop("add_special_tokens")
        if "padding" in generate_kwargs:
            pre["padding"] = generate_kwargs.pop("padding")
        if truncation is not None:
            pre["truncation"] = truncation
        if max_length is not None:
            pre["max_length"] = generate_kwargs["max_length"] = max_length
        if prefix is not None:
            pre["prefix"] = prefix
        if prefix:
            ids = self.tokenizer(prefix, padding=False, add_special_tokens=add_special_tokens)["input_ids"]
            generate_kwargs["prefix_length"] = len(ids)
        if handle_long_generation is not None:
            if handle_long_generation != "hole":
                raise ValueError(
                    f"{handle_long_generation!r} is not a valid value for `handle_long_generation`; expected "
                    "None or 'hole'"
                )
            pre["handle_long_generation"] = handle_long_generation
        if continue_final_message is not None:
            pre["continue_final_message"] = continue_final_message
        if tokenizer_encode_kwargs is not None:
            pre["tokenizer_encode_kwargs"] = tokenizer_encode_kwargs
        pre.update(generate_kwargs)
        if stop_sequence is not None:
            generate_kwargs["eos_token_id"] = self.tokenizer.encode(stop_sequence, add_special_tokens=False)
        post = self._postprocess_params_of(
            return_full_text, return_tensors, return_text, return_type, clean_up_tokenization_spaces
        )
        if continue_final_message is not None:
            post["continue_final_message"] = continue_final_message
        if skip_special_tokens is not None:
            post["skip_special_tokens"] = skip_special_tokens
        return pre, generate_kwargs, post

    @staticmethod
    def _postprocess_params_of(
        return_full_text: Any, return_tensors: Any, return_text: Any, return_type: Any, clean_up: Any
    ) -> dict[str, Any]:
        post: dict[str, Any] = {}
        if return_full_text is not None and return_type is None:
            if return_text is not None:
                raise ValueError("`return_text` is mutually exclusive with `return_full_text`")
            if return_tensors is not None:
                raise ValueError("`return_full_text` is mutually exclusive with `return_tensors`")
            return_type = ReturnType.FULL_TEXT if return_full_text else ReturnType.NEW_TEXT
        if return_tensors is not None and return_type is None:
            if return_text is not None:
                raise ValueError("`return_text` is mutually exclusive with `return_tensors`")
            return_type = ReturnType.TENSORS
        if return_type is not None:
            post["return_type"] = return_type
        if clean_up is not None:
            post["clean_up_tokenization_spaces"] = clean_up
        return post

    def __call__(self, text_inputs: Any, **kwargs: Any) -> Any:
        """Generate for one prompt or chat (-> a list of results), or a list of them (-> a list of lists)."""
        if isinstance(text_inputs, tuple):
            text_inputs = list(text_inputs)
        if isinstance(text_inputs, list) and text_inputs:
            if isinstance(text_inputs[0], dict):
                return super().__call__(Chat(text_inputs), **kwargs)
            if isinstance(text_inputs[0], (list, tuple)):
                return super().__call__([Chat(chat) for chat in text_inputs], **kwargs)
        elif is_stream(text_inputs):
            stream = iter(text_inputs)
            first = next(stream, None)
            if first is None:
                return iter(())
            items = itertools.chain([first], stream)
            if isinstance(first, (list, tuple)):
                items = (_as_chat(item) for item in items)
            return super().__call__(items, **kwargs)
        return super().__call__(text_inputs, **kwargs)

    def preprocess(
        self,
        prompt_text: Any,
        prefix: str = "",
        handle_long_generation: str | None = None,
        add_special_tokens: bool | None = None,
        truncation: Any = None,
        padding: Any = None,
        max_length: int | None = None,
        continue_final_message: bool | None = None,
        tokenizer_encode_kwargs: dict | None = None,
        **generate_kwargs: Any,
    ) -> dict[str, Any]:
        options = {
            "add_special_tokens": add_special_tokens,
            "truncation": truncation,
            "padding": padding,
            "max_length": max_length,
        }
        options = {k: v for k, v in options.items() if v is not None}
        options.update(tokenizer_encode_kwargs or {})
        if isinstance(prompt_text, Chat):
            options.pop("add_special_tokens", None)  # a chat template places its own special tokens
            if continue_final_message is None:  # a final assistant message is a prefill by default
                continue_final_message = prompt_text.messages[-1]["role"] == "assistant"
            inputs = self.tokenizer.apply_chat_template(
                prompt_text.messages,
                add_generation_prompt=not continue_final_message,
                continue_final_message=continue_final_message,
                return_dict=True,
                return_tensors="pt",
                **options,
            )
        elif isinstance(prompt_text, str):
            inputs = self.tokenizer(prefix + prompt_text, return_tensors="pt", **options)
        else:
            raise TypeError(
                "text-generation takes a prompt (str), a chat (list of {'role', 'content'} dicts), or a list of "
                f"those; got {type(prompt_text).__name__}"
            )
        inputs = {"input_ids": inputs["input_ids"], "attention_mask": inputs.get("attention_mask")}
        if inputs["attention_mask"] is None:
            del inputs["attention_mask"]
        if handle_long_generation == "hole":
            self._make_room(inputs, generate_kwargs)
        inputs["prompt_text"] = prompt_text
        return inputs

    def _make_room(self, inputs: dict[str, Any], generate_kwargs: dict[str, Any]) -> None:
        """``handle_long_generation="hole"``: cut the prompt on the left so the new tokens fit the model."""
        cur_len = inputs["input_ids"].shape[-1]
        if "max_new_tokens" in generate_kwargs:
            new_tokens = generate_kwargs["max_new_tokens"]
        else:
            new_tokens = generate_kwargs.get("max_length", self.generation_config.max_length) - cur_len
            if new_tokens < 0:
                raise ValueError("We cannot infer how many new tokens are expected")
        limit = self.tokenizer.model_max_length
        if cur_len + new_tokens > limit:
            keep = limit - new_tokens
            if keep <= 0:
                raise ValueError(
                    f"handle_long_generation='hole': {new_tokens} new tokens exceed the model's maximum length "
                    f"({limit}); ask for fewer tokens"
                )
            for key in ("input_ids", "attention_mask"):
                if key in inputs:
                    inputs[key] = inputs[key][:, -keep:]

    def _forward(self, model_inputs: dict[str, Any], **generate_kwargs: Any) -> dict[str, Any]:
        input_ids = model_inputs["input_ids"]  # (B, T)
        attention_mask = model_inputs.get("attention_mask")
        if input_ids.shape[1] == 0:  # an empty prompt: generate from the BOS token
            input_ids = attention_mask = None
            in_b = 1
        else:
            in_b = input_ids.shape[0]
        prompt_text = model_inputs["prompt_text"]
        self._extend_for_prefix(generate_kwargs)
        output = self.generate({"input_ids": input_ids, "attention_mask": attention_mask}, generate_kwargs)
        sequences, extra = self.split_outputs(output, in_b)  # (B, n, L)
        # the prompt ids keep the batch's padding (not an input key, so not unpadded): the prompt's text is then
        # decoded as the reference decodes it, pad tokens included when skip_special_tokens=False
        out = {"generated_sequence": sequences, "prompt_ids": input_ids, "prompt_text": prompt_text}
        out.update(extra)
        return out

    def _extend_for_prefix(self, generate_kwargs: dict[str, Any]) -> None:
        """A prefix counts toward ``max_length``/``min_length`` (unless they are given as new-token counts)."""
        prefix_length = generate_kwargs.pop("prefix_length", 0)
        if prefix_length <= 0:
            return
        cfg = generate_kwargs.get("generation_config")
        if "max_new_tokens" not in generate_kwargs and (cfg is None or cfg.max_new_tokens is None):
            max_length = generate_kwargs.get("max_length") or self.generation_config.max_length
            generate_kwargs["max_length"] = max_length + prefix_length
        has_min_new = "min_new_tokens" in generate_kwargs or (
            cfg is not None and cfg.min_new_tokens is not None
        )
        if not has_min_new and "min_length" in generate_kwargs:
            generate_kwargs["min_length"] += prefix_length

    def postprocess(
        self,
        model_outputs: dict[str, Any],
        return_type: ReturnType = ReturnType.FULL_TEXT,
        clean_up_tokenization_spaces: bool = True,
        continue_final_message: bool | None = None,
        skip_special_tokens: bool | None = None,
    ) -> list[dict[str, Any]]:
        sequences = model_outputs["generated_sequence"][0].tolist()  # n lists of ids
        input_ids, prompt_text = model_outputs["prompt_ids"], model_outputs["prompt_text"]
        extra = self._additional_outputs(model_outputs, len(sequences))
        decode = dict(
            skip_special_tokens=True if skip_special_tokens is None else skip_special_tokens,
            clean_up_tokenization_spaces=clean_up_tokenization_spaces,
        )
        prompt_length = 0 if input_ids is None else len(self.tokenizer.decode(input_ids[0], **decode))
        records = []
        for idx, sequence in enumerate(sequences):
            if return_type == ReturnType.TENSORS:
                record: dict[str, Any] = {"generated_token_ids": sequence}
            else:
                new_text = self.tokenizer.decode(sequence, **decode)[prompt_length:]
                record = {"generated_text": new_text}
                if return_type == ReturnType.FULL_TEXT:
                    record["generated_text"] = self._full_text(prompt_text, new_text, continue_final_message)
                for key, values in extra.items():
                    record[key] = values[idx]
            records.append(record)
        return records

    @staticmethod
    def _additional_outputs(model_outputs: dict[str, Any], n: int) -> dict[str, list]:
        """Per-sequence lists of ``generate``'s other outputs, kept where the reference keeps them: per-step
        outputs always, per-sequence tensors (beam scores) only with one sequence per input."""
        extra = {}
        for key, value in model_outputs.items():
            kind, _, name = key.partition(":")
            if kind == "step":
                extra[name] = value[0].tolist()  # n x (steps, ...)
            elif kind == "sequence" and n == 1:
                extra[name] = [value[0].tolist()]
        return extra

    @staticmethod
    def _full_text(prompt_text: Any, new_text: str, continue_final_message: bool | None) -> Any:
        """The prompt and the new text: a string, or the chat with the new text as the assistant's message."""
        if isinstance(prompt_text, str):
            return prompt_text + new_text
        messages = prompt_text.messages
        if continue_final_message is None:
            continue_final_message = messages[-1]["role"] == "assistant"
        if continue_final_message:  # a prefill: the new text continues the final message
            last = messages[-1]
            return messages[:-1] + [{"role": last["role"], "content": last["content"] + new_text}]
        return messages + [{"role": "assistant", "content": new_text}]
