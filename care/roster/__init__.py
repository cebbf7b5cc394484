"""The city's 避難行動要支援者名簿 (災害対策基本法 49条の10): its CSV imported, each person a
member reached as they can be, the letter that links their LINE, who sees them when (49条の11), and
a roll-call's tally by 担当. Called "the roster" in the code so as not to be taken for the
個人情報ファイル簿 (care/privacy/register.py)."""
