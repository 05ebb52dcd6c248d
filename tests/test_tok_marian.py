"""``MarianTokenizer`` against transformers 4.57.6's (slow, sentencepiece-based) ``MarianTokenizer`` on the same
folder: two SentencePiece unigram models trained here (``source.spm``, ``target.spm``) and a ``vocab.json`` built
as Marian's conversion builds it. Ids, masks, labels, padding/truncation, language codes, awkward text, decoding,
saving and loading, ``AutoTokenizer`` and an end-to-end ``pipeline("translation")``."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import torch

import pretrained
from pretrained import AutoTokenizer
from pretrained.tokenizers.marian import MarianTokenizer

transformers = pytest.importorskip("transformers")
spm = pytest.importorskip("sentencepiece")
transformers.logging.set_verbosity_error()
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")

EN = (
    "the quick brown fox jumps over the lazy dog . hello world , what is the capital of France ? it's a news "
    "report , café naïve"
).split()
FR = (
    "le renard brun rapide saute par-dessus le chien paresseux . bonjour le monde , quelle est la capitale de la "
    "France ? c'est un reportage , été élève 東京 garçon"
).split()
CODES = [">>fr<<", ">>de<<", ">>es<<"]
MISSING = ("▁lazy", "ï")  # source pieces left out of vocab.json: they map to <unk>

HARD = [
    "",
    " ",
    "   \t\n ",
    "the quick brown fox",
    "  hello   world  ",
    "Hello World!",
    "the lazy dog, naïve café",
    "東京 😀😀 été 🤗",
    "e\u0301t\u0301e\u0301 Ｈｅｌｌｏ ﬁne ① a\u200bb x\u3000y a\xa0b",
    "tabs\tand\nnew\r\nlines",
    "▁hello ▁ world▁",
    ">>fr<< hello world",
    ">>fr<<hello",
    " >>fr<< hello",
    ">>xx<< unknown code",
    ">>fr no end",
    ">>fr<<",
    "<< >> >><<",
    "hello </s> world",
    "<unk><pad></s>",
    "a</s>>>de<< the dog",
    "<s> control pieces </s>",
    "bonjour le monde , quelle est la capitale ?",
    "garçon élève 東京",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the tiny model is faster on one thread, and the machine is shared
    yield
    torch.set_num_threads(before)


def corpus(words: list[str], n: int = 400, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "\n".join(" ".join(rng.choice(words) for _ in range(10)) for _ in range(n))


def train_spm(folder: Path, name: str, words: list[str], vocab_size: int) -> spm.SentencePieceProcessor:
    text = folder / f"{name}.txt"
    text.write_text(corpus(words), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(folder / name), vocab_size=vocab_size, model_type="unigram",
        hard_vocab_limit=False, character_coverage=1.0, minloglevel=2,
    )  # fmt: skip
    text.unlink()
    (folder / f"{name}.vocab").unlink()
    (folder / f"{name}.model").rename(folder / f"{name}.spm")
    return spm.SentencePieceProcessor(model_file=str(folder / f"{name}.spm"))


def marian_vocab(*models: spm.SentencePieceProcessor, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """As Marian's conversion: ``</s>`` 0, ``<unk>`` 1, the pieces (shared), language codes, ``<pad>`` last."""
    vocab = {"</s>": 0, "<unk>": 1}
    for sp in models:
        for i in range(sp.get_piece_size()):
            piece = sp.id_to_piece(i)
            if piece not in vocab and piece not in skip and not sp.is_unknown(i):
                vocab[piece] = len(vocab)  # keeps <s> (a control piece: decodes to nothing)
    for piece in [*CODES, "<pad>"]:
        vocab[piece] = len(vocab)
    return vocab


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("marian")
    source = train_spm(root, "source", EN, 100)
    target = train_spm(root, "target", FR, 120)
    write_json(root / "vocab.json", marian_vocab(source, target, skip=MISSING))
    config = {"tokenizer_class": "MarianTokenizer", "source_lang": "en", "target_lang": "fr"}
    write_json(root / "tokenizer_config.json", config)
    return root


@pytest.fixture(scope="module")
def toks(folder):
    return MarianTokenizer.from_pretrained(folder), transformers.MarianTokenizer.from_pretrained(folder)


