"""Editorial records: the review history and saved versions of stories."""
