"""Build the optional C kernel (``pretrained.nn._gemv``); everything else is in pyproject.toml.

The extension is optional: without a C compiler the install still succeeds and decoding uses torch's BLAS.
"""

import sys

from setuptools import Extension, setup

args = [] if sys.platform == "win32" else ["-O3", "-std=c11", "-pthread"]
setup(
    ext_modules=[
        Extension(
            "pretrained.nn._gemv",
            ["src/pretrained/nn/_gemv.c"],
            extra_compile_args=args,
            extra_link_args=[] if sys.platform == "win32" else ["-pthread"],
            libraries=[] if sys.platform == "win32" else ["m"],
            optional=True,
        )
    ]
)
