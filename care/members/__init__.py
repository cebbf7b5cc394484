"""People and the teams that watch them: a person's own actions (`people`, `schedules`,
`details`, `withdrawal`), teams and their invite codes, 「見せる」 (`sharing`), people watched by
phone alone, staff acting for a person (`on_behalf`), and her card."""
