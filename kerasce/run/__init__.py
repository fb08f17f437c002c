"""The run stage: a grid's plan, its cells, their records, and the executors that run them."""
