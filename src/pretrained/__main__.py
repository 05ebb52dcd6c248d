"""``python -m pretrained``: the ``pretrained`` command (as ``python -m pretrained.cli``)."""

import sys

from .cli import main

sys.exit(main())
