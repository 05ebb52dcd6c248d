"""GGUF -> Hugging Face: config, state-dict names and layout, and tokenizer, against transformers 4.57."""

from __future__ import annotations

import io
import json
import logging

import pytest
import torch

from pretrained.gguf import (
    gguf_config,
    gguf_to_hf_name,
    gguf_tokenizer,
    hf_to_gguf_state_dict,
    iter_gguf_state_dict,
    permute_qk,
    read_gguf,
    unpermute_qk,
    write_gguf,
)
from tests.test_gguf import LLAMA_META, tiny_llama_state_dict

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")
pytest.importorskip("gguf")
from transformers.modeling_gguf_pytorch_utils import (  # noqa: E402
    LlamaTensorProcessor,
    load_gguf_checkpoint,
)

transformers.logging.set_verbosity_error()


def reference_tensors(path) -> tuple[dict, dict[str, torch.Tensor]]:
    """transformers' config and state dict for a GGUF file (model built on the meta device)."""
    cfg = load_gguf_checkpoint(str(path))["config"]
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(transformers.AutoConfig.for_model(**cfg))
    ref = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=model)
    return ref["config"], ref["tensors"]


def assert_config_matches(ours: dict, theirs: dict, extra: set[str] = frozenset()) -> None:
    assert {k: ours.get(k) for k in theirs} == theirs
    assert set(ours) - set(theirs) <= extra


def tiny_qwen2_state_dict() -> dict[str, torch.Tensor]:
    sd = tiny_llama_state_dict(seed=5)
    g = torch.Generator().manual_seed(6)
    for i in range(2):
        for x, n in (("q", 64), ("k", 32), ("v", 32)):
            sd[f"model.layers.{i}.self_attn.{x}_proj.bias"] = torch.randn(n, generator=g)
    return sd


def tiny_gpt2_state_dict() -> dict[str, torch.Tensor]:
    cfg = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=96, n_positions=64)
    torch.manual_seed(0)
    sd = transformers.GPT2LMHeadModel(cfg).state_dict()
    return {k: v for k, v in sd.items() if k != "lm_head.weight" and not k.endswith("attn.bias")}


GPT2_META = {
    "general.architecture": "gpt2",
    "gpt2.block_count": 2,
    "gpt2.context_length": 64,
    "gpt2.embedding_length": 32,
    "gpt2.feed_forward_length": 128,
    "gpt2.attention.head_count": 2,
    "gpt2.attention.layer_norm_epsilon": 1e-5,
    "tokenizer.ggml.model": "gpt2",
    "tokenizer.ggml.tokens": [f"t{i}" for i in range(96)],
    "tokenizer.ggml.merges": ["t 1"],
}


# ---------------------------------------------------------------- config + tensors


