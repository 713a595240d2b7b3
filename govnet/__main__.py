"""``python -m govnet`` runs the CLI."""

from govnet.cli.main import main

main()
