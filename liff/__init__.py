"""Web pages and images served to people (My page comes later; invite QR codes now)."""