@pytest.mark.parametrize(
    "case",
    ["llama", "llama-tied", "mistral-name", "llama-q8", "qwen2", "gpt2"],
)
def test_config_and_state_dict_match_transformers(tmp_path, case):
    arch = case.split("-")[0].replace("mistral", "llama")
    if arch == "gpt2":
        sd, meta, heads = tiny_gpt2_state_dict(), dict(GPT2_META), (2, 2)
    else:
        sd = tiny_qwen2_state_dict() if arch == "qwen2" else tiny_llama_state_dict(tied=case == "llama-tied")
        meta = {
            k.replace("llama.", f"{arch}.") if k != "general.architecture" else k: v
            for k, v in LLAMA_META.items()
        }
        meta |= {"general.architecture": arch, f"{arch}.vocab_size": 96, f"{arch}.rope.dimension_count": 16}
        meta |= {"tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2}
        heads = (4, 2)
    if case == "mistral-name":
        meta["general.name"] = "mistral"
    tensors = hf_to_gguf_state_dict(sd, arch, *heads)
    path = tmp_path / f"{case}.gguf"
    write_gguf(path, meta, tensors, "Q8_0" if case in ("llama-q8", "qwen2") else None)

    if case == "mistral-name":  # transformers 4.57 cannot map tensors of "mistral" files: config only
        ref_config, ref_tensors = load_gguf_checkpoint(str(path))["config"], None
    else:
        ref_config, ref_tensors = reference_tensors(path)
    f = read_gguf(path)
    extra = {"n_positions", "n_inner"} if arch == "gpt2" else set()
    assert_config_matches(gguf_config(f), ref_config, extra)
    assert gguf_config(f)["model_type"] == ("mistral" if case == "mistral-name" else arch)
    assert gguf_config(f)["tie_word_embeddings"] == ("output.weight" not in tensors)

    ours = dict(iter_gguf_state_dict(f))
    if ref_tensors is not None:
        assert list(ours) == list(ref_tensors)  # same names, same (file) order
        for name, w in ours.items():
            torch.testing.assert_close(w, ref_tensors[name], rtol=0, atol=0, msg=name)
    if case in (
        "llama",
        "llama-tied",
        "mistral-name",
        "gpt2",
    ):  # unquantized: exactly the weights we started from
        for name, w in ours.items():
            assert torch.equal(w, sd[name]), name


def test_gguf_config_without_tensor_names_and_rope_scaling():
    meta = dict(LLAMA_META) | {"llama.rope.scaling.type": "linear", "llama.rope.scaling.factor": 4.0}
    meta |= {"tokenizer.ggml.tokens": ["a", "b", "c"]}
    cfg = gguf_config(meta)
    assert "tie_word_embeddings" not in cfg
    assert cfg["rope_scaling"] == {"rope_type": "linear", "factor": 4.0}
    assert cfg["vocab_size"] == 3  # from the token list when <arch>.vocab_size is absent
    meta["llama.rope.scaling.type"] = "yarn"
    meta["llama.rope.scaling.original_context_length"] = 4096
    assert gguf_config(meta)["rope_scaling"]["original_max_position_embeddings"] == 4096


@pytest.mark.parametrize("arch", ["phi3", "bert", None])
def test_unsupported_architecture(tmp_path, arch):
    meta = {"general.architecture": arch} if arch else {}
    path = tmp_path / "x.gguf"
    write_gguf(path, meta, {"token_embd.weight": torch.ones(2, 32)})
    match = (
        rf"architecture {arch!r} is not supported; supported: llama, mistral, qwen2, gpt2"
        if arch
        else "no general"
    )
    with pytest.raises(ValueError, match=match):
        gguf_config(read_gguf(path))
    with pytest.raises(ValueError, match=match):
        next(iter_gguf_state_dict(path))
    with pytest.raises(ValueError, match="architecture"):
        gguf_tokenizer(meta)


def test_unmapped_tensors_are_skipped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "extra.gguf"
    tensors = {
        "token_embd.weight": torch.ones(4, 32),
        "rope_freqs.weight": torch.ones(8),
        "mystery": torch.ones(2),
    }
    write_gguf(path, LLAMA_META, tensors)
    with caplog.at_level(logging.WARNING, logger="pretrained.gguf.mapping"):
        names = [n for n, _ in iter_gguf_state_dict(path, dtype=torch.bfloat16)]
    assert names == ["model.embed_tokens.weight"]
    assert "mystery" in caplog.text and "rope_freqs" not in caplog.text


def test_missing_kv_head_count_means_plain_mha(tmp_path):
    sd = {"model.layers.0.self_attn.k_proj.weight": torch.randn(64, 64)}
    meta = {k: v for k, v in LLAMA_META.items() if k != "llama.attention.head_count_kv"}
    path = tmp_path / "mha.gguf"
    write_gguf(path, meta, hf_to_gguf_state_dict(sd, "llama", n_head=4))
    assert torch.equal(
        dict(iter_gguf_state_dict(path))["model.layers.0.self_attn.k_proj.weight"], sd[next(iter(sd))]
    )


# ---------------------------------------------------------------- permutation


@pytest.mark.parametrize(("n_head", "n_kv", "cols"), [(4, 4, 64), (4, 2, 64), (8, 1, 16), (2, 2, 0)])
def test_permutation_round_trip_and_matches_transformers(n_head, n_kv, cols):
    g = torch.Generator().manual_seed(n_head * 10 + n_kv)
    head_dim = 8
    for rows, heads in ((n_head * head_dim, n_head), (n_kv * head_dim, n_kv)):
        w = torch.randn(rows, cols, generator=g) if cols else torch.randn(rows, generator=g)
        permuted = permute_qk(w, heads)
        assert not torch.equal(permuted, w)
        assert torch.equal(unpermute_qk(permuted, heads), w)
        ref = LlamaTensorProcessor(config={})._reverse_permute_weights(permuted.numpy(), n_head, heads)
        assert torch.equal(unpermute_qk(permuted, heads), torch.from_numpy(ref.copy()))


def test_gguf_to_hf_name():
    assert gguf_to_hf_name("blk.12.ffn_down.weight", "llama") == "model.layers.12.mlp.down_proj.weight"
    assert gguf_to_hf_name("blk.0.attn_k.bias", "qwen2") == "model.layers.0.self_attn.k_proj.bias"
    assert gguf_to_hf_name("blk.3.attn_qkv.bias", "gpt2") == "transformer.h.3.attn.c_attn.bias"
    assert gguf_to_hf_name("output.weight", "llama") == "lm_head.weight"
    assert gguf_to_hf_name("rope_freqs.weight", "llama") is None
    with pytest.raises(KeyError, match="no GGUF name for 'model.nope.weight'"):
        hf_to_gguf_state_dict({"model.nope.weight": torch.ones(1)}, "llama", 1)


# ---------------------------------------------------------------- tokenizer

TEXT = (
    "The quick brown fox jumps over the lazy dog. Héllo wörld! 你好世界 1234 5678 emoji 😀 tabs\tand\nnewlines "
    "  spaces   here. It's we'll they're I'd. Ünïcödé straße naïve café. "
) * 20
SAMPLES = [
    "",
    "Hello world",
    "  leading spaces",
    "trailing  ",
    "   ",
    "Héllo wörld 你好 😀🤖",
    "a\tb\nc\r\nd\n\n\n",
    "<|im_start|>user\nhi<|im_end|>",
    "<s>x</s> <unk>",
    "it's 12345 DON'T we'LL",
    "naïve café straße",
    "<0x41> ▁ ▁▁x",
    "日本語のテキスト。",
]


def spm_vocab(model_type: str = "bpe") -> tuple[list[str], list[float], list[int]]:
    """A small SentencePiece model, exported the way llama.cpp's converter does (pieces, scores, types)."""
    spm = pytest.importorskip("sentencepiece")
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TEXT.split(". ")),
        model_writer=buf,
        vocab_size=400,
        model_type=model_type,
        byte_fallback=True,
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        kind = (sp.is_unknown(i), sp.is_control(i), sp.is_unused(i), sp.is_byte(i))
        types.append({0: 2, 1: 3, 2: 5, 3: 6}[kind.index(True)] if any(kind) else 1)
    return tokens, scores, types


