from backend.evaluation.generate import MAX_CALCULATOR_CALLS, close_annotation, generate_texts
from backend.teacher.base import GenerationParams
from tests.backend.evaluation.scripted import ScriptedBackend


def test_close_annotation_writes_the_computed_value():
    assert close_annotation("3 * 5 = <<3*5=16") == (
        "3 * 5 = <<3*5=15>>",
        {"expression": "3*5", "claimed": "16", "computed": "15"},
    )
    assert close_annotation("half is <<7/2=3.5") == (
        "half is <<7/2=3.5>>",
        None,
    )  # right claim: nothing to fix
    assert close_annotation("<<10/4=") == (
        "<<10/4=2.5>>",
        {"expression": "10/4", "claimed": "", "computed": "2.5"},
    )
    assert close_annotation("<<a+b=3") == ("<<a+b=3>>", None)  # not computable: the claim stays
    assert close_annotation("<<3*5=15>>15 pens") is None  # nothing open
    assert close_annotation("no annotation") is None


def arithmetic_student(prompt: str) -> str:
    """Writes a wrong product; after the calculator closes an annotation it copies the result it sees."""
    if prompt.endswith(">>"):
        value = prompt.rsplit("=", 1)[1].rstrip(">")
        return f"{value} pens.\nQ2: next"
    return " 3 * 5 = <<3*5=16>>16 pens.\nQ2: next"


def test_the_calculator_fixes_a_claim_before_the_model_goes_on():
    backend = ScriptedBackend(arithmetic_student)
    [result] = generate_texts(backend, ["A1:"], GenerationParams(stop=["\n"]))
    assert result.text == " 3 * 5 = <<3*5=15>>15 pens."
    assert result.calculator == [{"expression": "3*5", "claimed": "16", "computed": "15"}]
    assert len(backend.calls) == 2 and backend.calls[1] == ["A1: 3 * 5 = <<3*5=15>>"]
    assert result.tokens_out == 5 + 2  # both rounds count


def test_without_the_calculator_the_text_is_what_the_model_wrote():
    [result] = generate_texts(
        ScriptedBackend(arithmetic_student), ["A1:"], GenerationParams(stop=["\n"]), calculator=False
    )
    assert result.text == " 3 * 5 = <<3*5=16>>16 pens." and result.calculator == []


def test_texts_that_need_no_calculator_are_not_regenerated_and_batches_stay_batched():
    def rule(prompt: str) -> str:
        return "12 eggs." if prompt.startswith("plain") else arithmetic_student(prompt)

    backend = ScriptedBackend(rule)
    results = generate_texts(backend, ["plain A1:", "A1:", "plain again:"], GenerationParams(stop=["\n"]))
    assert [r.text for r in results] == ["12 eggs.", " 3 * 5 = <<3*5=15>>15 pens.", "12 eggs."]
    assert [len(call) for call in backend.calls] == [3, 1]  # one batch, then only the paused text


def test_a_model_that_never_stops_annotating_is_cut_off():
    backend = ScriptedBackend(lambda prompt: "<<1+1=3>>")
    [result] = generate_texts(backend, ["x"], GenerationParams(max_tokens=1000))
    assert len(backend.calls) == MAX_CALCULATOR_CALLS + 1
    assert result.text.count("<<1+1=2>>") == MAX_CALCULATOR_CALLS + 1  # the last one is set right too


def gsm_symbolic_student(prompt: str) -> str:
    """Plain equations, no annotations (reasoning-gym gsm_symbolic style): the first sum is wrong; once the
    calculator has written the right value the student copies what it sees into the next step."""
    if prompt.endswith("120 - 14 = 106"):
        return " dollars left. Then 106 * 2 = 212. So the answer is: 212"
    return " He has 120 - 14 = 88 dollars left. Then 88 * 2 = 176. So the answer is: 176"


def test_the_calculator_rewinds_a_wrong_plain_equation_and_the_model_goes_on_from_the_right_value():
    backend = ScriptedBackend(gsm_symbolic_student)
    [result] = generate_texts(backend, ["Q: ...\nA:"], GenerationParams(stop=["\n"]))
    assert result.text == " He has 120 - 14 = 106 dollars left. Then 106 * 2 = 212. So the answer is: 212"
    assert result.calculator == [{"expression": "120 - 14", "claimed": "88", "computed": "106"}]
    assert backend.calls[1] == ["Q: ...\nA: He has 120 - 14 = 106"]
    assert len(backend.calls) == 2  # right equations cost no extra round


def test_plain_equations_are_left_alone_without_the_calculator_or_when_right_or_unparseable():
    [raw] = generate_texts(
        ScriptedBackend(gsm_symbolic_student), ["Q:"], GenerationParams(), calculator=False
    )
    assert "120 - 14 = 88" in raw.text
    for text in ("2x = 10, so x = 5.", "48=48 eggs.", "(3 + 4 = 7", "10 / 3 = 3.33 each."):
        backend = ScriptedBackend(lambda prompt, text=text: text)
        [result] = generate_texts(backend, ["Q:"], GenerationParams())
        assert result.text == text and result.calculator == [] and len(backend.calls) == 1


def test_a_model_that_keeps_writing_wrong_sums_is_cut_off():
    backend = ScriptedBackend(lambda prompt: " 1 + 1 = 3 and")
    [result] = generate_texts(backend, ["x"], GenerationParams(max_tokens=1000))
    assert len(backend.calls) == MAX_CALCULATOR_CALLS + 1
    assert result.text.count("1 + 1 = 2") == MAX_CALCULATOR_CALLS + 1


