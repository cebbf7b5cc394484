"""Personal data as the city's rules ask: the register (個人情報ファイル簿), 「わたしの記録」
(`disclosure`), files that leave the console (`exports`), and how long each record is kept
(`retention`)."""