def random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    chars = list("abcdefghijklmnopqrstuvwxyz ABCXYZ.,!?'-éèàïüç東京😀\t\n\u3000\u200b\xa0▁<>/s")
    chars += ["e\u0301", "  ", "Ｈ", "ﬁ", "①", "\u00ad", ">>fr<<", "</s>", "<pad>", "<unk>"]
    words = EN + FR
    out = []
    for _ in range(n):
        parts = [
            rng.choice(words) if rng.random() < 0.6 else rng.choice(chars) for _ in range(rng.randint(0, 10))
        ]
        out.append("".join(p if rng.random() < 0.5 else p + " " for p in parts))
    return out


def encode_both(toks, text, **kwargs):
    ours, ref = toks
    return dict(ours(text, **kwargs)), dict(ref(text, **kwargs))


# ----------------------------------------------------------------------------------------------------------------
# encoding


@pytest.mark.parametrize("text", HARD)
def test_source_and_target_ids_match_reference(toks, text):
    ours, ref = toks
    assert ours.tokenize(text) == ref.tokenize(text)
    a, b = encode_both(toks, text)
    assert a == b
    a, b = encode_both(toks, None, text_target=text)
    assert a == b
    assert ours.encode(text) == ref.encode(text)
    assert ours.encode(text, add_special_tokens=False) == ref.encode(text, add_special_tokens=False)


def test_random_texts_match_reference(toks):
    ours, ref = toks
    texts = random_texts(300, seed=1)
    assert ours(texts)["input_ids"] == ref(texts)["input_ids"]
    assert ours(text_target=texts)["input_ids"] == ref(text_target=texts)["input_ids"]


def test_source_and_target_differ(toks):
    """The fixture is meaningful: the two spm segment some text differently, and some pieces are unknown."""
    ours, _ = toks
    text = "bonjour le monde, the lazy dog"
    assert ours(text)["input_ids"] != ours(text_target=text)["input_ids"]
    assert ours.unk_token_id in ours(text)["input_ids"]


CALLS = [
    dict(padding=True),
    dict(padding="longest", return_tensors="pt"),
    dict(padding="max_length", max_length=12),
    dict(padding="max_length", max_length=12, padding_side="left"),
    dict(padding=True, pad_to_multiple_of=8, return_length=True),
    dict(truncation=True, max_length=4),
    dict(truncation=True, max_length=1),
    dict(truncation="longest_first", max_length=5, padding="max_length", return_tensors="pt"),
    dict(truncation=True, max_length=6, padding=True, return_special_tokens_mask=True),
    dict(return_attention_mask=False),
    dict(add_special_tokens=False, padding=True),
]


@pytest.mark.parametrize("kwargs", CALLS, ids=[str(i) for i in range(len(CALLS))])
def test_batch_padding_truncation_match_reference(toks, kwargs):
    texts = HARD[:12]
    a, b = encode_both(toks, texts, **kwargs)
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        assert (x.tolist() if torch.is_tensor(x) else x) == (y.tolist() if torch.is_tensor(y) else y), key
    a, b = encode_both(toks, texts, text_target=texts[::-1], **kwargs)
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        assert (x.tolist() if torch.is_tensor(x) else x) == (y.tolist() if torch.is_tensor(y) else y), key


def test_labels_and_target_modes(toks):
    ours, ref = toks
    src, tgt = ["hello world", "the dog"], ["bonjour le monde", "le chien paresseux"]
    a = ours(src, text_target=tgt, padding=True, return_tensors="pt")
    b = ref(src, text_target=tgt, padding=True, return_tensors="pt")
    assert set(a) == set(b) == {"input_ids", "attention_mask", "labels"}
    for key in a:
        assert a[key].tolist() == b[key].tolist()
    assert ours(text_target=tgt)["input_ids"] == ref(text_target=tgt)["input_ids"] == a["labels"].tolist()
    with ours.as_target_tokenizer(), ref.as_target_tokenizer():
        assert ours(tgt)["input_ids"] == ref(tgt)["input_ids"] == a["labels"].tolist()
        # as transformers: each call ends back in source mode, even inside the block
        assert ours(tgt)["input_ids"] == ref(tgt)["input_ids"]
    assert ours(tgt)["input_ids"] == ref(tgt)["input_ids"] != a["labels"].tolist()
    with pytest.raises(ValueError, match="text_target"):
        ours()


