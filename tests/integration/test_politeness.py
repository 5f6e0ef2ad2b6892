"""The request budget holds across concurrent workers, judged by the emulator's own log."""


from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.budget import RequestBudget
from mixpeek_tasks.api.transport import MixpeekClient
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
