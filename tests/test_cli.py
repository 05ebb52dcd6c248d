"""The ``pretrained`` command end to end on tiny checkpoints: every task (arguments, stdin, JSON lines, chats),
``--arg`` parsing, batching, the progress bar, ``models``, ``--help`` and the one-line error path."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import pretrained
from pretrained.cli import main, parse_value
from pretrained.cli.models import human_size
from pretrained.cli.run import Progress, parse_line, task_arguments

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")
pytest.importorskip("sentencepiece")

from .pipeline_fixtures import NLI_LABELS, assert_same, build_checkpoint  # noqa: E402
from .pipeline_gen_fixtures import causal_lm, t5  # noqa: E402

NER = {i: label for i, label in enumerate(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return {
        "text-generation": causal_lm(root / "llama", "llama"),
        "summarization": t5(root / "t5"),
        "text-classification": build_checkpoint(root / "cls", "bert", "sequence-classification", scale=10),
        "token-classification": build_checkpoint(root / "ner", "bert", "token-classification", id2label=NER),
        "question-answering": build_checkpoint(root / "qa", "bert", "question-answering"),
        "fill-mask": build_checkpoint(root / "mlm", "bert", "masked-lm"),
        "feature-extraction": build_checkpoint(root / "base", "bert", "base"),
        "zero-shot-classification": build_checkpoint(
            root / "nli", "bert", "sequence-classification", id2label=dict(enumerate(NLI_LABELS)), scale=30
        ),
    }


def run(argv: list[str], stdin: str | None = None, capsys=None) -> tuple[int, list, str]:
    """(exit status, stdout's JSON lines, stderr) of ``pretrained ARGV``."""
    code = main(argv, stdin=io.StringIO(stdin) if stdin is not None else io.StringIO(""))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def expected(task: str, folder: Path, inputs: list, **kwargs) -> list:
    """What the pipeline gives for each input alone (``pipe(input)``), as JSON."""
    pipe = pretrained.pipeline(task, model=str(folder))
    results = [pipe(x, **kwargs) for x in inputs]
    return json.loads(json.dumps(results, default=lambda t: t.tolist()))


TEXTS = ["Sarah lives in Paris.", "What a great movie!", "hello world"]
CASES = {
    "text-classification": (TEXTS, {}),
    "sentiment-analysis": (TEXTS, {"top_k": 2}),
    "token-classification": (TEXTS, {"aggregation_strategy": "simple"}),
    "fill-mask": (["Paris is the [MASK] of France.", "I [MASK] it."], {"top_k": 2}),
    "feature-extraction": (TEXTS[:2], {}),
    "zero-shot-classification": (TEXTS, {"candidate_labels": "travel,cooking"}),
    "summarization": (TEXTS, {"max_new_tokens": 4}),
    "translation_en_to_de": (TEXTS, {"max_new_tokens": 3, "num_beams": 1}),
    "text2text-generation": (TEXTS, {"max_new_tokens": 3, "num_return_sequences": 2}),
    "text-generation": (TEXTS, {"max_new_tokens": 4, "do_sample": False}),
}
FOLDER_OF = {"sentiment-analysis": "text-classification", "translation_en_to_de": "summarization"}
FOLDER_OF["text2text-generation"] = "summarization"


def argv_args(kwargs: dict) -> list[str]:
    out = []
    for key, value in kwargs.items():
        out += ["--arg", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    return out


@pytest.mark.parametrize("task", list(CASES))
def test_each_task_from_arguments_and_stdin(models, task, capsys):
    texts, kwargs = CASES[task]
    folder = models[FOLDER_OF.get(task, task)]
    want = expected(task, folder, texts, **kwargs)
    code, got, err = run(["run", task, "--model", str(folder), *argv_args(kwargs), *texts], capsys=capsys)
    assert code == 0, err
    assert got == want
    code, got, err = run(
        ["run", task, "-m", str(folder), "-b", "2", *argv_args(kwargs)], "\n".join(texts), capsys
    )
    assert code == 0, err
    assert_same(got, want, atol=1e-5)  # batching and stdin change nothing (up to float rounding)


def test_json_lines(models, capsys):
    qa = models["question-answering"]
    examples = [{"question": "Where does Sarah live?", "context": "Sarah lives in Paris."}] * 2
    lines = "\n".join(json.dumps(e) for e in examples)
    code, got, _ = run(["run", "question-answering", "-m", str(qa)], lines, capsys)
    assert code == 0 and got == expected("question-answering", qa, examples)
    code, got, _ = run(
        ["run", "question-answering", "-m", str(qa), "--arg", "top_k=2", lines.split("\n")[0]], capsys=capsys
    )
    assert code == 0 and got == expected("question-answering", qa, examples[:1], top_k=2)
    nli = models["zero-shot-classification"]
    items = [
        {"sequence": "I love cooking", "candidate_labels": ["travel", "cooking"]},
        {"sequence": "Paris!", "candidate_labels": ["travel", "cooking", "sport"], "multi_label": True},
    ]
    code, got, _ = run(
        ["run", "zero-shot-classification", "-m", str(nli)], "\n".join(map(json.dumps, items)), capsys
    )
    assert code == 0
    zsc = pretrained.pipeline("zero-shot-classification", model=str(nli))
    assert got == [zsc(item.pop("sequence"), **item) for item in items]
    cls = models["text-classification"]
    pair = {"text": "I love it", "text_pair": "It is great"}
    code, got, _ = run(["run", "text-classification", "-m", str(cls), json.dumps(pair)], capsys=capsys)
    assert code == 0 and got == expected("text-classification", cls, [pair])


def test_chats_and_per_line_arguments(models, capsys):
    folder = models["text-generation"]
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    lines = [json.dumps(chat), json.dumps({"messages": chat, "max_new_tokens": 2}), "plain [text] prompt"]
    code, got, err = run(["run", "text-generation", "-m", str(folder), "-a", "do_sample=false", "-a", "max_new_tokens=3"],
                         "\n".join(lines), capsys)  # fmt: skip
    assert code == 0, err
    pipe = pretrained.pipeline("text-generation", model=str(folder), do_sample=False)
    assert got[0] == pipe(chat, max_new_tokens=3)
    assert got[1] == pipe(chat, max_new_tokens=2)
    assert got[2] == pipe("plain [text] prompt", max_new_tokens=3)
    assert got[0][0]["generated_text"][-1]["role"] == "assistant"


def test_errors_are_one_line(models, capsys, tmp_path):
    cases = [
        (["run", "no-such-task", "x"], 2, "Unknown task"),
        (["run", "translation_en_de", "x"], 2, "translation_XX_to_YY"),
        (["run", "summarization", "-m", str(tmp_path / "missing"), "x"], 1, "not found"),
        (["run", "summarization", "-m", str(models["summarization"]), "--arg", "oops", "x"], 2, "KEY=VALUE"),
        (["run", "summarization", "--batch-size", "0", "x"], 2, "batch-size"),
        (["run", "summarization", "--bogus", "x"], 2, "unrecognized"),
        (["run", "question-answering", "-m", str(models["question-answering"]), "no json"], 1, "JSON lines"),
        (["run", "question-answering", "-m", str(models["question-answering"]), "{bad"], 1, "not valid JSON"),
        (["run", "text-generation", "-m", str(models["text-generation"]), "-a", "max_new_tokens=-1", "x"], 1,
         "max_new_tokens"),
        (["run", "fill-mask", "-m", str(models["fill-mask"]), "no mask here"], 1, "mask"),
        (["bogus"], 2, "invalid choice"),
        (["run"], 2, "required: TASK ("),
        (["run", "summarization", "-m", str(models["summarization"]), "-a", "batch_size=2", "x"], 2, "--batch-size"),
        (["run", "summarization", "-m", str(models["summarization"]), '{"text": "x", "device": "cpu"}'], 1,
         "use the option --device"),
        ([], 2, "usage"),
    ]  # fmt: skip
    for argv, status, message in cases:
        code, out, err = run(argv, capsys=capsys)
        assert code == status, (argv, err)
        assert message in err, (argv, err)
        assert out == []
        if argv:
            assert err.count("\n") == 1 and err.startswith("pretrained: error: ") and "Traceback" not in err
    code, _, err = run(["run", "summarization", "-m", str(models["summarization"])], "\n  \n", capsys)
    assert code == 2 and "no input" in err  # blank lines only
    with pytest.raises(FileNotFoundError):
        main(["run", "summarization", "--debug", "-m", str(tmp_path / "missing"), "x"])


def test_help_documents_every_task_and_argument(capsys):
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    assert main(["run", "--help"]) == 0
    run_help = capsys.readouterr().out
    for task in CASES:
        if task in pretrained.pipelines.TASKS:
            assert task in top and task in run_help
    for option in ("--model", "--batch-size", "--device", "--arg", "--gguf-file", "--dtype", "--revision"):
        assert option in run_help
    for arg in ("max_new_tokens", "candidate_labels", "src_lang", "top_k", "aggregation_strategy"):
        assert arg in run_help
    for task in pretrained.pipelines.TASKS:  # every argument of every task
        section = re.split(r"\n  \S|\n\n", run_help.split(f"\n  {task}: ", 1)[1], maxsplit=1)[0]
        for arg in task_arguments(task):
            assert arg in section, (task, arg)
    assert "align_to_words" in task_arguments("question-answering")
    assert "any generate() argument" in task_arguments("translation")
    assert main(["--version"]) == 0
    assert pretrained.__version__ in capsys.readouterr().out


def test_progress_bar(models, capsys):
    folder = models["text-classification"]
    code = main(["run", "text-classification", "-m", str(folder), "--progress", *TEXTS * 4])
    out, err = capsys.readouterr()
    assert code == 0 and len(out.splitlines()) == 12
    assert "12/12 [" in err and "100%" in err
    main(["run", "text-classification", "-m", str(folder), *TEXTS * 4])  # stderr is not a TTY: no bar
    assert capsys.readouterr().err == ""
    stream = io.StringIO()
    bar = Progress(None, stream, enabled=True)
    bar.update(3)
    bar.close()
    assert "3 done" in stream.getvalue()
    assert human_size(512) == "512 B" and human_size(2_500_000) == "2.5 MB"


def test_models_lists_the_cache(tmp_path, capsys):
    repo = tmp_path / "models--org--tiny-model"
    sha = "a" * 40
    (repo / "snapshots" / sha).mkdir(parents=True)
    (repo / "snapshots" / ("b" * 40)).mkdir()
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    (repo / "blobs").mkdir()
    (repo / "blobs" / "x").write_bytes(b"0" * 1500)
    assert main(["models", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "org/tiny-model" in out and "aaaaaaaa (main)" in out and "bbbbbbbb" in out and "1.5 KB" in out
    assert main(["models", "--cache-dir", str(tmp_path), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["refs"] == {"main": sha} and row["snapshots"] == [sha, "b" * 40] and row["size_bytes"] == 1500
    assert main(["models", "--cache-dir", str(tmp_path / "empty")]) == 0
    assert "no models" in capsys.readouterr().err


def test_values_and_lines():
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("false") is False
    assert (
        parse_value("None") is None
        and parse_value('["a", "b"]') == ["a", "b"]
        and parse_value("a,b") == "a,b"
    )
    assert parse_line("summarization", "[1] a reference\n", "l") == "[1] a reference"
    assert parse_line("text-generation", '[{"role": "user", "content": "hi"}]', "l") == [
        {"role": "user", "content": "hi"}
    ]
    assert parse_line("text-generation", "{not json", "l") == "{not json"


@pytest.mark.parametrize("module", ["pretrained", "pretrained.cli"])
def test_console_script_end_to_end(models, module):
    """The installed command (here ``python -m pretrained`` or ``-m pretrained.cli``) in a subprocess, reading
    stdin: each line prints ``pipe(line)`` (a list for summarization)."""
    env = {**os.environ, "PYTHONPATH": str(Path(pretrained.__file__).parents[1])}
    cmd = [sys.executable, "-m", module, "run", "summarization", "-m", str(models["summarization"])]
    proc = subprocess.run(
        [*cmd, "--arg", "max_new_tokens=3"], input="hello world\n", capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == expected("summarization", models["summarization"], ["hello world"],
                                               max_new_tokens=3)[0]  # fmt: skip
    proc = subprocess.run(
        [*cmd[:3], "run", "nope", "x"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_empty_text_argument(models, capsys):
    """An empty argument is an input like any other (stdin's blank lines are skipped instead)."""
    folder = models["summarization"]
    code, got, err = run(
        ["run", "summarization", "-m", str(folder), "-a", "max_new_tokens=3", ""], capsys=capsys
    )
    assert code == 0, err
    assert got == expected("summarization", folder, [""], max_new_tokens=3)
    code, got, _ = run(
        ["run", "summarization", "-m", str(folder), "-a", "max_new_tokens=3"], "a\n\nb\n", capsys
    )
    assert code == 0 and len(got) == 2


def test_python_warnings_are_one_line(models, capsys):
    """A deprecated argument's FutureWarning shows as one ``pretrained: warning:`` line (none with -q)."""
    folder = str(models["token-classification"])
    argv = ["run", "ner", "-m", folder, "--arg", "grouped_entities=true", "Sarah lives in Paris.", "hello"]
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, got, err = run(argv, capsys=capsys)
        assert code == 0 and len(got) == 2
        lines = err.splitlines()
        assert lines and all(line.startswith("pretrained: warning: ") for line in lines), err
        assert "aggregation_strategy" in err and "FutureWarning" in err
        code, got, err = run([*argv, "-q"], capsys=capsys)
        assert code == 0 and len(got) == 2 and err == ""


def test_each_result_prints_before_the_next_line_is_read(models, capsys):
    """stdin may be a conversation: with --batch-size 1 a line's result is written before the next line is read."""

    class Conversation(io.StringIO):
        def __init__(self, lines, out):
            super().__init__()
            self.lines, self.out, self.seen = lines, out, []

        def __iter__(self):
            for line in self.lines:
                self.seen.append(self.out.getvalue().count("\n"))  # results printed before this line is read
                yield line

    out = io.StringIO()
    stdin = Conversation(["I love it\n", "I hate it\n", "so so\n"], out)
    assert main(["run", "text-classification", "-m", str(models["text-classification"])], stdin, out) == 0
    assert stdin.seen == [0, 1, 2] and len(out.getvalue().splitlines()) == 3


def test_lines_are_json_dumps_of_the_pipeline_and_the_reference(models, capsys):
    """Accented and CJK inputs: each line is exactly ``json.dumps(pipe(input))``, equal to the reference's."""
    from .pipeline_fixtures import reference_pipeline

    cases = [
        ("ner", "token-classification", "Héllo wörld, café 東京!", {"aggregation_strategy": "first"}),
        (
            "question-answering",
            "question-answering",
            {"question": "Où?", "context": "Il vit à Zürich, 東京."},
            {},
        ),
        ("fill-mask", "fill-mask", "Ça [MASK] très cher — 10€", {"top_k": 2}),
    ]
    for task, name, item, kwargs in cases:
        folder = models[name]
        line = json.dumps(item) if isinstance(item, dict) else item
        code = main(["run", task, "-m", str(folder), *argv_args(kwargs), line])
        raw, err = capsys.readouterr()
        assert code == 0, err
        result = pretrained.pipeline(task, model=str(folder))(item, **kwargs)
        assert raw == json.dumps(result) + "\n"
        assert_same(json.loads(raw), reference_pipeline(task, folder)(item, **kwargs))


def test_lines_holding_several_inputs_with_batches(models, capsys):
    """A line with a list of inputs (or a QA dict of lists) prints ``pipe(value)`` with --batch-size too."""
    qa_many = {"question": ["Where?", "Who?"], "context": ["Sarah lives in Paris.", "John works."]}
    qa_one = {"question": "Where?", "context": "Sarah lives in Paris."}
    cases = [
        ("question-answering", [qa_one, qa_many, qa_one], {}),
        (
            "zero-shot-classification",
            [{"sequences": ["I love cooking", "Paris"], "candidate_labels": ["a", "b"]}],
            {},
        ),
        ("fill-mask", [{"text": ["I love [MASK]", "a [MASK] b"]}, "x [MASK]"], {"top_k": 1}),
    ]
    for task, items, kwargs in cases:
        pipe = pretrained.pipeline(task, model=str(models[task]))
        want = []
        for item in items:
            call = dict(kwargs)
            if (
                isinstance(item, dict) and task != "question-answering"
            ):  # main key: the input; others: arguments
                item = dict(item)
                item, call = item.pop(next(iter(item))), {**call, **item}
            want.append(json.loads(json.dumps(pipe(item, **call))))
        lines = "\n".join(json.dumps(i) if isinstance(i, dict) else i for i in items)
        code, got, err = run(
            ["run", task, "-m", str(models[task]), "-b", "2", *argv_args(kwargs)], lines, capsys
        )
        assert code == 0, err
        assert_same(got, want, atol=1e-5)


def test_batches_of_chats_and_prompts_mixed(models, capsys):
    """--batch-size over stdin mixing chats and plain prompts: each line prints pipe(its input)."""
    folder = models["text-generation"]
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    inputs = [chat, "plain prompt", chat, "another one", "and a third"]
    pipe = pretrained.pipeline("text-generation", model=str(folder), do_sample=False, max_new_tokens=2)
    want = json.loads(json.dumps([pipe(x) for x in inputs]))
    lines = "\n".join(json.dumps(x) if isinstance(x, list) else x for x in inputs)
    for batch_size in ("2", "3"):
        argv = [
            "run",
            "text-generation",
            "-m",
            str(folder),
            "-b",
            batch_size,
            "-a",
            "do_sample=false",
            "-a",
            "max_new_tokens=2",
        ]
        code, got, err = run(argv, lines, capsys)
        assert code == 0, err
        assert got == want


@pytest.mark.parametrize(
    "kwargs", [{"return_all_scores": True}, {"top_k": None}, {"top_k": 1}, {"function_to_apply": "sigmoid"}]
)
def test_batched_text_classification_lines_as_single_calls(models, capsys, kwargs):
    """--batch-size 2: each line still prints ``pipe(text)`` (a text alone is wrapped in a list unless top_k)."""
    folder = models["text-classification"]
    texts = ["I love it", "I hate it", "meh"]
    code, got, err = run(["run", "text-classification", "-m", str(folder), "-b", "2", *argv_args(kwargs)],
                         "\n".join(texts), capsys)  # fmt: skip
    assert code == 0, err
    assert_same(got, expected("text-classification", folder, texts, **kwargs), atol=1e-5)


def test_stdin_byte_order_mark_and_crlf(models, capsys):
    """A UTF-8 file saved with a byte order mark and Windows line ends reads as the same JSON lines."""
    qa = models["question-answering"]
    example = {"question": "Where does Sarah live?", "context": "Sarah lives in Paris."}
    code, got, err = run(
        ["run", "question-answering", "-m", str(qa)], "\ufeff" + json.dumps(example) + "\r\n", capsys
    )
    assert code == 0, err
    assert got == expected("question-answering", qa, [example])
