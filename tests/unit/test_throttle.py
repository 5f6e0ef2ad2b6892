import threading

import pytest

from mixpeek_tasks.api.budget import RequestBudget


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


@pytest.mark.parametrize("per_minute, requests", [(1, 5), (3, 20), (10, 95), (60, 200)])
def test_no_sixty_second_window_exceeds_the_budget(per_minute, requests):
    fake = FakeTime()
    budget = RequestBudget(per_minute, margin=0.0, clock=fake.clock, sleep=fake.sleep)
    starts = []
    for _ in range(requests):
        budget.acquire()
        starts.append(fake.now)
    for i, start in enumerate(starts):
        in_window = [s for s in starts[i:] if s < start + 60]
        assert len(in_window) <= per_minute
    # ...and it does not wait more than it must: the whole run takes the minimum time.
    assert starts[-1] == pytest.approx(60 * ((requests - 1) // per_minute))
    assert budget.waited_seconds == pytest.approx(starts[-1])


def test_without_a_budget_requests_never_wait():
    fake = FakeTime()
    budget = RequestBudget(None, clock=fake.clock, sleep=fake.sleep)
    assert all(budget.acquire() == 0 for _ in range(1000))


def test_a_pause_holds_back_every_caller():
    fake = FakeTime()
    budget = RequestBudget(None, clock=fake.clock, sleep=fake.sleep)
    budget.pause(7.5)
    assert budget.acquire() == pytest.approx(7.5)
    assert budget.acquire() == 0


def test_a_budget_below_one_is_refused():
    with pytest.raises(ValueError):
        RequestBudget(0)


def test_the_margin_spaces_windows_further_apart():
    fake = FakeTime()
    budget = RequestBudget(2, window_seconds=10, margin=0.5, clock=fake.clock, sleep=fake.sleep)
    starts = []
    for _ in range(5):
        budget.acquire()
        starts.append(fake.now)
    assert starts == [0, 0, 15, 15, 30]
