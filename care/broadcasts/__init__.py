"""What reaches many at once: roll-calls (災害時の安否確認) and the quake feed that starts them,
the city's notices, テスト送信, and the month's quota they are held to (`budget`, `reach`)."""