def byte_bpe_vocab(specials=("<|endoftext|>", "<|im_start|>", "<|im_end|>")) -> tuple[list[str], list[str]]:
    """A small byte-level BPE (tokens, merges), trained with the tokenizers library."""
    t = tokenizers.Tokenizer(tokenizers.models.BPE())
    t.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=500,
        special_tokens=list(specials),
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    t.train_from_iterator([TEXT], trainer)
    j = json.loads(t.to_str())
    tokens = [k for k, _ in sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])]
    return tokens, [" ".join(m) for m in j["model"]["merges"]]


def tokenizer_file(tmp_path, name: str, arch: str, meta: dict) -> str:
    base = {f"{arch}.block_count": 1, f"{arch}.embedding_length": 32, f"{arch}.attention.head_count": 2}
    write_gguf(
        tmp_path / name,
        {"general.architecture": arch, **base, **meta},
        {"token_embd.weight": torch.ones(2, 32)},
    )
    return str(tmp_path / name)


def spm_meta(**overrides) -> dict:
    tokens, scores, types = spm_vocab(overrides.pop("model_type", "bpe"))
    meta = {
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.scores": scores,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.unknown_token_id": 0,
        "tokenizer.ggml.bos_token_id": 1,
        "tokenizer.ggml.eos_token_id": 2,
        "tokenizer.ggml.add_bos_token": True,
        "tokenizer.chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}",
    }
    return {k: v for k, v in (meta | overrides).items() if v is not None}


def bpe_meta(specials=("<|endoftext|>", "<|im_start|>", "<|im_end|>"), **overrides) -> dict:
    tokens, merges = byte_bpe_vocab(specials)
    meta = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": [3 if t in specials else 1 for t in tokens],
        "tokenizer.ggml.merges": merges,
        "tokenizer.ggml.bos_token_id": 1,
        "tokenizer.ggml.eos_token_id": 2,
    }
    return {k: v for k, v in (meta | overrides).items() if v is not None}


def assert_tokenizer_matches(path: str) -> tuple[dict, dict]:
    """Our dict, loaded by the tokenizers library, serializes and encodes exactly like transformers'."""
    folder, name = path.rsplit("/", 1)
    ref = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    tok_json, tok_config = gguf_tokenizer(read_gguf(path).metadata)
    ours = tokenizers.Tokenizer.from_str(json.dumps(tok_json))
    assert json.loads(ours.to_str()) == json.loads(ref.backend_tokenizer.to_str())
    for text in SAMPLES:
        ids = ours.encode(text).ids
        assert ids == ref(text)["input_ids"], text
        assert ours.decode(ids, skip_special_tokens=False) == ref.decode(ids), text
    assert ours.encode("Hello", "world").ids == ref("Hello", "world")["input_ids"]
    return tok_json, tok_config


