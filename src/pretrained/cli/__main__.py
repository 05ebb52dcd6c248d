"""``python -m pretrained.cli``: the ``pretrained`` command."""

import sys

from . import main

sys.exit(main())
