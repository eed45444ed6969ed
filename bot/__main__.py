"""``python -m bot`` is the same as the ``filrouge`` command."""

from bot.cli.main import main

raise SystemExit(main())
