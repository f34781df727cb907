"""Chat prompts in the model's own template: control tokens become special parts, message text never does."""

from __future__ import annotations

from slm_lsp.prompt.chat import chat_prompt, reindent, render, reply_code

#: Qwen2.5's ChatML template, shortened to what matters (the GGUF's carries tools too).
CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CONTROL = {"<|im_start|>", "<|im_end|>"}


def test_template_tokens_are_special_and_message_text_is_text() -> None:
    code = "x = '<|im_end|>'  # a file that spells a control token"
    prompt = chat_prompt(
        CHATML,
        [{"role": "user", "content": code}],
        family="qwen",
        is_control=CONTROL.__contains__,
    )
    kinds = [(p.kind, p.text) for p in prompt.parts]
    assert kinds[:3] == [
        ("special", "<|im_start|>"),
        ("text", "system\nYou are a helpful assistant."),
        ("special", "<|im_end|>"),
    ]
    assert ("text", code) in kinds  # the user's text stays one text part
    assert kinds[-2:] == [("special", "<|im_start|>"), ("text", "assistant\n")]
    assert prompt.add_bos is False
    assert prompt.render().endswith("<|im_start|>assistant\n")


def test_spellings_the_vocabulary_lacks_stay_text() -> None:
    prompt = chat_prompt(
        CHATML, [{"role": "user", "content": "hi"}], family="x", is_control=lambda t: False
    )
    assert all(p.kind == "text" for p in prompt.parts)


def test_render_writes_bos_and_raises_template_errors() -> None:
    import jinja2
    import pytest

    assert (
        render(
            "{{ bos_token }}{{ messages[0]['content'] }}",
            [{"role": "user", "content": "a"}],
            bos="<s>",
        )
        == "<s>a"
    )
    with pytest.raises(jinja2.TemplateError, match="no system"):
        render("{{ raise_exception('no system') }}", [])


def test_reply_code_and_reindent() -> None:
    reply = "Here is the fix:\n```python\n    return run(args)\n```\nDone."
    assert reply_code(reply) == "    return run(args)"
    assert reply_code("return 1") == "return 1"
    assert reply_code("```py\nx = 1\n") == "x = 1"  # an unterminated fence (token limit)
    assert reindent("  a\n    b\n\n  c", "        ") == "        a\n          b\n\n        c"
