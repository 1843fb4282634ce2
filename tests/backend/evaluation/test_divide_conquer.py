from backend.evaluation.divide_conquer import (
    parse_sub_questions,
    solve_divide_conquer,
    solver_prompt_with_plan,
)
from backend.student_formats import decompose_only_completion, decompose_only_prompt
from tests.backend.evaluation.scripted import ScriptedBackend


def test_parse_sub_questions_reads_the_training_completion_back():
    assert parse_sub_questions(decompose_only_completion(["How many pens?", "How many left?"])) == [
        "How many pens?",
        "How many left?",
    ]
    assert parse_sub_questions(decompose_only_completion([])) == []
    assert parse_sub_questions(" rambling without numbers") == []


def test_decompose_once_then_solve_once_with_the_plan_in_the_prompt():
    decomposer = ScriptedBackend(lambda p: "\n1. How many pens?\n2. How many are left?\n\nProblem: next")
    solver = ScriptedBackend(
        lambda p: " He has 3 * 5 = 15 pens. Then 15 - 4 = 11 remain. So the answer is: 11"
    )
    [trace] = solve_divide_conquer(decomposer, solver, ["Tom has 3 boxes of 5 pens and gives 4 away."])
    assert decomposer.calls == [[decompose_only_prompt("Tom has 3 boxes of 5 pens and gives 4 away.")]]
    assert solver.calls[0][0] == solver_prompt_with_plan(
        "Tom has 3 boxes of 5 pens and gives 4 away.", ["How many pens?", "How many are left?"]
    )
    assert "(1) How many pens? (2) How many are left?" in solver.calls[0][0]
    assert [(s.sub_question, s.answer) for s in trace.steps] == [
        ("How many pens?", "He has 3 * 5 = 15 pens."),
        ("How many are left?", "Then 15 - 4 = 11 remain."),
    ]
    assert trace.final_answer == "11" and len(decomposer.calls) == len(solver.calls) == 1


def test_the_solver_prompt_starts_with_the_shots_when_given():
    """The untrained base as solver needs solved examples, as the floor gets (zero-shot it wrote nothing)."""
    decomposer = ScriptedBackend(lambda p: "\n1. How many pens?\n\n")
    solver = ScriptedBackend(lambda p: " 3 * 5 = 15. So the answer is: 15")
    shots = "Q: One plus one?\nA: 1 + 1 = 2. So the answer is: 2\n\n"
    solve_divide_conquer(decomposer, solver, ["Tom has 3 boxes of 5 pens."], prefix=shots)
    assert solver.calls[0][0] == shots + solver_prompt_with_plan(
        "Tom has 3 boxes of 5 pens.", ["How many pens?"]
    )
    assert decomposer.calls[0][0] == decompose_only_prompt("Tom has 3 boxes of 5 pens.")  # no shots there
