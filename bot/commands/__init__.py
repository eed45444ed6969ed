"""One module per CLI command; each defines ``configure(parser)`` and ``run(args) -> int``."""
