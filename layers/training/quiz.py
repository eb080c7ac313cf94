"""A course's quiz as data: questions with choices, the right ones kept on the server.

Each question names its choices and which of them are right (one or more); a learner's
answer to a question is right when it picks exactly those. The score is the percentage
of the points answered right, rounded down; the course's pass mark says what passes.
Questions leave the server without their answers (``without_answers``) until graded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from layers.errors import InvalidInput

__all__ = ["Graded", "Question", "grade", "parse_questions", "without_answers"]

MAX_QUESTIONS = 200
_QUESTION_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class Question:
    """One question: its id, text, choices, the indexes of the right choices, its points."""

    id: str
    text: str
    choices: tuple[str, ...]
    answers: frozenset[int]
    points: int = 1

    def as_data(self) -> dict[str, Any]:
        """Return the question as stored (answers included)."""
        return {"id": self.id, "text": self.text, "choices": list(self.choices),
                "answers": sorted(self.answers), "points": self.points}  # fmt: skip


@dataclass(frozen=True)
class Graded:
    """A graded attempt: score (percent), whether it passed, and which questions were right."""

    score: int
    passed: bool
    right: dict[str, bool]


def parse_questions(questions: Sequence[Question]) -> list[dict[str, Any]]:
    """Return a quiz's questions as stored, or raise ``InvalidInput`` naming each problem."""
    problems: list[str] = []
    seen: set[str] = set()
    if len(questions) > MAX_QUESTIONS:
        problems.append(f"a quiz has at most {MAX_QUESTIONS} questions, not {len(questions)}")
    for number, question in enumerate(questions, 1):
        where = f"question {number} ({question.id!r})"
        if not _QUESTION_ID.fullmatch(question.id):
            problems.append(f"{where}: an id is 1-32 letters, digits, '-' or '_'")
        if question.id in seen:
            problems.append(f"{where}: the id is used twice")
        seen.add(question.id)
        if len(question.choices) < 2:
            problems.append(f"{where}: give at least two choices")
        if not question.answers:
            problems.append(f"{where}: name at least one right choice")
        outside = sorted(a for a in question.answers if not 0 <= a < len(question.choices))
        if outside:
            problems.append(f"{where}: answers {outside} are not among its "
                            f"{len(question.choices)} choices (counted from 0)")  # fmt: skip
        if question.points < 1:
            problems.append(f"{where}: points are 1 or more")
    if problems:
        raise InvalidInput("; ".join(problems), problems=problems)
    return [question.as_data() for question in questions]


def without_answers(stored: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the questions as a learner sees them before grading: no right choices."""
    return [{k: v for k, v in question.items() if k != "answers"} for question in stored]


def grade(
    stored: Sequence[Mapping[str, Any]], answers: Mapping[str, Sequence[int]], pass_mark: int
) -> Graded:
    """Grade ``answers`` (question id to chosen indexes) against the stored quiz.

    An answer to a question the quiz does not have, or a choice it does not offer, is
    ``InvalidInput``; a question left out counts as answered wrong.
    """
    by_id = {str(q["id"]): q for q in stored}
    unknown = sorted(set(answers) - set(by_id))
    if unknown:
        raise InvalidInput(f"questions {unknown} are not in this quiz: answers for another "
                           "quiz, or an old version of it")  # fmt: skip
    for question_id, chosen in answers.items():
        offered = len(by_id[question_id]["choices"])
        bad = sorted(c for c in chosen if not 0 <= c < offered)
        if bad:
            raise InvalidInput(f"question {question_id!r} offers choices 0-{offered - 1}, "
                               f"not {bad}")  # fmt: skip
    right = {qid: set(answers.get(qid, ())) == set(q["answers"]) for qid, q in by_id.items()}
    total = sum(int(q["points"]) for q in stored)
    earned = sum(int(by_id[qid]["points"]) for qid, ok in right.items() if ok)
    score = earned * 100 // total if total else 0
    return Graded(score=score, passed=score >= pass_mark, right=right)
