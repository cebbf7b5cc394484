"""The phone surface: Twilio's webhooks for calls before the alert, and the URLs devices
ping with a sign of life. A sibling of bot/ (LINE), liff/ (My page) and admin/ (the console)."""
