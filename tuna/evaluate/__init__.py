"""Evaluation: Super-NaturalInstructions, LMentry, Vicuna QA judging, and the report.

Every benchmark module turns its upstream files into prompt records (`Instruction`)
that `tuna generate-answers` answers, and scores those answers into
`results/{model}/{benchmark}.json`.
"""