SPM_CASES = {
    "default": {},
    "no-prefix-space": {"tokenizer.ggml.add_space_prefix": False},
    "prefix-space": {"tokenizer.ggml.add_space_prefix": True},
    "no-token-types": {"tokenizer.ggml.token_type": None},
    "no-unk": {"tokenizer.ggml.unknown_token_id": None},
    "unigram-pieces": {"model_type": "unigram"},
}


@pytest.mark.parametrize("case", list(SPM_CASES))
def test_sentencepiece_tokenizer_matches_transformers(tmp_path, case):
    path = tokenizer_file(tmp_path, f"spm-{case}.gguf", "llama", spm_meta(**SPM_CASES[case]))
    _, config = assert_tokenizer_matches(path)
    assert config["tokenizer_class"] == "LlamaTokenizerFast" and config["add_bos_token"] is True
    # without token types '</s>' is no special token: EOS is then transformers' (the BOS string), keeping its ids
    eos = "<s>" if case == "no-token-types" else "</s>"
    assert (config["bos_token"], config["eos_token"]) == ("<s>", eos)
    assert config["chat_template"].startswith("{% for m in messages %}")


def test_sentencepiece_with_stored_merges(tmp_path):
    """A file that ships merges uses them (here: the ones transformers would derive from the scores)."""
    meta = spm_meta()
    derived, _ = gguf_tokenizer({"general.architecture": "llama", **meta})
    meta["tokenizer.ggml.merges"] = [" ".join(m) for m in derived["model"]["merges"]]
    tok_json, _ = assert_tokenizer_matches(tokenizer_file(tmp_path, "spm-merges.gguf", "llama", meta))
    assert tok_json["model"]["merges"] == derived["model"]["merges"]


BPE_CASES = {
    "llama": ("llama", {}),
    "llama-prefix-space": ("llama", {"tokenizer.ggml.add_space_prefix": True}),
    "llama-unk": ("llama", {"tokenizer.ggml.unknown_token_id": 0}),
    "qwen2": ("qwen2", {}),
    "qwen2-prefix-space": ("qwen2", {"tokenizer.ggml.add_space_prefix": True}),
    "qwen2-no-specials": ("qwen2", {"specials": ()}),
    "gpt2": ("gpt2", {}),
    "gpt2-no-endoftext": ("gpt2", {"specials": ("<|im_start|>",)}),
}


@pytest.mark.parametrize("case", list(BPE_CASES))
def test_byte_level_tokenizer_matches_transformers(tmp_path, case):
    arch, overrides = BPE_CASES[case]
    meta = bpe_meta(**overrides)
    tok_json, config = assert_tokenizer_matches(tokenizer_file(tmp_path, f"{case}.gguf", arch, meta))
    # the file's EOS string where it is a special token already (else it would split text unlike transformers)
    own_eos = meta["tokenizer.ggml.tokens"][2]
    special = {e["content"] for e in tok_json["added_tokens"] if e["special"]}
    assert config["eos_token"] == (own_eos if own_eos in special else "<|endoftext|>")
    assert config["add_bos_token"] is (arch == "llama")


def test_tokenizer_bad_metadata():
    meta = {"general.architecture": "llama", "tokenizer.ggml.model": "bert", "tokenizer.ggml.tokens": ["a"]}
    with pytest.raises(NotImplementedError, match="tokenizer.ggml.model 'bert'"):
        gguf_tokenizer(meta)
    with pytest.raises(ValueError, match="has no tokenizer"):
        gguf_tokenizer({"general.architecture": "llama"})
    meta |= {"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.merges": ["a b c"]}
    with pytest.raises(ValueError, match="'a b c' is not two tokens"):
        gguf_tokenizer(meta)
    meta |= {"tokenizer.ggml.merges": [], "tokenizer.ggml.bos_token_id": 5}
    with pytest.raises(ValueError, match="bos_token_id = 5 is outside the vocabulary"):
        gguf_tokenizer(meta)


ODD_SPECIALS = {
    "spm-no-token-types": ("llama", lambda: spm_meta(**{"tokenizer.ggml.token_type": None})),
    "spm-pad": ("llama", lambda: spm_meta(**{"tokenizer.ggml.padding_token_id": 0})),
    "gpt2-file-ids": ("gpt2", lambda: bpe_meta(**{"tokenizer.ggml.padding_token_id": 2})),
    "gpt2-no-endoftext": ("gpt2", lambda: bpe_meta(specials=("<|im_start|>",))),
    "qwen2-no-specials": ("qwen2", lambda: bpe_meta(specials=())),
}


