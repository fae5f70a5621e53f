from tests.core.harness import CoreBot

ANSWERS = {"audience": "self", "danger": "no", "topic": "other", "region": "unknown"}


async def test_a_visitor_is_greeted_asked_and_carded(core: CoreBot) -> None:
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    kinds = [s.kind for s in visitor.heard()]
    assert kinds[0] == "greeting"
    card = core.card(visitor.number)
    assert "Chat" in card.body
