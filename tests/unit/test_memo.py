from truceline.domain.memo import Bounded


def test_a_bounded_memo_empties_when_the_next_entry_would_pass_its_budget() -> None:
    m: Bounded[str, int] = Bounded(10)
    m.put("a", 1, 4)
    m.put("b", 2, 6)
    assert (m.get("a"), m.get("b"), len(m)) == (1, 2, 2)
    m.put("c", 3, 1)  # 11 > 10: everything before goes
    assert (m.get("a"), m.get("b"), m.get("c"), list(m)) == (None, None, 3, ["c"])
