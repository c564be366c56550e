"""The torch modules that built-in layer kinds build where torch has no ready one, a file per family.

Only `build` methods import these files, so the front end (check, render, summary) never loads
torch. Each module keeps torch's parameter names (`weight`, `bias`), so a compiled network's
`state_dict` reads like a hand-written one.
"""
