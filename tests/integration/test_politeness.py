"""The request budget holds across concurrent workers, judged by the emulator's own log."""


from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.budget import RequestBudget
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot import export
from mixpeek_tasks.snapshot.export import export_snapshot


def test_no_window_of_the_emulator_log_exceeds_the_budget(tmp_path):
    per_window, window = 5, 1.0
    with running_emulator(tasks=2500, seed=8) as server:
        budget = RequestBudget(per_window, window_seconds=window, margin=0.3)
        with MixpeekClient("k", server.base_url, page_size=150, budget=budget) as client:
            result = export_snapshot(client, tmp_path, concurrency=4)
        arrivals = sorted(at for at, _ in server.request_log)
    assert result.rows == 2500 and len(arrivals) >= 3 * per_window
    busiest = max(sum(1 for later in arrivals[i:] if later < start + window)
                  for i, start in enumerate(arrivals))
    assert busiest <= per_window
    assert budget.waited_seconds > 0


def test_with_a_budget_the_export_says_its_requests_before_it_starts_and_as_it_goes(
        tmp_path, monkeypatch):
    monkeypatch.setattr(export, "PROGRESS_EVERY_SECONDS", 0.0)
    said: list[str] = []
    with running_emulator(tasks=2500, seed=8) as server:
        budget = RequestBudget(30, window_seconds=1.0)
        with MixpeekClient("k", server.base_url, page_size=150, budget=budget) as client:
            result = export_snapshot(client, tmp_path, concurrency=4,
                                     progress=said.append)
    plans = [line for line in said if line.startswith("the listing plans: about ")]
    assert len(plans) == 1 and said.index(plans[0]) < min(
        i for i, line in enumerate(said) if "tasks/s" in line)
    planned = int(plans[0].split("about ")[1].split(" requests")[0].replace(",", ""))
    # Every page (2500 / 150, and a short one per range), the probe and the counts, and no
    # more than one short page per range fewer.
    ranges = result.coverage.strategy_facts["ranges"]
    assert planned - ranges <= result.requests <= planned
    assert "at the budget of 30 a minute" in plans[0]
    progressed = [line for line in said if "tasks/s" in line]
    assert progressed and all(f"of about {planned:,}," in line and "left at the budget" in line
                              for line in progressed)


def test_without_a_budget_the_export_plans_nothing_aloud(tmp_path):
    said: list[str] = []
    with running_emulator(tasks=300, seed=8) as server, \
            MixpeekClient("k", server.base_url, page_size=150) as client:
        export_snapshot(client, tmp_path, progress=said.append)
    assert not any("plans" in line or "of about" in line for line in said)
