"""Name resolution: local folders, the Hugging Face cache layout, revisions, and near-name suggestions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pretrained import AutoConfig
from pretrained.hub import ModelNotFoundError, cached_repo_ids, resolve_dir, resolve_file

SHA1, SHA2 = "a" * 40, "b" * 40


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A fake HF cache with google-bert/bert-base-uncased at two revisions."""
    root = tmp_path / "hub"
    repo = root / "models--google-bert--bert-base-uncased"
    for sha, hidden in ((SHA1, 32), (SHA2, 64)):
        snap = repo / "snapshots" / sha
        snap.mkdir(parents=True)
        (snap / "config.json").write_text(f'{{"model_type": "bert", "hidden_size": {hidden}}}')
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(SHA1)
    (repo / "refs" / "v2").write_text(SHA2)
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    monkeypatch.chdir(tmp_path)
    return root


def test_repo_id_resolves_to_snapshot(cache):
    assert (
        resolve_dir("google-bert/bert-base-uncased")
        == cache / "models--google-bert--bert-base-uncased/snapshots" / SHA1
    )
    assert AutoConfig.from_pretrained("google-bert/bert-base-uncased").hidden_size == 32


@pytest.mark.parametrize("revision", ["v2", SHA2, SHA2[:10]])
def test_revision_by_branch_or_hash(cache, revision):
    assert AutoConfig.from_pretrained("google-bert/bert-base-uncased", revision=revision).hidden_size == 64


def test_unknown_revision_lists_cached_ones(cache):
    with pytest.raises(ModelNotFoundError, match=r"not at revision 'v9'.*main"):
        resolve_dir("google-bert/bert-base-uncased", revision="v9")


def test_hf_home(tmp_path, monkeypatch, cache):
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # HF_HOME/hub is the cache
    assert cached_repo_ids() == ["google-bert/bert-base-uncased"]


def test_typo_suggests_near_name(cache):
    """The seed's snippet: the model name has a typo ('bert-base-uncase')."""
    with pytest.raises(ModelNotFoundError) as e:
        AutoConfig.from_pretrained("bert-base-uncase")
    msg = str(e.value)
    assert "did you mean 'google-bert/bert-base-uncased'?" in msg.lower()
    assert str(cache) not in msg or "Looked in" in msg


def test_typo_in_local_folder_name(tmp_path, monkeypatch):
    (tmp_path / "my-model").mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(ModelNotFoundError, match=r"Did you mean .*my-model"):
        resolve_dir(str(tmp_path / "my-modle"))


def test_missing_file_lists_folder(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ModelNotFoundError, match=r"config.json not found .* holds: a.txt"):
        resolve_file(tmp_path, "config.json")
    assert resolve_file(tmp_path, "config.json", required=False) is None


