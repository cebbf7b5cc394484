"""The service layer: every action and every rule of mimamori, once, under every surface."""
