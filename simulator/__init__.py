"""`mimamori demo`: the whole service against a stand-in LINE platform, with phones in a
browser."""
