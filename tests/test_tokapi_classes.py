"""Tokenizer classes beyond BERT/GPT-2/Llama/T5: the reference builds each fast class from small vocabulary
files and saves it; ``AutoTokenizer`` must load that folder into the same class with the same behavior."""

from __future__ import annotations

import json
import logging

import pytest

from pretrained import AutoTokenizer
from tests.test_tokapi_common import GPT2_FILES, MINILM, assert_same_batch, same_json, train_t5_model

transformers = pytest.importorskip("transformers")
pytest.importorskip("sentencepiece")

TEXTS = [
    "Hello world!",
    "",
    "é 😀 北京 <s> [SEP] </s> <mask> [MASK]",
    "  spaces\tand\nlines  ",
    "Tell me more ﬁ",
]
SPM_CLASSES = [
    "XLMRoberta",
    "Albert",
    "Camembert",
    "MT5",
    "Pegasus",
    "XLNet",
    "BigBird",
    "MBart",
    "Nllb",
    "DebertaV2",
]
BPE_CLASSES = ["Qwen2", "Bart", "CodeGen", "Whisper", "CLIP", "Longformer", "Roberta", "GPT2"]
WORDPIECE_CLASSES = ["DistilBert", "MPNet", "Electra", "SqueezeBert", "MobileBert"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A small byte-level BPE (the first 3000 GPT-2 merges), a tiny SentencePiece model and BERT's vocab."""
    folder = tmp_path_factory.mktemp("vocab")
    merges = GPT2_FILES[1].read_text(encoding="utf-8").split("\n")[1:3001]
    full = json.loads(GPT2_FILES[0].read_text(encoding="utf-8"))
    keep = {tok for tok, i in full.items() if i < 256} | {"".join(m.split()) for m in merges}
    keep |= {"<|endoftext|>", "<s>", "</s>", "<pad>", "<unk>", "<mask>", "<|startoftext|>"}
    vocab = {tok: i for i, tok in enumerate(sorted(keep, key=lambda t: full.get(t, 10**6)))}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return {
        "vocab.json": str(folder / "vocab.json"),
        "merges.txt": str(folder / "merges.txt"),
        "spm": str(train_t5_model(folder)),
        "vocab.txt": str(MINILM / "vocab.txt"),
    }


def _reference_folder(name, files, tmp_path):
    cls = getattr(transformers, f"{name}TokenizerFast")
    if name in SPM_CLASSES:
        ref = cls(vocab_file=files["spm"])
    elif name in BPE_CLASSES:
        ref = cls(vocab_file=files["vocab.json"], merges_file=files["merges.txt"])
    else:
        ref = cls(vocab_file=files["vocab.txt"])
    ref.save_pretrained(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", SPM_CLASSES + BPE_CLASSES + WORDPIECE_CLASSES)
def test_class_parity(name, files, tmp_path):
    logging.disable(logging.WARNING)
    try:
        folder = _reference_folder(name, files, tmp_path)
        ref = transformers.AutoTokenizer.from_pretrained(folder)
    finally:
        logging.disable(logging.NOTSET)
    ours = AutoTokenizer.from_pretrained(folder)
    assert type(ours).__name__ == type(ref).__name__
    assert same_json(json.loads(ours.backend_tokenizer.to_str()), json.loads(ref.backend_tokenizer.to_str()))
    for attr in (
        "special_tokens_map",
        "all_special_ids",
        "model_input_names",
        "padding_side",
        "model_max_length",
    ):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    assert_same_batch(ours(TEXTS, TEXTS[::-1], **kw), ref(TEXTS, TEXTS[::-1], **kw))
    assert_same_batch(ours(TEXTS, **kw), ref(TEXTS, **kw))
    if ref.pad_token is not None:
        kw = dict(
            padding="max_length", truncation=True, max_length=9, return_overflowing_tokens=True, stride=1
        )
        assert_same_batch(ours(TEXTS, **kw), ref(TEXTS, **kw))
    ids = ref(TEXTS)["input_ids"]
    for skip in (False, True):
        assert ours.batch_decode(ids, skip_special_tokens=skip) == ref.batch_decode(
            ids, skip_special_tokens=skip
        )
    assert_same_special_layout(ours, ref)


def assert_same_special_layout(ours, ref):
    """build_inputs_with_special_tokens and create_token_type_ids_from_sequences as the reference class's."""
    a = ref("Hello world", add_special_tokens=False)["input_ids"]
    b = ref("more text é", add_special_tokens=False)["input_ids"]
    for pair in ((a, None), (a, b), ([], None), ([], b)):
        assert ours.build_inputs_with_special_tokens(*pair) == ref.build_inputs_with_special_tokens(*pair)
        assert ours.create_token_type_ids_from_sequences(*pair) == ref.create_token_type_ids_from_sequences(
            *pair
        )
