"""My page's JSON API, a router per feature. Every call carries a LIFF ID token; the caller is
who LINE says it is (guard.py). The service layer decides what a person may do: a person
changes only their own card, a manager reads only the users of their own teams, a team's
invites are shown only to its members."""
