"""The `mimamori` command: serve, the setup check, backups, the console's accounts, the demo."""
