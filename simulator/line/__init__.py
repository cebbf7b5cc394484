"""The stand-in LINE, room by room: its state and recording (state.py), LINE's rules for a
request (schema.py), what a message says (messages.py), and a router per area of the API."""
