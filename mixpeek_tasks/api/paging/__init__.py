"""Ways of paging through every task of the account; each module is one strategy."""
