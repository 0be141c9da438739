"""``python -m onebench``: the ``onebench`` command."""

from .cli import main

raise SystemExit(main())