def test_pretokenized_and_pairs(toks):
    ours, ref = toks
    words = [["hello", "world"], ["the", "lazy", "dog"]]
    a, b = encode_both(toks, words, is_split_into_words=True, padding=True)
    assert a == b
    a, b = encode_both(toks, "hello world", text_pair="the dog")
    assert a["input_ids"] == b["input_ids"]
    assert ours.num_special_tokens_to_add() == ref.num_special_tokens_to_add() == 1
    assert ours.build_inputs_with_special_tokens([5, 6]) == ref.build_inputs_with_special_tokens([5, 6])


def test_language_codes(toks):
    ours, ref = toks
    assert ours.supported_language_codes == ref.supported_language_codes == CODES
    for code in [*CODES, ">>xx<<"]:
        text = f"{code} hello world"
        assert ours.tokenize(text)[0] == code
        assert ours(text)["input_ids"] == ref(text)["input_ids"]
    assert ours(">>xx<< hi")["input_ids"][0] == ours.unk_token_id
    text = ">>fr<< hello </s> world<pad>"
    assert (
        ours(text, split_special_tokens=True)["input_ids"]
        == ref(text, split_special_tokens=True)["input_ids"]
    )


def test_offsets_point_at_the_text(toks):
    ours, _ = toks
    text = ">>fr<<  the quick   brown fox café 東京"
    enc = ours(text, return_offsets_mapping=True)
    pieces = ours.tokenize(text)
    for piece, (start, end) in zip(pieces, enc["offset_mapping"]):
        assert text[start:end].replace(" ", "") == piece.replace("▁", "")


# ----------------------------------------------------------------------------------------------------------------
# decoding


def test_decode_matches_reference(toks):
    ours, ref = toks
    rng = random.Random(0)
    n = len(ref)
    for _ in range(200):
        ids = [rng.randrange(n) for _ in range(rng.randint(0, 10))]
        for kwargs in (
            {},
            dict(skip_special_tokens=True),
            dict(use_source_tokenizer=True),
            dict(clean_up_tokenization_spaces=True),
            dict(spaces_between_special_tokens=False),
        ):
            assert ours.decode(ids, **kwargs) == ref.decode(ids, **kwargs), (ids, kwargs)
    for text in HARD:
        labels = ref(text_target=text)["input_ids"]
        assert ours.decode(labels) == ref.decode(labels)
        assert ours.decode(labels, skip_special_tokens=True) == ref.decode(labels, skip_special_tokens=True)


def test_batch_decode_and_token_conversion(toks):
    ours, ref = toks
    batch = ref(text_target=HARD[:8], padding=True, return_tensors="pt")["input_ids"]
    for skip in (False, True):
        assert ours.batch_decode(batch, skip_special_tokens=skip) == ref.batch_decode(
            batch, skip_special_tokens=skip
        )
    ids = batch[1].tolist() + [len(ref) + 5]  # an id past the vocabulary reads as <unk>, as the reference
    assert ours.convert_ids_to_tokens(ids) == ref.convert_ids_to_tokens(ids)
    assert ours.convert_ids_to_tokens(ids, skip_special_tokens=True) == ref.convert_ids_to_tokens(
        ids, skip_special_tokens=True
    )
    assert ours.convert_ids_to_tokens(3) == ref.convert_ids_to_tokens(3)
    for pair in ((ids[:3], None), (ids[:3], ids[3:5]), ([], None)):
        assert ours.build_inputs_with_special_tokens(*pair) == ref.build_inputs_with_special_tokens(*pair)
        assert ours.create_token_type_ids_from_sequences(*pair) == ref.create_token_type_ids_from_sequences(
            *pair
        )
    pieces = ["▁hello", ">>fr<<", "nope", "</s>"]
    assert ours.convert_tokens_to_ids(pieces) == ref.convert_tokens_to_ids(pieces)
    assert ours.convert_tokens_to_string(pieces) == ref.convert_tokens_to_string(pieces)
    for already in (False, True):
        assert ours.get_special_tokens_mask(ids[:-1], already_has_special_tokens=already) == (
            ref.get_special_tokens_mask(ids[:-1], already_has_special_tokens=already)
        )
    with pytest.raises(ValueError, match="-100"):
        ours.decode([5, -100])


