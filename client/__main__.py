"""``python -m qwen_space.client`` is the ``qwen-space`` command."""

import sys

from ._cli import main

sys.exit(main())
