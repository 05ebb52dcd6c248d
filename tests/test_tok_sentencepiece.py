"""SentencePiece-style tokenizers (Metaspace, Precompiled, byte-fallback BPE, Unigram) vs the reference.

Reference tokenizer.json files are produced here: SentencePiece models trained on a tiny corpus and
converted by transformers' converters, Mistral's tokenizer.model through LlamaTokenizerFast, and a
Unigram trained by the reference's own UnigramTrainer.
"""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pytest

from pretrained.tokenizers import Tokenizer
from tests.tok_parity import HARD_TEXTS, PAIRS, assert_same_encode

tokenizers = pytest.importorskip("tokenizers")
spm = pytest.importorskip("sentencepiece")
transformers = pytest.importorskip("transformers")

EXTRA = ["ＦＵＬＬ ① ﬁ ½ ™ Ⅻ ㎏ ℃", "e\u0301\u0301 x", "\u1100\u1161\u11a8 각", "क्षि 👩🏽‍💻", "  x  ", "\t\n",
         "``quoted'' text", "<s>hi</s> [INST] x", "▁▁a ▁", "\U0001d518 \U0001fae8"]  # fmt: skip
TEXTS = HARD_TEXTS + EXTRA


def _corpus(path: Path) -> Path:
    rng = random.Random(0)
    words = ("the quick brown fox jumps over lazy dog Ångström café naïve 東京 日本語 ＦＵＬＬ ① ﬁ résumé "
             "coöperate Straße ½ ™ hello world token izer").split()  # fmt: skip
    lines = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(300)]
    lines += [t.replace("\n", " ") for t in HARD_TEXTS] * 3
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _train(tmp: Path, corpus: Path, name: str, **kwargs) -> str:
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(tmp / name), vocab_size=700, hard_vocab_limit=False,
        character_coverage=1.0, minloglevel=2, **kwargs,
    )  # fmt: skip
    return str(tmp / f"{name}.model")


@pytest.fixture(scope="module")
def reference_jsons(tmp_path_factory) -> dict[str, str]:
    from transformers.convert_slow_tokenizer import convert_slow_tokenizer

    tmp = tmp_path_factory.mktemp("spm")
    corpus = _corpus(tmp / "corpus.txt")
    uni = _train(tmp, corpus, "uni", model_type="unigram", normalization_rule_name="nmt_nfkc")
    uni_bf = _train(
        tmp, corpus, "uni_bf", model_type="unigram", byte_fallback=True, normalization_rule_name="nfkc_cf"
    )
    bpe = _train(tmp, corpus, "bpe", model_type="bpe", byte_fallback=True)
    out = {}
    for cls in [
        "AlbertTokenizer",
        "XLMRobertaTokenizer",
        "T5Tokenizer",
        "XLNetTokenizer",
        "BigBirdTokenizer",
    ]:
        out[cls] = convert_slow_tokenizer(getattr(transformers, cls)(vocab_file=uni)).to_str()
    j = json.loads(convert_slow_tokenizer(transformers.T5Tokenizer(vocab_file=uni_bf)).to_str())
    j["model"]["byte_fallback"] = True  # the spm model has <0x..> pieces; the converter leaves the flag off
    j["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, j["decoder"]]}
    out["T5_byte_fallback"] = json.dumps(j)
    out["Llama_bpe"] = convert_slow_tokenizer(
        transformers.LlamaTokenizer(vocab_file=bpe, legacy=False)
    ).to_str()
    spec = importlib.util.find_spec("mistral_common")
    if spec is not None and spec.origin is not None:
        model = Path(spec.origin).parent / "data/tokenizer.model.v1"
        if model.exists():
            for legacy in (True, False):
                fast = transformers.LlamaTokenizerFast(
                    vocab_file=str(model), legacy=legacy, from_slow=not legacy
                )
                out[f"mistral_legacy={legacy}"] = fast.backend_tokenizer.to_str()
    # a Unigram the reference trains itself, with the usual T5-style pipeline around it
    from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

    ref = tokenizers.Tokenizer(models.Unigram())
    ref.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(tokenizers.Regex(" {2,}"), " ")]
    )
    ref.pre_tokenizer = pre_tokenizers.Metaspace()
    ref.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=300, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    ref.train_from_iterator(corpus.read_text(encoding="utf-8").splitlines(), trainer=trainer)
    out["trained_unigram"] = ref.to_str()
    return out


def _variants(base: str) -> dict[str, str]:
    """Metaspace / Prepend variants of a Llama-style BPE tokenizer."""
    out = {}
    for scheme in ["always", "first", "never"]:
        for split in [True, False]:
            j = json.loads(base)
            meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": split}
            j["normalizer"], j["pre_tokenizer"] = None, meta
            j["decoder"] = {
                "type": "Sequence",
                "decoders": [{"type": "ByteFallback"}, meta, {"type": "Fuse"}],
            }
            out[f"metaspace_{scheme}_{split}"] = json.dumps(j)
    j = json.loads(base)
    j["pre_tokenizer"] = None
    j["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}  # fmt: skip
    out["prepend_replace"] = json.dumps(j)
    return out


def _check(text_json: str) -> None:
    ours, ref = Tokenizer.from_str(text_json), tokenizers.Tokenizer.from_str(text_json)
    for text in TEXTS:
        assert_same_encode(ours, ref, text)
        assert_same_encode(ours, ref, text.split(), is_pretokenized=True)
        ids = ref.encode(text).ids
        assert ours.decode(ids) == ref.decode(ids), text
        assert ours.decode(ids, skip_special_tokens=False) == ref.decode(ids, skip_special_tokens=False), text
    for a, b in PAIRS:
        assert_same_encode(ours, ref, a, b)
    assert json.loads(tokenizers.Tokenizer.from_str(ours.to_str()).to_str()) == json.loads(ref.to_str())


NAMES = ["AlbertTokenizer", "XLMRobertaTokenizer", "T5Tokenizer", "XLNetTokenizer", "BigBirdTokenizer",
         "T5_byte_fallback", "Llama_bpe", "mistral_legacy=True", "mistral_legacy=False", "trained_unigram"]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_converted_tokenizers(reference_jsons, name):
    if name not in reference_jsons:
        pytest.skip(f"{name} reference not available")
    _check(reference_jsons[name])


def test_metaspace_and_prepend_variants(reference_jsons):
    for name, text_json in _variants(reference_jsons["Llama_bpe"]).items():
        try:
            _check(text_json)
        except AssertionError as e:
            raise AssertionError(f"variant {name}: {e}") from None


def test_precompiled_normalizer_alone(reference_jsons):
    import base64

    from pretrained.tokenizers.precompiled import Precompiled

    data = json.loads(reference_jsons["XLMRobertaTokenizer"])["normalizer"]["normalizers"][0]
    ours = Precompiled.from_dict(data)
    ref = tokenizers.normalizers.Precompiled(base64.b64decode(data["precompiled_charsmap"]))
    # marks newer than the reference's grapheme tables start a grapheme there (so "ˢ" alone maps to "s")
    newer = ["\u02e2\u1adf", "\u1f7d\u0734\U00010ef0\u0e39", "\u2464\u0598\U0001d252", "ˢ\u05c8 ᵃ\u0b53x"]
    for text in TEXTS + newer:
        assert ours.normalize_str(text) == ref.normalize_str(text), text