def test_vocabulary(toks):
    ours, ref = toks
    assert ours.vocab_size == ref.vocab_size
    assert len(ours) == len(ref)
    assert ours.get_vocab() == ref.get_vocab()
    assert ours.get_src_vocab() == ref.get_src_vocab()
    assert ours.decoder == ref.decoder
    assert ours.all_special_ids == ref.all_special_ids
    assert ours.all_special_tokens == ref.all_special_tokens
    assert (ours.pad_token_id, ours.eos_token_id, ours.unk_token_id) == (
        ref.pad_token_id,
        ref.eos_token_id,
        ref.unk_token_id,
    )
    assert ours.model_input_names == ref.model_input_names
    assert ours.model_max_length == ref.model_max_length == 512
    assert ours.is_fast is False
    assert pretrained.MarianTokenizer is MarianTokenizer


def test_added_tokens(folder, tmp_path):
    ours, ref = MarianTokenizer.from_pretrained(folder), transformers.MarianTokenizer.from_pretrained(folder)
    for tok in (ours, ref):
        assert tok.add_tokens(["<new>", "▁hello"]) == 1
        assert tok.add_special_tokens({"additional_special_tokens": ["<eop>"]}) == 1
    texts = ["say <new> hello<eop> world", "<eop><new>", "hello  <new>  world"]
    assert ours(texts)["input_ids"] == ref(texts)["input_ids"]
    for ids in ref(texts)["input_ids"]:
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == ref.decode(ids, skip_special_tokens=skip)
    ours.save_pretrained(tmp_path)
    again, ref_again = (
        MarianTokenizer.from_pretrained(tmp_path),
        transformers.MarianTokenizer.from_pretrained(tmp_path),
    )
    assert again(texts)["input_ids"] == ref_again(texts)["input_ids"] == ref(texts)["input_ids"]
    assert json.loads((tmp_path / "added_tokens.json").read_text()) == {
        "<eop>": len(ref) - 1,
        "<new>": len(ref) - 2,
    }


# ----------------------------------------------------------------------------------------------------------------
# loading and saving


def test_save_pretrained_writes_what_the_reference_writes(toks, tmp_path):
    ours, ref = toks
    names = sorted(Path(p).name for p in ours.save_pretrained(tmp_path / "ours"))
    ref.save_pretrained(tmp_path / "ref")
    assert names == sorted(p.name for p in (tmp_path / "ref").iterdir())
    for name in names:
        assert (tmp_path / "ours" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
    reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path / "ours")
    assert type(reloaded).__name__ == "MarianTokenizer"
    assert reloaded(HARD)["input_ids"] == ref(HARD)["input_ids"]
    mine = AutoTokenizer.from_pretrained(tmp_path / "ref")
    assert isinstance(mine, MarianTokenizer)
    assert mine(HARD, text_target=HARD)["labels"] == ref(HARD, text_target=HARD)["labels"]


