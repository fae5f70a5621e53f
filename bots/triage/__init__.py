"""The triage dialog: definition (YAML) and the pure rules that read a visitor's reply."""

from bots.triage.definition import Option, Question, TriageDefinition, load_definition
from bots.triage.engine import Answer, Outcome, TriageState, interpret

__all__ = [
    "Answer",
    "Option",
    "Outcome",
    "Question",
    "TriageDefinition",
    "TriageState",
    "interpret",
    "load_definition",
]