def test_import_is_lazy():
    """`import pretrained` must not import torch (fast import)."""
    code = "import sys, pretrained; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "var", ["TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_CACHE"]
)
def test_cache_env_vars_as_transformers_reads_them(tmp_path, monkeypatch, cache, var):
    """transformers' TRANSFORMERS_CACHE (and older names) win over HF_HUB_CACHE; HUGGINGFACE_HUB_CACHE is the
    legacy HF_HUB_CACHE; ``$VARS`` and ``~`` are expanded."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    if var == "HUGGINGFACE_HUB_CACHE":
        monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("MY_ROOT", str(cache.parent))
    monkeypatch.setenv(var, "$MY_ROOT/" + cache.name)
    assert AutoConfig.from_pretrained("google-bert/bert-base-uncased").hidden_size == 32


def test_xdg_cache_home(tmp_path, monkeypatch, cache):
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.delenv("HF_HOME", raising=False)
    (tmp_path / "xdg" / "huggingface").mkdir(parents=True)
    cache.rename(tmp_path / "xdg" / "huggingface" / "hub")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cached_repo_ids() == ["google-bert/bert-base-uncased"]


def test_ref_to_a_missing_snapshot_says_so(cache):
    repo = cache / "models--google-bert--bert-base-uncased"
    (repo / "refs" / "main").write_text("c" * 40)
    with pytest.raises(ModelNotFoundError, match=r"refs/main points to commit 'c+' but .* is missing"):
        AutoConfig.from_pretrained("google-bert/bert-base-uncased")


def test_no_refs_main_lists_cached_revisions(cache):
    (cache / "models--google-bert--bert-base-uncased" / "refs" / "main").unlink()
    with pytest.raises(ModelNotFoundError, match=r"not at revision 'main' .*v2"):
        resolve_dir("google-bert/bert-base-uncased")
    assert resolve_dir("google-bert/bert-base-uncased", revision="v2").name == SHA2


def test_short_hash_must_be_unambiguous_hex(cache):
    repo = cache / "models--google-bert--bert-base-uncased" / "snapshots"
    (repo / ("b" * 8 + "c" * 32)).mkdir()
    with pytest.raises(ModelNotFoundError, match="ambiguous"):
        resolve_dir("google-bert/bert-base-uncased", revision="b" * 8)
    assert resolve_dir("google-bert/bert-base-uncased", revision="b" * 9).name == SHA2
    with pytest.raises(ModelNotFoundError, match="not at revision 'bbb'"):
        resolve_dir("google-bert/bert-base-uncased", revision="bbb")  # too short to be a hash


def test_symlinked_snapshot_files_and_broken_links(cache):
    """Real caches link snapshot files to blobs; a link to a deleted blob is named, not 'file not found'."""
    repo = cache / "models--google-bert--bert-base-uncased"
    (repo / "blobs").mkdir()
    blob = repo / "blobs" / "0123abcd"
    blob.write_text('{"model_type": "bert", "hidden_size": 48}')
    config = repo / "snapshots" / SHA1 / "config.json"
    config.unlink()
    config.symlink_to("../../blobs/0123abcd")
    assert AutoConfig.from_pretrained("google-bert/bert-base-uncased").hidden_size == 48
    blob.unlink()
    with pytest.raises(
        ModelNotFoundError, match=r"config.json is a link to \.\./\.\./blobs/0123abcd, which is missing"
    ):
        AutoConfig.from_pretrained("google-bert/bert-base-uncased")
    assert resolve_file("google-bert/bert-base-uncased", "config.json", required=False) is None


def test_no_exist_marker_is_reported(cache):
    repo = cache / "models--google-bert--bert-base-uncased"
    (repo / ".no_exist" / SHA1).mkdir(parents=True)
    (repo / ".no_exist" / SHA1 / "tokenizer.json").touch()
    with pytest.raises(ModelNotFoundError, match=r"records that the repo has no such file"):
        resolve_file("google-bert/bert-base-uncased", "tokenizer.json")
    assert resolve_file("google-bert/bert-base-uncased", "tokenizer.json", required=False) is None


def test_config_from_the_path_of_the_file_itself(tmp_path):
    """transformers' AutoConfig/XConfig.from_pretrained accept the config file's own path."""
    transformers = pytest.importorskip("transformers")
    (tmp_path / "m").mkdir()
    transformers.BertConfig(hidden_size=48, num_attention_heads=4).save_pretrained(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    want = transformers.AutoConfig.from_pretrained(str(path)).hidden_size
    assert AutoConfig.from_pretrained(str(path)).hidden_size == want == 48
    with pytest.raises(ModelNotFoundError, match="is a file"):
        resolve_file(path, "tokenizer.json")


def test_other_files_named_directly_stay_a_clear_error(tmp_path):
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "vocab.txt").write_text("a\n")
    for name in ("tokenizer.json", "vocab.txt"):
        with pytest.raises(ModelNotFoundError, match="is a file; pass the folder"):
            AutoConfig.from_pretrained(str(tmp_path / name))