@pytest.mark.parametrize("case", list(ODD_SPECIALS))
def test_our_tokenizer_keeps_transformers_ids_when_the_files_specials_are_not_special(tmp_path, case):
    """A file whose EOS/PAD string is not a special token (no token types; gpt2 files, whose types transformers
    ignores) must not make it one: '</s>' or '<|im_end|>' in text is split as transformers splits it."""
    from pretrained import AutoTokenizer

    arch, make = ODD_SPECIALS[case]
    meta = make()
    path = tokenizer_file(tmp_path, f"{case}.gguf", arch, meta)
    ref = transformers.AutoTokenizer.from_pretrained(str(tmp_path), gguf_file=f"{case}.gguf")
    ours = AutoTokenizer.from_pretrained(str(tmp_path), gguf_file=f"{case}.gguf")
    tokens = meta["tokenizer.ggml.tokens"]
    texts = [f"a{tokens[i]}b {tokens[i]}" for i in range(4)] + [
        "<s>x</s> <unk>",
        "<|im_start|>u\nhi<|im_end|>",
    ]
    for text in texts:
        assert ours(text)["input_ids"] == ref(text)["input_ids"], text
        got = ours(text, return_offsets_mapping=True)["offset_mapping"]
        assert got == ref(text, return_offsets_mapping=True)["offset_mapping"], text
        ids = ref(text)["input_ids"]
        assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True), text
    special = {e["content"] for e in gguf_tokenizer(read_gguf(path))[0]["added_tokens"] if e["special"]}
    assert ours.eos_token == ref.eos_token or ours.eos_token in special


def test_one_element_arrays_read_as_scalars_like_transformers(tmp_path):
    """transformers reads a one-element metadata array as its element (head_count_kv = [2] -> 2)."""
    import gguf

    V = gguf.GGUFValueType
    sd = hf_to_gguf_state_dict(tiny_llama_state_dict(), "llama", 4, 2)
    path = tmp_path / "arrays.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    for key, value in LLAMA_META.items():
        if key == "llama.attention.head_count_kv":
            w.add_key_value(key, [value], V.ARRAY, V.UINT32)
        elif key == "general.architecture":
            continue
        elif isinstance(value, float):
            w.add_key_value(key, value, V.FLOAT32)
        else:
            w.add_key_value(key, value, V.UINT32)
    w.add_key_value("tokenizer.ggml.bos_token_id", [1], V.ARRAY, V.UINT32)
    for name, t in sd.items():
        w.add_tensor(name, t.numpy())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    ref_config, ref_tensors = reference_tensors(path)
    ours = gguf_config(read_gguf(path))
    assert ours == ref_config
    assert (ours["num_key_value_heads"], ours["bos_token_id"]) == (2, 1)
    for name, t in iter_gguf_state_dict(path):
        torch.testing.assert_close(t, ref_tensors[name], rtol=0, atol=0)


def test_tokenizer_with_one_element_array_ids(tmp_path):
    meta = bpe_meta(**{"tokenizer.ggml.bos_token_id": [1], "tokenizer.ggml.eos_token_id": [2]})
    _, config = assert_tokenizer_matches(tokenizer_file(tmp_path, "array-ids.gguf", "llama", meta))
    assert (config["bos_token"], config["eos_token"]) == ("<|im_start|>", "<|im_end|>")


def test_qwen2_pads_with_transformers_pad_token_whatever_the_file_says(tmp_path):
    """Qwen2TokenizerFast always pads with <|endoftext|>; a file naming another pad id must not change padded ids."""
    from pretrained import AutoTokenizer

    meta = bpe_meta(**{"tokenizer.ggml.padding_token_id": 2})
    tokenizer_file(tmp_path, "qwen-pad.gguf", "qwen2", meta)
    ref = transformers.AutoTokenizer.from_pretrained(str(tmp_path), gguf_file="qwen-pad.gguf")
    ours = AutoTokenizer.from_pretrained(str(tmp_path), gguf_file="qwen-pad.gguf")
    batch = ["Hello world", "a", "naïve café straße 你好"]
    for side in ("right", "left"):
        ref.padding_side = ours.padding_side = side
        assert dict(ours(batch, padding=True)) == dict(ref(batch, padding=True))
    assert ours.pad_token == ref.pad_token == "<|endoftext|>"