def test_equations_with_units_and_euros_are_set_right_and_the_tail_of_one_is_left_alone():
    def student(prompt: str) -> str:
        if prompt.endswith("= \u20ac60"):
            return " in all."
        return " 10 loaves x \u20ac6 each = \u20ac50 in all."

    [result] = generate_texts(ScriptedBackend(student), ["Q:"], GenerationParams())
    assert result.text == " 10 loaves x \u20ac6 each = \u20ac60 in all."
    fixed = {"expression": "10 loaves x \u20ac6 each", "claimed": "\u20ac50", "computed": "60"}
    assert result.calculator == [fixed]
    tail = " Each turkey eats 6 pounds of hay * 2 - 10 = 2 pounds."  # not "2 - 10 = 2"
    [kept] = generate_texts(ScriptedBackend(lambda prompt: tail), ["Q:"], GenerationParams())
    assert kept.text == tail and kept.calculator == []


def test_rounded_values_and_percentages_are_not_corrected():
    for text in ("10 / 3 = 3 each.", "6 / 12 = 50.0% of them.", "<<10/3=3.33>>3.33 each", "<<48/2=24.0>>24"):
        # After a closed annotation the student writes the rest of its text.
        backend = ScriptedBackend(lambda prompt, text=text: text.split(">>")[1] if ">>" in prompt else text)
        [result] = generate_texts(backend, ["Q:"], GenerationParams())
        assert result.text == text and result.calculator == []


def test_a_wrong_percentage_is_set_right_as_a_percentage():
    def student(prompt: str) -> str:
        return " of them." if prompt.endswith("= 50%") else " 6 / 12 = 40% of them."

    [result] = generate_texts(ScriptedBackend(student), ["Q:"], GenerationParams())
    assert result.text == " 6 / 12 = 50% of them."
    assert result.calculator == [{"expression": "6 / 12", "claimed": "40%", "computed": "50%"}]
    assert close_annotation("<<6/12=40%") == (
        "<<6/12=50%>>",
        {"expression": "6/12", "claimed": "40%", "computed": "50%"},
    )


def digit_hungry_student(prompt: str) -> str:
    """Means 2 * 2 = 42: given the calculator's "= 4" it writes the "2" it meant, as a real model does;
    once the number has ended it goes on with the value it sees."""
    if prompt.endswith("= 4"):
        return "2. Then 42 + 1 = 43."
    if prompt.endswith("= 4."):
        return " Then 4 + 1 = 5."
    return " 2 * 2 = 42. Then 42 + 1 = 43."


def test_the_model_cannot_extend_a_value_the_calculator_wrote_in():
    backend = ScriptedBackend(digit_hungry_student)
    [result] = generate_texts(backend, ["Q:"], GenerationParams())
    assert result.text == " 2 * 2 = 4. Then 4 + 1 = 5."  # not "2 * 2 = 42"
    assert result.calculator == [{"expression": "2 * 2", "claimed": "42", "computed": "4"}]
    assert [call[0] for call in backend.calls] == ["Q:", "Q: 2 * 2 = 4", "Q: 2 * 2 = 4."]


def test_a_value_is_not_extended_by_a_decimal_or_a_model_that_stops_after_its_digits():
    def student(prompt: str) -> str:
        if prompt.endswith("= 4"):
            return ".5" if prompt.startswith("stop") else ".5 apples"
        return "apples." if prompt.endswith("= 4 ") else " 2 * 2 = 4.5 apples."

    backend = ScriptedBackend(student)
    stopped, went_on = generate_texts(backend, ["stop:", "Q:"], GenerationParams())
    assert stopped.text == " 2 * 2 = 4" and went_on.text == " 2 * 2 = 4 apples."
    assert len(backend.calls) == 3 and backend.calls[2] == ["Q: 2 * 2 = 4 "]


def test_a_corrected_equation_is_read_again_after_the_model_goes_on():
    def student(prompt: str) -> str:  # given "0.5" it writes "%": "0.5%" is wrong again
        if prompt.endswith("= 0.5"):
            return "% of them."
        return " of them." if prompt.endswith("= 50%") else " 6 / 12 = 0.4 of them."

    [result] = generate_texts(ScriptedBackend(student), ["Q:"], GenerationParams())
    assert result.text == " 6 / 12 = 50% of them."
    assert [fix["computed"] for fix in result.calculator] == ["0.5", "50%"]


def test_a_teacher_backend_with_the_calculator_gives_n_corrected_samples_per_prompt():
    from backend.evaluation.generate import WithCalculator

    def rule(prompt: str) -> str:
        return "12 eggs." if prompt.startswith("plain") else arithmetic_student(prompt)

    backend = ScriptedBackend(rule)
    teacher = WithCalculator(backend)
    samples = teacher.generate(["A1:", "plain:"], GenerationParams(n=2, stop=["\n"]))
    assert [[c.text for c in per_prompt] for per_prompt in samples] == [
        [" 3 * 5 = <<3*5=15>>15 pens."] * 2,
        ["12 eggs."] * 2,
    ]
    assert backend.calls[0] == ["A1:", "A1:", "plain:", "plain:"]  # each sample its own row
    assert samples[0][0].tokens_out == 5 + 2 and teacher.name == "scripted"
    teacher.close()
    assert backend.closed
