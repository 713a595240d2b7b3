"""Operating-system helpers that production code and the lab share: network namespaces, forked
children, private files. They know nothing of govnet's layers above them."""
