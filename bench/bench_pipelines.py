"""Pipeline benchmark: ours vs the reference ``pipeline`` on BERT-base-size checkpoints (random weights).

1,000 texts of mixed length (8 to 256 tokens, ~134k tokens) for text-classification and token-classification at
batch_size 1 and 32, and question-answering on 200 long contexts (~740 windows of up to 384 tokens with
doc_stride 128, ~260k tokens). Texts/s and peak RSS, each run in a fresh process with one torch thread
(``BENCH_THREADS`` to change). The README table comes from the full run, about an hour on a quiet machine::

    .venv/bin/python -m bench.bench_pipelines

``--tasks cls,ner,qa`` and ``--batch-sizes 1,32`` run a part; ``--texts``/``--contexts`` smaller inputs (the
first n of the same texts; the same contexts whatever ``--texts``).

``--paired K`` measures texts/s differently: one process holds both pipelines and runs the inputs in K chunks,
ours and the reference's back to back on each chunk (order flipped every chunk), summing each library's time. On a
shared machine whose speed drifts, that compares the two under the same conditions; peak RSS is then not measured.
Chunks are batched separately, so use it at batch_size 1 (where the result is the same work) or with few chunks.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil

from bench.common import CACHE, PEAK_RSS, run_isolated
from bench.corpus import corpus_lines
from bench.tok_folders import minilm_dir

HEADS = {
    "cls": "BertForSequenceClassification",
    "ner": "BertForTokenClassification",
    "qa": "BertForQuestionAnswering",
}

TASKS = {"cls": "text-classification", "ner": "token-classification", "qa": "question-answering"}

RUN = """
import json, time, torch
{rss}
{imp}
inputs = json.load(open({data!r}))
pipe = pipeline({task!r}, model={model!r}, batch_size={bs})
pipe(inputs[:4])  # warm-up
t = time.perf_counter()
out = pipe(inputs)
dt = time.perf_counter() - t
assert len(out) == len(inputs)
print(json.dumps([len(inputs) / dt, peak_mb()]))
"""
IMPORTS = {"ours": "from pretrained import pipeline", "ref": "from transformers import pipeline"}

PAIRED = """
import json, time, torch
import pretrained, transformers
inputs = json.load(open({data!r}))
pipes = {{
    "ours": pretrained.pipeline({task!r}, model={model!r}, batch_size={bs}),
    "ref": transformers.pipeline({task!r}, model={model!r}, batch_size={bs}),
}}
for p in pipes.values():
    p(inputs[:4])  # warm-up
k = {chunks}
size = -(-len(inputs) // k)
spent = {{"ours": 0.0, "ref": 0.0}}
for i in range(k):
    chunk = inputs[i * size : (i + 1) * size]
    for name in (("ours", "ref") if i % 2 == 0 else ("ref", "ours")):
        t = time.perf_counter()
        out = pipes[name](chunk)
        spent[name] += time.perf_counter() - t
        assert len(out) == len(chunk) or len(chunk) == 1, (name, len(out), len(chunk))
print(json.dumps([len(inputs) / spent["ours"], len(inputs) / spent["ref"]]))
"""


def make_checkpoints() -> dict[str, str]:
    import torch
    import transformers

    out = {}
    for key, cls in HEADS.items():
        path = CACHE / f"bert-base-{key}"
        if not (path / "config.json").is_file():
            torch.manual_seed(0)
            config = transformers.BertConfig(num_labels=2 if key != "ner" else 9)
            if key == "ner":
                config.id2label = {
                    i: label
                    for i, label in enumerate("O B-PER I-PER B-ORG I-ORG B-LOC I-LOC B-MISC I-MISC".split())
                }
                config.label2id = {v: k for k, v in config.id2label.items()}
            getattr(transformers, cls)(config).save_pretrained(path)
            for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
                shutil.copy(minilm_dir() / name, path / name)
        out[key] = str(path)
    return out


def make_inputs(n_texts: int, n_contexts: int) -> dict[str, str]:
    from pretrained import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(minilm_dir())
    rng = random.Random(0)
    words = " ".join(corpus_lines(1.0)).split()
    texts = []
    for _ in range(n_texts):
        n = rng.randint(6, 254)  # tokens, plus [CLS] and [SEP]: 8 to 256
        start = rng.randrange(len(words) - 400)
        ids = tok(
            " ".join(words[start : start + 300]), add_special_tokens=False, truncation=True, max_length=256
        )
        ids = ids["input_ids"][:n]
        texts.append(tok.decode(ids))
    qa, rng = [], random.Random(1)  # its own seed: the same contexts whatever --texts
    for _ in range(n_contexts):
        start = rng.randrange(len(words) - 700)
        context = " ".join(
            words[start : start + rng.randint(300, 700)]
        )  # longer than the model: split with stride
        qa.append(
            {
                "question": "What does " + " ".join(words[start + 10 : start + 13]) + " mean?",
                "context": context,
            }
        )
    paths = {}
    for key, data in (("texts", texts), ("qa", qa)):
        path = CACHE / f"pipeline-{key}-{len(data)}.json"
        path.write_text(json.dumps(data))
        paths[key] = str(path)
    return paths


def main() -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--contexts", type=int, default=200)
    parser.add_argument("--tasks", default="cls,ner,qa", help="comma-separated subset of cls,ner,qa")
    parser.add_argument("--batch-sizes", default="1,32", help="comma-separated batch sizes")
    parser.add_argument("--paired", type=int, default=0, help="K: both libraries in one process, K chunks")
    args = parser.parse_args()
    tasks, sizes = args.tasks.split(","), [int(b) for b in args.batch_sizes.split(",")]
    unknown = sorted(set(tasks) - set(HEADS))
    if unknown:
        parser.error(f"--tasks: unknown {unknown}; use a subset of {','.join(HEADS)}")
    models = make_checkpoints()
    data = make_inputs(args.texts, args.contexts)
    runs = [(TASKS[key], key, "qa" if key == "qa" else "texts", bs) for key in tasks for bs in sizes]
    lines = [
        f"### Pipelines: BERT-base size, {args.texts} texts (8-256 tokens) / {args.contexts} long QA contexts",
        "",
    ]
    lines += [
        "| task | batch_size | texts/s ours | texts/s ref | ratio | peak RSS ours | peak RSS ref |",
        "|---|---|---|---|---|---|---|",
    ]
    if args.paired:
        lines[0] += f" (paired: {args.paired} alternating chunks in one process; peak RSS not measured)"
    for task, key, inputs, bs in runs:
        if args.paired:
            code = PAIRED.format(data=data[inputs], task=task, model=models[key], bs=bs, chunks=args.paired)
            o, r = run_isolated(code)
            lines.append(f"| {task} | {bs} | {o:.1f} | {r:.1f} | {o / r:.2f}x | — | — |")
            print(lines[-1], flush=True)
            continue
        res = {}
        for lib in ("ours", "ref"):
            code = RUN.format(
                rss=PEAK_RSS, imp=IMPORTS[lib], data=data[inputs], task=task, model=models[key], bs=bs
            )
            res[lib] = run_isolated(code)
        o, r = res["ours"], res["ref"]
        lines.append(
            f"| {task} | {bs} | {o[0]:.1f} | {r[0]:.1f} | {o[0] / r[0]:.2f}x | {o[1]:.0f} MB | {r[1]:.0f} MB |"
        )
        print(lines[-1], flush=True)
    out = "\n".join(lines)
    print(out)
    return out


if __name__ == "__main__":
    main()
