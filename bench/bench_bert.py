"""Foundation benchmark: import time, from_pretrained time and peak RSS, BERT-base forward throughput.

Ours and the reference (transformers) in one run, on the same BERT-base-size checkpoint with random weights.
Run: ``make bench`` or ``.venv/bin/python -m bench.bench_bert``.
"""

from __future__ import annotations

import random

from bench.common import CACHE, PEAK_RSS, best_of, run_isolated, table

CKPT = CACHE / "bert-base"


def make_checkpoint() -> None:
    if (CKPT / "model.safetensors").is_file():
        return
    import torch
    import transformers

    torch.manual_seed(0)
    transformers.BertModel(transformers.BertConfig()).save_pretrained(CKPT)


def import_times() -> tuple[float, float]:
    code = "import time; t=time.perf_counter(); import {m}; import json; print(json.dumps(time.perf_counter()-t))"
    ours = min(run_isolated(code.format(m="pretrained")) for _ in range(5))
    ref = min(run_isolated(code.format(m="transformers")) for _ in range(5))
    return ours, ref


LOAD = """
import json, time, torch
{rss}
base = peak_mb()
t = time.perf_counter()
{load}
with torch.inference_mode():
    model(torch.ones(1, 8, dtype=torch.long))
print(json.dumps([time.perf_counter() - t, peak_mb() - base, base]))
"""


def load_stats() -> tuple[list[float], list[float]]:
    ours = "from pretrained import AutoModel; model = AutoModel.from_pretrained({p!r})"
    ref = "from transformers import AutoModel; model = AutoModel.from_pretrained({p!r})"
    o = min(
        (run_isolated(LOAD.format(rss=PEAK_RSS, load=ours.format(p=str(CKPT)))) for _ in range(3)),
        key=lambda r: r[0],
    )
    r = min(
        (run_isolated(LOAD.format(rss=PEAK_RSS, load=ref.format(p=str(CKPT)))) for _ in range(3)),
        key=lambda r: r[0],
    )
    return o, r


def throughput(batch_size: int, n_texts: int) -> tuple[float, float]:
    import torch
    import transformers

    from pretrained import AutoModel

    ours = AutoModel.from_pretrained(CKPT)
    ref = transformers.AutoModel.from_pretrained(CKPT).eval()
    rng = random.Random(0)
    lengths = [rng.randint(8, 256) for _ in range(n_texts)]
    batches = []
    for i in range(0, n_texts, batch_size):
        chunk = lengths[i : i + batch_size]
        ids = torch.randint(1000, 30000, (len(chunk), max(chunk)))
        mask = torch.zeros_like(ids)
        for j, n in enumerate(chunk):
            mask[j, :n] = 1
        batches.append((ids * mask, mask))

    def run(model, todo=batches):
        with torch.inference_mode():
            for ids, mask in todo:
                model(input_ids=ids, attention_mask=mask)

    run(ours, batches[:1]), run(ref, batches[:1])  # warm-up
    t_ours, t_ref = [], []
    for _ in range(2):  # alternate, keep the best of two passes each
        t_ref.append(best_of(lambda: run(ref), repeat=1, warmup=0))
        t_ours.append(best_of(lambda: run(ours), repeat=1, warmup=0))
    return n_texts / min(t_ours), n_texts / min(t_ref)


def main() -> str:
    make_checkpoint()
    size_mb = (CKPT / "model.safetensors").stat().st_size / 2**20
    io, ir = import_times()
    lo, lr = load_stats()
    print(f"import {io:.3f}s vs {ir:.3f}s; load {lo} vs {lr}", flush=True)
    t1 = throughput(1, 32)
    print(f"batch 1: {t1}", flush=True)
    t32 = throughput(32, 64)
    out = table(
        "BERT-base (random weights): load and forward",
        [
            ("`import` time", io * 1000, ir * 1000, "ms"),
            ("`from_pretrained` + first forward", lo[0], lr[0], "s"),
            (f"peak RSS over torch baseline (checkpoint {size_mb:.0f} MB)", lo[1], lr[1], "MB"),
        ],
        higher_is_better=False,
    )
    out += "\n" + "\n".join(
        table(
            "BERT-base forward throughput, mixed lengths 8-256",
            [("batch 1", t1[0], t1[1], "texts/s"), ("batch 32", t32[0], t32[1], "texts/s")],
            higher_is_better=True,
        ).splitlines()[2:]
    )
    print(out)
    return out


if __name__ == "__main__":
    main()
