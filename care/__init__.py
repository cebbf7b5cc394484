"""The service layer: every action and every rule of mimamori, once, under every surface.

`services` is the one object every surface reaches it through, and the unit of work each action
runs in; `errors` the refusals each surface says in its own words; `health` what keeps the
service from its work; `set_aside` the webhook events that failed their tries; `tellers` every
module that registers a teller, loaded with the services. The rest lives in rooms: `rounds` (a
check-in, from due to closed, and the safety protocol), `members` (people and teams), `desk`
(the last rung), `broadcasts` (roll-calls, notices, the quota), `groups` (つながり) and
`privacy` (the register, disclosure, exports, retention).
"""