def test_auto_tokenizer_from_model_type(folder, tmp_path):
    """opus-mt checkpoints name no tokenizer class: config.json's model_type "marian" picks it."""
    for name in ("source.spm", "target.spm", "vocab.json"):
        shutil.copy(folder / name, tmp_path / name)
    write_json(tmp_path / "tokenizer_config.json", {"target_lang": "fr", "source_lang": "en"})
    write_json(
        tmp_path / "special_tokens_map.json",
        {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"},
    )
    write_json(tmp_path / "config.json", {"model_type": "marian"})
    ours, ref = AutoTokenizer.from_pretrained(tmp_path), transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(ours, MarianTokenizer) and type(ref).__name__ == "MarianTokenizer"
    assert (
        ours(HARD, text_target=HARD, padding=True)["labels"]
        == ref(HARD, text_target=HARD, padding=True)["labels"]
    )
    assert ours.source_lang == ref.source_lang == "en"


def test_separate_vocabs(folder, tmp_path):
    source = spm.SentencePieceProcessor(model_file=str(folder / "source.spm"))
    target = spm.SentencePieceProcessor(model_file=str(folder / "target.spm"))
    for name in ("source.spm", "target.spm"):
        shutil.copy(folder / name, tmp_path / name)
    write_json(tmp_path / "vocab.json", marian_vocab(source))
    write_json(tmp_path / "target_vocab.json", marian_vocab(target))
    write_json(
        tmp_path / "tokenizer_config.json", {"tokenizer_class": "MarianTokenizer", "separate_vocabs": True}
    )
    ours, ref = (
        AutoTokenizer.from_pretrained(tmp_path),
        transformers.MarianTokenizer.from_pretrained(tmp_path),
    )
    assert ours.supported_language_codes == ref.supported_language_codes == []
    a, b = ours(HARD, text_target=HARD), ref(HARD, text_target=HARD)
    assert dict(a) == dict(b)
    for ids in b["labels"]:
        assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True)
    assert ours.get_tgt_vocab() == dict(
        ref.target_encoder, **ref.added_tokens_encoder
    )  # the reference's raises
    ours.save_pretrained(tmp_path / "saved")
    assert json.loads((tmp_path / "saved" / "target_vocab.json").read_text()) == ref.target_encoder


def test_bad_folders(folder, tmp_path):
    shutil.copy(folder / "vocab.json", tmp_path / "vocab.json")
    with pytest.raises(FileNotFoundError, match="source.spm, target.spm"):
        MarianTokenizer.from_pretrained(tmp_path)
    for name in ("source.spm", "target.spm"):
        shutil.copy(folder / name, tmp_path / name)
    with pytest.raises(ValueError, match="unk_token '<oov>' is not in"):
        MarianTokenizer.from_pretrained(tmp_path, unk_token="<oov>")
    (tmp_path / "vocab.json").write_text('{"</s>": 0, "<unk>"', encoding="utf-8")
    with pytest.raises(ValueError, match="vocab.json is not valid JSON"):
        MarianTokenizer.from_pretrained(tmp_path)
    (tmp_path / "vocab.json").write_text('["</s>", "<unk>"]', encoding="utf-8")
    with pytest.raises(ValueError, match="mapping pieces to non-negative integer ids"):
        MarianTokenizer.from_pretrained(tmp_path)
    (tmp_path / "source.spm").write_bytes(b"\x0a\xff\xff")
    with pytest.raises(ValueError, match="source.spm: not a valid SentencePiece model"):
        MarianTokenizer(tmp_path / "source.spm", tmp_path / "target.spm", folder / "vocab.json")


# ----------------------------------------------------------------------------------------------------------------
# end to end


def test_translation_pipeline_matches_reference(folder, tmp_path):
    ref_tok = transformers.MarianTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.MarianConfig(
        vocab_size=len(ref_tok), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
        init_std=0.25, pad_token_id=ref_tok.pad_token_id, decoder_start_token_id=ref_tok.pad_token_id,
        eos_token_id=ref_tok.eos_token_id, forced_eos_token_id=ref_tok.eos_token_id, scale_embedding=True,
    )  # fmt: skip
    model = transformers.MarianMTModel(config).eval()
    model.generation_config.update(num_beams=2, max_length=10, bad_words_ids=[[ref_tok.pad_token_id]])
    model.save_pretrained(tmp_path)
    ref_tok.save_pretrained(tmp_path)
    texts = ["the quick brown fox", ">>fr<< hello world", "", "café naïve 東京 😀"]
    ours = pretrained.pipeline("translation", model=str(tmp_path), device="cpu")
    ref = transformers.pipeline("translation", model=str(tmp_path), device="cpu")
    assert isinstance(ours.tokenizer, MarianTokenizer)
    a, b = ours(texts), ref(texts)
    assert a == b
    assert len({r["translation_text"] for r in a}) > 1  # the output depends on the input
    assert ours(texts[0], num_beams=1, max_length=6) == ref(texts[0], num_beams=1, max_length=6)


@pytest.mark.parametrize("name", ["marian", "sentencepiece_unigram"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(
        importlib.import_module(f"pretrained.tokenizers.{name}"), optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0
