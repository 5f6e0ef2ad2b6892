import threading

import pytest

from mixpeek_tasks.api.budget import RequestBudget, RequestPlan, duration


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


@pytest.mark.parametrize(("per_minute", "requests", "windows"), [
    (10, 1, 0), (10, 10, 0), (10, 11, 1), (10, 100, 9), (10, 1012, 101), (None, 500, 0)])
def test_the_time_a_number_of_requests_takes_at_the_budget(per_minute, requests, windows):
    budget = RequestBudget(per_minute)
    assert budget.seconds_for(requests) == pytest.approx(windows * 63.0)
    assert budget.seconds_for(0) == 0


def test_the_time_the_budget_says_is_the_time_it_takes():
    fake = FakeTime()
    budget = RequestBudget(10, clock=fake.clock, sleep=fake.sleep)
    for _ in range(35):
        budget.acquire()
    assert fake.now == pytest.approx(budget.seconds_for(35))


@pytest.mark.parametrize(("seconds", "said"), [
    (12.4, "12 s"), (567, "9 min 27 s"), (6000, "1 h 40 min"), (61_200, "17 h 0 min")])
def test_durations_read_as_a_person_says_them(seconds, said):
    assert duration(seconds) == said


def test_a_request_plan_says_the_requests_and_their_time_at_the_budget():
    plan = RequestPlan(1012, RequestBudget(10))
    assert plan.announce("the listing plans") == (
        "the listing plans: about 1,012 requests, 1 h 46 min at the budget of 10 a minute")
    assert plan.progress(512) == "request 512 of about 1,012, 51 min 27 s left at the budget"
    assert RequestPlan(40, RequestBudget()).announce("plan") == "plan: about 40 requests"
