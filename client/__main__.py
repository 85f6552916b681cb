"""``python -m qwen_space.client`` is the ``qwen-space`` command."""

import sys

from .ways_in.cli import main

sys.exit(main())
