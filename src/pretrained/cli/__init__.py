"""The ``pretrained`` command: run a pipeline over texts, list the models in the local cache.

    pretrained run TASK [--model M] [--batch-size N] [--device D] [--arg key=value ...] [TEXT ...]
    pretrained models [--json]

``run`` reads texts from its arguments, else one per line from stdin (JSON lines for inputs that are objects:
question answering, zero-shot classification, chats), and prints one JSON result per line. Errors are one
line on stderr and a nonzero exit status (2 for a bad command line); ``--debug`` shows the traceback.

>>> from pretrained.cli import main
>>> main(["run", "summarization", "--model", "path/to/t5", "A long article ..."])  # doctest: +SKIP
{"summary_text": "..."}
0
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from .. import __version__
from .models import command_models
from .run import TASK_HELP, UsageError, command_run, parse_args, parse_value, task_arguments

log = logging.getLogger(__name__)

__all__ = ["build_parser", "main", "parse_args", "parse_value"]


# -- argument parsing ---------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage block
        # parse_intermixed_args lists TEXT (nargs="*", optional: stdin is read instead) when TASK is missing
        message = message.replace("required: TASK, TEXT", "required: TASK")
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _tasks_text() -> str:
    width = max(map(len, TASK_HELP))
    lines = [f"  {task:<{width}}  {what}" for task, (what, _, _) in TASK_HELP.items()]
    return "tasks:\n" + "\n".join(lines)


def _run_epilog() -> str:
    lines = ["tasks (what one input is; useful --arg keys; all the --arg keys the task takes):"]
    for task, (what, line, args) in TASK_HELP.items():
        lines += [f"  {task}: {what}", f"      input: {line}", f"      --arg: {args}"]
        lines += _wrapped(task_arguments(task), "      ")
    lines += [
        "",
        "Each input prints one line: the JSON of what pipeline(TASK)(input, **args) returns for it.",
        '--arg values are JSON when they parse (20, true, null, ["a", "b"]), else strings.',
        "Generation tasks also take every generate() argument as --arg (max_new_tokens=50, do_sample=false).",
        "",
        "examples:",
        "  pretrained run sentiment-analysis --model ./sst2 'I love it' 'I hate it'",
        "  cat docs.txt | pretrained run summarization --model ./bart-cnn --batch-size 8",
        '  echo \'{"question": "Where?", "context": "I live in Paris."}\' | pretrained run question-answering -m ./qa',
        "  pretrained run text-generation -m ./smollm2 --gguf-file model.Q4_1.gguf --arg do_sample=false "
        '\'[{"role": "user", "content": "Hi!"}]\'',
    ]
    return "\n".join(lines)


def _wrapped(items: list[str], indent: str, width: int = 116) -> list[str]:
    """``items`` joined by commas into lines of at most ``width`` characters (an item is never split)."""
    lines, line = [], indent + "all: "
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(line) + len(piece) > width and line.strip():
            lines.append(line.rstrip())
            line = indent + "     "
        line += piece + " "
    return [*lines, line.rstrip()]


def build_parser() -> argparse.ArgumentParser:
    """The ``pretrained`` argument parser (subcommands ``run`` and ``models``)."""
    parser = _Parser(
        prog="pretrained",
        description="Run pretrained transformer pipelines on the command line (offline: local folders and the "
        "Hugging Face cache).",
        epilog=_tasks_text() + "\n\nSee `pretrained run --help` for the inputs and arguments of each task.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pretrained {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = sub.add_parser(
        "run",
        help="run a task's pipeline on texts (arguments or stdin), print JSON lines",
        description="Run TASK's pipeline on each TEXT (or each stdin line) and print one JSON result per line.",
        epilog=_run_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "task", metavar="TASK", help="a task name (see below), an alias, or translation_XX_to_YY"
    )
    run.add_argument(
        "texts", metavar="TEXT", nargs="*", help="inputs; none (or '-') reads stdin, one per line"
    )
    run.add_argument("-m", "--model", help="a model folder or cached repo id (default: the task's default)")
    run.add_argument("--tokenizer", help="a tokenizer folder or cached repo id (default: the model's)")
    run.add_argument("--revision", help="a revision of a cached repo (branch, tag or commit)")
    run.add_argument(
        "--gguf-file", help="load model and tokenizer from this llama.cpp file in the model folder"
    )
    run.add_argument("-b", "--batch-size", type=int, default=1, help="inputs per forward pass (default 1)")
    run.add_argument("--device", help="cpu, cuda, cuda:1, mps, or a CUDA index (-1 = cpu)")
    run.add_argument("--dtype", help="auto (default), float32, float16 or bfloat16")
    run.add_argument(
        "-a",
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a pipeline argument, repeatable (e.g. --arg top_k=3)",
    )
    shown = run.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", default=None, help="always show the progress bar")
    shown.add_argument("--no-progress", dest="progress", action="store_false", help="never show it")
    run.add_argument("-q", "--quiet", action="store_true", help="hide warnings")
    run.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    models = sub.add_parser(
        "models",
        help="list the models in the local Hugging Face cache, with their revisions",
        description="List the cached models (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub).",
    )
    models.add_argument("--cache-dir", help="the cache folder to list")
    models.add_argument("--json", action="store_true", help="print one JSON object per model")
    models.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def parse_command_line(argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; a subcommand's options and texts may come in any order (``run TASK -m M TEXT``)."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    at = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    if at is None or argv[at] not in subparsers:
        return parser.parse_args(argv)
    args = subparsers[argv[at]].parse_intermixed_args(argv[at + 1 :])
    args.command = argv[at]
    return args


# -- entry point --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 failure, 2 bad command line)."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, sys.stderr
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = parse_command_line(argv)
        with _logging(debug, getattr(args, "quiet", False)):
            if args.command == "run":
                return command_run(args, stdin, stdout, stderr)
            if args.command == "models":
                return command_models(args, stdout, stderr)
        build_parser().print_help(stderr)  # no command
        return 2
    except UsageError as e:
        stderr.write(f"pretrained: error: {e}\n")
        return 2
    except SystemExit as e:  # --help, --version
        return e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        stderr.write("pretrained: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        if debug:
            raise
        message = " ".join(str(e).split()) or type(e).__name__
        stderr.write(f"pretrained: error: {message}\n")
        return 1


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (which tests may swap)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


@contextmanager
def _logging(debug: bool, quiet: bool) -> Iterator[None]:
    """The library's warnings as ``pretrained: warning: ...`` lines on stderr, while the command runs."""
    logger = logging.getLogger("pretrained")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("pretrained: %(levelname)s: %(message)s"))
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    old_show = warnings.showwarning
    warnings.showwarning = _one_line_warning(quiet)
    try:
        yield
    finally:
        warnings.showwarning = old_show
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def _one_line_warning(quiet: bool) -> Any:
    """A ``warnings.showwarning`` that writes ``pretrained: warning: ...`` as one line (nothing when ``quiet``),
    not the file, line and source that Python shows."""

    def show(
        message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        if not quiet:
            text = " ".join(str(message).split())
            sys.stderr.write(f"pretrained: warning: {text} ({category.__name__})\n")

    return show


if __name__ == "__main__":
    sys.exit(main())
