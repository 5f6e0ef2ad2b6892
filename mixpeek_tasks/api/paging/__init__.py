"""Ways of paging through every task of the account.

`probe.py` asks the service what each strategy relies on and writes a report; `choice.py`
picks the strategy the report allows; `keyset.py`, `sliced.py` and `cursor.py` build request
bodies and read positions from answers without sending anything; `runner.py` sends the
requests, runs the threads and fans the streams out; `pages.py` holds the types they share.
"""
