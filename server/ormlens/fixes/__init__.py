"""Fixes: a finding's fix plan + the source text -> edits. One module per fix kind, the registry
of builders in `registry`. Nothing is imported here: the rules import `fixes.plans` without
pulling in libcst and the builders."""
